"""Tidy a vault's bucket: stale multipart uploads, stuck or failed uploads, unused blobs.

:class:`Cleaner` is a facade over a vault and an :class:`~storage.s3.S3BlobStore`
(no Qt). One :meth:`Cleaner.run` holds the vault's ``.sync.lock`` exclusively,
like :class:`app.sync.Syncer`, so it never runs beside a sync: an upload it finds
unfinished or a row it finds ``uploading`` is not being sent by this vault. It

1. reads, changing nothing: the unfinished multipart uploads under
   ``<prefix>/blobs/``, the blob keys in the bucket, every catalog snapshot in
   ``<prefix>/catalog/`` (downloaded and checked as :mod:`app.restore` does),
   and then the current catalog. The bucket is listed before the catalogs are
   read, so a reference added in between protects its blob rather than the
   other way round. If the bucket cannot be reached, :meth:`Cleaner.run` stops
   here with a :class:`StorageError` and nothing has changed;
2. unless ``dry_run``: puts rows left ``uploading`` back to ``pending``
   (keeping ``upload_id``, so that the next sync resumes them); with
   ``retry_failed``, puts ``failed`` rows back to ``pending`` with their
   attempts and error cleared; aborts the multipart uploads started more than
   ``older_than`` ago (and forgets their ids in the catalog); and deletes the
   unused blobs.

A blob is unused, and its key deleted, only when no version and no blob row of
the current catalog (files in the Trash included) and none of any catalog
snapshot in the bucket refers to it; the catalog is asked again just before each
batch is deleted. If a snapshot cannot be read, or the bucket holds no snapshot
at all (the catalog that knows its blobs may be on another computer), no blob is
deleted and the report says why. Only keys laid out as
``<prefix>/blobs/ab/<sha256>`` are ever candidates: snapshots and other objects
are never touched.

Shares (:mod:`app.sharing`): the share objects of links that expired (or were
revoked, should their deletion have failed) are deleted, and so is what is left
in the inbox of an upload request that expired more than
:data:`app.sharing.INBOX_GRACE` ago. Only keys the catalog records for such
shares are touched; this step runs even when blob deletion is blocked.
"""

from __future__ import annotations

import logging
import sqlite3
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select, update

from app.catalog.models import Blob, File, Share, Version
from app.core import FileLock, VaultBase
from app.errors import StorageError, VaultError
from app.paths import VaultPaths
from app.restore import download_snapshot
from app.sync import SyncBusy, list_snapshots
from storage.errors import BlobNotFound, RemoteError
from storage.s3 import S3BlobStore, UnfinishedUpload
from storage.s3_client import Credentials

log = logging.getLogger(__name__)

DEFAULT_AGE = timedelta(hours=24)
CHECK_BATCH = 500  # hashes per catalog re-check (well under SQLite's variable limit)

Clock = Callable[[], datetime]


def _message(exc: RemoteError) -> str:
    return str(exc) + (f" ({exc.hint})" if exc.hint else "")


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _referenced(catalog: Path) -> set[str]:
    """The blob hashes a catalog file's versions and blob rows name (opened read-only)."""
    connection = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True)
    try:
        return {
            str(r[0])
            for r in connection.execute("SELECT blob_hash FROM version UNION SELECT hash FROM blob")
            if r[0] is not None
        }
    finally:
        connection.close()


@dataclass(frozen=True)
class UnusedBlob:
    """A blob in the bucket that nothing refers to.

    Attributes:
        hash: its SHA-256.
        key: its object key.
        size: its size in bytes.
    """

    hash: str
    key: str
    size: int


@dataclass(frozen=True)
class FailedBlob:
    """A blob whose upload failed.

    Attributes:
        hash: its SHA-256.
        size: its size in bytes.
        attempts: failed uploads so far.
        last_error: the last failure's message.
        paths: vault paths of the files that use it (" (in the Trash)" marks trashed ones).
    """

    hash: str
    size: int
    attempts: int
    last_error: str
    paths: tuple[str, ...]


