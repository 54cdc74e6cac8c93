"""The welcome shown over an empty vault: drop files here, import, or connect a bucket.

It lies over the grid and the list (a child of their stack that follows its
size), so the views keep their place and state; it takes drops itself. When a
bucket is connected and the vault is still empty, it offers to bring the vault
back from the bucket instead.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import VaultError
from app.restore import restore_over_empty
from ui.resources import app_icon

log = logging.getLogger(__name__)


class WelcomePanel(QFrame):
    """Over the views while the vault is empty.

    Signals:
        import_files(), import_folder(), connect_bucket(), restore(): the buttons.
        dropped(list): local paths dropped on the panel.
    """

    import_files = Signal()
    import_folder = Signal()
    connect_bucket = Signal()
    restore = Signal()
    dropped = Signal(list)

    def __init__(self, over: QWidget) -> None:
        super().__init__(over)
        self.setObjectName("welcome")
        self.setAutoFillBackground(True)
        self.setBackgroundRole(self.palette().ColorRole.Base)
        self.setAcceptDrops(True)
        self.setAccessibleName("Welcome")

        logo = QLabel(self)
        logo.setPixmap(app_icon().pixmap(96, 96))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel("<h2>Welcome to Media Vault</h2>", self)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # A fixed width lets the wrapped text get the height it needs.
        self.text.setFixedWidth(440)

        self.files_button = QPushButton("Import Files…", self)
        self.folder_button = QPushButton("Import a Folder…", self)
        self.bucket_button = QPushButton("Connect a Bucket…", self)
        self.bucket_button.setToolTip("Opens Settings, where a bucket is set up")
        self.restore_button = QPushButton("Restore from the Bucket…", self)
        self.restore_button.setToolTip("Bring back the files and folders kept in the bucket")
        self.files_button.clicked.connect(self.import_files)
        self.folder_button.clicked.connect(self.import_folder)
        self.bucket_button.clicked.connect(self.connect_bucket)
        self.restore_button.clicked.connect(self.restore)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (
            self.files_button,
            self.folder_button,
            self.bucket_button,
            self.restore_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(logo)
        layout.addWidget(title)
        layout.addWidget(self.text, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(12)
        layout.addLayout(buttons)
        layout.addStretch(3)
        self.set_bucket(None)
        over.installEventFilter(self)
        self.setGeometry(over.rect())

    def set_bucket(self, location: str | None) -> None:
        """Say whether a bucket is connected (``"s3://media/vault"``) or not (None)."""
        self.location = location
        if location is None:
            self.text.setText(
                "Drop photos, videos, music and documents here from your file manager, "
                "or import them. Connect a bucket to keep a copy in the cloud and reach "
                "your files from other computers."
            )
        else:
            self.text.setText(
                f"This vault is empty, and the bucket {location} is connected. Restore "
                "brings back the files and folders kept there (their content downloads "
                "when you open them), or start afresh by dropping files here."
            )
        # Wrapped text under a centring alignment gets no height for its width by itself.
        self.text.setMinimumHeight(self.text.heightForWidth(self.text.width()))
        self.bucket_button.setVisible(location is None)
        self.restore_button.setVisible(location is not None)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and isinstance(watched, QWidget):
            self.setGeometry(watched.rect())
        return False

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.dropped.emit(paths)


def restore_with_progress(home: Path | None) -> VaultError | None:
    """Restore the (closed, empty) vault from its bucket behind a small busy dialog.

    The restore runs on a thread of its own while the dialog turns the event
    loop; returns None when it worked, else the error (already shown to the
    user, who then gets the empty vault back as it was).
    """
    outcome: list[VaultError | None] = []

    def work() -> None:
        try:
            restore_over_empty(home)
            outcome.append(None)
        except VaultError as exc:
            outcome.append(exc)
        except Exception as exc:  # a bug: logged, told briefly, the vault is put back
            log.exception("restore from the bucket failed")
            outcome.append(VaultError(f"The restore failed: {type(exc).__name__}: {exc}"))

    dialog = QProgressDialog("Restoring the vault from the bucket…", "", 0, 0)
    dialog.setWindowTitle("Media Vault")
    dialog.setCancelButton(None)  # the catalog swap is short and must not stop halfway
    dialog.setMinimumDuration(0)
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    thread = threading.Thread(target=work, name="restore", daemon=True)
    timer = QTimer(dialog)
    timer.timeout.connect(lambda: dialog.accept() if outcome else None)
    thread.start()
    timer.start(100)
    dialog.exec()
    thread.join()
    error = outcome[0] if outcome else None
    if error is not None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Media Vault", error.message)
        box.setInformativeText(
            (error.hint + " " if error.hint else "") + "The vault on this computer is unchanged."
        )
        box.exec()
    return error
