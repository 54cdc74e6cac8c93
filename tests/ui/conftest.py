"""Window tests collect garbage on the GUI thread only, as the application does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication

from ui.collector import GuiThreadCollector


@pytest.fixture(autouse=True, scope="package")
def gui_thread_collector(qapp: QApplication) -> Iterator[GuiThreadCollector]:
    collector = GuiThreadCollector(qapp)
    yield collector
    collector.close()
    collector.deleteLater()
