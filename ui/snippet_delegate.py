"""The search results' "Found in" cells: the matched words in bold, and in sight.

A hit's cell reads "content: …we watched the [sunset] from…", the words the
search found between brackets. Plain eliding would cut the middle or the end of
such a line, often the match itself; :func:`fit_runs` drops words before the
first match instead (starting the line with "…") so that the match and what
follows it show, and only then elides the end. The cell's text stays the plain
line, for copying, the tooltip and screen readers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import Enum

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

_Index = QModelIndex | QPersistentModelIndex
ELLIPSIS = "…"
_MATCH = re.compile(r"\[([^\[\]]+)\]")
# Trimming the start stops once the match takes at most this share of the room,
# so that some of what follows it shows too.
MATCH_SHARE = 0.75


class Style(Enum):
    LABEL = "label"  # the fields that matched, e.g. "content: "
    TEXT = "text"
    MATCH = "match"  # a word the search found


Run = tuple[str, Style]


def snippet_runs(text: str) -> list[Run]:
    """``text`` ("fields: snippet") as runs: the label, then plain text and matches.
    Line breaks and runs of spaces in the excerpt become single spaces: one line."""
    label, sep, snippet = " ".join(text.split()).partition(": ")
    if not sep:
        return [(text, Style.LABEL)] if text else []
    runs: list[Run] = [(label + sep, Style.LABEL)]
    at = 0
    for found in _MATCH.finditer(snippet):
        if found.start() > at:
            runs.append((snippet[at : found.start()], Style.TEXT))
        runs.append((found.group(1), Style.MATCH))
        at = found.end()
    if at < len(snippet):
        runs.append((snippet[at:], Style.TEXT))
    return runs


def fit_runs(
    runs: list[Run],
    width: int,
    measure: Callable[[str, Style], int],
    elide: Callable[[str, Style, int], str],
) -> list[Run]:
    """``runs`` made to fit ``width``: words before the first match dropped (for an
    "…") until the match shows with some of what follows, then the end elided."""

    def total(rs: list[Run]) -> int:
        return sum(measure(t, s) for t, s in rs)

    if total(runs) <= width:
        return runs
    first = next((i for i, (_, s) in enumerate(runs) if s is Style.MATCH), None)
    if first is not None and first > 0 and runs[first - 1][1] is Style.TEXT:
        head, before = runs[: first - 1], runs[first - 1][0]
        room = width - total(head)
        match = measure(runs[first][0], Style.MATCH)
        lead = ELLIPSIS if before.startswith(ELLIPSIS) else ""
        words = before.removeprefix(ELLIPSIS).split(" ")
        trimmed = False
        while words and measure(lead + " ".join(words), Style.TEXT) + match > room * MATCH_SHARE:
            words.pop(0)
            lead, trimmed = ELLIPSIS, True
        if trimmed:
            runs = [*head, (lead + " ".join(words), Style.TEXT), *runs[first:]]
    fitted: list[Run] = []
    left = width
    for text, style in runs:
        need = measure(text, style)
        if need <= left:
            fitted.append((text, style))
            left -= need
            continue
        if left > 0:
            short = elide(text, style, left)
            if short:
                fitted.append((short, style))
        break
    return fitted


class SnippetDelegate(QStyledItemDelegate):
    """Paints a "Found in" cell from its display text (see the module's docstring)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = opt.text
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        runs = snippet_runs(text)
        if not runs:
            return
        margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget) + 1
        rect: QRect = opt.rect.adjusted(margin, 0, -margin, 0)
        plain = QFont(opt.font)
        bold = QFont(opt.font)
        bold.setBold(True)
        metrics = {False: QFontMetrics(plain), True: QFontMetrics(bold)}

        def measure(t: str, s: Style) -> int:
            return metrics[s is Style.MATCH].horizontalAdvance(t)

        def elide(t: str, s: Style, room: int) -> str:
            short = metrics[s is Style.MATCH].elidedText(t, Qt.TextElideMode.ElideRight, room)
            return "" if short == ELLIPSIS and room < measure(ELLIPSIS, s) else short

        group = (
            QPalette.ColorGroup.Active
            if opt.state & QStyle.StateFlag.State_Active
            else QPalette.ColorGroup.Inactive
        )
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        text_color = opt.palette.color(
            group, QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        label_color = (
            text_color if selected else opt.palette.color(group, QPalette.ColorRole.PlaceholderText)
        )
        painter.save()
        x = rect.left()
        for part, kind in fit_runs(runs, rect.width(), measure, elide):
            painter.setFont(bold if kind is Style.MATCH else plain)
            painter.setPen(label_color if kind is Style.LABEL else text_color)
            advance = measure(part, kind)
            painter.drawText(
                QRect(x, rect.top(), advance + 1, rect.height()),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                part,
            )
            x += advance
        painter.restore()
