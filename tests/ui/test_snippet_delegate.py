"""The search results' "Found in" cells: matches in bold, and kept in sight when the
column is narrow."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QColor, QImage, QPainter, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QStyleOptionViewItem, QTableView
from pytestqt.qtbot import QtBot

from ui.item_model import Column
from ui.item_views import ListView
from ui.snippet_delegate import ELLIPSIS, SnippetDelegate, Style, fit_runs, snippet_runs

LINE = "content: …the driving force behind every decision was the [sunset] over the bay…"


def _measure(text: str, style: Style) -> int:
    """A monospace stand-in: 10 units a character, 12 in bold."""
    return len(text) * (12 if style is Style.MATCH else 10)


def _elide(text: str, style: Style, room: int) -> str:
    width = 12 if style is Style.MATCH else 10
    fits = room // width
    if fits >= len(text):
        return text
    return text[: max(fits - 1, 0)] + ELLIPSIS if fits else ""


def _text(runs: list[tuple[str, Style]]) -> str:
    return "".join(t for t, _ in runs)


def test_runs_split_label_text_and_matches() -> None:
    assert snippet_runs(LINE) == [
        ("content: ", Style.LABEL),
        ("…the driving force behind every decision was the ", Style.TEXT),
        ("sunset", Style.MATCH),
        (" over the bay…", Style.TEXT),
    ]
    assert snippet_runs("content: …leave,\nWe  will [leave]\tand") == [
        ("content: ", Style.LABEL),
        ("…leave, We will ", Style.TEXT),
        ("leave", Style.MATCH),
        (" and", Style.TEXT),
    ]
    assert snippet_runs("name") == [("name", Style.LABEL)]
    assert snippet_runs("") == []
    assert snippet_runs("tag, content: [a] and [b]") == [
        ("tag, content: ", Style.LABEL),
        ("a", Style.MATCH),
        (" and ", Style.TEXT),
        ("b", Style.MATCH),
    ]


def test_a_line_that_fits_is_left_alone() -> None:
    runs = snippet_runs(LINE)
    assert fit_runs(runs, 10_000, _measure, _elide) == runs


def test_a_narrow_cell_drops_words_before_the_match_not_the_match() -> None:
    runs = snippet_runs(LINE)
    fitted = fit_runs(runs, 300, _measure, _elide)
    assert fitted[0] == ("content: ", Style.LABEL)
    assert ("sunset", Style.MATCH) in fitted
    before = fitted[1][0]
    assert before.startswith(ELLIPSIS) and before.endswith("the ")
    assert len(before) < len("…the driving force behind every decision was the ")
    assert sum(_measure(t, s) for t, s in fitted) <= 300
    # The match takes at most three quarters of the room after the label: some of what
    # follows it shows too.
    assert fitted[-1][1] is Style.TEXT and fitted[-1][0].startswith(" ")


def test_a_tiny_cell_elides_what_does_not_fit() -> None:
    fitted = fit_runs(snippet_runs(LINE), 60, _measure, _elide)
    assert _text(fitted) == "conte…"
    assert fit_runs(snippet_runs(LINE), 0, _measure, _elide) == []


class _Recorder(QPainter):
    """A painter that notes what text is drawn, and whether in bold."""

    def __init__(self, image: QImage) -> None:
        super().__init__(image)
        self.drawn: list[tuple[str, bool]] = []

    def drawText(self, *args: Any) -> None:
        self.drawn.append((args[-1], self.font().bold()))
        super().drawText(*args)


def test_the_delegate_paints_the_match_in_bold_and_in_sight(
    qtbot: QtBot, qapp: QApplication
) -> None:
    model = QStandardItemModel(1, 1)
    model.setItem(0, 0, QStandardItem(LINE))
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    delegate = SnippetDelegate(view)
    option = QStyleOptionViewItem()
    option.initFrom(view)
    width = view.fontMetrics().horizontalAdvance("content: …every decision was the sunset")
    option.rect = QRect(0, 0, width, 24)
    image = QImage(QSize(width, 24), QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = _Recorder(image)
    try:
        delegate.paint(painter, option, model.index(0, 0))
    finally:
        painter.end()
    assert ("sunset", True) in painter.drawn
    assert painter.drawn[0] == ("content: ", False)
    assert painter.drawn[1][0].startswith(ELLIPSIS) and not painter.drawn[1][1]
    white = QColor("white")
    assert any(image.pixelColor(x, 12) != white for x in range(width))


def test_the_list_paints_found_in_with_it(qtbot: QtBot) -> None:
    view = ListView()
    qtbot.addWidget(view)
    assert isinstance(view.itemDelegateForColumn(Column.MATCH), SnippetDelegate)
