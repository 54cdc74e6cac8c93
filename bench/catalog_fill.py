"""Filling a real vault's catalog directly with SQL: blob, version, file and search rows."""

from __future__ import annotations

import hashlib
import mimetypes
import random
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from app import kinds
from app.naming import name_key
from app.search_index import name_terms

STAMP = "2024-01-02 03:04:05.000000"


def add_folder(db: sqlite3.Connection, parent: int, name: str) -> int:
    cur = db.execute(
        "INSERT INTO folder(parent_id, name, name_key, description, created_at, modified_at)"
        " VALUES (?, ?, ?, '', ?, ?)",
        (parent, name, name_key(name), STAMP, STAMP),
    )
    return int(cur.lastrowid)


def add_files(
    db: sqlite3.Connection, rows: Iterable[tuple[int, str]], seed: int, start_id: int
) -> int:
    """Insert (folder_id, name) rows as files with one version and blob each; returns next id."""
    r = random.Random(seed)
    fid = start_id
    blobs, versions, files, search = [], [], [], []
    mimes: dict[str, tuple[str, str]] = {}

    def flush() -> None:
        db.executemany(
            "INSERT INTO blob(hash, size, local_state, remote_state, attempts, created_at)"
            " VALUES (?, ?, 'present', 'pending', 0, ?)",
            blobs,
        )
        db.executemany(
            "INSERT INTO version(id, file_id, number, blob_hash, size, created_at, note, device,"
            " index_note) VALUES (?, ?, 1, ?, ?, ?, '', 'bench', '')",
            versions,
        )
        db.executemany(
            "INSERT INTO file(id, folder_id, name, name_key, description, mime, kind, is_favorite,"
            " current_version_id, size, created_at, modified_at) VALUES"
            " (?, ?, ?, ?, '', ?, ?, 0, ?, ?, ?, ?)",
            files,
        )
        db.executemany(
            "INSERT INTO search(rowid, name, description, tags, content) VALUES (?, ?, '', '', '')",
            search,
        )
        for lst in (blobs, versions, files, search):
            lst.clear()

    for folder_id, name in rows:
        ext = name.rpartition(".")[2].lower()
        if ext not in mimes:
            mime = mimetypes.guess_type(name)[0] or kinds.OCTET_STREAM
            mimes[ext] = (mime, kinds.kind_of(mime))
        mime, kind = mimes[ext]
        size = r.randint(10_000, 8_000_000)
        digest = hashlib.sha256(fid.to_bytes(8, "little")).hexdigest()
        modified = (
            f"20{r.randint(10, 24)}-{r.randint(1, 12):02}-{r.randint(1, 28):02} 12:00:00.000000"
        )
        blobs.append((digest, size, STAMP))
        versions.append((fid, fid, digest, size, STAMP))
        files.append((fid, folder_id, name, name_key(name), mime, kind, fid, size, STAMP, modified))
        search.append((fid, name_terms(name)))
        fid += 1
        if len(files) >= 20_000:
            flush()
    flush()
    return fid


def open_raw(catalog: Path) -> sqlite3.Connection:
    db = sqlite3.connect(catalog, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -256000")
    return db
