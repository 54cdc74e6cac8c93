"""The sandboxed worker pool on its own: answers, warm start, failures, closing."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.thumbnails import handle
from app.viewer_jobs import viewer_pool
from app.workers import CANCEL_GRACE, Cancelled, NoWorker, WorkerPool


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    workers = WorkerPool(handle, name="test", workers=2, timeout=20)
    yield workers
    workers.close()


def test_a_request_gets_the_handlers_answer(pool: WorkerPool) -> None:
    header, payload = pool.run({"path": "/nonexistent", "size": "x"})
    assert header == {
        "ok": False,
        "reason": "the request was malformed",
        "error": header["error"],
    }
    assert payload == b""


def test_warm_starts_every_worker_ahead_of_the_first_request(pool: WorkerPool) -> None:
    assert pool.worker_pids() == []
    pool.warm({"path": "/nonexistent", "mime": "image/png", "size": 8})
    deadline = time.monotonic() + 60
    while len(pool.worker_pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(pool.worker_pids()) == 2
    started = set(pool.worker_pids())
    header, _ = pool.run({"path": "/nonexistent", "mime": "image/png", "size": 8})
    assert header["ok"] is False and "could not be read" in header["reason"]
    assert set(pool.worker_pids()) == started  # the warm workers answered; none replaced


def test_a_closed_pool_refuses_work(pool: WorkerPool) -> None:
    pool.close()
    with pytest.raises(NoWorker):
        pool.run({"path": "/nonexistent", "mime": "image/png", "size": 8})
    pool.warm()  # a no-op now, not an error
    assert pool.worker_pids() == []


def test_a_cancelled_slow_request_frees_its_worker_soon(corpus: Path) -> None:
    slow = corpus / "broken" / "test_2548.pdf"  # MuPDF needs over a minute for its page
    with viewer_pool(workers=1) as pool:
        pool.run({"job": "warm"})
        cancel = threading.Event()
        threading.Timer(0.5, cancel.set).start()
        started = time.monotonic()
        with pytest.raises(Cancelled):
            pool.run({"job": "pdf.page", "path": str(slow), "page": 0, "zoom": 1.0}, cancel=cancel)
        assert time.monotonic() - started < 0.5 + CANCEL_GRACE + 3
        # The next request gets a fresh worker at once, not the busy one.
        header, _ = pool.run({"job": "pdf.open", "path": str(corpus / "pdf" / "crazyones.pdf")})
        assert header["ok"] and header["page_count"] == 1


def test_closing_the_pool_under_a_request_is_not_reported_as_a_crash(
    corpus: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Quitting the app while a worker is busy kills it: the request in flight ends
    with NoWorker, and the log does not say the worker died."""
    slow = corpus / "broken" / "test_2548.pdf"  # MuPDF needs over a minute for its page
    pool = viewer_pool(workers=1)
    pool.run({"job": "warm"})
    threading.Timer(0.5, pool.close).start()
    with pytest.raises(NoWorker):
        pool.run({"job": "pdf.page", "path": str(slow), "page": 0, "zoom": 1.0})
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_a_cancelled_quick_request_keeps_its_worker(pool: WorkerPool) -> None:
    pool.run({"path": "/nonexistent", "mime": "image/png", "size": 8})
    (pid,) = pool.worker_pids()[:1]
    cancel = threading.Event()
    cancel.set()  # given up before it starts: it still gets CANCEL_GRACE to answer
    header, _ = pool.run({"path": "/nonexistent", "mime": "image/png", "size": 8}, cancel=cancel)
    assert header["ok"] is False
    assert pid in pool.worker_pids()
