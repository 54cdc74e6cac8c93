"""The main window, for now one folder listing (the full window comes later).

:class:`FolderModel` holds frozen rows from :meth:`app.vault.Vault.list_folder`
and pages in more files as the view scrolls (``canFetchMore``/``fetchMore``
with the vault's keyset cursor). Listing runs off the GUI thread through
:class:`ui.tasks.TaskManager`; ``data()`` never touches the catalog.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QCloseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStyle,
    QTableView,
    QWidget,
)

from app.errors import VaultError
from app.naming import name_key
from app.rows import Listing
from app.vault import Vault
from ui.formatting import format_time, human_size
from ui.sync_status import SyncStatus
from ui.tasks import TaskManager

log = logging.getLogger(__name__)

PAGE_SIZE = 200
EMPTY_VAULT_TEXT = (
    "This vault is empty — import files with “mediavault import”, "
    "for example:\n\nmediavault import ~/Pictures --to /Photos --mkdir"
)
EMPTY_FOLDER_TEXT = "This folder is empty."

_Index = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    """The columns of :class:`FolderModel`."""

    NAME = 0
    KIND = 1
    SIZE = 2
    MODIFIED = 3


_HEADERS = {
    Column.NAME: "Name",
    Column.KIND: "Kind",
    Column.SIZE: "Size",
    Column.MODIFIED: "Modified",
}


class ItemRole(IntEnum):
    """Custom data roles of :class:`FolderModel`."""

    ID = Qt.ItemDataRole.UserRole + 1  # folder or file id (int)
    IS_FOLDER = Qt.ItemDataRole.UserRole + 2  # bool
    SIZE_BYTES = Qt.ItemDataRole.UserRole + 3  # int, 0 for folders


@dataclass(frozen=True)
class Item:
    """One row: a subfolder or a file, already formatted where that costs anything."""

    id: int
    is_folder: bool
    name: str
    kind: str
    mime: str
    size: int
    modified: str
    is_favorite: bool


class FolderModel(QAbstractTableModel):
    """The contents of one folder: its subfolders first, then its files, by name.

    A flat table: every row is top-level (no children), and rows hold
    :class:`Item` values, never ORM objects. The first page is asked for by
    :meth:`load`, the next ones by the view through ``fetchMore``; each page
    is listed on the task manager's pool. A reply for an older :meth:`load`
    is dropped.

    Signals:
        loaded(): a page arrived (also after an empty first page).
        failed(BaseException): listing failed; the model keeps what it had.
    """

    loaded = Signal()
    failed = Signal(object)

    def __init__(self, vault: Vault, tasks: TaskManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._vault = vault
        self._tasks = tasks
        self._items: list[Item] = []
        self._folder_id: int | None = None
        self._after: str | None = None
        self._more = False
        self._loading = False
        self._generation = 0
        style = QApplication.style()
        self._folder_icon = style.standardIcon(QStyle.StandardPixmap.SP_DirIcon)
        self._file_icon = style.standardIcon(QStyle.StandardPixmap.SP_FileIcon)

    @property
    def folder_id(self) -> int | None:
        """The folder shown, or None before the first :meth:`load`."""
        return self._folder_id

    @property
    def loading(self) -> bool:
        """True while a page is being listed."""
        return self._loading

    @property
    def has_more(self) -> bool:
        """True when files remain beyond the rows loaded."""
        return self._more

    def item(self, row: int) -> Item:
        """The item in ``row``."""
        return self._items[row]

    def load(self, folder_id: int) -> None:
        """Show ``folder_id``: clear the rows and list its first page in the background."""
        self.beginResetModel()
        self._items = []
        self._folder_id = folder_id
        self._after = None
        self._more = False
        self._generation += 1
        self.endResetModel()
        self._request(None)

    def _request(self, after: str | None) -> None:
        folder_id = self._folder_id
        assert folder_id is not None
        generation = self._generation
        vault = self._vault
        self._loading = True

        def list_page() -> Listing:
            # Pool thread: only the vault (own session), no Qt objects.
            return vault.list_folder(folder_id, limit=PAGE_SIZE, after=after)

        self._tasks.run(
            list_page,
            lambda listing: self._on_page(generation, listing),
            lambda exc: self._on_error(generation, exc),
            name=f"list folder {folder_id}",
        )

    def _on_page(self, generation: int, listing: Listing) -> None:
        if generation != self._generation:
            return  # the user moved on to another folder
        self._loading = False
        rows = [
            Item(f.id, True, f.name, "Folder", "", 0, format_time(f.modified_at), False)
            for f in listing.folders
        ] + [
            Item(
                f.id,
                False,
                f.name,
                f.kind.capitalize(),
                f.mime,
                f.size,
                format_time(f.modified_at),
                f.is_favorite,
            )
            for f in listing.files
        ]
        if listing.files:
            self._after = name_key(listing.files[-1].name)
        self._more = bool(listing.more)
        if rows:
            first = len(self._items)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._items.extend(rows)
            self.endInsertRows()
        self.loaded.emit()

    def _on_error(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._more = False  # do not retry in a loop from canFetchMore
        self.failed.emit(exc)

    # -- Qt overrides ---------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == Column.NAME:
                return item.name
            if column == Column.KIND:
                return item.kind
            if column == Column.SIZE:
                return "" if item.is_folder else human_size(item.size)
            if column == Column.MODIFIED:
                return item.modified
        elif role == Qt.ItemDataRole.DecorationRole and column == Column.NAME:
            return self._folder_icon if item.is_folder else self._file_icon
        elif role == Qt.ItemDataRole.TextAlignmentRole and column == Column.SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        elif role == Qt.ItemDataRole.ToolTipRole and column == Column.NAME:
            return item.name if item.is_folder else f"{item.name}\n{item.mime}"
        elif role == ItemRole.ID:
            return item.id
        elif role == ItemRole.IS_FOLDER:
            return item.is_folder
        elif role == ItemRole.SIZE_BYTES:
            return item.size
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS[Column(section)]
        if role == Qt.ItemDataRole.TextAlignmentRole and section == Column.SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def canFetchMore(self, parent: _Index) -> bool:
        return not parent.isValid() and self._more and not self._loading

    def fetchMore(self, parent: _Index) -> None:
        if self.canFetchMore(parent):
            self._request(self._after)


class FolderView(QTableView):
    """A details list that says so when its folder is empty.

    Attributes:
        placeholder_text: drawn in the middle of the viewport when there are no rows.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.placeholder_text = ""
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setSortingEnabled(False)  # the catalog's name order; sorting comes later
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.horizontalHeader().setHighlightSections(False)
        # Breathing room between columns (a right-aligned size would otherwise
        # touch the date beside it); only padding, so the native style stays.
        self.setStyleSheet(
            "QTableView::item { padding-left: 6px; padding-right: 12px; }"
            "QHeaderView::section { padding-left: 6px; padding-right: 12px; }"
        )
        self.horizontalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )

    def set_placeholder_text(self, text: str) -> None:
        """Set the empty-folder text and repaint."""
        self.placeholder_text = text
        self.viewport().update()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if self.placeholder_text and (model is None or model.rowCount() == 0):
            painter = QPainter(self.viewport())
            color = self.palette().placeholderText().color()
            painter.setPen(color)
            rect = self.viewport().rect().adjusted(24, 24, -24, -24)
            painter.drawText(
                rect,
                int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                self.placeholder_text,
            )
            painter.end()


