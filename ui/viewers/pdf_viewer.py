"""The preview pane's PDF viewer: continuous pages, zoom, find, passwords.

Every page is a placeholder of the right size from the moment the document
opens (``"pdf.open"`` lists the page sizes), so a 500-page PDF scrolls at
once; only the pages in view, and one either side, are drawn, one request at
a time, by a viewer worker (:mod:`app.pdf_pages`, ``"pdf.page"``). MuPDF never
runs in this process. Drawn pages stay in a cache bounded by bytes; after a
zoom or a move to a screen of another pixel ratio the old image is shown
scaled until the sharp one arrives.

Every answer carries the number of the document it was asked for and the
zoom it was drawn at: one for another file (the selection moved on) or for
another zoom is dropped.
"""

from __future__ import annotations

import bisect
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QEvent,
    QObject,
    QPointF,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QIcon,
    QImage,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
    QShortcut,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.workers import NoWorker, WorkerFailed, WorkerPool
from ui.tasks import Task
from ui.viewers.base import Viewer, ViewerServices, ViewerSource, worker_answer

log = logging.getLogger(__name__)

READER = "PDF reader"
MARGIN = 12
"""Logical pixels around the pages."""
GAP = 10
"""Logical pixels between two pages."""
CACHE_BYTES = 256 << 20
"""Drawn pages kept in memory; the pages in view are kept even beyond it."""
MAX_PIXELS = 40_000_000
"""The largest page image accepted from a worker (the worker caps itself alike)."""
ZOOM_STEPS = (10, 25, 50, 67, 75, 100, 125, 150, 200, 300, 400, 600, 800)
"""Percent steps of zoom in / zoom out and of the zoom box."""
MIN_PERCENT, MAX_PERCENT = 5.0, 1600.0
MAX_QUERY = 500
"""The longest text searched for, in characters (the worker's cap too)."""
FIT_WIDTH, FIT_PAGE = "fit-width", "fit-page"
NO_MATCHES = "No matches"
PASSWORD_TEXT = "This PDF is protected by a password."
WRONG_PASSWORD_TEXT = "The password is wrong. Try again."

ZoomMode = str | float
"""``"fit-width"``, ``"fit-page"`` or a percent (100.0 is the page's printed size)."""


@dataclass
class _Rendered:
    """One drawn page: its image and the zoom (pixels per point) it was asked at."""

    image: QImage
    zoom: float

    @property
    def nbytes(self) -> int:
        return int(self.image.sizeInBytes())


@dataclass(frozen=True)
class _Hit:
    page: int  # 0-based
    rect: QRectF  # points, on the rotated page


def _render(
    workers: WorkerPool, request: dict[str, Any], cancel: threading.Event
) -> tuple[dict[str, Any], QImage | None]:
    """Has a worker draw one page; builds its QImage. Runs on a pool thread (no widgets)."""
    header, payload = workers.run(request, reader=READER, cancel=cancel)
    if worker_answer(header) is not None:
        return header, None
    width, height, stride = header.get("width"), header.get("height"), header.get("stride")
    if not (isinstance(width, int) and isinstance(height, int) and isinstance(stride, int)):
        return {"ok": False, "reason": "the PDF reader answered nonsense"}, None
    if not (width > 0 and height > 0 and width * height <= MAX_PIXELS and stride >= width * 3):
        return {"ok": False, "reason": "the PDF reader answered nonsense"}, None
    if len(payload) < stride * height:
        return {"ok": False, "reason": "the PDF reader answered nonsense"}, None
    # copy(): the QImage must own its pixels, not borrow the payload's buffer.
    image = QImage(payload, width, height, stride, QImage.Format.Format_RGB888).copy()
    return header, image


