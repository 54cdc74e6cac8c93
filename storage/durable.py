"""Making writes durable, one file or a whole batch at a time.

fsync per file costs a disk flush each; for thousands of small blobs one
``syncfs`` of the filesystem flushes them all at once. Linux has it; elsewhere
we fall back to fsync per file (and per directory, where the OS allows it).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

_BATCH = 16  # above this many paths one syncfs beats one fsync each


def _load_syncfs() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):  # not Linux, or a libc without it
        return None
    syncfs.argtypes = [ctypes.c_int]
    return syncfs


_syncfs = _load_syncfs()


def fsync_path(path: Path, directory: bool = False) -> None:
    """fsync one file or directory by path."""
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except (IsADirectoryError, PermissionError):
        if directory:  # Windows cannot open directories; its renames are durable on close
            return
        raise
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _syncfs_at(path: Path) -> bool:
    if _syncfs is None:
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        if _syncfs(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), str(path))
    finally:
        os.close(fd)
    return True


def flush(files: Iterable[Path], dirs: Iterable[Path], anchor: Path) -> None:
    """Make the contents of ``files`` and the entries of ``dirs`` durable.

    ``anchor`` is any path on the same filesystem, used for a single syncfs
    when the batch is large.
    """
    files = list(files)
    dirs = list(dict.fromkeys(dirs))
    if len(files) + len(dirs) > _BATCH and _syncfs_at(anchor):
        return
    for path in files:
        fsync_path(path)
    for path in dirs:
        fsync_path(path, directory=True)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that a crash leaves the old file or the new
    one, never a part: a temp file beside it, fsynced, renamed over it, the
    directory fsynced. Raises OSError (the temp file is removed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_path(path.parent, directory=True)
