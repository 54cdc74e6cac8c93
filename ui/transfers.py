"""The Transfers panel: imports, exports, downloads and uploads, with their progress.

:class:`TransferManager` owns the transfers. Imports, exports and downloads run
on its own :class:`ui.tasks.TaskManager` pool (the "transfers" latency class),
so a long import never delays a folder listing or a preview. Uploads are done
by the background sync (:class:`app.autosync.AutoSync`); the manager only shows
them, fed by :meth:`TransferManager.sync_state` or
:meth:`TransferManager.sync_progress`.

Thread affinity: :class:`Transfer` objects, the manager's signals and every
public method belong to the GUI thread. A worker never touches a
:class:`Transfer`: it writes its newest figures into a small lock-protected
:class:`_Job`, and a 100 ms timer on the GUI thread takes them from there.
However fast an import reports, the window so repaints a transfer at most ten
times a second, and the last figures are never lost (a trailing edge, unlike a
signal that is simply dropped when it comes too soon).

:class:`TransfersModel` lists the transfers newest first, one row each;
:class:`TransfersPanel` shows them with a painted progress bar per row (no
widget per row), a total bar, and Cancel, Retry and Clear finished.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
    SignalInstance,
    Slot,
)
from PySide6.QtGui import QAction, QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QProgressBar,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.autosync import NO_REMOTE, PAUSED, STARTING, SyncState
from app.credentials import open_remote
from app.errors import NotFound, VaultError
from app.importer import Conflict, ImportProgress, ImportReport, Problem
from app.remote import load_remote
from app.sync import CANCELLED as SYNC_CANCELLED
from app.sync import ERROR as SYNC_ERROR
from app.sync import OFFLINE as SYNC_OFFLINE
from app.sync import SYNCING, SyncProgress
from app.sync import UP_TO_DATE as SYNC_UP_TO_DATE
from app.vault import Vault
from ui.formatting import human_duration, human_size
from ui.tasks import TaskManager

log = logging.getLogger(__name__)

TICK_MS = 100  # figures reach the window at most ten times a second per transfer
RATE_SECONDS = 3.0  # time constant of the smoothed rate: steady, yet follows a change
ERROR_COLOR = "#c62828"  # failed rows' details: a red readable on light and dark bases
BUG_MESSAGE = "Stopped by an unexpected error (details are in the log)."
_Index = QModelIndex | QPersistentModelIndex


class TransferKind(StrEnum):
    """What a transfer moves."""

    IMPORT = "import"
    EXPORT = "export"
    DOWNLOAD = "download"
    UPLOAD = "upload"


class TransferState(StrEnum):
    """Where a transfer is. QUEUED and RUNNING are active; the others are final."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = frozenset({TransferState.QUEUED, TransferState.RUNNING})


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _message(exc: VaultError) -> str:
    return exc.message + (f" {exc.hint}" if exc.hint else "")


class _Cancelled(Exception):
    """Raised from a progress callback to stop an app/ call that has no cancel flag."""


# -- what a worker shares with the GUI thread ------------------------------------


@dataclass(frozen=True)
class _Figures:
    """A worker's newest counts, handed to the GUI thread by :class:`_Job`."""

    done: int
    total: int
    bytes_done: int
    bytes_total: int
    current: str = ""
    title: str | None = None


@dataclass(frozen=True)
class _Outcome:
    """How a worker's run ended (built on the worker, applied on the GUI thread)."""

    state: TransferState
    figures: _Figures
    summary: str = ""
    error: str = ""
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()
    retry: Any = None  # the plan that redoes what did not get done, or None
    changed_folders: frozenset[int] = frozenset()
    file_ids: tuple[int, ...] = ()


class _Job:
    """What one worker run shares with the GUI thread: its newest figures and a cancel flag.

    Thread affinity: :meth:`report` and :meth:`start` are called by the worker,
    :meth:`take` by the GUI thread; both sides only swap small values under a lock.
    """

    def __init__(self) -> None:
        self.cancel = threading.Event()
        self._lock = threading.Lock()
        self._figures: _Figures | None = None
        self._started = False
        self._title: str | None = None
        self._linked: list[threading.Event] = []

    def stop(self) -> None:
        """Ask the worker to stop (any thread): sets :attr:`cancel` and every linked event."""
        with self._lock:
            self.cancel.set()
            for event in self._linked:
                event.set()

    def linked_event(self) -> threading.Event:
        """A fresh event that :meth:`stop` sets too, for one app/ call.

        ``import_paths`` sets the event it is given when it ends, so each call
        gets its own rather than :attr:`cancel`, which means "the user said stop".
        """
        event = threading.Event()
        with self._lock:
            if self.cancel.is_set():
                event.set()
            self._linked.append(event)
        return event

    def start(self) -> None:
        """The worker has begun (the transfer leaves the queue)."""
        with self._lock:
            self._started = True

    def report(self, figures: _Figures) -> None:
        """Keep ``figures`` as the newest (the GUI takes them on its next tick)."""
        with self._lock:
            if figures.title is not None:
                self._title = figures.title
            self._figures = figures

    def take(self) -> tuple[bool, _Figures | None, str | None]:
        """Whether it started, and the figures and title reported since the last take."""
        with self._lock:
            figures, title = self._figures, self._title
            self._figures = self._title = None
            return self._started, figures, title


# -- plans: what a transfer does, kept so that Retry can run it again ------------


@dataclass(frozen=True)
class _ImportPlan:
    groups: tuple[tuple[tuple[str, ...], int], ...]  # (sources, target folder id)
    conflict: Conflict
    version_of: int | None = None  # one source, added as a new version of this file


@dataclass(frozen=True)
class _ExportPlan:
    file_ids: tuple[int, ...]
    folder_ids: tuple[int, ...]
    destination: Path


@dataclass(frozen=True)
class _DownloadPlan:
    file_ids: tuple[int, ...]
    keep: bool


@dataclass(frozen=True)
class _SyncRetry:
    sync_now: Callable[[], None]


