"""Sandboxed worker processes for decoding untrusted files.

Imported files are untrusted, and image, PDF, video and document decoders are
where hostile files do their work: a crash, a hang or runaway memory in
native code must cost a worker process, never the application. A
:class:`WorkerPool` keeps a few such processes, each limited like the
import's staging processes (address space, CPU, see :mod:`app.processes`),
and gives every request a wall-clock time limit. A worker that hangs,
crashes or answers nonsense is killed and replaced on the next request.

The protocol is one JSON request per message, answered by a JSON header, a
newline and a binary payload (raw pixels, text): never pickles, so the
answer of even a compromised worker is just data this process checks.

Workers start with multiprocessing's "spawn" method, so the frozen build
needs no extra entry point; they end with this process even when it is
killed (:func:`app.processes.die_with_parent`). No Qt here.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from app.processes import allow_cpu, brief, die_with_parent, limit_resources

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.context import SpawnProcess

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], tuple[dict[str, Any], bytes]]
"""A worker's job: a request in, a JSON-able header and a binary payload out.

It runs in the worker process. ``{"ok": False, "reason": ...}`` reports a bad
file; ``"restart": True`` in the header ends the worker after the answer
(its interpreter state is suspect). An exception it lets through becomes a
"damaged file" answer.
"""

MAX_REQUEST = 64 * 1024
_START_TIMEOUT = 60.0  # a fresh interpreter on a busy machine; not the file's time


class WorkerFailed(Exception):
    """A worker could not produce an answer; the message is the reason for the user."""


class NoWorker(WorkerFailed):
    """No worker could be started, or the pool is closed: this computer's trouble."""


class Cancelled(WorkerFailed):
    """The caller gave up on the request, and it did not end soon after."""


CANCEL_GRACE = 1.0
"""Seconds a cancelled request may still take before its worker is killed.

Most requests end within it, and the worker stays for the next one; only a
slow one (a page that takes a minute to draw) costs a worker's restart.
"""


# --- the worker process -----------------------------------------------------


def _serve(
    conn: Connection, parent: int, memory_limit: int, cpu_seconds: int, handler: Handler
) -> None:
    """The body of a worker process: limits itself, then answers requests until EOF."""
    die_with_parent(parent)
    # Ctrl+C in a terminal reaches the whole process group; the parent decides
    # when a worker ends, so a file is never blamed for the user's keypress.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Decoders print warnings about damaged files; nobody reads them.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    limit_resources(memory_limit)
    warnings.simplefilter("ignore")  # DecompressionBombWarning & co.: the error is what counts
    try:
        conn.send_bytes(b'{"ready": true}')
        while True:
            try:
                line = conn.recv_bytes(MAX_REQUEST)
            except (EOFError, OSError):
                return
            allow_cpu(cpu_seconds)
            header, payload = _answer(handler, line)
            conn.send_bytes(json.dumps(header).encode("utf-8") + b"\n" + payload)
            if header.get("restart"):
                return
    except (EOFError, OSError):  # the parent went away mid-answer
        return


def _answer(handler: Handler, line: bytes) -> tuple[dict[str, Any], bytes]:
    try:
        request = json.loads(line)
        if not isinstance(request, dict):
            raise TypeError("the request is not an object")
    except (ValueError, TypeError) as exc:
        return {"ok": False, "reason": "the request was malformed", "error": repr(exc)}, b""
    try:
        return handler(request)
    except MemoryError:
        return {
            "ok": False,
            "reason": "the file needs more memory than allowed",
            "restart": True,
        }, b""
    except ImportError as exc:
        # A half-imported decoder (typically the memory limit is too low for
        # its libraries) poisons this interpreter: start afresh.
        reason = f"the reader could not start ({brief(exc)})"
        return {"ok": False, "reason": reason, "error": repr(exc), "restart": True}, b""
    except Exception as exc:  # any other decoder error means a damaged file
        return damaged("file", exc), b""


def damaged(what: str, exc: BaseException) -> dict[str, Any]:
    """The answer for a file a decoder choked on: "the image is damaged (…)"."""
    if isinstance(exc, OSError) and exc.errno is not None:  # a real I/O error
        return {"ok": False, "reason": f"the file could not be read ({exc.strerror})"}
    return {
        "ok": False,
        "reason": f"the {what} is damaged ({brief(exc)})",
        "error": f"{type(exc).__name__}: {exc}"[:500],
    }


# --- this process's side -----------------------------------------------------


