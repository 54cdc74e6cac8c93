"""The main window over a real vault in a temporary directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from app.remote import RemoteConfig, save_remote
from app.vault import Vault
from storage.s3_client import RemoteSpec
from ui import main_window as main_window_module
from ui.folder_tree import NodeKind
from ui.formatting import human_size
from ui.main_window import (
    EMPTY_VAULT_TEXT,
    Column,
    ItemModel,
    ItemRole,
    MainWindow,
)
from ui.tasks import TaskManager

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def vault(vault_home: Path) -> Iterator[Vault]:
    opened = Vault.open()  # MEDIAVAULT_HOME points at vault_home
    yield opened
    opened.close()


def _fill(vault: Vault, tmp_path: Path) -> None:
    for name in ("Photos", "Documents", "Music"):
        vault.mkdir(vault.root_id, name)
    source = tmp_path / "outside"
    source.mkdir()
    (source / "notes.txt").write_text("quarterly report draft\n" * 40, encoding="utf-8")
    (source / "budget.csv").write_text("month,amount\n" + "jan,10\n" * 500, encoding="utf-8")
    (source / "readme.md").write_text("# hello\n", encoding="utf-8")
    report = vault.import_paths(sorted(source.iterdir()), vault.root_id)
    assert report is not None


def _window(qtbot: QtBot, vault: Vault) -> MainWindow:
    window = MainWindow(vault)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not window.model.loading, timeout=10_000)
    return window


def _names(model: ItemModel) -> list[str]:
    return [model.item(row).name for row in range(model.rowCount())]


def test_lists_root_with_folders_first(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    _fill(vault, tmp_path)
    window = _window(qtbot, vault)

    assert window.windowTitle() == f"Media Vault — {vault.paths.data}"
    assert _names(window.model) == [
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


def test_empty_vault_shows_placeholder(qtbot: QtBot, vault: Vault) -> None:
    window = _window(qtbot, vault)
    assert window.model.rowCount() == 0
    assert window.view.placeholder_text == EMPTY_VAULT_TEXT
    assert window._count_label.text() == "0 items"
    if os.environ.get("MEDIAVAULT_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        window.resize(900, 420)
        assert window.grab().save(str(SCREENSHOTS / "main-window-empty.png"))


def _loaded_model(qtbot: QtBot, vault: Vault) -> ItemModel:
    """A model on its own (no view pulling pages in), with the root's first page."""
    tasks = TaskManager(max_threads=1)
    model = ItemModel(vault, tasks)
    model.load(vault.root_id)
    qtbot.waitUntil(lambda: not model.loading, timeout=10_000)
    return model


