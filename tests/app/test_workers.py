"""The sandboxed worker pool on its own: answers, warm start, failures, closing."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from app.thumbnails import handle
from app.workers import NoWorker, WorkerPool


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
