"""The Versions dialog: a file's versions, newest first, with a preview and what to do with one.

Like Nextcloud's and Dropbox's version history: the list shows each version's
number, date, size, device, where its content is stored and its change note,
the current one marked; the pane beside it shows the selected version's
thumbnail and facts. Restore (non-destructive: the old content comes back as
a new current version), Export this version…, Edit note… and Delete version
(never the current one; asks first) act on the selection.

Everything that touches the catalog, the disk or the bucket runs on the
:class:`ui.tasks.TaskManager` given to the dialog; the callables there get
plain values (ids, paths) and return frozen rows. Thumbnails come from a
:class:`ui.thumbnails.ThumbnailProvider` by blob hash, so every version gets
its own.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app.credentials import NoRemote, open_remote
from app.errors import BlobMissing, VaultError
from app.rows import Changes, FileInfo, VersionInfo
from app.vault import Vault
from app.versions import VersionChange
from ui.confirm import ask_before
from ui.formatting import format_time, human_duration, human_size
from ui.tasks import Task, TaskManager
from ui.thumbnails import ThumbnailProvider

log = logging.getLogger(__name__)

PREVIEW_SIZE = 200  # logical pixels of the preview's longest side
_Index = QModelIndex | QPersistentModelIndex


class VersionRole(IntEnum):
    """Custom data roles of :class:`VersionsModel`."""

    VERSION_ID = Qt.ItemDataRole.UserRole + 1
    INFO = Qt.ItemDataRole.UserRole + 2
    IS_CURRENT = Qt.ItemDataRole.UserRole + 3


class Column(IntEnum):
    """The columns of :class:`VersionsModel`."""

    VERSION = 0
    CREATED = 1
    SIZE = 2
    STORED = 3
    DEVICE = 4
    NOTE = 5


_HEADERS = {
    Column.VERSION: "Version",
    Column.CREATED: "Created",
    Column.SIZE: "Size",
    Column.STORED: "Stored",
    Column.DEVICE: "Device",
    Column.NOTE: "Note",
}


def stored_words(version: VersionInfo) -> str:
    """Where a version's content is, in words: "Here + bucket", "Here only", "Bucket only"."""
    remote = version.remote_state == "completed"
    if version.local_state == "present":
        return "Here + bucket" if remote else "Here only"
    return "Bucket only"


def version_facts(version: VersionInfo) -> list[str]:
    """The media facts of a version worth showing, one per line."""
    facts = []
    if version.width and version.height:
        facts.append(f"{version.width} × {version.height} pixels")
    if version.duration:
        facts.append(f"Duration {human_duration(version.duration)}")
    if version.pages:
        facts.append(f"{version.pages} page" + ("" if version.pages == 1 else "s"))
    if version.taken_at:
        facts.append(f"Taken {format_time(version.taken_at)}")
    if version.camera:
        facts.append(version.camera)
    if version.codecs:
        facts.append(version.codecs)
    return facts


class VersionsModel(QAbstractTableModel):
    """A file's versions as a flat table, newest first.

    A row is one version (a frozen :class:`~app.rows.VersionInfo`); the model
    holds them all (a file has few) and never queries anything itself.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._versions: list[VersionInfo] = []
        self._current: int | None = None

    def set_versions(self, versions: list[VersionInfo], current_id: int | None) -> None:
        """Show ``versions`` (any order; shown newest first); ``current_id`` is marked."""
        self.beginResetModel()
        self._versions = sorted(versions, key=lambda v: v.number, reverse=True)
        self._current = current_id
        self.endResetModel()

    def version(self, row: int) -> VersionInfo | None:
        """The version on ``row``, or None."""
        return self._versions[row] if 0 <= row < len(self._versions) else None

    def row_of(self, version_id: int) -> int | None:
        """The row showing ``version_id``, or None."""
        for row, v in enumerate(self._versions):
            if v.id == version_id:
                return row
        return None

    @property
    def current_id(self) -> int | None:
        """The current version's id."""
        return self._current

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._versions)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(Column):
            if role == Qt.ItemDataRole.DisplayRole:
                return _HEADERS[Column(section)]
            if role == Qt.ItemDataRole.TextAlignmentRole and section == Column.SIZE:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        v = self.version(index.row())
        if v is None:
            return None
        column = Column(index.column())
        current = v.id == self._current
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(v, column, current)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == Column.NOTE and v.note:
                return v.note
            if column == Column.VERSION and current:
                return "The current version: what opening the file shows"
            if column == Column.STORED:
                return {
                    "Here + bucket": "On this computer and backed up in the bucket",
                    "Here only": "On this computer; not backed up yet",
                    "Bucket only": "In the bucket; downloaded when exported or restored",
                }[stored_words(v)]
            return None
        if role == Qt.ItemDataRole.FontRole and current:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column == Column.SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.AccessibleTextRole and column == Column.VERSION:
            return f"Version {v.number}" + (", current" if current else "")
        if role == VersionRole.VERSION_ID:
            return v.id
        if role == VersionRole.INFO:
            return v
        if role == VersionRole.IS_CURRENT:
            return current
        return None

    @staticmethod
    def _text(v: VersionInfo, column: Column, current: bool) -> str:
        if column == Column.VERSION:
            return f"{v.number} (current)" if current else str(v.number)
        if column == Column.CREATED:
            return format_time(v.created_at)
        if column == Column.SIZE:
            return human_size(v.size)
        if column == Column.DEVICE:
            return v.device
        if column == Column.STORED:
            return stored_words(v)
        return v.note


