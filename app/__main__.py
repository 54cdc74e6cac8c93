"""``python -m app``: the same as the ``mediavault`` command.

Also the entry script of the PyInstaller build, where the same executable
doubles as the sandboxed extraction worker (see ``app.extract.WORKER_FLAG``)
and, through ``freeze_support``, as the import's staging processes.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    # Import's staging processes are started with "spawn", which imports this
    # module again in each of them: the guard keeps them from running the CLI.
    multiprocessing.freeze_support()
    if sys.argv[1:2] == ["--extract-worker"]:
        from app.extract_worker import main as worker_main

        sys.exit(worker_main(sys.argv[2:]))

    from app.cli import main

    sys.exit(main())
