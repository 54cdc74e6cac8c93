"""Starting the application: colours, and errors nobody caught."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from ui.app import COLOR_SCHEME_ENV, follow_color_scheme, install_crash_handler


def _boxes() -> list[QMessageBox]:
    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
    ]


def test_an_uncaught_error_is_logged_and_told_in_words(
    qtbot: QtBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log_path = tmp_path / "mediavault.log"
    crashes = install_crash_handler(log_path)
    try:
        with caplog.at_level(logging.ERROR):
            # What PySide6 does with an exception a slot let escape.
            try:
                raise RuntimeError("the disk said no\nsecond line")
            except RuntimeError as exc:
                import sys

                sys.excepthook(type(exc), exc, exc.__traceback__)
            qtbot.waitUntil(lambda: bool(_boxes()), timeout=5000)
        (box,) = _boxes()
        assert "Something went wrong" in box.text()
        assert "RuntimeError: the disk said no." in box.informativeText()
        assert str(log_path) in box.informativeText()
        assert "Traceback" not in box.text() + box.informativeText()
        assert "the disk said no" in caplog.text and "Traceback" in caplog.text
        box.close()

        # A worker thread's error reaches the user too, once.
        worker = threading.Thread(target=lambda: 1 / 0, name="worker")
        with caplog.at_level(logging.ERROR):
            worker.start()
            worker.join()
            qtbot.waitUntil(lambda: bool(_boxes()), timeout=5000)
        assert "ZeroDivisionError" in _boxes()[0].informativeText()
        assert "thread worker" in caplog.text
        _boxes()[0].close()
    finally:
        crashes.uninstall()


def test_dark_is_followed_when_asked(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before_style, before_palette = app.style().name(), app.palette()
    monkeypatch.setenv(COLOR_SCHEME_ENV, "dark")
    try:
        follow_color_scheme(app)
        window = app.palette().color(QPalette.ColorRole.Window)
        text = app.palette().color(QPalette.ColorRole.WindowText)
        assert window.lightness() < 80 and text.lightness() > 200
        monkeypatch.setenv(COLOR_SCHEME_ENV, "light")
        follow_color_scheme(app)
        assert app.palette().color(QPalette.ColorRole.Window).lightness() > 180
    finally:
        app.setStyle(before_style)
        app.setPalette(before_palette)
    QTimer.singleShot(0, lambda: None)
