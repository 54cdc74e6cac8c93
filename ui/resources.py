"""Finding Media Vault's data files (icons, the .desktop entry).

``resources/`` is data, not a package. It is found, in order:

1. inside a PyInstaller bundle (``sys._MEIPASS/resources``);
2. next to the source tree (``<repo>/resources``), which also covers an
   editable install;
3. in ``<prefix>/share/mediavault/resources`` after a wheel install.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPixmap

ICON_SVG = "mediavault.svg"
ICON_PNG = "mediavault.png"
DESKTOP_FILE = "mediavault.desktop"


def _candidates() -> list[Path]:
    found: list[Path] = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        found.append(Path(bundle) / "resources")
    found.append(Path(__file__).resolve().parents[1] / "resources")
    found.append(Path(sys.prefix) / "share" / "mediavault" / "resources")
    return found


@cache
def resources_dir() -> Path | None:
    """The first directory holding Media Vault's resources, or None if none does."""
    for candidate in _candidates():
        if (candidate / ICON_SVG).is_file() or (candidate / ICON_PNG).is_file():
            return candidate
    return None


def resource_path(name: str) -> Path:
    """The path of resource ``name``.

    Raises:
        FileNotFoundError: no resources directory holds it.
    """
    base = resources_dir()
    if base is None or not (base / name).exists():
        searched = ", ".join(str(c) for c in _candidates())
        raise FileNotFoundError(f"resource {name!r} not found (searched {searched})")
    return base / name


def app_icon() -> QIcon:
    """The application icon; an empty icon (Qt's default) if the files are missing.

    Must be called on the GUI thread after the QApplication exists.
    """
    icon = QIcon()
    base = resources_dir()
    if base is None:
        return icon
    # The PNG covers platforms without the SVG icon engine; the SVG stays sharp
    # at every other size.
    if (base / ICON_PNG).is_file():
        icon.addFile(str(base / ICON_PNG), QSize(256, 256))
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
