"""Shared by the window's tests: garbage collected on the GUI thread only, as the
application does, and the viewers' worker processes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication

from app.viewer_jobs import viewer_pool
from app.workers import WorkerPool
from ui.collector import GuiThreadCollector


@pytest.fixture(autouse=True, scope="package")
def gui_thread_collector(qapp: QApplication) -> Iterator[GuiThreadCollector]:
    collector = GuiThreadCollector(qapp)
    yield collector
    collector.close()
    collector.deleteLater()


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    """One real viewer worker per test module, as the window shares one pool
    (starting a worker takes a second or two)."""
    workers = viewer_pool(workers=1)
    yield workers
    workers.close()