class _Rate:
    """Bytes (or items) per second, smoothed: the average since the start for the first
    few seconds, then an exponential moving average with :data:`RATE_SECONDS`."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.last_time = start
        self.last_value = 0
        self.value = 0.0

    def sample(self, now: float, total_done: int) -> None:
        """Account for ``total_done`` units done by ``now`` (monotonic seconds)."""
        elapsed = now - self.start
        dt = now - self.last_time
        if dt <= 0:
            return
        if elapsed < RATE_SECONDS:
            self.value = total_done / elapsed
        else:
            instant = (total_done - self.last_value) / dt
            self.value += (1 - math.exp(-dt / RATE_SECONDS)) * (instant - self.value)
        self.last_time, self.last_value = now, total_done


@dataclass(eq=False)
class Transfer:
    """One import, export, download or upload, as the panel shows it.

    GUI thread only: workers report through the manager, never to this object.

    Attributes:
        id: unique within the manager, in order of creation.
        kind: import, export, download or upload.
        title: e.g. "Importing 2,000 files into /Photos".
        state: queued, running, done, failed or cancelled.
        done: items (files or blobs) handled so far; ``total`` all of them (0 while unknown).
        bytes_done: bytes handled so far; ``bytes_total`` all of them (0 while unknown).
        rate: bytes per second, smoothed (0 while unknown).
        current: what it is working on (a source path), or "".
        summary: after it ended well, what it did ("2,000 files imported · 1.2 GB").
        error: why it failed, short and for the user; "" otherwise.
        problems: the items that failed while the rest went on (source, reason).
        notes: things worth knowing that are not failures (renamed on import).
        paused: an upload whose sync is paused.
        changed_folders: vault folders whose contents this transfer changed.
        file_ids: vault files it added or changed (imports).
    """

    id: int
    kind: TransferKind
    title: str
    state: TransferState = TransferState.QUEUED
    done: int = 0
    total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    rate: float = 0.0
    current: str = ""
    summary: str = ""
    error: str = ""
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    paused: bool = False
    changed_folders: frozenset[int] = frozenset()
    file_ids: tuple[int, ...] = ()
    _plan: Any = field(default=None, repr=False)
    _retry: Any = field(default=None, repr=False)
    _job: _Job | None = field(default=None, repr=False)
    _bytes_rate: _Rate | None = field(default=None, repr=False)
    _items_rate: _Rate | None = field(default=None, repr=False)
    _updates: int = field(default=0, repr=False)

    @property
    def active(self) -> bool:
        """Queued or running."""
        return self.state in ACTIVE

    @property
    def can_cancel(self) -> bool:
        """True while it can still be stopped (uploads belong to the sync: pause it there)."""
        return self.active and self.kind is not TransferKind.UPLOAD

    @property
    def can_retry(self) -> bool:
        """True when it failed or was cancelled and something is left to redo."""
        return (
            self.state in (TransferState.FAILED, TransferState.CANCELLED)
            and self._retry is not None
        )

    @property
    def fraction(self) -> float | None:
        """How far along it is, 0 to 1; None while the amount of work is unknown."""
        if self.state is TransferState.DONE:
            return 1.0
        if self.bytes_total > 0:
            return min(self.bytes_done / self.bytes_total, 1.0)
        if self.total > 0:
            return min(self.done / self.total, 1.0)
        return None

    @property
    def time_left(self) -> float | None:
        """Seconds left at the current rate, None while unknown."""
        if self.state is not TransferState.RUNNING or self.paused:
            return None
        if self.bytes_total > 0 and self.rate >= 1:
            return max(self.bytes_total - self.bytes_done, 0) / self.rate
        items = self._items_rate.value if self._items_rate is not None else 0.0
        if self.bytes_total <= 0 and self.total > 0 and items > 0:
            return max(self.total - self.done, 0) / items
        return None

    def details(self) -> str:
        """The line under the title: figures while running, the result or the error after."""
        if self.state is TransferState.QUEUED:
            return "Waiting…"
        if self.state is TransferState.FAILED:
            return self.error or "Failed"
        if self.state is TransferState.DONE:
            return self.summary or "Done"
        figures = self._figures()
        if self.state is TransferState.CANCELLED:
            return "Cancelled" + (f" · {figures} done" if figures else "")
        if self.paused:
            return "Paused" + (f" · {figures}" if figures else "")
        if not figures:
            return "Preparing…"
        text = figures
        if self.rate >= 1:
            text += f" · {human_size(int(self.rate))}/s"
        left = self.time_left
        if left is not None:
            text += f" · {human_duration(left)} left"
        return text

    def tooltip(self) -> str:
        """The problems and notes, one a line (the first few of many)."""
        lines = [self.title, self.details()]
        if self.current and self.active:
            lines.append(self.current)
        shown = 10
        for problem in self.problems[:shown]:
            lines.append(f"{problem.source}: {problem.reason}")
        if len(self.problems) > shown:
            lines.append(f"… and {len(self.problems) - shown:,} more")
        lines.extend(self.notes[:shown])
        if len(self.notes) > shown:
            lines.append(f"… and {len(self.notes) - shown:,} more")
        return "\n".join(lines)

    def _figures(self) -> str:
        parts = []
        if self.total > 0:
            parts.append(f"{self.done:,} of {self.total:,}")
        if self.bytes_total > 0:
            parts.append(f"{human_size(self.bytes_done)} of {human_size(self.bytes_total)}")
        elif self.bytes_done > 0:
            parts.append(human_size(self.bytes_done))
        return " · ".join(parts)

    def _apply(self, figures: _Figures, now: float) -> None:
        self.done, self.total = figures.done, figures.total
        self.bytes_done, self.bytes_total = figures.bytes_done, figures.bytes_total
        self.current = figures.current
        if figures.title is not None:
            self.title = figures.title
        self._sample(now)

    def _sample(self, now: float) -> None:
        if self._bytes_rate is None or self._items_rate is None:
            self._bytes_rate, self._items_rate = _Rate(now), _Rate(now)
        self._bytes_rate.sample(now, self.bytes_done)
        self._items_rate.sample(now, self.done)
        self.rate = self._bytes_rate.value

    def _reset(self) -> None:
        self.done = self.total = self.bytes_done = self.bytes_total = 0
        self.rate = 0.0
        self.current = self.summary = self.error = ""
        self.problems, self.notes = [], []
        self.paused = False
        self._bytes_rate = self._items_rate = None


def summarize(transfers: Sequence[Transfer]) -> tuple[str, int | None]:
    """The panel's summary line over all ``transfers``, and the total progress (0-100).

    The percentage is None when nothing is active or the amount of work is unknown.
    """
    active = [t for t in transfers if t.active]
    failed = sum(1 for t in transfers if t.state is TransferState.FAILED)
    failed_text = f" · {_plural(failed, 'failed transfer')}" if failed else ""
    if not active:
        if not transfers:
            return "No transfers", None
        return "All transfers finished" + failed_text, None
    running = sum(1 for t in active if t.state is TransferState.RUNNING)
    text = _plural(running, "transfer") + " running"
    waiting = len(active) - running
    if waiting:
        text += f", {waiting:,} waiting"
    bytes_total = sum(t.bytes_total for t in active)
    bytes_done = sum(min(t.bytes_done, t.bytes_total) for t in active)
    percent: int | None = None
    if bytes_total > 0:
        text += f" · {human_size(bytes_done)} of {human_size(bytes_total)}"
        percent = int(100 * bytes_done / bytes_total)
    else:
        total = sum(t.total for t in active)
        if total > 0:
            percent = int(100 * sum(min(t.done, t.total) for t in active) / total)
    rate = sum(t.rate for t in active if t.state is TransferState.RUNNING)
    if rate >= 1:
        text += f" · {human_size(int(rate))}/s"
        if bytes_total > 0 and all(t.bytes_total > 0 for t in active):
            text += f" · {human_duration((bytes_total - bytes_done) / rate)} left"
    return text + failed_text, percent


# -- the workers (pool threads: no Qt object, no Transfer, own catalog sessions) --


def _import_title(count: int, folder: str | None, single: str) -> str:
    what = single if count == 1 and single else _plural(count, "file")
    # A retry may put files back into several folders: then no one folder is named.
    return f"Importing {what} into {folder}" if folder is not None else f"Importing {what}"


def _run_import(vault: Vault, job: _Job, plan: _ImportPlan) -> _Outcome:
    """Import each group of sources into its folder. Runs on a pool thread."""
    job.start()
    reports: list[ImportReport] = []
    folder_paths: dict[int, str] = {}
    last = _Figures(0, 0, 0, 0)
    error = ""
    first = plan.groups[0][0] if plan.groups else ()
    single = os.path.basename(first[0]) if len(first) == 1 and os.path.isfile(first[0]) else ""
    for sources, folder_id in plan.groups:
        if job.cancel.is_set():
            break
        try:
            if plan.version_of is None:
                folder_paths[folder_id] = vault.path_of("folder", folder_id)
        except VaultError as exc:
            error = _message(exc)
            break
        where = folder_paths.get(folder_id) if len(plan.groups) == 1 else None

        base = last  # the groups before this one

        def progress(p: ImportProgress, where: str | None = where, base: _Figures = base) -> None:
            nonlocal last
            last = _Figures(
                base.done + p.files_done,
                base.total + p.files_total,
                base.bytes_done + p.bytes_done,
                base.bytes_total + p.bytes_total,
                p.current,
                _import_title(base.total + p.files_total, where, single),
            )
            job.report(last)

        try:
            if plan.version_of is not None:
                report = vault.add_version(
                    plan.version_of, sources[0], progress=progress, cancel=job.linked_event()
                )
            else:
                report = vault.import_paths(
                    list(sources),
                    folder_id,
                    plan.conflict,
                    progress=progress,
                    cancel=job.linked_event(),
                )
        except NotFound as exc:
            error = _message(exc) + " Nothing was imported there."
            break
        except VaultError as exc:
            error = _message(exc)
            break
        reports.append(report)
    imported = sum(r.imported for r in reports)
    versions = sum(len(r.new_versions) for r in reports)
    skipped = sum(len(r.skipped) for r in reports)
    size = sum(r.bytes for r in reports)
    problems = tuple(p for r in reports for p in r.failed)
    notes = tuple(f"{n.source} → {n.path}: {n.reason}" for r in reports for n in r.renamed)
    cancelled = job.cancel.is_set() or any(r.cancelled for r in reports)
    retry = None
    if error or cancelled or (problems and plan.version_of is not None):
        retry = plan  # importing again skips what is already there
    elif problems:
        retry = _retry_failed_imports(vault, plan, reports, folder_paths)
    parts = []
    if imported:
        parts.append(_plural(imported, "file") + " imported")
    if versions:
        parts.append(_plural(versions, "new version"))
    if skipped:
        parts.append(f"{skipped:,} already there")
    if size:
        parts.append(human_size(size))
    summary = " · ".join(parts) or "Nothing new to import"
    if problems and not error:
        handled = imported + versions + skipped + len(problems)
        error = (
            f"{len(problems):,} of {_plural(handled, 'item')} could not be imported: "
            f"{problems[0].reason}"
        )
    state = (
        TransferState.CANCELLED
        if cancelled and not error
        else TransferState.FAILED
        if error
        else TransferState.DONE
    )
    return _Outcome(
        state,
        last,
        summary=summary,
        error=error,
        problems=problems,
        notes=notes,
        retry=retry,
        changed_folders=frozenset(f for r in reports for f in r.changes.folders),
        file_ids=tuple(i for r in reports for i in r.file_ids),
    )


def _retry_failed_imports(
    vault: Vault, plan: _ImportPlan, reports: list[ImportReport], folder_paths: dict[int, str]
) -> _ImportPlan:
    """A plan that imports only the failed sources, each into the vault folder it was
    meant for (a failure deep inside a dropped folder goes back into that subfolder).

    A source whose folder cannot be found falls back to its whole top-level
    source, which re-imports cheaply: identical files already there are skipped.
    """
    renamed = {n.source: n.path for r in reports for n in r.renamed}
    groups: dict[int, list[str]] = {}
    for (sources, folder_id), report in zip(plan.groups, reports, strict=False):
        tops = [os.path.abspath(os.path.expanduser(s)) for s in sources]
        for problem in report.failed:
            top = next(
                (t for t in tops if problem.source == t or problem.source.startswith(t + os.sep)),
                None,
            )
            target = folder_id
            source = problem.source
            if top is None:
                pass  # not under any source we know: retry it as given
            elif problem.source != top:
                path = _vault_folder(
                    os.path.dirname(problem.source), top, folder_paths[folder_id], renamed
                )
                try:
                    target = vault.resolve_folder(path)
                except VaultError:
                    source = top
            if source not in groups.setdefault(target, []):
                groups[target].append(source)
    return _ImportPlan(
        tuple((tuple(sources), folder) for folder, sources in groups.items()), plan.conflict
    )


def _vault_folder(outside: str, top: str, target_path: str, renamed: dict[str, str]) -> str:
    """The vault path of outside folder ``outside`` (``top`` or below it), imported into
    ``target_path``, following folders that were stored under another name."""
    tail: list[str] = []
    current = outside
    stop = os.path.dirname(top)
    while current not in renamed and current != stop:
        tail.append(os.path.basename(current))
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    base = renamed.get(current, target_path)
    return "/".join([base.rstrip("/"), *reversed(tail)]) if tail else base


def _run_export(vault: Vault, job: _Job, plan: _ExportPlan) -> _Outcome:
    """Write files and folder trees into the destination. Runs on a pool thread."""
    job.start()
    sizes: dict[int, tuple[str, int]] = {}
    problems: list[Problem] = []
    failed_files: list[int] = []
    for file_id in plan.file_ids:
        try:
            info = vault.file_info(file_id)
            sizes[file_id] = (info.name, info.size)
        except VaultError as exc:
            problems.append(Problem(f"file #{file_id}", _message(exc)))
    folder_totals = [0] * len(plan.folder_ids)
    done = bytes_done = 0
    bytes_total = sum(size for _, size in sizes.values())

    def report(current: str = "", title: str | None = None) -> None:
        total = len(plan.file_ids) + sum(folder_totals)
        job.report(_Figures(done, total, bytes_done, bytes_total, current, title))

    name = ""
    if len(plan.file_ids) == 1 and not plan.folder_ids and sizes:
        name = next(iter(sizes.values()))[0]
    elif len(plan.folder_ids) == 1 and not plan.file_ids:
        try:
            name = vault.folder_info(plan.folder_ids[0]).name
        except VaultError:
            pass  # the export itself says so
    report(title=f"Exporting {name} to {plan.destination}" if name else None)
    written = 0
    cancelled = False
    for file_id in plan.file_ids:
        if file_id not in sizes:
            continue
        if job.cancel.is_set():
            cancelled = True
            failed_files.append(file_id)
            continue
        name, size = sizes[file_id]
        try:
            vault.export_file(file_id, plan.destination)
            written += 1
            bytes_done += size
        except VaultError as exc:
            problems.append(Problem(name, _message(exc)))
            failed_files.append(file_id)
        done += 1
        report(name)
    retry_folders: list[int] = []
    for i, folder_id in enumerate(plan.folder_ids):
        if job.cancel.is_set():
            cancelled = True
            retry_folders.append(folder_id)
            continue
        folder_done = 0

        def progress(
            n: int, total: int, i: int = i, done: int = done, bytes_done: int = bytes_done
        ) -> None:
            nonlocal folder_done
            folder_totals[i] = total
            folder_done = n
            job.report(
                _Figures(done + n, len(plan.file_ids) + sum(folder_totals), bytes_done, bytes_total)
            )
            if job.cancel.is_set():
                raise _Cancelled

        try:
            result = vault.export_folder(folder_id, plan.destination, progress=progress)
        except _Cancelled:
            cancelled = True
            done += folder_done
            continue
        except VaultError as exc:
            problems.append(Problem(f"folder #{folder_id}", _message(exc)))
            retry_folders.append(folder_id)
            continue
        done += len(result.written) + len(result.failed)
        written += len(result.written)
        bytes_done += result.bytes
        # A folder written in part is not redone as a whole: that would duplicate
        # ("a (2).jpg") everything that did arrive. Its failures stay listed.
        problems.extend(Problem(path, reason) for path, reason in result.failed)
    figures = _Figures(done, len(plan.file_ids) + sum(folder_totals), bytes_done, bytes_total)
    redo = (
        _ExportPlan(tuple(failed_files), tuple(retry_folders), plan.destination)
        if failed_files or retry_folders
        else None
    )
    summary = f"{_plural(written, 'file')} exported to {plan.destination}"
    if cancelled:
        return _Outcome(TransferState.CANCELLED, figures, problems=tuple(problems), retry=redo)
    if problems:
        error = f"{_plural(len(problems), 'item')} could not be exported: {problems[0].reason}"
        return _Outcome(TransferState.FAILED, figures, summary, error, tuple(problems), retry=redo)
    return _Outcome(TransferState.DONE, figures, summary)


def _run_download(vault: Vault, job: _Job, plan: _DownloadPlan) -> _Outcome:
    """Fetch evicted content of files from the bucket (and pin them). Runs on a pool thread."""
    job.start()
    empty = _Figures(0, 0, 0, 0)
    try:
        store, _ = open_remote(vault.paths)
    except VaultError as exc:
        return _Outcome(TransferState.FAILED, empty, error=_message(exc), retry=plan)
    names: dict[str, list[tuple[int, str]]] = {}  # blob hash -> files using it
    sizes: dict[str, int] = {}
    problems: list[Problem] = []
    failed: set[int] = set()
    for file_id in plan.file_ids:
        if job.cancel.is_set():
            return _Outcome(TransferState.CANCELLED, empty, retry=plan)
        try:
            info = vault.file_info(file_id)
        except VaultError as exc:
            problems.append(Problem(f"file #{file_id}", _message(exc)))
            continue
        if info.version.local_state == "present":
            continue
        names.setdefault(info.version.blob_hash, []).append((file_id, info.name))
        sizes[info.version.blob_hash] = info.version.size
    total, bytes_total = len(sizes), sum(sizes.values())
    done = bytes_done = 0
    title = None
    if len(plan.file_ids) == 1 and names:
        name = next(iter(names.values()))[0][1]
        title = f"Keeping {name} on this device" if plan.keep else f"Downloading {name}"
    job.report(_Figures(0, total, 0, bytes_total, title=title))

    def on_blob(blob_hash: str, size: int, error: VaultError | None) -> None:
        nonlocal done, bytes_done
        done += 1
        bytes_done += size
        files = names.get(blob_hash, [])
        if error is not None:
            for file_id, name in files:
                problems.append(Problem(name, _message(error)))
                failed.add(file_id)
        job.report(_Figures(done, total, bytes_done, bytes_total, files[0][1] if files else ""))
        if job.cancel.is_set():
            raise _Cancelled  # fetch_many cleans up its temp files on the way out

    cancelled = False
    if sizes:
        try:
            vault.fetch_many(list(sizes), store, done=on_blob)
        except _Cancelled:
            cancelled = True
    if plan.keep and not cancelled:
        try:
            vault.keep_on_device(list(plan.file_ids), True, store)
        except VaultError as exc:
            problems.append(Problem("Keep on this device", _message(exc)))
            failed.update(plan.file_ids)
    figures = _Figures(done, total, bytes_done, bytes_total)
    if cancelled:
        return _Outcome(TransferState.CANCELLED, figures, retry=plan)
    if problems:
        redo = _DownloadPlan(tuple(i for i in plan.file_ids if i in failed), plan.keep)
        error = f"{_plural(len(problems), 'file')} could not be downloaded: {problems[0].reason}"
        return _Outcome(
            TransferState.FAILED,
            figures,
            error=error,
            problems=tuple(problems),
            retry=redo if redo.file_ids else None,
        )
    summary = (
        f"{_plural(total, 'file')} downloaded · {human_size(bytes_total)}"
        if total
        else "Already on this device"
    )
    return _Outcome(TransferState.DONE, figures, summary)


# -- the manager -------------------------------------------------------------------


class TransferManager(QObject):
    """Owns the transfers and runs them on a pool of their own.

    Create it on the GUI thread; call everything from there. Work goes through
    a :class:`~ui.tasks.TaskManager` (``max_threads`` at once, the rest wait as
    "queued"); each worker calls :mod:`app`, which opens its own sessions.

    Signals:
        added(Transfer): a new transfer (a row to insert).
        changed(Transfer): its state or figures changed (at most ten times a second).
        finished(Transfer): it ended (done, failed or cancelled): refresh listings.
        failed(Transfer): it ended failed (also sent ``finished``).
        removed(Transfer): dropped from the list by :meth:`clear_finished`.

    Attributes:
        transfers: every transfer, oldest first.
        tasks: the pool the work runs on.
    """

    added = Signal(object)
    changed = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    removed = Signal(object)

    def __init__(
        self, vault: Vault, parent: QObject | None = None, *, max_threads: int = 2
    ) -> None:
        super().__init__(parent)
        self.vault = vault
        self.transfers: list[Transfer] = []
        self.tasks = TaskManager(self, max_threads=max_threads, name="transfers")
        self._ids = itertools.count(1)
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._closed = False
        self._upload: Transfer | None = None  # the sync's transfer while it sends
        self._bucket = ""
        self._sync_now: Callable[[], None] | None = None

    # -- starting ---------------------------------------------------------------

    def start_import(
        self, paths: Sequence[Path | str], folder_id: int, conflict: Conflict = Conflict.KEEP_BOTH
    ) -> Transfer:
        """Import files and folder trees from disk into ``folder_id``.

        Conflicts follow ``conflict`` (keep both by default; ``Conflict.VERSION``
        adds a file as a new version of the same-named one). Failed sources are
        listed in :attr:`Transfer.problems`, and :meth:`retry` imports only those.
        """
        sources = tuple(str(p) for p in paths)
        label = os.path.basename(sources[0].rstrip(os.sep)) if len(sources) == 1 else ""
        title = f"Importing {label}" if label else f"Importing {_plural(len(sources), 'item')}"
        plan = _ImportPlan(((sources, folder_id),), conflict)
        return self._start(TransferKind.IMPORT, title, plan)

    def start_version(self, file_id: int, path: Path | str) -> Transfer:
        """Add the file at ``path`` as the new current version of file ``file_id``
        (a file dropped onto another, or Upload New Version…)."""
        title = f"Adding {os.path.basename(str(path))} as a new version"
        plan = _ImportPlan(((((str(path)),), -1),), Conflict.VERSION, file_id)
        return self._start(TransferKind.IMPORT, title, plan)

    def start_export(
        self, file_ids: Sequence[int], folder_ids: Sequence[int], destination: Path
    ) -> Transfer:
        """Write files and folder trees into directory ``destination`` (names taken keep both)."""
        count = len(file_ids) + len(folder_ids)
        what = _plural(count, "item") if folder_ids else _plural(count, "file")
        plan = _ExportPlan(tuple(file_ids), tuple(folder_ids), Path(destination))
        return self._start(TransferKind.EXPORT, f"Exporting {what} to {destination}", plan)

    def start_download(self, file_ids: Sequence[int], *, keep: bool = False) -> Transfer:
        """Download the evicted content of files from the bucket.

        With ``keep``, the files are also pinned ("Keep on this device") once
        their content is here, so freeing up space leaves them alone. Without a
        bucket the transfer fails with a message saying how to set one.
        """
        verb = "Keeping" if keep else "Downloading"
        suffix = " on this device" if keep else ""
        title = f"{verb} {_plural(len(file_ids), 'file')}{suffix}"
        return self._start(TransferKind.DOWNLOAD, title, _DownloadPlan(tuple(file_ids), keep))

    def _start(self, kind: TransferKind, title: str, plan: Any) -> Transfer:
        transfer = Transfer(next(self._ids), kind, title, _plan=plan)
        self.transfers.append(transfer)
        self.added.emit(transfer)
        self._submit(transfer, plan)
        return transfer

    def _submit(self, transfer: Transfer, plan: Any) -> None:
        if self._closed:
            transfer.state = TransferState.CANCELLED
            transfer._retry = plan
            self.changed.emit(transfer)
            self.finished.emit(transfer)
            return
        job = _Job()
        transfer._job = job
        transfer._plan = plan
        runner: Callable[[Vault, _Job, Any], _Outcome]
        if isinstance(plan, _ImportPlan):
            runner = _run_import
        elif isinstance(plan, _ExportPlan):
            runner = _run_export
        else:
            runner = _run_download
        vault = self.vault
        self.tasks.run(
            lambda: runner(vault, job, plan),
            lambda outcome: self._end(transfer, job, outcome),
            lambda exc: self._crashed(transfer, job, exc),
            name=f"{transfer.kind} #{transfer.id}",
        )
        self._timer.start()

    # -- acting on transfers ----------------------------------------------------

    def cancel(self, transfer: Transfer) -> None:
        """Stop ``transfer`` (what is done stays done). No-op unless it can be cancelled.

        The worker stops at its next check (between files); the transfer ends
        "cancelled" when it has.
        """
        if transfer.can_cancel and transfer._job is not None:
            transfer._job.stop()

    def retry(self, transfer: Transfer) -> bool:
        """Run again what a failed or cancelled transfer left undone, in the same row.

        An import retries only its failed sources (or all of it if it was cut
        short: files already there are skipped); an export, the files and folders
        not written; a download, the files not fetched; an upload asks the sync
        to run now. Returns False if there is nothing to retry.
        """
        if not transfer.can_retry or self._closed:
            return False
        plan = transfer._retry
        transfer._retry = None
        if isinstance(plan, _SyncRetry):
            plan.sync_now()
            return True
        transfer._reset()
        transfer.state = TransferState.QUEUED
        self.changed.emit(transfer)
        self._submit(transfer, plan)
        return True

    def active(self) -> list[Transfer]:
        """The transfers queued or running, oldest first."""
        return [t for t in self.transfers if t.active]

    def clear_finished(self) -> None:
        """Drop every transfer that has ended from the list."""
        for transfer in [t for t in self.transfers if not t.active]:
            self.transfers.remove(transfer)
            self.removed.emit(transfer)

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Cancel everything and wait up to ``timeout_ms`` for the workers. Idempotent.

        Returns False if a worker was still busy when the time ran out (it
        stops at its next check; its result is dropped).
        """
        if self._closed:
            return True
        self._closed = True
        self._timer.stop()
        for transfer in self.transfers:
            if transfer._job is not None:
                transfer._job.stop()
        drained = self.tasks.shutdown(timeout_ms)
        # Their results are dropped from now on: what was cut short is cancelled.
        self._upload = None
        for transfer in self.transfers:
            if transfer.active:
                transfer._job = None
                transfer.state = TransferState.CANCELLED
                transfer.rate = 0.0
                self.changed.emit(transfer)
        return drained

    # -- uploads: the background sync -------------------------------------------

    def track_sync(
        self, state_changed: SignalInstance, sync_now: Callable[[], None] | None = None
    ) -> None:
        """Show the background sync's uploads as one "Uploading to <bucket>" row per sync.

        ``state_changed`` must emit :class:`~app.autosync.SyncState` values on the
        GUI thread (what :class:`ui.sync_status.SyncStatus` receives). ``sync_now``
        is what Retry on a failed upload calls (``AutoSync.sync_now``).
        """
        self._sync_now = sync_now
        state_changed.connect(self.sync_state)
        self._load_bucket()

    @Slot(object)
    def sync_state(self, state: SyncState) -> None:
        """Follow the background sync's state (GUI thread).

        While it syncs, its figures feed the upload row; the row ends when the
        state says how the sync ended (with its message, if it failed).
        """
        if state.status == PAUSED:
            if self._upload is not None:
                self._upload.paused = True
                self.changed.emit(self._upload)
            return
        if state.status in (SYNCING, STARTING):
            # A finished run's last figures linger until the final state comes.
            if state.progress is not None and state.progress.status == SYNCING:
                self.sync_progress(state.progress)
            return
        status = state.status if state.status != NO_REMOTE else SYNC_CANCELLED
        self._finish_upload(status, state.progress, state.message)

    @Slot(object)
    def sync_progress(self, progress: SyncProgress) -> None:
        """Follow one report of a sync (GUI thread), for a window wired to
        :class:`~app.sync.SyncProgress` values rather than states.

        A row appears when a sync has blobs to send, and ends with the sync:
        done when everything is up, failed when it went offline or a blob failed.
        """
        if progress.status != SYNCING:
            self._finish_upload(progress.status, progress, "")
            return
        upload = self._upload
        if upload is None:
            if progress.files_total <= 0 or progress.files_done >= progress.files_total:
                return  # nothing to send: a sync that only checked shows no row
            upload = self._new_upload()
        if upload.paused:
            upload.paused = False
            self.changed.emit(upload)
        if upload._job is not None:
            upload._job.report(
                _Figures(
                    progress.files_done,
                    progress.files_total,
                    progress.bytes_done,
                    progress.bytes_total,
                )
            )

    def _finish_upload(self, status: str, progress: SyncProgress | None, message: str) -> None:
        upload = self._upload
        if upload is None:
            return
        if progress is not None and progress.files_total:
            upload._apply(
                _Figures(
                    progress.files_done,
                    progress.files_total,
                    progress.bytes_done,
                    progress.bytes_total,
                ),
                time.monotonic(),
            )
        if status == SYNC_UP_TO_DATE:
            self._end_upload(TransferState.DONE, "")
        elif status == SYNC_OFFLINE:
            self._end_upload(
                TransferState.FAILED,
                message or "The bucket cannot be reached; files wait for the next try.",
            )
        elif status == SYNC_ERROR:
            self._end_upload(
                TransferState.FAILED,
                message or "Some files could not be uploaded; the next sync tries again.",
            )
        else:
            self._end_upload(TransferState.CANCELLED, "")

    def _new_upload(self) -> Transfer:
        title = f"Uploading to {self._bucket}" if self._bucket else "Uploading to the bucket"
        upload = Transfer(next(self._ids), TransferKind.UPLOAD, title)
        job = _Job()
        job.start()
        upload._job = job
        self._upload = upload
        self.transfers.append(upload)
        self.added.emit(upload)
        self._timer.start()
        if not self._bucket:
            self._load_bucket()
        return upload

    def _end_upload(self, state: TransferState, error: str) -> None:
        upload = self._upload
        if upload is None:
            return
        self._upload = None
        upload._job = None
        upload.state = state
        upload.paused = False
        upload.error = error
        if state is TransferState.DONE:
            upload.summary = (
                f"{_plural(upload.total, 'file')} uploaded · {human_size(upload.bytes_total)}"
            )
        if state is TransferState.FAILED and self._sync_now is not None:
            upload._retry = _SyncRetry(self._sync_now)
        self._announce_end(upload)

    def _load_bucket(self) -> None:
        def name() -> str:
            config = load_remote(self.vault.paths)
            return config.spec.bucket if config is not None else ""

        self.tasks.run(name, self._on_bucket, self._no_bucket, name="bucket name")

    def _no_bucket(self, exc: BaseException) -> None:
        # A damaged remote file is the sync status's to report; the row says "the bucket".
        if not isinstance(exc, VaultError):
            log.error(
                "reading the bucket name failed", exc_info=(type(exc), exc, exc.__traceback__)
            )

    def _on_bucket(self, bucket: str) -> None:
        self._bucket = bucket
        if bucket and self._upload is not None:
            self._upload.title = f"Uploading to {bucket}"
            self.changed.emit(self._upload)

    # -- progress and endings (GUI thread) --------------------------------------

    @Slot()
    def _tick(self) -> None:
        now = time.monotonic()
        any_active = False
        for transfer in self.transfers:
            job = transfer._job
            if not transfer.active or job is None:
                continue
            any_active = True
            started, figures, title = job.take()
            changed = False
            if started and transfer.state is TransferState.QUEUED:
                transfer.state = TransferState.RUNNING
                transfer._sample(now)
                changed = True
            if title is not None:
                transfer.title = title
                changed = True
            if figures is not None:
                transfer._apply(figures, now)
                changed = True
            elif transfer.state is TransferState.RUNNING:
                transfer._sample(now)  # a stall slows the rate down
                transfer._updates += 1
                changed = transfer._updates % 10 == 0  # refresh rate and time left each second
            if changed:
                self.changed.emit(transfer)
        if not any_active:
            self._timer.stop()

    def _end(self, transfer: Transfer, job: _Job, outcome: _Outcome) -> None:
        if transfer._job is not job:
            return  # a stale run (the transfer was retried meanwhile)
        transfer._job = None
        transfer._apply(outcome.figures, time.monotonic())
        transfer.state = outcome.state
        transfer.summary = outcome.summary
        transfer.error = outcome.error
        transfer.problems = list(outcome.problems)
        transfer.notes = list(outcome.notes)
        transfer.changed_folders = outcome.changed_folders
        transfer.file_ids = outcome.file_ids
        transfer._retry = outcome.retry
        self._announce_end(transfer)

    def _crashed(self, transfer: Transfer, job: _Job, exc: BaseException) -> None:
        if transfer._job is not job:
            return
        log.error(
            "transfer %r failed", transfer.title, exc_info=(type(exc), exc, exc.__traceback__)
        )
        transfer._job = None
        transfer.state = TransferState.FAILED
        transfer.error = BUG_MESSAGE
        transfer._retry = transfer._plan
        self._announce_end(transfer)

    def _announce_end(self, transfer: Transfer) -> None:
        transfer.rate = 0.0
        self.changed.emit(transfer)
        self.finished.emit(transfer)
        if transfer.state is TransferState.FAILED:
            self.failed.emit(transfer)