@dataclass
class CleanupReport:
    """What a cleanup did, or with ``dry_run`` would do.

    Attributes:
        dry_run: nothing was changed; the lists say what would have been.
        older_than: the age from which unfinished uploads are aborted.
        aborted: unfinished multipart uploads aborted.
        reset: hashes of blobs put back from ``uploading`` to ``pending``.
        failed: blobs in ``failed`` (only when asked for).
        retried: True if those were put back to ``pending``.
        deleted: unused blobs deleted from the bucket.
        kept_for_snapshots: blobs the current catalog no longer uses but a
            catalog snapshot in the bucket does; they stay.
        snapshots: catalog snapshots read.
        blocked: why no blob was deleted at all, or "".
        errors: ``(what, message)`` for each request that failed (the rest of
            that kind of work waits for the next cleanup).
        shares_deleted: keys of expired links' share objects deleted.
        inbox_deleted: keys left in long-expired upload requests' inboxes, deleted.
    """

    dry_run: bool
    older_than: timedelta
    aborted: list[UnfinishedUpload] = field(default_factory=list)
    reset: list[str] = field(default_factory=list)
    failed: list[FailedBlob] = field(default_factory=list)
    retried: bool = False
    deleted: list[UnusedBlob] = field(default_factory=list)
    kept_for_snapshots: int = 0
    snapshots: int = 0
    blocked: str = ""
    errors: list[tuple[str, str]] = field(default_factory=list)
    shares_deleted: list[str] = field(default_factory=list)
    inbox_deleted: list[str] = field(default_factory=list)

    @property
    def deleted_bytes(self) -> int:
        """Bytes of the deleted (or, in a dry run, deletable) blobs."""
        return sum(b.size for b in self.deleted)

    @property
    def ok(self) -> bool:
        """True if every step could run and no request failed."""
        return not self.blocked and not self.errors


