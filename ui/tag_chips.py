"""Tags drawn as coloured chips: in the list's Tags column, on grid cells, in the preview pane.

Painting is cheap and never queries: everything comes from the row (its tag
names and colours, loaded with the page). :func:`paint_chips` draws rounded
chips left to right and ends with "+N" when the rest does not fit;
:func:`paint_dots` draws the compact coloured dots a grid cell shows.
:class:`TagChipsDelegate` is the list's Tags column; :class:`TagChipRow` is a
row of clickable chips (buttons, so they take the focus and are read out by
screen readers) for the preview pane.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QIcon,
    QPainter,
    QPaintEvent,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QLayout,
    QLayoutItem,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from app.rows import TagInfo

_Index = QModelIndex | QPersistentModelIndex

FALLBACK_COLOR = "#8b8d98"  # a tag without a colour of its own (older catalogs)
CHIP_SPACING = 4
DOT_SIZE = 8


def chip_color(color: str) -> QColor:
    """The tag's colour, or a neutral grey when it has none or it is not a colour."""
    parsed = QColor(color) if color else QColor()
    return parsed if parsed.isValid() else QColor(FALLBACK_COLOR)


def text_color_on(background: QColor) -> QColor:
    """Black or white, whichever reads better on ``background`` (relative luminance)."""
    r, g, b = (background.redF(), background.greenF(), background.blueF())
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return QColor("#1c1c1f") if luminance > 0.55 else QColor("#ffffff")


def chip_font(font: QFont) -> QFont:
    """The chips' font: the view's, a little smaller."""
    small = QFont(font)
    if small.pointSizeF() > 0:
        small.setPointSizeF(max(small.pointSizeF() * 0.88, 7.0))
    return small


def chip_width(metrics: QFontMetrics, name: str) -> int:
    """The width of a chip showing ``name``."""
    return metrics.horizontalAdvance(name) + metrics.height()


def chips_width(font: QFont, names: Sequence[str], more: int = 0) -> int:
    """The width :func:`paint_chips` needs to show ``names`` followed by "+``more``"."""
    metrics = QFontMetrics(chip_font(font))
    width = sum(chip_width(metrics, name) + CHIP_SPACING for name in names)
    return width + (metrics.horizontalAdvance(f"+{more}") if more else 0)


def paint_chip(painter: QPainter, rect: QRect, name: str, color: str) -> None:
    """One chip: a rounded rectangle in the tag's colour with its name."""
    fill = chip_color(color)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(fill)
    radius = rect.height() / 2
    painter.drawRoundedRect(QRectF(rect), radius, radius)
    painter.setPen(text_color_on(fill))
    painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), name)


def paint_chips(
    painter: QPainter,
    rect: QRect,
    names: Sequence[str],
    colors: Sequence[str],
    font: QFont,
    more_color: QColor | None = None,
) -> int:
    """Chips for ``names`` from the left of ``rect``, vertically centred; returns how many.

    What does not fit is summed up as "+N" (in ``more_color``, default grey).
    The painter's state is restored afterwards.
    """
    if not names:
        return 0
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    small = chip_font(font)
    painter.setFont(small)
    metrics = QFontMetrics(small)
    height = min(rect.height(), metrics.height() + 4)
    top = rect.top() + (rect.height() - height) // 2
    x, end = rect.left(), rect.left() + rect.width()  # (rect.right() is the last pixel in)
    shown = 0
    for i, name in enumerate(names):
        width = chip_width(metrics, name)
        rest = len(names) - i - 1
        room = end - x
        if rest:
            room -= metrics.horizontalAdvance(f"+{rest}") + CHIP_SPACING
        if width > room:
            if shown == 0 and room > metrics.height() * 2:  # elide the first one, if any room
                elided = metrics.elidedText(
                    name, Qt.TextElideMode.ElideRight, room - metrics.height()
                )
                paint_chip(
                    painter,
                    QRect(x, top, room, height),
                    elided,
                    colors[i] if i < len(colors) else "",
                )
                shown, x = 1, x + room + CHIP_SPACING
            break
        paint_chip(
            painter, QRect(x, top, width, height), name, colors[i] if i < len(colors) else ""
        )
        x += width + CHIP_SPACING
        shown += 1
    if shown < len(names):
        painter.setPen(more_color or QColor(FALLBACK_COLOR))
        painter.drawText(
            QRect(x, top, max(end - x, 0), height),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            f"+{len(names) - shown}",
        )
    painter.restore()
    return shown