class _Worker:
    """One worker process, started lazily and replaced after any failure.

    :meth:`run` is called by one thread at a time (:class:`WorkerPool` hands
    workers out through a queue); :meth:`retire` may be called from any thread.
    """

    def __init__(self, pool: WorkerPool) -> None:
        self._pool = pool
        self._lock = threading.Lock()
        self._proc: SpawnProcess | None = None
        self._conn: Connection | None = None
        self._retired = threading.Event()

    @property
    def pid(self) -> int | None:
        """The process id of the running worker, or None."""
        proc = self._proc
        return proc.pid if proc is not None and proc.is_alive() else None

    def run(
        self,
        request: dict[str, Any],
        timeout: float,
        reader: str,
        cancel: threading.Event | None = None,
    ) -> tuple[Any, bytes]:
        """Sends one request; returns the answer's header and payload.

        Raises:
            WorkerFailed: time-out, crash or nonsense; the worker is gone.
            Cancelled: ``cancel`` was set and the answer did not follow
                within :data:`CANCEL_GRACE`; the worker is gone.
        """
        conn = self.connection()
        what = request.get("path", request.get("job", "a request"))
        try:
            conn.send_bytes(json.dumps(request).encode("utf-8"))
            self._wait(conn, timeout, reader, cancel)
            answer = conn.recv_bytes(self._pool.max_reply)
        except (EOFError, OSError) as exc:
            code = self.stop()
            if not self._retired.is_set():  # retired: killed by close(), not by the file
                log.warning("%s worker died on %s (exit %s)", self._pool.name, what, code)
            reason = f"the {reader} stopped unexpectedly (it crashed or ran out of memory)"
            raise WorkerFailed(reason) from exc
        head, _, payload = answer.partition(b"\n")
        try:
            header = json.loads(head)
            if not isinstance(header, dict):
                raise TypeError("the header is not an object")
        except (ValueError, TypeError) as exc:
            self.stop()
            log.error("%s worker sent a malformed answer for %s", self._pool.name, what)
            raise WorkerFailed(f"the {reader} failed") from exc
        if header.get("restart"):
            self.stop()  # its interpreter state is suspect (MemoryError, broken import)
        return header, payload

    def _wait(
        self, conn: Connection, timeout: float, reader: str, cancel: threading.Event | None
    ) -> None:
        """Returns when the answer is there; stops the worker on time-out or cancel."""
        deadline = time.monotonic() + timeout
        given_up = False
        while True:
            left = deadline - time.monotonic()
            # Short polls only to notice `cancel`; an answer wakes poll at once.
            if conn.poll(max(0.0, min(left, 0.05) if cancel is not None else left)):
                return
            if cancel is not None and cancel.is_set() and not given_up:
                given_up = True
                deadline = min(deadline, time.monotonic() + CANCEL_GRACE)
                continue
            if time.monotonic() >= deadline:
                self.stop()
                if given_up:
                    raise Cancelled(f"the {reader} was stopped")
                raise WorkerFailed(f"the {reader} stopped after {timeout:g} s")

    def connection(self) -> Connection:
        """The pipe to a running worker, starting one if needed (blocks while it starts)."""
        with self._lock:
            if self._retired.is_set():
                raise NoWorker(f"the {self._pool.name} workers are closed")
            if self._proc is not None and self._proc.is_alive() and self._conn is not None:
                return self._conn
        self.stop()
        pool = self._pool
        context = multiprocessing.get_context("spawn")
        parent_end, child_end = context.Pipe(duplex=True)
        proc = context.Process(
            target=_serve,
            args=(child_end, os.getpid(), pool.memory_limit, pool.cpu_seconds, pool.handler),
            name=f"{pool.name}-worker",
            daemon=True,
        )
        try:
            pool.launch(proc)
        except (OSError, RuntimeError) as exc:  # RuntimeError: the launcher was shut down
            parent_end.close()
            raise NoWorker(f"no {pool.name} worker could be started ({exc})") from exc
        finally:
            # Only the child holds its end now, so its death is an EOF here.
            child_end.close()
        with self._lock:
            self._proc, self._conn = proc, parent_end
            retired = self._retired.is_set()
        if retired:  # close() ran while this one was starting
            self.stop()
            raise NoWorker(f"the {pool.name} workers are closed")
        try:
            ready = parent_end.poll(_START_TIMEOUT) and parent_end.recv_bytes(MAX_REQUEST)
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.stop()
            raise NoWorker(f"the {pool.name} worker did not start")
        return parent_end

    def retire(self) -> None:
        """Kills the process and starts no other (any thread).

        Only the process: a :meth:`run` waiting on it sees EOF and cleans up.
        """
        with self._lock:
            self._retired.set()
            proc = self._proc
        if proc is not None:
            proc.kill()

    def stop(self) -> int | None:
        """Kills the worker and closes its pipe; returns its exit code. Idempotent."""
        with self._lock:
            proc, conn = self._proc, self._conn
            self._proc = self._conn = None
        if conn is not None:
            conn.close()
        if proc is None:
            return None
        proc.kill()
        proc.join(5)
        code = proc.exitcode
        try:
            proc.close()
        except ValueError:  # still running after 5 s: unkillable; leave it to the OS
            pass
        return code


