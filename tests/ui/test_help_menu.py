"""The Help menu: shortcuts read from the window's actions, data folders, About."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from app import __version__
from app.vault import Vault
from tests.helpers.windows import WAIT, open_window
from ui.help_menu import DataFoldersDialog, ShortcutsDialog, about_text, versions


def _entry(window: object, text: str) -> object:
    menu = window.help_menu  # type: ignore[attr-defined]
    return next(a for a in menu.actions() if a.text() == text)


def test_shortcuts_list_the_windows_real_keys(qtbot: QtBot, vault: Vault) -> None:
    window = open_window(qtbot, vault)
    _entry(window, "Keyboard Shortcuts").trigger()
    qtbot.waitUntil(lambda: window.findChild(ShortcutsDialog) is not None, timeout=WAIT)
    dialog = window.findChild(ShortcutsDialog)
    table = dialog.table
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert rows["Rename"] == "F2"
    assert rows["Quick preview"] == "Space"
    assert rows["Settings"] == "Ctrl+," and rows["Keyboard Shortcuts"] == "Ctrl+/"
    # Every key shown really is an action's shortcut in this window.
    assert all(keys for keys in rows.values())
    dialog.close()


def test_data_folders_open_in_the_file_manager(
    qtbot: QtBot, vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    dialog = DataFoldersDialog(vault.paths)
    qtbot.addWidget(dialog)
    titles = [title for title, _path, _why in dialog.places]
    assert titles == ["Files and catalog", "Logs", "Settings", "Cache"]
    dialog.open_buttons[1].click()
    assert [Path(u.toLocalFile()) for u in opened] == [vault.paths.data / "logs"]
    assert (vault.paths.data / "logs").is_dir()


def test_about_names_the_versions(
    qtbot: QtBot, vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = dict(versions())
    assert names["Media Vault"] == __version__
    assert names["PyMuPDF"][0].isdigit() and names["Qt"][0] == "6"
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", lambda _parent, _title, text: shown.append(text))
    window = open_window(qtbot, vault)
    _entry(window, "About Media Vault").trigger()
    assert shown == [about_text()]
    assert "PyMuPDF" in shown[0] and __version__ in shown[0]
