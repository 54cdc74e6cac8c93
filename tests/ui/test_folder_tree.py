"""The folder tree over a real vault in a temporary directory."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QModelIndex, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QWidget,
)
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from app.browse import Source
from app.errors import InvalidName
from app.naming import numbered, validate
from app.vault import Vault
from ui.folder_tree import (
    NEW_FOLDER_NAME,
    DropIntent,
    DropRequest,
    FolderTree,
    FolderTreeModel,
    NodeKind,
    Place,
    TreeRole,
    items_mime_data,
)
from ui.tasks import TaskManager

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PLACES = ["Vault", "All files", "Favorites", "Recent", "Tags", "Shared", "Trash"]
WAIT = 10_000


@pytest.fixture
def tasks(qapp: QApplication) -> Iterator[TaskManager]:
    manager = TaskManager(max_threads=1, name="test-tree")
    yield manager
    manager.shutdown()


@pytest.fixture
def model(vault: Vault, tasks: TaskManager) -> FolderTreeModel:
    return FolderTreeModel(vault, tasks)


def _names(model: FolderTreeModel, parent: QModelIndex = QModelIndex()) -> list[str]:  # noqa: B008
    return [model.index(row, 0, parent).data() for row in range(model.rowCount(parent))]


def _child(model: FolderTreeModel, parent: QModelIndex, name: str) -> QModelIndex:
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        if index.data() == name:
            return index
    raise AssertionError(f"{name!r} not under {parent.data()!r}: {_names(model, parent)}")


def _idle(qtbot: QtBot, model: FolderTreeModel, index: QModelIndex) -> None:
    """Wait until nothing is under way for ``index``'s children."""
    qtbot.waitUntil(
        lambda: not model.is_loading(index) and not model.canFetchMore(index), timeout=WAIT
    )


def _loaded(qtbot: QtBot, model: FolderTreeModel) -> QModelIndex:
    """Load the model; the Vault node's index once its folders and the tags are in."""
    model.load()
    vault_index = model.place_index(NodeKind.VAULT)
    _idle(qtbot, model, vault_index)
    _idle(qtbot, model, model.place_index(NodeKind.TAGS))
    return vault_index


def _expand(qtbot: QtBot, model: FolderTreeModel, index: QModelIndex) -> None:
    """What a view does on expanding ``index`` (a model tester may have done it already)."""
    if model.canFetchMore(index):
        model.fetchMore(index)
    _idle(qtbot, model, index)


def _add_tags(vault: Vault, tmp_path: Path, tags: dict[str, int]) -> None:
    """Tags by SQL (the tag API comes later), each on its number of imported files."""
    source = tmp_path / "tagged"
    source.mkdir()
    for n in range(max(tags.values(), default=0)):
        (source / f"file-{n}.txt").write_text(f"file {n}\n", encoding="utf-8")
    vault.import_paths(sorted(source.iterdir()), vault.root_id)
    with vault.writing() as session:
        file_ids = [
            r[0] for r in session.execute(text("SELECT id FROM file ORDER BY name_key")).all()
        ]
        for name, count in tags.items():
            tag_id = session.execute(
                text("INSERT INTO tag (name, name_key, color) VALUES (:n, :k, :c) RETURNING id"),
                {"n": name, "k": name.casefold(), "c": "#d9534f" if name == "Family" else ""},
            ).scalar_one()
            for file_id in file_ids[:count]:
                session.execute(
                    text("INSERT INTO file_tag (file_id, tag_id) VALUES (:f, :t)"),
                    {"f": file_id, "t": tag_id},
                )


