"""Checking that every blob the catalog counts on is present and intact."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import select, text

from app.catalog.models import Blob
from app.core import VaultBase
from storage.errors import BlobNotFound, StoreError


@dataclass
class VerifyReport:
    """What ``verify`` found.

    Attributes:
        checked: blobs re-hashed.
        bytes: bytes re-hashed.
        missing: blobs the catalog expects on this computer that are not there.
        corrupted: blobs whose bytes no longer match their hash.
        unreferenced_rows: blob rows no version uses (left by an interrupted delete).
        stray_files: files in the blob directory that the catalog does not know.
        affected_files: vault paths of files whose content is missing or damaged.
    """

    checked: int = 0
    bytes: int = 0
    missing: list[str] = field(default_factory=list)
    corrupted: list[str] = field(default_factory=list)
    unreferenced_rows: list[str] = field(default_factory=list)
    stray_files: list[str] = field(default_factory=list)
    affected_files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No blob is missing or damaged."""
        return not self.missing and not self.corrupted


class VerifyOps(VaultBase):
    """Mixin: verification."""

    def verify(
        self, progress: Callable[[int, int], None] | None = None, workers: int = 2
    ) -> VerifyReport:
        """Re-hash every local blob and cross-check the catalog and the blob directory."""
        report = VerifyReport()
        with self.reading() as session:
            present = session.execute(
                select(Blob.hash, Blob.size).where(Blob.local_state == "present")
            ).all()
            known = set(session.scalars(select(Blob.hash)))
            report.unreferenced_rows = list(
                session.scalars(
                    text("SELECT hash FROM blob WHERE hash NOT IN (SELECT blob_hash FROM version)")
                )
            )

        def check(item: tuple[str, int]) -> tuple[str, str]:
            blob_hash, _size = item
            try:
                return blob_hash, "ok" if self.blobs.hash_of(blob_hash) == blob_hash else "corrupt"
            except BlobNotFound:
                return blob_hash, "missing"
            except (StoreError, OSError):
                return blob_hash, "missing"

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for i, (blob_hash, state) in enumerate(pool.map(check, present), 1):
                if state == "missing":
                    report.missing.append(blob_hash)
                elif state == "corrupt":
                    report.corrupted.append(blob_hash)
                report.checked += 1
                if progress:
                    progress(i, len(present))
        report.bytes = sum(size for _h, size in present)
        report.stray_files = sorted(set(self.blobs.list()) - known)
        bad = report.missing + report.corrupted
        if bad:
            with self.reading() as session:
                rows = session.execute(
                    text(
                        "SELECT DISTINCT file.id, file.folder_id, file.name FROM version"
                        " JOIN file ON file.id = version.file_id"
                        " WHERE version.blob_hash IN (SELECT value FROM json_each(:hashes))"
                    ),
                    {"hashes": json.dumps(bad)},
                ).all()
                report.affected_files = sorted(
                    self._folder_path(session, folder).rstrip("/") + "/" + name
                    for _id, folder, name in rows
                )
        return report
