"""Invariants of a vault checked from the outside, with raw SQL on its catalog.

These deliberately bypass the ORM and the vault's own queries, so a bug in
those cannot hide itself. Each ``*_problems`` function returns a list of
human-readable problems (empty when all is well), so a failing test shows
every broken rule at once rather than the first.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from app.naming import name_key

ROOT_ID = 1


@contextmanager
def connect(catalog: Path) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection on ``catalog`` (recovers a hot WAL like any reader)."""
    with closing(sqlite3.connect(catalog, timeout=10)) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        yield conn


def integrity_problems(conn: sqlite3.Connection) -> list[str]:
    """``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check`` findings."""
    problems = []
    integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    if integrity != ["ok"]:
        problems.append(f"integrity_check: {integrity}")
    problems.extend(f"foreign_key_check: {row}" for row in conn.execute("PRAGMA foreign_key_check"))
    return problems


def tree_problems(conn: sqlite3.Connection) -> list[str]:
    """The folder tree is a tree, live names are unique, live items are reachable.

    * every folder's parent chain ends at the root, without a cycle;
    * ``name_key`` is the key of ``name`` for every folder and file;
    * among the live folders and files of one folder, names differ ignoring case;
    * every live folder and file hangs from the root through live folders only.
    """
    problems: list[str] = []
    folders = {
        r[0]: (r[1], r[2], r[3], r[4])
        for r in conn.execute("SELECT id, parent_id, name, name_key, trash_id FROM folder")
    }
    files = list(conn.execute("SELECT id, folder_id, name, name_key, trash_id FROM file"))
    roots = [fid for fid, (parent, *_rest) in folders.items() if parent is None]
    if roots != [ROOT_ID]:
        problems.append(f"folders without a parent: {roots} (only the root, {ROOT_ID}, may be)")

    def chain(folder_id: int) -> tuple[list[int], bool]:
        """The ids from ``folder_id`` up to the root, and whether it got there."""
        seen: list[int] = []
        current: int | None = folder_id
        while current is not None:
            if current in seen or current not in folders:
                return seen + [current], False
            seen.append(current)
            current = folders[current][0]
        return seen, seen[-1] == ROOT_ID

    for folder_id in folders:
        ids, ok = chain(folder_id)
        if not ok:
            problems.append(f"folder {folder_id} does not lead to the root: {ids}")

    for fid, (_parent, name, key, _trash) in folders.items():
        if fid != ROOT_ID and key != name_key(name):
            problems.append(f"folder {fid} {name!r} has name_key {key!r}")
    for file_id, _folder, name, key, _trash in files:
        if key != name_key(name):
            problems.append(f"file {file_id} {name!r} has name_key {key!r}")

    siblings: dict[tuple[int, str], list[str]] = {}
    for fid, (parent, name, _key, trash) in folders.items():
        if parent is not None and trash is None:
            siblings.setdefault((parent, name_key(name)), []).append(f"folder {fid} {name!r}")
    for file_id, folder_id, name, _key, trash in files:
        if trash is None:
            siblings.setdefault((folder_id, name_key(name)), []).append(f"file {file_id} {name!r}")
    for (parent, _key), items in siblings.items():
        if len(items) > 1:
            problems.append(f"names clash in folder {parent}: {items}")

    def live_path(folder_id: int) -> bool:
        ids, ok = chain(folder_id)
        return ok and all(folders[i][3] is None for i in ids if i in folders)

    for fid, (_parent, name, _key, trash) in folders.items():
        if trash is None and not live_path(fid):
            problems.append(f"live folder {fid} {name!r} is not reachable through live folders")
    for file_id, folder_id, name, _key, trash in files:
        if trash is None and (folder_id not in folders or not live_path(folder_id)):
            problems.append(f"live file {file_id} {name!r} is not reachable through live folders")
    return problems


def blob_problems(conn: sqlite3.Connection, blob_root: Path, rehash: bool = False) -> list[str]:
    """Every version's blob has a row and a file; every file's current version is its own.

    With ``rehash``, every blob file under ``blob_root`` (referenced or not) must
    also hash to its name.
    """
    problems: list[str] = []
    rows = set(r[0] for r in conn.execute("SELECT hash FROM blob"))
    for version_id, file_id, blob_hash in conn.execute(
        "SELECT id, file_id, blob_hash FROM version"
    ):
        if blob_hash not in rows:
            problems.append(f"version {version_id} of file {file_id}: no blob row {blob_hash}")
        if not blob_path(blob_root, blob_hash).is_file():
            problems.append(
                f"version {version_id} of file {file_id}: blob file missing {blob_hash}"
            )
    for file_id, name, current in conn.execute(
        "SELECT file.id, file.name, file.current_version_id FROM file"
        " LEFT JOIN version ON version.id = file.current_version_id"
        " AND version.file_id = file.id WHERE version.id IS NULL"
    ):
        problems.append(f"file {file_id} {name!r}: current version {current} is not one of its own")
    if rehash:
        for path in blob_files(blob_root):
            if sha256_file(path) != path.name:
                problems.append(f"blob file {path} does not hash to its name")
    return problems


def blob_path(blob_root: Path, blob_hash: str) -> Path:
    """Where the local store keeps a blob (``ab/abcdef…``)."""
    return blob_root / blob_hash[:2] / blob_hash


def blob_files(blob_root: Path) -> list[Path]:
    """Every published blob file (the temp directory excluded)."""
    return sorted(p for p in blob_root.glob("??/*") if p.is_file())


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, lower-case hex."""
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            hasher.update(chunk)
    return hasher.hexdigest()


def all_problems(catalog: Path, blob_root: Path, rehash: bool = False) -> list[str]:
    """Every problem the checks above find in one vault."""
    with connect(catalog) as conn:
        return (
            integrity_problems(conn)
            + tree_problems(conn)
            + blob_problems(conn, blob_root, rehash=rehash)
        )
