"""Import sources into a vault, in a child process the crash-safety tests can SIGKILL.

Usage: ``python tests/helpers/import_child.py [--batch-files N] VAULT_HOME SOURCE...``

``--batch-files`` commits every N files instead of the importer's default
(which, for a thousand small files, is one or two commits), so that kills can
land between and inside many commits.

Prints one JSON line with the report's counts when the import finishes, and
exits 0 when nothing failed. Importing the same sources again resumes an
interrupted import (files already present with the same content are skipped).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# Run as a script, this file's folder is on sys.path, not the repository.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app import importer  # noqa: E402
from app.vault import Vault  # noqa: E402


def main(argv: list[str]) -> int:
    if argv[0] == "--batch-files":
        importer.BATCH_FILES = int(argv[1])
        argv = argv[2:]
    home, *sources = argv
    with Vault.open(Path(home)) as vault:
        report = vault.import_paths([Path(s) for s in sources])
    summary = {
        "imported": report.imported,
        "skipped": len(report.skipped),
        "renamed": [r.path for r in report.renamed],
        "failed": [[p.source, p.reason] for p in report.failed],
        "folders_created": report.folders_created,
        "cancelled": report.cancelled,
    }
    print(json.dumps(summary), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
