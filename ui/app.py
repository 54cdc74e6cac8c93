"""Starting the window: the QApplication, the vault, the main window."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from app import __version__
from app.errors import VaultError
from app.logs import setup_logging
from app.paths import vault_paths
from app.vault import Vault
from ui.main_window import MainWindow
from ui.resources import app_icon

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
    return app


def run(home: Path | None = None, argv: list[str] | None = None) -> int:
    """Open the vault at ``home`` (None: the default one) in a window; the exit status.

    Returns 1 when the vault cannot be opened, after telling the user why.
    """
    setup_logging(vault_paths(home))
    app = create_application(argv)
    try:
        vault = Vault.open(home)
    except VaultError as exc:
        log.error("cannot open the vault: %s", exc)
        box = QMessageBox(QMessageBox.Icon.Critical, "Media Vault", exc.message)
        if exc.hint:
            box.setInformativeText(exc.hint)
        box.exec()
        return 1
    window = MainWindow(vault)
    window.show()
    try:
        return int(app.exec())
    finally:
        window.shutdown()
        vault.close()
