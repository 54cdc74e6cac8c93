"""Upload the vault's blobs to its bucket, then a snapshot of the catalog.

:class:`Syncer` is a facade over a vault and an :class:`~storage.s3.S3BlobStore`
(no Qt). One :meth:`Syncer.run`:

1. puts rows left ``uploading`` by a crash back to ``pending``, keeping their
   ``upload_id`` so that their multipart upload resumes, and (``audit``) puts
   back to ``pending`` every ``completed`` blob the bucket no longer lists;
2. walks the blobs ``pending`` or ``failed`` (failed ones are retried on every
   sync) in batches ordered by hash, and uploads them on a thread pool. A batch
   is marked ``uploading`` in one write transaction before it starts (blobs it
   does not get to, because the sync stops, go back to ``pending``); a
   multipart upload id is written to the row as soon as it exists.
   A batch of at least :data:`LIST_FROM` blobs first lists the bucket once
   (:meth:`~storage.s3.S3BlobStore.listed_from`), unless the page listed for
   an earlier batch reaches past its last hash: the blobs the page does not
   show are sent without the HEAD that otherwise asks whether the bucket has
   them already.
   Success: ``completed``, written for all the blobs finished meanwhile in one
   transaction every :data:`COMPLETE_INTERVAL` seconds by the thread running the
   sync (a crash before leaves them ``uploading``: the next sync finds them in
   the bucket and sends nothing). A refusal (or an error that outlived the store's
   retries): ``failed``, ``attempts + 1`` and ``last_error``. No connection at all:
   the blob goes back to ``pending`` and the sync stops as "offline": the blobs
   simply wait for the next one;
3. when no blob failed, uploads a gzip-compressed, consistent copy of the
   catalog (SQLite's backup API) to ``<prefix>/catalog/`` and keeps the newest
   :data:`KEEP_SNAPSHOTS` of them.

Error messages come from :func:`storage.s3.translate_error`, which never
includes a secret.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import re
import secrets
import sqlite3
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import func, select, update

from app.catalog.models import Blob
from app.core import FileLock, VaultBase
from app.errors import VaultError
from storage.errors import ChecksumMismatch, RemoteError, SourceError, StoreError
from storage.retry import with_retries
from storage.s3 import ListedBlobs, S3BlobStore, translate_error

log = logging.getLogger(__name__)

BATCH = 256  # blobs selected (and waited for) at a time
AUDIT_PAGE = 10_000  # completed hashes compared with the bucket's listing at a time
# From this many blobs in a batch, one listing of the bucket replaces the HEAD
# each upload would otherwise start with (for the blobs it shows are absent).
LIST_FROM = 16
KEEP_SNAPSHOTS = 5
PROGRESS_INTERVAL = 0.1  # seconds: at most 10 progress reports a second
# Seconds between the transactions that mark finished uploads completed: the
# catalog shows progress that soon, at a few writes a second instead of one a blob.
COMPLETE_INTERVAL = 0.1
SNAPSHOT_SHA256 = "mediavault-sha256"  # object metadata: hash of the uncompressed copy

UP_TO_DATE = "up to date"
SYNCING = "syncing"
OFFLINE = "offline"
ERROR = "error"
CANCELLED = "cancelled"

# Catalog snapshot names, newest last in key order (app.restore reads them too).
SNAPSHOT_RE = re.compile(r"^catalog-(\d{8}T\d{6})-[0-9a-f]+\.sqlite3\.gz$")


@dataclass(frozen=True)
class SyncProgress:
    """Where a sync is.

    Attributes:
        status: "syncing" while running; at the end "up to date", "offline",
            "error" (some blob failed) or "cancelled".
        files_done: blobs handled so far (uploaded, already there, or failed).
        files_total: blobs this sync set out to upload.
        bytes_done: bytes of handled blobs (and of parts confirmed so far).
        bytes_total: bytes of all blobs this sync set out to upload.
        rate_bytes_per_s: bytes sent per second since the start.
        eta_seconds: estimated seconds left, None while unknown.
    """

    status: str
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    rate_bytes_per_s: float
    eta_seconds: float | None


@dataclass
class SyncReport:
    """What a sync did.

    Attributes:
        status: "up to date", "offline", "error" or "cancelled".
        uploaded: blobs sent (in whole or the rest of a resumed upload).
        uploaded_bytes: bytes sent.
        already_present: blobs the bucket already held (nothing sent).
        failed: ``(hash, message)`` for each blob that failed (retried next sync).
        skipped: blobs not uploaded because they have no local copy.
        lost_remote: blobs marked uploaded that the bucket no longer held (put
            back to pending: sent again if still here, else among ``skipped``).
        snapshot_key: the key of the catalog snapshot uploaded, or None.
        snapshot_error: why the snapshot could not be made, or "".
        snapshot_seconds: how long making (and sending) the snapshot took.
        inbox_received: files imported from upload requests (:mod:`app.inbox`).
        inbox_refused: uploads refused and deleted (too big, too late).
        inbox_errors: ``(object key, message)`` for arrivals left for the next sync.
    """

    status: str = UP_TO_DATE
    uploaded: int = 0
    uploaded_bytes: int = 0
    already_present: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: int = 0
    lost_remote: int = 0
    snapshot_key: str | None = None
    snapshot_error: str = ""
    snapshot_seconds: float = 0.0
    inbox_received: int = 0
    inbox_refused: int = 0
    inbox_errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True if everything was uploaded (and the snapshot, if attempted, worked)."""
        return self.status == UP_TO_DATE and not self.failed and not self.snapshot_error


