"""Tags shown as coloured chips: the painting helpers, the list's Tags column, the grid's
dots and hover chips, the preview pane's clickable chips, and rows updated after tagging."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from app.browse import Source
from app.rows import TagInfo
from app.vault import Vault
from ui.item_model import Column, ItemModel, ItemRole
from ui.item_views import GridView, ListView
from ui.preview_pane import PreviewPane
from ui.tag_chips import (
    TagChipRow,
    chip_color,
    chips_width,
    paint_chips,
    paint_dots,
    text_color_on,
)
from ui.tasks import TaskManager

WAIT = 10_000
RED, BLUE = "#e5484d", "#0090ff"


@pytest.fixture
def tasks(qapp: QApplication) -> Iterator[TaskManager]:
    manager = TaskManager(max_threads=1, name="test-chips")
    yield manager
    manager.shutdown()


def _image(width: int, height: int) -> QImage:
    image = QImage(QSize(width, height), QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    return image


def _has(image: QImage, color: str, rect: QRect | None = None) -> bool:
    """Whether some pixel of ``rect`` (default: all) is ``color``, give or take a little."""
    want = QColor(color)
    area = rect or image.rect()
    for y in range(max(area.top(), 0), min(area.bottom() + 1, image.height())):
        for x in range(max(area.left(), 0), min(area.right() + 1, image.width())):
            got = image.pixelColor(x, y)
            if (
                abs(got.red() - want.red()) < 6
                and abs(got.green() - want.green()) < 6
                and abs(got.blue() - want.blue()) < 6
            ):
                return True
    return False


def _tagged_files(vault: Vault, tmp_path: Path) -> list[int]:
    source = tmp_path / "pics"
    source.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (source / name).write_text(name, encoding="utf-8")
    vault.import_paths([source], vault.root_id)
    ids = [r.id for r in vault.list_folder(vault.resolve_folder("/pics")).files]
    vault.tag_files(ids[:2], add=["Family"], create=True, colors={"Family": RED})
    vault.tag_files([ids[0]], add=["Work"], create=True, colors={"Work": BLUE})
    return ids


def _loaded_model(qtbot: QtBot, vault: Vault, tasks: TaskManager) -> ItemModel:
    model = ItemModel(vault, tasks)
    with qtbot.waitSignal(model.loaded, timeout=WAIT):
        model.load(Source.folder(vault.resolve_folder("/pics")))
    return model


# -- painting ------------------------------------------------------------------


def test_paint_chips_and_dots() -> None:
    image = _image(300, 24)
    painter = QPainter(image)
    shown = paint_chips(painter, QRect(0, 0, 300, 24), ["Family", "Work"], [RED, BLUE], QFont())
    painter.end()
    assert shown == 2
    assert _has(image, RED, QRect(0, 0, 150, 24)) and _has(image, BLUE)

    # Too narrow for both: the first, then "+1".
    narrow = _image(90, 24)
    painter = QPainter(narrow)
    shown = paint_chips(
        painter, QRect(0, 0, 90, 24), ["Family", "Work"], [RED, BLUE], QFont(), QColor("#00aa00")
    )
    painter.end()
    assert shown == 1
    assert _has(narrow, RED) and not _has(narrow, BLUE)

    dots = _image(40, 12)
    painter = QPainter(dots)
    paint_dots(painter, QRect(0, 0, 40, 12), [RED, BLUE, ""])
    painter.end()
    assert _has(dots, RED) and _has(dots, BLUE)


def test_chips_width_is_what_the_chips_need() -> None:
    names, more = ["Family", "Italy 2023"], ["Work"] * 9
    for rest in (0, len(more)):
        width = chips_width(QFont(), names, rest)
        shown = []
        for room in (width, width - 8):
            image = _image(width, 24)
            painter = QPainter(image)
            shown.append(
                paint_chips(painter, QRect(0, 0, room, 24), names + more[:rest], [RED], QFont())
            )
            painter.end()
        assert shown == [2, 1], rest  # both in full (then "+9"), or one and "+N"


def test_colours_and_contrast() -> None:
    assert chip_color("").name() == "#8b8d98"
    assert chip_color("not a colour").name() == "#8b8d98"
    assert chip_color(RED).name() == RED
    assert text_color_on(QColor("#ffe066")).name() == "#1c1c1f"  # dark text on yellow
    assert text_color_on(QColor("#1f2d5c")).name() == "#ffffff"


# -- the views -----------------------------------------------------------------


def test_rows_carry_tags_and_the_list_paints_chips(
    qtbot: QtBot, vault: Vault, tasks: TaskManager, tmp_path: Path
) -> None:
    ids = _tagged_files(vault, tmp_path)
    model = _loaded_model(qtbot, vault, tasks)
    row = model.row_of(ids[0], False)
    assert row is not None
    index = model.index(row, Column.TAGS)
    assert index.data() == "Family, Work"  # the text stays, for copying and screen readers
    assert index.data(ItemRole.TAG_NAMES) == ("Family", "Work")
    assert index.data(ItemRole.TAG_COLORS) == (RED, BLUE)
    assert index.data(Qt.ItemDataRole.ToolTipRole) == "Family, Work"
    assert "Tags: Family, Work" in model.index(row, Column.NAME).data(Qt.ItemDataRole.ToolTipRole)

    view = ListView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(900, 200)
    view.horizontalHeader().resizeSection(Column.TAGS, 220)
    view.show()
    qtbot.waitExposed(view)
    image = view.viewport().grab().toImage()
    cell = view.visualRect(index)
    scale = image.devicePixelRatio()
    area = QRect(
        int(cell.x() * scale),
        int(cell.y() * scale),
        int(cell.width() * scale),
        int(cell.height() * scale),
    )
    assert _has(image, RED, area) and _has(image, BLUE, area)
    untagged = view.visualRect(model.index(model.row_of(ids[2], False) or 0, Column.TAGS))
    assert not _has(
        image,
        RED,
        QRect(
            int(untagged.x() * scale),
            int(untagged.y() * scale),
            int(untagged.width() * scale),
            int(untagged.height() * scale),
        ),
    )


def test_grid_shows_dots_and_chips_on_hover(
    qtbot: QtBot, vault: Vault, tasks: TaskManager, tmp_path: Path
) -> None:
    ids = _tagged_files(vault, tmp_path)
    model = _loaded_model(qtbot, vault, tasks)
    grid = GridView()
    qtbot.addWidget(grid)
    grid.setModel(model)
    grid.resize(600, 400)
    grid.show()
    qtbot.waitExposed(grid)
    index = model.index(model.row_of(ids[0], False) or 0, 0)
    delegate = grid.itemDelegate()
    rect = grid.visualRect(index)

    def paint(hover: bool) -> QImage:
        image = _image(rect.width(), rect.height())
        option = QStyleOptionViewItem()
        option.initFrom(grid)
        option.rect = QRect(0, 0, rect.width(), rect.height())
        option.font = grid.font()
        if hover:
            option.state |= QStyle.StateFlag.State_MouseOver
        painter = QPainter(image)
        delegate.paint(painter, option, index)
        painter.end()
        return image

    plain = paint(False)
    assert _has(plain, RED) and _has(plain, BLUE)  # the dots
    hovered = paint(True)

    # On hover, chips with names: far more of each colour than two dots.
    def count(image: QImage, color: str) -> int:
        want = QColor(color)
        return sum(
            1
            for y in range(image.height())
            for x in range(image.width())
            if image.pixelColor(x, y) == want
        )

    assert count(hovered, RED) > 3 * count(plain, RED) > 0


def test_rows_follow_tag_changes(
    qtbot: QtBot, vault: Vault, tasks: TaskManager, tmp_path: Path
) -> None:
    ids = _tagged_files(vault, tmp_path)
    model = _loaded_model(qtbot, vault, tasks)
    changes = vault.recolor_tag(vault.tag_named("Work").id, "#00ff00")
    row = model.row_of(ids[0], False)
    assert row is not None
    with qtbot.waitSignal(model.dataChanged, timeout=WAIT) as changed:
        model.apply_tag_changes(changes)
    assert changed.args[0].row() == row == changed.args[1].row()
    assert model.item(row).tag_colors == (RED, "#00ff00")
    changes = vault.tag_files([ids[2]], add=["Work"])
    with qtbot.waitSignal(model.dataChanged, timeout=WAIT):
        model.apply_tag_changes(changes)
    assert model.item(model.row_of(ids[2], False) or 0).tags == "Work"
    # Where membership may change (a tag's files), the list is listed again.
    with qtbot.waitSignal(model.loaded, timeout=WAIT):
        model.load(Source.tag(vault.tag_named("Family").id))
    changes = vault.tag_files([ids[1]], remove=["Family"])
    with qtbot.waitSignal(model.loaded, timeout=WAIT):
        model.apply_tag_changes(changes)
    assert [model.item(r).id for r in range(model.rowCount())] == [ids[0]]


# -- the preview pane ------------------------------------------------------------


def test_chip_row_wraps_and_clicks(qtbot: QtBot) -> None:
    row = TagChipRow()
    qtbot.addWidget(row)
    tags = [TagInfo(i, f"Tag number {i}", RED if i % 2 else BLUE) for i in range(1, 7)]
    row.set_tags(tags)
    row.resize(200, 200)
    row.show()
    qtbot.waitExposed(row)
    assert [c.text() for c in row.chips] == [t.name for t in tags]
    assert row.heightForWidth(200) > row.heightForWidth(2000)  # wraps when narrow
    assert row.chips[0].accessibleName() == "Tag Tag number 1"
    with qtbot.waitSignal(row.tag_clicked, timeout=WAIT) as clicked:
        qtbot.mouseClick(row.chips[2], Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
    assert clicked.args == [3]
    row.chips[4].setFocus()
    with qtbot.waitSignal(row.tag_clicked, timeout=WAIT) as pressed:
        qtbot.keyClick(row.chips[4], Qt.Key.Key_Space)  # type: ignore[no-untyped-call]
    assert pressed.args == [5]
    row.set_tags([])
    assert row.chips == []


def test_preview_pane_shows_clickable_chips(
    qtbot: QtBot, vault: Vault, tasks: TaskManager, tmp_path: Path
) -> None:
    ids = _tagged_files(vault, tmp_path)
    pane = PreviewPane(vault, tasks, None)
    qtbot.addWidget(pane)
    pane.resize(320, 600)
    pane.show()
    pane.show_file(ids[0])
    qtbot.waitUntil(lambda: pane.title == "a.txt", timeout=WAIT)
    assert pane.properties()["Tags"] == "Family, Work"
    chips = pane.tag_chips.chips
    assert [(c.text(), c.tag.color) for c in chips] == [("Family", RED), ("Work", BLUE)]
    assert all(c.isVisible() for c in chips)
    with qtbot.waitSignal(pane.tag_clicked, timeout=WAIT) as clicked:
        qtbot.mouseClick(chips[1], Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
    assert clicked.args == [vault.tag_named("work").id]
    # A file without tags hides the row.
    pane.show_file(ids[2])
    qtbot.waitUntil(lambda: pane.title == "c.txt", timeout=WAIT)
    assert "Tags" not in pane.properties()
    assert pane.tag_chips.chips == []


def test_chip_hover_repaints(qtbot: QtBot) -> None:
    row = TagChipRow()
    qtbot.addWidget(row)
    row.set_tags([TagInfo(1, "Family", RED)])
    row.show()
    qtbot.waitExposed(row)
    chip = row.chips[0]
    enter = QMouseEvent(
        QEvent.Type.Enter,
        QPointF(2, 2),
        QPointF(chip.mapToGlobal(QPoint(2, 2))),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(chip, enter)
    image = chip.grab().toImage()
    assert _has(image, RED)
