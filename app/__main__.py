"""``python -m app``: the same as the ``mediavault`` command.

Also the entry script of the PyInstaller build, where the same executable
doubles as the sandboxed extraction worker (see ``app.extract.WORKER_FLAG``).
"""

import sys

if sys.argv[1:2] == ["--extract-worker"]:
    from app.extract_worker import main as worker_main

    sys.exit(worker_main(sys.argv[2:]))

from app.cli import main

sys.exit(main())
