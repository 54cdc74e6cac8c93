"""The window's icons and brushes; the files come from :mod:`app.resources`."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QSize
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPixmap

from app.resources import ICON_SVG, app_icon_files, resource_path, resources_dir


def app_icon() -> QIcon:
    """The application icon; an empty icon (Qt's default) if the files are missing.

    Must be called on the GUI thread after the QApplication exists.
    """
    icon = QIcon()
    base = resources_dir()
    if base is None:
        return icon
    # Pixel-fitted PNGs for the usual sizes (and platforms without the SVG icon
    # engine); the SVG for every other size.
    for size, png in app_icon_files():
        icon.addFile(str(png), QSize(size, size))
    if (base / ICON_SVG).is_file():
        icon.addFile(str(base / ICON_SVG))
    return icon


KINDS_WITH_ICONS = ("image", "video", "audio", "document", "other", "folder")


@cache
def kind_icon(kind: str) -> QIcon:
    """The icon of a file kind (``image``, ``video``, ``audio``, ``document``,
    ``other``) or of ``folder``: the placeholder until a thumbnail arrives.

    The desktop theme's icon when it has one (Finder and Dolphin users expect
    their own), else the one shipped in ``resources/icons``. GUI thread only.
    """
    theme = {
        "image": "image-x-generic",
        "video": "video-x-generic",
        "audio": "audio-x-generic",
        "document": "x-office-document",
        "other": "text-x-generic",
        "folder": "folder",
    }
    name = kind if kind in KINDS_WITH_ICONS else "other"
    icon = QIcon.fromTheme(theme[name])
    if icon.isNull():
        try:
            icon = QIcon(str(resource_path(f"icons/kind-{name}.svg")))
        except FileNotFoundError:
            icon = QIcon()
    return icon


def icon(name: str, theme: str = "") -> QIcon:
    """A toolbar icon: the desktop theme's ``theme`` icon when it has one, else
    ``resources/icons/<name>.svg``. GUI thread only."""
    found = QIcon.fromTheme(theme) if theme else QIcon()
    if found.isNull():
        try:
            found = QIcon(str(resource_path(f"icons/{name}.svg")))
        except FileNotFoundError:
            found = QIcon()
    return found


@cache
def checkerboard() -> QBrush:
    """The light grey checkerboard drawn under transparent pictures, as image editors do.

    Light in both palettes: a transparent logo meant for white paper stays
    readable in the dark one. Needs a QGuiApplication.
    """
    square = 8
    tile = QPixmap(2 * square, 2 * square)
    tile.fill(QColor(236, 236, 236))
    painter = QPainter(tile)
    painter.fillRect(0, 0, square, square, QColor(204, 204, 204))
    painter.fillRect(square, square, square, square, QColor(204, 204, 204))
    painter.end()
    return QBrush(tile)
