"""Sync a vault to its saved remote in a child process the crash tests can SIGKILL.

Usage: ``python tests/helpers/sync_child.py VAULT_HOME``

The keys come from the AWS chain in the environment (the remote is saved with
``credentials="chain"``). Prints one JSON line with the report when the sync
finishes and exits 0 when it is ok; a kill leaves the catalog as a crash would.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# Run as a script, this file's folder is on sys.path, not the repository.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.sync import Syncer  # noqa: E402
from app.vault import Vault  # noqa: E402


def main(argv: list[str]) -> int:
    """Run one sync of the vault at ``argv[0]`` and print its report."""
    (home,) = argv
    with Vault.open(Path(home)) as vault:
        report = Syncer.for_vault(vault).run(snapshot=False)
    summary = {
        "status": report.status,
        "uploaded": report.uploaded,
        "already_present": report.already_present,
        "failed": report.failed,
    }
    print(json.dumps(summary), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