# -- the model and the panel -------------------------------------------------------


class TransferRole(IntEnum):
    """Item data roles of :class:`TransfersModel` beyond Qt's own."""

    TRANSFER = Qt.ItemDataRole.UserRole + 1  # the Transfer object
    DETAILS = Qt.ItemDataRole.UserRole + 2  # the line under the title
    PROGRESS = Qt.ItemDataRole.UserRole + 3  # 0-100, or -1 while running with no total
    STATE = Qt.ItemDataRole.UserRole + 4  # the TransferState value


class TransfersModel(QAbstractTableModel):
    """The manager's transfers, newest first: one row each, one column.

    Follows the manager's signals with exact row inserts, removals and
    one-row ``dataChanged``; ``data()`` only reads the :class:`Transfer`.
    """

    def __init__(self, manager: TransferManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self._rows: list[Transfer] = list(reversed(manager.transfers))
        manager.added.connect(self._on_added)
        manager.changed.connect(self._on_changed)
        manager.removed.connect(self._on_removed)

    def transfer(self, row: int) -> Transfer:
        """The transfer shown in ``row``."""
        return self._rows[row]

    def row_of(self, transfer: Transfer) -> int:
        """The row of ``transfer``, or -1."""
        for row, shown in enumerate(self._rows):
            if shown is transfer:
                return row
        return -1

    @Slot(object)
    def _on_added(self, transfer: Transfer) -> None:
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._rows.insert(0, transfer)
        self.endInsertRows()

    @Slot(object)
    def _on_changed(self, transfer: Transfer) -> None:
        row = self.row_of(transfer)
        if row >= 0:
            index = self.index(row, 0)
            self.dataChanged.emit(index, index)

    @Slot(object)
    def _on_removed(self, transfer: Transfer) -> None:
        row = self.row_of(transfer)
        if row >= 0:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 1

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        transfer = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return transfer.title
        if role == TransferRole.DETAILS:
            return transfer.details()
        if role == TransferRole.PROGRESS:
            fraction = transfer.fraction
            if fraction is None:
                # Busy only while work of unknown size runs; a queued or ended one stands still.
                return -1 if transfer.state is TransferState.RUNNING else 0
            return int(fraction * 100)
        if role == TransferRole.STATE:
            return transfer.state.value
        if role == TransferRole.TRANSFER:
            return transfer
        if role == Qt.ItemDataRole.ToolTipRole:
            return transfer.tooltip()
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{transfer.title}: {transfer.details()}"
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and section == 0
        ):
            return "Transfer"
        return None


