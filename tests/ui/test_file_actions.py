"""The main window's right-click actions and shortcuts, over a real vault.

Each action is triggered the way a user does it (a context-menu entry or a key
on the grid or the list) and checked in the catalog. Modal choices (the folder
picker, file dialogs) are answered by monkeypatching the call that would block;
confirmations are opened non-blocking and answered by clicking their button.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLineEdit,
    QMenu,
    QMessageBox,
    QToolTip,
)
from pytestqt.qtbot import QtBot

from app.browse import Source
from app.catalog.models import File
from app.credentials import store_keys
from app.remote import RemoteConfig, save_remote
from app.vault import Vault
from storage.s3_client import Credentials, RemoteSpec
from tests.conftest import MemoryKeyring
from ui.folder_picker import FolderPicker
from ui.folder_tree import ITEMS_MIME, NodeKind
from ui.formatting import human_size
from ui.main_window import GRID, LIST, MainWindow
from ui.transfers import TransferState

WAIT = 30_000  # ms: two cores are shared with other test runs


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """Files on disk, outside the vault."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "notes.txt").write_text("quarterly report draft\n" * 40, encoding="utf-8")
    (folder / "budget.csv").write_text("month,amount\n" + "jan,10\n" * 50, encoding="utf-8")
    return folder


@pytest.fixture
def ids(vault: Vault, outside: Path, corpus: Path) -> dict[str, int]:
    """Root: folders Documents (holding inner.txt) and Photos, files budget.csv,
    hopper.jpg (a real photo, read in place from the corpus) and notes.txt."""
    found = {
        "Documents": vault.mkdir(vault.root_id, "Documents").created[0],
        "Photos": vault.mkdir(vault.root_id, "Photos").created[0],
    }
    paths = [outside / "budget.csv", corpus / "images" / "hopper.jpg", outside / "notes.txt"]
    report = vault.import_paths(paths, vault.root_id)
    for path, file_id in zip(paths, report.file_ids, strict=True):
        found[path.name] = file_id
    inner = outside / "inner.txt"
    inner.write_text("inside Documents\n", encoding="utf-8")
    found["inner.txt"] = vault.import_paths([inner], found["Documents"]).file_ids[0]
    return found


@pytest.fixture
def window(qtbot: QtBot, vault: Vault, ids: dict[str, int]) -> MainWindow:
    made = MainWindow(vault)
    qtbot.addWidget(made)
    made.show()
    _settle(qtbot, made)
    qtbot.waitUntil(lambda: made.model.rowCount() == 5, timeout=WAIT)
    return made


# -- helpers -----------------------------------------------------------------------


def _settle(qtbot: QtBot, window: MainWindow) -> None:
    """Wait until the window's quick work (changes, listings, previews) has ended."""
    qtbot.waitUntil(lambda: not window.tasks.busy and not window.model.loading, timeout=WAIT)


def _wait_transfers(qtbot: QtBot, window: MainWindow, count: int) -> None:
    """Wait until ``count`` transfers exist and none is running; then for the refresh."""
    transfers = window.transfers
    qtbot.waitUntil(
        lambda: len(transfers.transfers) >= count and not transfers.active(), timeout=WAIT
    )
    _settle(qtbot, window)


def _names(window: MainWindow) -> list[str]:
    return [item.name for item in window.model.items()]


def _live_names(vault: Vault, folder_id: int) -> list[str]:
    listing = vault.list_folder(folder_id, limit=1000)
    return [f.name for f in listing.folders] + [f.name for f in listing.files]


def _select(window: MainWindow, *names: str) -> None:
    """Select the rows with these names (as Ctrl+click would), the last one current."""
    model = window.model
    selection = window.view.selectionModel()
    selection.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for name in names:
        rows = [r for r in range(model.rowCount()) if model.item(r).name == name]
        assert rows, f"{name} is not listed: {_names(window)}"
        selection.setCurrentIndex(model.index(rows[0], 0), flags)
    assert sorted(i.name for i in window.selected_items()) == sorted(names)


def _menu(window: MainWindow) -> QMenu:
    menu = window.file_actions.context_menu()
    menu.deleteLater()
    return menu


def _entries(window: MainWindow) -> list[str]:
    """The context menu's entries for the current selection (separators left out)."""
    return [a.text() for a in _menu(window).actions() if not a.isSeparator()]


def _choose(window: MainWindow, text: str) -> None:
    """Click ``text`` in the context menu for the current selection."""
    actions = {a.text(): a for a in _menu(window).actions() if not a.isSeparator()}
    assert text in actions, f"{text} is not in the menu: {list(actions)}"
    assert actions[text].isEnabled()
    actions[text].trigger()


def _focus(qtbot: QtBot, window: MainWindow, mode: int = GRID) -> QAbstractItemView:
    window.set_view_mode(mode)
    view = window.current_view()
    window.activateWindow()
    view.setFocus()
    qtbot.waitUntil(view.hasFocus, timeout=WAIT)
    return view


def _open(qtbot: QtBot, window: MainWindow, source: Source, rows: int) -> None:
    window.open_source(source)
    _settle(qtbot, window)
    qtbot.waitUntil(lambda: window.model.rowCount() == rows, timeout=WAIT)


def _boxes(window: MainWindow) -> list[QMessageBox]:
    return [b for b in window.findChildren(QMessageBox) if b.isVisible()]


def _one_box(qtbot: QtBot, window: MainWindow) -> QMessageBox:
    qtbot.waitUntil(lambda: len(_boxes(window)) == 1, timeout=WAIT)
    return _boxes(window)[0]


def _confirm(qtbot: QtBot, window: MainWindow, text: str) -> None:
    """Click the destructive button ``text`` of the confirmation just opened."""
    box = window.file_actions.last_box
    assert box is not None and box.isVisible()
    (button,) = [b for b in box.buttons() if b.text() == text]
    assert box.buttonRole(button) == QMessageBox.ButtonRole.DestructiveRole
    button.click()