class MainWindow(QMainWindow):
    """Media Vault's main window: the root folder's listing, for now.

    Attributes:
        vault: the open vault (owned by the caller, who closes it).
        tasks: background work for this window (listing).
        sync_status: the background sync and its place in the status bar.
        model: the listing's item model.
        view: the details view over ``model``.
    """

    def __init__(self, vault: Vault, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vault = vault
        self.setWindowTitle(f"Media Vault — {vault.paths.data}")
        self.resize(960, 600)

        # Interactive listing: few threads, so pages come back in order quickly.
        self.tasks = TaskManager(self, max_threads=2, name="interactive")
        self.model = FolderModel(vault, self.tasks, self)
        self.view = FolderView(self)
        self.view.setModel(self.model)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(Column.NAME, QHeaderView.ResizeMode.Stretch)
        for column, width in ((Column.KIND, 110), (Column.SIZE, 100), (Column.MODIFIED, 150)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)
        self.setCentralWidget(self.view)

        self._count_label = QLabel(self)
        self.statusBar().addWidget(self._count_label)
        self.sync_status = SyncStatus(vault, self)
        self.statusBar().addPermanentWidget(self.sync_status)

        self.model.loaded.connect(self._on_loaded)
        self.model.failed.connect(self._on_failed)
        self.model.modelReset.connect(self._update_status)
        self.open_folder(vault.root_id)
        self.sync_status.start()

    def open_folder(self, folder_id: int) -> None:
        """List ``folder_id`` in the view (in the background)."""
        self.view.set_placeholder_text("")
        self._count_label.setText("Loading…")
        self.model.load(folder_id)

    def shutdown(self) -> None:
        """Stop background work; results still in flight are dropped. Idempotent."""
        self.sync_status.shutdown()
        self.tasks.shutdown()

    def _update_status(self) -> None:
        count = self.model.rowCount()
        if self.model.loading and count == 0:
            text = "Loading…"
        else:
            text = "1 item" if count == 1 else f"{count} items"
            if self.model.has_more:
                text = f"{count}+ items"
        self._count_label.setText(text)

    def _on_loaded(self) -> None:
        if self.model.rowCount() == 0:
            root = self.model.folder_id == self.vault.root_id
            self.view.set_placeholder_text(EMPTY_VAULT_TEXT if root else EMPTY_FOLDER_TEXT)
        else:
            self.view.set_placeholder_text("")
        self._update_status()

    def _on_failed(self, exc: BaseException) -> None:
        self._update_status()
        if isinstance(exc, VaultError):
            show_error(self, exc)
            return
        log.error(
            "listing folder %s failed",
            self.model.folder_id,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
        self.statusBar().showMessage("Could not list this folder; the log has details.", 10_000)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)


def show_error(parent: QWidget | None, error: VaultError) -> QMessageBox:
    """Show a known error in a window-modal box without blocking; returns the box."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Media Vault", error.message, parent=parent)
    if error.hint:
        box.setInformativeText(error.hint)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