class _Stop(Exception):
    """Raised inside a worker when the sync stops before the blob started."""


def remote_call(what: str, fn: Callable[[], Any], secrets: tuple[str, ...] = ()) -> Any:
    """Run one bucket request with retries; botocore errors become :class:`RemoteError`.

    ``what`` starts the error's message ("list the catalog snapshots"); any of
    ``secrets`` that appears in it is masked.
    """
    try:
        return with_retries(fn)
    except (BotoCoreError, ClientError, ConnectionError) as exc:
        raise translate_error(exc, what, secrets=secrets) from exc


def list_snapshots(store: S3BlobStore, secrets: tuple[str, ...] = ()) -> list[str]:
    """The keys of the catalog snapshots in the store's bucket, oldest first."""
    bucket, prefix = store.spec.bucket, store.spec.key("catalog") + "/"
    found: list[tuple[str, datetime, str]] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if token:
            kwargs["ContinuationToken"] = token
        page = remote_call(
            "list the catalog snapshots", partial(store.client.list_objects_v2, **kwargs), secrets
        )
        for item in page.get("Contents", []):
            key = str(item["Key"])
            match = SNAPSHOT_RE.match(key[len(prefix) :])
            if match:
                found.append((match.group(1), item["LastModified"], key))
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            break
    return [key for _, _, key in sorted(found)]


class SyncBusy(VaultError):
    """Another sync of the same vault is running."""


