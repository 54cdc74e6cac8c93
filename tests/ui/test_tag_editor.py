"""The tag editor and the New Tag dialog, driven with keys and clicks over a real vault."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QColorDialog, QToolButton
from pytestqt.qtbot import QtBot

from app.rows import TagChanges
from app.tags import PALETTE
from app.vault import Vault
from ui.tag_editor import ColorChoice, NewTagDialog, TagEditor, next_palette_color
from ui.tasks import TaskManager

WAIT = 10_000
CHECKED, MIXED, UNCHECKED = (
    Qt.CheckState.Checked,
    Qt.CheckState.PartiallyChecked,
    Qt.CheckState.Unchecked,
)


@pytest.fixture
def tasks(qapp: QApplication) -> Iterator[TaskManager]:
    manager = TaskManager(max_threads=1, name="test-tags")
    yield manager
    manager.shutdown()


def _files(vault: Vault, tmp_path: Path, n: int = 3) -> list[int]:
    source = tmp_path / "photos"
    source.mkdir()
    for i in range(n):
        (source / f"p{i}.txt").write_text(f"photo {i}\n", encoding="utf-8")
    vault.import_paths([source], vault.root_id)
    return [r.id for r in vault.list_folder(vault.resolve_folder("/photos")).files]


def _editor(qtbot: QtBot, vault: Vault, tasks: TaskManager, ids: list[int]) -> TagEditor:
    editor = TagEditor(vault, tasks, ids)
    qtbot.addWidget(editor)
    with qtbot.waitSignal(editor.loaded, timeout=WAIT):
        editor.show()
    qtbot.waitExposed(editor)
    return editor


def _states(editor: TagEditor) -> dict[str, Qt.CheckState]:
    return {item.text(): item.checkState() for item in editor.items()}


def _press_space_on(qtbot: QtBot, editor: TagEditor, name: str) -> Qt.CheckState:
    item = editor.item_named(name)
    assert item is not None
    editor.tag_list.setFocus()
    editor.tag_list.setCurrentItem(item)
    qtbot.keyClick(editor.tag_list, Qt.Key.Key_Space)  # type: ignore[no-untyped-call]
    return item.checkState()


def test_tri_state_cycles_and_apply_writes_once(
    qtbot: QtBot, vault: Vault, tasks: TaskManager, tmp_path: Path
) -> None:
    ids = _files(vault, tmp_path)
    vault.tag_files(ids[:2], add=["Family"], create=True)
    vault.tag_files(ids, add=["Work"], create=True)
    vault.tag_files([ids[2]], add=["Receipts"], create=True)
    vault.create_tag("Empty")
    editor = _editor(qtbot, vault, tasks, ids)
    assert editor.windowTitle() == "Tags of 3 Files"
    assert _states(editor) == {
        "Empty": UNCHECKED,
        "Family": MIXED,
        "Receipts": MIXED,
        "Work": CHECKED,
    }
    assert not editor.apply_button.isEnabled()  # nothing changed yet
    family = editor.item_named("family")
    assert family is not None and "2 of the 3 selected" in family.toolTip()

    # Mixed → checked → unchecked → mixed again, by keyboard.
    assert _press_space_on(qtbot, editor, "Family") == CHECKED
    assert editor.apply_button.isEnabled()
    assert _press_space_on(qtbot, editor, "Family") == UNCHECKED
    assert _press_space_on(qtbot, editor, "Family") == MIXED
    assert not editor.apply_button.isEnabled()
    assert _press_space_on(qtbot, editor, "Family") == CHECKED
    assert _press_space_on(qtbot, editor, "Work") == UNCHECKED
    # Receipts is left mixed: each file keeps what it has.

    changed: list[TagChanges] = []
    editor.tags_changed.connect(changed.append)
    with qtbot.waitSignal(editor.accepted, timeout=WAIT):
        qtbot.mouseClick(editor.apply_button, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
    assert changed and changed[0].files == frozenset(ids)
    tags = {f: {t.name for t in vault.file_tags(f)} for f in ids}
    assert tags == {ids[0]: {"Family"}, ids[1]: {"Family"}, ids[2]: {"Family", "Receipts"}}


def test_filter_and_create_from_the_field(
    qtbot: QtBot, vault: Vault, tasks: TaskManager, tmp_path: Path
) -> None:
    ids = _files(vault, tmp_path, 2)
    for name in ("Beach", "Birthday", "Work"):
        vault.create_tag(name)
    editor = _editor(qtbot, vault, tasks, [ids[0]])
    assert editor.windowTitle() == "Tags"
    qtbot.keyClicks(editor.filter_edit, "b")  # type: ignore[no-untyped-call]
    visible = [i.text() for i in editor.items() if not i.isHidden()]
    assert visible == ["Beach", "Birthday"]
    assert editor.create_button.isVisible()  # "b" could be a new tag too
    qtbot.keyClicks(editor.filter_edit, "IRTHDAY")  # type: ignore[no-untyped-call]
    assert [i.text() for i in editor.items() if not i.isHidden()] == ["Birthday"]
    assert not editor.create_button.isVisible()  # that tag exists, ignoring case
    editor.filter_edit.setText("birth")
    assert editor.create_button.text() == "Create tag “birth”"
    # Enter with one tag shown checks it (rather than creating "birth") and clears the field.
    qtbot.keyClick(editor.filter_edit, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    assert _states(editor)["Birthday"] == CHECKED
    assert editor.filter_edit.text() == ""
    assert all(not i.isHidden() for i in editor.items())

    # A new name: offered for creation with the palette's next colour; Enter creates it.
    qtbot.keyClicks(editor.filter_edit, "Road trip")  # type: ignore[no-untyped-call]
    assert editor.create_button.isVisible()
    assert editor.create_button.text() == "Create tag “Road trip”"
    assert editor.color_button.isVisible()
    # A name with a double quote is refused, with the reason.
    editor.filter_edit.setText('Road "trip"')
    assert not editor.create_button.isVisible()
    assert "double quote" in editor.status.text()
    editor.filter_edit.setText("Road trip")
    assert editor.status.text() == ""
    editor.color_button.menu().actions()[5].trigger()  # blue
    qtbot.keyClick(editor.filter_edit, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    new = editor.item_named("road trip")
    assert new is not None and new.checkState() == CHECKED
    assert editor.items()[0] is new
    add, remove, colors = editor.pending()
    birthday = vault.tag_named("Birthday").id
    assert add == ["Road trip", birthday] and remove == []
    assert colors == {"Road trip": dict(PALETTE)["blue"]}
    # The same name again is not offered twice.
    qtbot.keyClicks(editor.filter_edit, "ROAD TRIP")  # type: ignore[no-untyped-call]
    assert not editor.create_button.isVisible()
    editor.filter_edit.clear()

    with qtbot.waitSignal(editor.tags_changed, timeout=WAIT) as changed:
        editor.apply()
    assert len(changed.args[0].created) == 1
    assert {t.name: t.color for t in vault.file_tags(ids[0])} == {
        "Birthday": vault.tag(birthday).color,
        "Road trip": dict(PALETTE)["blue"],
    }


def test_unticking_a_new_tag_creates_nothing_and_cancel_writes_nothing(
    qtbot: QtBot, vault: Vault, tasks: TaskManager, tmp_path: Path
) -> None:
    ids = _files(vault, tmp_path, 1)
    editor = _editor(qtbot, vault, tasks, ids)
    assert "No tags yet" in editor.status.text()
    editor.filter_edit.setText("Fresh")
    item = editor.create_from_filter()
    assert item is not None
    assert editor.apply_button.isEnabled()
    item.setCheckState(UNCHECKED)
    assert editor.pending() == ([], [], {})
    assert not editor.apply_button.isEnabled()
    editor.reject()
    assert vault.tags_with_counts() == []


def test_an_apply_that_fails_says_why_and_stays_open(
    qtbot: QtBot, vault: Vault, tasks: TaskManager, tmp_path: Path
) -> None:
    ids = _files(vault, tmp_path, 2)
    vault.create_tag("Keep")
    editor = _editor(qtbot, vault, tasks, ids)
    _press_space_on(qtbot, editor, "Keep")
    vault.delete_file(ids[1])  # behind the editor's back
    editor.apply()
    qtbot.waitUntil(lambda: "Trash" in editor.status.text(), timeout=WAIT)
    assert editor.isVisible()
    assert editor.apply_button.isEnabled()
    assert vault.tag_usage(vault.tag_named("Keep").id) == 0


def test_new_tag_dialog(qtbot: QtBot) -> None:
    dialog = NewTagDialog(["Family", "Work"], PALETTE[3][1])
    qtbot.addWidget(dialog)
    chosen: list[tuple[str, str]] = []
    dialog.chosen.connect(lambda name, color: chosen.append((name, color)))
    dialog.show()
    assert not dialog.create_button.isEnabled()
    qtbot.keyClicks(dialog.name_edit, "family")  # type: ignore[no-untyped-call]
    assert not dialog.create_button.isEnabled()
    assert "already a tag" in dialog.problem.text()
    dialog.name_edit.setText("x\ty")
    assert "control characters" in dialog.problem.text()
    dialog.name_edit.setText("  Holidays ")
    assert dialog.create_button.isEnabled() and dialog.problem.text() == ""
    assert dialog.colors.color == PALETTE[3][1]
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT):
        qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    assert chosen == [("Holidays", PALETTE[3][1])]


def test_color_choice(qtbot: QtBot) -> None:
    choice = ColorChoice(PALETTE[0][1])
    qtbot.addWidget(choice)
    seen: list[str] = []
    choice.color_changed.connect(seen.append)
    assert len(choice.findChildren(QToolButton)) == len(PALETTE)  # the swatches
    choice.set_color("#123456")
    assert choice.color == "#123456" and not choice.other.icon().isNull()
    choice.set_color(PALETTE[2][1].upper())
    assert choice.color == PALETTE[2][1] and choice.other.icon().isNull()
    assert seen == ["#123456", PALETTE[2][1]]
    # "Other…" opens a colour dialog; its OK picks that colour.
    qtbot.mouseClick(choice.other, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
    dialog = choice.findChild(QColorDialog)
    assert dialog is not None
    dialog.setCurrentColor(QColor("#00ff00"))
    dialog.accept()
    assert choice.color == "#00ff00"


def test_next_palette_color() -> None:
    assert next_palette_color([]) == PALETTE[0][1]
    assert next_palette_color([PALETTE[0][1], PALETTE[1][1].upper()]) == PALETTE[2][1]
    everything = [c for _n, c in PALETTE]
    assert next_palette_color([*everything, PALETTE[0][1]]) == PALETTE[1][1]