class _PageView(QAbstractScrollArea):
    """Paints the pages one below the other; knows geometry, not documents.

    Coordinates: "document" pixels are logical pixels of the whole column of
    pages (before scrolling); page sizes are in points times :attr:`scale`.

    Signals:
        viewport_changed(): scrolled, resized or moved to another pixel ratio;
            the viewer decides which pages to draw.
        page_painted(int): a page's freshly drawn image was painted (0-based).
        page_key(str): "previous", "next", "first" or "last" was pressed.
        zoom_wheel(int): Ctrl+wheel; +1 zooms in, -1 out.
    """

    viewport_changed = Signal()
    page_painted = Signal(int)
    page_key = Signal(str)
    zoom_wheel = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sizes: list[tuple[float, float]] = []
        self.scale = 1.0
        self.tops: list[float] = []
        self.images: OrderedDict[int, _Rendered] = OrderedDict()
        self.errors: dict[int, str] = {}
        self.hits: dict[int, list[tuple[int, QRectF]]] = {}  # page → (hit index, rect)
        self.current_hit = -1
        self.fresh: set[int] = set()  # drawn, not yet announced by page_painted
        self._dpr = 0.0
        self._width = 0.0
        self._height = 0.0
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        # Always on: a bar that comes and goes would change the fit-width zoom
        # and, with it, whether the bar is needed.
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.viewport().setBackgroundRole(QPalette.ColorRole.Mid)
        self.viewport().setAutoFillBackground(True)
        self.setAccessibleName("PDF pages")
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.horizontalScrollBar().valueChanged.connect(self._scrolled)

    # --- geometry -----------------------------------------------------------

    def set_layout(self, sizes: list[tuple[float, float]], scale: float) -> None:
        """Lays the pages out at ``scale`` logical pixels per point."""
        self.sizes = sizes
        self.scale = scale
        tops: list[float] = []
        y = float(MARGIN)
        for _, height in sizes:
            tops.append(y)
            y += height * scale + GAP
        self.tops = tops
        self._width = max((w for w, _ in sizes), default=0.0) * scale + 2 * MARGIN
        self._height = y - GAP + MARGIN if sizes else 0.0
        self._update_bars()
        self.viewport().update()

    def page_rect(self, page: int) -> QRectF:
        """The page's rectangle in document pixels."""
        width, height = self.sizes[page]
        column = max(self._width, float(self.viewport().width()))
        w, h = width * self.scale, height * self.scale
        return QRectF((column - w) / 2, self.tops[page], w, h)

    def visible_pages(self) -> range:
        """The pages at least partly in view, in order."""
        if not self.sizes:
            return range(0)
        top = float(self.verticalScrollBar().value())
        bottom = top + self.viewport().height()
        first = max(0, bisect.bisect_right(self.tops, top) - 1)
        last = max(first, bisect.bisect_right(self.tops, bottom) - 1)
        return range(first, min(last + 1, len(self.sizes)))

    def most_visible_page(self) -> int:
        """The page taking the most of the view (0-based), or -1 without pages."""
        top = float(self.verticalScrollBar().value())
        bottom = top + self.viewport().height()
        best, best_height = -1, -1.0
        for page in self.visible_pages():
            rect = self.page_rect(page)
            shown = min(rect.bottom(), bottom) - max(rect.top(), top)
            if shown > best_height + 0.5:
                best, best_height = page, shown
        return best

    def scroll_to_page(self, page: int) -> None:
        """Puts the top of ``page`` at the top of the view."""
        self.verticalScrollBar().setValue(round(self.tops[page] - MARGIN))

    def ensure_visible(self, page: int, rect: QRectF) -> None:
        """Scrolls so ``rect`` (points on ``page``) is in view, centred if it was not."""
        area = self.to_document(page, rect)
        view = QRectF(
            self.horizontalScrollBar().value(),
            self.verticalScrollBar().value(),
            self.viewport().width(),
            self.viewport().height(),
        )
        if view.contains(area):
            return
        self.verticalScrollBar().setValue(round(area.center().y() - view.height() / 2))
        if area.left() < view.left() or area.right() > view.right():
            self.horizontalScrollBar().setValue(round(area.center().x() - view.width() / 2))

    def to_document(self, page: int, rect: QRectF) -> QRectF:
        """``rect`` in points on ``page`` → document pixels."""
        origin = self.page_rect(page).topLeft()
        s = self.scale
        return QRectF(origin + QPointF(rect.x() * s, rect.y() * s), rect.size() * s)

    def to_viewport(self, rect: QRectF) -> QRectF:
        """Document pixels → viewport pixels."""
        return rect.translated(
            -self.horizontalScrollBar().value(), -self.verticalScrollBar().value()
        )

    def anchor(self) -> tuple[int, float]:
        """Where the view is: the page at its top and how far down it (a fraction)."""
        if not self.sizes:
            return 0, 0.0
        top = float(self.verticalScrollBar().value()) + MARGIN
        page = max(0, bisect.bisect_right(self.tops, top) - 1)
        height = self.sizes[page][1] * self.scale
        return page, (top - self.tops[page]) / height if height > 0 else 0.0

    def restore(self, anchor: tuple[int, float]) -> None:
        """Scrolls back to an :meth:`anchor` after the layout changed."""
        page, fraction = anchor
        if 0 <= page < len(self.tops):
            height = self.sizes[page][1] * self.scale
            self.verticalScrollBar().setValue(round(self.tops[page] + fraction * height - MARGIN))

    def _update_bars(self) -> None:
        if not self.sizes:
            self.verticalScrollBar().setRange(0, 0)
            self.horizontalScrollBar().setRange(0, 0)
            return
        view = self.viewport().size()
        vertical = self.verticalScrollBar()
        vertical.setRange(0, max(0, math.ceil(self._height) - view.height()))
        vertical.setPageStep(max(1, view.height()))
        vertical.setSingleStep(max(1, self.fontMetrics().height() * 2))
        horizontal = self.horizontalScrollBar()
        horizontal.setRange(0, max(0, math.ceil(self._width) - view.width()))
        horizontal.setPageStep(max(1, view.width()))
        horizontal.setSingleStep(max(1, self.fontMetrics().height() * 2))

    def _scrolled(self) -> None:
        self.viewport().update()
        self.viewport_changed.emit()

    # --- Qt overrides ---------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_bars()
        self.viewport_changed.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        keys = {
            Qt.Key.Key_PageUp: "previous",
            Qt.Key.Key_PageDown: "next",
            Qt.Key.Key_Home: "first",
            Qt.Key.Key_End: "last",
        }
        action = keys.get(Qt.Key(event.key()))
        if action is not None and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self.page_key.emit(action)
            event.accept()
            return
        super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            delta = event.angleDelta().y()
            if delta:
                self.zoom_wheel.emit(1 if delta > 0 else -1)
            event.accept()
            return
        super().wheelEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        viewport = self.viewport()
        dpr = viewport.devicePixelRatioF()
        if dpr != self._dpr:  # moved to a screen of another pixel ratio: redraw sharper
            if self._dpr:
                QTimer.singleShot(0, self.viewport_changed.emit)
            self._dpr = dpr
        painter = QPainter(viewport)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        palette = self.palette()
        border = palette.color(QPalette.ColorRole.Shadow)
        highlight = palette.color(QPalette.ColorRole.Highlight)
        painted: list[int] = []
        for page in self.visible_pages():
            rect = self.to_viewport(self.page_rect(page))
            if not rect.intersects(QRectF(event.rect())):
                continue
            painter.setPen(QPen(border, 1))
            painter.setBrush(QColor(Qt.GlobalColor.white))  # paper
            painter.drawRect(rect.adjusted(-0.5, -0.5, 0.5, 0.5))
            rendered = self.images.get(page)
            if rendered is not None:
                self.images.move_to_end(page)  # in view: the last to be evicted
                painter.drawImage(rect, rendered.image)
                if page in self.fresh:
                    self.fresh.discard(page)
                    painted.append(page)
            elif page in self.errors:
                painter.setPen(QColor(Qt.GlobalColor.darkGray))  # text on paper
                flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
                painter.drawText(rect.adjusted(8, 8, -8, -8), flags, self.errors[page])
            for index, hit in self.hits.get(page, ()):
                area = self.to_viewport(self.to_document(page, hit))
                colour = QColor(highlight)
                if index == self.current_hit:
                    colour.setAlpha(150)
                    painter.setPen(QPen(highlight, 2))
                else:
                    colour.setAlpha(70)
                    painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(colour)
                painter.drawRect(area.adjusted(-1, -1, 1, 1))
        painter.end()
        for page in painted:
            self.page_painted.emit(page)


