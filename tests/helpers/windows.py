"""Opening the main window in a test and waiting for what it lists."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.vault import Vault
from ui.item_model import ItemModel
from ui.main_window import MainWindow

WAIT = 20_000  # ms: two cores are shared with other test runs


def listed(qtbot: QtBot, window: MainWindow, timeout: int = WAIT) -> None:
    """Wait until the current place's first page is in (and the view asked for no more)."""
    qtbot.waitUntil(
        lambda: window.model.source is not None and not window.model.loading, timeout=timeout
    )


def open_window(qtbot: QtBot, vault: Vault, *, active: bool = False) -> MainWindow:
    """A shown window on ``vault`` (made the active window if asked), its first page in."""
    window = MainWindow(vault)
    qtbot.addWidget(window)
    window.show()
    if active:
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=WAIT)
    listed(qtbot, window)
    return window


def names(model: ItemModel) -> list[str]:
    """The names of the rows loaded, in order."""
    return [model.item(row).name for row in range(model.rowCount())]