def _file_mime(*paths: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


# -- the model -----------------------------------------------------------------


def test_places_in_order(model: FolderTreeModel, vault: Vault) -> None:
    assert _names(model) == PLACES
    kinds = [model.index(row, 0).data(TreeRole.KIND) for row in range(model.rowCount())]
    assert kinds == [
        NodeKind.VAULT,
        NodeKind.ALL_FILES,
        NodeKind.FAVORITES,
        NodeKind.RECENT,
        NodeKind.TAGS,
        NodeKind.SHARED,
        NodeKind.TRASH,
    ]
    vault_index = model.index(0, 0)
    assert vault_index.data(TreeRole.FOLDER_ID) == vault.root_id
    assert vault_index.data(TreeRole.SOURCE) == Place(NodeKind.VAULT, vault.root_id, "Vault")
    assert model.hasChildren(vault_index)  # before anything is listed
    assert model.rowCount(vault_index) == 0
    assert model.canFetchMore(vault_index)
    for row in range(model.rowCount()):
        assert model.index(row, 0).data(Qt.ItemDataRole.DecorationRole) is not None
    # Only real folders can be renamed; the top of the vault cannot.
    assert not model.flags(vault_index) & Qt.ItemFlag.ItemIsEditable
    assert model.setData(vault_index, "Renamed") is False


def test_lazy_children(qtbot: QtBot, model: FolderTreeModel, vault: Vault) -> None:
    photos = vault.mkdir(vault.root_id, "Photos").created[0]
    year = vault.mkdir(photos, "2023").created[0]
    vault.mkdir(year, "Summer")
    vault.mkdir(vault.root_id, "Documents")

    vault_index = _loaded(qtbot, model)
    assert _names(model, vault_index) == ["Documents", "Photos"]
    photos_index = _child(model, vault_index, "Photos")
    documents = _child(model, vault_index, "Documents")
    # The arrow shows without listing grandchildren.
    assert model.hasChildren(photos_index)
    assert model.rowCount(photos_index) == 0
    assert model.canFetchMore(photos_index)
    assert not model.hasChildren(documents)

    with qtbot.waitSignal(model.rowsInserted, timeout=WAIT):
        model.fetchMore(photos_index)
    _idle(qtbot, model, photos_index)
    assert _names(model, photos_index) == ["2023"]
    year_index = _child(model, photos_index, "2023")
    assert year_index.data(TreeRole.FOLDER_ID) == year
    assert year_index.parent() == photos_index
    assert model.hasChildren(year_index)
    assert model.rowCount(year_index) == 0
    _expand(qtbot, model, year_index)
    assert _names(model, year_index) == ["Summer"]
    assert not model.hasChildren(_child(model, year_index, "Summer"))
    assert model.folder_index(year) == year_index


def test_model_tester_while_expanding(
    qtbot: QtBot, qtmodeltester: ModelTester, model: FolderTreeModel, vault: Vault, tmp_path: Path
) -> None:
    photos = vault.mkdir(vault.root_id, "Photos").created[0]
    for name in ("2021", "2022", "2023"):
        vault.mkdir(photos, name)
    vault.mkdir(vault.root_id, "Music")
    _add_tags(vault, tmp_path, {"Family": 2, "Work": 1})

    # Checks now, then on every signal the model sends from here on.
    qtmodeltester.check(model, force_py=True)  # type: ignore[no-untyped-call]
    vault_index = _loaded(qtbot, model)
    photos_index = _child(model, vault_index, "Photos")
    _expand(qtbot, model, photos_index)
    assert _names(model, photos_index) == ["2021", "2022", "2023"]

    # A rename that moves a row, an outside delete and an outside mkdir.
    assert model.setData(_child(model, photos_index, "2021"), "2030")
    qtbot.waitUntil(lambda: _names(model, photos_index) == ["2022", "2023", "2030"], timeout=WAIT)
    vault.delete_folder(vault.resolve_folder("/Photos/2022"))
    vault.mkdir(photos, "1999")
    model.refresh(photos)
    qtbot.waitUntil(lambda: _names(model, photos_index) == ["1999", "2023", "2030"], timeout=WAIT)
    _idle(qtbot, model, photos_index)
    qtmodeltester.check(model, force_py=True)  # type: ignore[no-untyped-call]


def test_tag_nodes(qtbot: QtBot, model: FolderTreeModel, vault: Vault, tmp_path: Path) -> None:
    _add_tags(vault, tmp_path, {"Work": 1, "Family": 3, "archive": 0})
    _loaded(qtbot, model)
    tags_index = model.place_index(NodeKind.TAGS)
    assert _names(model, tags_index) == ["archive", "Family", "Work"]
    family = _child(model, tags_index, "Family")
    assert family.data(TreeRole.KIND) == NodeKind.TAG
    assert family.data(TreeRole.FILE_COUNT) == 3
    assert family.data(TreeRole.FOLDER_ID) is None
    tag_id = family.data(TreeRole.TAG_ID)
    assert isinstance(tag_id, int)
    assert family.data(TreeRole.SOURCE) == Place(NodeKind.TAG, tag_id, "Family")
    assert family.data(Qt.ItemDataRole.ToolTipRole) == "Family: 3 files"
    assert not model.hasChildren(family)
    assert model.flags(family) & Qt.ItemFlag.ItemIsEditable  # renamed inline, as folders are
    assert family.data(TreeRole.COLOR) == "#d9534f"

    # A tag deleted behind the model's back goes on refresh_tags, exactly one row.
    with vault.writing() as session:
        session.execute(text("DELETE FROM tag WHERE name = 'Work'"))
    with qtbot.waitSignal(model.rowsRemoved, timeout=WAIT) as removed:
        model.refresh_tags()
    assert removed.args[1:] == [2, 2]
    assert _names(model, tags_index) == ["archive", "Family"]


def test_no_tags_is_an_empty_state(qtbot: QtBot, model: FolderTreeModel) -> None:
    _loaded(qtbot, model)
    tags_index = model.place_index(NodeKind.TAGS)
    assert model.rowCount(tags_index) == 0
    assert not model.hasChildren(tags_index)
    assert "No tags yet" in tags_index.data(Qt.ItemDataRole.ToolTipRole)


def test_rename(qtbot: QtBot, model: FolderTreeModel, vault: Vault) -> None:
    for name in ("Alpha", "Beta", "Gamma"):
        vault.mkdir(vault.root_id, name)
    vault_index = _loaded(qtbot, model)
    alpha = _child(model, vault_index, "Alpha")
    folder_id = alpha.data(TreeRole.FOLDER_ID)
    assert model.flags(alpha) & Qt.ItemFlag.ItemIsEditable
    assert alpha.data(Qt.ItemDataRole.EditRole) == "Alpha"

    with qtbot.waitSignal(model.rowsMoved, timeout=WAIT):
        assert model.setData(alpha, "Zulu") is True
    qtbot.waitUntil(lambda: _names(model, vault_index) == ["Beta", "Gamma", "Zulu"], timeout=WAIT)
    assert vault.resolve_folder("/Zulu") == folder_id
    assert model.folder_index(folder_id).data() == "Zulu"


def test_rename_refused(qtbot: QtBot, model: FolderTreeModel, vault: Vault) -> None:
    for name in ("Beta", "Gamma"):
        vault.mkdir(vault.root_id, name)
    vault_index = _loaded(qtbot, model)
    beta = _child(model, vault_index, "Beta")

    with pytest.raises(InvalidName) as expected:
        validate("a/b")
    with qtbot.waitSignal(model.rename_failed, timeout=WAIT) as failed:
        assert model.setData(beta, "a/b") is False
    assert failed.args[0] == beta
    assert failed.args[1] == expected.value.message
    assert failed.args[2] == "a/b"
    assert "Traceback" not in failed.args[1]

    # Taken (ignoring case): only the catalog knows, so the answer comes later.
    with qtbot.waitSignal(model.rename_failed, timeout=WAIT) as taken:
        assert model.setData(beta, "GAMMA") is True
    assert taken.args[0] == _child(model, vault_index, "Beta")
    assert "already a folder" in taken.args[1]
    _idle(qtbot, model, vault_index)
    assert _names(model, vault_index) == ["Beta", "Gamma"]
    assert vault.resolve_folder("/Beta") == beta.data(TreeRole.FOLDER_ID)


def test_new_folder_twice(qtbot: QtBot, model: FolderTreeModel, vault: Vault) -> None:
    vault.mkdir(vault.root_id, "Photos")
    vault_index = _loaded(qtbot, model)
    made = []
    for _ in range(2):
        with qtbot.waitSignal(model.folder_created, timeout=WAIT) as created:
            assert model.new_folder(vault_index)
        index = created.args[0]
        assert index.parent() == vault_index
        assert model.flags(index) & Qt.ItemFlag.ItemIsEditable
        made.append(index.data())
    second = numbered(NEW_FOLDER_NAME, 2)
    assert made == [NEW_FOLDER_NAME, second]
    assert second == "New folder (2)"  # the vault's "keep both" rule
    assert _names(model, vault_index) == [NEW_FOLDER_NAME, second, "Photos"]
    for name in made:
        vault.resolve_folder(f"/{name}")
    # Not into a place that is not a folder.
    assert model.new_folder(model.place_index(NodeKind.TRASH)) is False


def test_new_folder_in_unlisted_folder(qtbot: QtBot, model: FolderTreeModel, vault: Vault) -> None:
    vault.mkdir(vault.root_id, "Photos")
    vault_index = _loaded(qtbot, model)
    photos = _child(model, vault_index, "Photos")
    assert not model.hasChildren(photos)
    with qtbot.waitSignal(model.folder_created, timeout=WAIT) as created:
        model.new_folder(photos)
    assert created.args[0].parent() == photos
    assert _names(model, photos) == [NEW_FOLDER_NAME]
    assert model.hasChildren(photos)


def test_refresh_inserts_exactly_one_row(
    qtbot: QtBot, model: FolderTreeModel, vault: Vault
) -> None:
    for name in ("Alpha", "Gamma"):
        vault.mkdir(vault.root_id, name)
    vault_index = _loaded(qtbot, model)
    events: list[tuple[str, int, int]] = []
    model.rowsInserted.connect(lambda _p, first, last: events.append(("insert", first, last)))
    model.rowsRemoved.connect(lambda _p, first, last: events.append(("remove", first, last)))
    model.modelReset.connect(lambda: events.append(("reset", -1, -1)))

    vault.mkdir(vault.root_id, "Beta")  # behind the model's back
    with qtbot.waitSignal(model.children_loaded, timeout=WAIT):
        model.refresh(vault.root_id)
    assert events == [("insert", 1, 1)]
    assert _names(model, vault_index) == ["Alpha", "Beta", "Gamma"]

    events.clear()
    vault.delete_folder(vault.resolve_folder("/Alpha"))
    with qtbot.waitSignal(model.children_loaded, timeout=WAIT):
        model.refresh(vault.root_id)
    assert events == [("remove", 0, 0)]
    assert _names(model, vault_index) == ["Beta", "Gamma"]

    # The window hands over what a vault call changed.
    events.clear()
    with qtbot.waitSignal(model.children_loaded, timeout=WAIT):
        model.apply_changes(vault.mkdir(vault.root_id, "Delta"))
    assert events == [("insert", 1, 1)]
    assert _names(model, vault_index) == ["Beta", "Delta", "Gamma"]

    # Nothing changed: no rows move.
    events.clear()
    with qtbot.waitSignal(model.children_loaded, timeout=WAIT):
        model.refresh(vault.root_id)
    assert events == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_refresh_follows_random_changes(
    qtbot: QtBot, qtmodeltester: ModelTester, model: FolderTreeModel, vault: Vault, seed: int
) -> None:
    """Random creates, renames and deletes behind the model's back, several per refresh:
    the rows always end up as the catalog lists them, through exact row signals."""
    rng = random.Random(seed)
    words = ["Ant", "bee", "Cat", "dog", "Eel", "fox", "Gnu", "hen", "Ibis", "jay", "Koi"]
    for word in rng.sample(words, 4):
        vault.mkdir(vault.root_id, word)
    vault_index = _loaded(qtbot, model)
    qtmodeltester.check(model, force_py=True)  # type: ignore[no-untyped-call]
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    for _ in range(12):
        for _ in range(rng.randint(1, 3)):
            listed = vault.list_folder(vault.root_id, limit=0).folders
            free = [w for w in words if w.casefold() not in {f.name.casefold() for f in listed}]
            action = rng.choice(["mkdir", "rename", "delete"] if listed else ["mkdir"])
            if action == "mkdir" and free:
                vault.mkdir(vault.root_id, rng.choice(free))
            elif action == "rename" and free:
                vault.rename_folder(rng.choice(listed).id, rng.choice(free))
            elif action == "delete":
                vault.delete_folder(rng.choice(listed).id)
        with qtbot.waitSignal(model.children_loaded, timeout=WAIT):
            model.refresh(vault.root_id)
        expected = [f.name for f in vault.list_folder(vault.root_id, limit=0).folders]
        assert _names(model, vault_index) == expected
        ids = [
            model.index(r, 0, vault_index).data(TreeRole.FOLDER_ID) for r in range(len(expected))
        ]
        assert ids == [f.id for f in vault.list_folder(vault.root_id, limit=0).folders]
    assert resets == []


def test_folder_gone_while_listing_is_dropped(
    qtbot: QtBot, model: FolderTreeModel, vault: Vault
) -> None:
    photos = vault.mkdir(vault.root_id, "Photos").created[0]
    vault.mkdir(photos, "2023")
    vault_index = _loaded(qtbot, model)
    photos_index = _child(model, vault_index, "Photos")
    vault.delete_folder(photos)
    with qtbot.waitSignal(model.error, timeout=WAIT) as error:
        model.fetchMore(photos_index)
    assert error.args[0] == "That folder no longer exists."
    qtbot.waitUntil(lambda: _names(model, vault_index) == [], timeout=WAIT)


def test_drop_outside_files_on_a_folder(
    qtbot: QtBot, model: FolderTreeModel, vault: Vault, tmp_path: Path
) -> None:
    photos = vault.mkdir(vault.root_id, "Photos").created[0]
    vault_index = _loaded(qtbot, model)
    photos_index = _child(model, vault_index, "Photos")
    picture = tmp_path / "sunset.jpg"
    picture.write_bytes(b"not really a jpeg")
    mime = _file_mime(picture)
    copy = Qt.DropAction.CopyAction

    assert "text/uri-list" in model.mimeTypes()
    assert model.supportedDropActions() & copy
    assert model.canDropMimeData(mime, copy, -1, 0, photos_index)
    with qtbot.waitSignal(model.drop_requested, timeout=WAIT) as dropped:
        assert model.dropMimeData(mime, copy, -1, 0, photos_index)
    request = dropped.args[0]
    assert isinstance(request, DropRequest)
    assert request.intent == DropIntent.IMPORT
    assert request.target_folder_id == photos
    assert request.paths == (picture,)

    # Between Photos' children still means into Photos.
    with qtbot.waitSignal(model.drop_requested, timeout=WAIT) as between:
        assert model.dropMimeData(mime, copy, 0, 0, photos_index)
    assert between.args[0].target_folder_id == photos

    # Places that hold no files of their own refuse drops.
    for kind in (NodeKind.ALL_FILES, NodeKind.RECENT, NodeKind.TAGS, NodeKind.TRASH):
        place = model.place_index(kind)
        assert not model.canDropMimeData(mime, copy, -1, 0, place)
        with qtbot.assertNotEmitted(model.drop_requested):
            assert not model.dropMimeData(mime, copy, -1, 0, place)
    assert not model.canDropMimeData(mime, copy, 1, 0, QModelIndex())
    # A web address is not a file to import.
    web = QMimeData()
    web.setUrls([QUrl("https://example.com/a.jpg")])
    assert not model.canDropMimeData(web, copy, -1, 0, photos_index)


def test_drop_vault_items(qtbot: QtBot, model: FolderTreeModel, vault: Vault) -> None:
    photos = vault.mkdir(vault.root_id, "Photos").created[0]
    music = vault.mkdir(vault.root_id, "Music").created[0]
    vault_index = _loaded(qtbot, model)
    photos_index = _child(model, vault_index, "Photos")
    move, copy = Qt.DropAction.MoveAction, Qt.DropAction.CopyAction
    items = items_mime_data(file_ids=[7, 8], folder_ids=[music])

    def dropped(mime: QMimeData, action: Qt.DropAction, target: QModelIndex) -> DropRequest:
        with qtbot.waitSignal(model.drop_requested, timeout=WAIT) as signal:
            assert model.dropMimeData(mime, action, -1, 0, target)
        request: DropRequest = signal.args[0]
        return request

    moved = dropped(items, move, photos_index)
    assert (moved.intent, moved.target_folder_id) == (DropIntent.MOVE, photos)
    assert (moved.file_ids, moved.folder_ids) == ((7, 8), (music,))
    assert dropped(items, copy, photos_index).intent == DropIntent.COPY

    trashed = dropped(items, move, model.place_index(NodeKind.TRASH))
    assert trashed.intent == DropIntent.TRASH
    assert trashed.target_folder_id is None
    assert trashed.target.kind == NodeKind.TRASH

    files_only = items_mime_data(file_ids=[7])
    favorite = dropped(files_only, copy, model.place_index(NodeKind.FAVORITES))
    assert (favorite.intent, favorite.file_ids) == (DropIntent.FAVORITE, (7,))
    # Folders cannot be favorites, nor dropped onto themselves.
    assert not model.canDropMimeData(items, copy, -1, 0, model.place_index(NodeKind.FAVORITES))
    onto_itself = items_mime_data(folder_ids=[photos])
    assert not model.canDropMimeData(onto_itself, move, -1, 0, photos_index)
    # A folder dragged from the tree carries its id.
    dragged = model.mimeData([photos_index])
    assert dropped(dragged, move, _child(model, vault_index, "Music")).folder_ids == (photos,)


# -- the widget ------------------------------------------------------------------


def _tree(qtbot: QtBot, model: FolderTreeModel) -> FolderTree:
    tree = FolderTree(model)
    qtbot.addWidget(tree)
    tree.resize(260, 360)
    tree.show()
    qtbot.waitExposed(tree)
    return tree


def test_widget_selection_and_new_folder(
    qtbot: QtBot, model: FolderTreeModel, vault: Vault
) -> None:
    vault.mkdir(vault.root_id, "Photos")
    tree = _tree(qtbot, model)
    assert tree.isHeaderHidden()
    vault_index = model.place_index(NodeKind.VAULT)
    # The view expands the Vault node itself, which lists it.
    qtbot.waitUntil(lambda: _names(model, vault_index) == ["Photos"], timeout=WAIT)
    assert tree.isExpanded(vault_index)

    with qtbot.waitSignal(tree.source_selected, timeout=WAIT) as selected:
        tree.setCurrentIndex(model.place_index(NodeKind.FAVORITES))
    assert selected.args[0] == Place(NodeKind.FAVORITES, None, "Favorites")

    photos = _child(model, vault_index, "Photos")
    tree.setCurrentIndex(photos)
    with qtbot.waitSignal(model.folder_created, timeout=WAIT):
        assert tree.new_folder()
    qtbot.waitUntil(lambda: tree.state() == QAbstractItemView.State.EditingState, timeout=WAIT)
    new_index = tree.currentIndex()
    assert new_index.data() == NEW_FOLDER_NAME
    assert new_index.parent() == photos

    editor = tree.viewport().findChild(QLineEdit)
    assert editor is not None
    editor.selectAll()
    qtbot.keyClicks(editor, "Trips")  # type: ignore[no-untyped-call]
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    qtbot.waitUntil(lambda: _names(model, photos) == ["Trips"], timeout=WAIT)
    assert vault.resolve_folder("/Photos/Trips") == tree.currentIndex().data(TreeRole.FOLDER_ID)


def _editor(tree: FolderTree) -> QLineEdit:
    """The name editor open in ``tree``."""
    (editor,) = [e for e in tree.viewport().findChildren(QLineEdit) if e.isVisible()]
    return editor


def _refused_inline(qtbot: QtBot, tree: FolderTree, index: QModelIndex, name: str) -> QLineEdit:
    """Type ``name`` for ``index`` in place (F2, Return), have it refused, and return
    the editor that opens again."""
    tree.setCurrentIndex(index)
    tree.setFocus()
    qtbot.keyClick(tree, Qt.Key.Key_F2)  # type: ignore[no-untyped-call]
    qtbot.waitUntil(lambda: tree.state() == QAbstractItemView.State.EditingState, timeout=WAIT)
    editor = _editor(tree)
    editor.selectAll()
    qtbot.keyClicks(editor, name)  # type: ignore[no-untyped-call]
    with qtbot.waitSignal(tree.tree_model.rename_failed, timeout=WAIT):
        qtbot.keyClick(editor, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    qtbot.waitUntil(lambda: tree.state() == QAbstractItemView.State.EditingState, timeout=WAIT)
    return _editor(tree)


def test_widget_shows_refused_name(qtbot: QtBot, model: FolderTreeModel, vault: Vault) -> None:
    vault.mkdir(vault.root_id, "Photos")
    tree = _tree(qtbot, model)
    vault_index = model.place_index(NodeKind.VAULT)
    qtbot.waitUntil(lambda: _names(model, vault_index) == ["Photos"], timeout=WAIT)
    photos = _child(model, vault_index, "Photos")
    again = _refused_inline(qtbot, tree, photos, "a:b")
    assert tree.last_error == "A name cannot contain :."
    # The editor opens again on the same folder with the refused name, to correct it.
    assert again.text() == "a:b"
    assert _names(model, vault_index) == ["Photos"]
    assert vault.resolve_folder("/Photos")
    qtbot.keyClick(again, Qt.Key.Key_Escape)  # type: ignore[no-untyped-call]
    assert _names(model, vault_index) == ["Photos"]


def _drag_drop(tree: FolderTree, index: QModelIndex, mime: QMimeData) -> QDropEvent:
    """Drag ``mime`` over ``index``'s row and drop it there, proposing a move."""
    pos = QPointF(tree.visualRect(index).center())
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    viewport = tree.viewport()
    enter = QDragEnterEvent(pos.toPoint(), actions, mime, buttons, modifiers)
    QApplication.sendEvent(viewport, enter)
    move = QDragMoveEvent(pos.toPoint(), actions, mime, buttons, modifiers)
    move.setDropAction(Qt.DropAction.MoveAction)
    QApplication.sendEvent(viewport, move)
    drop = QDropEvent(pos, actions, mime, buttons, modifiers)
    drop.setDropAction(Qt.DropAction.MoveAction)
    QApplication.sendEvent(viewport, drop)
    return drop


def test_widget_takes_file_drops(
    qtbot: QtBot, model: FolderTreeModel, vault: Vault, tmp_path: Path
) -> None:
    photos_id = vault.mkdir(vault.root_id, "Photos").created[0]
    tree = _tree(qtbot, model)
    vault_index = model.place_index(NodeKind.VAULT)
    qtbot.waitUntil(lambda: _names(model, vault_index) == ["Photos"], timeout=WAIT)
    picture = tmp_path / "beach.png"
    picture.write_bytes(b"png-ish")

    with qtbot.waitSignal(model.drop_requested, timeout=WAIT) as dropped:
        drop = _drag_drop(tree, _child(model, vault_index, "Photos"), _file_mime(picture))
    request = dropped.args[0]
    assert (request.intent, request.target_folder_id) == (DropIntent.IMPORT, photos_id)
    assert request.paths == (picture,)
    # Outside files are copied in: a file manager must not delete its originals.
    assert drop.dropAction() == Qt.DropAction.CopyAction

    with qtbot.assertNotEmitted(model.drop_requested):
        _drag_drop(tree, model.place_index(NodeKind.ALL_FILES), _file_mime(picture))


# -- tags: management, combinations, drops ---------------------------------------


def _last_dialog(tree: FolderTree) -> QWidget | None:
    return tree.last_dialog


def _tags_tree(
    qtbot: QtBot, model: FolderTreeModel, vault: Vault, tmp_path: Path, tags: dict[str, int]
) -> tuple[FolderTree, QModelIndex]:
    _add_tags(vault, tmp_path, tags)
    tree = _tree(qtbot, model)
    tags_index = model.place_index(NodeKind.TAGS)
    qtbot.waitUntil(lambda: model.rowCount(tags_index) == len(tags), timeout=WAIT)
    tree.expand(tags_index)
    return tree, tags_index


def test_tag_menu_new_rename_recolour_delete(
    qtbot: QtBot, model: FolderTreeModel, vault: Vault, tmp_path: Path
) -> None:
    tree, tags_index = _tags_tree(qtbot, model, vault, tmp_path, {"Family": 3, "Work": 1})
    heading_menu = tree.tag_menu(tags_index)
    assert heading_menu is not None
    assert [a.text() for a in heading_menu.actions()] == ["New Tag…"]
    assert tree.tag_menu(model.place_index(NodeKind.TRASH)) is None
    family = _child(model, tags_index, "Family")
    menu = tree.tag_menu(family)
    assert menu is not None
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts == ["New Tag…", "Rename", "Change Colour…", "Delete…"]

    # New Tag…: a dialog; Create makes the tag and its node.
    changes: list[object] = []
    model.tags_changed.connect(changes.append)
    dialog = tree.new_tag()
    dialog.name_edit.setText("work")
    assert not dialog.create_button.isEnabled()  # taken, ignoring case
    dialog.name_edit.setText("Holidays")
    dialog.colors.set_color("#123456")
    dialog.create_button.click()
    qtbot.waitUntil(lambda: "Holidays" in _names(model, tags_index), timeout=WAIT)
    holidays = _child(model, tags_index, "Holidays")
    assert holidays.data(TreeRole.COLOR) == "#123456"
    assert holidays.data(TreeRole.FILE_COUNT) == 0
    qtbot.waitUntil(lambda: len(changes) == 1, timeout=WAIT)

    # Rename inline (F2), and a refused name keeps the old one.
    again = _refused_inline(qtbot, tree, holidays, "FAMILY")
    assert "already a tag" in tree.last_error
    assert again.text() == "FAMILY"
    qtbot.keyClick(again, Qt.Key.Key_Escape)  # type: ignore[no-untyped-call]
    holidays = _child(model, tags_index, "Holidays")
    assert model.setData(holidays, "Trips")
    qtbot.waitUntil(lambda: "Trips" in _names(model, tags_index), timeout=WAIT)
    assert vault.tag_named("trips").color == "#123456"

    # Change Colour…: a colour dialog; OK recolours.
    family_id = _child(model, tags_index, "Family").data(TreeRole.TAG_ID)
    colour = tree.change_tag_color(family_id)
    assert colour is not None
    colour.setCurrentColor(QColor("#00aa00"))
    colour.accept()
    qtbot.waitUntil(
        lambda: _child(model, tags_index, "Family").data(TreeRole.COLOR) == "#00aa00",
        timeout=WAIT,
    )

    # Delete…: counted first, then a confirmation naming the count; Cancel keeps it.
    tree.delete_tag(family_id)
    qtbot.waitUntil(lambda: isinstance(tree.last_dialog, QMessageBox), timeout=WAIT)
    box = tree.last_dialog
    assert isinstance(box, QMessageBox)
    assert "“Family”" in box.text() and "3 files" in box.informativeText()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert "Family" in _names(model, tags_index)
    tree.last_dialog = None
    tree.setCurrentIndex(_child(model, tags_index, "Family"))
    tree.setFocus()
    qtbot.keyClick(tree, Qt.Key.Key_Delete)  # type: ignore[no-untyped-call]
    qtbot.waitUntil(lambda: isinstance(_last_dialog(tree), QMessageBox), timeout=WAIT)
    box = _last_dialog(tree)
    assert isinstance(box, QMessageBox)
    delete = next(b for b in box.buttons() if b.text() == "Delete")
    with qtbot.waitSignal(model.rowsRemoved, timeout=WAIT):
        delete.click()
    assert _names(model, tags_index) == ["Trips", "Work"]
    qtbot.waitUntil(lambda: getattr(changes[-1], "deleted", ()) == (family_id,), timeout=WAIT)
    assert getattr(changes[-1], "count", None) == 3


def test_several_tags_show_all_or_any(
    qtbot: QtBot, model: FolderTreeModel, vault: Vault, tmp_path: Path
) -> None:
    tree, tags_index = _tags_tree(qtbot, model, vault, tmp_path, {"Family": 3, "Work": 1})
    family = _child(model, tags_index, "Family")
    work = _child(model, tags_index, "Work")
    family_id, work_id = family.data(TreeRole.TAG_ID), work.data(TreeRole.TAG_ID)
    places: list[Place] = []
    tree.source_selected.connect(places.append)

    qtbot.mouseClick(  # type: ignore[no-untyped-call]
        tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualRect(family).center()
    )
    assert places[-1] == Place(NodeKind.TAG, family_id, "Family")
    qtbot.mouseClick(  # type: ignore[no-untyped-call]
        tree.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ControlModifier,
        tree.visualRect(work).center(),
    )
    combined = places[-1]
    assert combined.tag_ids == tuple(sorted((family_id, work_id)))
    assert combined.name == "Family and Work"
    assert combined.id == work_id  # the node chosen last
    source = combined.browse_source()
    assert source is not None and source.match == "all"
    assert {r.id for r in vault.browse_page(source).rows} == {
        r.id for r in vault.browse_page(Source.tag(work_id)).rows
    }
    menu = tree.tag_menu(work)
    assert menu is not None
    any_action = next(a for a in menu.actions() if "Any" in a.text())
    assert not any_action.isChecked()
    any_action.trigger()
    assert places[-1].match == "any" and places[-1].name == "Family or Work"
    any_source = places[-1].browse_source()
    assert any_source is not None and vault.browse_count(any_source) == 3
    # The window following the combination (selecting a node of it) keeps it.
    count = len(places)
    tree.setCurrentIndex(family)
    assert len(tree.selected_tags()) == 2 and len(places) == count
    # A folder or place is chosen alone again.
    qtbot.mouseClick(  # type: ignore[no-untyped-call]
        tree.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ControlModifier,
        tree.visualRect(model.place_index(NodeKind.TRASH)).center(),
    )
    assert places[-1] == Place(NodeKind.TRASH, None, "Trash")
    assert tree.selected_tags() == []
    tree.select_tags([work_id, family_id])
    assert places[-1].tag_ids == tuple(sorted((family_id, work_id)))


def test_files_dropped_on_a_tag_get_it(
    qtbot: QtBot, model: FolderTreeModel, vault: Vault, tmp_path: Path
) -> None:
    _add_tags(vault, tmp_path, {"Family": 1, "Empty": 0})
    _loaded(qtbot, model)
    tags_index = model.place_index(NodeKind.TAGS)
    empty = _child(model, tags_index, "Empty")
    files = [r.id for r in vault.list_folder(vault.root_id).files]
    mime = items_mime_data(file_ids=files)
    assert model.canDropMimeData(mime, Qt.DropAction.MoveAction, -1, 0, empty)
    folders_only = items_mime_data(folder_ids=[vault.root_id])
    assert not model.canDropMimeData(folders_only, Qt.DropAction.MoveAction, -1, 0, empty)
    requests: list[DropRequest] = []
    model.drop_requested.connect(requests.append)
    with qtbot.waitSignal(model.tags_changed, timeout=WAIT) as changed:
        assert model.dropMimeData(mime, Qt.DropAction.MoveAction, -1, 0, empty)
    assert requests == []  # done by the model, not the window
    assert changed.args[0].files == frozenset(files)
    qtbot.waitUntil(
        lambda: _child(model, tags_index, "Empty").data(TreeRole.FILE_COUNT) == 1, timeout=WAIT
    )


def test_tag_counts_are_painted(
    qtbot: QtBot, model: FolderTreeModel, vault: Vault, tmp_path: Path
) -> None:
    tree, tags_index = _tags_tree(qtbot, model, vault, tmp_path, {"Family": 3})
    family = _child(model, tags_index, "Family")
    tree.setCurrentIndex(model.place_index(NodeKind.TRASH))
    QApplication.processEvents()
    rect = tree.visualRect(family)
    image = tree.viewport().grab(rect).toImage()
    # Something is drawn in the row's right quarter: the count.
    background = image.pixelColor(image.width() - 1, 0)
    right = range(int(image.width() * 0.75), image.width() - 2)
    assert any(image.pixelColor(x, y) != background for x in right for y in range(image.height()))


def test_screenshot(qtbot: QtBot, model: FolderTreeModel, vault: Vault, tmp_path: Path) -> None:
    """Renders the tree with folders and tags; MEDIAVAULT_SCREENSHOTS=1 saves it."""
    for name in ("Documents", "Music", "Photos", "Videos"):
        vault.mkdir(vault.root_id, name)
    photos = vault.resolve_folder("/Photos")
    for name in ("2022", "2023", "Holidays"):
        vault.mkdir(photos, name)
    vault.mkdir(vault.resolve_folder("/Photos/Holidays"), "Italy")
    _add_tags(vault, tmp_path, {"Family": 3, "Receipts": 1, "Work": 2})

    window = QWidget()
    qtbot.addWidget(window)
    layout = QHBoxLayout(window)
    layout.setContentsMargins(0, 0, 0, 0)
    tree = FolderTree(model, window)
    layout.addWidget(tree)
    window.resize(260, 380)
    window.show()
    qtbot.waitExposed(window)
    model.load()
    vault_index = model.place_index(NodeKind.VAULT)
    qtbot.waitUntil(lambda: model.rowCount(vault_index) == 4, timeout=WAIT)
    photos_index = _child(model, vault_index, "Photos")
    tree.expand(photos_index)
    qtbot.waitUntil(lambda: model.rowCount(photos_index) == 3, timeout=WAIT)
    tags_index = model.place_index(NodeKind.TAGS)
    qtbot.waitUntil(lambda: model.rowCount(tags_index) == 3, timeout=WAIT)
    tree.expand(tags_index)
    tree.setCurrentIndex(_child(model, photos_index, "2023"))
    QApplication.processEvents()
    image = window.grab().toImage()
    assert not image.isNull()
    target = os.environ.get("MEDIAVAULT_FOLDER_TREE_PNG")
    if target:
        assert image.save(target)
    if os.environ.get("MEDIAVAULT_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        assert image.save(str(SCREENSHOTS / "folder-tree.png"))