class WorkerPool:
    """A few sandboxed worker processes answering requests with ``handler``.

    :meth:`run` may be called from any number of threads (it blocks: call it
    from a pool thread, never the GUI thread); at most ``workers`` requests
    run at once and further callers wait for a free worker.

    Attributes:
        handler: the job each worker runs; a module-level function, since
            spawned processes import it by name.
        name: what logs and messages call the workers ("thumbnail").
        timeout: default seconds one request may take.
        memory_limit: address-space limit of each worker in bytes (POSIX only).
        max_reply: the largest answer accepted, in bytes.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        name: str,
        workers: int = 1,
        timeout: float = 10.0,
        memory_limit: int = 1 << 30,
        max_reply: int = 64 << 20,
    ) -> None:
        """Prepares the pool; no process starts until :meth:`run` or :meth:`warm`."""
        self.handler = handler
        self.name = name
        self.timeout = timeout
        self.memory_limit = memory_limit
        self.max_reply = max_reply
        # The CPU limit is a backstop for a worker this process cannot reach,
        # not the time bound (same as app.extract).
        self.cpu_seconds = int(timeout * 3) + 10
        # Linux ends a worker when the *thread* that started it ends (see
        # app.processes.die_with_parent), and callers' pool threads come and
        # go: so one long-lived thread starts every worker.
        self._launcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{name}-launcher")
        self._workers = [_Worker(self) for _ in range(max(1, workers))]
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        for worker in self._workers:
            self._idle.put(worker)
        self._closed = False

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def run(
        self,
        request: dict[str, Any],
        *,
        timeout: float | None = None,
        reader: str = "reader",
        cancel: threading.Event | None = None,
    ) -> tuple[dict[str, Any], bytes]:
        """Has a worker answer ``request``; blocks until it does.

        Args:
            request: JSON-able; the handler reads it.
            timeout: wall-clock seconds for this request (default :attr:`timeout`).
            reader: names the decoder in reasons ("the PDF reader stopped after 10 s").
            cancel: set it when the answer is no longer wanted: a request
                still running :data:`CANCEL_GRACE` seconds later has its
                worker killed (raising :class:`Cancelled`), so that it does
                not hold a worker that others wait for.

        Returns:
            The worker's header and payload. ``header["ok"]`` False with a
            ``"reason"`` is the handler's verdict on a bad file.

        Raises:
            WorkerFailed: the worker hung, crashed or answered nonsense (it is
                replaced); :class:`NoWorker` if none could start or the pool is closed.
        """
        worker = self._idle.get()
        if worker is None:  # closed: pass the wake-up on
            self._idle.put(None)
            raise NoWorker(f"the {self.name} workers are closed")
        try:
            if self._closed:
                raise NoWorker(f"the {self.name} workers are closed")
            limit = self.timeout if timeout is None else timeout
            return worker.run(request, limit, reader, cancel)
        except WorkerFailed:
            if self._closed:  # killed by close(), not by the file
                raise NoWorker(f"the {self.name} workers are closed") from None
            raise
        finally:
            if self._closed:
                worker.stop()
            self._idle.put(worker)

    def warm(self, request: dict[str, Any] | None = None) -> None:
        """Starts the workers in the background, so the first request need not wait.

        ``request``, when given, is then sent to each worker (to load its
        decoders ahead of time); its answer is dropped.
        """

        def start() -> None:
            worker = self._idle.get()  # taken like a request, so no run() races the start
            if worker is None:
                self._idle.put(None)
                return
            try:
                worker.connection()
                if request is not None:
                    worker.run(request, self.timeout, "reader")
            except WorkerFailed as exc:
                log.info("%s worker not started early: %s", self.name, exc)
            finally:
                self._idle.put(worker)

        for _ in self._workers:
            threading.Thread(target=start, name=f"{self.name}-warm", daemon=True).start()

    def worker_pids(self) -> list[int]:
        """Process ids of the running workers, for diagnostics and tests."""
        return [pid for pid in (w.pid for w in self._workers) if pid is not None]

    def close(self) -> None:
        """Stops all workers at once. Idempotent; calls in flight raise :class:`NoWorker`."""
        if self._closed:
            return
        self._closed = True
        self._idle.put(None)  # wakes every waiter, one after the other (see run)
        for worker in self._workers:
            worker.retire()  # a busy one's caller sees EOF and stops it itself
        while True:
            try:
                idle = self._idle.get_nowait()
            except queue.Empty:
                break
            if idle is not None:
                idle.stop()
        self._idle.put(None)
        self._launcher.shutdown(wait=False)

    def launch(self, proc: SpawnProcess) -> None:
        """Starts ``proc`` from the pool's long-lived launcher thread."""
        self._launcher.submit(proc.start).result()
