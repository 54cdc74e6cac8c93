"""Organising: folders and files created, renamed, moved, copied, described, trashed.

Every operation checks the naming rules and sibling uniqueness (ignoring case,
across folders and files), runs in one write transaction with the search
index, and returns :class:`Changes`.
"""

from __future__ import annotations

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from app import search_index
from app.catalog.models import File, FileTag, Folder, TrashEntry, Version
from app.core import VaultBase, now, split_path
from app.errors import NameTaken, NotFound, Refused
from app.naming import name_key, numbered, validate
from app.rows import Changes


class OrganizeOps(VaultBase):
    """Mixin: creating, renaming, moving, copying and trashing items."""

    def _ensure_free(
        self, session: Session, folder_id: int, name: str, itself: Folder | File | None = None
    ) -> None:
        clash = self._child(session, folder_id, name)
        if clash is not None and clash is not itself:
            what = "folder" if isinstance(clash, Folder) else "file"
            where = self._folder_path(session, folder_id)
            raise NameTaken(
                f'There is already a {what} named "{clash.name}" in {where}.',
                "Names in a folder must differ by more than upper/lower case.",
            )

    def _free_name(self, session: Session, folder_id: int, name: str) -> str:
        """``name``, or the first ``name (n)`` free in the folder ("keep both")."""
        candidate, n = name, 1
        while self._child(session, folder_id, candidate) is not None:
            n += 1
            candidate = numbered(name, n)
        return candidate

    def _touch(self, session: Session, *folder_ids: int) -> None:
        session.execute(update(Folder).where(Folder.id.in_(folder_ids)).values(modified_at=now()))

    # -- folders -------------------------------------------------------------

    def mkdir(self, parent_id: int, name: str) -> Changes:
        """Create a folder; ``Changes.created`` holds its id."""
        name = validate(name)
        with self.writing() as session:
            self._folder(session, parent_id)
            self._ensure_free(session, parent_id, name)
            folder_id = self._create_folder(session, parent_id, name)
            self._touch(session, parent_id)
            return Changes(folders=frozenset({parent_id}), tree=True, created=(folder_id,))

    def new_folder(self, parent_id: int, name: str = "New folder") -> Changes:
        """Create ``name``, or the first free ``name (n)``, as a file manager's "New folder"
        does; ``Changes.created`` holds its id."""
        name = validate(name)
        with self.writing() as session:
            self._folder(session, parent_id)
            folder_id = self._create_folder(
                session, parent_id, self._free_name(session, parent_id, name)
            )
            self._touch(session, parent_id)
            return Changes(folders=frozenset({parent_id}), tree=True, created=(folder_id,))

    @staticmethod
    def _create_folder(session: Session, parent_id: int, name: str) -> int:
        """Insert a folder row (name already valid and free); returns its id."""
        stamp = now()
        folder = Folder(
            parent_id=parent_id,
            name=name,
            name_key=name_key(name),
            description="",
            created_at=stamp,
            modified_at=stamp,
        )
        session.add(folder)
        session.flush()
        return folder.id

    def makedirs(self, path: str) -> int:
        """The id of the folder at ``path``, creating missing folders on the way (``mkdir -p``)."""
        current = self.root_id
        for part in split_path(path):
            with self.reading() as session:
                child = self._child(session, current, part)
            if isinstance(child, File):
                raise NameTaken(f'"{child.name}" is a file, not a folder.')
            current = child.id if child else self.mkdir(current, part).created[0]
        return current

    def rename_folder(self, folder_id: int, name: str) -> Changes:
        """Rename a folder (a change of case alone is allowed)."""
        name = validate(name)
        with self.writing() as session:
            folder = self._folder(session, folder_id)
            if folder.parent_id is None:
                raise Refused("The top of the vault cannot be renamed.")
            self._ensure_free(session, folder.parent_id, name, itself=folder)
            folder.name, folder.name_key, folder.modified_at = name, name_key(name), now()
            self._touch(session, folder.parent_id)
            return Changes(folders=frozenset({folder.parent_id, folder_id}), tree=True)

    def move_folder(self, folder_id: int, new_parent_id: int) -> Changes:
        """Move a folder under another; into itself or its own subfolders is refused."""
        with self.writing() as session:
            folder = self._folder(session, folder_id)
            self._folder(session, new_parent_id)
            if folder.parent_id is None:
                raise Refused("The top of the vault cannot be moved.")
            if self._is_inside(session, new_parent_id, folder_id):
                raise Refused(
                    f'Cannot move "{folder.name}" into itself or one of its own subfolders.'
                )
            old_parent = folder.parent_id
            if old_parent == new_parent_id:
                return Changes()
            self._ensure_free(session, new_parent_id, folder.name)
            folder.parent_id = new_parent_id
            self._touch(session, old_parent, new_parent_id)
            return Changes(folders=frozenset({old_parent, new_parent_id}), tree=True)

    def copy_folder(self, folder_id: int, new_parent_id: int) -> Changes:
        """Copy a folder tree; files share their blobs, so no bytes are copied.

        Copying into the same parent keeps both (``name (2)``); copying into
        itself is refused.
        """
        with self.writing() as session:
            source = self._folder(session, folder_id)
            self._folder(session, new_parent_id)
            if source.parent_id is None or self._is_inside(session, new_parent_id, folder_id):
                raise Refused(f'Cannot copy "{source.name or "/"}" into itself.')
            name = self._free_name(session, new_parent_id, source.name)
            top = self._copy_tree(session, source, new_parent_id, name)
            self._touch(session, new_parent_id)
            return Changes(folders=frozenset({new_parent_id}), tree=True, created=(top,))

    def _copy_tree(self, session: Session, source: Folder, parent_id: int, name: str) -> int:
        stamp = now()
        copy = Folder(
            parent_id=parent_id,
            name=name,
            name_key=name_key(name),
            description=source.description,
            created_at=stamp,
            modified_at=stamp,
        )
        session.add(copy)
        session.flush()
        for file in session.scalars(
            select(File).where(File.folder_id == source.id, File.trash_id.is_(None))
        ):
            self._copy_file_row(session, file, copy.id, file.name)
        for sub in session.scalars(
            select(Folder).where(Folder.parent_id == source.id, Folder.trash_id.is_(None))
        ):
            self._copy_tree(session, sub, copy.id, sub.name)
        return copy.id

    # -- files ---------------------------------------------------------------

    def rename_file(self, file_id: int, name: str) -> Changes:
        """Rename a file (a change of case alone is allowed)."""
        name = validate(name)
        with self.writing() as session:
            file = self._file(session, file_id)
            self._ensure_free(session, file.folder_id, name, itself=file)
            file.name, file.name_key, file.modified_at = name, name_key(name), now()
            search_index.set_name(session, file_id, name)
            return Changes(folders=frozenset({file.folder_id}), files=frozenset({file_id}))

    def move_file(self, file_id: int, folder_id: int) -> Changes:
        """Move a file to another folder (no bytes move)."""
        with self.writing() as session:
            file = self._file(session, file_id)
            self._folder(session, folder_id)
            old = file.folder_id
            if old == folder_id:
                return Changes()
            self._ensure_free(session, folder_id, file.name)
            file.folder_id = folder_id
            self._touch(session, old, folder_id)
            return Changes(folders=frozenset({old, folder_id}), files=frozenset({file_id}))

    def copy_file(self, file_id: int, folder_id: int) -> Changes:
        """Copy a file: a new file sharing the current version's blob (no bytes copied).

        Into the same folder (or one with that name taken) keeps both as ``name (2).ext``.
        Description and tags are copied; favorite and history are not.
        """
        with self.writing() as session:
            file = self._file(session, file_id)
            self._folder(session, folder_id)
            name = self._free_name(session, folder_id, file.name)
            new_id = self._copy_file_row(session, file, folder_id, name)
            self._touch(session, folder_id)
            return Changes(folders=frozenset({folder_id}), created=(new_id,))

    def _copy_file_row(self, session: Session, file: File, folder_id: int, name: str) -> int:
        stamp = now()
        version = session.get(Version, file.current_version_id)
        assert version is not None
        copy = File(
            folder_id=folder_id,
            name=name,
            name_key=name_key(name),
            description=file.description,
            mime=file.mime,
            kind=file.kind,
            is_favorite=False,
            size=file.size,
            created_at=stamp,
            modified_at=stamp,
        )
        session.add(copy)
        session.flush()
        first = Version(
            file_id=copy.id,
            number=1,
            blob_hash=version.blob_hash,
            size=version.size,
            created_at=stamp,
            note=f"Copied from version {version.number}",
            device=version.device,
            width=version.width,
            height=version.height,
            duration=version.duration,
            pages=version.pages,
            taken_at=version.taken_at,
            camera=version.camera,
            codecs=version.codecs,
            index_note=version.index_note,
        )
        session.add(first)
        session.flush()
        copy.current_version_id = first.id
        tags = session.scalars(select(FileTag.tag_id).where(FileTag.file_id == file.id)).all()
        session.add_all(FileTag(file_id=copy.id, tag_id=t) for t in tags)
        search_index.copy(session, file.id, copy.id, name)
        return copy.id

    def set_favorite(self, file_ids: list[int], favorite: bool) -> Changes:
        """Mark or unmark files as favorites."""
        with self.writing() as session:
            files = [self._file(session, i) for i in file_ids]
            for file in files:
                file.is_favorite = favorite
            return Changes(folders=frozenset(f.folder_id for f in files), files=frozenset(file_ids))

    def describe_file(self, file_id: int, description: str) -> Changes:
        """Set a file's description (searchable)."""
        with self.writing() as session:
            file = self._file(session, file_id)
            file.description = description
            search_index.set_description(session, file_id, description)
            return Changes(files=frozenset({file_id}))

    def describe_folder(self, folder_id: int, description: str) -> Changes:
        """Set a folder's description."""
        with self.writing() as session:
            self._folder(session, folder_id).description = description
            return Changes(folders=frozenset({folder_id}))

    # -- delete to Trash -----------------------------------------------------

    def delete_file(self, file_id: int) -> Changes:
        """Move a file to the Trash."""
        with self.writing() as session:
            file = self._file(session, file_id)
            entry = self._trash_entry(session, file.folder_id, file_id=file.id)
            file.trash_id, file.deleted_at = entry.id, entry.deleted_at
            self._touch(session, file.folder_id)
            return Changes(
                folders=frozenset({file.folder_id}), files=frozenset({file_id}), trash=True
            )

    def delete_folder(self, folder_id: int) -> Changes:
        """Move a folder and everything live inside it to the Trash."""
        with self.writing() as session:
            folder = self._folder(session, folder_id)
            if folder.parent_id is None:
                raise Refused("The top of the vault cannot be deleted.")
            entry = self._trash_entry(session, folder.parent_id, folder_id=folder.id)
            params = {"top": folder_id, "trash": entry.id, "at": entry.deleted_at}
            # Everything live below takes the same trash id, so restore and purge
            # touch exactly this deletion (items trashed earlier keep their own).
            session.execute(
                text(
                    "WITH RECURSIVE sub(id) AS (SELECT :top UNION ALL"
                    " SELECT f.id FROM folder f JOIN sub ON f.parent_id = sub.id"
                    " WHERE f.trash_id IS NULL)"
                    " UPDATE folder SET trash_id = :trash, deleted_at = :at"
                    " WHERE id IN (SELECT id FROM sub)"
                ),
                params,
            )
            session.execute(
                text(
                    "UPDATE file SET trash_id = :trash, deleted_at = :at"
                    " WHERE trash_id IS NULL AND folder_id IN"
                    " (SELECT id FROM folder WHERE trash_id = :trash)"
                ),
                params,
            )
            self._touch(session, folder.parent_id)
            return Changes(folders=frozenset({folder.parent_id}), tree=True, trash=True)

    def _trash_entry(
        self,
        session: Session,
        parent_id: int,
        folder_id: int | None = None,
        file_id: int | None = None,
    ) -> TrashEntry:
        entry = TrashEntry(
            deleted_at=now(),
            original_parent_id=parent_id,
            original_path=self._folder_path(session, parent_id),
            folder_id=folder_id,
            file_id=file_id,
        )
        session.add(entry)
        session.flush()
        return entry

    def delete_path(self, path: str) -> Changes:
        """Move the folder or file at ``path`` to the Trash."""
        kind, item_id = self.resolve(path)
        if kind == "folder":
            return self.delete_folder(item_id)
        return self.delete_file(item_id)

    def require_file(self, path: str) -> int:
        """The id of the file at ``path``; :class:`NotFound` if it is a folder or missing."""
        kind, item_id = self.resolve(path)
        if kind != "file":
            raise NotFound(f"{path} is a folder, not a file.")
        return item_id
