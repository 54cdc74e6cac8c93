"""The main window over a real vault in a temporary directory, driven like a user would.

Tree navigation, the breadcrumb and history, grid/list switching over one
selection, thumbnails, header sorting, filters, debounced search, inline
rename, the Trash, state restore and a folder deleted while shown. Drops are in
``test_window_drops.py``, the event loop's worst stall in ``test_window_stall.py``.

``MEDIAVAULT_SCREENSHOTS_DIR=/some/dir`` saves every screenshot taken here there (the
README's pictures come from ``python -m tests.screenshots``).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QMessageBox,
    QToolButton,
    QToolTip,
    QWidget,
)
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from app.browse import Sort, Source
from app.remote import RemoteConfig, save_remote
from app.vault import Vault
from storage.s3_client import RemoteSpec
from tests.conftest import corpus_path
from tests.helpers.windows import listed, names, open_window
from ui import item_model as item_model_module
from ui.folder_tree import NodeKind, TreeRole
from ui.formatting import human_size
from ui.item_model import Column, ItemModel, ItemRole
from ui.item_views import GRID_DEFAULT, NAME_MIN_CHARS
from ui.main_window import (
    EMPTY_VAULT_TEXT,
    GRID,
    LIST,
    SEARCH_DELAY_MS,
    TYPE_FILTERS,
    MainWindow,
)
from ui.tasks import TaskManager

WAIT = 15_000


def shot(widget: QWidget, name: str) -> None:
    """Render ``widget``; save it in ``$MEDIAVAULT_SCREENSHOTS_DIR`` for a person to look at."""
    image = widget.grab()
    assert not image.isNull()
    folder = os.environ.get("MEDIAVAULT_SCREENSHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        assert image.save(str(Path(folder) / f"{name}.png"))


def _fill(vault: Vault, tmp_path: Path) -> None:
    for name in ("Photos", "Documents", "Music"):
        vault.mkdir(vault.root_id, name)
    source = tmp_path / "outside"
    source.mkdir()
    (source / "notes.txt").write_text("quarterly report draft\n" * 40, encoding="utf-8")
    (source / "budget.csv").write_text("month,amount\n" + "jan,10\n" * 500, encoding="utf-8")
    (source / "readme.md").write_text("# hello\n", encoding="utf-8")
    report = vault.import_paths(sorted(source.iterdir()), vault.root_id)
    assert report.ok


def _import(vault: Vault, folder_id: int, *paths: Path) -> list[int]:
    report = vault.import_paths(list(paths), folder_id)
    assert report.ok, report
    return list(report.file_ids)


def _tree_index(qtbot: QtBot, window: MainWindow, kind: NodeKind) -> QModelIndex:
    qtbot.waitUntil(lambda: window.tree_model.place_index(kind).isValid(), timeout=WAIT)
    return window.tree_model.place_index(kind)


def _click_tree(qtbot: QtBot, window: MainWindow, index: QModelIndex) -> None:
    """Click a tree node like a user (it must be visible) and wait for the list."""
    tree = window.tree
    tree.scrollTo(index)
    rect = tree.visualRect(index)
    assert rect.isValid(), index.data()
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert tree.currentIndex() == index
    listed(qtbot, window)


def _select_rows(window: MainWindow, *rows: int) -> None:
    selection = window.view.selectionModel()
    selection.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in rows:
        selection.select(window.model.index(row, 0), flags)
    selection.setCurrentIndex(
        window.model.index(rows[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate
    )


def _selected_rows(view: QAbstractItemView) -> list[int]:
    return sorted({i.row() for i in view.selectionModel().selectedIndexes()})


# -- the basics ------------------------------------------------------------------------


def test_lists_root_with_folders_first(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    _fill(vault, tmp_path)
    window = open_window(qtbot, vault, active=True)

    assert window.windowTitle() == "Vault — Media Vault"
    assert names(window.model) == [
        "Documents",
        "Music",
        "Photos",
        "budget.csv",
        "notes.txt",
        "readme.md",
    ]
    model = window.model
    assert model.index(0, Column.KIND).data() == "Folder"
    assert model.index(0, Column.SIZE).data() == ""
    assert model.index(0, 0).data(ItemRole.IS_FOLDER) is True
    notes = model.index(4, Column.SIZE)
    assert notes.data(ItemRole.SIZE_BYTES) == len("quarterly report draft\n") * 40
    assert notes.data() == human_size(notes.data(ItemRole.SIZE_BYTES))
    assert model.headerData(Column.MODIFIED, Qt.Orientation.Horizontal) == "Modified"
    assert window._count_label.text() == "6 items"
    assert window.view.placeholder_text == ""
    assert window.view.isColumnHidden(Column.MATCH)


def test_empty_vault_shows_placeholder(qtbot: QtBot, vault: Vault) -> None:
    window = open_window(qtbot, vault, active=True)
    assert window.model.rowCount() == 0
    assert window.view.placeholder_text == EMPTY_VAULT_TEXT
    assert window.grid.placeholder_text == EMPTY_VAULT_TEXT
    assert window._count_label.text() == "0 items"
    window.resize(900, 420)
    shot(window, "main-window-empty")


def _loaded_model(qtbot: QtBot, vault: Vault, tasks: TaskManager) -> ItemModel:
    """A model on its own (no view pulling pages in), with the root's first page."""
    model = ItemModel(vault, tasks)
    model.load(vault.root_id)
    qtbot.waitUntil(lambda: not model.loading, timeout=WAIT)
    return model


