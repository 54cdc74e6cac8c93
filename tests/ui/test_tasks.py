"""ui.tasks: results and errors come back on the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThread
from pytestqt.qtbot import QtBot

from ui.tasks import TaskManager


@pytest.fixture
def tasks(qtbot: QtBot) -> Iterator[TaskManager]:
    manager = TaskManager(max_threads=2)
    yield manager
    manager.shutdown()


def test_result_arrives_on_gui_thread(qtbot: QtBot, tasks: TaskManager) -> None:
    gui = QThread.currentThread()
    seen: dict[str, object] = {}

    def work() -> int:
        seen["worker"] = threading.current_thread() is threading.main_thread()
        return 42

    def done(value: int) -> None:
        seen["value"] = value
        seen["on_gui"] = QThread.currentThread() is gui

    tasks.run(work, done)
    assert "value" not in seen  # never delivered from inside run()
    qtbot.waitUntil(lambda: "value" in seen, timeout=5000)
    assert seen == {"worker": False, "value": 42, "on_gui": True}
    assert not tasks.busy


def test_error_goes_to_on_error(qtbot: QtBot, tasks: TaskManager) -> None:
    errors: list[BaseException] = []

    def fail() -> None:
        raise ValueError("boom")

    tasks.run(fail, lambda _: pytest.fail("no result expected"), errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert isinstance(errors[0], ValueError)


def test_unhandled_error_is_logged(
    qtbot: QtBot, tasks: TaskManager, caplog: pytest.LogCaptureFixture
) -> None:
    def fail() -> None:
        raise RuntimeError("bug")

    tasks.run(fail, name="failing")
    qtbot.waitUntil(lambda: not tasks.busy, timeout=5000)
    assert "background task failing failed" in caplog.text
    assert "RuntimeError: bug" in caplog.text


def test_cancelled_and_after_shutdown_are_dropped(qtbot: QtBot, tasks: TaskManager) -> None:
    got: list[int] = []
    release = threading.Event()
    task = tasks.run(lambda: release.wait(5) and 1, got.append)
    task.cancel()
    release.set()
    qtbot.waitUntil(lambda: not tasks.busy, timeout=5000)
    assert got == []

    tasks.shutdown()
    late = tasks.run(lambda: 2, got.append)
    assert late.cancelled
    qtbot.wait(50)
    assert got == []


def test_a_destroyed_owner_gets_no_callback(qtbot: QtBot, tasks: TaskManager) -> None:
    from PySide6.QtWidgets import QWidget

    gate = threading.Event()
    got: list[object] = []
    owner, other = QWidget(), QWidget()
    tasks.run(gate.wait, got.append, got.append, owner=owner)
    tasks.run(gate.wait, lambda r: got.append(("other", r)), owner=other)
    owner.deleteLater()
    qtbot.waitUntil(lambda: not shiboken_valid(owner), timeout=5000)
    gate.set()
    qtbot.waitUntil(lambda: not tasks.busy, timeout=5000)
    assert got == [("other", True)]
    other.deleteLater()


def shiboken_valid(obj: object) -> bool:
    from shiboken6 import isValid

    return bool(isValid(obj))