class PdfViewer(Viewer):
    """Shows a PDF as a column of pages, with zoom, find and password entry.

    Pages are numbered from 1 in this API (and on screen). The zoom mode
    outlives a document: the user's choice holds for the next PDF shown. GUI
    thread only, like every widget.

    Attributes:
        page_count: pages in the document (0 until it opened, or while a
            password is needed).
        current_page: the page taking most of the view, 1-based (0 without pages).
        hit_count: hits of the last :meth:`find` (capped at 1000).
        current_hit: 1-based index of the current hit among them, 0 when none.
        current_hit_page: the 1-based page of the current hit, 0 when none.
        zoom_mode: ``"fit-width"`` (the default), ``"fit-page"`` or a percent.
        needs_password: True while the document waits for its password.

    Signals:
        page_shown(int): a page's pixels (1-based number) were painted, either
            freshly drawn or after a zoom; for tests and timing the first page.
        current_page_changed(int): the 1-based page in view changed.
        opened(int): the document opened with that many pages.
        find_finished(int): a search answered with that many hits.
        password_requested(bool): the document needs a password; True when
            the one given was wrong.
    """

    page_shown = Signal(int)
    current_page_changed = Signal(int)
    opened = Signal(int)
    find_finished = Signal(int)
    password_requested = Signal(bool)

    def __init__(self, services: ViewerServices, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self._serial = 0  # bumped by every new document and by stop()
        # Set by stop(): a page still drawing a second later has its worker
        # stopped, so a slow page never holds up the next file.
        self._cancel = threading.Event()
        self._source: ViewerSource | None = None
        self._password = ""
        self._trying_password = ""
        self._sizes: list[tuple[float, float]] = []
        self._zoom: ZoomMode = FIT_WIDTH
        self._current = 0  # 0-based
        self._rendering: tuple[Task[Any], int, float] | None = None
        self._opening: Task[Any] | None = None
        self._finding: Task[Any] | None = None
        self._hits: list[_Hit] = []
        self._hit = -1
        self._find_text = ""
        self._find_partial = False
        self._shown_any = False
        self._needs_password = False
        self._schedule_timer = QTimer(self)
        self._schedule_timer.setSingleShot(True)
        self._schedule_timer.setInterval(0)
        self._schedule_timer.timeout.connect(self._schedule)
        self._build()

    # --- the public API -----------------------------------------------------

    @property
    def page_count(self) -> int:
        """Pages in the document (0 until it opened)."""
        return len(self._sizes)

    @property
    def current_page(self) -> int:
        """The 1-based page in view (0 without pages)."""
        return self._current + 1 if self._sizes else 0

    @property
    def hit_count(self) -> int:
        """Hits of the last search."""
        return len(self._hits)

    @property
    def current_hit(self) -> int:
        """The 1-based index of the current hit, 0 when there is none."""
        return self._hit + 1 if 0 <= self._hit < len(self._hits) else 0

    @property
    def current_hit_page(self) -> int:
        """The 1-based page of the current hit, 0 when there is none."""
        return self._hits[self._hit].page + 1 if self.current_hit else 0

    @property
    def zoom_mode(self) -> ZoomMode:
        """``"fit-width"``, ``"fit-page"`` or a percent."""
        return self._zoom

    @property
    def needs_password(self) -> bool:
        """True while the document waits for its password."""
        return self._needs_password

    def rendered_size(self, page: int) -> QSize | None:
        """The pixel size of the image drawn for 1-based ``page``, or None if not drawn."""
        rendered = self._view.images.get(page - 1)
        return rendered.image.size() if rendered is not None else None

    def show_source(self, source: ViewerSource) -> None:
        """Opens ``source``; returns at once, the first page follows when drawn."""
        self.stop()
        self._source = source
        self._open("")

    def stop(self) -> None:
        """Cancels every request, forgets the document and its password. Idempotent."""
        self._serial += 1
        self._cancel.set()
        self._cancel = threading.Event()
        for task in (self._opening, self._finding):
            if task is not None:
                task.cancel()
        if self._rendering is not None:
            self._rendering[0].cancel()
        self._opening = self._finding = self._rendering = None
        self._schedule_timer.stop()
        self._source = None
        self._password = self._trying_password = ""
        self._needs_password = False
        self._shown_any = False
        self._sizes = []
        self._current = 0
        self._clear_hits()
        self._find_text = ""
        view = self._view
        view.images.clear()
        view.errors.clear()
        view.fresh.clear()
        view.set_layout([], 1.0)
        self._password_box.hide()
        self._password_field.clear()
        self._find_bar.hide()
        self._find_field.clear()
        self._update_controls()

    def go_to_page(self, page: int) -> None:
        """Scrolls to the top of 1-based ``page`` (clamped to the document)."""
        if not self._sizes:
            return
        index = min(max(page, 1), len(self._sizes)) - 1
        self._view.scroll_to_page(index)
        self._set_current(index)

    def set_zoom(self, mode: ZoomMode) -> None:
        """Zooms: ``"fit-width"``, ``"fit-page"`` or a percent (clamped to 5–1600)."""
        if isinstance(mode, str):
            if mode not in (FIT_WIDTH, FIT_PAGE):
                raise ValueError(f"unknown zoom mode {mode!r}")
            self._zoom = mode
        else:
            self._zoom = min(max(float(mode), MIN_PERCENT), MAX_PERCENT)
        self._relayout()
        if self._zoom == FIT_PAGE and self._sizes:
            self.go_to_page(self.current_page)  # a whole page in view, not two halves
        self._show_zoom()

    def zoom_in(self) -> None:
        """Zooms to the next larger percent step."""
        percent = self._percent()
        self.set_zoom(next((s for s in ZOOM_STEPS if s > percent * 1.01), MAX_PERCENT))

    def zoom_out(self) -> None:
        """Zooms to the next smaller percent step."""
        percent = self._percent()
        smaller = [s for s in ZOOM_STEPS if s < percent * 0.99]
        self.set_zoom(smaller[-1] if smaller else MIN_PERCENT)

    # Shadows the static QWidget.find(WId), which nothing calls on a viewer.
    def find(self, text: str) -> None:  # type: ignore[override]
        """Searches the document for ``text`` (case-insensitive); the same text again
        moves to the next hit. Empty text clears the hits."""
        text = text.strip()[:MAX_QUERY]  # a request must stay small (app.workers.MAX_REQUEST)
        if text and text == self._find_text and self._finding is not None:
            return  # that search is under way
        if self._finding is not None:
            self._finding.cancel()
            self._finding = None
        if not text or self._source is None or not self._sizes:
            self._find_text = ""
            self._clear_hits()
            self._find_status.setText("")
            return
        if text == self._find_text and self._hits:
            self.find_next()
            return
        self._find_text = text
        self._clear_hits()
        self._find_status.setText("Searching…")
        request = self._request("pdf.find", query=text)
        serial, workers, cancel = self._serial, self.services.workers, self._cancel
        self._finding = self.services.tasks.run(
            lambda: workers.run(request, reader=READER, cancel=cancel),
            lambda answer: self._found(serial, text, answer),
            lambda exc: self._find_failed(serial, exc),
            name="pdf find",
        )

    def find_next(self) -> None:
        """Moves to the next hit (wrapping around)."""
        if self._hits:
            self._select_hit((self._hit + 1) % len(self._hits))

    def find_previous(self) -> None:
        """Moves to the previous hit (wrapping around)."""
        if self._hits:
            self._select_hit((self._hit - 1) % len(self._hits))

    def show_find_bar(self) -> None:
        """Shows the find field and puts the keyboard in it (Ctrl+F)."""
        if not self._sizes:
            return
        self._find_bar.show()
        self._find_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self._find_field.selectAll()

    def submit_password(self, password: str) -> None:
        """Tries ``password`` on a document that needs one; a wrong one asks again."""
        if self._source is None or not self._needs_password or self._opening is not None:
            return
        self._password_open.setEnabled(False)
        self._password_message.setText("Checking…")
        self._open(password)

    # --- the widgets ----------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)

        bar = QWidget(self)
        row = QHBoxLayout(bar)
        row.setContentsMargins(4, 2, 4, 2)
        row.setSpacing(2)
        self._previous = self._tool(
            "go-up", "‹", "Previous page (Page Up)", lambda: self.go_to_page(self.current_page - 1)
        )
        self._page_box = QSpinBox(bar)
        self._page_box.setKeyboardTracking(False)  # typing "12" must not visit page 1
        self._page_box.setAccessibleName("Page")
        self._page_box.setToolTip("Current page")
        self._page_box.valueChanged.connect(self.go_to_page)
        self._next = self._tool(
            "go-down", "›", "Next page (Page Down)", lambda: self.go_to_page(self.current_page + 1)
        )
        self._zoom_out = self._tool(
            "zoom-out", "−", f"Zoom out ({_key(QKeySequence.StandardKey.ZoomOut)})", self.zoom_out
        )
        self._zoom_box = QComboBox(bar)
        self._zoom_box.setEditable(True)
        self._zoom_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self._zoom_box.setAccessibleName("Zoom")
        self._zoom_box.setToolTip("Zoom (Ctrl+wheel)")
        self._zoom_box.addItem("Fit width", FIT_WIDTH)
        self._zoom_box.addItem("Fit page", FIT_PAGE)
        for step in ZOOM_STEPS:
            self._zoom_box.addItem(f"{step}%", float(step))
        self._zoom_box.setMinimumContentsLength(8)
        self._zoom_box.activated.connect(self._zoom_chosen)
        line = self._zoom_box.lineEdit()
        if line is not None:
            line.editingFinished.connect(self._zoom_typed)
        self._zoom_in = self._tool(
            "zoom-in", "+", f"Zoom in ({_key(QKeySequence.StandardKey.ZoomIn)})", self.zoom_in
        )
        self._find_button = self._tool(
            "edit-find",
            "Find",
            f"Find text ({_key(QKeySequence.StandardKey.Find)})",
            self.show_find_bar,
        )
        widget: QWidget
        for widget in (self._previous, self._page_box, self._next):
            row.addWidget(widget)
        row.addStretch(1)
        for widget in (self._zoom_out, self._zoom_box, self._zoom_in, self._find_button):
            row.addWidget(widget)
        layout.addWidget(bar)

        self._find_bar = QWidget(self)
        find_row = QHBoxLayout(self._find_bar)
        find_row.setContentsMargins(4, 2, 4, 2)
        find_row.setSpacing(2)
        self._find_field = QLineEdit(self._find_bar)
        self._find_field.setPlaceholderText("Find in document")
        self._find_field.setAccessibleName("Find in document")
        self._find_field.setToolTip("Enter: next match, Shift+Enter: previous, Esc: close")
        self._find_field.setClearButtonEnabled(True)
        self._find_field.setMaxLength(MAX_QUERY)
        self._find_field.installEventFilter(self)
        self._find_previous = self._tool(
            "go-up", "‹", "Previous match (Shift+Enter)", self.find_previous
        )
        self._find_next = self._tool("go-down", "›", "Next match (Enter)", self._find_from_field)
        self._find_status = QLabel(self._find_bar)
        self._find_status.setAccessibleName("Matches")
        close = self._tool("window-close", "×", "Close find bar (Esc)", self._close_find)
        find_row.addWidget(self._find_field, 1)
        for widget in (self._find_previous, self._find_next, self._find_status, close):
            find_row.addWidget(widget)
        self._find_bar.hide()
        layout.addWidget(self._find_bar)

        self._password_box = QWidget(self)
        password_column = QVBoxLayout(self._password_box)
        password_column.setContentsMargins(12, 12, 12, 12)
        password_label = QLabel(PASSWORD_TEXT, self._password_box)
        password_label.setWordWrap(True)
        password_row = QHBoxLayout()
        self._password_field = QLineEdit(self._password_box)
        self._password_field.setEchoMode(QLineEdit.EchoMode.Password)
        self._password_field.setPlaceholderText("Password")
        self._password_field.setAccessibleName("PDF password")
        self._password_field.returnPressed.connect(self._password_entered)
        password_label.setBuddy(self._password_field)
        self._password_open = QToolButton(self._password_box)
        self._password_open.setText("Open")
        self._password_open.setToolTip("Open the document with this password (Enter)")
        self._password_open.clicked.connect(self._password_entered)
        password_row.addWidget(self._password_field, 1)
        password_row.addWidget(self._password_open)
        self._password_message = QLabel(self._password_box)
        self._password_message.setAccessibleName("Password status")
        password_column.addWidget(password_label)
        password_column.addLayout(password_row)
        password_column.addWidget(self._password_message)
        password_column.addStretch(1)
        self._password_box.hide()
        layout.addWidget(self._password_box)

        self._view = _PageView(self)
        self._view.viewport_changed.connect(self._viewport_changed)
        # Queued: announced after the paint event, never from inside it.
        self._view.page_painted.connect(self._announce, Qt.ConnectionType.QueuedConnection)
        self._view.page_key.connect(self._page_key)
        self._view.zoom_wheel.connect(lambda step: self.zoom_in() if step > 0 else self.zoom_out())
        layout.addWidget(self._view, 1)
        self.setFocusProxy(self._view)

        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        shortcuts: list[tuple[QKeySequence | QKeySequence.StandardKey, Callable[[], None]]] = [
            (QKeySequence.StandardKey.Find, self.show_find_bar),
            (QKeySequence.StandardKey.FindNext, self.find_next),
            (QKeySequence.StandardKey.FindPrevious, self.find_previous),
            (QKeySequence.StandardKey.ZoomIn, self.zoom_in),
            (QKeySequence.StandardKey.ZoomOut, self.zoom_out),
            (QKeySequence("Ctrl+="), self.zoom_in),  # "+" without Shift on most keyboards
            (QKeySequence("Ctrl+0"), lambda: self.set_zoom(FIT_WIDTH)),
        ]
        for key, slot in shortcuts:
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(context)
            shortcut.activated.connect(slot)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self._find_bar)
        escape.setContext(context)
        escape.activated.connect(self._close_find)
        self._update_controls()
        self._show_zoom()

    def _tool(self, icon: str, text: str, tip: str, slot: Callable[[], None]) -> QToolButton:
        button = QToolButton(self)
        button.setAutoRaise(True)
        button.setIcon(QIcon.fromTheme(icon))
        button.setText(text)  # shown when the theme has no such icon
        button.setToolTip(tip)
        button.setAccessibleName(tip.partition(" (")[0])
        button.clicked.connect(slot)
        return button

    def _update_controls(self) -> None:
        has_pages = bool(self._sizes)
        for widget in (
            self._previous,
            self._next,
            self._page_box,
            self._zoom_out,
            self._zoom_in,
            self._zoom_box,
            self._find_button,
        ):
            widget.setEnabled(has_pages)
        self._view.setVisible(not self._needs_password)
        box = self._page_box
        box.blockSignals(True)
        box.setRange(1 if has_pages else 0, max(1, len(self._sizes)))
        box.setSuffix(f" / {len(self._sizes)}" if has_pages else "")
        box.setSpecialValueText("" if has_pages else " ")  # no "0" without a document
        box.setValue(self.current_page)
        box.blockSignals(False)
        self._previous.setEnabled(has_pages and self._current > 0)
        self._next.setEnabled(has_pages and self._current < len(self._sizes) - 1)

    def _show_zoom(self) -> None:
        box = self._zoom_box
        index = box.findData(self._zoom)
        box.blockSignals(True)
        if index >= 0:
            box.setCurrentIndex(index)
        else:
            box.setCurrentIndex(-1)
            box.setEditText(f"{self._zoom:g}%")
        box.blockSignals(False)

    # --- opening --------------------------------------------------------------

    def _request(self, job: str, **fields: Any) -> dict[str, Any]:
        assert self._source is not None
        request: dict[str, Any] = {"job": job, "path": str(self._source.path), **fields}
        if self._password:
            request["password"] = self._password
        return request

    def _open(self, password: str) -> None:
        assert self._source is not None
        request: dict[str, Any] = {"job": "pdf.open", "path": str(self._source.path)}
        if password:
            request["password"] = password
        self._trying_password = password
        serial, workers, cancel = self._serial, self.services.workers, self._cancel
        self._opening = self.services.tasks.run(
            lambda: workers.run(request, reader=READER, cancel=cancel),
            lambda answer: self._opened(serial, answer),
            lambda exc: self._open_failed(serial, exc),
            name="pdf open",
        )

    def _opened(self, serial: int, answer: tuple[dict[str, Any], bytes]) -> None:
        if serial != self._serial:
            return
        self._opening = None
        header = answer[0]
        reason = worker_answer(header)
        if reason is not None:
            self.failed.emit(reason)
            return
        if header.get("needs_password"):
            self._ask_password(bool(header.get("password_wrong")))
            return
        self._password = self._trying_password
        self._needs_password = False
        self._password_box.hide()
        count = header.get("page_count")
        listed = header.get("sizes")
        if not isinstance(count, int) or count < 1 or not isinstance(listed, list):
            self.failed.emit("the document has no pages")
            return
        sizes: list[tuple[float, float]] = []
        for item in listed[:count]:
            if (
                isinstance(item, list)
                and len(item) == 2
                and all(isinstance(v, int | float) and 0 < v < 1e6 for v in item)
            ):
                sizes.append((float(item[0]), float(item[1])))
            else:
                sizes.append(sizes[-1] if sizes else (612.0, 792.0))
        last = sizes[-1] if sizes else (612.0, 792.0)
        sizes.extend([last] * (count - len(sizes)))  # pages beyond those listed
        self._sizes = sizes
        self._current = 0
        self._relayout(keep_position=False)
        self._update_controls()
        self._schedule()  # at once: page 1 at the fit-width zoom
        self.opened.emit(count)

    def _open_failed(self, serial: int, exc: BaseException) -> None:
        if serial != self._serial:
            return
        self._opening = None
        self.failed.emit(self._reason(exc))

    def _ask_password(self, wrong: bool) -> None:
        self._needs_password = True
        self._password_box.show()
        self._password_open.setEnabled(True)
        self._password_message.setText(WRONG_PASSWORD_TEXT if wrong else "")
        self._password_field.clear()
        self._update_controls()
        if self.isVisible():
            self._password_field.setFocus(Qt.FocusReason.OtherFocusReason)
        self.password_requested.emit(wrong)

    def _password_entered(self) -> None:
        password = self._password_field.text()
        if password:
            self.submit_password(password)

    # --- zoom and layout ------------------------------------------------------

    def _scale(self) -> float:
        """Logical pixels per point for the zoom mode and the view's size."""
        view = self._view.viewport()
        if isinstance(self._zoom, float):
            return self._zoom / 100 * self.logicalDpiX() / 72
        if not self._sizes:
            return 1.0
        room_w = max(1, view.width() - 2 * MARGIN)
        widest = max(w for w, _ in self._sizes)
        if self._zoom == FIT_WIDTH:
            scale = room_w / widest
        else:
            # The largest page fits: one scale for all, so scrolling never rescales.
            tallest = max(h for _, h in self._sizes)
            scale = min(room_w / widest, max(1, view.height() - 2 * MARGIN) / tallest)
        low = MIN_PERCENT / 100 * self.logicalDpiX() / 72
        high = MAX_PERCENT / 100 * self.logicalDpiX() / 72
        return min(max(scale, low), high)

    def _percent(self) -> float:
        return self._view.scale * 72 / self.logicalDpiX() * 100 if self._sizes else 100.0

    def _relayout(self, keep_position: bool = True) -> None:
        view = self._view
        scale = self._scale()
        if view.sizes is self._sizes and abs(scale - view.scale) < 1e-9:
            return
        anchor = view.anchor() if keep_position else (0, 0.0)
        current = self._current
        view.set_layout(self._sizes, scale)
        if self._sizes:
            view.restore(anchor)
            self._set_current(current)
        self._schedule_later()

    def _wanted_zoom(self) -> float:
        """Pixels per point to draw at: the layout's scale times the screen's pixel ratio."""
        return round(self._view.scale * self._view.viewport().devicePixelRatioF(), 4)

    # --- drawing pages ----------------------------------------------------------

    def _viewport_changed(self) -> None:
        if self._zoom in (FIT_WIDTH, FIT_PAGE) and self._sizes:
            self._relayout()
        self._follow_scroll()
        self._schedule_later()

    def _schedule_later(self) -> None:
        self._schedule_timer.start()  # coalesces a burst of scroll events into one pass

    def _schedule(self) -> None:
        """Asks for the next page that needs drawing, if none is being drawn."""
        if self._source is None or not self._sizes or self._rendering is not None:
            return
        page = self._next_page()
        if page is None:
            return
        zoom = self._wanted_zoom()
        request = self._request("pdf.page", page=page, zoom=zoom)
        serial, workers, cancel = self._serial, self.services.workers, self._cancel
        task = self.services.tasks.run(
            lambda: _render(workers, request, cancel),
            lambda answer: self._rendered(serial, page, zoom, answer),
            lambda exc: self._render_failed(serial, page, exc),
            name="pdf page",
        )
        self._rendering = (task, page, zoom)

    def _next_page(self) -> int | None:
        view = self._view
        visible = view.visible_pages()
        if not visible:
            return None
        # The page in view first, then the rest in view, then one either side.
        order = [self._current] if self._current in visible else []
        order += [p for p in visible if p != self._current]
        order += [p for p in (visible.stop, visible.start - 1) if 0 <= p < len(self._sizes)]
        zoom = self._wanted_zoom()
        for page in order:
            if page in view.errors:
                continue
            rendered = view.images.get(page)
            if rendered is None or abs(rendered.zoom - zoom) > 1e-6:
                return page
        return None

    def _rendered(
        self,
        serial: int,
        page: int,
        zoom: float,
        answer: tuple[dict[str, Any], QImage | None],
    ) -> None:
        if serial != self._serial:
            return
        self._rendering = None
        header, image = answer
        reason = worker_answer(header)
        if reason is not None or image is None:
            self._page_failed(page, reason or "the page could not be drawn")
        elif abs(zoom - self._wanted_zoom()) <= 1e-6:  # else: drawn for a zoom since left
            view = self._view
            view.images[page] = _Rendered(image, zoom)
            view.images.move_to_end(page)
            view.fresh.add(page)
            self._shown_any = True
            self._evict()
            view.viewport().update()
        self._schedule_later()

    def _render_failed(self, serial: int, page: int, exc: BaseException) -> None:
        if serial != self._serial:
            return
        self._rendering = None
        if isinstance(exc, NoWorker):  # the pool is closed: no page will come
            self._serial += 1
            self._source = None
            self.failed.emit(str(exc))
            return
        self._page_failed(page, self._reason(exc))
        self._schedule_later()

    def _page_failed(self, page: int, reason: str) -> None:
        # Remembered either way, so the page is not asked for again and again.
        self._view.errors[page] = f"Page {page + 1} could not be shown:\n{reason}"
        self._view.viewport().update()
        if not self._shown_any and (page == 0 or len(self._sizes) == 1):
            # Nothing of the document could be shown: the pane says why.
            self.failed.emit(reason)

    def _evict(self) -> None:
        view = self._view
        total = sum(r.nbytes for r in view.images.values())
        # Never the pages _next_page wants: evicting them would draw them again and again.
        visible = view.visible_pages()
        keep = set(range(visible.start - 1, visible.stop + 1))
        for page in list(view.images):  # oldest first
            if total <= CACHE_BYTES:
                break
            if page in keep:
                continue
            total -= view.images.pop(page).nbytes
            view.fresh.discard(page)

    # --- pages in view ----------------------------------------------------------

    def _follow_scroll(self) -> None:
        page = self._view.most_visible_page()
        if page >= 0:
            self._set_current(page)

    def _set_current(self, page: int) -> None:
        if page == self._current:
            return
        self._current = page
        self._update_controls()
        self.current_page_changed.emit(page + 1)

    def _announce(self, page: int) -> None:
        if page < len(self._sizes):
            self.page_shown.emit(page + 1)

    def _page_key(self, action: str) -> None:
        targets = {
            "previous": self.current_page - 1,
            "next": self.current_page + 1,
            "first": 1,
            "last": self.page_count,
        }
        self.go_to_page(targets[action])

    # --- find ---------------------------------------------------------------------

    def _found(self, serial: int, text: str, answer: tuple[dict[str, Any], bytes]) -> None:
        if serial != self._serial or text != self._find_text:
            return
        self._finding = None
        header = answer[0]
        reason = worker_answer(header)
        if reason is not None:
            self._find_status.setText(f"Search failed: {reason}")
            self.find_finished.emit(0)
            return
        hits: list[_Hit] = []
        raw = header.get("hits")
        for item in raw if isinstance(raw, list) else []:
            try:
                page, (x0, y0, x1, y1) = item
                if isinstance(page, int) and 0 <= page < len(self._sizes):
                    hits.append(_Hit(page, QRectF(float(x0), float(y0), x1 - x0, y1 - y0)))
            except (TypeError, ValueError):
                continue  # one malformed entry; the worker's answer is only data
        self._hits = hits
        self._find_partial = bool(header.get("partial"))
        view = self._view
        view.hits = {}
        for index, hit in enumerate(hits):
            view.hits.setdefault(hit.page, []).append((index, hit.rect))
        if hits:
            # The first hit from the page in view onwards, as Okular and browsers do.
            start = next((i for i, h in enumerate(hits) if h.page >= self._current), 0)
            self._select_hit(start)
        else:
            self._hit = -1
            view.current_hit = -1
            self._find_status.setText(NO_MATCHES)
            view.viewport().update()
        self.find_finished.emit(len(hits))

    def _find_failed(self, serial: int, exc: BaseException) -> None:
        if serial != self._serial:
            return
        self._finding = None
        self._find_status.setText(f"Search failed: {self._reason(exc)}")
        self.find_finished.emit(0)

    def _select_hit(self, index: int) -> None:
        self._hit = index
        hit = self._hits[index]
        view = self._view
        view.current_hit = index
        view.ensure_visible(hit.page, hit.rect)
        more = "+" if self._find_partial else ""
        self._find_status.setText(f"{index + 1} of {len(self._hits)}{more}")
        self._follow_scroll()
        view.viewport().update()

    def _clear_hits(self) -> None:
        self._hits = []
        self._hit = -1
        self._find_partial = False
        self._view.hits = {}
        self._view.current_hit = -1
        self._view.viewport().update()

    def _find_from_field(self) -> None:
        self.find(self._find_field.text())

    def _close_find(self) -> None:
        self._find_bar.hide()
        if self._finding is not None:
            self._finding.cancel()
            self._finding = None
        self._find_text = ""
        self._clear_hits()
        self._find_status.setText("")
        self._view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _zoom_chosen(self, index: int) -> None:
        mode = self._zoom_box.itemData(index)
        if isinstance(mode, str | float):
            self.set_zoom(mode)

    def _zoom_typed(self) -> None:
        text = self._zoom_box.currentText().strip().rstrip("%").strip()
        try:
            percent = float(text.replace(",", "."))
        except ValueError:
            self._show_zoom()  # not a number: show the zoom in force again
            return
        if math.isfinite(percent) and percent > 0:
            self.set_zoom(percent)
        else:
            self._show_zoom()

    @staticmethod
    def _reason(exc: BaseException) -> str:
        if isinstance(exc, WorkerFailed):
            return str(exc)
        log.error("PDF viewer task failed", exc_info=(type(exc), exc, exc.__traceback__))
        return "the PDF viewer failed (see the log)"

    # --- Qt overrides -------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._find_field and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                    self.find_previous()
                else:
                    self._find_from_field()
                return True
        return super().eventFilter(watched, event)


def _key(standard: QKeySequence.StandardKey) -> str:
    """The platform's shortcut for ``standard``, as the user reads it."""
    return QKeySequence(standard).toString(QKeySequence.SequenceFormat.NativeText)
