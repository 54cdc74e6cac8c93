"""Media Vault's main window: the folder tree, the grid or list, the preview pane.

Layout: the toolbar (back/forward/up, breadcrumb, view toggle, thumbnail size,
type filter, Favorites filter, search) over a splitter of the folder tree, the
grid and list (one :class:`ui.item_model.ItemModel`, one selection model) and
the preview pane; the Transfers panel docks at the bottom over the status bar
(items, selection size, sync status). Every vault call runs on the task
manager's pool or in the transfer manager's workers; the GUI thread only
shows results.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import (
    QByteArray,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QSettings,
    QSize,
    Qt,
    QTimer,
    QUrl,
)
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSlider,
    QSplitter,
    QStackedWidget,
    QStyle,
    QToolBar,
    QToolButton,
    QWidget,
)

from app.browse import SYNC_MISSING, SYNC_WORDS, BrowseFilters, FolderNode, Sort, Source
from app.errors import VaultError
from app.logs import log_file
from app.rows import TagChanges
from app.settings import Preferences, load_preferences, trim_cache
from app.vault import Vault
from app.viewer_jobs import WARM_UP, viewer_pool
from ui.file_actions import FileActions
from ui.folder_tree import (
    DropIntent,
    DropRequest,
    FolderTree,
    FolderTreeModel,
    NodeKind,
    Place,
    TreeRole,
)
from ui.formatting import format_time, human_size
from ui.help_menu import help_menu
from ui.item_model import SORT_KEYS, Column, Item, ItemModel
from ui.item_views import GRID_DEFAULT, GRID_MAX, GRID_MIN, GridView, ListView, ViewDrop
from ui.navigation import SOURCE_TITLES, Breadcrumb, History
from ui.preview_pane import PreviewPane
from ui.resources import icon
from ui.sync_status import SyncStatus
from ui.tag_chips import chips_width
from ui.tasks import TaskManager
from ui.thumbnails import ThumbnailProvider
from ui.transfers import Transfer, TransferKind, TransferManager, TransfersPanel
from ui.viewers.base import ViewerServices
from ui.welcome import WelcomePanel

log = logging.getLogger(__name__)

EMPTY_VAULT_TEXT = (
    "This vault is empty.\n\nDrop files and folders here from your file manager, "
    "or right-click and choose Import Files Here…."
)
EMPTY_FOLDER_TEXT = "This folder is empty.\n\nDrop files here to import them."
EMPTY_TEXT = {
    "all": "This vault has no files yet.",
    "favorites": "No favorites yet. Right-click a file and choose Add to Favorites.",
    "recent": "Nothing was added or changed in the last 30 days.",
    "tag": "No file carries this tag.",
    "shared": "No file has a working link.\n\nRight-click a file and choose Share… to make one.",
    "trash": "The Trash is empty.",
    "search": "Nothing matches.",
}
# The type filter's choices: label, kinds kept (empty: every kind).
TYPE_FILTERS: list[tuple[str, frozenset[str]]] = [
    ("All types", frozenset()),
    ("Images", frozenset({"image"})),
    ("Videos", frozenset({"video"})),
    ("Audio", frozenset({"audio"})),
    ("Documents", frozenset({"document"})),
]
SEARCH_DELAY_MS = 250  # typing pauses this long before a search runs
GRID, LIST = 0, 1
TRIM_DELAY_MS = 20_000  # after start, the cache is brought under its limit
WARM_VIEWERS_MS = 1_500  # after start, the viewers' worker processes start
PLACE_NODES = {
    "all": NodeKind.ALL_FILES,
    "favorites": NodeKind.FAVORITES,
    "recent": NodeKind.RECENT,
    "shared": NodeKind.SHARED,
    "trash": NodeKind.TRASH,
}
# Places that open in the order the user last chose by the list's header; Recent
# and the Trash open newest first, search results best first.
USER_SORTED = frozenset({"folder", "all", "favorites", "tag", "shared"})


class MainWindow(QMainWindow):
    """Media Vault's main window.

    Attributes:
        vault: the open vault (owned by the caller, who closes it).
        tasks: background work for this window (listing, small changes).
        transfers: imports, exports and downloads with progress (the Transfers panel).
        thumbnails: thumbnails for the grid and the preview pane.
        model: the item model both views show; grid, view: the grid and the list.
        tree: the folder tree; preview: the preview pane; actions: every file action.
    """

    def __init__(self, vault: Vault, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vault = vault
        self.setWindowTitle("Media Vault")
        self.resize(1280, 760)
        self.settings = QSettings(
            str(vault.paths.config / "window.ini"), QSettings.Format.IniFormat
        )
        self.preferences: Preferences = load_preferences(vault.paths)
        self.history = History()
        self._dock_sized = False  # the Transfers dock got its first height
        self.user_sort = Sort()  # the order chosen by the header, kept across places
        self._last_folder = vault.root_id  # restored at the next start
        self._reselect: list[tuple[int, bool]] = []  # (id, is folder) to select after a refresh

        # Interactive listing: few threads, so pages come back in order quickly.
        self.tasks = TaskManager(self, max_threads=2, name="interactive")
        self.thumbnails = ThumbnailProvider(vault, self)
        self.transfers = TransferManager(vault, self)
        self.model = ItemModel(vault, self.tasks, self, thumbnails=self.thumbnails)

        self.grid = GridView(self)
        self.view = ListView(self)
        for view in (self.grid, self.view):
            view.setModel(self.model)
        self.grid.setSelectionModel(self.view.selectionModel())  # one selection for both
        self._size_columns()
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.grid)
        self.stack.addWidget(self.view)
        self.restore_requested = False  # ui.app.run restores the vault after the window
        self.welcome = WelcomePanel(self.stack)
        self.welcome.hide()

        self.tree_model = FolderTreeModel(vault, self.tasks, self)
        # Connected before the tree's selection model is: when the current node's row
        # goes (its folder was deleted), Qt moves the current node to a neighbour, and
        # that is not the user choosing a place.
        self._tree_removing = False
        self.tree_model.rowsAboutToBeRemoved.connect(self._tree_rows_going)
        self.tree_model.rowsRemoved.connect(self._tree_rows_gone)
        self.tree = FolderTree(self.tree_model, self)
        # The viewers' own threads and decoding processes: a 500-page PDF
        # rendering never holds up a folder listing, nor the other way round.
        self.viewer_tasks = TaskManager(self, max_threads=2, name="viewers")
        self.viewer_workers = viewer_pool(workers=2)
        services = ViewerServices(self.viewer_tasks, self.viewer_workers, vault.paths.cache)
        self.preview = PreviewPane(vault, self.tasks, self.thumbnails, self, services=services)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([230, 730, 320])
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)

        self.file_actions = FileActions(self)
        self._build_toolbar()
        self._build_status_bar()
        self._build_transfers_dock()
        self._connect()
        self._restore_state()
        self.sync_status.start()
        # Later: walking a big cache must not hold up the first listings.
        QTimer.singleShot(TRIM_DELAY_MS, self, self.trim_cache)
        # Started before the first preview is asked for: a fresh worker takes a second.
        QTimer.singleShot(WARM_VIEWERS_MS, self, lambda: self.viewer_workers.warm(WARM_UP))

    # -- building -----------------------------------------------------------------

    def _size_columns(self) -> None:
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(Column.NAME, QHeaderView.ResizeMode.Stretch)
        # Wide enough for the longest usual value (measured: a proportional font's
        # average character underestimates words), plus the cells' padding.
        metrics = self.view.fontMetrics()
        samples = {
            Column.KIND: ["Document", "Folder", "Image", "Video", "Audio", "Other"],
            Column.SIZE: ["999.9 MB", "999 bytes"],
            Column.MODIFIED: [format_time(datetime(2000, 12, 28, 20, 58))],
            Column.SYNC: [*SYNC_WORDS.values(), SYNC_MISSING],
            Column.MATCH: ["content: " + "n" * 24],  # the match stays in sight (snippet_delegate)
        }
        padding = 6 + 2 * metrics.averageCharWidth()  # the cell's text margins, and air
        widths = {
            column: max(metrics.horizontalAdvance(t) for t in texts)
            for column, texts in samples.items()
        }
        # Room for the chips of two usual tags and a "+N" for the rest.
        widths[Column.TAGS] = chips_width(self.view.font(), ["Family", "Italy 2023"], more=9)
        for column, width in widths.items():
            title = str(self.model.headerData(column, Qt.Orientation.Horizontal))
            width = max(width, metrics.horizontalAdvance(title + "  ▾"))
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width + padding)
        # Where a search hit came from is what a result is read for: next to its name.
        header.moveSection(header.visualIndex(Column.MATCH), 1)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Navigation", self)
        bar.setObjectName("navigation")
        bar.setMovable(False)
        bar.setIconSize(QSize(20, 20))
        self.addToolBar(bar)
        style = self.style()
        self.back_action = QAction(
            style.standardIcon(QStyle.StandardPixmap.SP_ArrowBack), "Back", self
        )
        self.back_action.setShortcut(QKeySequence("Alt+Left"))
        self.forward_action = QAction(
            style.standardIcon(QStyle.StandardPixmap.SP_ArrowForward), "Forward", self
        )
        self.forward_action.setShortcut(QKeySequence("Alt+Right"))
        self.up_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_ArrowUp), "Up", self)
        self.up_action.setShortcut(QKeySequence("Alt+Up"))
        for action, tip in (
            (self.back_action, "Back (Alt+Left)"),
            (self.forward_action, "Forward (Alt+Right)"),
            (self.up_action, "Enclosing folder (Alt+Up)"),
        ):
            action.setToolTip(tip)
            bar.addAction(action)
        self.back_action.triggered.connect(self.go_back)
        self.forward_action.triggered.connect(self.go_forward)
        self.up_action.triggered.connect(self.go_up)

        self.breadcrumb = Breadcrumb(self)
        self.breadcrumb.folder_clicked.connect(self.open_folder)
        bar.addWidget(self.breadcrumb)

        self.grid_action = QAction(icon("view-grid", "view-grid"), "Grid", self)
        self.grid_action.setShortcut(QKeySequence("Ctrl+1"))
        self.list_action = QAction(icon("view-list", "view-list-details"), "List", self)
        self.list_action.setShortcut(QKeySequence("Ctrl+2"))
        group = QActionGroup(self)
        for action, tip in (
            (self.grid_action, "Grid (Ctrl+1)"),
            (self.list_action, "List (Ctrl+2)"),
        ):
            action.setCheckable(True)
            action.setToolTip(tip)
            group.addAction(action)
            bar.addAction(action)
        self.grid_action.triggered.connect(lambda: self.set_view_mode(GRID))
        self.list_action.triggered.connect(lambda: self.set_view_mode(LIST))

        self.size_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.size_slider.setRange(GRID_MIN, GRID_MAX)
        self.size_slider.setValue(GRID_DEFAULT)
        self.size_slider.setToolTip("Thumbnail size")
        self.size_slider.setFixedWidth(self.fontMetrics().averageCharWidth() * 14)
        self.size_slider.valueChanged.connect(self.grid.set_thumbnail_size)
        self._slider_action = bar.addWidget(self.size_slider)

        bar.addSeparator()
        self.type_filter = QComboBox(self)
        for label, _kinds in TYPE_FILTERS:
            self.type_filter.addItem(label)
        self.type_filter.setToolTip("Show only files of a type")
        self.type_filter.currentIndexChanged.connect(self._filters_changed)
        bar.addWidget(self.type_filter)
        self.favorites_filter = QToolButton(self)
        self.favorites_filter.setIcon(icon("favorite"))
        self.favorites_filter.setText("Favorites")
        self.favorites_filter.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.favorites_filter.setCheckable(True)
        self.favorites_filter.setToolTip("Show only favorites")
        self.favorites_filter.toggled.connect(self._filters_changed)
        bar.addWidget(self.favorites_filter)

        self.search_field = QLineEdit(self)
        self.search_field.setPlaceholderText("Search")
        self.search_field.setToolTip(
            "Search names, tags, descriptions and text (Ctrl+F); tag:name or "
            'tag:"two words" keeps files with that tag'
        )
        self.search_field.setClearButtonEnabled(True)
        self.search_field.setMinimumWidth(self.fontMetrics().averageCharWidth() * 18)
        self.search_field.setMaximumWidth(self.fontMetrics().averageCharWidth() * 40)
        bar.addWidget(self.search_field)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._run_search)
        self.search_field.textEdited.connect(lambda _text: self._search_timer.start())
        self.search_field.returnPressed.connect(self._run_search)
        find = QAction("Find", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(self.focus_search)
        self.addAction(find)
        escape = QAction("Clear search", self.search_field)
        escape.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        escape.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        escape.triggered.connect(self.clear_search)
        self.search_field.addAction(escape)

        settings = QAction(QIcon.fromTheme("preferences-system"), "Settings…", self)
        # The platform's key (Cmd+, on macOS); Ctrl+, where it has none (Linux, Windows).
        preferences = QKeySequence.keyBindings(QKeySequence.StandardKey.Preferences)
        settings.setShortcuts(preferences or [QKeySequence("Ctrl+,")])
        settings.triggered.connect(self.file_actions.open_settings)
        bar.addAction(settings)
        self.welcome.import_files.connect(self.file_actions.import_files_here)
        self.welcome.import_folder.connect(self.file_actions.import_folder_here_)
        self.welcome.connect_bucket.connect(self.file_actions.open_settings)
        self.welcome.restore.connect(self.request_restore)
        self.welcome.dropped.connect(self.import_from_outside)
        self.help_menu = help_menu(self, self.vault.paths, lambda: self.findChildren(QAction))
        help_button = QToolButton(self)
        help_button.setText("Help")
        help_button.setIcon(QIcon.fromTheme("help-contents"))
        help_button.setMenu(self.help_menu)
        help_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        help_button.setAccessibleName("Help")
        help_button.setToolTip("Keyboard shortcuts, where your data lives, About")
        bar.addWidget(help_button)
        # The menu's own shortcuts work anywhere in the window.
        self.addActions(self.help_menu.actions())

    def _build_status_bar(self) -> None:
        self._count_label = QLabel(self)
        self._selection_label = QLabel(self)
        self.statusBar().addWidget(self._count_label)
        self.statusBar().addWidget(self._selection_label)
        self.transfers_button = QToolButton(self)
        self.transfers_button.setText("Transfers")
        self.transfers_button.setCheckable(True)
        self.transfers_button.setAutoRaise(True)
        self.statusBar().addPermanentWidget(self.transfers_button)
        self.sync_status = SyncStatus(self.vault, self)
        self.statusBar().addPermanentWidget(self.sync_status)

    def _build_transfers_dock(self) -> None:
        self.transfers_panel = TransfersPanel(self.transfers, self)
        self.transfers_dock = QDockWidget("Transfers", self)
        self.transfers_dock.setObjectName("transfers")
        self.transfers_dock.setWidget(self.transfers_panel)
        self.transfers_dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
        )
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.transfers_dock)
        self.transfers_dock.hide()
        self.transfers_button.toggled.connect(self.transfers_dock.setVisible)
        self.transfers_dock.visibilityChanged.connect(self.transfers_button.setChecked)

    def _connect(self) -> None:
        self.tree.source_selected.connect(self._on_place_selected)
        self.tree_model.error.connect(self._on_tree_error)
        self.tree_model.tags_changed.connect(lambda changes: self.on_tags_changed(changes, False))
        self.preview.tag_clicked.connect(lambda tag_id: self.open_source(Source.tag(tag_id)))
        self.tree_model.drop_requested.connect(self._on_tree_drop)
        self.tree_model.children_loaded.connect(self._on_tree_loaded)
        self.sync_status.finished.connect(self.model.refresh_sync)
        self.model.loaded.connect(self._on_loaded)
        self.model.failed.connect(self._on_failed)
        self.model.modelReset.connect(self._update_status)
        # A reset clears the selection without selectionChanged: say so in the status bar.
        self.model.modelReset.connect(lambda: self._update_selection_label([]))
        self.model.sort_changed.connect(self._show_sort)
        self.model.rename_failed.connect(self._on_rename_failed)
        self.model.renamed.connect(self._on_renamed)
        for view in (self.grid, self.view):
            view.drop_requested.connect(self._on_view_drop)
            view.doubleClicked.connect(self._activate)
            view.prepare_drag_out = self.file_actions.prepare_drag_out
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            view.customContextMenuRequested.connect(
                lambda pos, v=view: self.file_actions.show_context_menu(v, pos)
            )
        self.view.selectionModel().selectionChanged.connect(self._on_selection)
        self.preview.open_requested.connect(self.file_actions.open_file_id)
        self.transfers.finished.connect(self._on_transfer_finished)
        self.transfers.added.connect(self._on_transfer_started)
        self.transfers.track_sync(self.sync_status.state_changed, self.sync_status.sync_now)

    # -- places ---------------------------------------------------------------------

    def open_folder(self, folder_id: int) -> None:
        """List ``folder_id`` (in the background) and remember it for Back."""
        self.open_source(Source.folder(folder_id))

    def open_source(self, source: Source, *, remember: bool = True) -> None:
        """List a folder or a result set (in the background)."""
        if source.kind != "search" and self.search_field.text():
            self.search_field.clear()
        if remember:
            self.history.visit(source)
        self._reselect = []
        self.thumbnails.forget_pending()
        for view in (self.grid, self.view):
            view.set_placeholder_text("")
        self._count_label.setText("Loading…")
        if source.kind == "folder" and source.id is not None:
            self._last_folder = source.id
        sort = self.user_sort if source.kind in USER_SORTED else None
        self.model.load(source, sort, self._filters())
        self.view.setColumnHidden(Column.MATCH, source.kind != "search")
        self._show_place(source)
        self._update_navigation()
        self._follow_in_tree(source)
        self.preview.clear()

    def current_view(self) -> QAbstractItemView:
        """The grid or the list, whichever is shown."""
        return self.grid if self.stack.currentIndex() == GRID else self.view

    def go_back(self) -> None:
        source = self.history.back()
        if source is not None:
            self._open_remembered(source)

    def go_forward(self) -> None:
        source = self.history.forward()
        if source is not None:
            self._open_remembered(source)

    def go_up(self) -> None:
        trail = self.breadcrumb.trail
        if len(trail) > 1:
            self.open_folder(trail[-2].id)

    def _open_remembered(self, source: Source) -> None:
        if source.kind == "search":
            self.search_field.setText(source.query)
        self.open_source(source, remember=False)

    def _update_navigation(self) -> None:
        self.back_action.setEnabled(self.history.can_back())
        self.forward_action.setEnabled(self.history.can_forward())
        self.up_action.setEnabled(len(self.breadcrumb.trail) > 1)

    def _show_place(self, source: Source) -> None:
        if source.kind == "folder" and source.id is not None:
            folder_id = source.id
            vault = self.vault

            def trail() -> list[FolderNode]:
                return vault.folder_trail(folder_id)  # pool thread

            def shown(nodes: list[FolderNode]) -> None:
                if self.model.source == source:
                    self.breadcrumb.set_trail(nodes)
                    self._update_navigation()
                    self.setWindowTitle(
                        f"{nodes[-1].name if len(nodes) > 1 else 'Vault'} — Media Vault"
                    )

            self.breadcrumb.set_trail([FolderNode(folder_id, "…", False)])
            self.tasks.run(trail, shown, lambda exc: None, name="breadcrumb")
            return
        if source.kind == "search":
            title = f"Search results for “{source.query}”"
        elif source.kind == "tag":
            title = "Tag"
            combined = self.tree.combined_place() if len(source.all_tag_ids) > 1 else None
            place = combined or self.tree_model.source(self.tree.currentIndex())
            if place is not None and place.kind == NodeKind.TAG:
                title = f"Tags: {place.name}" if combined else f"Tag: {place.name}"
        else:
            title = SOURCE_TITLES.get(source.kind, "")
        self.breadcrumb.set_title(title)
        self.setWindowTitle(f"{title} — Media Vault")

    def _follow_in_tree(self, source: Source) -> None:
        """Select the tree's node for what the list shows; none for search results or
        a folder the tree has not listed yet (until it has: see :meth:`_on_tree_loaded`)."""
        model = self.tree_model
        index = QModelIndex()
        if source.kind == "folder" and source.id == self.vault.root_id:
            index = model.place_index(NodeKind.VAULT)
        elif source.kind == "folder" and source.id is not None:
            index = model.folder_index(source.id)
        elif source.kind == "tag":
            tags = model.place_index(NodeKind.TAGS)
            for row in range(model.rowCount(tags)):
                if model.index(row, 0, tags).data(TreeRole.TAG_ID) == source.id:
                    index = model.index(row, 0, tags)
        elif source.kind in PLACE_NODES:
            index = model.place_index(PLACE_NODES[source.kind])
        if not index.isValid():
            self.tree.selectionModel().clear()  # no current node either: a click selects again
        elif index != self.tree.currentIndex() or not self.tree.selectionModel().hasSelection():
            # Emits source_selected for what is shown already: nothing is listed again.
            self.tree.setCurrentIndex(index)

    def _on_tree_loaded(self, _parent: QModelIndex) -> None:
        source = self.model.source
        if source is not None and not self.tree.selectionModel().hasSelection():
            self._follow_in_tree(source)

    def _tree_rows_going(self) -> None:
        self._tree_removing = True

    def _tree_rows_gone(self) -> None:
        self._tree_removing = False

    def _on_place_selected(self, place: Place) -> None:
        if self._tree_removing:
            return
        source = place.browse_source()
        if source is not None and source != self.model.source:
            self.open_source(source)

    def _activate(self, index: QModelIndex) -> None:
        """Double-click or Enter: a folder opens, a file opens in its viewer."""
        if not index.isValid():
            return
        item = self.model.item(index.row())
        if item.trash_entry_id is not None:
            return
        if item.is_folder:
            self.open_folder(item.id)
        else:
            self.file_actions.open_item(item)

    # -- view mode, filters, search, sort ----------------------------------------------

    def set_view_mode(self, mode: int) -> None:
        """Show the grid (:data:`GRID`) or the list (:data:`LIST`), keeping the selection."""
        current = self.current_view().currentIndex()
        self.stack.setCurrentIndex(mode)
        (self.grid_action if mode == GRID else self.list_action).setChecked(True)
        self._slider_action.setVisible(mode == GRID)
        view = self.current_view()
        if current.isValid():
            view.scrollTo(current)
        view.setFocus()

    def _filters(self) -> BrowseFilters:
        kinds = TYPE_FILTERS[max(0, self.type_filter.currentIndex())][1]
        return BrowseFilters(kinds=kinds, favorites=self.favorites_filter.isChecked())

    def _filters_changed(self) -> None:
        self.thumbnails.forget_pending()
        self.model.set_filters(self._filters())

    def focus_search(self) -> None:
        self.search_field.setFocus()
        self.search_field.selectAll()

    def clear_search(self) -> None:
        self.search_field.clear()
        self._run_search()

    def _run_search(self) -> None:
        self._search_timer.stop()
        query = self.search_field.text().strip()
        if query:
            source = Source.search(query)
            if source != self.model.source:
                # Successive searches replace each other in the history.
                if self.model.source is not None and self.model.source.kind == "search":
                    self.history.forget(self.model.source)
                self.open_source(source)
        elif self.model.source is not None and self.model.source.kind == "search":
            self.history.forget(self.model.source)
            self._open_remembered(self.history.current or Source.folder(self.vault.root_id))

    def _show_sort(self) -> None:
        sort = self.model.sort_order
        source = self.model.source
        if source is not None and source.kind in USER_SORTED:
            self.user_sort = sort
        column = next((c for c, key in SORT_KEYS.items() if key == sort.key), Column.NAME)
        order = Qt.SortOrder.DescendingOrder if sort.descending else Qt.SortOrder.AscendingOrder
        header = self.view.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(column, order)
        header.blockSignals(False)

    # -- selection and status -------------------------------------------------------------

    def selected_items(self) -> list[Item]:
        """The selected rows' items, in row order."""
        # Any selected cell counts: a selection made elsewhere may not cover whole rows.
        rows = sorted({i.row() for i in self.view.selectionModel().selectedIndexes()})
        return [self.model.item(r) for r in rows if r < self.model.rowCount()]

    def select_item(self, item_id: int, is_folder: bool) -> bool:
        """Select (and show) one row, if it is loaded."""
        row = self.model.row_of(item_id, is_folder)
        if row is None:
            return False
        index = self.model.index(row, 0)
        self.view.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.current_view().scrollTo(index)
        return True

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        items = self.selected_items()
        self._update_selection_label(items)
        if len(items) == 1:
            item = items[0]
            if item.trash_entry_id is not None and item.is_folder:
                self.preview.show_selection(1, item.size)
            elif item.is_folder:
                self.preview.show_folder(item.id)
            else:
                self.preview.show_file(item.id)
        elif items:
            self.preview.show_selection(len(items), sum(i.size for i in items if not i.is_folder))
        else:
            self.preview.clear()

    def _update_selection_label(self, items: list[Item]) -> None:
        if not items:
            self._selection_label.setText("")
            return
        size = sum(i.size for i in items if not i.is_folder)
        text = f"{len(items)} selected" + (f" · {human_size(size)}" if size else "")
        self._selection_label.setText(text)

    def _update_status(self) -> None:
        count = self.model.rowCount()
        if self.model.loading and count == 0:
            text = "Loading…"
        else:
            text = "1 item" if count == 1 else f"{count:,} items"
            if self.model.has_more:
                text = f"{count:,}+ items"
        self._count_label.setText(text)

    def _on_loaded(self) -> None:
        source = self.model.source
        welcome = False
        if self.model.rowCount() == 0 and source is not None:
            root = self.model.folder_id == self.vault.root_id
            empty = EMPTY_VAULT_TEXT if root else EMPTY_TEXT.get(source.kind, EMPTY_FOLDER_TEXT)
            if self.model.filters != BrowseFilters() and source.kind != "trash":
                empty = "No files match the filters."
            else:
                welcome = root and source.kind == "folder"
        else:
            empty = ""
        self._show_welcome(welcome)
        for view in (self.grid, self.view):
            view.set_placeholder_text(empty)
        self._update_status()
        if self._reselect:
            keep, self._reselect = self._reselect, []
            self._select_again(keep)

    def _select_again(self, keep: list[tuple[int, bool]]) -> None:
        """Select the rows of these items that are loaded (after a refresh reset the model)."""
        rows_of = {(item.id, item.is_folder): row for row, item in enumerate(self.model.items())}
        rows = [rows_of[key] for key in keep if key in rows_of]
        if not rows:
            return
        chosen = QItemSelection()
        for row in rows:
            chosen.select(self.model.index(row, 0), self.model.index(row, len(Column) - 1))
        selection = self.view.selectionModel()
        selection.setCurrentIndex(
            self.model.index(rows[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate
        )
        selection.select(chosen, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _on_failed(self, exc: BaseException) -> None:
        self._update_status()
        if isinstance(exc, VaultError):
            source = self.model.source
            if source is not None and source.kind == "folder" and source.id != self.vault.root_id:
                # The folder went away (deleted elsewhere): back to the vault's top.
                self.history.forget(source)
                self.notify(exc.message)
                self.open_folder(self.vault.root_id)
                return
            show_error(self, exc)
            return
        log.error(
            "listing %s failed", self.model.source, exc_info=(type(exc), exc, exc.__traceback__)
        )
        self.notify(f"Could not list this place; details are in {log_file(self.vault.paths)}.")

    def notify(self, message: str, timeout_ms: int = 8000) -> None:
        """A short, non-blocking message in the status bar."""
        self.statusBar().showMessage(message, timeout_ms)

    # -- rename -----------------------------------------------------------------------------

    def _on_rename_failed(self, index: QModelIndex, message: str, name: str) -> None:
        view = self.current_view()
        if index.isValid():
            view.show_tip(index, message)  # type: ignore[attr-defined]
            view.edit_again(index, message, name)  # type: ignore[attr-defined]
        else:
            self.notify(message)

    def _on_renamed(self, item: Item) -> None:
        if item.is_folder:
            self.tree_model.refresh(item.folder_id or self.vault.root_id)
        if self.view.selectionModel().isSelected(
            self.model.index(self.model.row_of(item.id, item.is_folder) or 0, 0)
        ):
            self._on_selection(QItemSelection(), QItemSelection())

    # -- drops ------------------------------------------------------------------------------

    def _on_view_drop(self, drop: ViewDrop) -> None:
        folder = drop.folder_id if drop.folder_id is not None else self.model.folder_id
        if drop.paths:
            if drop.version_of is not None:
                self.transfers.start_version(drop.version_of, drop.paths[0])
            elif folder is not None:
                self.transfers.start_import(list(drop.paths), folder)
            return
        if folder is None:
            return
        if drop.copy:
            self.file_actions.copy_items(list(drop.file_ids), list(drop.folder_ids), folder)
        else:
            self.file_actions.move_items(list(drop.file_ids), list(drop.folder_ids), folder)

    # -- the welcome over an empty vault -------------------------------------------------

    def _show_welcome(self, show: bool) -> None:
        if show and not self.welcome.isVisible():
            self.refresh_welcome()
        self.welcome.setVisible(show)
        if show:
            self.welcome.raise_()

    def refresh_welcome(self) -> None:
        """Offer the bucket's restore when one is connected (the remote is read off
        the GUI thread)."""
        paths = self.vault.paths

        def location() -> str | None:
            from app.remote import load_remote

            try:
                config = load_remote(paths)
            except VaultError:
                return None
            if config is None:
                return None
            spec = config.spec
            return f"s3://{spec.bucket}/{spec.prefix}" if spec.prefix else f"s3://{spec.bucket}"

        self.tasks.run(location, self.welcome.set_bucket)

    def request_restore(self) -> None:
        """Ask, then close this window so that ui.app.run restores the vault and reopens it."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Restore from the Bucket",
            f"Restore this vault from {self.welcome.location}?",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setInformativeText(
            "The newest catalog in the bucket replaces this empty vault: every folder, "
            "file, tag and version comes back. The files' content downloads when you "
            "open or export them."
        )
        restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered() -> None:
            if box.clickedButton() is restore:
                self.restore_requested = True
                self.close()

        box.finished.connect(lambda _result: answered())
        box.open()

    def on_tags_changed(self, changes: TagChanges, refresh_tree: bool = True) -> None:
        """Repaint what a tag change touched: the rows' chips, the tree's tags, the pane."""
        self.model.apply_tag_changes(changes)
        if refresh_tree:
            self.tree_model.refresh_tags()
        current = self.preview.current_file_id
        if current is not None and (current in changes.files or changes.tags):
            self.preview.refresh()

    def show_file(self, file_id: int) -> None:
        """Open the folder of ``file_id`` and select it there (off the GUI thread)."""
        vault = self.vault

        def folder_of() -> int:
            return vault.file_info(file_id).folder_id

        def opened(folder_id: int) -> None:
            self.open_folder(folder_id)
            self._reselect = [(file_id, False)]

        self.tasks.run(folder_of, opened, self._on_failed)

    def import_from_outside(self, files: list[str]) -> None:
        """Come to the front and import ``files`` (from the command line, the launcher or
        a second start) into the folder shown, or the top folder when none is."""
        if self.isMinimized():
            self.showNormal()
        self.raise_()
        self.activateWindow()
        if files:
            folder = (
                self.model.folder_id if self.model.folder_id is not None else self.vault.root_id
            )
            self.transfers.start_import(list(files), folder)

    def _on_tree_drop(self, request: DropRequest) -> None:
        folder = request.target_folder_id
        if request.intent == DropIntent.IMPORT and folder is not None:
            self.transfers.start_import(list(request.paths), folder)
        elif request.intent == DropIntent.MOVE and folder is not None:
            self.file_actions.move_items(list(request.file_ids), list(request.folder_ids), folder)
        elif request.intent == DropIntent.COPY and folder is not None:
            self.file_actions.copy_items(list(request.file_ids), list(request.folder_ids), folder)
        elif request.intent == DropIntent.TRASH:
            self.file_actions.delete_items(list(request.file_ids), list(request.folder_ids))
        elif request.intent == DropIntent.FAVORITE:
            self.file_actions.set_favorite(list(request.file_ids), True)

    def _on_transfer_started(self, transfer: Transfer) -> None:
        if transfer.kind is TransferKind.UPLOAD or self.transfers_dock.isVisible():
            return  # the background sync's uploads do not pop the panel up
        self.transfers_dock.show()
        if not self._dock_sized:
            # A first showing takes a few rows' height, not half the window.
            self._dock_sized = True
            height = min(self.fontMetrics().height() * 10, self.height() // 3)
            self.resizeDocks([self.transfers_dock], [height], Qt.Orientation.Vertical)

    def _on_transfer_finished(self, _transfer: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        """List the current place and the tree again after a change, keeping the selection."""
        self.thumbnails.forget_pending()
        # The reload resets the rows; what is still there is selected again when they are back.
        self._reselect = [(item.id, item.is_folder) for item in self.selected_items()]
        self.model.reload()
        self.tree_model.load()
        if self.model.folder_id is not None:
            self.tree_model.refresh(self.model.folder_id)
        self.tree_model.refresh_tags()

    def _on_tree_error(self, message: str, hint: str) -> None:
        # Nothing to decide (a listing failed, e.g. a folder deleted elsewhere): no dialog.
        self.notify(f"{message} {hint}".strip())

    # -- preferences and state --------------------------------------------------------------

    def apply_preferences(self, preferences: Preferences) -> None:
        self.preferences = preferences
        self.size_slider.setValue(preferences.thumbnail_size)
        self.thumbnails.set_cache_limit(max(32 << 20, min(preferences.cache_bytes // 4, 512 << 20)))
        self.trim_cache()

    def trim_cache(self) -> None:
        """Bring the cache on disk back under its size limit, in the background."""
        paths, limit = self.vault.paths, self.preferences.cache_bytes

        def failed(exc: BaseException) -> None:
            log.warning("could not trim the cache: %s", exc)

        self.tasks.run(lambda: trim_cache(paths, limit), None, failed, name="trim cache")

    def _restore_state(self) -> None:
        s = self.settings
        geometry = s.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        splitter = s.value("splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        state = s.value("windowState")
        self._dock_sized = isinstance(state, QByteArray) and self.restoreState(state)
        self.transfers_dock.hide()  # shown again when something is transferred
        size = _int(s.value("thumbnailSize"), self.preferences.thumbnail_size)
        self.size_slider.setValue(size)
        self.grid.set_thumbnail_size(size)
        self.set_view_mode(LIST if s.value("viewMode") == "list" else GRID)
        key = str(s.value("sortKey", "name"))
        descending = str(s.value("sortDescending", "false")).lower() == "true"
        sort = Sort(key, descending) if key in SORT_KEYS.values() else Sort()  # type: ignore[arg-type]
        self.user_sort = sort
        folder = _int(s.value("lastFolder"), self.vault.root_id)
        self._last_folder = folder
        self.history.visit(Source.folder(folder))
        self.model.load(Source.folder(folder), sort, self._filters())
        self.view.setColumnHidden(Column.MATCH, True)
        self._show_place(Source.folder(folder))
        self._show_sort()
        self._update_navigation()
        self._follow_in_tree(Source.folder(folder))

    def save_state(self) -> None:
        s = self.settings
        s.setValue("geometry", self.saveGeometry())
        s.setValue("windowState", self.saveState())
        s.setValue("splitter", self.splitter.saveState())
        s.setValue("viewMode", "grid" if self.stack.currentIndex() == GRID else "list")
        s.setValue("thumbnailSize", self.grid.thumbnail_size)
        s.setValue("sortKey", self.user_sort.key)
        s.setValue("sortDescending", "true" if self.user_sort.descending else "false")
        s.setValue("lastFolder", self._last_folder)  # the last folder shown, not a result set
        s.sync()

    # -- closing ------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop background work; results still in flight are dropped. Idempotent."""
        self.sync_status.shutdown()
        self.transfers.shutdown()
        self.thumbnails.shutdown()
        if self.preview.viewer_host is not None:
            self.preview.viewer_host.stop()
        self.viewer_tasks.shutdown()
        self.viewer_workers.close()
        self.tasks.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        self.shutdown()
        super().closeEvent(event)


def _int(value: object, default: int) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def show_error(parent: QWidget | None, error: VaultError) -> QMessageBox:
    """Show a known error in a window-modal box without blocking; returns the box."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Media Vault", error.message, parent=parent)
    if error.hint:
        box.setInformativeText(error.hint)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def file_urls(paths: list[Path]) -> list[QUrl]:
    return [QUrl.fromLocalFile(str(p)) for p in paths]
