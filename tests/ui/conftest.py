"""Shared by the window's tests: garbage collected on the GUI thread only, as the
application does, and the viewers' worker processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from app.vault import Vault
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


@pytest.fixture
def vault(vault_home: Path) -> Iterator[Vault]:
    """The default vault of the test's own home (``MEDIAVAULT_HOME`` points at ``vault_home``)."""
    opened = Vault.open()
    yield opened
    opened.close()