def test_pages_with_fetch_more(
    qtbot: QtBot, vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(main_window_module, "PAGE_SIZE", 4)
    vault.mkdir(vault.root_id, "Inbox")
    source = tmp_path / "many"
    source.mkdir()
    for n in range(10):
        (source / f"file-{n:02}.txt").write_text(f"file {n}\n", encoding="utf-8")
    vault.import_paths(sorted(source.iterdir()), vault.root_id)

    model = _loaded_model(qtbot, vault)
    assert model.rowCount() == 4  # a page: the folder, then the first files
    assert model.has_more
    pages = 1
    while model.canFetchMore(QModelIndex()):
        with qtbot.waitSignal(model.rowsInserted, timeout=10_000):
            model.fetchMore(QModelIndex())
        qtbot.waitUntil(lambda: not model.loading, timeout=10_000)
        pages += 1
    assert pages == 3
    expected = ["Inbox"] + [f"file-{n:02}.txt" for n in range(10)]
    assert _names(model) == expected

    # In a window, the view asks for more pages itself while it has room.
    window = _window(qtbot, vault)
    qtbot.waitUntil(lambda: window.model.rowCount() == 11, timeout=10_000)
    qtbot.waitUntil(lambda: window._count_label.text() == "11 items", timeout=10_000)
    assert _names(window.model) == expected


def test_model_is_consistent(
    qtbot: QtBot, qtmodeltester: ModelTester, vault: Vault, tmp_path: Path
) -> None:
    _fill(vault, tmp_path)
    model = _loaded_model(qtbot, vault)
    assert model.rowCount() == 6
    qtmodeltester.check(model, force_py=True)  # type: ignore[no-untyped-call]


def test_known_error_is_shown(qtbot: QtBot, vault: Vault) -> None:
    window = _window(qtbot, vault)
    window.open_folder(987_654)  # no such folder: the vault raises NotFound
    qtbot.waitUntil(lambda: not window.model.loading, timeout=10_000)
    boxes = [w for w in window.findChildren(QMessageBox) if w.isVisible()]
    assert len(boxes) == 1
    assert boxes[0].text()
    boxes[0].close()


@pytest.mark.usefixtures("aws_chain")
def test_screenshot(qtbot: QtBot, vault: Vault, tmp_path: Path, spec: RemoteSpec) -> None:
    """Renders the window with some content, synced; MEDIAVAULT_SCREENSHOTS=1 saves it."""
    from PIL import Image

    for name in ("Documents", "Music", "Photos", "Videos"):
        vault.mkdir(vault.root_id, name)
    source = tmp_path / "outside"
    source.mkdir()
    Image.new("RGB", (640, 480), (40, 120, 200)).save(source / "IMG_0001.jpg", quality=90)
    Image.new("RGB", (1200, 800), (200, 80, 40)).save(source / "Sunset at the lake.png")
    (source / "Quarterly report.txt").write_text("quarterly report\n" * 3000, encoding="utf-8")
    (source / "budget-2024.csv").write_text("month,amount\n" + "jan,10\n" * 90, encoding="utf-8")
    vault.import_paths(sorted(source.iterdir()), vault.root_id)
    save_remote(vault.paths, RemoteConfig(spec, "chain"))

    window = _window(qtbot, vault)
    window.resize(1000, 420)
    qtbot.waitUntil(lambda: window.model.rowCount() == 8, timeout=10_000)
    qtbot.waitUntil(lambda: window.sync_status.label.text() == "Up to date", timeout=30_000)
    # The finished sync refreshes the Backup column of the rows shown.
    qtbot.waitUntil(
        lambda: window.model.index(7, Column.SYNC).data() == "Backed up", timeout=10_000
    )
    image = window.grab().toImage()
    assert not image.isNull()
    assert image.width() == 1000
    if os.environ.get("MEDIAVAULT_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        assert image.save(str(SCREENSHOTS / "main-window.png"))


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (999, "999 bytes"),
        (1000, "1.0 kB"),
        (1_234_567, "1.2 MB"),
        (999_999_999, "1.0 GB"),
        (250_000_000_000, "250 GB"),
    ],
)
def test_human_size(size: int, text: str) -> None:
    assert human_size(size) == text


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


def test_tree_places_fill_the_list(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    _fill(vault, tmp_path)
    photos = vault.resolve_folder("/Photos")
    (tmp_path / "beach.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    vault.import_paths([tmp_path / "beach.jpg"], photos)
    vault.set_favorite([vault.require_file("/notes.txt")], True)
    vault.delete_path("/readme.md")
    window = _window(qtbot, vault)
    tree = window.tree
    qtbot.waitUntil(lambda: window.tree_model.place_index(NodeKind.ALL_FILES).isValid())

    def show(kind: NodeKind) -> list[str]:
        tree.setCurrentIndex(window.tree_model.place_index(kind))
        qtbot.waitUntil(
            lambda: window.model.source is not None and not window.model.loading,
            timeout=10_000,
        )
        return _names(window.model)

    assert show(NodeKind.ALL_FILES) == ["beach.jpg", "budget.csv", "notes.txt"]
    assert window.model.item(0).where == "/Photos"
    assert show(NodeKind.FAVORITES) == ["notes.txt"]
    assert show(NodeKind.TRASH) == ["readme.md"]
    assert show(NodeKind.RECENT)[0] == "beach.jpg"  # newest first
    column = window.model.index(0, Column.SYNC).data()
    assert column == "Not backed up"
    assert show(NodeKind.VAULT) == ["Documents", "Music", "Photos", "budget.csv", "notes.txt"]
