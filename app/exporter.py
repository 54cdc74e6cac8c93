"""Exporting files, versions and folder trees back to disk, byte for byte.

Every byte written is hashed on the way and checked against the blob's
address before the file gets its final name, so a damaged blob is never
exported silently. Names taken in the destination keep both (``a (2).jpg``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.catalog.models import Blob, File, Folder, Version
from app.errors import BlobMissing, NotFound, StorageError
from app.naming import numbered
from app.rows import FileInfo, FolderInfo, VersionInfo
from app.search_index import tag_names
from app.space import SpaceOps
from storage.errors import BlobNotFound, StoreError
from storage.local import CHUNK

log = logging.getLogger(__name__)


@dataclass
class ExportReport:
    """What an export wrote, and what it could not."""

    written: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    bytes: int = 0


def _free_path(directory: Path, name: str) -> Path:
    candidate, n = directory / name, 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = directory / numbered(name, n)
    return candidate


class ExportOps(SpaceOps):
    """Mixin: export and item details. Evicted content is fetched from the bucket on demand."""

    def _version(self, session: Session, file: File, number: int | None) -> Version:
        if number is None:
            version = session.get(Version, file.current_version_id)
        else:
            version = session.scalar(
                select(Version).where(Version.file_id == file.id, Version.number == number)
            )
        if version is None:
            raise NotFound(f'"{file.name}" has no version {number}.')
        return version

    def _write_blob(self, blob_hash: str, target: Path) -> int:
        """Copy a blob to ``target`` (a new file), checking its hash. Returns its size."""
        temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        hasher = hashlib.sha256()
        size = 0
        try:
            try:
                src = self.blobs.open(blob_hash)
            except BlobNotFound:
                self._fetch_missing(blob_hash, target.name)  # evicted: from the bucket
                src = self.blobs.open(blob_hash)
            with src, open(temp, "xb") as out:
                while chunk := src.read(CHUNK):
                    hasher.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            if hasher.hexdigest() != blob_hash:
                raise BlobMissing(
                    f"The stored content of {target.name} is damaged (checksum mismatch).",
                    "Run `mediavault verify`; a synced copy can be fetched again.",
                )
            os.replace(temp, target)
        except BlobNotFound as exc:
            raise BlobMissing(f"The content of {target.name} is not on this computer.") from exc
        except StoreError as exc:
            raise StorageError(f"Cannot read {target.name} from the vault: {exc}") from exc
        except OSError as exc:
            raise StorageError(f"Cannot write {target}: {exc.strerror or exc}.") from exc
        finally:
            temp.unlink(missing_ok=True)
        return size

    def export_file(self, file_id: int, destination: Path, version: int | None = None) -> Path:
        """Write a file (its current or a given version) into directory ``destination``.

        Returns the path written. Raises :class:`NotFound`, :class:`BlobMissing`
        or :class:`StorageError`.
        """
        with self.reading() as session:
            file = self._file(session, file_id, live=False)
            blob_hash = self._version(session, file, version).blob_hash
            name = file.name
        return self._export_blob(blob_hash, Path(destination), name)

    def _export_blob(self, blob_hash: str, directory: Path, name: str) -> Path:
        """Write a blob into ``directory`` (made if need be) as ``name``, or the next
        free name ("name (2).ext") if it is taken; the path written."""
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"Cannot create {directory}: {exc.strerror or exc}.") from exc
        target = _free_path(directory, name)
        self._write_blob(blob_hash, target)
        return target

    def drag_links(self, files: Sequence[tuple[int, str, str]]) -> list[Path]:
        """Links to files' content under their own names, for a drag to the file manager.

        ``files`` are (file id, name, blob hash) of files whose content is here.
        Each gets ``<cache>/drag/<file id>/<name>``: a hard link to its blob, or a
        symbolic one where the file system refuses, so the file manager copies
        real names without a byte being copied first. The previous drag's links
        are removed. A file that cannot be linked is left out (and logged).
        """
        base = self.paths.cache / "drag"
        for old in base.glob("*/*") if base.exists() else []:
            old.unlink(missing_ok=True)
        links: list[Path] = []
        for file_id, name, blob_hash in files:
            target = base / str(file_id) / name
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                source = self.blobs.path(blob_hash)
                try:
                    os.link(source, target)
                except FileExistsError:
                    pass
                except FileNotFoundError:
                    raise  # the content is not here: a symbolic link would point nowhere
                except OSError:  # a file system without hard links, or across devices
                    os.symlink(source, target)
            except OSError as exc:
                log.warning("cannot prepare %s for dragging out: %s", name, exc)
                continue
            links.append(target)
        return links

    def export_folder(
        self,
        folder_id: int,
        destination: Path,
        progress: Callable[[int, int], None] | None = None,
    ) -> ExportReport:
        """Write a folder tree into ``destination`` (as a subfolder, or its contents for the root).

        Carries on past files that cannot be written; they are in the report.
        """
        report = ExportReport()
        with self.reading() as session:
            top = self._folder(session, folder_id)
            plan: list[tuple[Path, str, str]] = []  # (directory, name, blob hash)
            dirs: list[Path] = []
            base = Path(destination) if top.parent_id is None else Path(destination) / top.name
            stack = [(top.id, base)]
            while stack:
                current, where = stack.pop()
                dirs.append(where)
                for name, blob_hash in session.execute(
                    select(File.name, Version.blob_hash)
                    .join(Version, Version.id == File.current_version_id)
                    .where(File.folder_id == current, File.trash_id.is_(None))
                    .order_by(File.name_key)
                ):
                    plan.append((where, name, blob_hash))
                for sub_id, sub_name in session.execute(
                    select(Folder.id, Folder.name).where(
                        Folder.parent_id == current, Folder.trash_id.is_(None)
                    )
                ):
                    stack.append((sub_id, where / sub_name))
        for directory in dirs:
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                report.failed.append((str(directory), exc.strerror or str(exc)))
        for i, (directory, name, blob_hash) in enumerate(plan, 1):
            try:
                target = _free_path(directory, name)
                report.bytes += self._write_blob(blob_hash, target)
                report.written.append(target)
            except (StorageError, OSError) as exc:
                report.failed.append((str(directory / name), str(exc)))
            if progress:
                progress(i, len(plan))
        return report

    def versions(self, file_id: int) -> list[VersionInfo]:
        """Every version of a file, oldest first."""
        with self.reading() as session:
            self._file(session, file_id, live=False)
            rows = session.execute(
                select(Version, Blob)
                .join(Blob, Blob.hash == Version.blob_hash)
                .where(Version.file_id == file_id)
                .order_by(Version.number)
            ).all()
            return [self._version_info(v, b) for v, b in rows]

    @staticmethod
    def _version_info(v: Version, b: Blob) -> VersionInfo:
        return VersionInfo(
            id=v.id,
            number=v.number,
            blob_hash=v.blob_hash,
            size=v.size,
            created_at=v.created_at,
            note=v.note,
            device=v.device,
            width=v.width,
            height=v.height,
            duration=v.duration,
            pages=v.pages,
            taken_at=v.taken_at,
            camera=v.camera,
            codecs=v.codecs,
            index_note=v.index_note,
            local_state=b.local_state,
            remote_state=b.remote_state,
        )

    def file_info(self, file_id: int) -> FileInfo:
        """Everything known about a file, including its current version's facts."""
        with self.reading() as session:
            file = self._file(session, file_id, live=False)
            version = self._version(session, file, None)
            blob = session.get(Blob, version.blob_hash)
            assert blob is not None
            count = session.scalar(select(func.count()).where(Version.file_id == file_id))
            folder_path = self._folder_path(session, file.folder_id)
            tags = tag_names(session, file_id)
            return FileInfo(
                id=file.id,
                path=folder_path.rstrip("/") + "/" + file.name,
                name=file.name,
                folder_id=file.folder_id,
                kind=file.kind,
                mime=file.mime,
                size=file.size,
                description=file.description,
                is_favorite=file.is_favorite,
                created_at=file.created_at,
                modified_at=file.modified_at,
                in_trash=file.trash_id is not None,
                tags=tags,
                version=self._version_info(version, blob),
                versions=count or 1,
            )

    def folder_info(self, folder_id: int) -> FolderInfo:
        """Everything known about a folder, with its direct counts."""
        with self.reading() as session:
            folder = self._folder(session, folder_id, live=False)
            folders = session.scalar(
                select(func.count()).where(Folder.parent_id == folder_id, Folder.trash_id.is_(None))
            )
            files = session.scalar(
                select(func.count()).where(File.folder_id == folder_id, File.trash_id.is_(None))
            )
            return FolderInfo(
                id=folder.id,
                path=self._folder_path(session, folder_id),
                name=folder.name,
                parent_id=folder.parent_id,
                description=folder.description,
                created_at=folder.created_at,
                modified_at=folder.modified_at,
                in_trash=folder.trash_id is not None,
                folders=folders or 0,
                files=files or 0,
            )
