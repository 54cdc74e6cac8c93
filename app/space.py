"""Downloading and space: evicting local copies that the bucket holds, and fetching them back.

A blob's ``local_state`` is ``present`` (its file is in ``blobs/ab/<hash>``) or
``evicted`` (only the bucket has it). Eviction is safe by construction:

* only blobs whose ``remote_state`` is ``completed`` are candidates, and the
  bucket is asked (``stat``) to confirm it holds the object at its full size
  right before the local file goes;
* the content of a pinned (``keep_on_device``) live file is never evicted;
* the catalog says ``evicted`` (committed) before the file is unlinked. A crash
  in between leaves a file that is simply there: :meth:`SpaceOps.fetch` finds
  it, checks its hash and marks it present again without downloading, and
  verify only re-hashes ``present`` blobs.

Fetching downloads into ``blobs/.tmp/`` (cleared on open after a crash), where
the store verifies the SHA-256, then renames into place and only then marks the
blob ``present``. A damaged or replaced object in the bucket never lands.
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from app.catalog.models import Blob
from app.core import VaultBase
from app.errors import BlobMissing, NotFound, StorageError, VaultError
from storage.durable import fsync_path
from storage.errors import BlobNotFound, ChecksumMismatch, RemoteError, StoreError
from storage.local import StagedBlob

NO_REMOTE_HINT = "Connect the vault to its bucket (mediavault remote) to fetch it."
FETCH_BATCH = 128  # blobs made durable and marked present together by fetch_many
FETCH_BATCH_BYTES = 64 << 20  # ... or fewer, once they hold this many bytes


class RemoteStore(Protocol):
    """What space management needs from the bucket (``storage.s3.S3BlobStore`` fits)."""

    def stat(self, blob_hash: str) -> int:
        """The object's size; raises ``BlobNotFound`` when absent."""
        ...

    def download(
        self, blob_hash: str, target: Path, progress: Callable[[int], None] | None = None
    ) -> None:
        """Fetch the blob into ``target``, verified; raises ``ChecksumMismatch`` when damaged.

        ``progress(n)`` is called with each number of bytes received.
        """
        ...


class BatchRemoteStore(RemoteStore, Protocol):
    """A bucket that can download without making each blob durable on its own."""

    def download(
        self,
        blob_hash: str,
        target: Path,
        progress: Callable[[int], None] | None = None,
        *,
        durable: bool = True,
    ) -> None:
        """As :meth:`RemoteStore.download`; ``durable`` False skips flush and rename
        (``target`` is then written directly and removed unless verified)."""
        ...


def _fetch_error(exc: StoreError | OSError, label: str) -> VaultError:
    """What a failed download of ``label``'s content means to the user."""
    if isinstance(exc, ChecksumMismatch):
        return BlobMissing(
            f"The bucket's copy of {label} is damaged or was replaced (checksum mismatch);"
            " it was not used.",
            "Run `mediavault verify`; another device may still have the content.",
        )
    if isinstance(exc, BlobNotFound):
        return BlobMissing(
            f"The content of {label} is neither on this computer nor in the bucket.",
            "Another device may still have it; otherwise restore it from a backup.",
        )
    if isinstance(exc, RemoteError):
        return StorageError(f"Cannot fetch {label} from the bucket: {exc}", exc.hint)
    if isinstance(exc, StoreError):
        return StorageError(f"Cannot fetch {label}: {exc}")
    return StorageError(f"Cannot store {label}: {exc.strerror or exc}.")


@dataclass
class SpaceReport:
    """What a :meth:`SpaceOps.free_up_space` run did.

    Attributes:
        evicted: blobs whose local copy was removed.
        freed_bytes: their total size.
        kept_not_uploaded: blobs kept because the bucket does not have them yet.
        kept_pinned: blobs kept because a file kept on this device uses them.
        kept_unconfirmed: blobs kept because the bucket did not confirm its copy.
        local_bytes: bytes of content on this computer after the run.
        error: why the run stopped early (e.g. the bucket is unreachable), or "".
        evicted_hashes: the blobs evicted, in the order they went.
    """

    evicted: int = 0
    freed_bytes: int = 0
    kept_not_uploaded: int = 0
    kept_pinned: int = 0
    kept_unconfirmed: int = 0
    local_bytes: int = 0
    error: str = ""
    evicted_hashes: list[str] = field(default_factory=list)


_locks_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}


def _lock_for(path: Path) -> threading.Lock:
    """One lock per blob file in this process, so a blob is fetched once at a time."""
    with _locks_guard:
        return _locks.setdefault(str(path), threading.Lock())


# Blobs used by the current version of a pinned live file.
_PINNED = (
    "SELECT v.blob_hash FROM file f JOIN version v ON v.id = f.current_version_id"
    " WHERE f.keep_on_device = 1 AND f.trash_id IS NULL"
)


class SpaceOps(VaultBase):
    """Mixin: freeing up space, keeping files on this device, fetching evicted content.

    ``remote_store`` is the bucket, set by whoever configures the remote; while
    it is None, evicted content cannot be fetched (:class:`BlobMissing`).
    """

    remote_store: RemoteStore | None = None

    # -- fetch --------------------------------------------------------------

    def fetch(
        self,
        blob_hash: str,
        store: RemoteStore | None = None,
        name: str = "",
        progress: Callable[[int], None] | None = None,
    ) -> Path:
        """Make the blob's content local (downloading it if evicted) and return its path.

        ``store`` defaults to :attr:`remote_store`; ``name`` names the content in
        messages; ``progress(n)`` is called with each number of bytes downloaded. Raises :class:`NotFound` for an unknown blob, :class:`BlobMissing`
        when it is evicted and no bucket is connected, or the bucket's copy is
        absent or damaged (the blob stays evicted, nothing is left behind), and
        :class:`StorageError` when the bucket or the disk fails.
        """
        label = name or f"{blob_hash[:12]}…"
        target = self.blobs.path(blob_hash)
        with _lock_for(target):
            with self.reading() as session:
                blob = session.get(Blob, blob_hash)
                if blob is None:
                    raise NotFound(f"The content of {label} is not in the catalog.")
                local_state, remote_state = blob.local_state, blob.remote_state
            if local_state == "present" and target.is_file():
                return target
            if local_state == "evicted" and self._still_there(blob_hash, target):
                self._mark_present(blob_hash)  # left by a crash during eviction: intact
                return target
            if remote_state != "completed":
                raise BlobMissing(
                    f"The content of {label} is not on this computer.",
                    "Run `mediavault verify`; restore it from a backup if you have one.",
                )
            store = store if store is not None else self.remote_store
            if store is None:
                raise BlobMissing(
                    f"The content of {label} is in the bucket only; connect to fetch it.",
                    NO_REMOTE_HINT,
                )
            self._download(store, blob_hash, target, label, progress)
            self._mark_present(blob_hash)
            return target

    def _still_there(self, blob_hash: str, target: Path) -> bool:
        try:
            return target.is_file() and self.blobs.hash_of(blob_hash) == blob_hash
        except (StoreError, OSError):
            return False

    def _download(
        self,
        store: RemoteStore,
        blob_hash: str,
        target: Path,
        label: str,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        temp = self.blobs.temp_dir / f"{os.urandom(12).hex()}.fetch"
        try:
            store.download(blob_hash, temp, progress)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, target)
            fsync_path(target.parent, directory=True)
        except (StoreError, OSError) as exc:
            raise _fetch_error(exc, label) from exc
        finally:
            temp.unlink(missing_ok=True)
            temp.with_suffix(".partial").unlink(missing_ok=True)

    def fetch_many(
        self,
        blob_hashes: Iterable[str],
        store: BatchRemoteStore | None = None,
        *,
        workers: int = 4,
        done: Callable[[str, int, VaultError | None], None] | None = None,
    ) -> dict[str, VaultError]:
        """Make many blobs' content local, downloading the evicted ones concurrently.

        What :meth:`fetch` does for one blob, for many at once and with the same
        guarantees, at a fraction of the cost per blob: up to ``workers``
        downloads run at once into temp files in ``blobs/.tmp/``, each verified
        against its SHA-256 while it streams; then, per batch of up to
        :data:`FETCH_BATCH` blobs (or :data:`FETCH_BATCH_BYTES`), the local
        store's :meth:`~storage.local.LocalBlobStore.publish` makes the data
        durable (one ``syncfs`` for a large batch), renames it into place and
        syncs the directories, and only then does one catalog transaction mark
        the batch ``present``. A crash leaves temp files (removed on the next
        open) and rows still ``evicted``.

        ``done(hash, size, error)`` is called once per blob from this thread:
        with ``error`` None once its content is local (committed), else with
        what :meth:`fetch` would raise. Returns the failures by hash; never
        raises for one blob's failure. Without ``store``, each blob goes through
        :meth:`fetch` (and :attr:`remote_store`) one at a time.
        """
        ordered = list(dict.fromkeys(blob_hashes))
        failures: dict[str, VaultError] = {}

        def fail(blob_hash: str, size: int, error: VaultError) -> None:
            failures[blob_hash] = error
            if done is not None:
                done(blob_hash, size, error)

        states: dict[str, tuple[str, str, int]] = {}
        with self.reading() as session:
            connection = session.connection()
            for start in range(0, len(ordered), 500):
                chunk = ordered[start : start + 500]
                for blob_hash, local_state, remote_state, size in connection.exec_driver_sql(
                    "SELECT hash, local_state, remote_state, size FROM blob"
                    f" WHERE hash IN ({', '.join('?' * len(chunk))})",
                    tuple(chunk),
                ):
                    states[blob_hash] = (local_state, remote_state, int(size))
        wanted: list[tuple[str, int]] = []
        root = str(self.blobs.root)
        for blob_hash in ordered:
            state = states.get(blob_hash)
            if (
                store is not None
                and state is not None
                and state[0] == "evicted"
                and state[1] == "completed"
                # A file left by a crash during eviction: the single path re-hashes it.
                and not os.path.exists(os.path.join(root, blob_hash[:2], blob_hash))
            ):
                wanted.append((blob_hash, state[2]))
                continue
            # Present, unknown, not in the bucket, left behind, or no batch-capable
            # store given: the single path handles (and explains) it.
            size = state[2] if state else 0
            try:
                self.fetch(blob_hash, store)
            except VaultError as exc:
                fail(blob_hash, size, exc)
            else:
                if done is not None:
                    done(blob_hash, size, None)
        if not wanted or store is None:
            return failures
        remote = store

        def download(blob_hash: str, size: int) -> StagedBlob:
            temp = self.blobs.temp_dir / f"{os.urandom(12).hex()}.fetch"
            try:
                remote.download(blob_hash, temp, durable=False)
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
            return StagedBlob(temp, blob_hash, size, b"")

        batch: list[tuple[StagedBlob, int]] = []
        batch_bytes = 0

        def commit() -> None:
            nonlocal batch, batch_bytes
            staged = [s for s, _ in batch]
            sizes = [size for _, size in batch]
            batch, batch_bytes = [], 0
            try:
                self._publish_present(staged)
            except (StoreError, OSError) as exc:
                for s, size in zip(staged, sizes, strict=True):
                    fail(s.blob_hash, size, _fetch_error(exc, f"{s.blob_hash[:12]}…"))
                return
            if done is not None:
                for s, size in zip(staged, sizes, strict=True):
                    done(s.blob_hash, size, None)

        window: deque[tuple[str, int, Future[StagedBlob]]] = deque()
        with ThreadPoolExecutor(max(1, workers), thread_name_prefix="fetch") as pool:
            try:
                items = iter(wanted)
                while True:
                    # Keep the pool busy while this thread publishes and commits.
                    while len(window) < max(1, workers) * 4:
                        item = next(items, None)
                        if item is None:
                            break
                        window.append((*item, pool.submit(download, *item)))
                    if not window:
                        break
                    blob_hash, size, future = window.popleft()
                    try:
                        staged = future.result()
                    except (StoreError, OSError) as exc:
                        fail(blob_hash, size, _fetch_error(exc, f"{blob_hash[:12]}…"))
                        continue
                    batch.append((staged, size))
                    batch_bytes += size
                    if len(batch) >= FETCH_BATCH or batch_bytes >= FETCH_BATCH_BYTES:
                        commit()
                if batch:
                    commit()
            finally:
                for _, _, future in window:
                    future.cancel()
                for _, _, future in window:
                    if not future.cancelled() and future.exception() is None:
                        future.result().temp.unlink(missing_ok=True)
                self.blobs.discard([s for s, _ in batch])
        return failures

    def _publish_present(self, staged: list[StagedBlob]) -> None:
        """Data durable and renamed into place, then one transaction marks it ``present``.

        Holds the blobs' fetch locks (in hash order, so two batches cannot
        deadlock) across both steps: an eviction of the same blob commits and
        unlinks under its lock, so it cannot unlink a file this batch has just
        put in place and is about to mark present.
        """
        locks = [_lock_for(self.blobs.path(h)) for h in sorted({s.blob_hash for s in staged})]
        for lock in locks:
            lock.acquire()
        try:
            self.blobs.publish(staged)
            with self.writing() as session:
                session.connection().exec_driver_sql(
                    "UPDATE blob SET local_state = 'present' WHERE hash = ?",
                    [(s.blob_hash,) for s in staged],
                )
        finally:
            for lock in reversed(locks):
                lock.release()

    def _mark_present(self, blob_hash: str) -> None:
        with self.writing() as session:
            session.execute(
                update(Blob).where(Blob.hash == blob_hash).values(local_state="present")
            )

    def _fetch_missing(self, blob_hash: str, name: str) -> None:
        """Called when a blob's file is absent: fetch it if it was evicted, else BlobMissing."""
        try:
            self.fetch(blob_hash, name=name)
        except NotFound as exc:
            raise BlobMissing(f"The content of {name} is not on this computer.") from exc

    # -- keep on device -------------------------------------------------------

    def keep_on_device(
        self, file_ids: Iterable[int], keep: bool, store: RemoteStore | None = None
    ) -> int:
        """Pin (or unpin) files. Pinning fetches evicted current content back.

        The pins are committed first, so a concurrent free-up cannot evict what
        is being fetched. Returns how many blobs were fetched. Raises
        :class:`NotFound`, and :class:`BlobMissing` / :class:`StorageError` from
        fetching (the pins stay; pinning again retries).
        """
        ids = list(file_ids)
        wanted: list[tuple[str, str]] = []
        with self.writing() as session:
            for file_id in ids:
                file = self._file(session, file_id)
                file.keep_on_device = keep
            if keep and ids:
                wanted = [
                    (r[0], r[1])
                    for r in session.execute(
                        text(
                            "SELECT b.hash, f.name FROM file f"
                            " JOIN version v ON v.id = f.current_version_id"
                            " JOIN blob b ON b.hash = v.blob_hash"
                            " WHERE b.local_state = 'evicted' AND f.id IN"
                            f" ({', '.join(str(int(i)) for i in ids)})"
                        )
                    )
                ]
        done: set[str] = set()
        for blob_hash, name in wanted:
            if blob_hash not in done:
                self.fetch(blob_hash, store, name=name)
                done.add(blob_hash)
        return len(done)

    # -- free up space --------------------------------------------------------

    def local_bytes(self) -> int:
        """Bytes of content on this computer (blobs marked present)."""
        with self.reading() as session:
            return int(
                session.scalar(
                    text("SELECT COALESCE(SUM(size), 0) FROM blob WHERE local_state = 'present'")
                )
                or 0
            )

    def _scope_files(
        self, session: Session, file_ids: list[int] | None, folder_id: int | None
    ) -> str | None:
        """A SQL subquery of the file ids in scope, or None for the whole vault."""
        if file_ids is not None:
            for file_id in file_ids:
                self._file(session, file_id, live=False)
            return "SELECT value FROM json_each(:ids)"
        if folder_id is not None:
            self._folder(session, folder_id)
            return (
                "WITH RECURSIVE sub(id) AS (SELECT :folder UNION ALL"
                " SELECT f.id FROM folder f JOIN sub ON f.parent_id = sub.id"
                " WHERE f.trash_id IS NULL)"
                " SELECT file.id FROM file JOIN sub ON file.folder_id = sub.id"
                " WHERE file.trash_id IS NULL"
            )
        return None

    def free_up_space(
        self,
        store: RemoteStore,
        file_ids: list[int] | None = None,
        folder_id: int | None = None,
        budget_bytes: int | None = None,
    ) -> SpaceReport:
        """Evict local copies the bucket holds, to free disk space.

        Scope: the given files, or the files in a folder's subtree, or the whole
        vault — every version of them. With ``budget_bytes``, evicts only until
        the content on this computer is at most that many bytes, older versions
        first, then least recently modified files first; without it, everything
        eligible in scope goes. Never evicts content the bucket does not have
        (``remote_state`` not completed, or ``store.stat`` disagrees) or that a
        file kept on this device uses. Raises :class:`NotFound` for a missing
        file or folder; a bucket that fails stops the run (see ``error``).
        """
        report = SpaceReport()
        with self.reading() as session:
            scope = self._scope_files(session, file_ids, folder_id)
            where = "" if scope is None else f" AND v.file_id IN ({scope})"
            params = {"ids": json.dumps(file_ids or []), "folder": folder_id}
            rows = session.execute(
                text(
                    "SELECT b.hash, b.size, b.remote_state,"
                    f" b.hash IN ({_PINNED}) AS pinned,"
                    " MAX(f.current_version_id = v.id) AS is_current,"
                    " MAX(f.modified_at) AS modified"
                    " FROM version v JOIN file f ON f.id = v.file_id"
                    " JOIN blob b ON b.hash = v.blob_hash"
                    f" WHERE b.local_state = 'present'{where}"
                    " GROUP BY b.hash"
                    " ORDER BY is_current, modified, b.hash"
                ),
                params,
            ).all()
        local = self.local_bytes()
        for blob_hash, size, remote_state, pinned, _current, _modified in rows:
            if budget_bytes is not None and local <= budget_bytes:
                break
            if remote_state != "completed":
                report.kept_not_uploaded += 1
                continue
            if pinned:
                report.kept_pinned += 1
                continue
            try:
                confirmed = store.stat(blob_hash) == size
            except BlobNotFound:
                confirmed = False
            except StoreError as exc:
                report.error = f"The bucket could not be reached: {exc}"
                break
            if not confirmed:
                report.kept_unconfirmed += 1
                self._upload_again(blob_hash)
                continue
            if self._evict(blob_hash):
                report.evicted += 1
                report.freed_bytes += size
                report.evicted_hashes.append(blob_hash)
                local -= size
        report.local_bytes = self.local_bytes()
        return report

    def _upload_again(self, blob_hash: str) -> None:
        """The bucket lacks the copy of a blob marked completed: the next sync sends it.

        (A bucket that is missing altogether also answers HEAD with a bare 404; its
        blobs then wait for a sync, which reports the missing bucket.)
        """
        with self.writing() as session:
            session.execute(
                update(Blob)
                .where(
                    Blob.hash == blob_hash,
                    Blob.remote_state == "completed",
                    Blob.local_state == "present",
                )
                .values(remote_state="pending", upload_id=None)
            )

    def _evict(self, blob_hash: str) -> bool:
        """Mark the blob evicted (rechecking, under the write lock) and then remove its file."""
        # The lock spans commit and unlink, so a fetch cannot mark the file
        # present in between and then lose it.
        with _lock_for(self.blobs.path(blob_hash)):
            with self.writing() as session:
                changed = session.execute(
                    text(
                        "UPDATE blob SET local_state = 'evicted' WHERE hash = :h"
                        " AND local_state = 'present' AND remote_state = 'completed'"
                        f" AND hash NOT IN ({_PINNED})"
                    ),
                    {"h": blob_hash},
                )
                evicted = bool(getattr(changed, "rowcount", 0))
            if evicted:
                try:
                    self.blobs.delete(blob_hash)
                except OSError:
                    pass  # e.g. open elsewhere on Windows: a leftover copy is harmless
        return evicted
