"""The one way to run work off the GUI thread.

:class:`TaskManager` runs a plain callable on a :class:`QThreadPool` and
delivers its result, or the exception it raised, back on the GUI thread
through a queued signal. It follows anki's ``aqt/taskman.py`` and picard's
``run_task``.

Thread affinity, the contract every caller keeps:

* The callable runs on a pool thread. It must not touch any widget, item
  model, ``QPixmap`` or other GUI object, and must not share a SQLAlchemy
  session or ORM object with another thread: it calls :mod:`app`, which opens
  its own session, and returns plain data (frozen dataclasses, ``bytes``,
  ``QImage``).
* ``on_done`` and ``on_error`` run on the GUI thread, in a later turn of the
  event loop, never from inside :meth:`TaskManager.run`.
* Results of a cancelled task, or that arrive after :meth:`TaskManager.shutdown`,
  are dropped without calling anything: a stale answer is not an error.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(eq=False)
class Task(Generic[T]):
    """A handle on one submitted callable.

    Attributes:
        name: a short label for logs.
        cancelled: set by :meth:`cancel`; the callable may also poll it.
    """

    name: str
    fn: Callable[[], T]
    on_done: Callable[[T], None] | None
    on_error: Callable[[BaseException], None] | None
    _cancelled: threading.Event = field(default_factory=threading.Event)

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called (safe from any thread)."""
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Drop the result when it comes. Does not interrupt a running callable."""
        self._cancelled.set()


class _Runnable(QRunnable):
    def __init__(self, task: Task[Any], relay: _Relay) -> None:
        super().__init__()
        self._task = task
        self._relay = relay

    def run(self) -> None:  # runs on a pool thread
        task = self._task
        if task.cancelled:
            self._relay.finished.emit(task, False, None)
            return
        try:
            result = task.fn()
        except BaseException as exc:
            self._relay.finished.emit(task, False, exc)
        else:
            self._relay.finished.emit(task, True, result)


class _Relay(QObject):
    """Lives on the GUI thread; its queued signal carries results home."""

    finished = Signal(object, bool, object)


class TaskManager(QObject):
    """Runs callables on a thread pool and calls back on the GUI thread.

    Create it on the GUI thread. Keep one manager per latency class
    (interactive listing and previews, bulk thumbnails and imports,
    transfers) so that a long import never delays a folder listing.

    Attributes:
        pool: the thread pool the callables run on.
    """

    def __init__(
        self, parent: QObject | None = None, *, max_threads: int | None = None, name: str = "tasks"
    ) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        if max_threads is not None:
            self.pool.setMaxThreadCount(max_threads)
        self.pool.setObjectName(name)
        self._relay = _Relay(self)
        # Queued even though the relay lives on this thread: callbacks always run
        # in a later event-loop turn, whichever thread emitted.
        self._relay.finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._pending: set[Task[Any]] = set()
        self._closed = False

    def run(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        *,
        name: str = "",
        owner: QObject | None = None,
    ) -> Task[T]:
        """Run ``fn()`` on the pool; then ``on_done(result)`` or ``on_error(exc)`` here.

        Without ``on_error``, an exception is logged with its traceback. Must
        be called on the GUI thread. After :meth:`shutdown`, the task is
        returned already cancelled and never runs. With an ``owner`` (the
        dialog whose widgets the callbacks touch), the task is cancelled when
        the owner is destroyed, so no callback reaches a deleted widget.
        """
        task: Task[T] = Task(name or getattr(fn, "__name__", "task"), fn, on_done, on_error)
        if self._closed:
            task.cancel()
            return task
        if owner is not None:
            owner.destroyed.connect(lambda _=None, task=task: task.cancel())
        self._pending.add(task)
        self.pool.start(_Runnable(task, self._relay))
        return task

    @property
    def busy(self) -> bool:
        """True while a submitted task has not been delivered yet."""
        return bool(self._pending)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel queued work, wait for running callables, drop their results.

        Returns False if something was still running after ``timeout_ms``.
        """
        self._closed = True
        for task in self._pending:
            task.cancel()
        self.pool.clear()
        done = self.pool.waitForDone(timeout_ms)
        self._pending.clear()
        return bool(done)

    @Slot(object, bool, object)
    def _deliver(self, task: Task[Any], ok: bool, payload: Any) -> None:
        self._pending.discard(task)
        if task.cancelled or self._closed:
            return
        if ok:
            if task.on_done is not None:
                task.on_done(payload)
        elif task.on_error is not None:
            task.on_error(payload)
        else:
            log.error(
                "background task %s failed",
                task.name,
                exc_info=(type(payload), payload, payload.__traceback__),
            )
