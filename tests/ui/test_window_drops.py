"""Drops onto the main window: outside files and folders, vault items, the tree's nodes.

Drops are real Qt drag events (enter, move, drop) built with a ``QMimeData`` and
sent with ``QApplication.sendEvent`` to the view's viewport, as a drag from the
file manager (file URLs) or from the window itself (``ItemModel.mimeData``)
would deliver them; what they do is carried out by the window through the
Transfers panel (imports) or its file actions (moves, copies, Trash).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QMimeData, QModelIndex, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDrag, QDragEnterEvent, QDragMoveEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QAbstractItemView, QApplication
from pytestqt.qtbot import QtBot

from app.browse import Source
from app.errors import NotFound
from app.importer import ImportProgress
from app.vault import Vault
from tests.conftest import corpus_path
from tests.helpers.windows import listed, names, open_window
from ui.folder_tree import NodeKind, items_mime_data
from ui.main_window import GRID, LIST, MainWindow
from ui.transfers import Transfer, TransferRole, TransferState

WAIT = 20_000
PHOTO = "images/flower.jpg"  # in the shared corpus
PDF = "pdf/crazyones.pdf"
SONG = "media/xing.mp3"


def _corpus(name: str) -> Path:
    """A file of the shared corpus, read in place (the test is skipped without it)."""
    return corpus_path() / name


def shot(window: MainWindow, name: str) -> None:
    """Save a screenshot into ``MEDIAVAULT_SCREENSHOTS_DIR`` when set (to look at)."""
    folder = os.environ.get("MEDIAVAULT_SCREENSHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        assert window.grab().save(str(Path(folder) / f"{name}.png"))


def _open(qtbot: QtBot, window: MainWindow, folder_id: int) -> None:
    window.open_folder(folder_id)
    listed(qtbot, window)


def _urls(*paths: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def _drop(
    view: QAbstractItemView,
    mime: QMimeData,
    at: QPoint,
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
    action: Qt.DropAction = Qt.DropAction.MoveAction,
) -> QDropEvent:
    """Drag ``mime`` into the view's viewport at ``at`` and drop it there."""
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    buttons = Qt.MouseButton.LeftButton
    viewport = view.viewport()
    enter = QDragEnterEvent(at, actions, mime, buttons, modifiers)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(at, actions, mime, buttons, modifiers)
    move.setDropAction(action)
    QApplication.sendEvent(viewport, move)
    drop = QDropEvent(QPointF(at), actions, mime, buttons, modifiers)
    drop.setDropAction(action)
    QApplication.sendEvent(viewport, drop)
    return drop


def _empty_spot(view: QAbstractItemView) -> QPoint:
    """A point of the viewport below the last row: the folder shown, not an item."""
    spot = QPoint(view.viewport().width() - 10, view.viewport().height() - 10)
    assert not view.indexAt(spot).isValid()
    return spot


def _spot_of(window: MainWindow, name: str) -> QPoint:
    view = window.current_view()
    row = names(window.model).index(name)
    rect = view.visualRect(window.model.index(row, 0))
    assert rect.isValid()
    return rect.center()


def _last_transfer(qtbot: QtBot, window: MainWindow, count: int) -> Transfer:
    """Wait for the ``count``-th transfer to end and the list to be listed again."""
    qtbot.waitUntil(lambda: len(window.transfers.transfers) == count, timeout=WAIT)
    transfer = window.transfers.transfers[-1]
    qtbot.waitUntil(lambda: not transfer.active, timeout=WAIT)
    listed(qtbot, window)
    return transfer


def _outside_tree(tmp_path: Path) -> Path:
    """A folder from "the file manager": real files and a subfolder."""
    top = tmp_path / "Trip"
    (top / "Day 2").mkdir(parents=True)
    (top / "itinerary.txt").write_text("day 1: lake\nday 2: hills\n", encoding="utf-8")
    (top / "Day 2" / "notes.txt").write_text("windy\n", encoding="utf-8")
    os.symlink(_corpus(PHOTO), top / "Day 2" / "lake.jpg")  # read in place, through a link
    return top


@pytest.mark.parametrize("mode", [GRID, LIST])
def test_files_and_a_folder_dropped_on_the_view_are_imported_here(
    qtbot: QtBot, vault: Vault, tmp_path: Path, mode: int
) -> None:
    photos = vault.makedirs("/Photos")
    trip = _outside_tree(tmp_path)
    window = open_window(qtbot, vault)
    window.set_view_mode(mode)
    _open(qtbot, window, photos)
    assert not window.transfers_dock.isVisible()
    view = window.current_view()
    assert view.dragEnabled() and view.viewport().acceptDrops()

    drop = _drop(
        window.current_view(),
        _urls(_corpus(PHOTO), _corpus(PDF), trip),
        _empty_spot(window.current_view()),
    )
    assert drop.isAccepted()
    assert drop.dropAction() == Qt.DropAction.CopyAction  # the file manager keeps its files
    transfer = _last_transfer(qtbot, window, 1)
    assert transfer.state is TransferState.DONE, transfer.error
    assert transfer.summary.startswith("5 files imported")
    assert window.transfers_dock.isVisible()
    assert window.transfers_button.isChecked()
    panel = window.transfers_panel
    assert panel.model.rowCount() == 1
    assert panel.model.index(0, 0).data(TransferRole.STATE) == TransferState.DONE.value
    assert panel.model.index(0, 0).data(TransferRole.PROGRESS) == 100
    assert panel.summary.text() == "All transfers finished"

    qtbot.waitUntil(
        lambda: names(window.model) == ["Trip", "crazyones.pdf", "flower.jpg"], timeout=WAIT
    )
    assert window.model.folder_id == photos
    assert vault.resolve_folder("/Photos/Trip/Day 2")
    assert vault.require_file("/Photos/Trip/Day 2/lake.jpg")
    assert vault.require_file("/Photos/Trip/itinerary.txt")
    assert window._count_label.text() == "3 items"

    # Another file of a name taken: both are kept (the import's default), nothing is lost.
    other = tmp_path / "other" / "flower.jpg"
    other.parent.mkdir()
    other.write_bytes(_corpus(PHOTO).read_bytes() + b"\x00other")
    _drop(window.current_view(), _urls(other), _empty_spot(window.current_view()))
    transfer = _last_transfer(qtbot, window, 2)
    assert transfer.state is TransferState.DONE, transfer.error
    qtbot.waitUntil(lambda: window.model.rowCount() == 4, timeout=WAIT)
    assert sum(name.startswith("flower") for name in names(window.model)) == 2


@pytest.mark.parametrize("mode", [GRID, LIST])
def test_drop_on_a_folder_item_imports_into_it(
    qtbot: QtBot, vault: Vault, tmp_path: Path, mode: int
) -> None:
    music = vault.makedirs("/Music")
    vault.makedirs("/Photos")
    window = open_window(qtbot, vault)
    window.set_view_mode(mode)
    _drop(
        window.current_view(),
        _urls(_corpus(SONG), _corpus(PHOTO)),
        _spot_of(window, "Music"),
    )
    transfer = _last_transfer(qtbot, window, 1)
    assert transfer.state is TransferState.DONE, transfer.error
    assert window.model.folder_id == vault.root_id  # the window stays where it is
    assert names(window.model) == ["Music", "Photos"]
    assert vault.require_file("/Music/xing.mp3")
    assert vault.require_file("/Music/flower.jpg")
    _open(qtbot, window, music)
    assert names(window.model) == ["flower.jpg", "xing.mp3"]


@pytest.mark.parametrize("mode", [GRID, LIST])
def test_single_file_on_a_file_becomes_a_new_version(
    qtbot: QtBot, vault: Vault, tmp_path: Path, mode: int
) -> None:
    report = vault.import_paths([_corpus(PHOTO)], vault.root_id)
    file_id = report.file_ids[0]
    assert len(vault.versions(file_id)) == 1
    edited = tmp_path / "flower-edited.jpg"
    edited.write_bytes(_corpus(PHOTO).read_bytes() + b"\x00edited")
    window = open_window(qtbot, vault)
    window.set_view_mode(mode)

    _drop(window.current_view(), _urls(edited), _spot_of(window, "flower.jpg"))
    transfer = _last_transfer(qtbot, window, 1)
    assert transfer.state is TransferState.DONE, transfer.error
    assert len(vault.versions(file_id)) == 2
    assert names(window.model) == ["flower.jpg"]  # no second file
    assert window.model.item(0).size == edited.stat().st_size

    # Two files onto a file are imported next to it instead (no version of two files).
    _drop(window.current_view(), _urls(edited, _corpus(PDF)), _spot_of(window, "flower.jpg"))
    transfer = _last_transfer(qtbot, window, 2)
    assert transfer.state is TransferState.DONE, transfer.error
    assert len(vault.versions(file_id)) == 2
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=WAIT)


@pytest.mark.parametrize("mode", [GRID, LIST])
def test_internal_drag_onto_a_folder_moves_and_ctrl_copies(
    qtbot: QtBot, vault: Vault, tmp_path: Path, mode: int
) -> None:
    archive = vault.makedirs("/Archive")
    report = vault.import_paths([_corpus(PHOTO), _corpus(PDF), _corpus(SONG)], vault.root_id)
    photo_id, pdf_id, song_id = report.file_ids
    window = open_window(qtbot, vault)
    window.set_view_mode(mode)
    assert names(window.model) == ["Archive", "crazyones.pdf", "flower.jpg", "xing.mp3"]
    model = window.model

    def mime_of(*wanted: str) -> QMimeData:
        rows = [names(model).index(n) for n in wanted]
        data = model.mimeData([model.index(r, 0) for r in rows])
        assert data.hasFormat("application/x-mediavault-items")
        return data

    # Onto the folder shown, where they already are: refused.
    refused = _drop(
        window.current_view(), mime_of("flower.jpg"), _empty_spot(window.current_view())
    )
    assert not refused.isAccepted()

    moved = _drop(
        window.current_view(), mime_of("flower.jpg", "crazyones.pdf"), _spot_of(window, "Archive")
    )
    assert moved.isAccepted() and moved.dropAction() == Qt.DropAction.MoveAction
    qtbot.waitUntil(lambda: names(model) == ["Archive", "xing.mp3"], timeout=WAIT)
    assert vault.require_file("/Archive/flower.jpg") == photo_id
    assert vault.require_file("/Archive/crazyones.pdf") == pdf_id

    copied = _drop(
        window.current_view(),
        mime_of("xing.mp3"),
        _spot_of(window, "Archive"),
        Qt.KeyboardModifier.ControlModifier,
        Qt.DropAction.CopyAction,
    )
    assert copied.isAccepted() and copied.dropAction() == Qt.DropAction.CopyAction
    qtbot.waitUntil(lambda: _exists(vault, "/Archive/xing.mp3"), timeout=WAIT)
    assert vault.require_file("/xing.mp3") == song_id
    assert vault.require_file("/Archive/xing.mp3") != song_id
    listed(qtbot, window)
    assert names(model) == ["Archive", "xing.mp3"]

    # A folder cannot go into itself.
    into_itself = _drop(window.current_view(), mime_of("Archive"), _spot_of(window, "Archive"))
    assert not into_itself.isAccepted()
    assert archive == vault.resolve_folder("/Archive")


# -- the tree --------------------------------------------------------------------------


def _tree_drop(
    qtbot: QtBot, window: MainWindow, index: QModelIndex, mime: QMimeData, action: Qt.DropAction
) -> QDropEvent:
    tree = window.tree
    tree.scrollTo(index)
    rect = tree.visualRect(index)
    assert rect.isValid()
    return _drop(tree, mime, rect.center(), action=action)


def test_drops_on_the_tree_are_carried_out(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    photos = vault.makedirs("/Photos")
    backup = vault.makedirs("/Backup")
    report = vault.import_paths([_corpus(PHOTO), _corpus(PDF), _corpus(SONG)], vault.root_id)
    photo_id, pdf_id, song_id = report.file_ids
    window = open_window(qtbot, vault)
    model = window.tree_model
    qtbot.waitUntil(lambda: model.folder_index(photos).isValid(), timeout=WAIT)
    qtbot.waitUntil(lambda: model.folder_index(backup).isValid(), timeout=WAIT)
    copy, move = Qt.DropAction.CopyAction, Qt.DropAction.MoveAction

    # IMPORT: outside files onto a folder node.
    trip = _outside_tree(tmp_path)
    _tree_drop(qtbot, window, model.folder_index(photos), _urls(trip), copy)
    transfer = _last_transfer(qtbot, window, 1)
    assert transfer.state is TransferState.DONE, transfer.error
    assert vault.require_file("/Photos/Trip/Day 2/lake.jpg")

    # MOVE and COPY: vault items onto a folder node.
    _tree_drop(qtbot, window, model.folder_index(photos), items_mime_data([photo_id]), move)
    qtbot.waitUntil(lambda: "flower.jpg" not in names(window.model), timeout=WAIT)
    assert vault.require_file("/Photos/flower.jpg") == photo_id
    _tree_drop(qtbot, window, model.folder_index(backup), items_mime_data([pdf_id]), copy)
    qtbot.waitUntil(lambda: _exists(vault, "/Backup/crazyones.pdf"), timeout=WAIT)
    assert vault.require_file("/crazyones.pdf") == pdf_id

    # FAVORITE and TRASH: onto the places.
    _tree_drop(
        qtbot, window, model.place_index(NodeKind.FAVORITES), items_mime_data([song_id]), copy
    )
    qtbot.waitUntil(lambda: len(vault.browse_page(Source.favorites()).rows) == 1, timeout=WAIT)
    assert [r.id for r in vault.browse_page(Source.favorites()).rows] == [song_id]
    _tree_drop(
        qtbot, window, model.place_index(NodeKind.TRASH), items_mime_data([song_id], [backup]), move
    )
    qtbot.waitUntil(lambda: not _exists(vault, "/xing.mp3"), timeout=WAIT)
    listed(qtbot, window)
    qtbot.waitUntil(lambda: names(window.model) == ["Photos", "crazyones.pdf"], timeout=WAIT)
    trashed = {r.name for r in vault.browse_page(Source.trash()).rows}
    assert trashed == {"xing.mp3", "Backup"}


def _exists(vault: Vault, path: str) -> bool:
    try:
        vault.require_file(path)
    except NotFound:
        return False
    return True


# -- a failure in the Transfers panel -----------------------------------------------------


def test_failed_import_shows_in_the_panel_and_retries(
    qtbot: QtBot, vault: Vault, tmp_path: Path
) -> None:
    inbox = vault.makedirs("/Inbox")
    dropped = tmp_path / "Scans"
    dropped.mkdir()
    (dropped / "page-1.txt").write_text("first page\n", encoding="utf-8")
    os.mkfifo(dropped / "page-2.txt")  # not a regular file: it cannot be imported
    window = open_window(qtbot, vault)
    window.set_view_mode(LIST)
    _open(qtbot, window, inbox)

    _drop(window.view, _urls(dropped), _empty_spot(window.view))
    transfer = _last_transfer(qtbot, window, 1)
    assert transfer.state is TransferState.FAILED
    assert "not a regular file" in transfer.error
    assert transfer.can_retry
    assert vault.require_file("/Inbox/Scans/page-1.txt")  # the rest went in
    panel = window.transfers_panel
    assert window.transfers_dock.isVisible()
    assert panel.model.index(0, 0).data(TransferRole.STATE) == TransferState.FAILED.value
    assert "1 failed transfer" in panel.summary.text()
    assert not panel.retry_button.isEnabled()  # nothing selected yet
    panel.view.setCurrentIndex(panel.model.index(0, 0))
    assert panel.retry_button.isEnabled()
    assert "not a regular file" in str(panel.model.index(0, 0).data(TransferRole.DETAILS))
    window.resize(900, 600)
    shot(window, "main-window-transfer-failed")

    # The user fixes the source and retries: only what failed is imported, in the same row.
    (dropped / "page-2.txt").unlink()
    (dropped / "page-2.txt").write_text("second page\n", encoding="utf-8")
    qtbot.mouseClick(panel.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: transfer.state is TransferState.DONE, timeout=WAIT)
    assert transfer.error == ""
    assert panel.model.rowCount() == 1
    assert panel.model.index(0, 0).data(TransferRole.STATE) == TransferState.DONE.value
    assert vault.require_file("/Inbox/Scans/page-2.txt")
    assert not panel.retry_button.isEnabled()
    listed(qtbot, window)
    assert names(window.model) == ["Scans"]


def test_panel_shows_the_progress_of_an_import(
    qtbot: QtBot, vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Held after its first file, an import shows in the panel as running, with its figures."""
    dropped = tmp_path / "Letters"
    dropped.mkdir()
    for n in range(30):
        (dropped / f"letter-{n:02}.txt").write_text(f"dear {n}\n" * 200, encoding="utf-8")
    reached, go_on = threading.Event(), threading.Event()
    import_paths = vault.import_paths

    def held(
        sources: Any, folder_id: Any = None, *args: Any, progress: Any = None, **kw: Any
    ) -> Any:
        def report(p: ImportProgress) -> None:
            progress(p)
            if 0 < p.files_done < p.files_total and not reached.is_set():
                reached.set()
                go_on.wait(WAIT / 1000)  # the worker waits; the window must not

        return import_paths(sources, folder_id, *args, progress=report, **kw)

    monkeypatch.setattr(vault, "import_paths", held)
    window = open_window(qtbot, vault)
    window.set_view_mode(LIST)
    panel = window.transfers_panel
    _drop(window.view, _urls(dropped), _empty_spot(window.view))
    qtbot.waitUntil(lambda: len(window.transfers.transfers) == 1, timeout=WAIT)
    transfer = window.transfers.transfers[0]
    row = panel.model.index(0, 0)
    try:
        qtbot.waitUntil(reached.is_set, timeout=WAIT)
        qtbot.waitUntil(lambda: 0 < transfer.done < transfer.total == 30, timeout=WAIT)
        assert row.data(TransferRole.STATE) == TransferState.RUNNING.value
        assert 0 < row.data(TransferRole.PROGRESS) < 100
        assert panel.summary.text().startswith("1 transfer running")
        assert panel.total_bar.isVisible()
        assert 0 <= panel.total_bar.value() < 100
        assert "of 30" in str(row.data(TransferRole.DETAILS)), row.data(TransferRole.DETAILS)
        panel.view.setCurrentIndex(row)
        assert panel.cancel_button.isEnabled() and not panel.retry_button.isEnabled()
        window.resize(900, 600)
        shot(window, "main-window-transfer-running")
    finally:
        go_on.set()
    qtbot.waitUntil(lambda: transfer.state is TransferState.DONE, timeout=WAIT)
    assert row.data(TransferRole.PROGRESS) == 100
    assert not panel.total_bar.isVisible()
    assert not panel.cancel_button.isEnabled()
    listed(qtbot, window)
    qtbot.waitUntil(lambda: names(window.model) == ["Letters"], timeout=WAIT)


# -- drags out ---------------------------------------------------------------------------


def test_a_drag_out_carries_files_linked_off_the_gui_thread(
    qtbot: QtBot, vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dragging files to the file manager: their content is linked under their names
    on a worker, and the drag starts then, carrying those files as URLs beside the
    window's own items; a folder stays out. Let go before: a click, no drag."""
    outside = tmp_path / "outside"
    (outside / "Sub").mkdir(parents=True)
    (outside / "a.txt").write_bytes(b"alpha")
    (outside / "b.txt").write_bytes(b"beta")
    vault.import_paths([outside / "a.txt", outside / "b.txt", outside / "Sub"], vault.root_id)
    window = open_window(qtbot, vault)
    window.set_view_mode(LIST)
    view = window.current_view()
    assert names(window.model) == ["Sub", "a.txt", "b.txt"]
    dragged: list[QMimeData] = []
    answer = [Qt.DropAction.IgnoreAction]  # what the drop target did

    def record(drag: QDrag, *_: Any) -> Qt.DropAction:
        dragged.append(drag.mimeData())
        return answer[0]

    held: list[bool] = []
    monkeypatch.setattr(QDrag, "exec", record)
    monkeypatch.setattr(type(view), "drag_button_held", staticmethod(lambda: held.pop(0)))
    view.selectAll()

    held.append(True)
    view.startDrag(Qt.DropAction.MoveAction | Qt.DropAction.CopyAction)
    qtbot.waitUntil(lambda: len(dragged) == 1, timeout=WAIT)
    files = {Path(url.toLocalFile()).name: Path(url.toLocalFile()) for url in dragged[0].urls()}
    assert sorted(files) == ["a.txt", "b.txt"]
    assert files["a.txt"].read_bytes() == b"alpha" and files["b.txt"].read_bytes() == b"beta"
    assert dragged[0].hasFormat("application/x-mediavault-items")  # moves inside still work
    assert "not dragged out" not in window.statusBar().currentMessage()  # the drag was cancelled

    # Dropped in another application (no target in this one): the folder's absence is told.
    answer[0] = Qt.DropAction.CopyAction
    held.append(True)
    view.startDrag(Qt.DropAction.MoveAction | Qt.DropAction.CopyAction)
    qtbot.waitUntil(lambda: len(dragged) == 2, timeout=WAIT)
    assert "Folders" in window.statusBar().currentMessage()

    held.append(False)
    view.startDrag(Qt.DropAction.MoveAction | Qt.DropAction.CopyAction)
    qtbot.waitUntil(lambda: not held, timeout=WAIT)  # the button was asked about
    assert len(dragged) == 2


def test_moving_while_a_drag_is_prepared_keeps_the_selection(
    qtbot: QtBot, vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the drag's start and its links being ready, the pointer moving over
    other rows with the button down must not select them (as a drag-select would)."""
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text(name)
    vault.import_paths([tmp_path / n for n in ("a.txt", "b.txt", "c.txt")], vault.root_id)
    window = open_window(qtbot, vault)
    window.set_view_mode(LIST)
    view = window.current_view()
    assert isinstance(view, QAbstractItemView)
    waiting: list[Any] = []
    view.prepare_drag_out = lambda _items, then: waiting.append(then)
    dragged: list[QDrag] = []
    monkeypatch.setattr(QDrag, "exec", lambda drag, *_: dragged.append(drag))
    monkeypatch.setattr(type(view), "drag_button_held", staticmethod(lambda: True))

    def mouse(kind: QEvent.Type, row: int, dx: int = 0) -> None:
        at = QPointF(view.visualRect(window.model.index(row, 0)).center()) + QPointF(dx, 0)
        held = (
            Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
        )
        event = QMouseEvent(
            kind,
            at,
            view.viewport().mapToGlobal(at),
            held,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(view.viewport(), event)

    mouse(QEvent.Type.MouseButtonPress, 0)
    mouse(QEvent.Type.MouseMove, 0, 2)
    mouse(QEvent.Type.MouseMove, 1)  # past the drag distance: the drag begins
    assert len(waiting) == 1 and not dragged
    mouse(QEvent.Type.MouseMove, 2)
    mouse(QEvent.Type.MouseMove, 2, 5)
    assert [i.row() for i in view.selectionModel().selectedRows()] == [0]

    waiting[0]([])
    assert len(dragged) == 1
