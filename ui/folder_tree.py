"""The folder tree on the left of the window: the vault's folders and the fixed places.

:class:`FolderTreeModel` shows the vault's folders under a "Vault" node, then
All files, Favorites, Recent, one node per tag under Tags, and Trash. A
folder's subfolders are listed off the GUI thread through
:class:`ui.tasks.TaskManager` the first time the view expands it
(``canFetchMore``/``fetchMore``); each listed folder says whether it has
subfolders of its own, so expand arrows show without listing grandchildren.
``data()`` never touches the catalog.

:class:`FolderTree` is the view: inline rename (F2, or a click on the selected
item), "New folder", and drops of outside files or vault items, which it
turns into a :class:`DropRequest` for the window to carry out.

Tags: each tag node shows its colour and, right-aligned, how many live files
carry it. Ctrl-click (or Shift-click) selects several tags at once, which shows
the files carrying all of them, or any of them (the choice is in the tags'
right-click menu). The same menu creates a tag (New Tag…), renames one (inline,
as a folder), changes its colour (a colour dialog) and deletes one after a
confirmation naming how many files carry it; files dropped on a tag get it.
These run on the task manager's pool like every other change, and
:attr:`FolderTreeModel.tags_changed` tells the window what to repaint.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QByteArray,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QContextMenuEvent,
    QDragMoveEvent,
    QDropEvent,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPalette,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QColorDialog,
    QMenu,
    QMessageBox,
    QStyle,
    QStyleOptionViewItem,
    QToolTip,
    QTreeView,
    QWidget,
)

from app.browse import FolderNode, Source, TagCount, TagMatch
from app.errors import NotFound, VaultError
from app.naming import name_key, problems
from app.rows import Changes, TagChanges
from app.tags import PALETTE, tag_problems
from app.vault import Vault
from ui.confirm import ask_before
from ui.name_editor import NameEditorDelegate
from ui.resources import icon as resource_icon
from ui.tag_chips import swatch_icon
from ui.tag_editor import NewTagDialog, next_palette_color, pick_other_color
from ui.tasks import TaskManager

log = logging.getLogger(__name__)

ITEMS_MIME = "application/x-mediavault-items"
URI_LIST_MIME = "text/uri-list"
NEW_FOLDER_NAME = "New folder"

_Index = QModelIndex | QPersistentModelIndex


class NodeKind(StrEnum):
    """What a node of the tree stands for."""

    VAULT = "vault"  # the vault's top folder (the root row of the catalog)
    FOLDER = "folder"
    ALL_FILES = "all_files"
    FAVORITES = "favorites"
    RECENT = "recent"
    TAGS = "tags"  # the heading over the tag nodes
    TAG = "tag"
    SHARED = "shared"  # files with a working download link
    TRASH = "trash"


class TreeRole(IntEnum):
    """Custom data roles of :class:`FolderTreeModel`."""

    KIND = Qt.ItemDataRole.UserRole + 1  # NodeKind
    FOLDER_ID = Qt.ItemDataRole.UserRole + 2  # int for VAULT and FOLDER, else None
    TAG_ID = Qt.ItemDataRole.UserRole + 3  # int for TAG, else None
    SOURCE = Qt.ItemDataRole.UserRole + 4  # Place
    FILE_COUNT = Qt.ItemDataRole.UserRole + 5  # int for TAG (live files), else None
    COLOR = Qt.ItemDataRole.UserRole + 6  # str "#rrggbb" for TAG, else None


@dataclass(frozen=True)
class Place:
    """What a selected node shows in the middle of the window: a folder or a result set.

    Attributes:
        kind: the node's kind.
        id: the folder id (VAULT, FOLDER) or tag id (TAG); None for the other places.
            For several tags, the one chosen last (the tree's current node).
        name: the node's label; for several tags, their names joined by "and" or "or".
        tag_ids: for several selected tags, all of their ids; () otherwise.
        match: for several tags, whether files carry ``all`` of them or ``any``.
    """

    kind: NodeKind
    id: int | None
    name: str
    tag_ids: tuple[int, ...] = ()
    match: TagMatch = "all"

    def browse_source(self) -> Source | None:
        """What the middle pane lists for this place; None for the Tags heading."""
        if self.kind in (NodeKind.VAULT, NodeKind.FOLDER) and self.id is not None:
            return Source.folder(self.id)
        if self.kind == NodeKind.TAG and len(self.tag_ids) > 1 and self.id is not None:
            ordered = [self.id, *(t for t in self.tag_ids if t != self.id)]
            return Source.tags(ordered, self.match)
        if self.kind == NodeKind.TAG and self.id is not None:
            return Source.tag(self.id)
        return {
            NodeKind.ALL_FILES: Source.all_files(),
            NodeKind.FAVORITES: Source.favorites(),
            NodeKind.RECENT: Source.recent(),
            NodeKind.SHARED: Source.shared(),
            NodeKind.TRASH: Source.trash(),
        }.get(self.kind)


class DropIntent(StrEnum):
    """What a drop onto the tree asks for."""

    IMPORT = "import"  # outside files into a folder (the originals stay)
    MOVE = "move"  # vault files/folders into a folder
    COPY = "copy"  # vault files/folders into a folder, keeping the originals
    TRASH = "trash"  # vault files/folders to the Trash
    FAVORITE = "favorite"  # vault files added to Favorites
    TAG = "tag"  # vault files given a tag (the tree's model does it itself)


@dataclass(frozen=True)
class DropRequest:
    """A drop the window should carry out (import, move, copy, delete, favorite).

    Attributes:
        intent: what to do.
        target: the node dropped on.
        paths: local paths of outside files and folders (IMPORT only).
        file_ids: vault files dragged (MOVE, COPY, TRASH, FAVORITE).
        folder_ids: vault folders dragged (MOVE, COPY, TRASH).
    """

    intent: DropIntent
    target: Place
    paths: tuple[Path, ...] = ()
    file_ids: tuple[int, ...] = ()
    folder_ids: tuple[int, ...] = ()

    @property
    def target_folder_id(self) -> int | None:
        """The folder to import, move or copy into; None for Trash and Favorites."""
        if self.target.kind in (NodeKind.VAULT, NodeKind.FOLDER):
            return self.target.id
        return None


def items_mime_data(file_ids: Sequence[int] = (), folder_ids: Sequence[int] = ()) -> QMimeData:
    """Mime data for a drag of vault items (used by the tree and the folder listing)."""
    mime = QMimeData()
    payload = {"files": [int(i) for i in file_ids], "folders": [int(i) for i in folder_ids]}
    mime.setData(ITEMS_MIME, QByteArray(json.dumps(payload).encode("utf-8")))
    return mime


def decode_items(mime: QMimeData) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """(file ids, folder ids) from our own mime type; None if absent or malformed."""
    if not mime.hasFormat(ITEMS_MIME):
        return None
    try:
        payload = json.loads(bytes(mime.data(ITEMS_MIME).data()).decode("utf-8"))
        files = tuple(int(i) for i in payload.get("files", []))
        folders = tuple(int(i) for i in payload.get("folders", []))
    except (ValueError, TypeError, AttributeError):
        return None
    if not files and not folders:
        return None
    return files, folders


def local_paths(mime: QMimeData) -> tuple[Path, ...]:
    """Local files in a uri-list; empty if any URL is not a local file (no downloads here)."""
    if not mime.hasUrls():
        return ()
    urls = mime.urls()
    if not urls or not all(url.isLocalFile() for url in urls):
        return ()
    return tuple(Path(url.toLocalFile()) for url in urls)


@dataclass(frozen=True)
class _Reply:
    """What a background request hands back: a fresh listing, and what it created."""

    entries: list[FolderNode] | list[TagCount]
    created: int | None = None
    changes: TagChanges | None = None


def _star_icon() -> QIcon:
    """A gold star for Favorites: QStyle has none, and most platforms no icon theme."""
    pixmap = QPixmap(QSize(32, 32))
    pixmap.fill(Qt.GlobalColor.transparent)
    points = []
    for i in range(10):
        radius = 15.0 if i % 2 == 0 else 6.5
        angle = math.pi / 2 + i * math.pi / 5
        points.append(QPointF(16 + radius * math.cos(angle), 17 - radius * math.sin(angle)))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QColor("#b8860b"))
    painter.setBrush(QBrush(QColor("#f5c518")))
    painter.drawPolygon(QPolygonF(points))
    painter.end()
    return QIcon(pixmap)


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """``[1, 2, 3, 7]`` → ``[(1, 3), (7, 7)]`` (sorted input)."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


# -- the model -----------------------------------------------------------------

_EXPANDABLE = (NodeKind.VAULT, NodeKind.FOLDER, NodeKind.TAGS)
_FOLDERS = (NodeKind.VAULT, NodeKind.FOLDER)


@dataclass(eq=False)
class _Node:
    """One node of the tree; lives on the GUI thread only.

    ``loaded`` means ``children`` is the catalog's list (as of ``applied``);
    before that ``has_children`` is the hint from the parent's listing.
    """

    key: int
    kind: NodeKind
    name: str
    item_id: int | None = None
    parent: _Node | None = None
    has_children: bool = False
    children: list[_Node] = field(default_factory=list)
    row: int = 0
    loaded: bool = False
    requests: int = 0  # background requests in flight
    serial: int = 0  # the newest request made
    applied: int = 0  # the request whose listing ``children`` shows
    color: str = ""
    files: int | None = None

    def source(self) -> Place:
        return Place(self.kind, self.item_id, self.name)


class FolderTreeModel(QAbstractItemModel):
    """The vault's folders and the fixed places, as one tree.

    Top-level rows, in this order: "Vault" (the catalog's root folder), All
    files, Favorites, Recent, Tags and Trash. A child of Vault or of a folder
    is a live subfolder (by name, ignoring case); a child of Tags is a tag (by
    name). Nothing else has children. There is one column.

    Every index's ``internalId()`` holds the key of its node in ``_nodes`` (a
    plain int, not ``internalPointer``: a Python object pointer would dangle
    once a removed node is collected, while a stale key just finds nothing).
    Nodes hold ids and names only, never ORM objects.

    Folders and tags are listed on ``tasks``' pool; a folder's children the
    first time it is expanded, and again after :meth:`refresh`, a rename or a
    new folder. Each listing is applied with exact remove/move/insert rows
    (never a reset); a listing older than the one shown is dropped. Mutations
    (rename, new folder; creating, renaming, recolouring and deleting tags, and
    tagging files dropped on a tag) run on the pool too, end with a fresh
    listing, and report back by signal.

    Create on the GUI thread, after the QApplication.

    Signals:
        children_loaded(QModelIndex): a listing of this node's children was applied.
        folder_created(QModelIndex): :meth:`new_folder` made this folder (edit it now).
        rename_failed(QModelIndex, str, str): a rename was refused: the message says
            why, then the name refused; the old name stays.
        error(str, str): another known failure, message and hint, to show the user.
        drop_requested(DropRequest): a drop the window should carry out.
        tags_changed(TagChanges): a tag was created, renamed, recoloured or deleted
            here, or files were dropped on one; the tag nodes already show it.
    """

    children_loaded = Signal(QModelIndex)
    folder_created = Signal(QModelIndex)
    rename_failed = Signal(QModelIndex, str, str)
    error = Signal(str, str)
    drop_requested = Signal(object)
    tags_changed = Signal(object)

    def __init__(self, vault: Vault, tasks: TaskManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._vault = vault
        self._tasks = tasks
        self._next_key = 0
        self._nodes: dict[int, _Node] = {}
        self._folders: dict[int, _Node] = {}
        self._root = self._new_node(NodeKind.VAULT, "", None, None)  # invisible
        self._root.loaded = True
        top = [
            (NodeKind.VAULT, "Vault", vault.root_id),
            (NodeKind.ALL_FILES, "All files", None),
            (NodeKind.FAVORITES, "Favorites", None),
            (NodeKind.RECENT, "Recent", None),
            (NodeKind.TAGS, "Tags", None),
            (NodeKind.SHARED, "Shared", None),
            (NodeKind.TRASH, "Trash", None),
        ]
        for kind, name, item_id in top:
            node = self._new_node(kind, name, item_id, self._root)
            # Until listed. Tags gets its expander when rows arrive (the view adds one
            # on insertion, but keeps a drawn one when a listing comes back empty).
            node.has_children = kind == NodeKind.VAULT
            node.loaded = kind not in _EXPANDABLE
            self._root.children.append(node)
        self._renumber(self._root)
        self._vault_node = self._root.children[0]
        self._tags_node = self._root.children[4]
        self._folders[vault.root_id] = self._vault_node
        style = QApplication.style()
        icon = style.standardIcon
        sp = QStyle.StandardPixmap
        self._icons = {
            NodeKind.VAULT: icon(sp.SP_DriveHDIcon),
            NodeKind.FOLDER: icon(sp.SP_DirIcon),
            NodeKind.ALL_FILES: icon(sp.SP_FileDialogDetailedView),
            NodeKind.FAVORITES: QIcon.fromTheme("starred", _star_icon()),
            NodeKind.RECENT: resource_icon("recent", "document-open-recent"),
            NodeKind.TAGS: resource_icon("tag", "tag"),
            NodeKind.SHARED: resource_icon("shared", "emblem-shared"),
            NodeKind.TRASH: icon(sp.SP_TrashIcon),
        }
        self._tag_icons: dict[str, QIcon] = {}

    # -- public API --------------------------------------------------------------

    def load(self) -> None:
        """List the vault's top folders and the tags in the background, unless under way."""
        for node in (self._vault_node, self._tags_node):
            if node.requests == 0:
                self._list(node)

    def refresh(self, folder_id: int) -> None:
        """List ``folder_id``'s subfolders again after outside changes.

        Rows are inserted, removed, moved or changed exactly as needed. A
        folder the tree has never shown is ignored (it is listed when shown).
        """
        node = self._folders.get(folder_id)
        if node is not None and self._nodes.get(node.key) is node:
            self._list(node)

    def apply_changes(self, changes: Changes) -> None:
        """Refresh the folders a mutating vault call says it changed (the ones shown)."""
        for folder_id in sorted(changes.folders):
            self.refresh(folder_id)

    def refresh_tags(self) -> None:
        """List the tags again (after tagging, or a tag was added or removed)."""
        self._list(self._tags_node)

    def tag_index(self, tag_id: int) -> QModelIndex:
        """The index of a tag's node; invalid if the tree does not show it (yet)."""
        for node in self._tags_node.children:
            if node.item_id == tag_id:
                return self._index_of(node)
        return QModelIndex()

    def tags(self) -> list[TagCount]:
        """The tags the tree shows, in order (as last listed)."""
        return [
            TagCount(n.item_id or 0, n.name, n.color, n.files or 0)
            for n in self._tags_node.children
        ]

    def create_tag(self, name: str, color: str | None = None) -> None:
        """Create a tag in the background; its node appears, then :attr:`tags_changed`."""
        vault = self._vault
        self._tag_change(lambda: vault.create_tag(name, color), f"create tag {name}")

    def rename_tag(self, tag_id: int, name: str) -> None:
        """Rename a tag in the background; a refusal emits :attr:`rename_failed`."""
        vault = self._vault

        def failed(_node: _Node, exc: BaseException) -> None:
            if isinstance(exc, VaultError):
                message = exc.message
            else:
                log.error("renaming tag %s failed", tag_id, exc_info=exc)
                message = "Could not rename the tag; the log has details."
            self.rename_failed.emit(self.tag_index(tag_id), message, name)
            if isinstance(exc, NotFound):
                self.refresh_tags()

        self._tag_change(lambda: vault.rename_tag(tag_id, name), f"rename tag {tag_id}", failed)

    def recolor_tag(self, tag_id: int, color: str) -> None:
        """Give a tag another colour, in the background."""
        vault = self._vault
        self._tag_change(lambda: vault.recolor_tag(tag_id, color), f"recolour tag {tag_id}")

    def delete_tag(self, tag_id: int) -> None:
        """Delete a tag (taking it off its files), in the background. Confirm first:
        :meth:`tag_usage` gives the count to show."""
        vault = self._vault
        self._tag_change(lambda: vault.delete_tag(tag_id), f"delete tag {tag_id}")

    def tag_files(self, file_ids: Sequence[int], tag_id: int) -> None:
        """Put a tag on files (a drop on the tag's node), in the background."""
        vault, ids = self._vault, list(file_ids)
        self._tag_change(lambda: vault.tag_files(ids, add=[tag_id]), f"tag files with {tag_id}")

    def tag_usage(self, tag_id: int, on_count: Callable[[int], None]) -> None:
        """Count the live files carrying a tag in the background; ``on_count(n)`` here."""
        vault = self._vault

        def failed(exc: BaseException) -> None:
            self._failed(self._tags_node, exc)
            if isinstance(exc, NotFound):
                self.refresh_tags()

        self._tasks.run(lambda: vault.tag_usage(tag_id), on_count, failed, name="tag usage")

    def _tag_change(
        self,
        change: Callable[[], TagChanges],
        name: str,
        on_failure: Callable[[_Node, BaseException], None] | None = None,
    ) -> None:
        vault = self._vault

        def work() -> _Reply:
            # Pool thread: only the vault (own sessions), no Qt objects.
            changes = change()
            return _Reply(vault.tags_with_counts(), changes=changes)

        def done(reply: _Reply) -> None:
            if reply.changes is not None:
                self.tags_changed.emit(reply.changes)

        def failed(node: _Node, exc: BaseException) -> None:
            self._failed(node, exc)
            self.refresh_tags()  # whatever happened, show what the catalog has

        self._request(self._tags_node, work, name, done, on_failure or failed)

    def new_folder(self, parent: _Index) -> bool:
        """Create "New folder" (or the first free "New folder (n)") in ``parent``'s folder.

        The folder is made in the background; then the row is inserted and
        :attr:`folder_created` gives its index, for the view to start editing.
        Returns False (and does nothing) if ``parent`` is not a folder.
        """
        node = self._node(parent)
        if node is None or node.kind not in _FOLDERS or node.item_id is None:
            return False
        vault, parent_id = self._vault, node.item_id

        def create() -> _Reply:
            # Pool thread: only the vault (own sessions), no Qt objects.
            created = vault.new_folder(parent_id, NEW_FOLDER_NAME).created[0]
            return _Reply(vault.subfolders(parent_id), created)

        def done(reply: _Reply) -> None:
            index = self.folder_index(reply.created) if reply.created is not None else None
            if index is not None and index.isValid():
                self.folder_created.emit(index)

        self._request(node, create, f"new folder in {parent_id}", done, self._failed)
        return True

    def is_loading(self, index: _Index) -> bool:
        """True while a listing of the node's children (or a change to them) is under way."""
        node = self._node(index)
        return node is not None and node.requests > 0

    def folder_index(self, folder_id: int) -> QModelIndex:
        """The index of a folder the tree shows; invalid if it is not (yet) shown."""
        node = self._folders.get(folder_id)
        if node is None or self._nodes.get(node.key) is not node:
            return QModelIndex()
        return self._index_of(node)

    def place_index(self, kind: NodeKind) -> QModelIndex:
        """The index of a top-level place (Vault, All files, Favorites, Recent, Tags, Trash)."""
        for node in self._root.children:
            if node.kind == kind:
                return self._index_of(node)
        return QModelIndex()

    def source(self, index: _Index) -> Place | None:
        """What the node at ``index`` shows; None for an invalid index."""
        node = self._node(index)
        return None if node is None or node is self._root else node.source()

    # -- background requests -----------------------------------------------------

    def _list(self, node: _Node) -> None:
        vault = self._vault
        if node.kind == NodeKind.TAGS:

            def list_tags() -> _Reply:
                # Pool thread: only the vault (own session), no Qt objects.
                return _Reply(vault.tags_with_counts())

            self._request(node, list_tags, "list tags", None, self._listing_failed)
            return
        folder_id = node.item_id
        assert folder_id is not None

        def list_subfolders() -> _Reply:
            # Pool thread: only the vault (own session), no Qt objects.
            return _Reply(vault.subfolders(folder_id))

        self._request(
            node, list_subfolders, f"list subfolders of {folder_id}", None, self._listing_failed
        )

    def _request(
        self,
        node: _Node,
        work: Callable[[], _Reply],
        name: str,
        on_reply: Callable[[_Reply], None] | None,
        on_failure: Callable[[_Node, BaseException], None],
    ) -> None:
        """Run ``work`` (which ends with a fresh listing of ``node``) and apply its listing."""
        node.requests += 1
        node.serial += 1
        serial = node.serial

        def done(reply: _Reply) -> None:
            node.requests -= 1
            if self._nodes.get(node.key) is not node:
                return  # the node went away meanwhile
            if serial >= node.applied:  # an older listing never replaces a newer one
                node.applied = serial
                self._apply(node, reply.entries)
                node.loaded = True
                self.children_loaded.emit(self._index_of(node))
            if on_reply is not None:
                on_reply(reply)

        def failed(exc: BaseException) -> None:
            node.requests -= 1
            if self._nodes.get(node.key) is node:
                on_failure(node, exc)

        self._tasks.run(work, done, failed, name=name)

    def _listing_failed(self, node: _Node, exc: BaseException) -> None:
        if not node.loaded:
            node.loaded = True  # no retry loop from canFetchMore; refresh() tries again
            node.has_children = False
            index = self._index_of(node)
            self.dataChanged.emit(index, index)
        self._failed(node, exc)

    def _failed(self, node: _Node, exc: BaseException) -> None:
        if isinstance(exc, NotFound) and node.kind == NodeKind.FOLDER and node.parent is not None:
            self._list(node.parent)  # it was deleted or moved elsewhere: drop its row
        if isinstance(exc, VaultError):
            self.error.emit(exc.message, exc.hint)
            return
        log.error("folder tree: %s failed", node.name, exc_info=(type(exc), exc, exc.__traceback__))
        self.error.emit("Could not read the folder list; the log has details.", "")

    def _rename(self, node: _Node, name: str) -> None:
        parent = node.parent
        assert parent is not None and node.item_id is not None and parent.item_id is not None
        vault, folder_id, parent_id = self._vault, node.item_id, parent.item_id

        def rename() -> _Reply:
            # Pool thread: only the vault (own sessions), no Qt objects.
            vault.rename_folder(folder_id, name)
            return _Reply(vault.subfolders(parent_id))

        def failed(_parent: _Node, exc: BaseException) -> None:
            if isinstance(exc, VaultError):
                message = exc.message
            else:
                log.error("renaming folder %s failed", folder_id, exc_info=exc)
                message = "Could not rename the folder; the log has details."
            alive = self._nodes.get(node.key) is node
            self.rename_failed.emit(self._index_of(node) if alive else QModelIndex(), message, name)
            if isinstance(exc, NotFound):
                self._list(parent)

        self._request(parent, rename, f"rename folder {folder_id}", None, failed)

    # -- applying a listing ------------------------------------------------------

    def _apply(self, node: _Node, entries: Sequence[FolderNode | TagCount]) -> None:
        """Make ``node.children`` match ``entries`` with exact remove/change/move/insert rows."""
        parent_index = self._index_of(node)
        wanted = {e.id: e for e in entries}
        # 1. Remove rows that are gone, in runs from the end.
        gone = [row for row, child in enumerate(node.children) if child.item_id not in wanted]
        for first, last in reversed(_runs(gone)):
            self.beginRemoveRows(parent_index, first, last)
            for child in node.children[first : last + 1]:
                self._forget(child)
            del node.children[first : last + 1]
            self._renumber(node)
            self.endRemoveRows()
        # 2. Update the rows that stay; one ranged dataChanged.
        changed = [
            row
            for row, child in enumerate(node.children)
            if self._update(child, wanted[child.item_id])  # type: ignore[index]
        ]
        if changed:
            self.dataChanged.emit(
                self.index(changed[0], 0, parent_index), self.index(changed[-1], 0, parent_index)
            )
        # 3. Put the rows that stay in the listing's order (a rename can move one).
        staying = {child.item_id for child in node.children}
        kept = [e.id for e in entries if e.id in staying]
        for target, item_id in enumerate(kept):
            current = next(
                row
                for row in range(target, len(node.children))
                if node.children[row].item_id == item_id
            )
            if current != target:  # always upwards: rows before target are in place
                self.beginMoveRows(parent_index, current, current, parent_index, target)
                node.children.insert(target, node.children.pop(current))
                self._renumber(node)
                self.endMoveRows()
        # 4. Insert the new ones, consecutive rows at once. children is now the
        # listing minus the new entries, in order, so a mismatch at ``pos`` is new.
        present = set(kept)
        pos = 0
        while pos < len(entries):
            if pos < len(node.children) and node.children[pos].item_id == entries[pos].id:
                pos += 1
                continue
            end = pos
            while end < len(entries) and entries[end].id not in present:
                end += 1
            self.beginInsertRows(parent_index, pos, end - 1)
            node.children[pos:pos] = [self._child_node(node, e) for e in entries[pos:end]]
            self._renumber(node)
            self.endInsertRows()
            pos = end
        node.has_children = bool(node.children)

    def _update(self, child: _Node, entry: FolderNode | TagCount) -> bool:
        before = (child.name, child.has_children, child.color, child.files)
        child.name = entry.name
        if isinstance(entry, FolderNode):
            child.has_children = entry.has_children
        else:
            child.color, child.files = entry.color, entry.files
        return before != (child.name, child.has_children, child.color, child.files)

    def _child_node(self, parent: _Node, entry: FolderNode | TagCount) -> _Node:
        if isinstance(entry, FolderNode):
            node = self._new_node(NodeKind.FOLDER, entry.name, entry.id, parent)
            node.has_children = entry.has_children
            self._folders[entry.id] = node
        else:
            node = self._new_node(NodeKind.TAG, entry.name, entry.id, parent)
            node.color, node.files, node.loaded = entry.color, entry.files, True
        return node

    def _new_node(
        self, kind: NodeKind, name: str, item_id: int | None, parent: _Node | None
    ) -> _Node:
        self._next_key += 1
        node = _Node(self._next_key, kind, name, item_id, parent)
        self._nodes[node.key] = node
        return node

    def _forget(self, node: _Node) -> None:
        for child in node.children:
            self._forget(child)
        self._nodes.pop(node.key, None)
        if node.kind == NodeKind.FOLDER and self._folders.get(node.item_id or 0) is node:
            del self._folders[node.item_id or 0]

    @staticmethod
    def _renumber(node: _Node) -> None:
        for row, child in enumerate(node.children):
            child.row = row

    def _node(self, index: _Index) -> _Node | None:
        """The node at ``index``; the invisible root for an invalid index; None if stale."""
        if not index.isValid():
            return self._root
        return self._nodes.get(index.internalId())

    def _index_of(self, node: _Node) -> QModelIndex:
        if node is self._root or node.parent is None:
            return QModelIndex()
        return self.createIndex(node.row, 0, node.key)

    def _tag_icon(self, color: str) -> QIcon:
        icon = self._tag_icons.get(color)
        if icon is None:
            fill = QColor(color) if color and QColor.isValidColorName(color) else QColor("#8a8f98")
            pixmap = QPixmap(QSize(16, 16))
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(fill))
            painter.drawEllipse(3, 3, 10, 10)
            painter.end()
            icon = self._tag_icons[color] = QIcon(pixmap)
        return icon

    def _drop_intent(
        self, data: QMimeData, action: Qt.DropAction, row: int, parent: _Index
    ) -> DropRequest | None:
        node = self._node(parent)
        if node is None or node is self._root:
            return None  # between top-level rows: not a place to drop
        target = node.source()
        items = decode_items(data)
        if node.kind in _FOLDERS:
            if items is not None:
                files, folders = items
                if node.item_id in folders:
                    return None  # onto itself
                intent = DropIntent.COPY if action == Qt.DropAction.CopyAction else DropIntent.MOVE
                return DropRequest(intent, target, file_ids=files, folder_ids=folders)
            paths = local_paths(data)
            if paths:
                return DropRequest(DropIntent.IMPORT, target, paths=paths)
            return None
        if node.kind == NodeKind.TRASH and items is not None:
            return DropRequest(DropIntent.TRASH, target, file_ids=items[0], folder_ids=items[1])
        if node.kind == NodeKind.FAVORITES and items is not None and not items[1]:
            return DropRequest(DropIntent.FAVORITE, target, file_ids=items[0])
        if node.kind == NodeKind.TAG and items is not None and items[0] and not items[1]:
            return DropRequest(DropIntent.TAG, target, file_ids=items[0])
        return None  # All files, Recent and the Tags heading take no drops

    # -- Qt overrides ------------------------------------------------------------

    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        node = self._node(parent)
        if node is None or column != 0 or not 0 <= row < len(node.children):
            return QModelIndex()
        return self.createIndex(row, 0, node.children[row].key)

    def parent(self, child: _Index | None = None) -> Any:
        if child is None:
            return super().parent()  # QObject.parent()
        node = self._node(child)
        if node is None or node is self._root or node.parent is None:
            return QModelIndex()
        return self._index_of(node.parent)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if parent.column() > 0:
            return 0
        node = self._node(parent)
        return 0 if node is None else len(node.children)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 1

    def hasChildren(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        if parent.column() > 0:
            return False
        node = self._node(parent)
        if node is None:
            return False
        return bool(node.children) if node.loaded else node.has_children

    def canFetchMore(self, parent: _Index) -> bool:
        node = self._node(parent)
        return (
            node is not None
            and node.kind in _EXPANDABLE
            and node is not self._root
            and not node.loaded
            and node.requests == 0
        )

    def fetchMore(self, parent: _Index) -> None:
        if self.canFetchMore(parent):
            node = self._node(parent)
            assert node is not None
            self._list(node)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self._node(index)
        if node is None or node is self._root:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return node.name
        if role == Qt.ItemDataRole.DecorationRole:
            if node.kind == NodeKind.TAG:
                return self._tag_icon(node.color)
            return self._icons.get(node.kind)
        if role == Qt.ItemDataRole.ToolTipRole:
            if node.kind == NodeKind.TAG:
                count = node.files or 0
                return f"{node.name}: {count} {'file' if count == 1 else 'files'}"
            if node.kind == NodeKind.TAGS and node.loaded and not node.children:
                return "No tags yet. Tag files to find them here."
            return node.name
        if role == TreeRole.KIND:
            return node.kind
        if role == TreeRole.FOLDER_ID:
            return node.item_id if node.kind in _FOLDERS else None
        if role == TreeRole.TAG_ID:
            return node.item_id if node.kind == NodeKind.TAG else None
        if role == TreeRole.FILE_COUNT:
            return node.files if node.kind == NodeKind.TAG else None
        if role == TreeRole.COLOR:
            return node.color if node.kind == NodeKind.TAG else None
        if role == TreeRole.SOURCE:
            return node.source()
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Rename a folder or a tag: checked here against the naming rules (a tag's: against
        :func:`app.tags.tag_problems` and the other tags' names), then done in the background.

        Spaces around the typed name are dropped. Returns True when the rename
        was sent; the row shows the new name once the catalog has it. A refused
        name emits :attr:`rename_failed` instead (now, or when the catalog says so).
        """
        node = self._node(index)
        if node is None or role != Qt.ItemDataRole.EditRole:
            return False
        if node.kind == NodeKind.TAG and node.item_id is not None:
            name = str(value).strip()
            if name == node.name:
                return False
            found = tag_problems(name)
            taken = [
                n.name
                for n in self._tags_node.children
                if n is not node and name_key(n.name) == name_key(name)
            ]
            if found or taken:
                message = found[0] if found else f"There is already a tag named “{taken[0]}”."
                self.rename_failed.emit(self._index_of(node), message, name)
                return False
            self.rename_tag(node.item_id, name)
            return True
        if node.kind != NodeKind.FOLDER:
            return False
        name = str(value).strip()
        if name == node.name:
            return False
        found = problems(name)
        if found:
            self.rename_failed.emit(self._index_of(node), found[0], name)
            return False
        self._rename(node, name)
        return True

    def flags(self, index: _Index) -> Qt.ItemFlag:
        node = self._node(index)
        if node is None or node is self._root:
            return Qt.ItemFlag.ItemIsDropEnabled  # Qt asks the root; drops there are refused
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if node.kind == NodeKind.FOLDER:
            flags |= (
                Qt.ItemFlag.ItemIsEditable
                | Qt.ItemFlag.ItemIsDragEnabled
                | Qt.ItemFlag.ItemIsDropEnabled
            )
        elif node.kind in (NodeKind.VAULT, NodeKind.TRASH, NodeKind.FAVORITES):
            flags |= Qt.ItemFlag.ItemIsDropEnabled
        elif node.kind == NodeKind.TAG:
            flags |= Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsDropEnabled
        return flags

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction | Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction | Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [URI_LIST_MIME, ITEMS_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        folders = []
        for index in indexes:
            node = self._node(index)
            if node is not None and node.kind == NodeKind.FOLDER and node.item_id is not None:
                folders.append(node.item_id)
        return items_mime_data(folder_ids=folders)

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: _Index
    ) -> bool:
        return self._drop_intent(data, action, row, parent) is not None

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: _Index
    ) -> bool:
        """Emit :attr:`drop_requested` for an acceptable drop; the window carries it out.

        Files dropped on a tag are tagged here (see :meth:`tag_files`)."""
        if action == Qt.DropAction.IgnoreAction:
            return True
        request = self._drop_intent(data, action, row, parent)
        if request is None:
            return False
        if request.intent == DropIntent.TAG and request.target.id is not None:
            self.tag_files(request.file_ids, request.target.id)  # a tag change: done here
            return True
        self.drop_requested.emit(request)
        return True


# -- the view ------------------------------------------------------------------


TIP_MS = 6000  # how long a refused name's message stays by its row


def show_tip_by(view: QAbstractItemView, index: QModelIndex, message: str) -> None:
    """A message by an item of a view (a refused name), just under its row."""
    rect = view.visualRect(index)
    QToolTip.showText(
        view.viewport().mapToGlobal(rect.bottomLeft() + QPoint(0, 2)),
        message,
        view.viewport(),
        rect,
        TIP_MS,
    )


class _TreeDelegate(NameEditorDelegate):
    """Draws a tag's file count right-aligned in the row, in the placeholder colour."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        count = index.data(TreeRole.FILE_COUNT)
        if count is None:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        text = f"{count:,}"
        metrics = opt.fontMetrics
        room = metrics.horizontalAdvance(text) + 14
        text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, widget)
        opt.text = metrics.elidedText(
            opt.text,
            Qt.TextElideMode.ElideRight,
            max(text_rect.width() - room, metrics.averageCharWidth() * 3),
        )
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = (
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.PlaceholderText
        )
        painter.save()
        painter.setPen(opt.palette.color(role))
        painter.drawText(
            opt.rect.adjusted(0, 0, -6, 0),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            text,
        )
        painter.restore()


class FolderTree(QTreeView):
    """The folder tree widget: select a place, rename inline, make folders, drop onto it.

    Rename starts with F2 (the platform's edit key) or a click on the already
    selected folder or tag; double-click expands. A refused name is shown as a
    tip by the row and the editor opens again.

    Several tags can be selected together (Ctrl-click, Shift-click, or Shift
    with the arrow keys); the selection then stands for the files carrying all
    of them, or any of them (:attr:`tag_match`, chosen in the tags' menu).
    Anything else is selected alone. The right-click menu of the Tags heading
    and of tags manages tags (:meth:`tag_menu`); Delete on a tag deletes it
    after a confirmation.

    Attributes:
        last_error: the last rename refusal shown ("" if none).
        tag_match: whether several selected tags show files with ``all`` or ``any`` of them.
        last_dialog: the last dialog or message box opened for a tag (non-blocking), or None.

    Signals:
        source_selected(Place): the user selected a folder, place, tag or several tags.
    """

    source_selected = Signal(object)

    def __init__(self, model: FolderTreeModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.last_error = ""
        self._model = model
        self.setModel(model)
        self.setHeaderHidden(True)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setItemDelegate(_TreeDelegate(self))
        # Several tags at once; selectionCommand() keeps everything else single.
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tag_match: TagMatch = "all"
        self.last_dialog: QWidget | None = None
        self._combined: Place | None = None  # the several tags emitted last
        self.selectionModel().currentChanged.connect(self._on_current)
        self.selectionModel().selectionChanged.connect(self._on_selection)
        model.folder_created.connect(self._edit_created)
        model.rename_failed.connect(self._show_rename_error)
        model.load()
        self.expand(model.place_index(NodeKind.VAULT))

    @property
    def tree_model(self) -> FolderTreeModel:
        """The model shown."""
        return self._model

    def new_folder(self) -> bool:
        """Make a new folder in the selected folder (or the vault's top) and edit its name."""
        index = self.currentIndex()
        if index.data(TreeRole.KIND) not in _FOLDERS:
            index = self._model.place_index(NodeKind.VAULT)
        self.expand(index)
        return self._model.new_folder(index)

    # -- several tags ----------------------------------------------------------------

    def selected_tags(self) -> list[Place]:
        """The tags selected, in the tree's order."""
        rows = sorted(
            (
                i
                for i in self.selectionModel().selectedIndexes()
                if i.data(TreeRole.KIND) == NodeKind.TAG
            ),
            key=lambda i: i.row(),
        )
        return [p for p in (self._model.source(i) for i in rows) if p is not None]

    def combined_place(self) -> Place | None:
        """The place several selected tags stand for; None unless two or more are selected."""
        tags = self.selected_tags()
        if len(tags) < 2:
            return None
        current = self._model.source(self.currentIndex())
        ids = tuple(t.id for t in tags if t.id is not None)
        first = current.id if current is not None and current.id in ids else ids[0]
        joiner = " and " if self.tag_match == "all" else " or "
        name = joiner.join(t.name for t in tags)
        return Place(NodeKind.TAG, first, name, tuple(sorted(ids)), self.tag_match)

    def set_tag_match(self, match: TagMatch) -> None:
        """Show files with ``all`` of the selected tags or ``any`` of them."""
        if match == self.tag_match:
            return
        self.tag_match = match
        self._emit_combined()

    def select_tags(self, tag_ids: Sequence[int]) -> None:
        """Select these tags together (the first becomes the current node)."""
        indexes = [self._model.tag_index(t) for t in tag_ids]
        indexes = [i for i in indexes if i.isValid()]
        if not indexes:
            return
        flags = QItemSelectionModel.SelectionFlag
        selection = self.selectionModel()
        selection.setCurrentIndex(indexes[0], flags.ClearAndSelect)
        for index in indexes[1:]:
            selection.select(index, flags.Select)

    def _emit_combined(self) -> None:
        place = self.combined_place()
        if place is not None and place != self._combined:
            self._combined = place
            self.source_selected.emit(place)

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        if len(self.selected_tags()) >= 2:
            self._emit_combined()
            return
        if self._combined is not None:
            # Back to one node. A click moves the current node before it selects, so
            # _on_current saw the combination still selected and left this to here.
            self._combined = None
            selected = self.selectionModel().selectedIndexes()
            place = self._model.source(selected[0]) if len(selected) == 1 else None
            if place is not None:
                self.source_selected.emit(place)

    def selectionCommand(
        self, index: _Index, event: QEvent | None = None
    ) -> QItemSelectionModel.SelectionFlag:
        command = super().selectionCommand(index, event)
        flags = QItemSelectionModel.SelectionFlag
        if command == flags.NoUpdate or not index.isValid():
            return flags.NoUpdate  # a click below the last row keeps the place shown
        tags_only = index.data(TreeRole.KIND) == NodeKind.TAG and all(
            i.data(TreeRole.KIND) == NodeKind.TAG for i in self.selectionModel().selectedIndexes()
        )
        if not tags_only:
            return flags.ClearAndSelect  # folders and places are chosen one at a time
        if (
            event is None
            and len(self.selected_tags()) > 1
            and self.selectionModel().isSelected(index)
        ):
            return flags.NoUpdate  # the window following a combination keeps it
        return command

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if len(self.selected_tags()) >= 2:
            return  # the selection stands for the combination (see _on_selection)
        source = self._model.source(current)
        if source is not None:
            self.source_selected.emit(source)

    # -- managing tags -------------------------------------------------------------------

    def tag_menu(self, index: _Index) -> QMenu | None:
        """The right-click menu of the Tags heading or a tag; None elsewhere.

        New Tag…, and for a tag: Rename, Change Colour…, Delete…; with several
        tags selected, whether they show files with all or any of them.
        """
        kind = index.data(TreeRole.KIND) if index.isValid() else None
        if kind not in (NodeKind.TAGS, NodeKind.TAG):
            return None
        menu = QMenu(self)
        menu.addAction("New Tag…", self.new_tag)
        if kind == NodeKind.TAG:
            persistent = QPersistentModelIndex(index)
            tag_id = int(index.data(TreeRole.TAG_ID))
            menu.addSeparator()
            rename = menu.addAction("Rename", lambda: self._rename_tag(persistent))
            rename.setShortcut(QKeySequence(Qt.Key.Key_F2))
            menu.addAction(
                swatch_icon(str(index.data(TreeRole.COLOR) or "")),
                "Change Colour…",
                lambda: self.change_tag_color(tag_id),
            )
            delete = menu.addAction("Delete…", lambda: self.delete_tag(tag_id))
            delete.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
            if len(self.selected_tags()) >= 2:
                menu.addSeparator()
                for match, text in (
                    ("all", "Show Files with All Selected Tags"),
                    ("any", "Show Files with Any Selected Tag"),
                ):
                    action = menu.addAction(text)
                    action.triggered.connect(lambda _=False, m=match: self.set_tag_match(m))
                    action.setCheckable(True)
                    action.setChecked(self.tag_match == match)
        return menu

    def new_tag(self) -> NewTagDialog:
        """Ask for a new tag's name and colour (non-blocking); it is created on OK."""
        tags = self._model.tags()
        dialog = NewTagDialog(
            [t.name for t in tags], next_palette_color(t.color for t in tags), self
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.chosen.connect(self._model.create_tag)
        self.last_dialog = dialog
        dialog.open()
        return dialog

    def _rename_tag(self, index: QPersistentModelIndex) -> None:
        if index.isValid():
            current = self._model.index(index.row(), 0, index.parent())
            self.setCurrentIndex(current)
            self.edit(current)

    def change_tag_color(self, tag_id: int) -> QColorDialog | None:
        """Pick a tag's colour in a colour dialog (non-blocking); changed on OK."""
        index = self._model.tag_index(tag_id)
        if not index.isValid():
            return None
        for i, (_name, color) in enumerate(PALETTE):
            QColorDialog.setCustomColor(i, QColor(color))  # the palette, one click away
        dialog = pick_other_color(
            self,
            str(index.data(TreeRole.COLOR) or ""),
            lambda color: self._model.recolor_tag(tag_id, color),
        )
        dialog.setWindowTitle(f"Colour of “{index.data()}”")
        self.last_dialog = dialog
        return dialog

    def delete_tag(self, tag_id: int) -> None:
        """Delete a tag after a confirmation naming how many files carry it (counted first,
        in the background)."""
        index = self._model.tag_index(tag_id)
        if not index.isValid():
            return
        name = str(index.data())
        self._model.tag_usage(tag_id, lambda count: self._confirm_delete(tag_id, name, count))

    def _confirm_delete(self, tag_id: int, name: str, count: int) -> None:
        files = "1 file" if count == 1 else f"{count:,} files"
        self.last_dialog = ask_before(
            self,
            "Delete Tag",
            f"Delete the tag “{name}”?",
            f"It is taken off {files}; the files themselves stay."
            if count
            else "No file carries it.",
            "Delete",
            lambda: self._model.delete_tag(tag_id),
            QMessageBox.Icon.Question,
        )

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        index = self.indexAt(event.pos())
        if not index.isValid() and event.reason() == QContextMenuEvent.Reason.Keyboard:
            index = self.currentIndex()
        menu = self.tag_menu(index)
        if menu is None:
            super().contextMenuEvent(event)
            return
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(event.globalPos())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        index = self.currentIndex()
        if (
            event.matches(QKeySequence.StandardKey.Delete)
            and index.data(TreeRole.KIND) == NodeKind.TAG
            and self.state() != QAbstractItemView.State.EditingState
        ):
            self.delete_tag(int(index.data(TreeRole.TAG_ID)))
            event.accept()
            return
        super().keyPressEvent(event)

    def _edit_created(self, index: QModelIndex) -> None:
        self.expand(index.parent())
        self.setCurrentIndex(index)
        self.scrollTo(index)
        self.edit(index)

    def _show_rename_error(self, index: QModelIndex, message: str, name: str) -> None:
        self.last_error = message
        if not index.isValid():
            return
        show_tip_by(self, index, message)
        persistent = QPersistentModelIndex(index)
        # Later: the editor that committed the bad name is still closing now.
        QTimer.singleShot(0, self, lambda: self._edit_again(persistent, name))

    def _edit_again(self, index: QPersistentModelIndex, name: str) -> None:
        """Open the name editor again, with the refused ``name`` in it to correct."""
        if index.isValid() and self.state() != QAbstractItemView.State.EditingState:
            current = self._model.index(index.row(), 0, index.parent())
            self.setCurrentIndex(current)
            delegate = self.itemDelegate()
            if isinstance(delegate, NameEditorDelegate):
                delegate.edit_with(current, name)
            self.edit(current)

    def _importing(self, event: QDragMoveEvent | QDropEvent) -> None:
        # Outside files are copied into the vault; never let a file manager
        # take a move as licence to delete its originals.
        data = event.mimeData()
        if (
            not data.hasFormat(ITEMS_MIME)
            and data.hasUrls()
            and event.possibleActions() & Qt.DropAction.CopyAction
        ):
            event.setDropAction(Qt.DropAction.CopyAction)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        super().dragMoveEvent(event)
        if event.isAccepted():
            self._importing(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self._importing(event)
        super().dropEvent(event)