class Syncer:
    """Uploads a vault's pending blobs and catalog snapshots to its bucket.

    Thread affinity: :meth:`run` blocks and uses ``workers`` threads; ``progress``
    is called from those threads, one call at a time. :meth:`pause`,
    :meth:`resume` and setting ``cancel`` may come from any thread: workers
    check them between blobs (a blob being sent is finished first).
    """

    def __init__(
        self,
        vault: VaultBase,
        store: S3BlobStore,
        *,
        workers: int = 4,
        progress: Callable[[SyncProgress], None] | None = None,
        cancel: threading.Event | None = None,
        keep_snapshots: int = KEEP_SNAPSHOTS,
        audit: bool = True,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        if keep_snapshots < 1:
            raise ValueError("keep_snapshots must be at least 1")
        self.vault = vault
        self.store = store
        self.workers = workers
        self.keep_snapshots = keep_snapshots
        self.audit = audit
        self._progress = progress
        self._cancel = cancel if cancel is not None else threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()  # offline: no new blob starts
        self._lock = threading.Lock()
        self._last_emit = 0.0
        self._started = 0.0
        self._files_done = 0
        self._files_total = 0
        self._bytes_done = 0
        self._bytes_total = 0
        self._sent = 0

    @classmethod
    def for_vault(cls, vault: VaultBase, **kwargs: Any) -> Syncer:
        """A syncer for the vault's saved remote and keys; :class:`NoRemote` if none is set."""
        from app.credentials import open_remote

        return cls(vault, open_remote(vault.paths)[0], **kwargs)

    # -- control -------------------------------------------------------------------

    def pause(self) -> None:
        """Start no new blob until :meth:`resume` (blobs being sent finish)."""
        self._running.clear()

    def resume(self) -> None:
        """Carry on after :meth:`pause`."""
        self._running.set()

    def _should_stop(self) -> bool:
        return self._stop.is_set() or self._cancel.is_set()

    def _wait_if_paused(self) -> None:
        while not self._running.wait(0.1):
            if self._should_stop():
                return

    # -- catalog updates (each its own short write transaction) ----------------------

    def _set(self, blob_hash: str, **values: Any) -> None:
        with self.vault.writing() as session:
            session.execute(update(Blob).where(Blob.hash == blob_hash).values(**values))

    # The two writes every blob makes go to the driver directly (through the ORM's
    # bulk UPDATE they cost ~0.5 ms each, a third of a small file's upload), and
    # once per batch: claiming a whole batch and marking the finished ones completed
    # together (one writer, the thread that runs the sync).

    def _claim(self, hashes: list[str]) -> set[str]:
        """Mark those of ``hashes`` that still wait for upload and are here ``uploading``,
        in one transaction; returns them. (A crash leaves them ``uploading``, which the
        next run puts back to pending.)"""
        if not hashes:
            return set()
        marks = ", ".join("?" * len(hashes))
        with self.vault.writing() as session:
            connection = session.connection()
            claimed = {
                str(row[0])
                for row in connection.exec_driver_sql(
                    f"SELECT hash FROM blob WHERE hash IN ({marks})"
                    " AND remote_state IN ('pending', 'failed') AND local_state = 'present'",
                    tuple(hashes),
                )
            }
            if claimed:
                connection.exec_driver_sql(
                    "UPDATE blob SET remote_state = 'uploading' WHERE hash = ?",
                    [(h,) for h in claimed],
                )
        return claimed

    def _release(self, hashes: list[str]) -> None:
        """Put claimed blobs that were not started (the sync stopped) back to pending."""
        if hashes:
            with self.vault.writing() as session:
                session.connection().exec_driver_sql(
                    "UPDATE blob SET remote_state = 'pending'"
                    " WHERE hash = ? AND remote_state = 'uploading'",
                    [(h,) for h in hashes],
                )

    def _completed(self, hashes: list[str]) -> None:
        """Mark blobs ``completed`` (each is in the bucket, verified), in one transaction."""
        if hashes:
            with self.vault.writing() as session:
                session.connection().exec_driver_sql(
                    "UPDATE blob SET remote_state = 'completed', upload_id = NULL,"
                    " last_error = NULL WHERE hash = ?",
                    [(h,) for h in hashes],
                )

    def _fail(self, blob_hash: str, message: str) -> None:
        self._set(
            blob_hash,
            remote_state="failed",
            attempts=Blob.attempts + 1,
            last_error=message,
        )

    # -- progress --------------------------------------------------------------------

    def _emit(self, status: str, force: bool = False) -> None:
        if self._progress is None:
            return
        with self._lock:
            clock = time.monotonic()
            if not force and clock - self._last_emit < PROGRESS_INTERVAL:
                return
            self._last_emit = clock
            elapsed = max(clock - self._started, 1e-6)
            rate = self._sent / elapsed
            left = max(self._bytes_total - self._bytes_done, 0)
            eta = left / rate if rate > 0 else (0.0 if left == 0 else None)
            snapshot = SyncProgress(
                status,
                self._files_done,
                self._files_total,
                self._bytes_done,
                self._bytes_total,
                rate,
                eta,
            )
            self._progress(snapshot)

    def _add_bytes(self, n: int) -> None:
        with self._lock:
            self._bytes_done += n
            self._sent += n
        self._emit(SYNCING)

    # -- the sync --------------------------------------------------------------------

    def run(self, *, snapshot: bool = True, force_snapshot: bool = False) -> SyncReport:
        """Upload every pending or failed blob, then (if none failed) snapshot the catalog.

        ``snapshot`` False skips the catalog snapshot. A snapshot identical to the
        newest one in the bucket is not uploaded again unless ``force_snapshot``.
        Never raises for a blob's failure (see the report); raises
        :class:`VaultError` when the catalog itself cannot be used, and
        :class:`SyncBusy` when another sync of this vault is running.
        """
        lock = FileLock(self.vault.paths.data / ".sync.lock")
        try:
            # Exclusive: a second sync would put the first one's uploads back to pending.
            if lock.try_exclusive() is False:
                raise SyncBusy(
                    "A sync or cleanup of this vault is already running.",
                    "Wait for it to finish (in the window, or `mediavault sync` or "
                    "`mediavault cleanup` in a terminal).",
                )
            return self._run(snapshot=snapshot, force_snapshot=force_snapshot)
        finally:
            lock.close()

    def _run(self, *, snapshot: bool, force_snapshot: bool) -> SyncReport:
        self._stop.clear()
        report = SyncReport()
        report_lock = threading.Lock()
        with self.vault.writing() as session:
            # A crash mid-upload: try again, resuming the multipart upload (upload_id kept).
            session.execute(
                update(Blob).where(Blob.remote_state == "uploading").values(remote_state="pending")
            )
        if self.audit:
            try:
                report.lost_remote = self._audit()
            except RemoteError as exc:
                log.warning("could not list the bucket to check its copies: %s", exc)
                if exc.kind == "unreachable":
                    self._stop.set()  # offline: nothing to do this time
        if not self._stop.is_set():
            # Files sent through upload requests join the vault first: this sync uploads them.
            from app.inbox import collect_inbox

            inbox = collect_inbox(self.vault, self.store)
            report.inbox_received, report.inbox_refused = len(inbox.imported), len(inbox.refused)
            report.inbox_errors = inbox.errors
        waiting = Blob.remote_state.in_(("pending", "failed"))
        with self.vault.reading() as session:
            count, total = session.execute(
                select(func.count(), func.coalesce(func.sum(Blob.size), 0)).where(
                    waiting, Blob.local_state == "present"
                )
            ).one()
            report.skipped = int(
                session.scalar(select(func.count()).where(waiting, Blob.local_state != "present"))
                or 0
            )
        self._started = time.monotonic()
        self._files_done, self._files_total = 0, int(count)
        self._bytes_done, self._bytes_total, self._sent = 0, int(total), 0
        self._emit(SYNCING, force=True)

        done: list[str] = []  # uploaded, not yet marked completed
        unstarted: list[str] = []  # claimed, but the sync stopped before they started

        def one(blob_hash: str, size: int, upload_id: str | None, absent: bool) -> None:
            self._wait_if_paused()
            if self._should_stop():
                with report_lock:
                    unstarted.append(blob_hash)
                return
            sent = 0
            reported = False

            def on_bytes(n: int) -> None:
                nonlocal sent, reported
                sent += n
                reported = True
                self._add_bytes(n)

            def persist(new_id: str) -> None:
                self._set(blob_hash, upload_id=new_id)

            try:
                self.store.put(
                    blob_hash,
                    self.vault.blobs.path(blob_hash),
                    size,
                    progress=on_bytes,
                    upload_id=upload_id,
                    on_upload_id=persist,
                    absent=absent,
                )
            except RemoteError as exc:
                if exc.kind == "unreachable":
                    self._set(blob_hash, remote_state="pending")
                    self._stop.set()
                    self._undo_bytes(sent)
                    return
                message = str(exc) + (f" ({exc.hint})" if exc.hint else "")
                self._failed(report, report_lock, blob_hash, message, sent)
                return
            except ChecksumMismatch:
                message = (
                    f"the local copy of {blob_hash[:12]}… is damaged "
                    "(run `mediavault verify`); it was not uploaded"
                )
                self._failed(report, report_lock, blob_hash, message, sent)
                return
            except (SourceError, StoreError) as exc:
                self._failed(report, report_lock, blob_hash, f"could not read it: {exc}", sent)
                return
            except BaseException:
                self._set(blob_hash, remote_state="pending")
                raise
            with report_lock:
                done.append(blob_hash)
                if reported:
                    report.uploaded += 1
                    report.uploaded_bytes += sent
                else:
                    report.already_present += 1
            with self._lock:
                self._files_done += 1
                self._bytes_done += size - sent
            self._emit(SYNCING)

        def flush() -> None:
            with report_lock:
                finished, done[:] = list(done), []
                stopped, unstarted[:] = list(unstarted), []
            self._completed(finished)
            self._release(stopped)

        def settle(futures: list[Future[None]]) -> None:
            """Wait for ``futures``, marking the finished blobs completed as they go."""
            waiting_for = set(futures)
            while waiting_for:
                over, waiting_for = wait(waiting_for, timeout=COMPLETE_INTERVAL)
                for future in over:
                    future.result()  # a bug in a worker surfaces here
                flush()

        after = ""
        listed: ListedBlobs | None = None  # the last listing page, while it reaches
        # Batches submitted and not yet waited for: the next batch is selected,
        # claimed, listed and queued while the one before it uploads, so the
        # workers never wait for this thread between batches.
        queued: deque[list[Future[None]]] = deque()
        with ThreadPoolExecutor(self.workers, thread_name_prefix="sync") as pool:
            try:
                while not self._should_stop():
                    with self.vault.reading() as session:
                        batch = session.execute(
                            select(Blob.hash, Blob.size, Blob.upload_id)
                            .where(waiting, Blob.local_state == "present", Blob.hash > after)
                            .order_by(Blob.hash)
                            .limit(BATCH)
                        ).all()
                    if not batch:
                        break
                    after = batch[-1].hash
                    claimed = self._claim([r.hash for r in batch])
                    batch = [r for r in batch if r.hash in claimed]
                    # Absent per the listing: no HEAD before (a small file's PUT costs the
                    # service about what that HEAD does); the others are asked one by one.
                    hashes = [r.hash for r in batch]
                    if hashes and (listed is None or not listed.covers(hashes[-1])):
                        listed = (
                            self.store.listed_from(hashes[0]) if len(hashes) >= LIST_FROM else None
                        )
                    absent = listed.absent(hashes) if listed else set()
                    queued.append(
                        [
                            pool.submit(one, r.hash, r.size, r.upload_id, r.hash in absent)
                            for r in batch
                        ]
                    )
                    while len(queued) > 1:
                        settle(queued[0])
                        queued.popleft()
                while queued:
                    settle(queued[0])
                    queued.popleft()
            finally:
                for futures in queued:
                    for future in futures:
                        future.exception()  # wait for all: none is left claimed, untold
                flush()

        if self._stop.is_set():
            report.status = OFFLINE
        elif self._cancel.is_set():
            report.status = CANCELLED
        elif report.failed:
            report.status = ERROR
        elif snapshot:
            begun = time.monotonic()
            try:
                report.snapshot_key = self.snapshot(force=force_snapshot)
            except RemoteError as exc:
                if exc.kind == "unreachable":
                    report.status = OFFLINE
                else:
                    report.status = ERROR
                report.snapshot_error = str(exc)
            except (OSError, sqlite3.Error) as exc:
                report.status = ERROR
                report.snapshot_error = f"could not copy the catalog: {exc}"
            report.snapshot_seconds = time.monotonic() - begun
        self._emit(report.status, force=True)
        log.info(
            "sync %s: %d uploaded (%d bytes), %d already there, %d failed, snapshot %s",
            report.status,
            report.uploaded,
            report.uploaded_bytes,
            report.already_present,
            len(report.failed),
            report.snapshot_key or "none",
        )
        return report

    def _audit(self) -> int:
        """Put back to pending every blob marked completed that the bucket does not list.

        A bucket emptied or pruned behind the vault's back must not be trusted
        forever: a blob still here goes up again, one that was evicted shows as
        skipped (no copy anywhere) instead of as safely stored. One listing of the
        blob prefix (a request per 1,000 blobs), walked beside the catalog's
        completed hashes in the same order, so memory stays flat for any vault
        size. Returns how many were put back.
        """
        listed = self.store.list()  # S3 lists keys in ascending order: hash order here
        remote = next(listed, None)
        gone: list[str] = []
        lost = 0
        after = ""
        while True:
            with self.vault.reading() as session:
                page = session.scalars(
                    select(Blob.hash)
                    .where(Blob.remote_state == "completed", Blob.hash > after)
                    .order_by(Blob.hash)
                    .limit(AUDIT_PAGE)
                ).all()
            if not page:
                break
            after = page[-1]
            for blob_hash in page:
                while remote is not None and remote < blob_hash:
                    remote = next(listed, None)
                if remote != blob_hash:
                    gone.append(blob_hash)
            lost += self._pending_again(gone)
            gone = []
        if lost:
            log.warning("%d blobs marked uploaded are missing from the bucket", lost)
        return lost

    def _pending_again(self, hashes: list[str]) -> int:
        for start in range(0, len(hashes), BATCH):
            with self.vault.writing() as session:
                session.execute(
                    update(Blob)
                    .where(
                        Blob.hash.in_(hashes[start : start + BATCH]),
                        Blob.remote_state == "completed",
                    )
                    .values(remote_state="pending", upload_id=None)
                )
        return len(hashes)

    def _undo_bytes(self, sent: int) -> None:
        with self._lock:
            self._bytes_done -= sent

    def _failed(
        self,
        report: SyncReport,
        report_lock: threading.Lock,
        blob_hash: str,
        message: str,
        sent: int,
    ) -> None:
        self._fail(blob_hash, message)
        log.warning("upload of %s failed: %s", blob_hash[:12], message)
        with report_lock:
            report.failed.append((blob_hash, message))
        with self._lock:
            self._files_done += 1
        self._undo_bytes(sent)
        self._emit(SYNCING)

    # -- catalog snapshots -----------------------------------------------------------

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        return remote_call(what, fn)

    def snapshots(self) -> list[str]:
        """The keys of the catalog snapshots in the bucket, oldest first."""
        return list_snapshots(self.store)

    def snapshot(self, *, force: bool = False) -> str | None:
        """Upload a gzip-compressed, consistent copy of the catalog; prune old ones.

        Returns the new key, or None when the catalog is the same as in the
        newest snapshot (and ``force`` is False). Raises :class:`RemoteError`,
        :class:`OSError` or :class:`sqlite3.Error`.
        """
        cache = self.vault.paths.cache
        cache.mkdir(parents=True, exist_ok=True)
        fd, copy_name = tempfile.mkstemp(prefix=".catalog-", suffix=".sqlite3", dir=cache)
        os.close(fd)
        copy = Path(copy_name)
        packed = copy.with_name(copy.name + ".gz")
        try:
            source = sqlite3.connect(self.vault.paths.catalog)
            try:
                target = sqlite3.connect(copy)
                try:
                    source.backup(target)
                finally:
                    target.close()
            finally:
                source.close()
            digest = hashlib.sha256()
            with open(copy, "rb") as raw, gzip.GzipFile(packed, "wb", mtime=0) as out:
                while chunk := raw.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
            sha = digest.hexdigest()
            existing = self.snapshots()
            if existing and not force and self._snapshot_sha(existing[-1]) == sha:
                return None
            if existing and self.vault.is_empty():
                # A new computer's first start, bucket connected but not yet restored:
                # its empty catalog must not become the newest, the one restore picks.
                log.warning("snapshot skipped: the vault is empty and the bucket has a catalog")
                return None
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            key = self.store.spec.key(
                "catalog", f"catalog-{stamp}-{secrets.token_hex(4)}.sqlite3.gz"
            )
            self.store.put_file(key, packed, metadata={SNAPSHOT_SHA256: sha})
        finally:
            copy.unlink(missing_ok=True)
            packed.unlink(missing_ok=True)
        self._prune(key)
        return key

    def _snapshot_sha(self, key: str) -> str:
        head = self._call(
            "look up the newest catalog snapshot",
            lambda: self.store.client.head_object(Bucket=self.store.spec.bucket, Key=key),
        )
        return str(head.get("Metadata", {}).get(SNAPSHOT_SHA256, ""))

    def _prune(self, newest: str) -> None:
        """Delete all but the newest ``keep_snapshots`` snapshots (``newest`` is kept)."""
        keys = [k for k in self.snapshots() if k != newest] + [newest]
        for key in keys[: max(len(keys) - self.keep_snapshots, 0)]:
            self._call(
                "delete an old catalog snapshot",
                partial(self.store.client.delete_object, Bucket=self.store.spec.bucket, Key=key),
            )