class TransferDelegate(QStyledItemDelegate):
    """Paints a row: the title and a progress bar on one line, the details below.

    The bar is drawn with the style's ``CE_ProgressBar`` (no widget per row), so
    a thousand rows cost a thousand paints, not a thousand widgets.
    """

    BAR_WIDTH = 160
    MARGIN = 4

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        # The background and selection, without the text (drawn below in two lines).
        opt.text = ""
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        rect = opt.rect.adjusted(self.MARGIN, self.MARGIN, -self.MARGIN, -self.MARGIN)
        metrics = QFontMetrics(opt.font)
        line = metrics.height()
        bar = QRect(rect.right() - self.BAR_WIDTH + 1, rect.top(), self.BAR_WIDTH, line)
        title_rect = QRect(rect.left(), rect.top(), bar.left() - rect.left() - 8, line)
        details_rect = QRect(rect.left(), rect.top() + line + 2, rect.width(), line)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        group = (
            QPalette.ColorGroup.Normal
            if opt.state & QStyle.StateFlag.State_Enabled
            else QPalette.ColorGroup.Disabled
        )
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        bold = QFont(opt.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(opt.palette.color(group, text_role))
        title = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        painter.drawText(
            title_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            QFontMetrics(bold).elidedText(title, Qt.TextElideMode.ElideMiddle, title_rect.width()),
        )
        painter.setFont(opt.font)
        state = index.data(TransferRole.STATE)
        if state == TransferState.FAILED.value and not selected:
            painter.setPen(QColor(ERROR_COLOR))
        elif not selected:
            painter.setPen(opt.palette.color(group, QPalette.ColorRole.PlaceholderText))
        details = str(index.data(TransferRole.DETAILS) or "")
        painter.drawText(
            details_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            metrics.elidedText(details, Qt.TextElideMode.ElideRight, details_rect.width()),
        )
        painter.restore()
        progress = index.data(TransferRole.PROGRESS)
        bar_opt = QStyleOptionProgressBar()
        bar_opt.rect = bar
        bar_opt.palette = opt.palette
        bar_opt.fontMetrics = metrics
        bar_opt.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
        bar_opt.minimum = 0
        # 0..0 is the style's "busy" bar, for work of unknown size.
        bar_opt.maximum = 0 if progress is None or progress < 0 else 100
        bar_opt.progress = max(int(progress or 0), 0)
        bar_opt.textVisible = False
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar_opt, painter, widget)

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        line = QFontMetrics(option.font).height()
        return QSize(self.BAR_WIDTH * 2, 2 * line + 2 + 2 * self.MARGIN)