@pytest.fixture
def tasks(qtbot: QtBot) -> Iterator[TaskManager]:
    manager = TaskManager(max_threads=1, name="test-items")
    yield manager
    manager.shutdown()


def test_pages_with_fetch_more(
    qtbot: QtBot,
    vault: Vault,
    tasks: TaskManager,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(item_model_module, "PAGE_SIZE", 4)
    vault.mkdir(vault.root_id, "Inbox")
    source = tmp_path / "many"
    source.mkdir()
    for n in range(10):
        (source / f"file-{n:02}.txt").write_text(f"file {n}\n", encoding="utf-8")
    _import(vault, vault.root_id, *sorted(source.iterdir()))

    model = _loaded_model(qtbot, vault, tasks)
    assert model.rowCount() == 4  # a page: the folder, then the first files
    assert model.has_more
    pages = 1
    while model.canFetchMore(QModelIndex()):
        with qtbot.waitSignal(model.rowsInserted, timeout=WAIT):
            model.fetchMore(QModelIndex())
        qtbot.waitUntil(lambda: not model.loading, timeout=WAIT)
        pages += 1
    assert pages == 3
    expected = ["Inbox"] + [f"file-{n:02}.txt" for n in range(10)]
    assert names(model) == expected

    # In a window, the view asks for more pages itself while it has room.
    window = open_window(qtbot, vault, active=True)
    qtbot.waitUntil(lambda: window.model.rowCount() == 11, timeout=WAIT)
    qtbot.waitUntil(lambda: window._count_label.text() == "11 items", timeout=WAIT)
    assert names(window.model) == expected


def test_model_is_consistent(
    qtbot: QtBot, qtmodeltester: ModelTester, vault: Vault, tasks: TaskManager, tmp_path: Path
) -> None:
    _fill(vault, tmp_path)
    model = _loaded_model(qtbot, vault, tasks)
    assert model.rowCount() == 6
    qtmodeltester.check(model, force_py=True)  # type: ignore[no-untyped-call]


def test_run_reports_unusable_vault(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ui.app

    shown: list[str] = []

    def fake_exec(box: QMessageBox) -> int:
        shown.append(box.text())
        return 0

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x", encoding="utf-8")
    assert ui.app.run(not_a_dir) == 1
    assert shown and str(not_a_dir) in shown[0]


@pytest.mark.slow
@pytest.mark.usefixtures("aws_chain")
def test_synced_window(qtbot: QtBot, vault: Vault, tmp_path: Path, spec: RemoteSpec) -> None:
    """The Backup column follows the background sync to "Backed up"."""
    from PIL import Image

    for name in ("Documents", "Music", "Photos", "Videos"):
        vault.mkdir(vault.root_id, name)
    source = tmp_path / "outside"
    source.mkdir()
    Image.new("RGB", (640, 480), (40, 120, 200)).save(source / "IMG_0001.jpg", quality=90)
    Image.new("RGB", (1200, 800), (200, 80, 40)).save(source / "Sunset at the lake.png")
    (source / "Quarterly report.txt").write_text("quarterly report\n" * 3000, encoding="utf-8")
    (source / "budget-2024.csv").write_text("month,amount\n" + "jan,10\n" * 90, encoding="utf-8")
    _import(vault, vault.root_id, *sorted(source.iterdir()))
    save_remote(vault.paths, RemoteConfig(spec, "chain"))

    window = open_window(qtbot, vault, active=True)
    window.resize(1280, 460)
    window.splitter.setSizes([200, 800, 280])
    window.set_view_mode(LIST)
    qtbot.waitUntil(lambda: window.model.rowCount() == 8, timeout=WAIT)
    assert window.model.index(7, Column.SYNC).data() == "Not backed up"
    qtbot.waitUntil(lambda: window.sync_status.label.text() == "Up to date", timeout=30_000)
    # The finished sync refreshes the Backup column of the rows shown.
    qtbot.waitUntil(lambda: window.model.index(7, Column.SYNC).data() == "Backed up", timeout=WAIT)
    shot(window, "main-window")


# -- tree, breadcrumb, history -------------------------------------------------------------


def _add_tag(vault: Vault, name: str, file_ids: list[int]) -> int:
    """A tag by SQL (the tag API comes later) on some files."""
    with vault.writing() as session:
        tag_id = int(
            session.execute(
                text("INSERT INTO tag (name, name_key, color) VALUES (:n, :k, '') RETURNING id"),
                {"n": name, "k": name.casefold()},
            ).scalar_one()
        )
        for file_id in file_ids:
            session.execute(
                text("INSERT INTO file_tag (file_id, tag_id) VALUES (:f, :t)"),
                {"f": file_id, "t": tag_id},
            )
    return tag_id


def test_tree_places_fill_the_list(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    _fill(vault, tmp_path)
    photos = vault.resolve_folder("/Photos")
    beach = _import(vault, photos, corpus_path() / "images" / "flower.jpg")[0]
    vault.rename_file(beach, "beach.jpg")
    _add_tag(vault, "Holiday", [beach])
    vault.set_favorite([vault.require_file("/notes.txt")], True)
    vault.delete_path("/readme.md")
    window = open_window(qtbot, vault, active=True)
    model = window.model

    _click_tree(qtbot, window, _tree_index(qtbot, window, NodeKind.ALL_FILES))
    assert names(model) == ["beach.jpg", "budget.csv", "notes.txt"]
    assert model.item(0).where == "/Photos"
    assert window.breadcrumb.trail == []
    assert window.windowTitle() == "All files — Media Vault"

    _click_tree(qtbot, window, _tree_index(qtbot, window, NodeKind.FAVORITES))
    assert names(model) == ["notes.txt"]
    _click_tree(qtbot, window, _tree_index(qtbot, window, NodeKind.TRASH))
    assert names(model) == ["readme.md"]
    _click_tree(qtbot, window, _tree_index(qtbot, window, NodeKind.RECENT))
    assert set(names(model)) == {"beach.jpg", "budget.csv", "notes.txt"}
    assert model.index(0, Column.SYNC).data() == "Not backed up"

    tags = _tree_index(qtbot, window, NodeKind.TAGS)
    window.tree.expand(tags)
    qtbot.waitUntil(lambda: window.tree_model.rowCount(tags) == 1, timeout=WAIT)
    _click_tree(qtbot, window, window.tree_model.index(0, 0, tags))
    assert model.source == Source.tag(window.tree_model.index(0, 0, tags).data(TreeRole.TAG_ID))
    assert names(model) == ["beach.jpg"]
    assert window.windowTitle() == "Tag: Holiday — Media Vault"

    vault_node = _tree_index(qtbot, window, NodeKind.VAULT)
    qtbot.waitUntil(lambda: window.tree_model.folder_index(photos).isValid(), timeout=WAIT)
    _click_tree(qtbot, window, window.tree_model.folder_index(photos))
    assert model.folder_id == photos
    assert names(model) == ["beach.jpg"]
    qtbot.waitUntil(lambda: [b.text() for b in window.breadcrumb.buttons()] == ["Vault", "Photos"])
    assert window.windowTitle() == "Photos — Media Vault"

    _click_tree(qtbot, window, vault_node)
    assert names(model) == ["Documents", "Music", "Photos", "budget.csv", "notes.txt"]


def _wait_trail(qtbot: QtBot, window: MainWindow, trail: list[str]) -> None:
    qtbot.waitUntil(lambda: [b.text() for b in window.breadcrumb.buttons()] == trail, timeout=WAIT)


def test_a_deep_path_fits_the_breadcrumb(qtbot: QtBot, vault: Vault) -> None:
    """The outer folders of a path too wide for the toolbar go behind "…", whose menu
    still reaches them; the folder shown stays, elided only if it alone is too wide."""
    names_ = [f"Folder with a long name {n}" for n in range(1, 9)]
    vault.makedirs("/" + "/".join(names_))
    deepest = vault.resolve_folder("/" + "/".join(names_))
    third = vault.resolve_folder("/" + "/".join(names_[:3]))
    window = open_window(qtbot, vault, active=True)
    window.resize(1400, 500)
    window.open_folder(deepest)
    listed(qtbot, window)
    crumb = window.breadcrumb
    qtbot.waitUntil(lambda: len(crumb.buttons()) == 9 and bool(crumb.hidden_folders()))
    shown = [b for b in crumb.buttons() if not b.isHidden()]
    assert shown[0].text() == "Vault" and shown[-1].text() == names_[-1]
    assert [n.name for n in crumb.hidden_folders()] == names_[: len(crumb.hidden_folders())]
    right = max(w.geometry().right() for w in crumb.findChildren(QWidget) if w.isVisible())
    assert right <= crumb.width()  # nothing is cut off at the edge
    shot(window, "main-window-breadcrumb-deep")

    (more,) = [b for b in crumb.findChildren(QToolButton) if b.text() == "…"]
    assert more.isVisible()
    more.menu().aboutToShow.emit()
    action = more.menu().actions()[2]
    assert action.text() == names_[2]
    action.trigger()
    listed(qtbot, window)
    assert window.model.folder_id == third

    # A window wide enough shows the whole path again.
    window.open_folder(deepest)
    listed(qtbot, window)
    window.resize(3000, 500)
    qtbot.waitUntil(lambda: not crumb.hidden_folders() and len(crumb.buttons()) == 9)
    assert [b.text() for b in crumb.buttons()] == ["Vault", *names_]
    assert not [b for b in crumb.findChildren(QToolButton) if b.text() == "…" and b.isVisible()]

    # Narrow: only the vault, "…" and the folder shown, its name elided to fit.
    window.resize(420, 500)
    qtbot.waitUntil(lambda: len(crumb.hidden_folders()) == 7)
    last = crumb.buttons()[-1]
    qtbot.waitUntil(lambda: last.text() != names_[-1])
    assert "…" in last.text()
    right = max(w.geometry().right() for w in crumb.findChildren(QWidget) if w.isVisible())
    assert right <= crumb.width()


def test_breadcrumb_and_history(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    vault.makedirs("/Photos/2024/Summer")
    photos = vault.resolve_folder("/Photos")
    year = vault.resolve_folder("/Photos/2024")
    summer = vault.resolve_folder("/Photos/2024/Summer")
    window = open_window(qtbot, vault, active=True)
    assert not window.back_action.isEnabled()
    assert not window.forward_action.isEnabled()
    assert not window.up_action.isEnabled()

    # Double-clicks go down, like a file manager.
    window.set_view_mode(LIST)
    for name, folder in (("Photos", photos), ("2024", year), ("Summer", summer)):
        row = names(window.model).index(name)
        rect = window.view.visualRect(window.model.index(row, 0))
        qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        listed(qtbot, window)
        assert window.model.folder_id == folder
    _wait_trail(qtbot, window, ["Vault", "Photos", "2024", "Summer"])
    assert window.back_action.isEnabled() and window.up_action.isEnabled()
    assert window.windowTitle() == "Summer — Media Vault"
    assert window.view.placeholder_text.startswith("This folder is empty.")
    shot(window, "main-window-breadcrumb")

    # A crumb goes there (and counts as a visit); the tree follows.
    photos_crumb = window.breadcrumb.buttons()[1]
    qtbot.mouseClick(photos_crumb, Qt.MouseButton.LeftButton)
    listed(qtbot, window)
    assert window.model.folder_id == photos
    _wait_trail(qtbot, window, ["Vault", "Photos"])
    qtbot.waitUntil(lambda: window.tree.currentIndex().data(TreeRole.FOLDER_ID) == photos)
    assert window.tree.selectionModel().isSelected(window.tree.currentIndex())

    # The toolbar's buttons.
    window.back_action.trigger()
    listed(qtbot, window)
    assert window.model.folder_id == summer
    assert window.forward_action.isEnabled()
    window.forward_action.trigger()
    listed(qtbot, window)
    assert window.model.folder_id == photos
    assert not window.forward_action.isEnabled()

    # The keys: Alt+Left, Alt+Right, Alt+Up.
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    listed(qtbot, window)
    assert window.model.folder_id == summer
    _wait_trail(qtbot, window, ["Vault", "Photos", "2024", "Summer"])
    qtbot.keyClick(window.view, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    listed(qtbot, window)
    assert window.model.folder_id == year
    _wait_trail(qtbot, window, ["Vault", "Photos", "2024"])
    qtbot.keyClick(window.view, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    listed(qtbot, window)
    assert window.model.folder_id == summer
    qtbot.keyClick(window.view, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    listed(qtbot, window)
    assert window.model.folder_id == year
    # Up from the top does nothing.
    window.open_folder(vault.root_id)
    listed(qtbot, window)
    _wait_trail(qtbot, window, ["Vault"])
    assert not window.up_action.isEnabled()
    qtbot.keyClick(window.view, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert window.model.folder_id == vault.root_id


# -- grid and list ---------------------------------------------------------------------------


def test_view_switching_keeps_one_selection(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    _fill(vault, tmp_path)
    window = open_window(qtbot, vault, active=True)
    window.set_view_mode(LIST)
    assert window.current_view() is window.view
    assert window.grid.selectionModel() is window.view.selectionModel()

    # A click and a Ctrl+click in the list.
    view = window.view
    for row, modifier in (
        (1, Qt.KeyboardModifier.NoModifier),
        (4, Qt.KeyboardModifier.ControlModifier),
    ):
        rect = view.visualRect(window.model.index(row, Column.KIND))
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())
    assert _selected_rows(view) == [1, 4]
    assert window._selection_label.text().startswith("2 selected")

    qtbot.keyClick(view, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentIndex() == GRID
    assert window.current_view() is window.grid
    assert window.grid_action.isChecked() and not window.list_action.isChecked()
    qtbot.waitUntil(window.size_slider.isVisible)  # the toolbar lays out later
    assert _selected_rows(window.grid) == [1, 4]
    shot(window, "main-window-grid-selection")

    qtbot.keyClick(window.grid, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentIndex() == LIST
    assert window.list_action.isChecked()
    qtbot.waitUntil(lambda: not window.size_slider.isVisible())
    assert _selected_rows(window.view) == [1, 4]

    # The toolbar's actions do the same.
    window.grid_action.trigger()
    assert window.stack.currentIndex() == GRID
    rect = window.grid.visualRect(window.model.index(2, 0))
    qtbot.mouseClick(window.grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    window.list_action.trigger()
    assert window.stack.currentIndex() == LIST
    assert _selected_rows(window.view) == [2]
    # A click in the grid selects the whole row, as the list does.
    assert window.view.selectionModel().isRowSelected(2)
    assert [i.name for i in window.selected_items()] == ["Photos"]
    assert window._selection_label.text() == "1 selected"


def _distinct_colors(image: Any) -> int:
    colors = set()
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            colors.add(image.pixel(x, y))
    return len(colors)


def test_grid_thumbnails_and_size_slider(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    _import(
        vault,
        vault.root_id,
        corpus_path() / "images" / "flower.jpg",
        corpus_path() / "media" / "example.opus",
    )
    window = open_window(qtbot, vault, active=True)
    window.set_view_mode(GRID)
    model, grid = window.model, window.grid
    assert names(model) == ["example.opus", "flower.jpg"]
    photo, sound = model.index(1, 0), model.index(0, 0)
    # The provider answers later for the photo; its ready signal repaints the cell.
    qtbot.waitUntil(lambda: isinstance(photo.data(ItemRole.THUMBNAIL), QPixmap), timeout=30_000)
    thumb = photo.data(ItemRole.THUMBNAIL)
    assert not thumb.isNull()
    assert max(thumb.width(), thumb.height()) == round(GRID_DEFAULT * thumb.devicePixelRatio())
    assert sound.data(ItemRole.THUMBNAIL) is None  # audio: the kind icon

    def cell(index: QModelIndex) -> Any:
        return grid.viewport().grab(grid.visualRect(index)).toImage()

    # A photo has far more colours than a kind icon.
    qtbot.waitUntil(lambda: _distinct_colors(cell(photo)) > 300, timeout=WAIT)
    assert _distinct_colors(cell(sound)) < 300
    shot(window, "main-window-grid")

    assert grid.gridSize().width() == GRID_DEFAULT + 28
    window.size_slider.setValue(256)
    assert grid.thumbnail_size == 256
    assert grid.gridSize().width() == 256 + 28
    assert grid.visualRect(photo).width() == 256 + 28
    assert model.thumbnail_size == 256
    # A bigger thumbnail is made for the new size.
    qtbot.waitUntil(
        lambda: (
            isinstance(photo.data(ItemRole.THUMBNAIL), QPixmap)
            and photo.data(ItemRole.THUMBNAIL).width() > thumb.width()
        ),
        timeout=30_000,
    )
    window.size_slider.setValue(10)  # clamped to the slider's range
    assert grid.thumbnail_size == window.size_slider.minimum()


def test_list_columns_fit_the_window(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    _fill(vault, tmp_path)
    window = open_window(qtbot, vault, active=True)
    window.set_view_mode(LIST)
    view, header = window.view, window.view.horizontalHeader()
    metrics = view.fontMetrics()
    for column in (Column.KIND, Column.SIZE, Column.MODIFIED, Column.SYNC):
        for row in range(window.model.rowCount()):
            text = str(window.model.index(row, column).data())
            assert metrics.horizontalAdvance(text) + 18 <= header.sectionSize(column), text
    # Wide: Name takes what the others leave. Narrow: it keeps a readable width.
    floor = view.name_floor()
    assert floor >= metrics.averageCharWidth() * NAME_MIN_CHARS + 16  # the icon too
    window.resize(1440, 600)
    window.splitter.setSizes([200, 940, 300])
    qtbot.waitUntil(lambda: header.length() == view.viewport().width())
    assert header.sectionSize(Column.NAME) > floor
    shot(window, "main-window-list")
    window.splitter.setSizes([200, 400, 840])
    qtbot.waitUntil(lambda: header.sectionSize(Column.NAME) == floor)
    assert header.length() > view.viewport().width()  # the rest scrolls sideways
    window.splitter.setSizes([200, 940, 300])
    qtbot.waitUntil(lambda: header.length() == view.viewport().width())


# -- sorting -------------------------------------------------------------------------------


def _sortable(vault: Vault, tmp_path: Path) -> tuple[int, int]:
    """Two folders of the same real files with distinct names, sizes, dates and kinds."""
    a = vault.makedirs("/A")
    b = vault.makedirs("/B")
    specs = [
        ("delta.txt", "text/chardet-Big5-ude_1.txt", 1_600_000_000),  # 743 bytes
        ("Alpha.pdf", "pdf/crazyones.pdf", 1_700_000_000),  # 11,448 bytes
        ("charlie.jpg", "images/flower.jpg", 1_500_000_000),  # 32,764 bytes
        ("bravo.mp3", "media/xing.mp3", 1_650_000_000),  # 8,208 bytes
    ]
    for folder, tag in ((a, "a"), (b, "b")):
        source = tmp_path / tag
        source.mkdir()
        for name, corpus_name, mtime in specs:
            path = source / name  # a renamed copy in tmp_path: the name decides the order
            shutil.copyfile(corpus_path() / corpus_name, path)
            os.utime(path, (mtime, mtime))
        _import(vault, folder, *sorted(source.iterdir()))
    return a, b


SORTED = {
    Column.NAME: ["Alpha.pdf", "bravo.mp3", "charlie.jpg", "delta.txt"],
    Column.SIZE: ["delta.txt", "bravo.mp3", "Alpha.pdf", "charlie.jpg"],
    Column.MODIFIED: ["charlie.jpg", "delta.txt", "bravo.mp3", "Alpha.pdf"],
}


def _click_header(qtbot: QtBot, window: MainWindow, column: Column) -> None:
    header = window.view.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(
        header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2)
    )
    listed(qtbot, window)


def test_header_sorts_through_the_catalog(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    a, b = _sortable(vault, tmp_path)
    window = open_window(qtbot, vault, active=True)
    window.set_view_mode(LIST)
    window.open_folder(a)
    listed(qtbot, window)
    header = window.view.horizontalHeader()
    kinds = {name: window.model.item(r).kind for r, name in enumerate(names(window.model))}
    expected = dict(SORTED)
    expected[Column.KIND] = sorted(SORTED[Column.NAME], key=lambda n: (kinds[n], n.casefold()))
    assert kinds == {
        "Alpha.pdf": "document",
        "bravo.mp3": "audio",
        "charlie.jpg": "image",
        "delta.txt": "document",
    }

    for column, ascending in expected.items():
        _click_header(qtbot, window, column)
        if header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder:
            _click_header(qtbot, window, column)
        assert header.sortIndicatorSection() == column
        assert header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
        assert names(window.model) == ascending, column
        _click_header(qtbot, window, column)
        assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
        assert names(window.model) == ascending[::-1], column

    # The order stays when another folder opens (by the tree or the history).
    _click_header(qtbot, window, Column.SIZE)
    _click_header(qtbot, window, Column.SIZE)
    assert window.model.sort_order == Sort("size", descending=True)
    window.open_folder(b)
    listed(qtbot, window)
    assert window.model.sort_order == Sort("size", descending=True)
    assert names(window.model) == SORTED[Column.SIZE][::-1]
    assert header.sortIndicatorSection() == Column.SIZE
    window.go_back()
    listed(qtbot, window)
    assert names(window.model) == SORTED[Column.SIZE][::-1]

    # Tags and Backup are not sortable: the order and the indicator stay.
    for column in (Column.TAGS, Column.SYNC):
        _click_header(qtbot, window, column)
        assert window.model.sort_order == Sort("size", descending=True)
        assert header.sortIndicatorSection() == Column.SIZE
        assert names(window.model) == SORTED[Column.SIZE][::-1]
    shot(window, "main-window-list-sorted")


# -- filters ----------------------------------------------------------------------------------


def test_type_and_favorites_filters(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    a, _b = _sortable(vault, tmp_path)
    window = open_window(qtbot, vault, active=True)
    window.open_folder(a)
    listed(qtbot, window)
    labels = [label for label, _kinds in TYPE_FILTERS]

    def choose(label: str) -> list[str]:
        window.type_filter.setCurrentIndex(labels.index(label))
        listed(qtbot, window)
        return names(window.model)

    assert choose("Images") == ["charlie.jpg"]
    assert choose("Documents") == ["Alpha.pdf", "delta.txt"]
    assert choose("Audio") == ["bravo.mp3"]
    assert choose("Videos") == []
    assert window.view.placeholder_text == "No files match the filters."
    assert window._count_label.text() == "0 items"
    assert choose("All types") == SORTED[Column.NAME]

    vault.set_favorite([vault.require_file("/A/delta.txt")], True)
    qtbot.mouseClick(window.favorites_filter, Qt.MouseButton.LeftButton)
    assert window.favorites_filter.isChecked()
    listed(qtbot, window)
    assert names(window.model) == ["delta.txt"]
    assert choose("Images") == []
    assert window.view.placeholder_text == "No files match the filters."
    shot(window, "main-window-filtered-empty")
    # Filters stay when another folder opens; subfolders are always shown.
    window.open_folder(vault.root_id)
    listed(qtbot, window)
    assert names(window.model) == ["A", "B"]
    qtbot.mouseClick(window.favorites_filter, Qt.MouseButton.LeftButton)
    assert choose("All types") == ["A", "B"]


# -- search ------------------------------------------------------------------------------------


def test_search_is_debounced_and_escape_returns(
    qtbot: QtBot, vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(vault, tmp_path)
    photos = vault.resolve_folder("/Photos")
    vault.describe_file(vault.require_file("/budget.csv"), "the quarterly budget of the club")
    searches: list[str] = []
    lock = threading.Lock()
    browse_page = vault.browse_page

    def counting(source: Source, *args: Any, **kwargs: Any) -> Any:
        if source.kind == "search":
            with lock:
                searches.append(source.query)
        return browse_page(source, *args, **kwargs)

    monkeypatch.setattr(vault, "browse_page", counting)
    window = open_window(qtbot, vault, active=True)
    window.set_view_mode(LIST)
    window.open_folder(photos)
    listed(qtbot, window)

    # Ctrl+F from the list focuses the field.
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.search_field.hasFocus()

    qtbot.keyClicks(window.search_field, "quarterly")
    assert window._search_timer.isActive()
    assert searches == []  # nothing yet: the user is typing
    qtbot.waitUntil(
        lambda: window.model.source == Source.search("quarterly") and not window.model.loading,
        timeout=SEARCH_DELAY_MS + WAIT,
    )
    assert not window._search_timer.isActive()
    assert searches == ["quarterly"]
    assert sorted(names(window.model)) == ["budget.csv", "notes.txt"]
    assert not window.view.isColumnHidden(Column.MATCH)
    assert window.model.headerData(Column.MATCH, Qt.Orientation.Horizontal) == "Found in"
    found = {
        window.model.item(r).name: window.model.index(r, Column.MATCH).data()
        for r in range(window.model.rowCount())
    }
    assert found["budget.csv"].startswith("description: ")
    assert "[quarterly]" in found["budget.csv"]
    assert found["notes.txt"].startswith("content: ")
    assert "[quarterly]" in found["notes.txt"]
    assert window.breadcrumb.trail == []
    assert "quarterly" in window.windowTitle()
    assert not window.tree.selectionModel().hasSelection()  # no tree node lists results
    window.resize(1100, 500)
    shot(window, "main-window-search")

    # Nothing found says so.
    window.search_field.clear()
    qtbot.keyClicks(window.search_field, "zebrafish")
    qtbot.waitUntil(
        lambda: window.model.source == Source.search("zebrafish") and not window.model.loading,
        timeout=SEARCH_DELAY_MS + WAIT,
    )
    assert window.model.rowCount() == 0
    assert window.view.placeholder_text == "Nothing matches."

    # Escape clears it and returns to where the user was; Back does not revisit searches.
    qtbot.keyClick(window.search_field, Qt.Key.Key_Escape)
    assert window.search_field.text() == ""
    listed(qtbot, window)
    assert window.model.source == Source.folder(photos)
    assert window.view.isColumnHidden(Column.MATCH)
    _wait_trail(qtbot, window, ["Vault", "Photos"])
    assert window.tree.currentIndex().data(TreeRole.FOLDER_ID) == photos
    assert searches == ["quarterly", "zebrafish"]
    window.go_back()
    listed(qtbot, window)
    assert window.model.source == Source.folder(vault.root_id)


# -- inline rename -----------------------------------------------------------------------------


def _editor(view: QAbstractItemView) -> QLineEdit | None:
    editors = [e for e in view.findChildren(QLineEdit) if e.isVisible()]
    return editors[0] if editors else None


def _renaming_notes(
    qtbot: QtBot, vault: Vault, tmp_path: Path, mode: int
) -> tuple[MainWindow, QAbstractItemView, int]:
    """A window in ``mode`` with F2 pressed on notes.txt: the window, its view, the row."""
    _fill(vault, tmp_path)
    window = open_window(qtbot, vault, active=True)
    window.set_view_mode(mode)
    view = window.current_view()
    row = names(window.model).index("notes.txt")
    _select_rows(window, row)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_F2)
    return window, view, row


@pytest.mark.parametrize("mode", [LIST, GRID])
def test_a_cell_changing_keeps_the_name_being_typed(
    qtbot: QtBot, vault: Vault, tmp_path: Path, mode: int
) -> None:
    """Qt hands an open editor the cell's data again when the cell changes (a thumbnail
    arriving): what the user is typing stays."""
    window, view, row = _renaming_notes(qtbot, vault, tmp_path, mode)
    editor = _editor(view)
    assert editor is not None
    editor.selectAll()
    qtbot.keyClicks(editor, "minutes")
    name_cell = window.model.index(row, Column.NAME)
    window.model.dataChanged.emit(name_cell, name_cell, [ItemRole.THUMBNAIL])
    assert editor.text() == "minutes"
    qtbot.keyClick(editor, Qt.Key.Key_Escape)


@pytest.mark.parametrize("mode", [LIST, GRID])
def test_inline_rename_checks_the_naming_rules(
    qtbot: QtBot, vault: Vault, tmp_path: Path, mode: int
) -> None:
    window, view, row = _renaming_notes(qtbot, vault, tmp_path, mode)
    assert view.state() == QAbstractItemView.State.EditingState
    editor = _editor(view)
    assert editor is not None and editor.text() == "notes.txt"
    # As in Finder: the name is selected without its extension.
    qtbot.waitUntil(lambda: editor.selectedText() == "notes")

    for bad in ("a/b", "CON", "report."):
        editor = _editor(view)
        assert editor is not None
        editor.selectAll()
        with qtbot.waitSignal(window.model.rename_failed, timeout=WAIT) as refused:
            qtbot.keyClicks(editor, bad)
            qtbot.keyClick(editor, Qt.Key.Key_Return)
        message = refused.args[1]
        assert message and isinstance(message, str)
        assert refused.args[2] == bad
        # The editor opens again on the same row, with the refused name to correct,
        # and the message shows by it.
        qtbot.waitUntil(lambda: view.state() == QAbstractItemView.State.EditingState)
        assert view.currentIndex().row() == row
        editor = _editor(view)
        assert editor is not None and editor.text() == bad
        assert names(window.model)[row] == "notes.txt"
        qtbot.waitUntil(QToolTip.isVisible)
        assert QToolTip.text() == message
    assert vault.require_file("/notes.txt")
    shot(window, f"main-window-rename-refused-{mode}")

    editor = _editor(view)
    assert editor is not None
    editor.selectAll()
    with qtbot.waitSignal(window.model.renamed, timeout=WAIT):
        qtbot.keyClicks(editor, "minutes.txt")
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert window.model.item(row).name == "minutes.txt"
    file_id = vault.require_file("/minutes.txt")
    assert window.model.item(row).id == file_id

    # A name taken by a sibling: refused by the vault (in the background), shown the same way.
    qtbot.waitUntil(lambda: view.state() != QAbstractItemView.State.EditingState)
    _select_rows(window, row)
    qtbot.keyClick(view, Qt.Key.Key_F2)
    editor = _editor(view)
    assert editor is not None
    editor.selectAll()
    with qtbot.waitSignal(window.model.rename_failed, timeout=WAIT) as refused:
        qtbot.keyClicks(editor, "BUDGET.csv")
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert "budget" in refused.args[1].lower()
    qtbot.waitUntil(lambda: view.state() == QAbstractItemView.State.EditingState)
    assert vault.require_file("/minutes.txt") == file_id


def test_selection_stays_after_a_change(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    _fill(vault, tmp_path)
    window = open_window(qtbot, vault, active=True)
    window.set_view_mode(LIST)
    shown = names(window.model)
    _select_rows(window, shown.index("budget.csv"), shown.index("notes.txt"))
    window.file_actions.add_favorite.trigger()  # a change: the list is listed again
    qtbot.waitUntil(
        lambda: any(i.name == "notes.txt" and i.is_favorite for i in window.model.items()),
        timeout=WAIT,
    )
    listed(qtbot, window)
    assert [i.name for i in window.selected_items()] == ["budget.csv", "notes.txt"]
    assert window._selection_label.text().startswith("2 selected")
    # A finished import refreshes too, keeping it.
    (tmp_path / "more.txt").write_text("more\n", encoding="utf-8")
    window.transfers.start_import([tmp_path / "more.txt"], vault.root_id)
    qtbot.waitUntil(lambda: "more.txt" in names(window.model), timeout=WAIT)
    listed(qtbot, window)
    assert [i.name for i in window.selected_items()] == ["budget.csv", "notes.txt"]
    # Another place starts with nothing selected.
    window.open_folder(vault.resolve_folder("/Music"))
    listed(qtbot, window)
    assert window.selected_items() == []


# -- the Trash -------------------------------------------------------------------------------


def test_delete_to_trash_and_restore(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    _fill(vault, tmp_path)
    notes = vault.require_file("/notes.txt")
    window = open_window(qtbot, vault, active=True)
    window.set_view_mode(LIST)
    _select_rows(window, names(window.model).index("notes.txt"))
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: "notes.txt" not in names(window.model), timeout=WAIT)
    listed(qtbot, window)
    assert "Trash" in window.statusBar().currentMessage()

    _click_tree(qtbot, window, _tree_index(qtbot, window, NodeKind.TRASH))
    assert names(window.model) == ["notes.txt"]
    item = window.model.item(0)
    assert item.trash_entry_id is not None and item.where == "/"
    assert window.windowTitle() == "Trash — Media Vault"
    shot(window, "main-window-trash")
    _select_rows(window, 0)
    window.file_actions.restore.trigger()
    qtbot.waitUntil(lambda: window.model.rowCount() == 0 and not window.model.loading, timeout=WAIT)
    assert window.view.placeholder_text == "The Trash is empty."
    assert vault.require_file("/notes.txt") == notes

    _click_tree(qtbot, window, _tree_index(qtbot, window, NodeKind.VAULT))
    assert "notes.txt" in names(window.model)


# -- state ---------------------------------------------------------------------------------------


def test_state_is_restored(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    a, _b = _sortable(vault, tmp_path)
    first = open_window(qtbot, vault, active=True)
    first.resize(760, 560)  # the offscreen screen is 800 pixels wide
    first.splitter.setSizes([180, 500, 330])
    sizes = first.splitter.sizes()
    first.set_view_mode(LIST)
    first.size_slider.setValue(200)
    first.open_folder(a)
    listed(qtbot, first)
    _click_header(qtbot, first, Column.SIZE)
    if first.model.sort_order != Sort("size", descending=True):
        _click_header(qtbot, first, Column.SIZE)
    assert first.model.sort_order == Sort("size", descending=True)
    # A look at the Trash before closing: the last folder is what comes back.
    first.open_source(Source.trash())
    listed(qtbot, first)
    assert first.close()
    assert (vault.paths.config / "window.ini").is_file()

    second = open_window(qtbot, vault, active=True)
    assert second.size().width() == 760 and second.size().height() == 560
    assert second.splitter.sizes() == sizes
    assert second.stack.currentIndex() == LIST
    assert second.list_action.isChecked()
    assert second.size_slider.value() == 200
    assert second.grid.thumbnail_size == 200
    assert second.model.folder_id == a
    assert second.model.sort_order == Sort("size", descending=True)
    assert names(second.model) == SORTED[Column.SIZE][::-1]
    header = second.view.horizontalHeader()
    assert header.sortIndicatorSection() == Column.SIZE
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    _wait_trail(qtbot, second, ["Vault", "A"])
    qtbot.waitUntil(lambda: second.tree.currentIndex().data(TreeRole.FOLDER_ID) == a, timeout=WAIT)


def test_state_survives_a_deleted_last_folder(qtbot: QtBot, vault: Vault) -> None:
    gone = vault.makedirs("/Gone")
    first = open_window(qtbot, vault, active=True)
    first.open_folder(gone)
    listed(qtbot, first)
    assert first.close()
    vault.delete_folder(gone)
    second = open_window(qtbot, vault, active=True)
    qtbot.waitUntil(lambda: second.model.folder_id == vault.root_id, timeout=WAIT)
    listed(qtbot, second)
    assert not [w for w in second.findChildren(QMessageBox) if w.isVisible()]


def test_folder_deleted_while_shown(
    qtbot: QtBot, vault: Vault, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _fill(vault, tmp_path)
    photos = vault.resolve_folder("/Photos")
    window = open_window(qtbot, vault, active=True)
    window.open_folder(vault.resolve_folder("/Music"))
    listed(qtbot, window)
    window.open_folder(photos)
    listed(qtbot, window)
    _wait_trail(qtbot, window, ["Vault", "Photos"])

    vault.delete_folder(photos)  # elsewhere: another window, the CLI
    window.refresh()
    # To the top, with a message; not to the folder next to it in the tree.
    qtbot.waitUntil(lambda: window.model.folder_id == vault.root_id, timeout=WAIT)
    listed(qtbot, window)
    assert window.statusBar().currentMessage()
    assert "Traceback" not in window.statusBar().currentMessage()
    assert not [w.text() for w in window.findChildren(QMessageBox) if w.isVisible()]
    assert "Photos" not in names(window.model)
    _wait_trail(qtbot, window, ["Vault"])
    assert not [r for r in caplog.records if r.exc_info]
    vault_node = window.tree_model.place_index(NodeKind.VAULT)
    qtbot.waitUntil(lambda: window.tree.currentIndex() == vault_node, timeout=WAIT)
    # Back skips the folder that is gone.
    window.go_back()
    listed(qtbot, window)
    assert window.model.folder_id == vault.resolve_folder("/Music")


def test_unknown_folder_goes_to_the_top(qtbot: QtBot, vault: Vault) -> None:
    window = open_window(qtbot, vault, active=True)
    window.open_folder(987_654)  # no such folder: the vault raises NotFound
    qtbot.waitUntil(lambda: window.model.folder_id == vault.root_id, timeout=WAIT)
    listed(qtbot, window)
    assert window.statusBar().currentMessage()


def test_new_preferences_trim_the_cache(qtbot: QtBot, vault: Vault) -> None:
    from dataclasses import replace

    from app.settings import CACHE_MIN

    window = open_window(qtbot, vault, active=True)
    folder = vault.paths.cache / "thumbnails" / "999"
    folder.mkdir(parents=True)
    for n in range(3):  # sparse: big to the cache's count, free on disk
        with open(folder / f"{n}.jpg", "wb") as f:
            f.truncate(CACHE_MIN // 2)
        os.utime(folder / f"{n}.jpg", (1_000_000 + n, 1_000_000 + n))
    window.apply_preferences(replace(window.preferences, cache_bytes=CACHE_MIN))
    qtbot.waitUntil(lambda: sorted(p.name for p in folder.iterdir()) == ["1.jpg", "2.jpg"])


def test_the_selection_size_goes_when_another_place_opens(
    qtbot: QtBot, vault: Vault, tmp_path: Path
) -> None:
    _fill(vault, tmp_path)
    window = open_window(qtbot, vault, active=True)
    row = next(r for r in range(window.model.rowCount()) if not window.model.item(r).is_folder)
    item = window.model.item(row)
    assert window.select_item(item.id, False)
    assert window._selection_label.text().startswith("1 selected")
    window.open_source(Source.trash())
    qtbot.waitUntil(lambda: not window.model.loading)
    assert window._selection_label.text() == ""
