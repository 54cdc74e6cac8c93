"""Putting real files into a vault for tests."""

from __future__ import annotations

import itertools
from pathlib import Path

from app.vault import Vault

_counter = itertools.count()


def add_file(vault: Vault, tmp_path: Path, name: str, data: bytes, folder_id: int = 1) -> int:
    """Import one real file named ``name`` into ``folder_id``; returns its id."""
    source = tmp_path / "src" / str(next(_counter)) / name
    source.parent.mkdir(parents=True)
    source.write_bytes(data)
    report = vault.import_paths([source], folder_id)
    assert report.ok and report.imported == 1, report
    return report.file_ids[0]


def import_blobs(vault: Vault, *paths: Path) -> dict[str, tuple[str, str]]:
    """Import files into the vault's top; returns name -> (blob hash, mime)."""
    report = vault.import_paths(list(paths))
    assert not report.failed, report.failed
    found = {}
    for file_id in report.file_ids:
        info = vault.file_info(file_id)
        found[info.name] = (info.version.blob_hash, info.mime)
    return found
