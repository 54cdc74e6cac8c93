"""Finding Media Vault's data files (icons, the .desktop entry), without Qt.

``resources/`` is data, not a package. It is found, in order:

1. inside a PyInstaller bundle (``sys._MEIPASS/resources``);
2. next to the source tree (``<repo>/resources``), which also covers an
   editable install;
3. in ``<prefix>/share/mediavault/resources`` after a wheel install.

This is the one lookup: the window's icons (ui/resources.py) and the desktop
entry installer (app/desktop.py) both go through it.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

ICON_SVG = "mediavault.svg"
ICON_PNG = "mediavault.png"
DESKTOP_FILE = "mediavault.desktop"
# The application icon rendered at the sizes desktops ask for (resources/icons/app/).
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


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
    """The path of resource ``name`` (``"icons/tag.svg"``).

    Raises:
        FileNotFoundError: no resources directory holds it.
    """
    base = resources_dir()
    if base is None or not (base / name).exists():
        searched = ", ".join(str(c) for c in _candidates())
        raise FileNotFoundError(f"resource {name!r} not found (searched {searched})")
    return base / name


def app_icon_files() -> list[tuple[int, Path]]:
    """``(size, png)`` for each rendered size of the application icon that is present."""
    base = resources_dir()
    if base is None:
        return []
    found = [(s, base / "icons" / "app" / f"mediavault-{s}.png") for s in ICON_SIZES]
    return [(s, p) for s, p in found if p.is_file()]
