"""The Trash: what was deleted, restoring it, and deleting it forever.

A blob goes only when no version of any file refers to it. Rows are deleted
first and committed; files are unlinked afterwards in a second write
transaction that checks again, so an import that reuses the same content in
between (it publishes its blob under the same lock) keeps its bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from app import search_index
from app.catalog.models import Blob, File, Folder, TrashEntry, Version
from app.core import split_path
from app.errors import NotFound
from app.naming import name_key
from app.organize import OrganizeOps
from app.rows import Changes


@dataclass(frozen=True)
class TrashItem:
    """One deletion as the Trash lists it."""

    id: int
    kind: str  # "folder" or "file"
    name: str
    original_path: str
    deleted_at: datetime
    size: int  # bytes of the files it holds (current versions)
    files: int


class TrashOps(OrganizeOps):
    """Mixin: listing, restoring and purging the Trash."""

    def trash_list(self) -> list[TrashItem]:
        """Every deletion, newest first."""
        with self.reading() as session:
            rows = session.execute(
                text(
                    "SELECT t.id, t.original_path, t.deleted_at, t.folder_id, t.file_id,"
                    " COALESCE(fo.name, fi.name),"
                    " (SELECT COALESCE(SUM(size), 0) FROM file WHERE trash_id = t.id),"
                    " (SELECT COUNT(*) FROM file WHERE trash_id = t.id)"
                    " FROM trash_entry t"
                    " LEFT JOIN folder fo ON fo.id = t.folder_id"
                    " LEFT JOIN file fi ON fi.id = t.file_id"
                    " ORDER BY t.deleted_at DESC, t.id DESC"
                )
            ).all()
        return [
            TrashItem(
                id=r[0],
                kind="folder" if r[3] else "file",
                name=r[5],
                original_path=r[1],
                deleted_at=datetime.fromisoformat(r[2]) if isinstance(r[2], str) else r[2],
                size=r[6],
                files=r[7],
            )
            for r in rows
        ]

    def _entry(self, session: Session, entry_id: int) -> TrashEntry:
        entry = session.get(TrashEntry, entry_id)
        if entry is None:
            raise NotFound("That item is no longer in the Trash.")
        return entry

    def restore(self, entry_id: int) -> Changes:
        """Put a deletion back where it was.

        If its folder is gone (deleted forever, or itself in the Trash), the
        folder path is recreated. A name now taken there gets "keep both".
        """
        with self.writing() as session:
            entry = self._entry(session, entry_id)
            parent = (
                session.get(Folder, entry.original_parent_id) if entry.original_parent_id else None
            )
            if parent is None or parent.trash_id is not None:
                parent_id = self._makedirs_in(session, entry.original_path)
            else:
                parent_id = parent.id
            top: Folder | File
            if entry.folder_id is not None:
                top = self._folder(session, entry.folder_id, live=False)
            else:
                top = self._file(session, entry.file_id or 0, live=False)
            name = self._free_name(session, parent_id, top.name)  # while top is still trashed
            # Rename and re-parent first, while still trashed: the live-name unique index
            # would refuse the old name where "keep both" gave it a new one.
            if isinstance(top, Folder):
                top.parent_id = parent_id
            else:
                top.folder_id = parent_id
                if name != top.name:
                    search_index.set_name(session, top.id, name)
            top.name, top.name_key = name, name_key(name)
            session.flush()
            for table in ("folder", "file"):
                session.execute(
                    text(
                        f"UPDATE {table} SET trash_id = NULL, deleted_at = NULL WHERE trash_id = :t"
                    ),
                    {"t": entry_id},
                )
            session.expire_all()
            session.delete(entry)
            self._touch(session, parent_id)
            return Changes(
                folders=frozenset({parent_id}),
                tree=isinstance(top, Folder),
                trash=True,
                created=(top.id,),
            )

    def _makedirs_in(self, session: Session, path: str) -> int:
        current = self.root_id
        for part in split_path(path):
            child = self._child(session, current, part)
            if isinstance(child, Folder):
                current = child.id
                continue
            current = self._create_folder(session, current, self._free_name(session, current, part))
        return current

    def purge(self, entry_id: int) -> Changes:
        """Delete one Trash entry forever, with everything it holds."""
        with self.writing() as session:
            hashes = self._purge(session, self._entry(session, entry_id))
        self._collect_garbage(hashes)
        return Changes(trash=True)

    def empty_trash(self) -> Changes:
        """Delete everything in the Trash forever."""
        hashes: set[str] = set()
        with self.writing() as session:
            # One at a time: purging a folder may take other entries along by cascade.
            while (entry := session.scalars(select(TrashEntry).limit(1)).first()) is not None:
                hashes |= self._purge(session, entry)
        self._collect_garbage(hashes)
        return Changes(trash=True)

    def _purge(self, session: Session, entry: TrashEntry) -> set[str]:
        if entry.folder_id is not None:
            folder_ids = [
                r[0]
                for r in session.execute(
                    text(
                        "WITH RECURSIVE sub(id) AS (SELECT :top UNION ALL"
                        " SELECT f.id FROM folder f JOIN sub ON f.parent_id = sub.id)"
                        " SELECT id FROM sub"
                    ),
                    {"top": entry.folder_id},
                )
            ]
            file_ids = list(session.scalars(select(File.id).where(File.folder_id.in_(folder_ids))))
        else:
            folder_ids, file_ids = [], [entry.file_id or 0]
        hashes = set(
            session.scalars(select(Version.blob_hash).where(Version.file_id.in_(file_ids)))
        )
        search_index.remove(session, file_ids)
        # Entries of earlier deletions inside this folder go with their items (ON DELETE
        # CASCADE on trash_entry.folder_id/file_id), and so does this entry.
        session.execute(
            delete(File).where(File.id.in_(file_ids)).execution_options(synchronize_session=False)
        )
        session.execute(
            delete(Folder)
            .where(Folder.id.in_(folder_ids))
            .execution_options(synchronize_session=False)
        )
        session.execute(
            delete(TrashEntry)
            .where(TrashEntry.id == entry.id)
            .execution_options(synchronize_session=False)
        )
        session.expunge_all()
        return hashes

    def _collect_garbage(self, hashes: set[str]) -> None:
        """Remove blobs no version refers to any more: rows first, then files."""
        if not hashes:
            return
        with self.writing() as session:
            orphans = self._unreferenced(session, hashes)
            session.execute(delete(Blob).where(Blob.hash.in_(orphans)))
        with self.writing() as session:
            # Under the write lock no import can publish and reference one meanwhile.
            present = set(session.scalars(select(Blob.hash).where(Blob.hash.in_(orphans))))
            for blob_hash in orphans - present:
                self.blobs.delete(blob_hash)

    @staticmethod
    def _unreferenced(session: Session, hashes: set[str]) -> set[str]:
        used = set(session.scalars(select(Version.blob_hash).where(Version.blob_hash.in_(hashes))))
        return hashes - used