def _pick(monkeypatch: pytest.MonkeyPatch, qtbot: QtBot, folder_id: int | None) -> list[str]:
    """Answer the next folder pickers by choosing ``folder_id`` (None: Cancel).

    Returns the pickers' titles, one per picker shown."""
    titles: list[str] = []

    def exec_(picker: FolderPicker) -> int:
        titles.append(picker.windowTitle())
        if folder_id is None:
            return QDialog.DialogCode.Rejected.value
        model = picker.tree.tree_model
        qtbot.waitUntil(lambda: model.folder_index(folder_id).isValid(), timeout=WAIT)
        picker.tree.setCurrentIndex(model.folder_index(folder_id))
        ok = picker.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
        assert ok.isEnabled()
        return QDialog.DialogCode.Accepted.value

    monkeypatch.setattr(FolderPicker, "exec", exec_)
    return titles


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fails the test if anything logged an error (what an unexpected exception does)."""
    with caplog.at_level(logging.ERROR):
        yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


# -- the menus ---------------------------------------------------------------------


def test_menu_for_one_file(window: MainWindow) -> None:
    _select(window, "notes.txt")
    assert _entries(window) == [
        "Open",
        "Open with Default Application",
        "Rename",
        "Move to…",
        "Copy to…",
        "Add to Favorites",
        "Tags…",
        "Versions…",
        "Upload New Version…",
        "Share…",
        "Export…",
        "Copy",
        "Cut",
        "Move to Trash",
        "Properties",
    ]


def test_menu_for_several_files(window: MainWindow) -> None:
    _select(window, "notes.txt", "hopper.jpg")
    assert _entries(window) == [
        "Open",
        "Move to…",
        "Copy to…",
        "Add to Favorites",
        "Tags…",
        "Export…",
        "Copy",
        "Cut",
        "Move to Trash",
        "Properties",
    ]


def test_menu_for_one_folder(window: MainWindow) -> None:
    _select(window, "Photos")
    assert _entries(window) == [
        "Open",
        "New Folder",
        "Import Files Here…",
        "Rename",
        "Move to…",
        "Copy to…",
        "Export…",
        "Share…",
        "Request Files…",
        "Copy",
        "Cut",
        "Move to Trash",
        "Properties",
    ]


def test_menu_for_several_folders_and_for_a_mixed_selection(window: MainWindow) -> None:
    _select(window, "Photos", "Documents")
    assert _entries(window) == ["Move to…", "Copy to…", "Export…", "Copy", "Cut", "Move to Trash"]
    _select(window, "Photos", "notes.txt")
    assert _entries(window) == ["Move to…", "Copy to…", "Export…", "Copy", "Cut", "Move to Trash"]


def test_menu_for_the_empty_area(window: MainWindow) -> None:
    window.view.clearSelection()
    assert _entries(window) == [
        "New Folder",
        "Import Files Here…",
        "Import Folder Here…",
        "Request Files…",
        "Paste",
        "Select All",
    ]


def test_menus_in_the_trash(qtbot: QtBot, window: MainWindow, vault: Vault) -> None:
    vault.delete_file(vault.require_file("/notes.txt"))
    vault.delete_folder(vault.resolve_folder("/Photos"))
    _open(qtbot, window, Source.trash(), 2)
    _select(window, "notes.txt")
    assert _entries(window) == ["Restore", "Delete Forever", "Empty Trash"]
    _select(window, "notes.txt", "Photos")
    assert _entries(window) == ["Restore", "Delete Forever", "Empty Trash"]
    window.view.clearSelection()
    assert _entries(window) == ["Empty Trash"]


def test_favorite_entries_follow_the_files(qtbot: QtBot, window: MainWindow, vault: Vault) -> None:
    vault.set_favorite([vault.require_file("/notes.txt")], True)
    window.refresh()
    _settle(qtbot, window)
    _select(window, "notes.txt")
    entries = _entries(window)
    assert "Remove from Favorites" in entries and "Add to Favorites" not in entries
    _select(window, "notes.txt", "budget.csv")
    entries = _entries(window)
    assert "Remove from Favorites" in entries and "Add to Favorites" in entries


def test_versions_tags_and_share_open_their_dialogs(
    qtbot: QtBot, window: MainWindow, vault: Vault
) -> None:
    """Each entry opens its dialog on the selection; asking again brings the same one."""
    from ui.share_dialog import ShareDialog, UploadRequestDialog
    from ui.tag_editor import TagEditor
    from ui.versions_dialog import VersionsDialog

    _select(window, "notes.txt")
    _choose(window, "Versions…")
    versions = window.findChild(VersionsDialog)
    assert versions is not None and versions.isVisible()
    _choose(window, "Versions…")
    assert window.findChildren(VersionsDialog) == [versions]
    versions.close()
    _settle(qtbot, window)  # closing refreshes the window
    _select(window, "notes.txt")
    _choose(window, "Share…")
    share = window.findChild(ShareDialog)
    assert share is not None and share.isVisible()
    share.close()
    _settle(qtbot, window)
    _select(window, "notes.txt", "budget.csv")
    _choose(window, "Tags…")
    editor = window.findChild(TagEditor)
    assert editor is not None and editor.isVisible()
    editor.reject()

    _select(window, "Photos")
    _choose(window, "Request Files…")
    request = window.findChild(UploadRequestDialog)
    assert request is not None and request.isVisible()
    request.close()


def test_the_shared_place_lists_files_with_a_working_link(
    qtbot: QtBot, window: MainWindow, vault: Vault
) -> None:
    from datetime import timedelta

    from app.catalog.models import Share
    from app.core import now

    notes, budget = vault.require_file("/notes.txt"), vault.require_file("/budget.csv")
    with vault.writing() as session:  # rows as share_file writes them (no bucket here)
        for file_id, expires, revoked in (
            (notes, now() + timedelta(days=1), None),
            (budget, now() + timedelta(days=1), now()),
            (vault.require_file("/hopper.jpg"), now() - timedelta(hours=1), None),
        ):
            session.add(
                Share(
                    file_id=file_id,
                    kind="download",
                    object_key=f"vault/shares/x{file_id}/f",
                    created_at=now(),
                    expires_at=expires,
                    revoked_at=revoked,
                )
            )
    place = window.tree_model.place_index(NodeKind.SHARED)
    window.tree.setCurrentIndex(place)
    _settle(qtbot, window)
    assert _names(window) == ["notes.txt"]
    window.view.clearSelection()
    assert "Manage Shared Links…" in _entries(window)


# -- opening, properties, quick preview --------------------------------------------


@pytest.mark.parametrize("mode", [GRID, LIST])
def test_enter_opens_a_file_in_the_preview_and_a_folder_in_place(
    qtbot: QtBot, window: MainWindow, ids: dict[str, int], mode: int
) -> None:
    view = _focus(qtbot, window, mode)
    _select(window, "notes.txt")
    window.preview.clear()
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.preview.title == "notes.txt", timeout=WAIT)
    assert window.preview.current_file_id == ids["notes.txt"]
    assert window.preview.isVisible()

    _select(window, "Documents")
    qtbot.keyClick(view, Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)
    qtbot.waitUntil(lambda: window.model.folder_id == ids["Documents"], timeout=WAIT)
    _settle(qtbot, window)
    assert _names(window) == ["inner.txt"]


def test_open_in_the_menu_previews_the_file(
    qtbot: QtBot, window: MainWindow, ids: dict[str, int]
) -> None:
    _select(window, "hopper.jpg")
    window.preview.clear()
    _choose(window, "Open")
    qtbot.waitUntil(lambda: window.preview.title == "hopper.jpg", timeout=WAIT)
    assert window.preview.current_file_id == ids["hopper.jpg"]


def test_properties_shows_the_pane_with_the_item(
    qtbot: QtBot, window: MainWindow, ids: dict[str, int]
) -> None:
    sizes = window.splitter.sizes()
    window.splitter.setSizes([sizes[0], sizes[1] + sizes[2], 0])  # the pane collapsed
    window.preview.hide()
    _select(window, "budget.csv")
    _choose(window, "Properties")
    assert window.preview.isVisible()
    assert window.splitter.sizes()[2] > 0
    qtbot.waitUntil(lambda: window.preview.title == "budget.csv", timeout=WAIT)
    assert window.preview.properties()["Size"] == "363 bytes"

    _select(window, "Documents")
    _choose(window, "Properties")
    qtbot.waitUntil(lambda: window.preview.title == "Documents", timeout=WAIT)


@pytest.mark.parametrize("mode", [GRID, LIST])
def test_space_toggles_the_quick_preview(
    qtbot: QtBot, window: MainWindow, ids: dict[str, int], mode: int
) -> None:
    view = _focus(qtbot, window, mode)
    _select(window, "hopper.jpg")
    qtbot.keyClick(view, Qt.Key.Key_Space)
    quick = window.file_actions._quick
    assert quick is not None and quick.isVisible()
    assert quick.windowTitle() == "hopper.jpg"
    qtbot.waitUntil(lambda: quick.pane.title == "hopper.jpg", timeout=WAIT)
    assert quick.pane.current_file_id == ids["hopper.jpg"]
    # Space again, in the preview (it has the focus now) or back in the view, closes it.
    qtbot.keyClick(quick, Qt.Key.Key_Space)
    assert not quick.isVisible()
    view = _focus(qtbot, window, mode)
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert quick.isVisible()
    # While open, it follows the selection.
    _select(window, "budget.csv")
    qtbot.waitUntil(lambda: quick.pane.title == "budget.csv", timeout=WAIT)
    assert quick.windowTitle() == "budget.csv"
    view = _focus(qtbot, window, mode)
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert not quick.isVisible()
    # A folder has no quick preview.
    _select(window, "Photos")
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert not quick.isVisible()


def test_open_with_default_application(
    qtbot: QtBot,
    window: MainWindow,
    outside: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[QUrl] = []

    def open_url(url: QUrl) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(open_url))
    _select(window, "notes.txt")
    _choose(window, "Open with Default Application")
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=WAIT)
    path = Path(opened[0].toLocalFile())
    assert opened[0].isLocalFile() and path.name == "notes.txt"
    assert path.read_bytes() == (outside / "notes.txt").read_bytes()

    # No application for it: said in the status bar.
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: False))
    _select(window, "budget.csv")
    _choose(window, "Open with Default Application")
    qtbot.waitUntil(
        lambda: "No application opens budget.csv" in window.statusBar().currentMessage(),
        timeout=WAIT,
    )


# -- rename, new folder ------------------------------------------------------------


def _editor(view: QAbstractItemView) -> QLineEdit:
    editors = [e for e in view.findChildren(QLineEdit) if e.isVisible()]
    assert len(editors) == 1
    return editors[0]


@pytest.mark.parametrize("mode", [GRID, LIST])
def test_f2_renames_inline_and_enter_commits(
    qtbot: QtBot, window: MainWindow, vault: Vault, ids: dict[str, int], mode: int
) -> None:
    view = _focus(qtbot, window, mode)
    _select(window, "notes.txt")
    qtbot.keyClick(view, Qt.Key.Key_F2)
    assert view.state() == QAbstractItemView.State.EditingState
    editor = _editor(view)
    assert editor.text() == "notes.txt"
    editor.selectAll()
    qtbot.keyClicks(editor, "minutes.txt")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # commits the name; does not "open"
    qtbot.waitUntil(lambda: vault.file_info(ids["notes.txt"]).name == "minutes.txt", timeout=WAIT)
    qtbot.waitUntil(lambda: "minutes.txt" in _names(window), timeout=WAIT)
    assert view.state() != QAbstractItemView.State.EditingState

    # The menu's Rename opens the same editor, for a folder too.
    _select(window, "Photos")
    _choose(window, "Rename")
    editor = _editor(view)
    assert editor.text() == "Photos"
    editor.selectAll()
    qtbot.keyClicks(editor, "Pictures")
    qtbot.keyClick(editor, Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)
    qtbot.waitUntil(lambda: "Pictures" in _live_names(vault, vault.root_id), timeout=WAIT)


def test_keys_typed_in_the_rename_editor_stay_in_it(
    qtbot: QtBot, window: MainWindow, vault: Vault
) -> None:
    """Space, Del, Ctrl+A… edit the name; they do not preview, trash or select files."""
    view = _focus(qtbot, window, LIST)
    _select(window, "notes.txt")
    qtbot.keyClick(view, Qt.Key.Key_F2)
    editor = _editor(view)
    qtbot.keyClick(editor, Qt.Key.Key_End)
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    qtbot.keyClicks(editor, "x ")
    qtbot.keyClick(editor, Qt.Key.Key_Home)
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    assert editor.text() == "otes.txx "
    qtbot.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert editor.selectedText() == "otes.txx "
    qtbot.keyClick(editor, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(editor, Qt.Key.Key_F2)
    assert window.file_actions._quick is None
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    _settle(qtbot, window)
    assert sorted(_live_names(vault, vault.root_id)) == sorted(
        ["Documents", "Photos", "budget.csv", "hopper.jpg", "notes.txt"]
    )


@pytest.mark.parametrize("mode", [GRID, LIST])
def test_ctrl_n_makes_a_folder_and_opens_its_name_editor(
    qtbot: QtBot, window: MainWindow, vault: Vault, mode: int
) -> None:
    view = _focus(qtbot, window, mode)
    qtbot.keyClick(view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: view.state() == QAbstractItemView.State.EditingState, timeout=WAIT)
    assert "New folder" in _live_names(vault, vault.root_id)
    editor = _editor(view)
    assert editor.text() == "New folder"
    assert [i.name for i in window.selected_items()] == ["New folder"]
    editor.selectAll()
    qtbot.keyClicks(editor, "Receipts")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Receipts" in _live_names(vault, vault.root_id), timeout=WAIT)
    assert "New folder" not in _live_names(vault, vault.root_id)


def test_new_folder_from_the_empty_area_menu(
    qtbot: QtBot, window: MainWindow, vault: Vault
) -> None:
    window.view.clearSelection()
    _choose(window, "New Folder")
    qtbot.waitUntil(
        lambda: window.current_view().state() == QAbstractItemView.State.EditingState,
        timeout=WAIT,
    )
    _editor(window.current_view())
    assert "New folder" in _live_names(vault, vault.root_id)


def test_new_folder_outside_a_folder_says_where_to_go(
    qtbot: QtBot, window: MainWindow, vault: Vault
) -> None:
    _open(qtbot, window, Source.all_files(), 4)
    view = _focus(qtbot, window)
    qtbot.keyClick(view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert "open one first" in window.statusBar().currentMessage()
    assert "New folder" not in _live_names(vault, vault.root_id)


# -- moving and copying ----------------------------------------------------------------


def test_move_to(
    qtbot: QtBot,
    window: MainWindow,
    vault: Vault,
    ids: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    titles = _pick(monkeypatch, qtbot, ids["Photos"])
    _select(window, "hopper.jpg", "Documents")
    _choose(window, "Move to…")
    _settle(qtbot, window)
    assert titles == ["Move to"]
    assert sorted(_live_names(vault, ids["Photos"])) == ["Documents", "hopper.jpg"]
    assert _live_names(vault, vault.root_id) == ["Photos", "budget.csv", "notes.txt"]
    assert _names(window) == ["Photos", "budget.csv", "notes.txt"]
    assert window.statusBar().currentMessage() == "Moved 2 items."
    # Documents came along with what it holds.
    assert vault.resolve_folder("/Photos/Documents") == ids["Documents"]
    assert _live_names(vault, ids["Documents"]) == ["inner.txt"]


def test_move_to_cancelled_changes_nothing(
    qtbot: QtBot,
    window: MainWindow,
    vault: Vault,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    titles = _pick(monkeypatch, qtbot, None)
    _select(window, "notes.txt")
    _choose(window, "Move to…")
    _settle(qtbot, window)
    assert titles == ["Move to"]
    assert "notes.txt" in _live_names(vault, vault.root_id)


def test_copy_to(
    qtbot: QtBot,
    window: MainWindow,
    vault: Vault,
    ids: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    titles = _pick(monkeypatch, qtbot, ids["Photos"])
    _select(window, "notes.txt", "Documents")
    _choose(window, "Copy to…")
    _settle(qtbot, window)
    assert titles == ["Copy to"]
    assert sorted(_live_names(vault, ids["Photos"])) == ["Documents", "notes.txt"]
    assert "notes.txt" in _live_names(vault, vault.root_id)
    copy = vault.resolve_folder("/Photos/Documents")
    assert copy != ids["Documents"]
    assert _live_names(vault, copy) == ["inner.txt"]
    assert window.statusBar().currentMessage() == "Copied 2 items."

    # A copy into the same folder keeps both.
    _pick(monkeypatch, qtbot, ids["Photos"])
    _open(qtbot, window, Source.folder(ids["Photos"]), 2)
    _select(window, "notes.txt")
    _choose(window, "Copy to…")
    _settle(qtbot, window)
    assert sorted(_live_names(vault, ids["Photos"])) == ["Documents", "notes (2).txt", "notes.txt"]


def test_a_folder_cannot_be_picked_to_move_into_itself(
    qtbot: QtBot, window: MainWindow, vault: Vault, ids: dict[str, int]
) -> None:
    picker = FolderPicker(
        vault, window.tasks, "Move to", "Move into:", window, frozenset({ids["Photos"]})
    )
    qtbot.addWidget(picker)
    model = picker.tree.tree_model
    qtbot.waitUntil(lambda: model.folder_index(ids["Documents"]).isValid(), timeout=WAIT)
    ok = picker.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    assert picker.folder_id() == vault.root_id and ok.isEnabled()  # the vault's top first
    picker.tree.setCurrentIndex(model.folder_index(ids["Documents"]))
    assert picker.folder_id() == ids["Documents"] and ok.isEnabled()
    picker.tree.setCurrentIndex(model.folder_index(ids["Photos"]))
    assert picker.folder_id() is None and not ok.isEnabled()
    # Only folders are offered: the places and tags are hidden.
    for kind in (NodeKind.ALL_FILES, NodeKind.FAVORITES, NodeKind.TRASH):
        index = model.place_index(kind)
        if index.isValid():
            assert picker.tree.isRowHidden(index.row(), index.parent())


# -- favorites -----------------------------------------------------------------------


def test_add_and_remove_favorites(
    qtbot: QtBot, window: MainWindow, vault: Vault, ids: dict[str, int]
) -> None:
    _select(window, "notes.txt", "hopper.jpg")
    _choose(window, "Add to Favorites")
    _settle(qtbot, window)
    assert vault.file_info(ids["notes.txt"]).is_favorite
    assert vault.file_info(ids["hopper.jpg"]).is_favorite
    assert not vault.file_info(ids["budget.csv"]).is_favorite
    _open(qtbot, window, Source.favorites(), 2)
    assert sorted(_names(window)) == ["hopper.jpg", "notes.txt"]

    _select(window, "notes.txt")
    _choose(window, "Remove from Favorites")
    _settle(qtbot, window)
    assert not vault.file_info(ids["notes.txt"]).is_favorite
    qtbot.waitUntil(lambda: _names(window) == ["hopper.jpg"], timeout=WAIT)


# -- import, export, new version -----------------------------------------------------


def test_upload_new_version(
    qtbot: QtBot,
    window: MainWindow,
    vault: Vault,
    ids: dict[str, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    newer = tmp_path / "notes-v2.txt"
    newer.write_text("the final report\n", encoding="utf-8")
    asked: list[str] = []

    def get_open_file_name(*args: object, **kwargs: object) -> tuple[str, str]:
        asked.append(str(args[1]))
        return str(newer), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(get_open_file_name))
    assert len(vault.versions(ids["notes.txt"])) == 1
    _select(window, "notes.txt")
    _choose(window, "Upload New Version…")
    assert asked == ["Upload New Version"]
    qtbot.waitUntil(lambda: window.transfers_dock.isVisible(), timeout=WAIT)
    _wait_transfers(qtbot, window, 1)
    (transfer,) = window.transfers.transfers
    assert transfer.state is TransferState.DONE, transfer.error
    assert len(vault.versions(ids["notes.txt"])) == 2
    assert vault.file_info(ids["notes.txt"]).name == "notes.txt"  # same file, new content
    out = vault.export_file(ids["notes.txt"], tmp_path / "out")
    assert out.read_bytes() == newer.read_bytes()

    # Cancelling the file dialog does nothing.
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: ("", "")))
    _select(window, "notes.txt")
    _choose(window, "Upload New Version…")
    assert len(window.transfers.transfers) == 1


def test_export_files_and_folders(
    qtbot: QtBot,
    window: MainWindow,
    ids: dict[str, int],
    outside: Path,
    corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    destination = tmp_path / "exported"
    destination.mkdir()
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(destination))
    )
    _select(window, "notes.txt", "hopper.jpg", "Documents")
    _choose(window, "Export…")
    _wait_transfers(qtbot, window, 1)
    (transfer,) = window.transfers.transfers
    assert transfer.state is TransferState.DONE, transfer.error
    assert (destination / "notes.txt").read_bytes() == (outside / "notes.txt").read_bytes()
    assert (destination / "hopper.jpg").read_bytes() == (corpus / "images/hopper.jpg").read_bytes()
    assert (destination / "Documents" / "inner.txt").read_text(encoding="utf-8") == (
        "inside Documents\n"
    )

    # Cancelled: nothing is started.
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: ""))
    _select(window, "notes.txt")
    _choose(window, "Export…")
    assert len(window.transfers.transfers) == 1


def test_import_files_here(
    qtbot: QtBot,
    window: MainWindow,
    vault: Vault,
    ids: dict[str, int],
    corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chosen = [str(corpus / "images" / "flower.jpg"), str(corpus / "images" / "hopper.png")]
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: (chosen, "")))
    # On a folder: into that folder.
    _select(window, "Photos")
    _choose(window, "Import Files Here…")
    _wait_transfers(qtbot, window, 1)
    assert sorted(_live_names(vault, ids["Photos"])) == ["flower.jpg", "hopper.png"]
    # On the empty area: into the folder shown (another notes.txt keeps both).
    window.view.clearSelection()
    other = tmp_path / "other" / "notes.txt"
    other.parent.mkdir()
    other.write_text("other notes\n", encoding="utf-8")
    chosen[:] = [str(other)]
    _choose(window, "Import Files Here…")
    _wait_transfers(qtbot, window, 2)
    assert "notes (2).txt" in _live_names(vault, vault.root_id)
    qtbot.waitUntil(lambda: "notes (2).txt" in _names(window), timeout=WAIT)
    # A whole folder, from the empty area's menu.
    tree = tmp_path / "Trip"
    (tree / "day1").mkdir(parents=True)
    (tree / "day1" / "log.txt").write_text("sunny\n", encoding="utf-8")
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(tree))
    )
    _choose(window, "Import Folder Here…")
    _wait_transfers(qtbot, window, 3)
    assert _live_names(vault, vault.resolve_folder("/Trip/day1")) == ["log.txt"]


# -- deleting and the Trash -------------------------------------------------------------


@pytest.mark.parametrize("mode", [GRID, LIST])
def test_del_moves_to_the_trash(
    qtbot: QtBot, window: MainWindow, vault: Vault, ids: dict[str, int], mode: int
) -> None:
    view = _focus(qtbot, window, mode)
    _select(window, "notes.txt", "Documents")
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    _settle(qtbot, window)
    assert _live_names(vault, vault.root_id) == ["Photos", "budget.csv", "hopper.jpg"]
    assert _names(window) == ["Photos", "budget.csv", "hopper.jpg"]
    assert sorted(t.name for t in vault.trash_list()) == ["Documents", "notes.txt"]
    assert "Moved 2 items to the Trash" in window.statusBar().currentMessage()


def test_trash_menu_entry_restore_delete_forever_and_empty(
    qtbot: QtBot, window: MainWindow, vault: Vault, ids: dict[str, int]
) -> None:
    _select(window, "budget.csv")
    _choose(window, "Move to Trash")
    _settle(qtbot, window)
    for name in ("notes.txt", "hopper.jpg"):
        vault.delete_file(ids[name])
    vault.delete_folder(ids["Documents"])
    _open(qtbot, window, Source.trash(), 4)

    _select(window, "notes.txt", "Documents")
    _choose(window, "Restore")
    _settle(qtbot, window)
    assert sorted(_live_names(vault, vault.root_id)) == ["Documents", "Photos", "notes.txt"]
    assert _live_names(vault, ids["Documents"]) == ["inner.txt"]
    assert sorted(_names(window)) == ["budget.csv", "hopper.jpg"]
    assert window.statusBar().currentMessage() == "Restored 2 items."

    # Delete Forever asks first; Cancel keeps the file.
    _select(window, "budget.csv")
    _choose(window, "Delete Forever")
    box = window.file_actions.last_box
    assert box is not None and box.isVisible() and "forever" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    _settle(qtbot, window)
    assert sorted(t.name for t in vault.trash_list()) == ["budget.csv", "hopper.jpg"]
    _choose(window, "Delete Forever")
    _confirm(qtbot, window, "Delete Forever")
    _settle(qtbot, window)
    assert [t.name for t in vault.trash_list()] == ["hopper.jpg"]
    assert window.statusBar().currentMessage() == "Deleted 1 item forever."
    assert _names(window) == ["hopper.jpg"]

    window.view.clearSelection()
    _choose(window, "Empty Trash")
    _confirm(qtbot, window, "Empty Trash")
    _settle(qtbot, window)
    assert vault.trash_list() == []
    assert window.statusBar().currentMessage() == "The Trash is empty."
    assert _names(window) == []


@pytest.mark.parametrize("key", [Qt.Key.Key_Delete, "shift+del"])
def test_del_in_the_trash_asks_to_delete_forever(
    qtbot: QtBot, window: MainWindow, vault: Vault, ids: dict[str, int], key: object
) -> None:
    vault.delete_file(ids["notes.txt"])
    _open(qtbot, window, Source.trash(), 1)
    view = _focus(qtbot, window, LIST)
    _select(window, "notes.txt")
    if key == "shift+del":
        qtbot.keyClick(view, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    else:
        qtbot.keyClick(view, Qt.Key.Key_Delete)
    _confirm(qtbot, window, "Delete Forever")
    _settle(qtbot, window)
    assert vault.trash_list() == []


def test_shift_del_outside_the_trash_does_nothing(
    qtbot: QtBot, window: MainWindow, vault: Vault
) -> None:
    view = _focus(qtbot, window, LIST)
    _select(window, "notes.txt")
    qtbot.keyClick(view, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    _settle(qtbot, window)
    assert _boxes(window) == []
    assert "notes.txt" in _live_names(vault, vault.root_id)


# -- space: free up, keep on this device ------------------------------------------------


def test_free_up_and_keep_without_a_bucket_say_how_to_set_one(
    qtbot: QtBot, window: MainWindow, vault: Vault, ids: dict[str, int], no_errors_logged: None
) -> None:
    _select(window, "notes.txt")
    window.file_actions.free_up.trigger()
    box = _one_box(qtbot, window)
    assert box.text() == "This vault has no remote bucket."
    assert "Settings" in box.informativeText()
    box.close()
    _settle(qtbot, window)

    _select(window, "notes.txt")
    window.file_actions.keep.trigger()
    _wait_transfers(qtbot, window, 1)
    (transfer,) = window.transfers.transfers
    assert transfer.state is TransferState.FAILED
    assert "no remote bucket" in transfer.error
    assert vault.file_info(ids["notes.txt"]).version.local_state == "present"


@pytest.mark.slow
def test_free_up_space_and_keep_on_this_device_with_a_bucket(
    qtbot: QtBot,
    vault: Vault,
    ids: dict[str, int],
    outside: Path,
    spec: RemoteSpec,
    s3_credentials: Credentials,
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
) -> None:
    config = RemoteConfig(spec, "keyring")
    store_keys(config, s3_credentials)
    save_remote(vault.paths, config)
    window = MainWindow(vault)
    qtbot.addWidget(window)
    window.show()
    _settle(qtbot, window)
    # The background sync uploads everything; the rows say so.
    qtbot.waitUntil(lambda: window.sync_status.label.text() == "Up to date", timeout=60_000)
    qtbot.waitUntil(
        lambda: {i.sync for i in window.model.items() if not i.is_folder} == {"Backed up"},
        timeout=WAIT,
    )
    _select(window, "notes.txt", "budget.csv")
    entries = _entries(window)
    assert "Free Up Space" in entries and "Keep on This Device" in entries
    assert not window.file_actions.keep.isChecked()
    _choose(window, "Free Up Space")
    size = (outside / "notes.txt").stat().st_size + (outside / "budget.csv").stat().st_size
    qtbot.waitUntil(
        lambda: (
            window.statusBar().currentMessage() == f"Freed {human_size(size)} on this computer."
        ),
        timeout=WAIT,
    )
    _settle(qtbot, window)
    for name in ("notes.txt", "budget.csv"):
        assert vault.file_info(ids[name]).version.local_state == "evicted"
    assert vault.file_info(ids["hopper.jpg"]).version.local_state == "present"
    qtbot.waitUntil(
        lambda: (
            [i.sync for i in window.model.items() if i.name in ("notes.txt", "budget.csv")]
            == ["Only in bucket", "Only in bucket"]
        ),
        timeout=WAIT,
    )

    _select(window, "notes.txt", "budget.csv")
    entries = _entries(window)
    assert "Keep on This Device" in entries and "Free Up Space" not in entries
    _choose(window, "Keep on This Device")
    _wait_transfers(qtbot, window, 1)
    download = next(t for t in window.transfers.transfers if t.title.startswith("Keeping"))
    assert download.state is TransferState.DONE, download.error
    for name in ("notes.txt", "budget.csv"):
        assert vault.file_info(ids[name]).version.local_state == "present"
        with vault.reading() as session:
            assert session.get(File, ids[name]).keep_on_device  # pinned
    out = vault.export_file(ids["notes.txt"], tmp_path / "out")
    assert out.read_bytes() == (outside / "notes.txt").read_bytes()
    qtbot.waitUntil(
        lambda: [i.sync for i in window.model.items() if i.name == "notes.txt"] == ["Backed up"],
        timeout=WAIT,
    )
    # Kept files are left alone by Free Up Space, which says why.
    _select(window, "notes.txt")
    _choose(window, "Free Up Space")
    qtbot.waitUntil(
        lambda: (
            window.statusBar().currentMessage()
            == "Nothing to free up: 1 file is kept on this device."
        ),
        timeout=WAIT,
    )
    _settle(qtbot, window)
    assert vault.file_info(ids["notes.txt"]).version.local_state == "present"

    # Keep on This Device shows checked for kept files; choosing it stops keeping.
    qtbot.waitUntil(
        lambda: [i.kept for i in window.model.items() if i.name == "notes.txt"] == [True],
        timeout=WAIT,
    )
    _select(window, "notes.txt")
    _entries(window)
    assert window.file_actions.keep.isChecked()
    _choose(window, "Keep on This Device")

    def kept() -> bool:
        with vault.reading() as session:
            return bool(session.get(File, ids["notes.txt"]).keep_on_device)

    qtbot.waitUntil(lambda: not kept(), timeout=WAIT)


# -- the other shortcuts ----------------------------------------------------------------


@pytest.mark.parametrize("mode", [GRID, LIST])
def test_ctrl_a_selects_everything(qtbot: QtBot, window: MainWindow, mode: int) -> None:
    view = _focus(qtbot, window, mode)
    qtbot.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert sorted(i.name for i in window.selected_items()) == sorted(_names(window))
    assert len(window.selected_items()) == 5


@pytest.mark.parametrize("mode", [GRID, LIST])
def test_window_shortcuts_from_the_views(
    qtbot: QtBot, window: MainWindow, ids: dict[str, int], mode: int
) -> None:
    view = _focus(qtbot, window, mode)
    qtbot.keyClick(view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.search_field.hasFocus()

    view = _focus(qtbot, window, mode)
    other = LIST if mode == GRID else GRID
    qtbot.keyClick(
        view, Qt.Key.Key_1 if other == GRID else Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier
    )
    assert window.stack.currentIndex() == other
    view = window.current_view()
    assert view.hasFocus()
    qtbot.keyClick(
        view, Qt.Key.Key_1 if mode == GRID else Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier
    )
    assert window.stack.currentIndex() == mode
    view = window.current_view()

    # Alt+Up, Alt+Left, Alt+Right
    _select(window, "Documents")
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.model.folder_id == ids["Documents"], timeout=WAIT)
    _settle(qtbot, window)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: window.model.folder_id == window.vault.root_id, timeout=WAIT)
    _settle(qtbot, window)
    qtbot.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: window.model.folder_id == ids["Documents"], timeout=WAIT)
    _settle(qtbot, window)
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: window.model.folder_id == window.vault.root_id, timeout=WAIT)
    _settle(qtbot, window)


# -- the clipboard ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", [GRID, LIST])
def test_ctrl_c_then_ctrl_v_copies_into_another_folder(
    qtbot: QtBot, window: MainWindow, vault: Vault, ids: dict[str, int], mode: int
) -> None:
    view = _focus(qtbot, window, mode)
    _select(window, "notes.txt", "Documents")
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().mimeData().hasFormat(ITEMS_MIME)
    _open(qtbot, window, Source.folder(ids["Photos"]), 0)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    _settle(qtbot, window)
    qtbot.waitUntil(lambda: sorted(_names(window)) == ["Documents", "notes.txt"], timeout=WAIT)
    assert sorted(_live_names(vault, ids["Photos"])) == ["Documents", "notes.txt"]
    assert "notes.txt" in _live_names(vault, vault.root_id)  # copied, not moved
    assert _live_names(vault, vault.resolve_folder("/Photos/Documents")) == ["inner.txt"]
    # Pasting again makes another copy (the clipboard keeps a copy).
    qtbot.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    _settle(qtbot, window)
    assert "notes (2).txt" in _live_names(vault, ids["Photos"])


@pytest.mark.parametrize("mode", [GRID, LIST])
def test_ctrl_x_then_ctrl_v_moves(
    qtbot: QtBot, window: MainWindow, vault: Vault, ids: dict[str, int], mode: int
) -> None:
    view = _focus(qtbot, window, mode)
    _select(window, "budget.csv", "hopper.jpg")
    qtbot.keyClick(view, Qt.Key.Key_X, Qt.KeyboardModifier.ControlModifier)
    assert _live_names(vault, vault.root_id) == [
        "Documents",
        "Photos",
        "budget.csv",
        "hopper.jpg",
        "notes.txt",
    ]  # nothing moves before the paste
    _open(qtbot, window, Source.folder(ids["Documents"]), 1)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    _settle(qtbot, window)
    assert sorted(_live_names(vault, ids["Documents"])) == ["budget.csv", "hopper.jpg", "inner.txt"]
    assert _live_names(vault, vault.root_id) == ["Documents", "Photos", "notes.txt"]
    assert sorted(_names(window)) == ["budget.csv", "hopper.jpg", "inner.txt"]
    # A cut is pasted once: a second paste does not move them back or copy them.
    qtbot.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    _settle(qtbot, window)
    assert sorted(_live_names(vault, ids["Documents"])) == ["budget.csv", "hopper.jpg", "inner.txt"]


def test_copy_and_paste_through_the_menus(
    qtbot: QtBot, window: MainWindow, vault: Vault, ids: dict[str, int]
) -> None:
    _select(window, "hopper.jpg")
    _choose(window, "Copy")
    _open(qtbot, window, Source.folder(ids["Photos"]), 0)
    _choose(window, "Paste")
    _settle(qtbot, window)
    assert _live_names(vault, ids["Photos"]) == ["hopper.jpg"]
    assert "hopper.jpg" in _live_names(vault, vault.root_id)


def test_ctrl_v_imports_files_copied_in_the_file_manager(
    qtbot: QtBot, window: MainWindow, vault: Vault, ids: dict[str, int], corpus: Path
) -> None:
    data = QMimeData()
    data.setUrls(
        [
            QUrl.fromLocalFile(str(corpus / "images" / "flower.jpg")),
            QUrl.fromLocalFile(str(corpus / "images" / "hopper.bmp")),
        ]
    )
    QGuiApplication.clipboard().setMimeData(data)
    _open(qtbot, window, Source.folder(ids["Photos"]), 0)
    view = _focus(qtbot, window, LIST)
    qtbot.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    _wait_transfers(qtbot, window, 1)
    assert sorted(_live_names(vault, ids["Photos"])) == ["flower.jpg", "hopper.bmp"]
    qtbot.waitUntil(lambda: sorted(_names(window)) == ["flower.jpg", "hopper.bmp"], timeout=WAIT)


def test_paste_outside_a_folder_says_where_to_go(
    qtbot: QtBot, window: MainWindow, vault: Vault
) -> None:
    _select(window, "notes.txt")
    _choose(window, "Copy")
    _open(qtbot, window, Source.favorites(), 0)
    view = _focus(qtbot, window, LIST)
    qtbot.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert "open one first" in window.statusBar().currentMessage()
    _settle(qtbot, window)
    assert _live_names(vault, vault.root_id).count("notes.txt") == 1


# -- items gone behind the window's back --------------------------------------------------


def _message(window: MainWindow) -> str:
    """The status bar's message, or the text of the one dialog shown (then closed)."""
    boxes = _boxes(window)
    if boxes:
        text = " ".join([boxes[0].text(), boxes[0].informativeText()])
        boxes[0].close()
        return text
    return window.statusBar().currentMessage()


