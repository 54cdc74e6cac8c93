"""The middle pane's rows, shared by the grid and the list.

:class:`ItemModel` holds frozen :class:`Item` rows made from
:meth:`app.browse.BrowseOps.browse_page` and pages in more as a view scrolls
(``canFetchMore``/``fetchMore`` with the catalog's keyset cursor). Listing runs
off the GUI thread through :class:`ui.tasks.TaskManager`; ``data()`` never
touches the catalog, and thumbnails come from a provider that answers from
memory or later through its ``ready`` signal.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import IntEnum
from functools import cached_property
from typing import Any, Protocol

from PySide6.QtCore import (
    QAbstractTableModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
    SignalInstance,
)
from PySide6.QtGui import QPixmap

from app.browse import BrowseFilters, BrowseRow, Cursor, Page, Sort, SortKey, Source, default_sort
from app.errors import VaultError
from app.naming import problems
from app.rows import TagChanges, TagInfo
from app.vault import Vault
from ui.folder_tree import ITEMS_MIME, items_mime_data
from ui.formatting import format_time, human_size
from ui.resources import kind_icon
from ui.tasks import TaskManager

log = logging.getLogger(__name__)

PAGE_SIZE = 200

_Index = QModelIndex | QPersistentModelIndex


class ThumbnailSource(Protocol):
    """What the model needs of :class:`ui.thumbnails.ThumbnailProvider`."""

    ready: SignalInstance  # a blob hash (str) whose thumbnail arrived

    def pixmap(self, blob_hash: str, mime: str, size: int) -> QPixmap | None: ...


class Column(IntEnum):
    """The columns of :class:`ItemModel`."""

    NAME = 0
    KIND = 1
    SIZE = 2
    MODIFIED = 3
    TAGS = 4
    SYNC = 5
    MATCH = 6  # search results only: where the match came from, with a snippet


HEADERS = {
    Column.NAME: "Name",
    Column.KIND: "Kind",
    Column.SIZE: "Size",
    Column.MODIFIED: "Modified",
    Column.TAGS: "Tags",
    Column.SYNC: "Backup",
    Column.MATCH: "Found in",
}
# The catalog orders by these; Tags and Backup are not sortable.
SORT_KEYS: dict[Column, SortKey] = {
    Column.NAME: "name",
    Column.KIND: "kind",
    Column.SIZE: "size",
    Column.MODIFIED: "modified",
}


COLUMN_COUNT = len(Column)


class ItemRole(IntEnum):
    """Custom data roles of :class:`ItemModel`."""

    ID = Qt.ItemDataRole.UserRole + 1  # folder or file id (int)
    IS_FOLDER = Qt.ItemDataRole.UserRole + 2  # bool
    SIZE_BYTES = Qt.ItemDataRole.UserRole + 3  # int, 0 for folders
    THUMBNAIL = Qt.ItemDataRole.UserRole + 4  # QPixmap, or None (draw the kind icon)
    ITEM = Qt.ItemDataRole.UserRole + 5  # the Item
    TAG_NAMES = Qt.ItemDataRole.UserRole + 6  # tuple[str, ...]: the file's tags, by name
    TAG_COLORS = Qt.ItemDataRole.UserRole + 7  # tuple[str, ...]: their colours, "#rrggbb"


# Roles and flags as plain values: comparing and combining Qt's enum members costs
# a Python call each, and data() and flags() run for every cell of every paint.
_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_EDIT = Qt.ItemDataRole.EditRole.value
_DECORATION = Qt.ItemDataRole.DecorationRole.value
_ALIGNMENT = Qt.ItemDataRole.TextAlignmentRole.value
_TOOLTIP = Qt.ItemDataRole.ToolTipRole.value
_THUMBNAIL = ItemRole.THUMBNAIL.value
_ITEM = ItemRole.ITEM.value
_RIGHT = (Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value
# What a delegate asks of each cell besides text and icon (font, colours, check state…).
_NOT_ANSWERED = frozenset(range(4, 32)) - {_ALIGNMENT}
_F = Qt.ItemFlag
_FLAGS_TRASHED = _F.ItemIsEnabled | _F.ItemIsSelectable | _F.ItemIsDragEnabled
_FLAGS_EMPTY_AREA = _F.ItemIsDropEnabled
_FLAGS = {  # (the name column, a folder) -> flags of a live row
    (False, False): _FLAGS_TRASHED,
    (True, False): _FLAGS_TRASHED | _F.ItemIsEditable,
    (False, True): _FLAGS_TRASHED | _F.ItemIsDropEnabled,
    (True, True): _FLAGS_TRASHED | _F.ItemIsEditable | _F.ItemIsDropEnabled,
}


@dataclass(frozen=True)
class Item:
    """One row: a subfolder or a file, already formatted where that costs anything.

    Attributes:
        where: the vault path of the folder holding it (in the Trash, where it was).
        matched: for search results, the fields that matched; snippet: an excerpt.
        tags: the tag names joined for the Tags column's text; tag_names and
            tag_colors: each tag and its colour, for painting chips.
    """

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
    where: str
    folder_id: int | None
    blob_hash: str | None
    trash_entry_id: int | None
    matched: tuple[str, ...] = ()
    snippet: str = ""
    kept: bool = False
    tag_names: tuple[str, ...] = ()
    tag_colors: tuple[str, ...] = ()

    @property
    def kind_text(self) -> str:
        return "Folder" if self.is_folder else self.kind.capitalize()

    @cached_property
    def texts(self) -> tuple[str, ...]:
        """What each column shows, made once (a view asks on every paint)."""
        return (
            self.name,
            self.kind_text,
            "" if self.is_folder else human_size(self.size),
            self.modified,
            self.tags,
            self.sync,
            match_text(self),
        )

    @classmethod
    def of(cls, row: BrowseRow) -> Item:
        return cls(
            row.id,
            row.item == "folder",
            row.name,
            row.kind,
            row.mime,
            row.size,
            format_time(row.modified_at),
            row.is_favorite,
            ", ".join(row.tags),
            row.sync,
            row.folder_path or "",
            row.folder_id,
            row.blob_hash,
            row.trash_entry_id,
            row.matched,
            row.snippet,
            row.kept,
            row.tags,
            row.tag_colors,
        )


MATCH_WORDS = {"name": "name", "description": "description", "tags": "tag", "content": "content"}


def match_text(item: Item) -> str:
    """Where a search hit came from, e.g. "content: …we watched the [sunset]…"."""
    if not item.matched:
        return ""
    fields = ", ".join(MATCH_WORDS.get(m, m) for m in item.matched)
    return f"{fields}: {item.snippet}" if item.snippet else fields


class ItemModel(QAbstractTableModel):
    """The middle pane's rows: a folder (subfolders first, then files) or a result set.

    A flat table: every row is top-level (no children), and rows hold
    :class:`Item` values, never ORM objects. What is listed is an
    :class:`app.browse.Source`, in a :class:`app.browse.Sort` order, narrowed by
    :class:`app.browse.BrowseFilters`. The first page is asked for by
    :meth:`load`, the next ones by the view through ``fetchMore`` (keyset
    cursors, so page 500 costs what page 1 does); each page is listed on the
    task manager's pool. A reply for an older :meth:`load` is dropped.

    Signals:
        loaded(): a page arrived (also after an empty first page).
        failed(BaseException): listing failed; the model keeps what it had.
        sort_changed(): the order changed (the list's header shows it).
        renamed(Item): a rename went through (the row shows the new name).
        rename_failed(QModelIndex, str, str): a rename was refused: the message says why,
            then the name refused (the index is invalid if the row is gone).
    """

    loaded = Signal()
    failed = Signal(object)
    sort_changed = Signal()
    renamed = Signal(object)
    rename_failed = Signal(QModelIndex, str, str)

    def __init__(
        self,
        vault: Vault,
        tasks: TaskManager,
        parent: QObject | None = None,
        thumbnails: ThumbnailSource | None = None,
    ) -> None:
        super().__init__(parent)
        self._vault = vault
        self._tasks = tasks
        self._items: list[Item] = []
        self._rows_of_hash: dict[str, list[int]] = {}
        self._source: Source | None = None
        self._sort = Sort()
        self._filters = BrowseFilters()
        self._after: Cursor | None = None
        self._more = False
        self._loading = False
        self._generation = 0
        self._thumbnails = thumbnails
        self.thumbnail_size = 128
        if thumbnails is not None:
            thumbnails.ready.connect(self._on_thumbnail)

    @property
    def source(self) -> Source | None:
        """What is listed, or None before the first :meth:`load`."""
        return self._source

    @property
    def sort_order(self) -> Sort:
        return self._sort

    @property
    def filters(self) -> BrowseFilters:
        return self._filters

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

    def items(self) -> list[Item]:
        """Every row loaded so far (a copy)."""
        return list(self._items)

    def row_of(self, item_id: int, is_folder: bool) -> int | None:
        """The row showing that folder or file, if loaded."""
        for row, item in enumerate(self._items):
            if item.id == item_id and item.is_folder == is_folder:
                return row
        return None

    def load(
        self,
        source: Source | int,
        sort: Sort | None = None,
        filters: BrowseFilters | None = None,
    ) -> None:
        """Show ``source`` (a folder id means that folder): clear the rows, list the first page.

        ``sort`` None opens the source in its default order; ``filters`` None keeps
        the current ones.
        """
        if isinstance(source, int):
            source = Source.folder(source)
        old_sort = self._sort
        self.beginResetModel()
        self._items = []
        self._rows_of_hash = {}
        self._source = source
        self._sort = sort or default_sort(source)
        if filters is not None:
            self._filters = filters
        self._after = None
        self._more = False
        self._generation += 1
        self.endResetModel()
        if self._sort != old_sort:
            self.sort_changed.emit()
        self._request(None)

    def reload(self) -> None:
        """List the same source again from the start (after the catalog changed)."""
        if self._source is not None:
            self.load(self._source, self._sort, self._filters)

    def set_sort(self, sort: Sort) -> None:
        if self._source is not None and sort != self._sort:
            self.load(self._source, sort, self._filters)

    def set_filters(self, filters: BrowseFilters) -> None:
        if filters != self._filters:
            self._filters = filters
            self.reload()

    def _request(self, after: Cursor | None) -> None:
        source, sort, filters = self._source, self._sort, self._filters
        assert source is not None
        generation = self._generation
        vault = self._vault
        self._loading = True

        def list_page() -> Page:
            # Pool thread: only the vault (own session), no Qt objects.
            return vault.browse_page(source, sort, filters, after=after, limit=PAGE_SIZE)

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
        rows = [Item.of(r) for r in page.rows]
        self._after = page.after
        self._more = page.more
        if rows:
            first = len(self._items)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._items.extend(rows)
            for offset, item in enumerate(rows):
                if item.blob_hash:
                    self._rows_of_hash.setdefault(item.blob_hash, []).append(first + offset)
            self.endInsertRows()
        self.loaded.emit()

    def _on_error(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._more = False  # do not retry in a loop from canFetchMore
        self.failed.emit(exc)

    def _on_thumbnail(self, blob_hash: str) -> None:
        rows = self._rows_of_hash.get(blob_hash)
        if not rows:
            return
        roles = [ItemRole.THUMBNAIL, Qt.ItemDataRole.DecorationRole]
        for row in rows:
            index = self.index(row, Column.NAME)
            self.dataChanged.emit(index, index, roles)

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

    def apply_tag_changes(self, changes: TagChanges) -> None:
        """Show what a tag call changed: the chips of the rows loaded, or the whole list
        again where membership may have changed (a tag's files, search results)."""
        source = self._source
        if source is None or not (changes.files or changes.tags):
            return
        if source.kind in ("tag", "search"):
            self.reload()
            return
        self.refresh_tags([i.id for i in self._items if not i.is_folder and i.id in changes.files])

    def refresh_tags(self, file_ids: Sequence[int] | None = None) -> None:
        """Re-read the tags of these loaded files (all loaded files for None) in the background;
        the rows whose tags changed repaint with one ranged ``dataChanged``."""
        ids = [i.id for i in self._items if not i.is_folder] if file_ids is None else list(file_ids)
        if not ids:
            return
        generation, vault = self._generation, self._vault

        def tags() -> dict[int, list[TagInfo]]:
            return vault.tags_of_files(ids)  # pool thread: no Qt objects

        self._tasks.run(tags, lambda found: self._on_tags(generation, ids, found), name="row tags")

    def _on_tags(self, generation: int, ids: list[int], found: dict[int, list[TagInfo]]) -> None:
        if generation != self._generation:
            return
        asked = set(ids)
        changed = []
        for row, item in enumerate(self._items):
            if item.is_folder or item.id not in asked:
                continue
            tags = found.get(item.id, [])
            names = tuple(t.name for t in tags)
            colors = tuple(t.color for t in tags)
            if (names, colors) != (item.tag_names, item.tag_colors):
                self._items[row] = replace(
                    item, tags=", ".join(names), tag_names=names, tag_colors=colors
                )
                changed.append(row)
        if changed:
            self.dataChanged.emit(
                self.index(changed[0], 0), self.index(changed[-1], len(Column) - 1)
            )

    # -- Qt overrides ---------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else COLUMN_COUNT

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        # Called for every cell and role on every paint: the roles never answered
        # leave first, then the common ones, from strings made once per row.
        if role in _NOT_ANSWERED:
            return None
        row = index.row()
        if not 0 <= row < len(self._items):
            return None
        item = self._items[row]
        if role in (_DISPLAY, _EDIT):
            return item.texts[index.column()]
        if role == _DECORATION:
            if index.column() != Column.NAME:
                return None
            return kind_icon("folder" if item.is_folder else item.kind)
        if role == _ALIGNMENT:
            return _RIGHT if index.column() == Column.SIZE else None
        if role == _THUMBNAIL:
            if item.blob_hash and self._thumbnails is not None:
                return self._thumbnails.pixmap(item.blob_hash, item.mime, self.thumbnail_size)
            return None
        if role == _ITEM:
            return item
        if role == _TOOLTIP:
            column = index.column()
            if column == Column.MATCH:
                return match_text(item) or None
            if column == Column.TAGS:
                return item.tags or None
            if column != Column.NAME:
                return None
            lines = [item.name] if item.is_folder else [item.name, item.mime]
            if item.where:
                lines.append(item.where)
            if item.tags:
                lines.append("Tags: " + item.tags)
            if item.matched:
                lines.append("Found in " + match_text(item))
            return "\n".join(lines)
        if role == ItemRole.ID:
            return item.id
        if role == ItemRole.IS_FOLDER:
            return item.is_folder
        if role == ItemRole.SIZE_BYTES:
            return item.size
        if role == ItemRole.TAG_NAMES:
            return item.tag_names
        if role == ItemRole.TAG_COLORS:
            return item.tag_colors
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            trash = self._source is not None and self._source.kind == "trash"
            if section == Column.MODIFIED and trash:
                return "Deleted"
            return HEADERS[Column(section)]
        if role == Qt.ItemDataRole.TextAlignmentRole and section == Column.SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        row = index.row()
        if not 0 <= row < len(self._items):
            return _FLAGS_EMPTY_AREA
        item = self._items[row]
        if item.trash_entry_id is not None:
            return _FLAGS_TRASHED
        return _FLAGS[(index.column() == Column.NAME, item.is_folder)]

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """A header click: the catalog lists again in that order (Tags and Backup are not sortable)."""
        key = SORT_KEYS.get(Column(column)) if 0 <= column < len(Column) else None
        if key is None:
            self.sort_changed.emit()  # puts the header's indicator back
            return
        self.set_sort(Sort(key, descending=order == Qt.SortOrder.DescendingOrder))

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Rename a file or folder inline: the naming rules are checked here, the rename
        is done in the background. A refused name emits :attr:`rename_failed`."""
        if (
            role != Qt.ItemDataRole.EditRole
            or not index.isValid()
            or index.column() != Column.NAME
            or not 0 <= index.row() < len(self._items)
        ):
            return False
        item = self._items[index.row()]
        name = str(value).strip()
        if name == item.name or item.trash_entry_id is not None:
            return False
        found = problems(name)
        if found:
            self.rename_failed.emit(self.index(index.row(), Column.NAME), found[0], name)
            return False
        self._rename(item, name)
        return True

    def _rename(self, item: Item, name: str) -> None:
        vault, generation = self._vault, self._generation

        def rename() -> None:
            # Pool thread: only the vault (own sessions), no Qt objects.
            if item.is_folder:
                vault.rename_folder(item.id, name)
            else:
                vault.rename_file(item.id, name)

        def done(_: None) -> None:
            renamed = replace(item, name=name)
            row = self.row_of(item.id, item.is_folder) if generation == self._generation else None
            if row is not None:
                self._items[row] = renamed
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))
            self.renamed.emit(renamed)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, VaultError):
                message = exc.message
            else:
                log.error("renaming %s failed", item.name, exc_info=exc)
                message = "Could not rename it; the log has details."
            row = self.row_of(item.id, item.is_folder) if generation == self._generation else None
            index = self.index(row, Column.NAME) if row is not None else QModelIndex()
            self.rename_failed.emit(index, message, name)

        self._tasks.run(rename, done, failed, name=f"rename {item.name}")

    def canFetchMore(self, parent: _Index) -> bool:
        return not parent.isValid() and self._more and not self._loading

    def fetchMore(self, parent: _Index) -> None:
        if self.canFetchMore(parent):
            self._request(self._after)

    # -- drag and drop ----------------------------------------------------------

    def mimeTypes(self) -> list[str]:
        return [ITEMS_MIME, "text/uri-list"]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        """Dragged rows as :data:`ITEMS_MIME` (moves within the vault); the window adds
        file URLs for dragging out to the file manager."""
        rows = sorted({i.row() for i in indexes if i.isValid()})
        items = [self._items[r] for r in rows if self._items[r].trash_entry_id is None]
        return items_mime_data(
            file_ids=[i.id for i in items if not i.is_folder],
            folder_ids=[i.id for i in items if i.is_folder],
        )

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction
