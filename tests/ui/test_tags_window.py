"""Tags in the whole window: a combination of tags picked in the tree is what the list
shows, and ``tag:`` in the search field finds a tag's files."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.vault import Vault
from tests.helpers.windows import WAIT, listed, names, open_window
from ui.folder_tree import NodeKind, TreeRole


def _files(vault: Vault, tmp_path: Path) -> list[int]:
    source = tmp_path / "trip"
    source.mkdir()
    for name in ("beach.txt", "dunes.txt", "office.txt"):
        (source / name).write_text(name, encoding="utf-8")
    vault.import_paths([source], vault.root_id)
    ids = [r.id for r in vault.list_folder(vault.resolve_folder("/trip")).files]
    vault.tag_files(ids[:2], add=["Holiday"], create=True)
    vault.tag_files([ids[0], ids[2]], add=["Sea view"], create=True)
    return ids


def test_a_combination_of_tags_from_the_tree(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    _files(vault, tmp_path)
    window = open_window(qtbot, vault)
    tree, model = window.tree, window.tree_model
    tags = model.place_index(NodeKind.TAGS)
    qtbot.waitUntil(lambda: model.rowCount(tags) == 2, timeout=WAIT)
    tree.expand(tags)
    holiday, sea = model.index(0, 0, tags), model.index(1, 0, tags)
    assert (holiday.data(), sea.data()) == ("Holiday", "Sea view")

    qtbot.mouseClick(  # type: ignore[no-untyped-call]
        tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualRect(holiday).center()
    )
    qtbot.waitUntil(lambda: window.model.source is not None and window.model.source.kind == "tag")
    listed(qtbot, window)
    assert names(window.model) == ["beach.txt", "dunes.txt"]

    qtbot.mouseClick(  # type: ignore[no-untyped-call]
        tree.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ControlModifier,
        tree.visualRect(sea).center(),
    )
    qtbot.waitUntil(
        lambda: window.model.source is not None and len(window.model.source.tag_ids) == 2
    )
    listed(qtbot, window)
    assert names(window.model) == ["beach.txt"]
    # The window following the new place leaves both tags selected.
    assert [p.name for p in tree.selected_tags()] == ["Holiday", "Sea view"]
    tree.set_tag_match("any")
    qtbot.waitUntil(lambda: window.model.source is not None and window.model.source.match == "any")
    listed(qtbot, window)
    assert names(window.model) == ["beach.txt", "dunes.txt", "office.txt"]
    assert [p.data(TreeRole.TAG_ID) for p in tree.selectionModel().selectedIndexes()] == [
        holiday.data(TreeRole.TAG_ID),
        sea.data(TreeRole.TAG_ID),
    ]


def test_tag_terms_in_the_search_field(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    _files(vault, tmp_path)
    window = open_window(qtbot, vault)
    window.search_field.setText('tag:"sea VIEW"')
    window.search_field.returnPressed.emit()
    qtbot.waitUntil(
        lambda: window.model.source is not None and window.model.source.kind == "search"
    )
    listed(qtbot, window)
    assert sorted(names(window.model)) == ["beach.txt", "office.txt"]
    window.search_field.setText("tag:nothing-yet")
    window.search_field.returnPressed.emit()
    qtbot.waitUntil(
        lambda: window.model.source is not None and window.model.source.query == "tag:nothing-yet"
    )
    listed(qtbot, window)
    assert window.model.rowCount() == 0
