"""Garbage is collected on the GUI thread, from a timer, and never elsewhere."""

from __future__ import annotations

import gc
import threading

from pytestqt.qtbot import QtBot

from ui.collector import GuiThreadCollector


class _Cycle:
    def __init__(self, found: list[str]) -> None:
        self.me = self
        self.found = found

    def __del__(self) -> None:
        self.found.append(threading.current_thread().name)


def test_cycles_are_freed_on_the_gui_thread_only(qtbot: QtBot) -> None:
    before = gc.isenabled()
    collector = GuiThreadCollector()
    try:
        assert not gc.isenabled()
        found: list[str] = []

        def make_garbage() -> None:
            for _ in range(20_000):  # far past the first threshold
                _Cycle(found)

        worker = threading.Thread(target=make_garbage, name="pool-like")
        worker.start()
        worker.join()
        assert found == []  # nothing collected on the thread that made them
        qtbot.waitUntil(lambda: len(found) == 20_000, timeout=5000)
        assert set(found) == {threading.main_thread().name}
    finally:
        collector.close()
    assert gc.isenabled() is before
