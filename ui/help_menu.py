"""The Help menu: keyboard shortcuts, where the vault keeps its data and logs, About.

The shortcuts list is read from the window's own actions when it opens, so it
never disagrees with what the keys do.
"""

from __future__ import annotations

import platform
import sqlite3
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.logs import log_file
from app.paths import VaultPaths


def _package_version(name: str) -> str:
    """An installed distribution's version, without importing it (MuPDF stays out of
    the window's process)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> list[tuple[str, str]]:
    """``(component, version)`` for the About box."""
    return [
        ("Media Vault", __version__),
        ("Qt", qVersion()),
        ("PySide6", pyside_version),
        ("PyMuPDF", _package_version("PyMuPDF")),
        ("Pillow", _package_version("Pillow")),
        ("boto3", _package_version("boto3")),
        ("SQLite", sqlite3.sqlite_version),
        ("Python", platform.python_version()),
    ]


def shortcut_rows(actions: list[QAction]) -> list[tuple[str, str]]:
    """``(what, keys)`` for each action with a shortcut, by name, without duplicates."""
    rows: dict[tuple[str, str], None] = {}
    for action in actions:
        keys = [
            k.toString(QKeySequence.SequenceFormat.NativeText)
            for k in action.shortcuts()
            if not k.isEmpty()
        ]
        if keys:
            what = action.text().replace("&", "").rstrip("…").rstrip(".")
            rows[(what, ", ".join(keys))] = None
    return sorted(rows, key=lambda row: row[0].casefold())


class ShortcutsDialog(QDialog):
    """A two-column table of the window's keyboard shortcuts."""

    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setHorizontalHeaderLabels(["Action", "Shortcut"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setAccessibleName("Keyboard shortcuts")
        for row, (what, keys) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(what))
            self.table.setItem(row, 1, QTableWidgetItem(keys))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(460, 520)


class DataFoldersDialog(QDialog):
    """Where the catalog, files, cache, settings and logs are, each with an Open button."""

    def __init__(self, paths: VaultPaths, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Where Your Data Lives")
        self.places: list[tuple[str, Path, str]] = [
            ("Files and catalog", paths.data, "Your files and the catalog: back this up."),
            ("Logs", log_file(paths).parent, "What Media Vault did, for reporting problems."),
            ("Settings", paths.config, "Preferences and the bucket's settings (no keys)."),
            ("Cache", paths.cache, "Thumbnails and previews; rebuilt when deleted."),
        ]
        grid = QGridLayout()
        self.open_buttons: list[QPushButton] = []
        for row, (title, path, why) in enumerate(self.places):
            label = QLabel(f"<b>{title}</b><br>{why}<br><code>{path}</code>", self)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            button = QPushButton("Open", self)
            button.setToolTip(f"Show {path} in the file manager")
            button.setAccessibleName(f"Open the {title.lower()} folder")
            button.clicked.connect(lambda _=False, p=path: self.open_folder(p))
            grid.addWidget(label, row, 0)
            grid.addWidget(button, row, 1)
            self.open_buttons.append(button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(buttons)
        self.opened: list[Path] = []

    def open_folder(self, path: Path) -> None:
        """Show ``path`` in the desktop's file manager (made first if missing)."""
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass
        self.opened.append(path)
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            QMessageBox.information(
                self, "Media Vault", f"No file manager could be started. The folder is:\n{path}"
            )


def about_text() -> str:
    """The About box's text: what the app is, and the versions it runs on."""
    rows = "".join(
        f"<tr><td>{name}</td><td>&nbsp;{version}</td></tr>" for name, version in versions()
    )
    return (
        f"<h3>Media Vault {__version__}</h3>"
        "<p>Your photos, videos, music and documents in one catalog on this computer, "
        "kept safe in your own S3-compatible bucket.</p>"
        f"<table>{rows}</table>"
    )


def help_menu(parent: QWidget, paths: VaultPaths, actions: Callable[[], list[QAction]]) -> QMenu:
    """The Help menu; ``actions()`` gives the actions the shortcuts list shows, when it opens."""
    menu = QMenu("&Help", parent)
    shortcuts = menu.addAction("Keyboard Shortcuts")
    shortcuts.setShortcut(QKeySequence("Ctrl+/"))
    shortcuts.triggered.connect(
        lambda _=False: _show(ShortcutsDialog(shortcut_rows(actions()), parent))
    )
    folders = menu.addAction("Where Your Data Lives")
    folders.triggered.connect(lambda _=False: _show(DataFoldersDialog(paths, parent)))
    menu.addSeparator()
    about = menu.addAction("About Media Vault")
    about.setMenuRole(QAction.MenuRole.AboutRole)
    about.triggered.connect(
        lambda _=False: QMessageBox.about(parent, "About Media Vault", about_text())
    )
    return menu


def _show(dialog: QDialog) -> None:
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
