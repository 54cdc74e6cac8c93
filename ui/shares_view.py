"""The "Shared" view: every active share of the vault, with Copy link, Revoke and Show.

A dialog over the same :class:`ui.share_dialog.ShareTable` as the Share
dialog. Listing reads only the catalog, signing and revoking reach the bucket:
all of it runs on the given :class:`ui.tasks.TaskManager`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.sharing import KIND_DOWNLOAD, ShareChanges, ShareInfo, ShareLink, UploadRequest
from app.vault import Vault
from ui.share_dialog import ShareTable, TaskDialog
from ui.tasks import TaskManager


class SharesView(TaskDialog):
    """All active shares (links, zips, upload requests), soonest expiry first.

    Signals:
        show_file(int): the user asked to see a shared file (its id).
        show_folder(int): the user asked to see a shared folder (zip, per-file
            origin or upload target).
        shares_changed(object): a share was revoked (:class:`~app.sharing.ShareChanges`).

    Attributes:
        vault: the vault.
        tasks: runs listing, signing and revoking.
        table: the list of shares.
        last_box: the last question or error box opened, for tests.
    """

    show_file = Signal(int)
    show_folder = Signal(int)
    shares_changed = Signal(object)

    def __init__(self, vault: Vault, tasks: TaskManager, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        self.vault = vault
        self.setWindowTitle("Shared")
        self.resize(760, 420)
        intro = QLabel(
            "Links and upload requests that still work. Revoke one to stop it at once.", self
        )
        intro.setWordWrap(True)
        self.table = ShareTable(self)
        self.table.setAccessibleName("Active shares")
        self.table.itemSelectionChanged.connect(self._set_enabled)
        self.table.itemActivated.connect(lambda *_: self.show_selected())
        self.empty = QLabel("Nothing is shared right now.", self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()
        self.copy_button = QPushButton("Copy &link", self)
        self.copy_button.setToolTip(
            "Copy the selected link (an upload request: its curl command), signed for the "
            "time it has left"
        )
        self.copy_button.clicked.connect(self.copy_selected)
        self.revoke_button = QPushButton("&Revoke…", self)
        self.revoke_button.setToolTip("Stop the selected share now")
        self.revoke_button.clicked.connect(self.ask_revoke)
        self.show_button = QPushButton("&Show file", self)
        self.show_button.setToolTip("Show the shared file or folder in the window")
        self.show_button.clicked.connect(self.show_selected)
        self.refresh_button = QPushButton("Re&fresh", self)
        self.refresh_button.setToolTip("Read the list again")
        self.refresh_button.clicked.connect(self.reload)
        buttons = QHBoxLayout()
        for button in (self.copy_button, self.revoke_button, self.show_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(close)
        self._set_enabled()
        self.reload()

    def _set_enabled(self) -> None:
        idle = self._busy == 0 and self._loaded
        share = self.table.selected_share()
        for button in (self.copy_button, self.revoke_button):
            button.setEnabled(idle and share is not None)
        self.show_button.setEnabled(
            share is not None and (share.file_id is not None or share.folder_id is not None)
        )
        self.show_button.setText(
            "&Show folder" if share is not None and share.kind != KIND_DOWNLOAD else "&Show file"
        )

    task_name = "shared"
    revoke_question = (
        "Revoke",
        "Revoke this share? A link stops working at once; an upload request's later "
        "uploads are discarded.",
    )

    def reload(self) -> None:
        """Read the active shares off the GUI thread."""
        vault = self.vault

        def loaded(shares: list[ShareInfo]) -> None:
            self._loaded = True
            self.table.set_shares(shares)
            self.empty.setVisible(not shares)
            self.table.setVisible(bool(shares))

        self._run(vault.active_shares, loaded, "read the shares", "Reading…")

    def copy_selected(self) -> None:
        """Copy the selected share's link (or an upload request's curl command)."""
        share = self.table.selected_share()
        if share is None:
            return
        vault, share_id = self.vault, share.id
        if share.kind == "upload-request":
            self._run(
                lambda: vault.upload_request(share_id), self._copied, "copy the link", "Signing…"
            )
        else:
            self._run(lambda: vault.share_link(share_id), self._copied, "copy the link", "Signing…")

    def _copied(self, result: ShareLink | UploadRequest) -> None:
        if isinstance(result, UploadRequest):
            self._copy(
                result.curl, "The upload request's curl command was copied to the clipboard."
            )
        else:
            self._copy(result.url, "Link copied to the clipboard.")

    def revoke(self, share_id: int) -> None:
        """Revoke ``share_id`` off the GUI thread, then list again."""
        vault = self.vault

        def revoked(changes: ShareChanges) -> None:
            self.shares_changed.emit(changes)
            self.reload()

        self._run(lambda: vault.revoke_share(share_id), revoked, "revoke", "Revoking…")

    def show_selected(self) -> None:
        """Emit :attr:`show_file` or :attr:`show_folder` for the selected share."""
        share = self.table.selected_share()
        if share is None:
            return
        if share.file_id is not None:
            self.show_file.emit(share.file_id)
        elif share.folder_id is not None:
            self.show_folder.emit(share.folder_id)