@dataclass(frozen=True)
class _Loaded:
    """What a load brings back from the pool thread."""

    file: FileInfo
    versions: list[VersionInfo]


def _export(vault: Vault, version: VersionInfo, directory: Path) -> Path:
    """Export one version (pool thread): fetches evicted content from the bucket first."""
    store = None
    if version.local_state == "evicted":
        try:
            store = open_remote(vault.paths)[0]
        except NoRemote as exc:
            raise BlobMissing(
                f"Version {version.number} is in the bucket only, and this vault has no remote.",
                "Set a bucket in Settings… (Remote) first.",
            ) from exc
    return vault.export_version(version.id, directory, store=store)


class VersionsDialog(QDialog):
    """The versions of one file, with Restore, Export, Edit note and Delete.

    Non-modal: show it with :meth:`show` (or :meth:`open`); one per file is
    enough, raise the existing one for a second request. The version list
    loads off the GUI thread; until it is there the actions are disabled, and
    each action disables them until it is done and the list is read again.

    Signals:
        changed(object): a :class:`~app.rows.Changes` after a restore, a note
            or a deletion, for the window to refresh its views.
        busy_changed(bool): an action or a load started (True) or ended (False).

    Attributes:
        vault: the vault.
        tasks: runs the loading and the actions (usually the window's).
        file_id: the file whose versions these are.
        model: the list's model.
        file: the file as last loaded, or None.
        last_box: the last question or message box opened (non-blocking), or None.
        last_export: the path the last export wrote, or None.
    """

    changed = Signal(object)
    busy_changed = Signal(bool)

    def __init__(
        self,
        vault: Vault,
        tasks: TaskManager,
        file_id: int,
        parent: QWidget | None = None,
        *,
        thumbnails: ThumbnailProvider | None = None,
    ) -> None:
        """Builds the dialog and starts loading the versions.

        Args:
            vault: the vault.
            tasks: runs the loading and the actions.
            file_id: the file.
            parent: the window (the dialog stays on top of it).
            thumbnails: the window's thumbnail provider, shared; without one the
                dialog makes its own and shuts it down when it closes.
        """
        super().__init__(parent)
        self.vault = vault
        self.tasks = tasks
        self.file_id = file_id
        self.file: FileInfo | None = None
        self.last_box: QMessageBox | QInputDialog | None = None
        self.last_export: Path | None = None
        self._shared_thumbnails = thumbnails
        self._own_thumbnails: ThumbnailProvider | None = None
        self._connected: ThumbnailProvider | None = None
        self._pending: set[Task[Any]] = set()
        self._load_task: Task[Any] | None = None
        self._acting = False
        self._select_after_load: int | None = None
        self.setWindowTitle("Versions")
        self.setModal(False)
        # Results for a deleted dialog are dropped (their callbacks would touch it).
        self.destroyed.connect(functools.partial(_cancel_all, self._pending))

        self.title = QLabel(self)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        title_font = self.title.font()
        title_font.setBold(True)
        self.title.setFont(title_font)

        self.model = VersionsModel(self)
        self.view = QTreeView(self)
        self.view.setModel(self.model)
        self.view.setRootIsDecorated(False)
        self.view.setUniformRowHeights(True)
        self.view.setAllColumnsShowFocus(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAccessibleName("Versions")
        self.view.setAccessibleDescription("The file's versions, newest first")
        header = self.view.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.selectionModel().currentRowChanged.connect(self._on_current)

        self.preview = QLabel(self)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(QSize(PREVIEW_SIZE, PREVIEW_SIZE))
        self.preview.setFrameShape(QFrame.Shape.StyledPanel)
        self.preview.setWordWrap(True)
        self.preview.setAccessibleName("Preview of the selected version")
        self.details = QLabel(self)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setWordWrap(True)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAccessibleName("Details of the selected version")
        side = QWidget(self)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.preview)
        side_layout.addWidget(self.details, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.view)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)

        self.restore_button = QPushButton("&Restore", self)
        self.restore_button.setToolTip(
            "Make this version current again. It is added as a new version: nothing is lost."
        )
        self.restore_button.clicked.connect(self.restore_selected)
        self.export_button = QPushButton("&Export This Version…", self)
        self.export_button.setToolTip(
            'Save a copy of this version to a folder, named like "report (v3).pdf"'
        )
        self.export_button.clicked.connect(self.choose_export_folder)
        self.note_button = QPushButton("Edit &Note…", self)
        self.note_button.setToolTip("Describe what changed in this version")
        self.note_button.clicked.connect(self.edit_note_selected)
        self.delete_button = QPushButton("&Delete Version", self)
        self.delete_button.clicked.connect(self.ask_delete_selected)
        actions = QHBoxLayout()
        for button in (self.restore_button, self.export_button, self.note_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.delete_button)

        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setAccessibleName("Status")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.buttons.rejected.connect(self.reject)

        # Delete on the list asks to delete the selected version, as in a file manager.
        delete_key = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.view)
        delete_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete_key.activated.connect(self.ask_delete_selected)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(splitter, 1)
        layout.addLayout(actions)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        metrics = self.fontMetrics()
        self.resize(metrics.averageCharWidth() * 140, metrics.height() * 26)
        self._update_buttons()
        self.reload()

    # -- state ------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """True while the list is loading or an action runs."""
        return self._load_task is not None or self._acting

    def selected_version(self) -> VersionInfo | None:
        """The selected version, or None."""
        return self.model.version(self.view.currentIndex().row())

    def select_version(self, version_id: int) -> bool:
        """Select the row of ``version_id``; False if it is not listed."""
        row = self.model.row_of(version_id)
        if row is None:
            return False
        self.view.selectionModel().setCurrentIndex(
            self.model.index(row, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        return True

    def _update_buttons(self) -> None:
        version = self.selected_version()
        idle = not self.busy and version is not None
        is_current = version is not None and version.id == self.model.current_id
        self.restore_button.setEnabled(idle and not is_current)
        self.export_button.setEnabled(idle)
        self.note_button.setEnabled(idle)
        self.delete_button.setEnabled(idle and not is_current)
        self.delete_button.setToolTip(
            "The current version cannot be deleted; restore another one first"
            if is_current
            else "Delete this version for good (its content goes when nothing else uses it)"
        )

    def _set_acting(self, acting: bool, message: str = "") -> None:
        self._acting = acting
        if message or not acting:
            self.status.setText(message)
        self._update_buttons()
        self.busy_changed.emit(self.busy)

    def _run(
        self,
        label: str,
        work: Any,
        on_done: Any,
        on_error: Any,
    ) -> Task[Any]:
        task: Task[Any]

        def done(result: Any) -> None:
            self._pending.discard(task)
            on_done(result)

        def failed(exc: BaseException) -> None:
            self._pending.discard(task)
            on_error(exc)

        task = self.tasks.run(work, done, failed, name=label)
        self._pending.add(task)
        return task

    # -- loading ----------------------------------------------------------------------

    def reload(self) -> None:
        """Read the file and its versions again (off the GUI thread)."""
        if self._load_task is not None:
            self._load_task.cancel()
            self._pending.discard(self._load_task)
        vault, file_id = self.vault, self.file_id

        def load() -> _Loaded:  # pool thread: no widgets
            return _Loaded(vault.file_info(file_id), vault.versions(file_id))

        if self.model.rowCount() == 0:
            self.status.setText("Loading the versions…")
        self._load_task = self._run("versions", load, self._on_loaded, self._on_load_failed)
        self._update_buttons()
        self.busy_changed.emit(True)

    def _on_loaded(self, loaded: _Loaded) -> None:
        self._load_task = None
        keep = self._select_after_load
        if keep is None:
            selected = self.selected_version()
            keep = selected.id if selected is not None else None
        self._select_after_load = None
        self.file = loaded.file
        count = len(loaded.versions)
        self.setWindowTitle(f"Versions of {loaded.file.name}")
        self.title.setText(
            f"{loaded.file.path}: {count} version"
            + ("" if count == 1 else "s")
            + (" (in the Trash)" if loaded.file.in_trash else "")
        )
        self.model.set_versions(loaded.versions, loaded.file.version.id)
        for column in Column:
            if column != Column.NOTE:  # the note takes what is left
                self.view.resizeColumnToContents(column)
        if keep is None or not self.select_version(keep):
            self.select_version(loaded.file.version.id)
        if not self._acting and self.status.text() == "Loading the versions…":
            self.status.setText("")
        self._update_buttons()
        self._show_selected()
        self.busy_changed.emit(self.busy)

    def _on_load_failed(self, exc: BaseException) -> None:
        self._load_task = None
        if isinstance(exc, VaultError):
            self.status.setText(_words(exc))
        else:
            log.error("loading versions failed", exc_info=(type(exc), exc, exc.__traceback__))
            self.status.setText("The versions could not be read; the log has details.")
        self.model.set_versions([], None)
        self._update_buttons()
        self._show_selected()
        self.busy_changed.emit(self.busy)

    # -- the preview ------------------------------------------------------------------

    @Slot(QModelIndex, QModelIndex)
    def _on_current(self, current: QModelIndex, previous: QModelIndex) -> None:
        self._update_buttons()
        self._show_selected()

    def _show_selected(self) -> None:
        version = self.selected_version()
        if version is None:
            self.preview.clear()
            self.preview.setText("No version selected")
            self.details.clear()
            return
        lines = [
            f"Version {version.number}"
            + (" — the current version" if version.id == self.model.current_id else ""),
            f"{format_time(version.created_at)} on {version.device or 'an unknown device'}",
            f"{human_size(version.size)} · {stored_words(version)}",
            *version_facts(version),
        ]
        if version.note:
            lines.append(f"Note: {version.note}")
        lines.append(f"SHA-256 {version.blob_hash[:16]}…")
        self.details.setText("\n".join(lines))
        self._show_thumbnail(version)

    @property
    def thumbnails(self) -> ThumbnailProvider:
        """The thumbnail provider: the window's, or the dialog's own while it is shown."""
        if self._shared_thumbnails is not None:
            provider = self._shared_thumbnails
        elif self._own_thumbnails is not None:
            provider = self._own_thumbnails
        else:
            provider = self._own_thumbnails = ThumbnailProvider(self.vault, self)
        if provider is not self._connected:
            provider.ready.connect(self._on_thumbnail)
            provider.unavailable.connect(self._on_thumbnail)
            self._connected = provider
        return provider

    def _show_thumbnail(self, version: VersionInfo) -> None:
        # The version's own mime is not recorded; the file's says how to decode it.
        mime = self.file.mime if self.file is not None else ""
        provider = self.thumbnails
        pixmap = provider.pixmap(version.blob_hash, mime, PREVIEW_SIZE)
        if pixmap is not None:
            self.preview.setPixmap(pixmap)
            return
        self.preview.clear()
        reason = provider.failed(version.blob_hash)
        if reason:
            self.preview.setText(f"No preview: {reason}")
        elif version.local_state != "present":
            self.preview.setText("No preview: the content is in the bucket only")
        elif provider.pending:
            self.preview.setText("Loading the preview…")
        else:
            self.preview.setText("No preview for this kind of file")

    @Slot(str)
    def _on_thumbnail(self, blob_hash: str) -> None:
        version = self.selected_version()
        if version is not None and version.blob_hash == blob_hash:
            self._show_thumbnail(version)

    # -- actions ----------------------------------------------------------------------

    @Slot()
    def restore_selected(self) -> None:
        """Make the selected version current again (as a new version), off the GUI thread."""
        version = self.selected_version()
        if version is None or self.busy or version.id == self.model.current_id:
            return
        vault, file_id = self.vault, self.file_id
        self._set_acting(True, f"Restoring version {version.number}…")
        self._run(
            "restore version",
            lambda: vault.restore_version(file_id, version.id),
            functools.partial(self._on_restored, version.number),
            self._on_action_failed,
        )

    def _on_restored(self, restored: int, change: VersionChange) -> None:
        message = f"Version {restored} restored as version {change.number}."
        if change.pruned:
            numbers = ", ".join(str(n) for n in change.pruned)
            message += f" The retention policy removed version {numbers}."
        self._after_change(change, message, select=change.version_id)

    @Slot()
    def choose_export_folder(self) -> QFileDialog | None:
        """Ask where to export the selected version (without blocking); returns the chooser."""
        version = self.selected_version()
        if version is None or self.busy:
            return None
        chooser = QFileDialog(self, f"Export version {version.number} to")
        chooser.setFileMode(QFileDialog.FileMode.Directory)
        chooser.setOption(QFileDialog.Option.ShowDirsOnly, True)
        chooser.setDirectory(str(Path.home()))
        chooser.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        chooser.fileSelected.connect(lambda path: self.export_selected(Path(path)))
        chooser.open()
        return chooser

    def export_selected(self, directory: Path | None = None) -> None:
        """Export the selected version into ``directory`` (or ask where first)."""
        if directory is None:
            self.choose_export_folder()
            return
        version = self.selected_version()
        if version is None or self.busy:
            return
        vault = self.vault
        self._set_acting(True, f"Exporting version {version.number}…")
        self._run(
            "export version",
            lambda: _export(vault, version, directory),
            self._on_exported,
            self._on_action_failed,
        )

    def _on_exported(self, path: Path) -> None:
        self.last_export = path
        self._set_acting(False, f"Exported to {path}")
        self.reload()  # an evicted version came back to this computer

    @Slot()
    def edit_note_selected(self) -> QInputDialog | None:
        """Ask for the selected version's note (without blocking); returns the input box."""
        version = self.selected_version()
        if version is None or self.busy:
            return None
        box = QInputDialog(self)
        box.setWindowTitle("Edit Note")
        box.setLabelText(f"What changed in version {version.number}?")
        box.setTextValue(version.note)
        box.setOkButtonText("Save")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.textValueSelected.connect(lambda text: self.set_note(version.id, text))
        self.last_box = box
        box.open()
        return box

    def set_note(self, version_id: int, note: str) -> None:
        """Save a version's note (off the GUI thread)."""
        if self.busy:
            return
        vault = self.vault
        self._set_acting(True, "Saving the note…")
        self._run(
            "version note",
            lambda: vault.set_version_note(version_id, note),
            lambda change: self._after_change(change, "Note saved.", select=change.version_id),
            self._on_action_failed,
        )

    @Slot()
    def ask_delete_selected(self) -> QMessageBox | None:
        """Ask before deleting the selected version (without blocking); returns the box.

        The current version is refused with a message instead.
        """
        version = self.selected_version()
        if version is None or self.busy:
            return None
        name = self.file.name if self.file is not None else "this file"
        if version.id == self.model.current_id:
            box = QMessageBox(
                QMessageBox.Icon.Information,
                "Delete Version",
                f"Version {version.number} is the current version of {name}.",
                QMessageBox.StandardButton.Ok,
                self,
            )
            box.setInformativeText("Restore another version first, or move the file to the Trash.")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.last_box = box
            box.open()
            return box
        version_id = version.id
        self.last_box = ask_before(
            self,
            "Delete Version",
            f"Delete version {version.number} of {name}?",
            f"Created {format_time(version.created_at)}, {human_size(version.size)}. "
            "This cannot be undone.",
            "Delete Version",
            lambda: self.delete_version(version_id),
        )
        return self.last_box

    def delete_version(self, version_id: int) -> None:
        """Delete a version (off the GUI thread); the vault refuses the current one."""
        if self.busy:
            return
        vault = self.vault
        self._set_acting(True, "Deleting the version…")
        self._run(
            "delete version",
            lambda: vault.delete_version(version_id),
            self._on_deleted,
            self._on_action_failed,
        )

    def _on_deleted(self, change: VersionChange) -> None:
        message = f"Version {change.number} deleted."
        if change.freed_bytes:
            message += f" {human_size(change.freed_bytes)} freed on this computer."
        self._after_change(change, message)

    def _after_change(self, change: VersionChange, message: str, select: int | None = None) -> None:
        self._set_acting(False, message)
        self._select_after_load = select
        self.changed.emit(change.changes)
        self.reload()

    def _on_action_failed(self, exc: BaseException) -> None:
        if isinstance(exc, VaultError):
            self._set_acting(False, _words(exc))
        else:
            log.error("a version action failed", exc_info=(type(exc), exc, exc.__traceback__))
            self._set_acting(False, "That did not work; the log has details.")
        self.changed.emit(Changes(files=frozenset({self.file_id})))
        self.reload()

    # -- Qt overrides -----------------------------------------------------------------

    def done(self, result: int) -> None:
        # A load or a thumbnail still coming is not wanted any more; an action under
        # way finishes (its result still refreshes the window through `changed`).
        if self._load_task is not None:
            self._load_task.cancel()
            self._pending.discard(self._load_task)
            self._load_task = None
        if self._own_thumbnails is not None:
            # Its worker processes stop now; showing the dialog again makes another.
            self._own_thumbnails.shutdown()
            self._own_thumbnails.deleteLater()
            self._own_thumbnails = None
        super().done(result)


def _words(error: VaultError) -> str:
    return f"{error.message} {error.hint}" if error.hint else error.message


def _cancel_all(tasks: set[Task[Any]], *_args: object) -> None:
    for task in tasks:
        task.cancel()
    tasks.clear()
