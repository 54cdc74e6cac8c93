"""The main window, for now one folder listing (the full window comes later).

:class:`ItemModel` holds frozen rows from :meth:`app.vault.Vault.list_folder`
and pages in more files as the view scrolls (``canFetchMore``/``fetchMore``
with the vault's keyset cursor). Listing runs off the GUI thread through
:class:`ui.tasks.TaskManager`; ``data()`` never touches the catalog.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
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
    QSplitter,
    QStyle,
    QTableView,
    QWidget,
)

from app.browse import Cursor, Page, Sort, Source, default_sort
from app.errors import VaultError
from app.vault import Vault
from ui.folder_tree import FolderTree, FolderTreeModel, Place
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
EMPTY_TEXT = {
    "all": "This vault has no files yet.",
    "favorites": "No favorites yet. Mark a file with “mediavault fav PATH”.",
    "recent": "Nothing was added or changed in the last 30 days.",
    "tag": "No file carries this tag.",
    "trash": "The Trash is empty.",
}

_Index = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    """The columns of :class:`ItemModel`."""

    NAME = 0
    KIND = 1
    SIZE = 2
    MODIFIED = 3
    TAGS = 4
    SYNC = 5


_HEADERS = {
    Column.NAME: "Name",
    Column.KIND: "Kind",
    Column.SIZE: "Size",
    Column.MODIFIED: "Modified",
    Column.TAGS: "Tags",
    Column.SYNC: "Backup",
}


class ItemRole(IntEnum):
    """Custom data roles of :class:`ItemModel`."""

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
    tags: str
    sync: str
    where: str  # the folder holding it, for result sets that mix folders


class ItemModel(QAbstractTableModel):
    """The middle pane's rows: a folder (subfolders first, then files) or a result set.

    A flat table: every row is top-level (no children), and rows hold
    :class:`Item` values, never ORM objects. What is listed is an
    :class:`app.browse.Source` in a :class:`app.browse.Sort` order. The first
    page is asked for by :meth:`load`, the next ones by the view through
    ``fetchMore`` (keyset cursors, so page 500 costs what page 1 does); each
    page is listed on the task manager's pool. A reply for an older
    :meth:`load` is dropped.

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
        self._source: Source | None = None
        self._sort = Sort()
        self._after: Cursor | None = None
        self._more = False
        self._loading = False
        self._generation = 0
        style = QApplication.style()
        self._folder_icon = style.standardIcon(QStyle.StandardPixmap.SP_DirIcon)
        self._file_icon = style.standardIcon(QStyle.StandardPixmap.SP_FileIcon)

    @property
    def source(self) -> Source | None:
        """What is listed, or None before the first :meth:`load`."""
        return self._source

    @property
    def folder_id(self) -> int | None:
        """The folder listed, or None for a result set (or before the first load)."""
        source = self._source
        return source.id if source is not None and source.kind == "folder" else None

    @property
    def loading(self) -> bool:
        """True while a page is being listed."""
        return self._loading

    @property
    def has_more(self) -> bool:
        """True when rows remain beyond those loaded."""
        return self._more

    def item(self, row: int) -> Item:
        """The item in ``row``."""
        return self._items[row]

    def load(self, source: Source | int, sort: Sort | None = None) -> None:
        """Show ``source`` (a folder id means that folder): clear the rows, list the first page."""
        if isinstance(source, int):
            source = Source.folder(source)
        self.beginResetModel()
        self._items = []
        self._source = source
        self._sort = sort or default_sort(source)
        self._after = None
        self._more = False
        self._generation += 1
        self.endResetModel()
        self._request(None)

    def _request(self, after: Cursor | None) -> None:
        source, sort = self._source, self._sort
        assert source is not None
        generation = self._generation
        vault = self._vault
        self._loading = True

        def list_page() -> Page:
            # Pool thread: only the vault (own session), no Qt objects.
            return vault.browse_page(source, sort, after=after, limit=PAGE_SIZE)

        self._tasks.run(
            list_page,
            lambda page: self._on_page(generation, page),
            lambda exc: self._on_error(generation, exc),
            name=f"list {source.kind} {source.id or ''}",
        )

    def _on_page(self, generation: int, page: Page) -> None:
        if generation != self._generation:
            return  # the user moved on
        self._loading = False
        rows = [
            Item(
                r.id,
                r.item == "folder",
                r.name,
                "Folder" if r.item == "folder" else r.kind.capitalize(),
                r.mime,
                r.size,
                format_time(r.modified_at),
                r.is_favorite,
                ", ".join(r.tags),
                r.sync,
                r.folder_path or "",
            )
            for r in page.rows
        ]
        self._after = page.after
        self._more = page.more
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

    def refresh_sync(self) -> None:
        """Re-read the Backup column of the rows loaded (after a sync moved blobs along)."""
        ids = [item.id for item in self._items if not item.is_folder]
        if not ids:
            return
        generation, vault = self._generation, self._vault

        def words() -> dict[int, str]:
            return vault.sync_words(ids)  # pool thread: no Qt objects

        self._tasks.run(
            words, lambda found: self._on_sync_words(generation, found), name="sync words"
        )

    def _on_sync_words(self, generation: int, found: dict[int, str]) -> None:
        if generation != self._generation:
            return
        changed = [
            row
            for row, item in enumerate(self._items)
            if not item.is_folder and item.id in found and found[item.id] != item.sync
        ]
        for row in changed:
            self._items[row] = replace(self._items[row], sync=found[self._items[row].id])
        if changed:
            self.dataChanged.emit(
                self.index(changed[0], Column.SYNC), self.index(changed[-1], Column.SYNC)
            )

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
            if column == Column.TAGS:
                return item.tags
            if column == Column.SYNC:
                return item.sync
        elif role == Qt.ItemDataRole.DecorationRole and column == Column.NAME:
            return self._folder_icon if item.is_folder else self._file_icon
        elif role == Qt.ItemDataRole.TextAlignmentRole and column == Column.SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        elif role == Qt.ItemDataRole.ToolTipRole and column == Column.NAME:
            where = f"\n{item.where}" if item.where else ""
            return (item.name if item.is_folder else f"{item.name}\n{item.mime}") + where
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
    """Media Vault's main window: the folder tree, and the list of what it selects.

    Attributes:
        vault: the open vault (owned by the caller, who closes it).
        tasks: background work for this window (listing).
        sync_status: the background sync and its place in the status bar.
        tree: the folder tree with All files, Favorites, Recent, Tags and Trash.
        model: the listing's item model.
        view: the details view over ``model``.
    """

    def __init__(self, vault: Vault, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vault = vault
        self.setWindowTitle(f"Media Vault — {vault.paths.data}")
        self.resize(1100, 640)

        # Interactive listing: few threads, so pages come back in order quickly.
        self.tasks = TaskManager(self, max_threads=2, name="interactive")
        self.model = ItemModel(vault, self.tasks, self)
        self.view = FolderView(self)
        self.view.setModel(self.model)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(Column.NAME, QHeaderView.ResizeMode.Stretch)
        widths = {Column.KIND: 90, Column.SIZE: 95, Column.MODIFIED: 150, Column.TAGS: 90}
        widths[Column.SYNC] = 105
        for column, width in widths.items():
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)

        self.tree_model = FolderTreeModel(vault, self.tasks, self)
        self.tree = FolderTree(self.tree_model, self)
        self.tree.source_selected.connect(self._on_place_selected)
        self.tree_model.error.connect(self._on_tree_error)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.tree)
        splitter.addWidget(self.view)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([220, 880])
        self.setCentralWidget(splitter)

        self._count_label = QLabel(self)
        self.statusBar().addWidget(self._count_label)
        self.sync_status = SyncStatus(vault, self)
        self.statusBar().addPermanentWidget(self.sync_status)
        self.sync_status.finished.connect(self.model.refresh_sync)

        self.model.loaded.connect(self._on_loaded)
        self.model.failed.connect(self._on_failed)
        self.model.modelReset.connect(self._update_status)
        self.open_folder(vault.root_id)
        self.sync_status.start()

    def open_folder(self, folder_id: int) -> None:
        """List ``folder_id`` in the view (in the background)."""
        self.open_source(Source.folder(folder_id))

    def open_source(self, source: Source) -> None:
        """List a folder or a result set in the view (in the background)."""
        self.view.set_placeholder_text("")
        self._count_label.setText("Loading…")
        self.model.load(source)

    def _on_place_selected(self, place: Place) -> None:
        source = place.browse_source()
        if source is not None:
            self.open_source(source)

    def _on_tree_error(self, message: str, hint: str) -> None:
        show_error(self, VaultError(message, hint))

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
        source = self.model.source
        if self.model.rowCount() == 0 and source is not None:
            root = self.model.folder_id == self.vault.root_id
            empty = EMPTY_VAULT_TEXT if root else EMPTY_TEXT.get(source.kind, EMPTY_FOLDER_TEXT)
            self.view.set_placeholder_text(empty)
        else:
            self.view.set_placeholder_text("")
        self._update_status()

    def _on_failed(self, exc: BaseException) -> None:
        self._update_status()
        if isinstance(exc, VaultError):
            show_error(self, exc)
            return
        log.error(
            "listing %s failed",
            self.model.source,
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
