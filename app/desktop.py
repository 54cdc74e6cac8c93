"""Putting Media Vault in the desktop's application menu, for the current user.

On Linux (and other freedesktop.org desktops): the application icon at every
size goes into ``$XDG_DATA_HOME/icons/hicolor/<n>x<n>/apps/``, the SVG into
``…/scalable/apps/``, and ``mediavault.desktop`` into
``$XDG_DATA_HOME/applications/`` with an ``Exec`` line that starts this very
installation (the bundle's executable, or this Python with ``-m app``), so
the menu entry works without anything on ``PATH``. ``%F`` passes files
dropped on the launcher, which the window imports.

Windows and macOS get their menu entries from their installers (see the
README), so there :func:`install_desktop_entry` explains that instead.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import VaultError
from app.resources import DESKTOP_FILE, ICON_SVG, app_icon_files, resource_path
from storage.durable import write_atomically

APP_ID = "mediavault"


@dataclass
class DesktopInstall:
    """What :func:`install_desktop_entry` wrote.

    Attributes:
        desktop_file: the ``.desktop`` file.
        icons: the icon files.
        command: the command the entry runs.
    """

    desktop_file: Path
    icons: list[Path] = field(default_factory=list)
    command: list[str] = field(default_factory=list)


def data_home() -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share``."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if value and os.path.isabs(value) else Path.home() / ".local" / "share"


def launch_command() -> list[str]:
    """The command that starts this installation of Media Vault."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    script = Path(sys.executable).with_name(APP_ID)
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "app"]


def _exec_quote(arg: str) -> str:
    """One argument of a desktop entry's ``Exec`` key (its own quoting rules)."""
    if arg and not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`%"):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return '"' + escaped.replace("%", "%%") + '"'


def desktop_entry(command: list[str]) -> str:
    """The shipped ``mediavault.desktop`` with ``Exec``/``TryExec`` pointing at ``command``."""
    lines = resource_path(DESKTOP_FILE).read_text(encoding="utf-8").splitlines()
    exec_line = " ".join(_exec_quote(a) for a in command) + " %F"
    out: list[str] = []
    for line in lines:
        if line.startswith("Exec="):
            out.append(f"Exec={exec_line}")
        elif line.startswith("TryExec="):
            out.append(f"TryExec={command[0]}")
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def install_desktop_entry(home: Path | None = None) -> DesktopInstall:
    """Install the menu entry and icons for the current user (idempotent).

    Raises :class:`VaultError` on platforms without freedesktop menus, when the
    resources are missing, or when the files cannot be written.
    """
    if sys.platform in ("win32", "darwin"):
        where = "the Start menu" if sys.platform == "win32" else "Applications"
        raise VaultError(
            "Menu entries are made by the installer on this system.",
            f"Use the Media Vault build for this system; it adds itself to {where}.",
        )
    base = home if home is not None else data_home()
    command = launch_command()
    try:
        entry = desktop_entry(command)
        icons: list[Path] = []
        for size, png in app_icon_files():
            target = base / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(png, target)
            icons.append(target)
        svg = base / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
        svg.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(resource_path(ICON_SVG), svg)
        icons.append(svg)
        desktop = base / "applications" / f"{APP_ID}.desktop"
        desktop.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(desktop, entry)
    except FileNotFoundError as exc:
        raise VaultError(
            "Media Vault's icons or desktop file are missing from this installation.",
            "Reinstall Media Vault.",
        ) from exc
    except OSError as exc:
        raise VaultError(
            f"Could not write the menu entry: {exc.strerror or exc}.",
            f"Check that {base} is writable.",
        ) from exc
    _refresh_caches(base)
    return DesktopInstall(desktop, icons, command)


def _refresh_caches(base: Path) -> None:
    """Tell the desktop about the new entry, where its tools exist (best effort)."""
    for tool in (
        ["update-desktop-database", str(base / "applications")],
        ["gtk-update-icon-cache", "-q", "-t", str(base / "icons" / "hicolor")],
    ):
        if shutil.which(tool[0]):
            try:
                subprocess.run(tool, capture_output=True, timeout=30, check=False)
            except (OSError, subprocess.SubprocessError):
                pass


def describe(install: DesktopInstall) -> str:
    """A line for the terminal about what was installed."""
    return (
        f"Installed {install.desktop_file} ({len(install.icons)} icons); "
        f"it runs: {shlex.join(install.command)}"
    )