class TransfersPanel(QWidget):
    """The Transfers panel: a summary line with the total bar, the list, and actions.

    Cancel and Retry act on the selected rows (and are in each row's context
    menu); Clear finished drops ended rows. Meant for the bottom of the main
    window, shown and hidden from the status bar.

    Attributes:
        manager: the transfers shown.
        model: their item model.
        view: the list.
        summary: the line over all active transfers.
        total_bar: their total progress (hidden while nothing runs).
        cancel_button, retry_button, clear_button: the actions.
    """

    def __init__(self, manager: TransferManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self.model = TransfersModel(manager, self)
        self.view = QListView(self)
        self.view.setModel(self.model)
        self.view.setItemDelegate(TransferDelegate(self.view))
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setUniformItemSizes(True)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.setAccessibleName("Transfers")

        self.summary = QLabel(self)
        self.total_bar = QProgressBar(self)
        self.total_bar.setRange(0, 100)
        self.total_bar.setTextVisible(False)
        self.total_bar.setMaximumWidth(200)
        self.total_bar.setMaximumHeight(QFontMetrics(self.font()).height())
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the selected transfers; what is done stays done")
        self.retry_button = QPushButton("Retry", self)
        self.retry_button.setToolTip("Run what failed in the selected transfers again")
        self.clear_button = QPushButton("Clear finished", self)
        self.clear_button.setToolTip("Remove the transfers that have ended from the list")
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.retry_button.clicked.connect(self.retry_selected)
        self.clear_button.clicked.connect(manager.clear_finished)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.total_bar)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.retry_button)
        bar.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.view)

        for signal in (manager.added, manager.changed, manager.removed):
            signal.connect(self._update)
        self.view.selectionModel().selectionChanged.connect(self._update)
        self._update()

    def selected(self) -> list[Transfer]:
        """The selected transfers, top to bottom."""
        rows = sorted(i.row() for i in self.view.selectionModel().selectedRows())
        return [self.model.transfer(r) for r in rows]

    @Slot()
    def cancel_selected(self) -> None:
        """Cancel the selected transfers that are still running or waiting."""
        for transfer in self.selected():
            self.manager.cancel(transfer)

    @Slot()
    def retry_selected(self) -> None:
        """Retry the selected transfers that failed or were cancelled."""
        for transfer in self.selected():
            self.manager.retry(transfer)
        self._update()

    def _update(self, *_: object) -> None:
        text, percent = summarize(self.manager.transfers)
        self.summary.setText(text)
        self.total_bar.setVisible(bool(self.manager.active()))
        if percent is None:
            self.total_bar.setRange(0, 0)  # busy: the amount of work is not known yet
        else:
            self.total_bar.setRange(0, 100)
            self.total_bar.setValue(percent)
        chosen = self.selected()
        self.cancel_button.setEnabled(any(t.can_cancel for t in chosen))
        self.retry_button.setEnabled(any(t.can_retry for t in chosen))
        self.clear_button.setEnabled(any(not t.active for t in self.manager.transfers))

    @Slot(QPoint)
    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return
        if not self.view.selectionModel().isSelected(index):
            self.view.setCurrentIndex(index)
        menu = self.context_menu()
        menu.exec(self.view.viewport().mapToGlobal(pos))
        menu.deleteLater()

    def context_menu(self) -> QMenu:
        """The menu for the selected rows: Cancel, Retry and Clear finished."""
        chosen = self.selected()
        menu = QMenu(self)
        cancel = QAction("Cancel", menu)
        cancel.setEnabled(any(t.can_cancel for t in chosen))
        cancel.triggered.connect(self.cancel_selected)
        retry = QAction("Retry", menu)
        retry.setEnabled(any(t.can_retry for t in chosen))
        retry.triggered.connect(self.retry_selected)
        clear = QAction("Clear finished", menu)
        clear.setEnabled(any(not t.active for t in self.manager.transfers))
        clear.triggered.connect(self.manager.clear_finished)
        menu.addActions([cancel, retry])
        menu.addSeparator()
        menu.addAction(clear)
        return menu
