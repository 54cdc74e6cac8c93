"""What every capability of the vault shares: opening, sessions, lookups, browsing.

The facade is :class:`app.vault.Vault`; its operations live in mixins by
capability (organise, trash, import, export, search, verify) built on
:class:`VaultBase`.

Thread affinity: a ``Vault`` may be used from any thread. Each call opens its
own ``Session`` and closes it before returning; only frozen rows leave.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from app.catalog.db import create_catalog_engine, session_factory, upgrade
from app.catalog.models import File, Folder
from app.errors import NotFound, StorageError, VaultError, VaultLocked
from app.naming import name_key
from app.paths import VaultPaths, vault_paths
from app.rows import FileRow, FolderRow, Listing
from storage.local import LocalBlobStore

ROOT_ID = 1

if sys.platform != "win32":
    import fcntl


class FileLock:
    """An advisory lock on a file of the vault, shared or exclusive, between processes.

    The vault's open lock is held shared by every process that has it open, so
    leftover temp files are removed only by one that gets it exclusively, i.e.
    when no other process (the window, a CLI run) may be writing. Sync holds its
    own lock exclusively, so that two syncs never run at once.
    """

    def __init__(self, path: Path) -> None:
        self._handle = open(path, "a+b")  # noqa: SIM115 - held until close()

    def try_exclusive(self) -> bool | None:
        """Take the lock alone without waiting: True if taken, False if someone holds it.

        None where the platform has no advisory locks (Windows): callers then
        assume whatever is safe for them.
        """
        if sys.platform == "win32":
            return None
        try:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def share(self) -> None:
        """Hold the lock shared (blocks only while a sole user cleans up)."""
        if sys.platform != "win32":
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_SH)

    def close(self) -> None:
        """Release the lock."""
        self._handle.close()


def now() -> datetime:
    """The catalog's clock: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def split_path(path: str) -> list[str]:
    """``"/Photos/2023/"`` → ``["Photos", "2023"]``; the root is ``[]``."""
    return [part for part in path.replace("\\", "/").split("/") if part]


def _open_error(paths: VaultPaths, exc: BaseException) -> VaultError:
    """The message for a vault that cannot be opened."""
    if isinstance(exc, PermissionError):
        return StorageError(
            f"Cannot use the vault at {paths.data}: permission denied.",
            "Choose another location with --vault or MEDIAVAULT_HOME.",
        )
    if isinstance(exc, OSError):
        return StorageError(f"Cannot use the vault at {paths.data}: {exc.strerror or exc}.")
    if "locked" in str(exc):
        return VaultLocked(
            f"The vault at {paths.data} is busy.", "Close the other program using it."
        )
    return StorageError(
        f"{paths.catalog} is not a Media Vault catalog or is damaged.",
        "Restore it from the bucket, or choose another location.",
    )


