"""Folder trees on disk: generating test sources and comparing them byte for byte."""

from __future__ import annotations

import base64
import random
from pathlib import Path

KIB = 1024


def make_tree(root: Path, files: int, rng: random.Random, duplicates: float = 0.1) -> None:
    """Write ``files`` small files (1–64 KiB) into nested folders under ``root``.

    About ``duplicates`` of them repeat an earlier file's bytes, so the blob
    store has content to share. Most files are random bytes (``.bin``); some are
    ASCII text (``.txt``) so the text extractor runs too. Deterministic for a
    given ``rng`` state.
    """
    folders = [Path()]
    for top in range(8):
        folders.append(Path(f"dir{top}"))
        for sub in range(rng.randint(0, 3)):
            folders.append(Path(f"dir{top}") / f"sub{sub}")
            if rng.random() < 0.5:
                folders.append(Path(f"dir{top}") / f"sub{sub}" / "deep")
    written: list[bytes] = []
    for i in range(files):
        folder = root / rng.choice(folders)
        folder.mkdir(parents=True, exist_ok=True)
        if written and rng.random() < duplicates:
            data = rng.choice(written)
            suffix = ".dup"
        else:
            size = rng.randint(1 * KIB, 64 * KIB)
            if rng.random() < 0.2:
                data = base64.encodebytes(rng.randbytes(size * 3 // 4))[:size]
                suffix = ".txt"
            else:
                data = rng.randbytes(size)
                suffix = ".bin"
            written.append(data)
        (folder / f"file{i:04d}{suffix}").write_bytes(data)


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every folder (``None``) and file (its bytes) under ``root``, by relative POSIX path."""
    out: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        out[rel] = None if path.is_dir() else path.read_bytes()
    return out


def tree_differences(expected: Path, actual: Path) -> list[str]:
    """How the tree at ``actual`` differs from the one at ``expected`` (empty if identical)."""
    want, have = snapshot(expected), snapshot(actual)
    problems = [f"missing: {p}" for p in sorted(want.keys() - have.keys())]
    problems += [f"unexpected: {p}" for p in sorted(have.keys() - want.keys())]
    problems += [
        f"different bytes: {p}" for p in sorted(want.keys() & have.keys()) if want[p] != have[p]
    ]
    return problems
