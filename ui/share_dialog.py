"""The Share dialog (download links for a file or a folder) and the upload-request dialog.

Both talk to the bucket only through the :class:`ui.tasks.TaskManager` they are
given: loading (is a remote set? the versions, the shares), making a link,
signing a link again for "Copy link", revoking, writing the HTML form. The
callables get plain values (ids, a timedelta, a path) and return frozen rows
from :mod:`app.sharing`; they touch no widget. A link is never kept longer than
it is shown: "Copy link" on a listed share asks the vault to sign it again for
the time it has left.

Without a remote the dialogs say what sharing needs and offer "Open Settings…"
(the window connects :attr:`ShareDialog.settings_requested`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.errors import VaultError
from app.rows import VersionInfo
from app.sharing import (
    EXPIRY_CHOICES,
    EXPIRY_LIMIT_TEXT,
    KIND_FOLDER_ZIP,
    KIND_UPLOAD,
    FolderShare,
    ShareChanges,
    ShareInfo,
    ShareLink,
    UploadRequest,
)
from app.vault import Vault
from ui.confirm import ask_before
from ui.formatting import format_time, human_size
from ui.tasks import TaskManager

log = logging.getLogger(__name__)

NO_REMOTE_TEXT = (
    "Sharing needs the vault's bucket. A link points to a copy of the file put in the "
    "bucket, and files sent to you arrive there first. Set up the bucket (endpoint, "
    "bucket name and keys) in Settings, then share again."
)
ZIP_TEXT = "One zip file of the whole folder, with its subfolders: a single link."
PER_FILE_TEXT = "A separate link for each file in the folder and its subfolders."
SHARE_ID_ROLE = Qt.ItemDataRole.UserRole


def _has_remote(vault: Vault) -> bool:
    """True if the vault has a remote set (reads its config file: a pool thread only)."""
    from app.remote import load_remote

    return load_remote(vault.paths) is not None


def show_failure(parent: QWidget, exc: BaseException, what: str) -> QMessageBox:
    """Tell the user why ``what`` failed, without blocking; returns the box.

    Known errors show their message and hint; anything else is a bug, logged
    with its traceback and shown as such.
    """
    if isinstance(exc, VaultError):
        message, hint = exc.message, exc.hint
    else:
        log.error("%s failed", what, exc_info=(type(exc), exc, exc.__traceback__))
        message, hint = f"Could not {what}: an internal error occurred.", "Details are in the log."
    box = QMessageBox(QMessageBox.Icon.Warning, "Media Vault", message, parent=parent)
    if hint:
        box.setInformativeText(hint)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def _expiry_combo(parent: QWidget, default: timedelta) -> QComboBox:
    combo = QComboBox(parent)
    for label, delta in EXPIRY_CHOICES:
        combo.addItem(label, delta)
    combo.setCurrentIndex(next(i for i, (_, d) in enumerate(EXPIRY_CHOICES) if d == default))
    combo.setToolTip(EXPIRY_LIMIT_TEXT)
    combo.setAccessibleName("Link expires after")
    return combo


def _small_label(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 0.9)
    label.setFont(font)
    return label


def _status_text(share: ShareInfo) -> str:
    if share.status == "revoked":
        return "Revoked"
    return "Active" if share.status == "active" else "Expired"


class TaskDialog(QDialog):
    """A dialog whose work runs on ``tasks``: it counts what is under way, keeps its
    buttons right meanwhile (:meth:`_set_enabled`) and shows failures.

    Attributes:
        tasks: runs the dialog's loading and actions.
        status: a label saying what is under way (or what happened last).
        last_box: the last question or error box opened, for tests.
    """

    task_name = "dialog"  # names the tasks in logs
    revoke_question = ("Revoke", "")  # the title and question of the box that asks
    table: ShareTable  # the shares listed (made by the subclass)

    def __init__(self, tasks: TaskManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.status = QLabel(self)  # placed by the subclass's layout
        self.status.setAccessibleName("Status")
        self.status.setWordWrap(True)
        self.last_box: QMessageBox | None = None
        self._busy = 0
        self._loaded = False

    @property
    def busy(self) -> bool:
        """True while a task of this dialog runs, or before its first load."""
        return self._busy > 0 or not self._loaded

    def _set_enabled(self) -> None:
        """Enable what can be done now (subclasses)."""

    def _handled(self, exc: BaseException) -> bool:
        """True if the subclass dealt with a failure itself (no message box)."""
        return False

    def _copy(self, text: str, message: str) -> None:
        """Put ``text`` on the clipboard and say ``message``."""
        if text:
            QGuiApplication.clipboard().setText(text)
            self.status.setText(message)

    def revoke(self, share_id: int) -> None:
        """Revoke share ``share_id`` off the GUI thread, no question asked (subclasses)."""
        raise NotImplementedError

    def ask_revoke(self) -> QMessageBox | None:
        """Ask whether to revoke the share selected in ``table`` (non-blocking), and
        :meth:`revoke` it once the user confirms; returns the box (None: no selection)."""
        share = self.table.selected_share()
        if share is None:
            return None
        share_id = share.id
        title, question = self.revoke_question
        self.last_box = ask_before(
            self,
            title,
            question,
            "",
            "Revoke",
            lambda: self.revoke(share_id),
            QMessageBox.Icon.Question,
        )
        return self.last_box

    def _run(
        self, fn: Callable[[], Any], done: Callable[[Any], None], what: str, message: str = ""
    ) -> None:
        """``fn()`` on the pool, then ``done(result)`` here; a failure names ``what``."""
        self._busy += 1
        if message:
            self.status.setText(message)
        self._set_enabled()

        def settle() -> None:
            self._busy -= 1
            if message:
                self.status.setText("")
            self._set_enabled()

        def finished(result: Any) -> None:
            settle()
            done(result)

        def failed(exc: BaseException) -> None:
            settle()
            if not self._handled(exc):
                self.last_box = show_failure(self, exc, what)

        self.tasks.run(fn, finished, failed, name=f"{self.task_name}: {what}", owner=self)


class BucketDialog(TaskDialog):
    """A :class:`TaskDialog` over the bucket: its own page first, and a second one,
    shown when there is no bucket, that says how to set one up.

    Subclasses add their page to :attr:`pages` and then :meth:`_add_no_remote_page`.

    Signals:
        settings_requested(): the user asked to set up the bucket (open Settings).
    """

    settings_requested = Signal()

    def __init__(self, tasks: TaskManager, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        self.pages = QStackedWidget(self)

    def _add_no_remote_page(self) -> None:
        page = QWidget(self)
        text = QLabel(NO_REMOTE_TEXT, page)
        text.setWordWrap(True)
        self.settings_button = QPushButton("Open &Settings…", page)
        self.settings_button.setToolTip("Set up the vault's bucket")
        self.settings_button.clicked.connect(self._open_settings)
        layout = QVBoxLayout(page)
        layout.addWidget(text)
        layout.addWidget(self.settings_button, 0, Qt.AlignmentFlag.AlignRight)
        layout.addStretch(1)
        self.pages.addWidget(page)

    def _open_settings(self) -> None:
        self.settings_requested.emit()
        self.accept()

    @property
    def needs_remote(self) -> bool:
        """True when the dialog shows the "set up the bucket" page."""
        return self.pages.currentIndex() == 1

    def _handled(self, exc: BaseException) -> bool:
        if isinstance(exc, VaultError) and _is_no_remote(exc):
            self.pages.setCurrentIndex(1)
            return True
        return False


class ShareTable(QTreeWidget):
    """A flat list of shares, one row each; the share id is in :data:`SHARE_ID_ROLE`.

    Columns: what (file, version, zip or target folder), status, created,
    expires (or revoked), note. Small by nature (a file's shares, the active
    shares), so a widget-held list rather than a model.
    """

    def __init__(self, parent: QWidget | None = None, *, show_what: bool = True) -> None:
        super().__init__(parent)
        self._show_what = show_what
        labels = ["Shared", "Status", "Created", "Expires", "Note"]
        self.setHeaderLabels(labels if show_what else labels[1:])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAllColumnsShowFocus(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.header().setStretchLastSection(True)
        self.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.shares: list[ShareInfo] = []

    def set_shares(self, shares: list[ShareInfo]) -> None:
        """Show ``shares``, keeping the selected one selected if it is still there."""
        keep = self.selected_share()
        self.clear()
        self.shares = list(shares)
        for share in shares:
            what = share.path or share.name
            if share.kind == KIND_FOLDER_ZIP:
                what = f"{share.path or share.name} (as {share.name})"
            elif share.kind == KIND_UPLOAD:
                what = f"Upload into {share.path or share.name}"
            elif share.version_number is not None:
                what = f"{what} · version {share.version_number}"
            until = share.revoked_at if share.revoked_at is not None else share.expires_at
            cells = [
                what,
                _status_text(share),
                format_time(share.created_at),
                ("Revoked " if share.revoked_at else "") + format_time(until),
                share.note,
            ]
            item = QTreeWidgetItem(cells if self._show_what else cells[1:])
            item.setData(0, SHARE_ID_ROLE, share.id)
            item.setToolTip(0, what)
            if not share.active:
                for column in range(item.columnCount()):
                    item.setForeground(column, self.palette().placeholderText())
            self.addTopLevelItem(item)
            if keep is not None and keep.id == share.id:
                self.setCurrentItem(item)

    def selected_share(self) -> ShareInfo | None:
        """The share of the selected row, or None."""
        item = self.currentItem()
        if item is None or not item.isSelected():
            return None
        share_id = item.data(0, SHARE_ID_ROLE)
        return next((s for s in self.shares if s.id == share_id), None)


@dataclass(frozen=True)
class _Loaded:
    """What the Share dialog loads off the GUI thread."""

    has_remote: bool
    title: str
    versions: list[VersionInfo]
    shares: list[ShareInfo]


class ShareDialog(BucketDialog):
    """Share a file (one version) or a folder (per file, or as one zip) as download links.

    Open it with :meth:`open` (non-modal-friendly). Exactly one of ``file_id``
    and ``folder_id`` is given. All bucket work runs on ``tasks``.

    Signals:
        settings_requested(): the user asked to set up the bucket (open Settings).
        shares_changed(object): a share was made or revoked; a
            :class:`~app.sharing.ShareChanges` (made: its ``shares`` hold the new ids).

    Attributes:
        vault: the vault.
        tasks: runs loading, sharing, signing and revoking.
        file_id: the file shared, or None.
        folder_id: the folder shared, or None.
        link: the link made last (shown in :attr:`link_edit`), or None.
        last_box: the last question or error box opened, for tests.
    """

    shares_changed = Signal(object)

    def __init__(
        self,
        vault: Vault,
        tasks: TaskManager,
        file_id: int | None = None,
        folder_id: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(tasks, parent)
        if (file_id is None) == (folder_id is None):
            raise ValueError("give exactly one of file_id and folder_id")
        self.vault = vault
        self.file_id = file_id
        self.folder_id = folder_id
        self.link: ShareLink | None = None
        self._all_links = ""  # what "Copy link" under the new link copies
        self.setWindowTitle("Share")
        self.setMinimumWidth(560)

        self.pages.addWidget(self._build_share_page())
        self._add_no_remote_page()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self._set_enabled()
        self.reload()

    # -- building ----------------------------------------------------------------------

    def _build_share_page(self) -> QWidget:
        page = QWidget(self)
        self.heading = QLabel(page)
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        heading_font = self.heading.font()
        heading_font.setBold(True)
        self.heading.setFont(heading_font)

        form = QFormLayout()
        self.version_combo = QComboBox(page)
        self.version_combo.setAccessibleName("Version to share")
        self.version_combo.setToolTip("Which version the link gives; the current one by default")
        self.expiry = _expiry_combo(page, timedelta(days=1))
        self.note = QLineEdit(page)
        self.note.setPlaceholderText("Whom it is for (kept in the share's record)")
        self.note.setAccessibleName("Note for the recipient")
        self.note.setMaxLength(200)
        self.per_file = QRadioButton("One link per &file", page)
        self.per_file.setToolTip(PER_FILE_TEXT)
        self.as_zip = QRadioButton("One &zip of the folder", page)
        self.as_zip.setToolTip(ZIP_TEXT)
        self.how = QButtonGroup(page)
        self.how.addButton(self.per_file)
        self.how.addButton(self.as_zip)
        self.as_zip.setChecked(True)
        self.how_text = _small_label(ZIP_TEXT, page)
        self.as_zip.toggled.connect(
            lambda on: self.how_text.setText(ZIP_TEXT if on else PER_FILE_TEXT)
        )
        how_box = QVBoxLayout()
        how_box.addWidget(self.as_zip)
        how_box.addWidget(self.per_file)
        how_box.addWidget(self.how_text)
        self.version_label = QLabel("&Version:", page)
        self.version_label.setBuddy(self.version_combo)
        form.addRow(self.version_label, self.version_combo)
        self.how_label = QLabel("Share as:", page)
        form.addRow(self.how_label, how_box)
        expiry_label = QLabel("&Expires after:", page)
        expiry_label.setBuddy(self.expiry)
        form.addRow(expiry_label, self.expiry)
        form.addRow("", _small_label(EXPIRY_LIMIT_TEXT, page))
        note_label = QLabel("&Note:", page)
        note_label.setBuddy(self.note)
        form.addRow(note_label, self.note)

        self.create_button = QPushButton("&Create link", page)
        self.create_button.setDefault(True)
        self.create_button.setToolTip(
            "Put a copy in the bucket and make a link to it that works until it expires"
        )
        self.create_button.clicked.connect(self.create_link)

        self.link_edit = QLineEdit(page)
        self.link_edit.setReadOnly(True)
        self.link_edit.setAccessibleName("Link")
        self.link_edit.setPlaceholderText("The link appears here")
        self.copy_new = QPushButton("Cop&y link", page)
        self.copy_new.setToolTip("Copy the link to the clipboard")
        self.copy_new.clicked.connect(self._copy_shown_link)
        link_row = QHBoxLayout()
        link_row.addWidget(self.link_edit, 1)
        link_row.addWidget(self.copy_new)

        self.table = ShareTable(page, show_what=self.folder_id is not None)
        self.table.setAccessibleName("Shares, active and past")
        self.table.itemSelectionChanged.connect(self._set_enabled)
        self.copy_button = QPushButton("Copy &link", page)
        self.copy_button.setToolTip(
            "Copy the selected share's link (valid for the time it has left)"
        )
        self.copy_button.clicked.connect(self.copy_selected_link)
        self.revoke_button = QPushButton("&Revoke…", page)
        self.revoke_button.setToolTip(
            "Delete the shared copy: the link stops working at once, before it expires"
        )
        self.revoke_button.clicked.connect(self.ask_revoke)
        table_buttons = QHBoxLayout()
        table_buttons.addWidget(self.copy_button)
        table_buttons.addWidget(self.revoke_button)
        table_buttons.addStretch(1)

        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addLayout(form)
        create_row = QHBoxLayout()
        create_row.addStretch(1)
        create_row.addWidget(self.create_button)
        layout.addLayout(create_row)
        layout.addLayout(link_row)
        layout.addWidget(QLabel("Shares of this item:", page))
        layout.addWidget(self.table, 1)
        layout.addLayout(table_buttons)
        is_folder = self.folder_id is not None
        for widget in (self.how_label, self.as_zip, self.per_file, self.how_text):
            widget.setVisible(is_folder)
        self.version_label.setVisible(not is_folder)
        self.version_combo.setVisible(not is_folder)
        return page

    # -- state -------------------------------------------------------------------------

    task_name = "share"
    revoke_question = (
        "Revoke link",
        "Revoke this link? It stops working at once, for everyone who has it.",
    )

    def _set_enabled(self) -> None:
        idle = self._busy == 0 and self._loaded
        selected = self.table.selected_share()
        self.create_button.setEnabled(idle)
        self.copy_new.setEnabled(bool(self.link_edit.text()))
        self.copy_button.setEnabled(idle and selected is not None and selected.active)
        self.revoke_button.setEnabled(idle and selected is not None and selected.revoked_at is None)

    # -- loading -----------------------------------------------------------------------

    def reload(self) -> None:
        """Read (off the GUI thread) whether a remote is set, the versions and the shares."""
        vault, file_id, folder_id = self.vault, self.file_id, self.folder_id

        def load() -> _Loaded:  # pool thread: no widget here
            has_remote = _has_remote(vault)
            if file_id is not None:
                info = vault.file_info(file_id)
                return _Loaded(
                    has_remote, info.name, vault.versions(file_id), vault.list_shares(file_id)
                )
            assert folder_id is not None
            info_f = vault.folder_info(folder_id)
            shares = [s for s in vault.list_shares(folder_id=folder_id) if s.kind != KIND_UPLOAD]
            return _Loaded(has_remote, info_f.name or "All files", [], shares)

        self._busy += 1
        self.tasks.run(load, self._on_loaded, self._on_load_failed, name="share: load", owner=self)

    def _on_loaded(self, loaded: _Loaded) -> None:
        self._busy -= 1
        self._loaded = True
        self.setWindowTitle(f"Share “{loaded.title}”")
        self.heading.setText(f"Share “{loaded.title}” as a download link")
        if self.file_id is not None and self.version_combo.count() == 0:
            newest = sorted(loaded.versions, key=lambda v: v.number, reverse=True)
            for i, v in enumerate(newest):
                label = f"Version {v.number} · {format_time(v.created_at)} · {human_size(v.size)}"
                if i == 0:
                    label += " (current)"
                self.version_combo.addItem(label, v.id)
        self.table.set_shares(loaded.shares)
        self.pages.setCurrentIndex(0 if loaded.has_remote else 1)
        self._set_enabled()

    def _on_load_failed(self, exc: BaseException) -> None:
        self._busy -= 1
        self._loaded = True
        self._set_enabled()
        self.last_box = show_failure(self, exc, "read the shares")

    # -- actions -----------------------------------------------------------------------

    def create_link(self) -> None:
        """Make the link (a file's chosen version, or the folder as chosen) off the GUI thread."""
        vault, note = self.vault, self.note.text().strip()
        expires: timedelta = self.expiry.currentData()
        if self.file_id is not None:
            file_id, version_id = self.file_id, self.version_combo.currentData()

            def make() -> FolderShare:  # pool thread
                link = vault.share_file(file_id, version_id, expires, note)
                return FolderShare(zipped=False, links=[link])

        else:
            folder_id, as_zip = self.folder_id, self.as_zip.isChecked()
            assert folder_id is not None

            def make() -> FolderShare:  # pool thread
                return vault.share_folder(folder_id, expires, note, as_zip=as_zip)

        self._run(make, self._on_created, "share", "Putting a copy in the bucket…")

    def _on_created(self, result: FolderShare) -> None:
        links = result.links
        if result.failed:
            names = ", ".join(path for path, _ in result.failed[:5])
            more = f" and {len(result.failed) - 5} more" if len(result.failed) > 5 else ""
            self.last_box = QMessageBox(
                QMessageBox.Icon.Warning,
                "Media Vault",
                f"{len(result.failed)} of the folder's files could not be shared: {names}{more}.",
                parent=self,
            )
            self.last_box.setDetailedText("\n".join(f"{p}: {m}" for p, m in result.failed))
            self.last_box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.last_box.open()
        if not links:
            return
        self.link = links[0]
        text = (
            links[0].url
            if len(links) == 1
            else "\n".join(f"{link.share.path}: {link.url}" for link in links)
        )
        self.link_edit.setText(links[0].url if len(links) == 1 else text.replace("\n", "  "))
        self.link_edit.setCursorPosition(0)
        self._all_links = text
        self.status.setText(
            "Link ready: copy it and send it."
            if len(links) == 1
            else f"{len(links)} links ready: Copy link copies them all, one per line."
        )
        self.shares_changed.emit(ShareChanges(frozenset(link.share.id for link in links)))
        self.reload()

    def _copy_shown_link(self) -> None:
        self._copy(self._all_links or self.link_edit.text(), "Copied to the clipboard.")

    def copy_selected_link(self) -> None:
        """Sign the selected share's link again (time left) and copy it to the clipboard."""
        share = self.table.selected_share()
        if share is None:
            return
        vault, share_id = self.vault, share.id
        self._run(lambda: vault.share_link(share_id), self._on_signed, "copy the link", "Signing…")

    def _on_signed(self, link: ShareLink) -> None:
        self._copy(link.url, "Link copied to the clipboard.")

    def revoke(self, share_id: int) -> None:
        """Revoke share ``share_id`` off the GUI thread (no question asked)."""
        vault = self.vault
        self._run(lambda: vault.revoke_share(share_id), self._on_revoked, "revoke", "Revoking…")

    def _on_revoked(self, changes: ShareChanges) -> None:
        self.status.setText("Revoked: the link no longer works.")
        self.shares_changed.emit(changes)
        self.reload()


def _is_no_remote(exc: VaultError) -> bool:
    from app.credentials import NoRemote

    return isinstance(exc, NoRemote)


class UploadRequestDialog(BucketDialog):
    """Ask someone for a file: an upload link into a folder, imported by the next sync.

    Shows the link, a ready ``curl`` command and "Save HTML form…" (a small page
    to send); lists the folder's upload requests with what each brought in.

    Signals:
        settings_requested(): the user asked to set up the bucket.
        shares_changed(object): a request was made or revoked (:class:`~app.sharing.ShareChanges`).

    Attributes:
        vault, tasks, folder_id: as for :class:`ShareDialog`.
        request: the upload request shown, or None.
        last_box: the last question or error box opened, for tests.
    """

    shares_changed = Signal(object)

    def __init__(
        self, vault: Vault, tasks: TaskManager, folder_id: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(tasks, parent)
        self.vault = vault
        self.folder_id = folder_id
        self.request: UploadRequest | None = None
        self.setWindowTitle("Request files")
        self.setMinimumWidth(600)

        page = QWidget(self)
        self.heading = QLabel(page)
        self.heading.setWordWrap(True)
        self.expiry = _expiry_combo(page, timedelta(days=7))
        self.expiry.setAccessibleName("Uploads accepted for")
        self.max_size = QSpinBox(page)
        self.max_size.setRange(1, 5 * 1024)
        self.max_size.setValue(1024)
        self.max_size.setSuffix(" MiB")
        self.max_size.setAccessibleName("Largest file accepted")
        self.max_size.setToolTip("The service refuses anything larger (at most 5 GiB)")
        self.note = QLineEdit(page)
        self.note.setPlaceholderText("Shown on the form, and in the received file's note")
        self.note.setAccessibleName("Note")
        self.note.setMaxLength(200)
        form = QFormLayout()
        for text, widget in (
            ("Accept uploads &for:", self.expiry),
            ("&Largest file:", self.max_size),
            ("&Note:", self.note),
        ):
            label = QLabel(text, page)
            label.setBuddy(widget)
            form.addRow(label, widget)
        form.addRow(
            "",
            _small_label(
                "Anyone with the link can send one file at a time until it expires. The next "
                "sync imports what arrived into this folder and notes who sent it; a name "
                "already taken keeps both. " + EXPIRY_LIMIT_TEXT,
                page,
            ),
        )
        self.create_button = QPushButton("&Create upload link", page)
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self.create_request)
        self.link_edit = QLineEdit(page)
        self.link_edit.setReadOnly(True)
        self.link_edit.setAccessibleName("Upload address")
        self.link_edit.setToolTip(
            "Where the form sends the file; on its own it is not a page to open. Send the "
            "HTML form, or the curl command, with it"
        )
        self.copy_link = QPushButton("Cop&y address", page)
        self.copy_link.setToolTip("Copy the address the form posts to")
        self.copy_link.clicked.connect(
            lambda: self._copy(self.link_edit.text(), "Address copied to the clipboard.")
        )
        self.curl = QPlainTextEdit(page)
        self.curl.setReadOnly(True)
        self.curl.setAccessibleName("curl command")
        self.curl.setMaximumHeight(90)
        self.curl.setPlaceholderText("A ready curl command appears here")
        self.copy_curl = QPushButton("Copy c&url command", page)
        self.copy_curl.setToolTip("Copy the command (replace FILE and YOUR NAME before running it)")
        self.copy_curl.clicked.connect(
            lambda: self._copy(self.curl.toPlainText(), "curl command copied to the clipboard.")
        )
        self.save_html = QPushButton("Save &HTML form…", page)
        self.save_html.setToolTip("A small web page with the upload form, to send by e-mail")
        self.save_html.clicked.connect(self.choose_html_file)
        self.table = ShareTable(page, show_what=False)
        self.table.setAccessibleName("Upload requests of this folder")
        self.table.itemSelectionChanged.connect(self._selected)
        self.arrivals = QLabel(page)
        self.arrivals.setWordWrap(True)
        self.arrivals.setAccessibleName("Files received")
        self.arrivals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.show_button = QPushButton("&Show link", page)
        self.show_button.setToolTip("Show the selected request's link and command again")
        self.show_button.clicked.connect(self.show_selected)
        self.revoke_button = QPushButton("&Revoke…", page)
        self.revoke_button.setToolTip(
            "Stop importing: what arrives after this is discarded at the next sync"
        )
        self.revoke_button.clicked.connect(self.ask_revoke)

        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addLayout(form)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.create_button)
        layout.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(self.link_edit, 1)
        row.addWidget(self.copy_link)
        layout.addLayout(row)
        layout.addWidget(self.curl)
        row = QHBoxLayout()
        row.addWidget(self.copy_curl)
        row.addWidget(self.save_html)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(QLabel("Upload requests of this folder:", page))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.arrivals)
        row = QHBoxLayout()
        row.addWidget(self.show_button)
        row.addWidget(self.revoke_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.pages.addWidget(page)
        self._add_no_remote_page()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.buttons.rejected.connect(self.reject)
        outer = QVBoxLayout(self)
        outer.addWidget(self.pages, 1)
        outer.addWidget(self.status)
        outer.addWidget(self.buttons)
        self._arrivals: dict[int, str] = {}
        self._set_enabled()
        self.reload()

    def _set_enabled(self) -> None:
        idle = self._busy == 0 and self._loaded
        selected = self.table.selected_share()
        self.create_button.setEnabled(idle)
        shown = self.request is not None
        for button in (self.copy_link, self.copy_curl, self.save_html):
            button.setEnabled(idle and shown)
        self.show_button.setEnabled(idle and selected is not None and selected.active)
        self.revoke_button.setEnabled(idle and selected is not None and selected.revoked_at is None)

    task_name = "upload request"
    revoke_question = (
        "Revoke upload request",
        "Revoke this upload request? The link cannot be withdrawn from the bucket before "
        "it expires, but whatever arrives from now on is discarded at the next sync.",
    )

    def reload(self) -> None:
        """Read (off the GUI thread) the remote, the folder and its requests with arrivals."""
        vault, folder_id = self.vault, self.folder_id

        def load() -> tuple[bool, str, list[ShareInfo], dict[int, str]]:  # pool thread
            has_remote = _has_remote(vault)
            folder = vault.folder_info(folder_id)
            requests = [s for s in vault.list_shares(folder_id=folder_id) if s.kind == KIND_UPLOAD]
            received: dict[int, str] = {}
            for request in requests:
                lines = []
                for a in vault.upload_arrivals(request.id):
                    who = f" from {a.sender}" if a.sender else ""
                    state = f"refused: {a.refused}" if a.refused else "received"
                    lines.append(f"{a.name}{who}, {human_size(a.size)}: {state}")
                received[request.id] = "\n".join(lines)
            return has_remote, folder.path, requests, received

        def loaded(result: tuple[bool, str, list[ShareInfo], dict[int, str]]) -> None:
            has_remote, path, requests, received = result
            self._loaded = True
            self.heading.setText(f"Let someone send files into {path}")
            self.setWindowTitle(f"Request files into {path}")
            self._arrivals = received
            self.table.set_shares(requests)
            self.pages.setCurrentIndex(0 if has_remote else 1)
            self._selected()

        self._run(load, loaded, "read the upload requests")

    def _selected(self) -> None:
        share = self.table.selected_share()
        text = self._arrivals.get(share.id, "") if share else ""
        self.arrivals.setText(
            ("Received:\n" + text) if text else ("Nothing received yet." if share else "")
        )
        self._set_enabled()

    def create_request(self) -> None:
        """Make the upload request off the GUI thread and show it."""
        vault, folder_id, note = self.vault, self.folder_id, self.note.text().strip()
        expires: timedelta = self.expiry.currentData()
        max_bytes = self.max_size.value() * (1 << 20)
        self.status.setText("Signing the upload link…")
        self._run(
            lambda: vault.create_upload_request(folder_id, expires, max_bytes, note),
            self._show_request,
            "create the upload link",
        )

    def _show_request(self, request: UploadRequest) -> None:
        fresh = self.request is None or self.request.share.id != request.share.id
        self.request = request
        self.link_edit.setText(request.url)
        self.link_edit.setCursorPosition(0)
        self.curl.setPlainText(request.curl)
        self.status.setText(
            f"Upload link ready until {format_time(request.share.expires_at)}: save the HTML "
            "form to send it, or copy the curl command."
        )
        self._set_enabled()
        if fresh:
            self.shares_changed.emit(ShareChanges(frozenset({request.share.id})))
            self.reload()

    def show_selected(self) -> None:
        """Sign the selected request again (time left) and show its link and command."""
        share = self.table.selected_share()
        if share is not None:
            vault, share_id = self.vault, share.id
            self._run(lambda: vault.upload_request(share_id), self._show_request, "show the link")

    def revoke(self, share_id: int) -> None:
        """Revoke request ``share_id`` off the GUI thread (no question asked)."""
        vault = self.vault

        def revoked(changes: ShareChanges) -> None:
            if self.request is not None and self.request.share.id == share_id:
                self.request = None
                self.link_edit.clear()
                self.curl.clear()
            self.status.setText("Revoked: uploads from now on are discarded at the next sync.")
            self.shares_changed.emit(changes)
            self.reload()

        self._run(lambda: vault.revoke_share(share_id), revoked, "revoke")

    def choose_html_file(self) -> None:
        """Ask where to save the HTML form (non-blocking), then write it off the GUI thread."""
        dialog = QFileDialog(self, "Save the upload form")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters(["Web page (*.html)"])
        dialog.setDefaultSuffix("html")
        dialog.selectFile("send-a-file.html")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(lambda name: self.save_html_form(Path(name)))
        dialog.open()

    def save_html_form(self, target: Path) -> None:
        """Write the shown request's HTML form to ``target`` off the GUI thread."""
        request, vault = self.request, self.vault
        if request is None:
            return
        self._run(
            lambda: vault.write_upload_form(request, target),
            lambda path: self.status.setText(f"Saved the form to {path}."),
            "save the form",
        )
