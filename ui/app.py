"""Starting the window: the QApplication, its colours, the vault, the main window,
and what happens to an error nobody caught."""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox

from app import __version__
from app.errors import VaultError
from app.logs import log_file, setup_logging
from app.paths import vault_paths
from app.vault import Vault
from ui.collector import GuiThreadCollector
from ui.main_window import MainWindow
from ui.resources import app_icon
from ui.single_instance import InstanceGuard
from ui.welcome import restore_with_progress

log = logging.getLogger(__name__)


def create_application(argv: list[str] | None = None) -> QApplication:
    """The process's QApplication (made once), named and with its icon."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        app = QApplication(list(argv) if argv is not None else sys.argv)
    app.setApplicationName("mediavault")
    app.setApplicationDisplayName("Media Vault")
    app.setOrganizationName("MediaVault")
    app.setApplicationVersion(__version__)
    # Lets Wayland and GNOME match windows to mediavault.desktop.
    app.setDesktopFileName("mediavault")
    app.setWindowIcon(app_icon())
    follow_color_scheme(app)
    if app.findChild(GuiThreadCollector) is None:
        GuiThreadCollector(app)
    return app


COLOR_SCHEME_ENV = "MEDIAVAULT_COLOR_SCHEME"  # "dark" or "light"; unset: the system's


def dark_palette() -> QPalette:
    """A calm dark palette for Fusion, for systems whose style has none of its own."""
    p = QPalette()
    base, window, text = (
        QColor(0x24, 0x26, 0x2A),
        QColor(0x2D, 0x30, 0x35),
        QColor(0xE6, 0xE6, 0xE6),
    )
    dim = QColor(0x8C, 0x90, 0x96)
    for role, color in (
        (QPalette.ColorRole.Window, window),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, QColor(0x2A, 0x2C, 0x31)),
        (QPalette.ColorRole.ToolTipBase, window),
        (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, window),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.BrightText, QColor(0xFF, 0x6B, 0x6B)),
        (QPalette.ColorRole.Link, QColor(0x6A, 0xA9, 0xEA)),
        (QPalette.ColorRole.Highlight, QColor(0x3D, 0x7E, 0xC9)),
        (QPalette.ColorRole.HighlightedText, QColor(0xFF, 0xFF, 0xFF)),
        (QPalette.ColorRole.PlaceholderText, dim),
        (QPalette.ColorRole.Mid, QColor(0x40, 0x43, 0x49)),
        (QPalette.ColorRole.Midlight, QColor(0x3A, 0x3D, 0x42)),
        (QPalette.ColorRole.Dark, QColor(0x1C, 0x1E, 0x21)),
        (QPalette.ColorRole.Shadow, QColor(0x14, 0x15, 0x17)),
    ):
        p.setColor(role, color)
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.ButtonText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, dim)
    return p


def follow_color_scheme(app: QApplication) -> None:
    """Light or dark as the system says (or ``$MEDIAVAULT_COLOR_SCHEME``), also when it
    changes while the app runs.

    Desktop platform themes (GNOME, KDE, macOS, Windows) switch Qt's palette
    themselves; where the style stays light although dark is wanted, Fusion
    with :func:`dark_palette` takes over.
    """
    hints = app.styleHints()

    def apply() -> None:
        wanted = os.environ.get(COLOR_SCHEME_ENV, "").strip().lower()
        dark = wanted == "dark" or (not wanted and hints.colorScheme() == Qt.ColorScheme.Dark)
        if dark and app.palette().color(QPalette.ColorRole.Window).lightness() > 128:
            app.setStyle("Fusion")
            app.setPalette(dark_palette())
        elif (
            not dark
            and wanted == "light"
            and app.palette().color(QPalette.ColorRole.Window).lightness() <= 128
        ):
            app.setPalette(app.style().standardPalette())

    apply()
    hints.colorSchemeChanged.connect(lambda _scheme: apply())


class _Crashes(QObject):
    """Shows unexpected errors from any thread on the GUI thread, one box at a time."""

    happened = Signal(str)

    def __init__(self, log_path: Path | None) -> None:
        super().__init__()
        self.log_path = log_path
        self.box: QMessageBox | None = None
        self.happened.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self._previous = (sys.excepthook, threading.excepthook)

    def uninstall(self) -> None:
        """Put back the hooks that were there before."""
        sys.excepthook, threading.excepthook = self._previous

    def _show(self, summary: str) -> None:
        if self.box is not None:
            return  # one at a time; the log has every one
        where = f" Details were written to {self.log_path}." if self.log_path else ""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Media Vault",
            "Something went wrong, and Media Vault stopped what it was doing.",
        )
        box.setInformativeText(f"{summary}{where} Your files are safe.")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(self._forget_box)
        box.open()
        self.box = box

    def _forget_box(self) -> None:
        self.box = None


def install_crash_handler(log_path: Path | None) -> _Crashes:
    """Log every uncaught exception (GUI thread or worker thread) with its traceback,
    and tell the user in a short message where the log is. Never a traceback on screen."""
    crashes = _Crashes(log_path)

    def summary(exc: BaseException) -> str:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"{type(exc).__name__}: {text[:200]}." if text else f"{type(exc).__name__}."

    def on_exception(
        kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QTimer.singleShot(0, QApplication.quit)
            return
        log.error("unexpected error", exc_info=(kind, exc, tb))
        crashes.happened.emit(summary(exc))

    def on_thread_exception(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        log.error(
            "unexpected error in thread %s",
            args.thread.name if args.thread else "?",
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )
        crashes.happened.emit(summary(args.exc_value))

    sys.excepthook = on_exception
    threading.excepthook = on_thread_exception
    return crashes


def run(
    home: Path | None = None, argv: list[str] | None = None, files: list[str] | None = None
) -> int:
    """Open the vault at ``home`` (None: the default one) in a window; the exit status.

    ``files`` (from the command line, or dropped on the launcher) are imported
    into the folder the window shows. When a window already has this vault
    open, they go to it instead (:mod:`ui.single_instance`), it comes to the
    front, and this start ends. Returns 1 when the vault cannot be opened,
    after telling the user why.
    """
    paths = vault_paths(home)
    setup_logging(paths)
    app = create_application(argv)
    try:
        guard = InstanceGuard(paths)
    except OSError as exc:
        return _cannot_open(f"Cannot use the vault folder {paths.data}: {exc.strerror or exc}.", "")
    if not guard.acquire():
        if guard.forward(files or []):
            log.info("handed %d file(s) to the window already open", len(files or []))
            return 0
        return _cannot_open(
            "Media Vault is already open on this vault, but its window does not answer.",
            "Wait a moment and try again, or close the other Media Vault first.",
        )
    while True:
        try:
            vault = Vault.open(home)
        except VaultError as exc:
            log.error("cannot open the vault: %s", exc)
            guard.release()
            return _cannot_open(exc.message, exc.hint)
        crashes = install_crash_handler(log_file(paths))
        window = MainWindow(vault)
        guard.files_received.connect(window.import_from_outside)
        window.show()
        if files:
            window.import_from_outside(files)
            files = None
        # What start-up made (modules, Qt wrappers) lives as long as the app: out of the
        # collector's sight, full collections stay short and frames stay smooth.
        gc.freeze()
        try:
            status = int(app.exec())
        finally:
            guard.files_received.disconnect(window.import_from_outside)
            window.shutdown()
            vault.close()
            crashes.uninstall()
        if not window.restore_requested:
            guard.release()
            return status
        # The welcome's "Restore from the Bucket": the vault is closed now; then a
        # new window opens on the restored vault (or on the same empty one).
        window.deleteLater()
        restore_with_progress(home)


def run_smoke_test(home: Path | None, files: list[str]) -> int:
    """``mediavault --smoke-test FILE…`` (see :mod:`ui.smoke`); the exit status."""
    from ui.smoke import run as smoke

    return smoke(home, files)


def _cannot_open(message: str, hint: str) -> int:
    box = QMessageBox(QMessageBox.Icon.Critical, "Media Vault", message)
    if hint:
        box.setInformativeText(hint)
    box.exec()
    return 1