class VaultBase:
    """The shared core of :class:`app.vault.Vault`.

    Attributes:
        paths: where the vault's data, cache and config live.
        engine: the SQLAlchemy engine on the catalog (shared by threads).
        blobs: the local blob store.
        root_id: the id of the root folder.
    """

    root_id = ROOT_ID

    def __init__(
        self, paths: VaultPaths, engine: Engine, blobs: LocalBlobStore, lock: FileLock
    ) -> None:
        self.paths = paths
        self.engine = engine
        self.blobs = blobs
        self._lock = lock
        self._sessions = session_factory(engine)
        self._writer = session_factory(engine.execution_options(write=True))

    @classmethod
    def open(cls, home: Path | str | None = None) -> Self:
        """Open (creating if needed) the vault at ``home``, or the default one.

        Runs pending schema migrations and clears temp files an interrupted
        write left behind. Raises :class:`StorageError` when the directory
        cannot be created or the catalog is not a database.
        """
        paths = vault_paths(home)
        lock: FileLock | None = None
        try:
            paths.create()
            lock = FileLock(paths.data / ".lock")
            engine = create_catalog_engine(paths.catalog)
            upgrade(engine)
            blobs = LocalBlobStore(paths.blobs)
            if lock.try_exclusive():  # nobody else has the vault open
                blobs.clean_temp()
            lock.share()
        except BaseException as exc:
            if lock is not None:
                lock.close()
            if isinstance(exc, OSError | DatabaseError | sqlite3.DatabaseError):
                raise _open_error(paths, exc) from exc
            raise
        return cls(paths, engine, blobs, lock)

    def close(self) -> None:
        """Release the catalog (connections are checkpointed and closed) and the open lock."""
        self.engine.dispose()
        self._lock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for queries; closed on exit."""
        with self._sessions() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session holding the write lock (BEGIN IMMEDIATE); committed on clean exit."""
        with self._writer() as session, session.begin():
            session.connection()  # take the lock now, not at the first statement
            yield session

    # -- lookups shared by every capability ---------------------------------

    def is_empty(self) -> bool:
        """True when the vault holds nothing at all: no file, no folder but the top one,
        no blob, nothing in the Trash (what a first start makes)."""
        with self.reading() as session:
            return not any(
                session.execute(text(f"SELECT 1 FROM {table} WHERE {where} LIMIT 1")).first()
                for table, where in (
                    ("file", "1"),
                    ("folder", "parent_id IS NOT NULL"),
                    ("blob", "1"),
                    ("trash_entry", "1"),
                )
            )

    def _folder(self, session: Session, folder_id: int, live: bool = True) -> Folder:
        folder = session.get(Folder, folder_id)
        if folder is None or (live and folder.trash_id is not None):
            raise NotFound("That folder no longer exists.")
        return folder

    def _file(self, session: Session, file_id: int, live: bool = True) -> File:
        file = session.get(File, file_id)
        if file is None or (live and file.trash_id is not None):
            raise NotFound("That file no longer exists.")
        return file

    def _child(self, session: Session, folder_id: int, name: str) -> Folder | File | None:
        """The live folder or file named ``name`` (ignoring case) in ``folder_id``."""
        key = name_key(name)
        sub = session.scalar(
            select(Folder).where(
                Folder.parent_id == folder_id, Folder.name_key == key, Folder.trash_id.is_(None)
            )
        )
        if sub is not None:
            return sub
        return session.scalar(
            select(File).where(
                File.folder_id == folder_id, File.name_key == key, File.trash_id.is_(None)
            )
        )

    def _folder_path(self, session: Session, folder_id: int) -> str:
        rows = session.execute(
            text(
                "WITH RECURSIVE up(id, parent_id, name, depth) AS ("
                " SELECT id, parent_id, name, 0 FROM folder WHERE id = :id"
                " UNION ALL SELECT f.id, f.parent_id, f.name, up.depth + 1"
                " FROM folder f JOIN up ON f.id = up.parent_id)"
                " SELECT name FROM up ORDER BY depth DESC"
            ),
            {"id": folder_id},
        ).all()
        return "/" + "/".join(r[0] for r in rows if r[0])

    def _is_inside(self, session: Session, folder_id: int, ancestor_id: int) -> bool:
        """True if ``folder_id`` is ``ancestor_id`` or one of its descendants."""
        return bool(
            session.execute(
                text(
                    "WITH RECURSIVE up(id) AS (SELECT :id UNION ALL"
                    " SELECT f.parent_id FROM folder f JOIN up ON f.id = up.id"
                    " WHERE f.parent_id IS NOT NULL)"
                    " SELECT 1 FROM up WHERE id = :anc LIMIT 1"
                ),
                {"id": folder_id, "anc": ancestor_id},
            ).first()
        )

    # -- browse -------------------------------------------------------------

    def resolve(self, path: str) -> tuple[str, int]:
        """``("folder", id)`` or ``("file", id)`` for a vault path like ``/Photos/a.jpg``.

        Raises :class:`NotFound` naming the first missing component.
        """
        parts = split_path(path)
        with self.reading() as session:
            current = self.root_id
            for i, part in enumerate(parts):
                child = self._child(session, current, part)
                if isinstance(child, Folder):
                    current = child.id
                    continue
                if isinstance(child, File) and i == len(parts) - 1:
                    return "file", child.id
                where = "/" + "/".join(parts[:i])
                raise NotFound(f'There is no "{part}" in {where}.')
            return "folder", current

    def resolve_folder(self, path: str) -> int:
        """The id of the folder at ``path``; :class:`NotFound` if it is missing or a file."""
        kind, item_id = self.resolve(path)
        if kind != "folder":
            raise NotFound(f"{path} is a file, not a folder.")
        return item_id

    def path_of(self, kind: str, item_id: int) -> str:
        """The vault path of a folder or file."""
        with self.reading() as session:
            if kind == "folder":
                return self._folder_path(session, self._folder(session, item_id, live=False).id)
            file = self._file(session, item_id, live=False)
            parent = self._folder_path(session, file.folder_id)
            return parent.rstrip("/") + "/" + file.name

    def list_folder(self, folder_id: int, limit: int = 200, after: str | None = None) -> Listing:
        """A page of a live folder: subfolders (on the first page) and files, by name.

        Uses the (folder_id, name_key) index with a keyset cursor, so any page of
        a 100,000-file folder costs the same. Raises :class:`NotFound`.
        """
        with self.reading() as session:
            self._folder(session, folder_id)
            folders: list[FolderRow] = []
            if after is None:
                folders = [
                    FolderRow(r.id, r.name, r.modified_at)
                    for r in session.execute(
                        select(Folder.id, Folder.name, Folder.modified_at)
                        .where(Folder.parent_id == folder_id, Folder.trash_id.is_(None))
                        .order_by(Folder.name_key)
                    )
                ]
            query = (
                select(
                    File.id,
                    File.name,
                    File.kind,
                    File.mime,
                    File.size,
                    File.modified_at,
                    File.is_favorite,
                )
                .where(File.folder_id == folder_id, File.trash_id.is_(None))
                .order_by(File.name_key)
                .limit(limit + 1)
            )
            if after is not None:
                query = query.where(File.name_key > after)
            files = [FileRow(*r) for r in session.execute(query)]
            return Listing(folders, files[:limit], len(files) > limit)