def _said(qtbot: QtBot, window: MainWindow, *words: str) -> str:
    """Wait for a message (status bar or dialog) containing each of ``words``."""
    seen: list[str] = []

    def told() -> bool:
        boxes = _boxes(window)
        text = (
            " ".join([boxes[0].text(), boxes[0].informativeText()])
            if boxes
            else window.statusBar().currentMessage()
        )
        seen.append(text)
        return all(w in text for w in words)

    qtbot.waitUntil(told, timeout=WAIT)
    return _message(window)


@pytest.mark.parametrize(
    "entry",
    [
        "Open",
        "Open with Default Application",
        "Add to Favorites",
        "Move to…",
        "Copy to…",
        "Upload New Version…",
        "Export…",
        "Move to Trash",
        "Copy",
    ],
)
def test_an_action_on_a_file_deleted_meanwhile_says_so(
    qtbot: QtBot,
    window: MainWindow,
    vault: Vault,
    ids: dict[str, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    entry: str,
    no_errors_logged: None,
) -> None:
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url)))
    newer = tmp_path / "v2.txt"
    newer.write_text("v2\n", encoding="utf-8")
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(newer), ""))
    )
    export_to = tmp_path / "export"
    export_to.mkdir()
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(export_to))
    )
    _pick(monkeypatch, qtbot, ids["Photos"])
    # Deleted forever elsewhere (another window, the CLI): the row is still shown.
    vault.delete_file(ids["notes.txt"])
    vault.empty_trash()
    _select(window, "notes.txt")
    _choose(window, entry)
    if entry in ("Upload New Version…", "Export…"):
        _wait_transfers(qtbot, window, 1)
        (transfer,) = window.transfers.transfers
        assert transfer.state is TransferState.FAILED
        assert "no longer exists" in transfer.error
    elif entry == "Open":
        qtbot.waitUntil(lambda: "no longer exists" in str(window.preview.message), timeout=WAIT)
    elif entry == "Copy":  # the paste finds it gone
        _open(qtbot, window, Source.folder(ids["Photos"]), 0)
        _focus(qtbot, window, LIST)
        qtbot.keyClick(window.view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
        _said(qtbot, window, "no longer exists")
    else:
        _said(qtbot, window, "no longer exists")
    _settle(qtbot, window)
    if entry != "Open":  # a change (or a transfer) ends with the listing caught up
        assert "notes.txt" not in _names(window)
    assert _live_names(vault, ids["Photos"]) == []
    assert not list(export_to.iterdir())
    assert opened == []


def _entry(vault: Vault, name: str) -> int:
    return next(t.id for t in vault.trash_list() if t.name == name)


def test_restore_and_delete_forever_of_entries_gone_meanwhile(
    qtbot: QtBot, window: MainWindow, vault: Vault, ids: dict[str, int], no_errors_logged: None
) -> None:
    for name in ("notes.txt", "budget.csv", "hopper.jpg"):
        vault.delete_file(ids[name])
    _open(qtbot, window, Source.trash(), 3)
    vault.purge(_entry(vault, "notes.txt"))  # behind the window's back
    _select(window, "notes.txt", "budget.csv")
    _choose(window, "Restore")
    box = _one_box(qtbot, window)
    assert box.text() == "Restored 1 of 2 items."
    assert box.informativeText() == "That item is no longer in the Trash."
    box.close()
    _settle(qtbot, window)
    assert "budget.csv" in _live_names(vault, vault.root_id)
    assert _names(window) == ["hopper.jpg"]

    # One item, gone: just the reason.
    vault.purge(_entry(vault, "hopper.jpg"))
    _select(window, "hopper.jpg")
    _choose(window, "Delete Forever")
    _confirm(qtbot, window, "Delete Forever")
    box = _one_box(qtbot, window)
    assert box.text() == "That item is no longer in the Trash."
    box.close()
    _settle(qtbot, window)
    assert _names(window) == []


def test_a_folder_deleted_meanwhile(
    qtbot: QtBot,
    window: MainWindow,
    vault: Vault,
    ids: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    no_errors_logged: None,
) -> None:
    vault.delete_folder(ids["Photos"])
    _select(window, "Photos")
    _choose(window, "New Folder")  # a folder's New Folder goes into the folder shown
    _settle(qtbot, window)
    assert "New folder" in _live_names(vault, vault.root_id)
    for entry in ("Move to Trash",):
        _select(window, "Documents")
        vault.delete_folder(ids["Documents"])
        _choose(window, entry)
        _said(qtbot, window, "no longer exists")
        _settle(qtbot, window)
    # Pasting into a folder that went away meanwhile.
    vault.restore(next(t.id for t in vault.trash_list() if t.name == "Photos"))
    _open(qtbot, window, Source.folder(ids["Photos"]), 0)
    vault.delete_folder(ids["Photos"])
    QGuiApplication.clipboard().clear()
    data = QMimeData()
    data.setData(ITEMS_MIME, b'{"files": [%d], "folders": []}' % ids["hopper.jpg"])
    QGuiApplication.clipboard().setMimeData(data)
    view = _focus(qtbot, window, LIST)
    qtbot.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    _said(qtbot, window, "no longer exists")
    _settle(qtbot, window)
    assert "hopper.jpg" in _live_names(vault, vault.root_id)


def test_shortcuts_are_on_both_views(window: MainWindow) -> None:
    def keys(actions: list[QAction]) -> set[str]:
        return {a.shortcut().toString() for a in actions if not a.shortcut().isEmpty()}

    expected = {"Return", "Enter", "Space", "F2", "Del", "Ctrl+N", "Ctrl+A", "Ctrl+C", "Ctrl+X"}
    expected |= {"Ctrl+V", "Shift+Del"}
    for view in (window.grid, window.view):
        assert expected <= keys(view.actions())
    assert QApplication.instance() is not None


def test_moving_a_folder_into_its_own_subfolder_says_why_not(
    qtbot: QtBot,
    window: MainWindow,
    vault: Vault,
    ids: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    no_errors_logged: None,
) -> None:
    inside = vault.mkdir(ids["Documents"], "Letters").created[0]
    _pick(monkeypatch, qtbot, ids["Photos"])
    # The picker offers every folder; Letters is below what is moved.
    monkeypatch.setattr("ui.file_actions.FileActions._pick_folder", lambda self, *a, **k: inside)
    _select(window, "Documents", "notes.txt")
    _choose(window, "Move to…")
    box = _one_box(qtbot, window)
    assert box.text() == "Moved 1 of 2 items."
    assert box.informativeText()
    box.close()
    _settle(qtbot, window)
    assert vault.resolve_folder("/Documents") == ids["Documents"]
    assert _live_names(vault, inside) == ["notes.txt"]


# A popup menu grabs the keyboard, which the offscreen platform cannot do (harmless).
@pytest.mark.qt_log_ignore("This plugin does not support grabbing the keyboard")
def test_right_click_selects_what_is_under_the_cursor(qtbot: QtBot, window: MainWindow) -> None:
    for mode in (GRID, LIST):
        view = _focus(qtbot, window, mode)
        _select(window, "notes.txt")
        row = next(
            r for r in range(window.model.rowCount()) if window.model.item(r).name == "Photos"
        )
        point = view.visualRect(window.model.index(row, 0)).center()
        menu = window.file_actions.show_context_menu(view, point)
        assert [i.name for i in window.selected_items()] == ["Photos"]
        assert "Import Files Here…" in [a.text() for a in menu.actions()]
        menu.close()
        # Within a selection, the selection stays.
        _select(window, "notes.txt", "budget.csv")
        row = next(
            r for r in range(window.model.rowCount()) if window.model.item(r).name == "notes.txt"
        )
        menu = window.file_actions.show_context_menu(
            view, view.visualRect(window.model.index(row, 0)).center()
        )
        assert sorted(i.name for i in window.selected_items()) == ["budget.csv", "notes.txt"]
        menu.close()
        # On the empty area: nothing is selected, and the folder's menu shows.
        corner = view.viewport().rect().bottomRight() - QPoint(4, 4)
        assert not view.indexAt(corner).isValid()
        menu = window.file_actions.show_context_menu(view, corner)
        assert window.selected_items() == []
        assert next(a.text() for a in menu.actions() if not a.isSeparator()) == "New Folder"
        menu.close()


@pytest.mark.usefixtures("aws_chain")
def test_free_up_space_before_the_first_backup_says_why_nothing_went(
    qtbot: QtBot, vault: Vault, ids: dict[str, int], no_errors_logged: None
) -> None:
    # A bucket nobody answers for: nothing was ever backed up, so nothing may go.
    nowhere = RemoteSpec(
        bucket="mv-nowhere",
        endpoint_url="http://127.0.0.1:9",
        region="us-east-1",
        prefix="vault",
        addressing_style="path",
    )
    save_remote(vault.paths, RemoteConfig(nowhere, "chain"))
    window = MainWindow(vault)
    qtbot.addWidget(window)
    window.show()
    _settle(qtbot, window)
    qtbot.waitUntil(lambda: window.model.rowCount() == 5, timeout=WAIT)
    _select(window, "notes.txt")
    window.file_actions.free_up.trigger()
    qtbot.waitUntil(
        lambda: (
            window.statusBar().currentMessage()
            == "Nothing to free up: 1 file is not backed up yet."
        ),
        timeout=WAIT,
    )
    assert vault.file_info(ids["notes.txt"]).version.local_state == "present"


def _rename_to_invalid(qtbot: QtBot, window: MainWindow) -> tuple[QAbstractItemView, list[str]]:
    """F2 on notes.txt, type a name the rules refuse, Enter; the tips shown meanwhile."""
    view = _focus(qtbot, window, LIST)
    _select(window, "notes.txt")
    qtbot.keyClick(view, Qt.Key.Key_F2)
    editor = _editor(view)
    editor.selectAll()
    qtbot.keyClicks(editor, "a:b.txt")
    tips: list[str] = []
    window.model.rename_failed.connect(
        lambda _index, _message, _name: tips.append(QToolTip.text() if QToolTip.isVisible() else "")
    )
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(tips), timeout=WAIT)
    # The editor opens again on the same file, to correct the name.
    qtbot.waitUntil(lambda: view.state() == QAbstractItemView.State.EditingState, timeout=WAIT)
    return view, tips