def paint_dots(painter: QPainter, rect: QRect, colors: Sequence[str], limit: int = 5) -> None:
    """Overlapping coloured dots from the left of ``rect`` (as Finder marks tagged files)."""
    if not colors:
        return
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    x = rect.left()
    top = rect.top() + (rect.height() - DOT_SIZE) // 2
    for color in list(colors)[:limit]:
        painter.setPen(QColor(255, 255, 255, 220))
        painter.setBrush(chip_color(color))
        painter.drawEllipse(QRectF(x, top, DOT_SIZE, DOT_SIZE))
        x += DOT_SIZE - 2
    painter.restore()


def swatch_icon(color: str, side: int = 16) -> QIcon:
    """A round swatch of ``color``, for menus, lists and buttons."""
    pixmap = QPixmap(QSize(side, side))
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(chip_color(color))
    margin = side * 0.15
    painter.drawEllipse(QRectF(margin, margin, side - 2 * margin, side - 2 * margin))
    painter.end()
    return QIcon(pixmap)


class TagChipsDelegate(QStyledItemDelegate):
    """The list's Tags column: the row's tags as chips over the usual cell background.

    Reads the tag names and colours from the index's ``names_role`` and
    ``colors_role`` (tuples of str); the display text stays the plain list of
    names, for copying and screen readers.
    """

    def __init__(self, names_role: int, colors_role: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._names_role = names_role
        self._colors_role = colors_role

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        names = index.data(self._names_role) or ()
        colors = index.data(self._colors_role) or ()
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        if names:
            rect: QRect = opt.rect.adjusted(4, 2, -4, -2)
            paint_chips(painter, rect, names, colors, opt.font)


class TagChip(QAbstractButton):
    """One clickable chip (a flat button in the tag's colour); Tab reaches it, Space clicks."""

    def __init__(self, tag: TagInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tag = tag
        self.setText(tag.name)
        self.setToolTip(f"Show the files tagged “{tag.name}”")
        self.setAccessibleName(f"Tag {tag.name}")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        metrics = QFontMetrics(chip_font(self.font()))
        return QSize(chip_width(metrics, self.text()) + 2, metrics.height() + 6)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(chip_font(self.font()))
        rect = self.rect().adjusted(1, 1, -1, -1)
        paint_chip(painter, rect, self.text(), self.tag.color)
        if self.hasFocus() or self.underMouse():
            pen = self.palette().highlight().color() if self.hasFocus() else QColor(0, 0, 0, 60)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            radius = rect.height() / 2
            painter.drawRoundedRect(QRectF(rect), radius, radius)
        painter.end()


class _FlowLayout(QLayout):
    """Children left to right, wrapping onto new lines when the width runs out."""

    def __init__(self, parent: QWidget | None = None, spacing: int = CHIP_SPACING) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._gap = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _place(self, rect: QRect, move: bool) -> int:
        x, y, line = rect.x(), rect.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > rect.right() + 1 and line > 0:
                x, y, line = rect.x(), y + line + self._gap, 0
            if move:
                item.setGeometry(QRect(x, y, hint.width(), hint.height()))
            x += hint.width() + self._gap
            line = max(line, hint.height())
        return y + line - rect.y()


class TagChipRow(QWidget):
    """A file's tags as clickable chips that wrap, for the preview pane.

    Signals:
        tag_clicked(int): the user clicked (or pressed Space on) the chip of this tag id.
    """

    tag_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = _FlowLayout(self)
        self._chips: list[TagChip] = []
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)  # chips wrap: a narrower pane makes it taller
        self.setSizePolicy(policy)
        self.setAccessibleName("Tags")

    @property
    def chips(self) -> list[TagChip]:
        """The chips shown, in order."""
        return list(self._chips)

    def set_tags(self, tags: Sequence[TagInfo]) -> None:
        """Show these tags (in this order), replacing the chips shown."""
        for chip in self._chips:
            self._layout.removeWidget(chip)
            chip.deleteLater()
        self._chips = []
        for tag in tags:
            chip = TagChip(tag, self)
            chip.clicked.connect(lambda _=False, t=tag.id: self.tag_clicked.emit(t))
            self._layout.addWidget(chip)
            chip.show()
            self._chips.append(chip)
        self._layout.invalidate()
        self.updateGeometry()

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._layout.heightForWidth(width)

    def sizeHint(self) -> QSize:
        width = sum(c.sizeHint().width() + CHIP_SPACING for c in self._chips)
        height = max((c.sizeHint().height() for c in self._chips), default=0)
        return QSize(width, height)

    def minimumSizeHint(self) -> QSize:
        width = max((c.sizeHint().width() for c in self._chips), default=0)
        return QSize(width, self.heightForWidth(max(self.width(), width)))
