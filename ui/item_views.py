"""The grid and the list over one :class:`ui.item_model.ItemModel`.

Both views share one selection model (the window sets it), say so when there
is nothing to show, take drops from the system file manager and from the vault
itself, and start drags that carry vault items plus, for the file manager, the
files' local paths. What a drop means is decided here from where it lands;
carrying it out is the window's job (:class:`ViewDrop`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    QUrl,
    Signal,
    SignalInstance,
)
from PySide6.QtGui import (
    QColor,
    QDrag,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QListView,
    QStyle,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from ui.folder_tree import ITEMS_MIME, decode_items, local_paths, show_tip_by
from ui.item_model import Column, Item, ItemModel, ItemRole
from ui.name_editor import NameEditorDelegate
from ui.resources import checkerboard, kind_icon
from ui.snippet_delegate import SnippetDelegate
from ui.tag_chips import TagChipsDelegate, chip_font, paint_chips, paint_dots

_Index = QModelIndex | QPersistentModelIndex
NAME_MIN_CHARS = 24  # the list's Name column never gets narrower than this
TIP_AGAIN_MS = 200  # a refused name's message comes back this long after the editor reopens


@dataclass(frozen=True)
class ViewDrop:
    """A drop on the grid or the list, for the window to carry out.

    Attributes:
        paths: outside files and folders to import (empty for vault items).
        file_ids, folder_ids: vault items dragged (empty for outside files).
        folder_id: the folder dropped into: a folder item under the cursor, else
            None for the folder shown.
        version_of: a file item an outside single file was dropped onto: it
            becomes a new version of that file.
        copy: vault items are copied (Ctrl held), not moved.
    """

    paths: tuple[Path, ...] = ()
    file_ids: tuple[int, ...] = ()
    folder_ids: tuple[int, ...] = ()
    folder_id: int | None = None
    version_of: int | None = None
    copy: bool = False


if TYPE_CHECKING:
    _ViewBase = QAbstractItemView
else:
    _ViewBase = object  # a plain mixin at run time: PySide6 takes one Qt base per class


class _ItemViewBehaviour(_ViewBase):
    """What the grid and the list share: placeholder text, drops, drags out, rename tips.

    A mixin placed before the Qt view class (``class ListView(_ItemViewBehaviour,
    QTableView)``), so its event handlers override the view's; call
    :meth:`_setup_items` from ``__init__``.
    """

    placeholder_text: str
    drop_requested: SignalInstance
    # Makes local files for dragging items out to the file manager, then calls back
    # with their URLs; the callback says whether the drop was in another application
    # (set by the window).
    prepare_drag_out: Callable[[list[Item], Callable[[list[QUrl]], bool]], None] | None

    def _setup_items(self) -> None:
        self.placeholder_text = ""
        self.prepare_drag_out = None
        self._drag_pending = False
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.viewport().setAcceptDrops(True)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )

    def set_placeholder_text(self, text: str) -> None:
        """Set the text drawn when there are no rows, and repaint."""
        self.placeholder_text = text
        self.viewport().update()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        text = getattr(self, "placeholder_text", "")
        if not text or (model is not None and model.rowCount() > 0):
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().placeholderText().color())
        rect = self.viewport().rect().adjusted(24, 24, -24, -24)
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), text)
        painter.end()

    def show_tip(self, index: QModelIndex, message: str) -> None:
        """A message by an item (a refused name), as the tree shows its own."""
        show_tip_by(self, index, message)

    def edit_again(self, index: QModelIndex, message: str = "", name: str = "") -> None:
        """Open the name editor again, once the one that committed a refused name closed,
        with that ``name`` in it to correct, and show ``message`` by it (again: the
        editor taking the focus hides a tip)."""
        persistent = QPersistentModelIndex(index)

        def tip() -> None:
            if persistent.isValid() and self.state() == QAbstractItemView.State.EditingState:
                self.show_tip(self.model().index(persistent.row(), persistent.column()), message)

        def again() -> None:
            if persistent.isValid() and self.state() != QAbstractItemView.State.EditingState:
                current = self.model().index(persistent.row(), persistent.column())
                self.setCurrentIndex(current)
                delegate = self.itemDelegateForIndex(current)
                if name and isinstance(delegate, NameEditorDelegate):
                    delegate.edit_with(current, name)
                self.edit(current)
                if message:
                    # Later still: releasing the key that committed would hide it too.
                    QTimer.singleShot(TIP_AGAIN_MS, self, tip)

        QTimer.singleShot(0, self, again)

    # -- drops ----------------------------------------------------------------

    def _drop_at(self, event: QDragMoveEvent | QDropEvent) -> ViewDrop | None:
        """What dropping ``event`` here would do; None if it cannot land here."""
        data = event.mimeData()
        index = self.indexAt(event.position().toPoint())
        found = index.data(ItemRole.ITEM) if index.isValid() else None
        item = found if isinstance(found, Item) else None
        if item is not None and item.trash_entry_id is not None:
            return None  # nothing lands in the Trash's rows
        model = self.model()
        if not isinstance(model, ItemModel) or model.source is None:
            return None
        into = item.id if item is not None and item.is_folder else None
        shown = model.folder_id
        items = decode_items(data) if data.hasFormat(ITEMS_MIME) else None
        if items is not None:
            files, folders = items
            target = into if into is not None else shown
            if target is None or target in folders:
                return None  # a result set has no folder to move into; nor into itself
            copy = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
            if (
                not copy
                and into is None
                and all(model.row_of(f, False) is not None for f in files)
                and not folders
            ):
                return None  # already here
            return ViewDrop(file_ids=files, folder_ids=folders, folder_id=into, copy=copy)
        paths = local_paths(data)
        if not paths:
            return None
        if item is not None and not item.is_folder and len(paths) == 1 and paths[0].is_file():
            return ViewDrop(paths=paths, version_of=item.id)
        if into is None and shown is None:
            return None  # outside files need a folder to land in
        return ViewDrop(paths=paths, folder_id=into)

    def _accept(self, event: QDragMoveEvent | QDropEvent) -> ViewDrop | None:
        drop = self._drop_at(event)
        if drop is None:
            event.ignore()
            return None
        if drop.paths or drop.copy:
            # Outside files are copied in: never let a file manager delete its originals.
            event.setDropAction(Qt.DropAction.CopyAction)
        else:
            event.setDropAction(Qt.DropAction.MoveAction)
        event.accept()
        return drop

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        data = event.mimeData()
        if data.hasFormat(ITEMS_MIME) or data.hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self._accept(event)

    def dropEvent(self, event: QDropEvent) -> None:
        drop = self._accept(event)
        if drop is not None:
            self.drop_requested.emit(drop)

    # -- drags out ------------------------------------------------------------

    def startDrag(self, supportedActions: Qt.DropAction) -> None:
        actions = supportedActions
        indexes = [i for i in self.selectedIndexes() if i.column() == 0]
        model = self.model()
        if not indexes or not isinstance(model, ItemModel):
            return
        items = [model.item(i.row()) for i in indexes]
        if any(i.trash_entry_id is not None for i in items):
            return
        data = model.mimeData(indexes)
        first = items[0]
        icon = kind_icon("folder" if first.is_folder else first.kind)

        def drag(urls: list[QUrl]) -> bool:
            """Drag; True if it was dropped in another application."""
            # The links are made on a worker: the drag starts once they exist, if the
            # button is still held (let go meanwhile, it was a click after all).
            self._drag_pending = False
            if not self.drag_button_held():
                return False
            if urls:
                data.setUrls(urls)
            qdrag = QDrag(self)
            qdrag.setMimeData(data)
            qdrag.setPixmap(icon.pixmap(QSize(48, 48)))
            done = qdrag.exec(actions | Qt.DropAction.CopyAction, Qt.DropAction.MoveAction)
            return done != Qt.DropAction.IgnoreAction and qdrag.target() is None

        if self.prepare_drag_out is None:
            drag([])
        else:
            self._drag_pending = True
            self.prepare_drag_out(items, drag)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_pending and event.buttons() != Qt.MouseButton.NoButton:
            event.accept()  # the drag has begun: moving must not select rows meanwhile
            return
        super().mouseMoveEvent(event)

    @staticmethod
    def drag_button_held() -> bool:
        return bool(QApplication.mouseButtons() & Qt.MouseButton.LeftButton)


class NameDelegate(NameEditorDelegate):
    """The name editor of the file views: a file's extension stays unselected, and
    Enter commits.

    The window's Open action has Return and Enter as shortcuts on the views,
    and a shortcut outranks the focused editor's key press: without the event
    filter, Enter in the editor would open the file instead of committing the name.
    """

    def selects_stem(self, index: QModelIndex | QPersistentModelIndex) -> bool:
        return not index.data(ItemRole.IS_FOLDER)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and isinstance(watched, QWidget)
        ):
            event.accept()  # the key press goes to the editor, which commits
            return True
        return super().eventFilter(watched, event)


class ListView(_ItemViewBehaviour, QTableView):
    """The details list: name, kind, size, modified, tags, backup; sortable by header."""

    drop_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._setup_items()
        self.setItemDelegate(NameDelegate(self))
        # Tags as coloured chips; the column's text stays the names, for copy and screen readers.
        self.setItemDelegateForColumn(
            Column.TAGS, TagChipsDelegate(ItemRole.TAG_NAMES, ItemRole.TAG_COLORS, self)
        )
        self.setItemDelegateForColumn(Column.MATCH, SnippetDelegate(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        # A long name keeps its end, where the number and the extension tell files
        # apart (as in Finder and Dolphin).
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setSortingEnabled(True)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.horizontalHeader().setHighlightSections(False)
        self.horizontalHeader().setSortIndicatorShown(True)
        self.horizontalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        self.horizontalHeader().sectionResized.connect(self._other_column_resized)

    def _fit_name(self) -> None:
        """Name takes the width the other columns leave, but stays readable in a narrow
        window: then the other columns scroll sideways instead."""
        header = self.horizontalHeader()
        others = sum(
            header.sectionSize(c)
            for c in range(header.count())
            if c != Column.NAME and not header.isSectionHidden(c)
        )
        floor = self.name_floor()
        if self.viewport().width() - others >= floor:
            header.setSectionResizeMode(Column.NAME, QHeaderView.ResizeMode.Stretch)
        elif header.sectionResizeMode(Column.NAME) == QHeaderView.ResizeMode.Stretch:
            header.setSectionResizeMode(Column.NAME, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(Column.NAME, floor)

    def name_floor(self) -> int:
        """The Name column's narrowest width: :data:`NAME_MIN_CHARS` average characters
        beside the file's icon, with the cell's margins."""
        icon = self.iconSize().width()
        if icon <= 0:
            icon = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize, None, self)
        return self.fontMetrics().averageCharWidth() * NAME_MIN_CHARS + icon + 12

    def _other_column_resized(self, column: int, _old: int, _new: int) -> None:
        if column != Column.NAME:  # also when one is hidden or shown (Found in)
            self._fit_name()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_name()


GRID_MIN, GRID_MAX, GRID_DEFAULT = 64, 512, 128
STAR_COLOR = QColor(230, 170, 20)  # Favorites' gold, as in the tree


class GridDelegate(NameDelegate):
    """A grid cell: the thumbnail (or the kind icon while there is none) over its name."""

    def __init__(self, view: GridView) -> None:
        super().__init__(view)
        self._view = view

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return self._view.cell_size()

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        item: Item | None = index.data(ItemRole.ITEM)
        if item is None:
            return
        size = self._view.thumbnail_size
        rect: QRect = option.rect
        state = option.state
        palette: QPalette = option.palette
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        selected = bool(state & QStyle.StateFlag.State_Selected)
        cell = rect.adjusted(3, 3, -3, -3)
        if selected:
            color = palette.highlight().color()
            color.setAlpha(70)
            painter.setBrush(color)
            painter.setPen(palette.highlight().color())
            painter.drawRoundedRect(cell, 6, 6)
        elif state & QStyle.StateFlag.State_MouseOver:
            color = palette.highlight().color()
            color.setAlpha(28)
            painter.setBrush(color)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(cell, 6, 6)
        image = QRect(rect.x() + (rect.width() - size) // 2, rect.y() + 8, size, size)
        thumb = index.data(ItemRole.THUMBNAIL) if not item.is_folder else None
        if isinstance(thumb, QPixmap) and not thumb.isNull():
            logical = thumb.size() / max(thumb.devicePixelRatio(), 1.0)
            if logical.width() > image.width() or logical.height() > image.height():
                logical = logical.scaled(image.size(), Qt.AspectRatioMode.KeepAspectRatio)
            # A picture smaller than the cell keeps its size, as in a file manager.
            target = QRect(QPoint(0, 0), logical)
            target.moveCenter(image.center())
            if thumb.hasAlphaChannel():  # only thumbnails with real transparency have one
                painter.fillRect(target, checkerboard())
            painter.drawPixmap(target, thumb)
        else:
            icon = kind_icon("folder" if item.is_folder else item.kind)
            side = int(size * 0.7)
            box = QRect(0, 0, side, side)
            box.moveCenter(image.center())
            icon.paint(painter, box)
        if item.is_favorite:
            star = QRect(image.right() - 18, image.top() + 2, 16, 16)
            painter.setPen(STAR_COLOR)
            painter.drawText(star, int(Qt.AlignmentFlag.AlignCenter), "★")
        if item.tag_names:
            self._paint_tags(
                painter, item, image, option, bool(state & QStyle.StateFlag.State_MouseOver)
            )
        text_rect = QRect(
            rect.x() + 6, image.bottom() + 6, rect.width() - 12, rect.bottom() - image.bottom() - 8
        )
        metrics = QFontMetrics(option.font)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        flags = int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        painter.drawText(text_rect, flags, _two_lines(metrics, item.name, text_rect.width()))
        painter.restore()

    @staticmethod
    def _paint_tags(
        painter: QPainter, item: Item, image: QRect, option: QStyleOptionViewItem, hover: bool
    ) -> None:
        """Coloured dots in the thumbnail's corner (as Finder marks tagged files); on hover,
        the tags' chips with their names across the thumbnail's foot."""
        line = QFontMetrics(chip_font(option.font)).height() + 4
        if not hover:
            paint_dots(
                painter,
                QRect(image.left() + 4, image.bottom() - 12, image.width() // 2, 10),
                item.tag_colors,
            )
            return
        band = QRect(image.left(), image.bottom() - line - 4, image.width(), line + 4)
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 110))
        painter.drawRoundedRect(band, 4, 4)
        painter.restore()
        paint_chips(
            painter,
            band.adjusted(3, 2, -3, -2),
            item.tag_names,
            item.tag_colors,
            option.font,
            more_color=QColor("white"),
        )


def _two_lines(metrics: QFontMetrics, text: str, width: int) -> str:
    """``text`` on at most two lines of ``width``, the second elided in the middle."""
    if metrics.horizontalAdvance(text) <= width:
        return text
    cut = len(text)
    while cut > 1 and metrics.horizontalAdvance(text[:cut]) > width:
        cut -= 1
    # Break after a space or separator when one is near, as file managers do.
    for i in range(cut, max(cut - 12, 0), -1):
        if text[i - 1] in " _-.":
            cut = i
            break
    rest = metrics.elidedText(text[cut:], Qt.TextElideMode.ElideMiddle, width)
    return text[:cut] + "\n" + rest


class GridView(_ItemViewBehaviour, QListView):
    """Thumbnails in a grid, their size set by the window's slider."""

    drop_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumbnail_size = GRID_DEFAULT
        self.setViewMode(QListView.ViewMode.IconMode)
        # Whole rows, as the list selects them: the two views share the selection.
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)  # no free placement: drops mean move/import
        # After setMovement: a static QListView turns off drags and its viewport's drops.
        self._setup_items()
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(400)
        self.setSpacing(0)
        self.setWordWrap(True)
        self.setMouseTracking(True)
        self.setItemDelegate(GridDelegate(self))
        self.set_thumbnail_size(GRID_DEFAULT)

    def cell_size(self) -> QSize:
        line = self.fontMetrics().height()
        return QSize(self.thumbnail_size + 28, self.thumbnail_size + 2 * line + 22)

    def set_thumbnail_size(self, size: int) -> None:
        """Show thumbnails of ``size`` logical pixels (clamped to the slider's range)."""
        self.thumbnail_size = max(GRID_MIN, min(GRID_MAX, int(size)))
        model = self.model()
        if isinstance(model, ItemModel):
            model.thumbnail_size = self.thumbnail_size
        self.setGridSize(self.cell_size())
        self.setIconSize(QSize(self.thumbnail_size, self.thumbnail_size))
        self.doItemsLayout()

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        if isinstance(model, ItemModel):
            model.thumbnail_size = self.thumbnail_size