def test_f2_with_an_invalid_name_says_why_in_place(
    qtbot: QtBot, window: MainWindow, vault: Vault, ids: dict[str, int]
) -> None:
    view, tips = _rename_to_invalid(qtbot, window)
    assert tips == ["A name cannot contain :."]
    qtbot.keyClick(_editor(view), Qt.Key.Key_Escape)
    _settle(qtbot, window)
    assert vault.file_info(ids["notes.txt"]).name == "notes.txt"


def test_the_invalid_name_message_stays_while_the_editor_is_open(
    qtbot: QtBot, window: MainWindow
) -> None:
    """The editor taking the focus hides a tip: the message must come back by it."""
    _rename_to_invalid(qtbot, window)
    qtbot.waitUntil(lambda: QToolTip.isVisible(), timeout=WAIT)
    assert QToolTip.text() == "A name cannot contain :."


def test_keys_in_the_search_field_stay_there(
    qtbot: QtBot, window: MainWindow, vault: Vault, ids: dict[str, int]
) -> None:
    _select(window, "notes.txt")
    view = _focus(qtbot, window, LIST)
    qtbot.keyClick(view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    field = window.search_field
    assert field.hasFocus()
    qtbot.keyClicks(field, "note")
    qtbot.keyClick(field, Qt.Key.Key_Home)
    qtbot.keyClick(field, Qt.Key.Key_Delete)
    qtbot.keyClick(field, Qt.Key.Key_Space)
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert field.text() == " ote"
    assert field.selectedText() == " ote"
    assert window.file_actions._quick is None
    _settle(qtbot, window)
    assert vault.file_info(ids["notes.txt"]).in_trash is False


def test_alt_return_shows_the_properties(
    qtbot: QtBot, window: MainWindow, ids: dict[str, int]
) -> None:
    window.preview.hide()
    view = _focus(qtbot, window, GRID)
    _select(window, "hopper.jpg")
    qtbot.keyClick(view, Qt.Key.Key_Return, Qt.KeyboardModifier.AltModifier)
    assert window.preview.isVisible()
    qtbot.waitUntil(lambda: window.preview.title == "hopper.jpg", timeout=WAIT)


def test_the_selection_stays_after_an_action(
    qtbot: QtBot, window: MainWindow, vault: Vault, ids: dict[str, int]
) -> None:
    _select(window, "notes.txt", "budget.csv")
    _choose(window, "Add to Favorites")
    _settle(qtbot, window)
    assert vault.file_info(ids["notes.txt"]).is_favorite
    assert sorted(i.name for i in window.selected_items()) == ["budget.csv", "notes.txt"]
