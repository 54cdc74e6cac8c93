"""Sync in the background of the window: when to run, and what to show.

:class:`AutoSync` owns one thread that runs :class:`~app.sync.Syncer` whenever
the catalog changed since its last sync, when asked (:meth:`AutoSync.sync_now`),
and again after a failure, waiting longer each time it finds the bucket
unreachable. It tells the UI where it is through a plain callback with frozen
:class:`SyncState` values (no Qt here), at most ten times a second while bytes
move. Blobs go up as soon as they appear; the catalog snapshot that follows is
made at most once a minute (less often for a catalog that takes long to copy),
so a burst of renames costs one snapshot, not one each.

"Changed" is SQLite's ``PRAGMA data_version`` on a connection of its own: it
moves when any other connection (the window, a CLI import) commits, and
costs nothing to read, so an idle vault is not snapshotted every minute.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from app.core import VaultBase
from app.credentials import NoRemote
from app.errors import VaultError
from app.sync import (
    CANCELLED,
    ERROR,
    OFFLINE,
    SYNCING,
    UP_TO_DATE,
    SyncBusy,
    Syncer,
    SyncProgress,
    SyncReport,
)

log = logging.getLogger(__name__)

PAUSED = "paused"
NO_REMOTE = "no remote"
STARTING = "starting"
_BUSY = "busy"  # another process holds the sync lock

CHECK_EVERY = 30.0  # seconds between looks at the catalog when all is well
RETRY_FIRST = 15.0  # seconds before the first retry after offline or an error
RETRY_MAX = 600.0  # longest wait between retries
# Catalog snapshots: at most one a minute, and at most 5% of the time (a big
# catalog takes a while to copy and compress).
SNAPSHOT_MIN = 60.0
SNAPSHOT_SHARE = 0.05
# The bucket's listing is checked against the catalog (see Syncer's audit) on the
# first sync and then daily: a request per 1,000 blobs is too much for every change.
AUDIT_EVERY = 24 * 3600.0


@dataclass(frozen=True)
class SyncState:
    """What the background sync is doing, for a status bar.

    Attributes:
        status: one of "starting", "syncing", "up to date", "offline", "error",
            "paused" or "no remote".
        progress: the running (or last) sync's figures, None before the first one.
        message: why it is offline or in error (first failure), else "".
        failed: how many files the last sync could not upload.
        last_synced: when a sync last finished with everything uploaded (UTC).
        retry_in: seconds until the next attempt after offline or an error.
    """

    status: str
    progress: SyncProgress | None = None
    message: str = ""
    failed: int = 0
    last_synced: datetime | None = None
    retry_in: float | None = None


def next_wait(status: str, previous: float | None) -> float:
    """Seconds to wait after a sync that ended in ``status``.

    Offline and errors back off, doubling from :data:`RETRY_FIRST` up to
    :data:`RETRY_MAX`; anything else goes back to the usual :data:`CHECK_EVERY`.
    """
    if status in (OFFLINE, ERROR):
        return RETRY_FIRST if previous is None else min(previous * 2, RETRY_MAX)
    return CHECK_EVERY


class AutoSync:
    """Runs the vault's sync in a background thread, for as long as the window is open.

    Thread affinity: ``listener`` is called from the sync thread (and, for
    :meth:`pause`/:meth:`resume`, from the caller's); it must hand the state
    over to its own thread and return at once. All public methods may be
    called from any thread.
    """

    def __init__(
        self,
        vault: VaultBase,
        listener: Callable[[SyncState], None],
        *,
        make_syncer: Callable[..., Syncer] | None = None,
        check_every: float = CHECK_EVERY,
    ) -> None:
        self.vault = vault
        self._listener = listener
        self._make_syncer = make_syncer or (lambda **kw: Syncer.for_vault(vault, **kw))
        self._check_every = check_every
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._cancel = threading.Event()
        self._paused = False
        self._forced = True  # the first look always syncs
        self._syncer: Syncer | None = None
        self._state = SyncState(STARTING)
        self._thread = threading.Thread(target=self._loop, name="autosync", daemon=True)

    @property
    def state(self) -> SyncState:
        """The latest state (also sent to the listener)."""
        with self._lock:
            return self._state

    def start(self) -> None:
        """Start the thread; the first sync begins at once."""
        self._thread.start()

    def sync_now(self) -> None:
        """Sync as soon as possible, even if nothing changed or a retry is waiting."""
        with self._lock:
            self._forced = True
        self._wake.set()

    def pause(self) -> None:
        """Start no new upload (those being sent finish) until :meth:`resume`."""
        with self._lock:
            self._paused = True
            if self._syncer is not None:
                self._syncer.pause()
        self._publish(status=PAUSED, retry_in=None)

    def resume(self) -> None:
        """Carry on after :meth:`pause`, with a sync right away."""
        with self._lock:
            self._paused = False
            self._forced = True
            running = self._syncer
            if running is not None:
                running.resume()
        self._publish(status=SYNCING if running is not None else STARTING)
        self._wake.set()

    @property
    def paused(self) -> bool:
        """True between :meth:`pause` and :meth:`resume`."""
        with self._lock:
            return self._paused

    def close(self, timeout: float = 5.0) -> bool:
        """Stop: no new blob starts, and wait up to ``timeout`` for the thread.

        An upload cut short by quitting is resumed by the next sync (its
        multipart upload id is in the catalog). Returns False if the thread
        was still busy when the time ran out.
        """
        self._closing.set()
        self._cancel.set()
        with self._lock:
            if self._syncer is not None:
                self._syncer.resume()  # a paused syncer wakes up to see the cancel
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- the thread ------------------------------------------------------------------

    def _publish(self, **changes: Any) -> None:
        with self._lock:
            if self._paused and changes.get("status") not in (None, PAUSED):
                changes["status"] = PAUSED
            self._state = replace(self._state, **changes)
            state = self._state
        self._listener(state)

    def _on_progress(self, progress: SyncProgress) -> None:
        status = SYNCING if progress.status == SYNCING else None
        if status is None:
            self._publish(progress=progress)
        else:
            self._publish(status=status, progress=progress, retry_in=None)

    def _loop(self) -> None:
        try:
            watch = sqlite3.connect(f"file:{self.vault.paths.catalog}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            log.error("background sync cannot watch the catalog: %s", exc)
            self._publish(status=ERROR, message="The catalog cannot be read.")
            return
        try:
            self._watch(watch)
        except Exception:
            log.exception("background sync stopped")
            self._publish(status=ERROR, message="Sync stopped after an unexpected error.")
        finally:
            watch.close()

    def _watch(self, watch: sqlite3.Connection) -> None:
        seen: int | None = None
        wait = 0.0
        retry: float | None = None
        status = STARTING
        snapshot_owed = True  # the catalog changed since the last snapshot
        snapshot_at = -float("inf")  # monotonic time of the last snapshot
        snapshot_gap = SNAPSHOT_MIN
        audit_at = -float("inf")
        while not self._closing.is_set():
            self._wake.wait(wait)
            self._wake.clear()
            if self._closing.is_set():
                return
            with self._lock:
                paused, forced = self._paused, self._forced
                self._forced = False
            wait = self._check_every
            if paused:
                continue
            version = int(watch.execute("PRAGMA data_version").fetchone()[0])
            changed = version != seen
            snapshot_owed = snapshot_owed or changed
            snapshot_wait = snapshot_at + snapshot_gap - time.monotonic()
            # Without a remote, look again: `mediavault remote set` does not touch the catalog.
            due = forced or changed or retry is not None or status == NO_REMOTE
            if not due and not (snapshot_owed and snapshot_wait <= 0):
                if snapshot_owed:
                    wait = min(wait, max(snapshot_wait, 0.0))
                continue
            # Read before syncing: a commit made while it runs is seen next time.
            seen = version
            snapshot = snapshot_owed and (forced or snapshot_wait <= 0)
            audit = time.monotonic() - audit_at >= AUDIT_EVERY
            status, report = self._sync_once(snapshot, audit)
            if report is not None and audit and status != OFFLINE:
                audit_at = time.monotonic()
            if report is not None and snapshot and report.ok:
                snapshot_owed = False
                snapshot_at = time.monotonic()
                snapshot_gap = max(SNAPSHOT_MIN, report.snapshot_seconds / SNAPSHOT_SHARE)
            if status in (OFFLINE, ERROR):
                retry = next_wait(status, retry)
                wait = retry
                self._publish(retry_in=retry)
            elif status == _BUSY:
                retry = wait = RETRY_FIRST
            else:
                retry = None

    def _sync_once(self, snapshot: bool, audit: bool) -> tuple[str, SyncReport | None]:
        """One sync (with a catalog snapshot, an audit or not); its final status, published."""
        try:
            syncer = self._make_syncer(progress=self._on_progress, cancel=self._cancel, audit=audit)
        except NoRemote:
            self._publish(status=NO_REMOTE, message="", failed=0, progress=None)
            return NO_REMOTE, None
        except VaultError as exc:
            self._publish(status=ERROR, message=_text(exc))
            return ERROR, None
        with self._lock:
            if self._paused:
                syncer.pause()
            self._syncer = syncer
        try:
            report = syncer.run(snapshot=snapshot)
        except SyncBusy:
            # A `mediavault sync` in a terminal is doing the work: look again soon.
            self._publish(status=SYNCING, message="Another sync of this vault is running.")
            return _BUSY, None
        except VaultError as exc:
            self._publish(status=ERROR, message=_text(exc))
            return ERROR, None
        finally:
            with self._lock:
                self._syncer = None
        return self._finish(report), report

    def _finish(self, report: SyncReport) -> str:
        if report.status == CANCELLED:
            return CANCELLED
        message = ""
        if report.failed:
            count = len(report.failed)
            noun = "file" if count == 1 else "files"
            message = f"{count} {noun} could not be uploaded: {report.failed[0][1]}"
        elif report.snapshot_error:
            message = f"The catalog could not be saved to the bucket: {report.snapshot_error}"
        elif report.status == OFFLINE:
            message = "The bucket cannot be reached; files wait for the next try."
        done = report.status == UP_TO_DATE and report.ok
        self._publish(
            status=report.status,
            message=message,
            failed=len(report.failed),
            last_synced=datetime.now(UTC) if done else self.state.last_synced,
        )
        return report.status


def _text(exc: VaultError) -> str:
    return exc.message + (f" {exc.hint}" if exc.hint else "")