class Cleaner:
    """Cleans up a vault's bucket and its catalog's upload states.

    Thread affinity: :meth:`run` blocks, in the calling thread (never the GUI
    thread: it lists the bucket and downloads every catalog snapshot).

    Attributes:
        vault: the vault whose catalog says which blobs are used.
        store: its bucket.
    """

    def __init__(
        self,
        vault: VaultBase,
        store: S3BlobStore,
        credentials: Credentials | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        """``credentials`` are the ones ``store`` was made with (masked in messages);
        ``clock`` gives the current aware UTC time (tests)."""
        self.vault = vault
        self.store = store
        self._credentials = credentials
        self._secrets = (
            (credentials.secret_access_key, credentials.session_token) if credentials else ()
        )
        self._clock: Clock = clock if clock is not None else partial(datetime.now, UTC)

    @classmethod
    def for_vault(cls, vault: VaultBase, **kwargs: Any) -> Cleaner:
        """A cleaner for the vault's saved remote and keys; :class:`NoRemote` if none is set."""
        from app.credentials import open_remote

        store, credentials = open_remote(vault.paths)
        return cls(vault, store, credentials, **kwargs)

    def run(
        self,
        *,
        older_than: timedelta = DEFAULT_AGE,
        dry_run: bool = False,
        retry_failed: bool = False,
    ) -> CleanupReport:
        """Abort stale uploads, reset stuck (and, if asked, failed) uploads, delete unused blobs.

        ``older_than``: unfinished multipart uploads started at least this long
        ago are aborted. ``retry_failed``: also list the blobs whose upload
        failed and put them back to ``pending``. ``dry_run``: change nothing,
        locally or in the bucket; the report lists what would change.

        Raises :class:`SyncBusy` while a sync of this vault runs, and
        :class:`StorageError` (message and hint from the service's error) when
        the bucket cannot be read; nothing has changed then. Failures after
        that are in the report.
        """
        if older_than < timedelta(0):
            raise ValueError("older_than must not be negative")
        lock = FileLock(self.vault.paths.data / ".sync.lock")
        try:
            # Exclusive: beside a sync, its fresh uploads would look stale and its
            # new blobs unused before the snapshot that names them is written.
            if lock.try_exclusive() is False:
                raise SyncBusy(
                    "A sync of this vault is running; cleanup cannot run beside it.",
                    "Wait for it to finish, then run `mediavault cleanup` again.",
                )
            return self._run(older_than, dry_run, retry_failed)
        finally:
            lock.close()

    # -- reading (nothing changes until _apply) --------------------------------------

    def _run(self, older_than: timedelta, dry_run: bool, retry_failed: bool) -> CleanupReport:
        report = CleanupReport(dry_run=dry_run, older_than=older_than)
        try:
            stale = self.store.unfinished_uploads(self._clock() - older_than)
            in_bucket = sorted(set(self.store.list()))
            snapshot_keys = list_snapshots(self.store, self._secrets)
            snapshot_hashes, report.blocked = self._snapshot_hashes(snapshot_keys)
        except RemoteError as exc:
            raise StorageError(f"Cannot clean up the bucket: {exc}", exc.hint) from exc
        report.snapshots = len(snapshot_keys)

        with self.vault.reading() as session:
            used = set(session.scalars(select(Version.blob_hash).distinct()))
            used.update(session.scalars(select(Blob.hash)))
            report.reset = list(
                session.scalars(
                    select(Blob.hash).where(Blob.remote_state == "uploading").order_by(Blob.hash)
                )
            )
        if retry_failed:
            report.failed = self._failed_blobs()

        unused = [h for h in in_bucket if h not in used and h not in snapshot_hashes]
        report.kept_for_snapshots = sum(
            1 for h in in_bucket if h not in used and h in snapshot_hashes
        )
        if unused and not snapshot_keys and not report.blocked:
            report.blocked = (
                "the bucket holds no catalog snapshot, so the catalog that uses its files "
                "may be on another computer; run `mediavault sync` first"
            )
        candidates: list[UnusedBlob] = []
        if not report.blocked:
            try:
                candidates = self._sized(unused)
            except RemoteError as exc:
                raise StorageError(f"Cannot clean up the bucket: {exc}", exc.hint) from exc

        if dry_run:
            report.aborted = stale
            report.deleted = candidates
        else:
            self._apply(report, stale, candidates, retry_failed)
        self._expired_shares(report, dry_run)
        log.info(
            "cleanup%s: %d uploads aborted, %d stuck reset, %d failed %s, "
            "%d unused blobs deleted (%d bytes), %d kept for %d snapshots%s",
            " (dry run)" if dry_run else "",
            len(report.aborted),
            len(report.reset),
            len(report.failed),
            "retried" if report.retried else "listed",
            len(report.deleted),
            report.deleted_bytes,
            report.kept_for_snapshots,
            report.snapshots,
            f"; nothing deleted: {report.blocked}" if report.blocked else "",
        )
        return report

    def _snapshot_hashes(self, keys: list[str]) -> tuple[set[str], str]:
        """Every blob hash the snapshots ``keys`` refer to, and "" or why one could not be read.

        Each snapshot is downloaded and checked by restore's own code into a
        scratch directory in the cache, read, and removed before the next.
        Raises :class:`RemoteError` when a download fails.
        """
        hashes: set[str] = set()
        cache = self.vault.paths.cache
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".cleanup-", dir=cache) as scratch:
            for number, key in enumerate(keys):
                data = Path(scratch) / str(number)
                data.mkdir()
                paths = VaultPaths(data=data, cache=data, config=data)
                try:
                    download_snapshot(self.store, key, paths, self._credentials)
                    hashes.update(_referenced(paths.catalog))
                except (StorageError, sqlite3.Error) as exc:
                    reason = exc.message if isinstance(exc, VaultError) else str(exc)
                    log.warning("cleanup: cannot read the catalog snapshot %s: %s", key, reason)
                    return set(), f"the catalog snapshot {key} cannot be read: {reason}"
                finally:
                    paths.catalog.unlink(missing_ok=True)
        return hashes, ""

    def _failed_blobs(self) -> list[FailedBlob]:
        with self.vault.reading() as session:
            rows = session.execute(
                select(Blob.hash, Blob.size, Blob.attempts, Blob.last_error)
                .where(Blob.remote_state == "failed")
                .order_by(Blob.hash)
            ).all()
            users: dict[str, list[tuple[int, bool]]] = {}
            for r in session.execute(
                select(Version.blob_hash, File.id, File.trash_id)
                .join(File, File.id == Version.file_id)
                .where(Version.blob_hash.in_([r.hash for r in rows]))
                .distinct()
                .order_by(File.id)
            ):
                users.setdefault(r.blob_hash, []).append((r.id, r.trash_id is not None))
        return [
            FailedBlob(
                r.hash,
                int(r.size),
                int(r.attempts),
                r.last_error or "",
                tuple(
                    self.vault.path_of("file", file_id) + (" (in the Trash)" if trashed else "")
                    for file_id, trashed in users.get(r.hash, [])
                ),
            )
            for r in rows
        ]

    def _sized(self, hashes: list[str]) -> list[UnusedBlob]:
        """The blobs ``hashes`` with their sizes (one HEAD each); ones gone meanwhile are left out."""
        found: list[UnusedBlob] = []
        for blob_hash in hashes:
            try:
                size = self.store.stat(blob_hash)
            except BlobNotFound:
                continue
            found.append(UnusedBlob(blob_hash, self.store.key(blob_hash), size))
        return found

    # -- shares --------------------------------------------------------------------

    def _expired_shares(self, report: CleanupReport, dry_run: bool) -> None:
        """Delete (or list, in a dry run) expired links' objects and long-expired inboxes."""
        from app.sharing import INBOX_GRACE, KIND_UPLOAD, LINK_KINDS
        from storage.share_objects import ShareBucket

        moment = self._clock().astimezone(UTC).replace(tzinfo=None)
        with self.vault.reading() as session:
            rows = session.execute(
                select(Share.kind, Share.object_key).where(
                    or_(
                        and_(
                            Share.kind.in_(LINK_KINDS),
                            or_(Share.expires_at <= moment, Share.revoked_at.is_not(None)),
                        ),
                        and_(Share.kind == KIND_UPLOAD, Share.expires_at <= moment - INBOX_GRACE),
                    )
                )
            ).all()
        links = {key for kind, key in rows if kind in LINK_KINDS}
        inboxes = tuple(key for kind, key in rows if kind == KIND_UPLOAD)
        if not rows:
            return  # no request at all for a vault that never shared
        bucket = ShareBucket(self.store, self._secrets)
        try:
            # One listing each: most expired links' objects are gone already (revoked).
            old_links = [o.key for o in bucket.list_shares() if o.key in links] if links else []
            leftovers = (
                [o.key for o in bucket.list_inbox() if o.key.startswith(inboxes)] if inboxes else []
            )
        except RemoteError as exc:
            report.errors.append(("shares", _message(exc)))
            return
        if dry_run:
            report.shares_deleted, report.inbox_deleted = old_links, leftovers
            return
        try:
            for key in old_links:
                bucket.delete(key)
                report.shares_deleted.append(key)
                log.info("cleanup: deleted the expired share object %s", key)
            for key in leftovers:
                bucket.delete(key)
                report.inbox_deleted.append(key)
                log.info("cleanup: deleted %s, left in an expired upload request", key)
        except RemoteError as exc:
            report.errors.append(("shares", _message(exc)))

    # -- changing --------------------------------------------------------------------

    def _apply(
        self,
        report: CleanupReport,
        stale: list[UnfinishedUpload],
        candidates: list[UnusedBlob],
        retry_failed: bool,
    ) -> None:
        with self.vault.writing() as session:
            # A crash mid-upload: the next sync resumes it (upload_id kept).
            session.execute(
                update(Blob).where(Blob.remote_state == "uploading").values(remote_state="pending")
            )
            if retry_failed:
                session.execute(
                    update(Blob)
                    .where(Blob.remote_state == "failed")
                    .values(remote_state="pending", attempts=0, last_error=None)
                )
        for blob_hash in report.reset:
            log.info("cleanup: %s was left uploading; back to pending", blob_hash[:12])
        report.retried = retry_failed
        try:
            for upload in stale:
                self._abort(upload)
                report.aborted.append(upload)
            self._delete(candidates, report)
        except RemoteError as exc:
            report.errors.append(("cleanup", _message(exc)))
            log.warning("cleanup stopped: %s", exc)

    def _abort(self, upload: UnfinishedUpload) -> None:
        """Abort one multipart upload (already gone counts as done); forget its id."""
        self.store.abort_upload(upload.key, upload.upload_id)
        with self.vault.writing() as session:
            # Its parts are gone: the next sync of that blob starts a new upload.
            session.execute(
                update(Blob).where(Blob.upload_id == upload.upload_id).values(upload_id=None)
            )
        log.info(
            "cleanup: aborted the unfinished upload of %s (started %s)",
            upload.key,
            upload.initiated.isoformat(),
        )

    def _delete(self, candidates: list[UnusedBlob], report: CleanupReport) -> None:
        """Delete the candidates the catalog still does not use, in batches."""
        by_hash = {b.hash: b for b in candidates}
        for batch in _chunks([b.hash for b in candidates], CHECK_BATCH):
            with self.vault.reading() as session:
                # Asked again: an import in another process may have reused the content.
                used = set(session.scalars(select(Blob.hash).where(Blob.hash.in_(batch))))
                used.update(
                    session.scalars(select(Version.blob_hash).where(Version.blob_hash.in_(batch)))
                )
            for blob_hash in batch:
                if blob_hash in used:
                    continue
                blob = by_hash[blob_hash]
                self.store.delete(blob_hash)
                report.deleted.append(blob)
                log.info("cleanup: deleted unused %s (%d bytes)", blob.key, blob.size)
