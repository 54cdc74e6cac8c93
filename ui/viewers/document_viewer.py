"""The preview pane's viewer for Word and other office documents.

A .docx (.docm, .dotx, .dotm) is turned into simple HTML in a viewer worker
(job ``"word.html"``, :mod:`app.word_html`) and shown as a white page in a
read-only :class:`QTextBrowser`, its pictures added as the document's
resources; nothing is ever loaded from a link, a file or the network. Other
office formats (Word 97–2003, OpenDocument, RTF, spreadsheets,
presentations) need LibreOffice: when it is installed they are converted to
PDF on a pool thread (:mod:`app.office`) and handed to the PDF viewer; a
.docx can be shown that way too ("Show as pages"). Without LibreOffice the
viewer says what to install.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QIcon,
    QImage,
    QKeySequence,
    QPalette,
    QResizeEvent,
    QShortcut,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QStackedWidget,
    QTextBrowser,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.office import (
    WORD_HTML_MIMES,
    ConversionCancelled,
    ConversionFailed,
    convert_to_pdf,
    converts,
    find_soffice,
    office_viewer_hint,
)
from app.workers import WorkerFailed
from ui.tasks import Task
from ui.viewers.base import Viewer, ViewerServices, ViewerSource, worker_answer

log = logging.getLogger(__name__)

PdfViewerFactory = Callable[[ViewerServices, QWidget], Viewer]
"""Makes the PDF viewer that shows converted documents (the pane passes ``PdfViewer``)."""

DOCUMENT_TIMEOUT = 20.0
"""Seconds the worker may take to turn one document into HTML."""

PAGE_WIDTH = 760
"""The page's width in pixels at 100 %: text lines stay readable on a wide pane."""

MAX_HITS = 5000
"""Find highlights at most this many matches."""

_MAX_IMAGE_SIDE = 4096  # the worker sends ≤ 1600; anything bigger is a broken answer
_ZOOM_RANGE = (-6, 12)  # font size steps around the document's own
_PAGE_MARGIN = 48  # pixels of white around the text, like a page's margins
_PDF_MIME = "application/pdf"


def document_viewer_takes(mime: str) -> bool:
    """Whether :class:`DocumentViewer` is the viewer for files of this type."""
    return mime in WORD_HTML_MIMES or converts(mime)


class _Refused(Exception):
    """The worker's verdict on the document; the message is the reason for the user."""


class _BadAnswer(Exception):
    """The worker's answer does not hold together (sizes, offsets)."""


@dataclass(frozen=True)
class _Rendered:
    html: str
    images: list[QImage]
    document: QTextDocument  # parsed on the pool thread, now owned by the GUI thread
    title: str
    truncated: bool
    pages_possible: bool  # LibreOffice is installed


@dataclass(frozen=True)
class _Converted:
    path: Path
    blob_hash: str
    size: int


def _rendered(header: dict[str, Any], payload: bytes, pages_possible: bool) -> _Rendered:
    """The worker's answer checked and turned into HTML and images (any thread).

    Raises:
        _BadAnswer: an offset or size in the header does not fit the payload.
    """
    html_length = header.get("html_length")
    if not isinstance(html_length, int) or not 0 <= html_length <= len(payload):
        raise _BadAnswer("html_length")
    html = payload[:html_length].decode("utf-8", errors="replace")
    images: list[QImage] = []
    entries = header.get("images")
    for entry in entries if isinstance(entries, list) else []:
        images.append(_image(entry, payload))
    return _Rendered(
        html=html,
        images=images,
        document=_parsed(html, images),
        title=str(header.get("title") or ""),
        truncated=bool(header.get("truncated")),
        pages_possible=pages_possible,
    )


def _parsed(html: str, images: list[QImage]) -> QTextDocument:
    """The page's document, parsed here (a long one takes a second) and handed to the GUI thread.

    QTextDocument is reentrant: built on a pool thread, then moved to the GUI
    thread, where laying it out happens lazily as it scrolls into view.
    """
    document = QTextDocument()
    document.setDocumentMargin(_PAGE_MARGIN)
    document.setHtml(html)
    # setHtml() empties the document's resources: the pictures go in after.
    for index, image in enumerate(images):
        document.addResource(
            QTextDocument.ResourceType.ImageResource, QUrl(f"docimg:{index}"), image
        )
    application = QCoreApplication.instance()
    if application is not None:
        document.moveToThread(application.thread())
    return document


def _image(entry: Any, payload: bytes) -> QImage:
    """One picture of the answer as a QImage owning its pixels (any thread)."""
    if not isinstance(entry, dict):
        raise _BadAnswer("image entry")
    offset, length = entry.get("offset"), entry.get("length")
    width, height, mode = entry.get("width"), entry.get("height"), entry.get("mode")
    formats = {"RGB": QImage.Format.Format_RGB888, "RGBA": QImage.Format.Format_RGBA8888}
    if not all(isinstance(value, int) for value in (offset, length, width, height)):
        raise _BadAnswer("image numbers")
    assert isinstance(offset, int) and isinstance(length, int)
    assert isinstance(width, int) and isinstance(height, int)
    if mode not in formats or not (0 < width <= _MAX_IMAGE_SIDE and 0 < height <= _MAX_IMAGE_SIDE):
        raise _BadAnswer("image size")
    stride = width * len(mode)
    if length != stride * height or offset < 0 or offset + length > len(payload):
        raise _BadAnswer("image bytes")
    pixels = payload[offset : offset + length]
    # copy(): the QImage must own its pixels, not borrow the payload's buffer.
    return QImage(pixels, width, height, stride, formats[mode]).copy()


class _Page(QTextBrowser):
    """The document as a white page: read-only, and it loads nothing by itself.

    Pictures come only from the resources the viewer adds; links are never
    followed, files never read, the network never asked.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setAccessibleName("Document")
        self.setFrameShape(QTextBrowser.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        palette = self.palette()
        # Paper: a page is white with dark ink whatever the desktop's theme.
        palette.setColor(QPalette.ColorRole.Base, QColor(Qt.GlobalColor.white))
        palette.setColor(QPalette.ColorRole.Text, QColor(Qt.GlobalColor.black))
        self.setPalette(palette)
        self.document().setDocumentMargin(_PAGE_MARGIN)
        self.page_width = PAGE_WIDTH
        self.setAutoFillBackground(True)

    def center_page(self) -> None:
        """Keeps the page at most :attr:`page_width` wide, centred in the view."""
        spare = max(0, self.width() - self.page_width)
        self.setViewportMargins(spare // 2, 0, spare - spare // 2, 0)

    def loadResource(self, type: int, name: QUrl | str) -> Any:
        # Only the pictures added as resources exist; everything else is empty.
        return None

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.center_page()
        super().resizeEvent(event)


class DocumentViewer(Viewer):
    """Shows Word documents as a page of text, other office files as PDF pages.

    Attributes:
        mode: "html" (the document's text and pictures), "pages" (the PDF
            viewer shows LibreOffice's conversion) or "message" (a notice:
            opening, converting, or what to install to see this type).

    Signals:
        content_shown(): the document (or the notice saying why it is not
            shown) is on screen for the current source.
    """

    content_shown = Signal()

    def __init__(
        self,
        services: ViewerServices,
        parent: QWidget | None = None,
        *,
        pdf_viewer_factory: PdfViewerFactory | None = None,
    ) -> None:
        super().__init__(services, parent)
        self.mode = "message"
        self._pdf_viewer_factory = pdf_viewer_factory
        self._pdf_viewer: Viewer | None = None
        self._source: ViewerSource | None = None
        self._generation = 0
        self._task: Task[Any] | None = None
        self._cancel = threading.Event()
        self._zoom = 0
        self._hits: list[QTextCursor] = []
        self._current_hit = -1
        self._pages_possible = False
        self._show_pages = False  # the user chose "Show as pages" for Word documents

        self._zoom_out_button = self._tool_button(
            QIcon.ThemeIcon.ZoomOut, "Zoom out", "Zoom out (Ctrl+-)", self.zoom_out
        )
        self._zoom_in_button = self._tool_button(
            QIcon.ThemeIcon.ZoomIn, "Zoom in", "Zoom in (Ctrl++)", self.zoom_in
        )
        self._find_button = self._tool_button(
            QIcon.ThemeIcon.EditFind, "Find", "Find in the document (Ctrl+F)", self.open_find
        )
        self._pages_button = self._tool_button(
            QIcon.ThemeIcon.DocumentPrintPreview,
            "Show as pages",
            "Show the document's pages as LibreOffice lays them out",
            None,
        )
        self._pages_button.setCheckable(True)
        self._pages_button.toggled.connect(self._on_pages_toggled)
        self._pages_button.hide()

        toolbar = QHBoxLayout()
        toolbar.setContentsMargins(4, 2, 4, 2)
        toolbar.setSpacing(2)
        for button in (self._zoom_out_button, self._zoom_in_button, self._find_button):
            toolbar.addWidget(button)
        toolbar.addStretch(1)
        toolbar.addWidget(self._pages_button)
        self._toolbar = QWidget(self)
        self._toolbar.setLayout(toolbar)

        self._find_field = QLineEdit(self)
        self._find_field.setPlaceholderText("Find in document")
        self._find_field.setAccessibleName("Find in document")
        self._find_field.setClearButtonEnabled(True)
        self._find_field.setToolTip("Enter: next match, Shift+Enter: previous, Esc: close")
        self._find_field.textChanged.connect(self.find)
        self._find_field.returnPressed.connect(self.next_hit)
        self._hit_label = QLabel(self)
        self._hit_label.setAccessibleName("Matches")
        previous = self._tool_button(
            QIcon.ThemeIcon.GoUp, "Previous match", "Previous match (Shift+F3)", self.previous_hit
        )
        following = self._tool_button(
            QIcon.ThemeIcon.GoDown, "Next match", "Next match (F3, Enter)", self.next_hit
        )
        close = self._tool_button(
            QIcon.ThemeIcon.WindowClose, "Close find", "Close find (Esc)", self.close_find
        )
        find_row = QHBoxLayout()
        find_row.setContentsMargins(4, 2, 4, 2)
        find_row.setSpacing(2)
        find_row.addWidget(self._find_field, 1)
        find_row.addWidget(self._hit_label)
        for button in (previous, following, close):
            find_row.addWidget(button)
        self._find_bar = QWidget(self)
        self._find_bar.setLayout(find_row)
        self._find_bar.hide()

        self._page = _Page(self)
        self._message = QLabel(self)
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message.setWordWrap(True)
        self._message.setMargin(24)
        self._message.setAccessibleName("Document notice")
        self._message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self._stack = QStackedWidget(self)
        self._stack.addWidget(self._page)
        self._stack.addWidget(self._message)
        self._stack.setCurrentWidget(self._message)

        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self._toolbar)
        column.addWidget(self._find_bar)
        column.addWidget(self._stack, 1)

        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        bindings: list[tuple[QKeySequence | QKeySequence.StandardKey, Callable[[], None]]] = [
            (QKeySequence.StandardKey.ZoomIn, self.zoom_in),
            (QKeySequence("Ctrl+="), self.zoom_in),
            (QKeySequence.StandardKey.ZoomOut, self.zoom_out),
            (QKeySequence("Ctrl+0"), self.reset_zoom),
            (QKeySequence.StandardKey.Find, self.open_find),
            (QKeySequence.StandardKey.FindNext, self.next_hit),
            (QKeySequence.StandardKey.FindPrevious, self.previous_hit),
            (QKeySequence("Shift+Return"), self.previous_hit),
        ]
        self._shortcuts: list[QShortcut] = []
        for key, slot in bindings:
            shortcut = QShortcut(QKeySequence(key), self, context=context)
            shortcut.activated.connect(slot)
            self._shortcuts.append(shortcut)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self._find_bar, context=context)
        escape.activated.connect(self.close_find)
        self._shortcuts.append(escape)
        self._set_controls()

    # --- the contract -------------------------------------------------------

    def show_source(self, source: ViewerSource) -> None:
        """Shows ``source``; returns at once (the worker or LibreOffice does the work)."""
        self.stop()
        self._source = source
        self._show_notice(f"Opening {source.name}…")
        if source.mime in WORD_HTML_MIMES and not self._show_pages:
            self._start_html(source)
        else:
            self._start_pages(source)

    def stop(self) -> None:
        """Drops pending work (a running conversion is stopped) and what was shown."""
        self._generation += 1
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._cancel.set()
        self._cancel = threading.Event()
        if self._pdf_viewer is not None:
            self._pdf_viewer.stop()
        self._source = None
        self._page.clear()
        self._clear_hits()
        self._show_notice("")

    # --- what users and the pane call ---------------------------------------

    @property
    def hit_count(self) -> int:
        """How many matches the last :meth:`find` highlighted."""
        return len(self._hits)

    def document_text(self) -> str:
        """The text on screen: the document's in "html" mode, the notice in "message"."""
        if self.mode == "html":
            return self._page.toPlainText()
        if self.mode == "message":
            return self._message.text()
        return ""

    def zoom_in(self) -> None:
        """Makes the text bigger (Ctrl++)."""
        self._set_zoom(self._zoom + 1)

    def zoom_out(self) -> None:
        """Makes the text smaller (Ctrl+-)."""
        self._set_zoom(self._zoom - 1)

    def reset_zoom(self) -> None:
        """Back to the document's own size (Ctrl+0)."""
        self._set_zoom(0)

    @property
    def zoom(self) -> int:
        """Font size steps from the document's own size (0), within ``-6..12``."""
        return self._zoom

    # Shadows QWidget.find(WId), a static lookup nobody calls on a viewer.
    def find(self, text: str) -> int:  # type: ignore[override]
        """Highlights every match of ``text`` (ignoring case); shows the first; returns the count."""
        self._clear_hits()
        if not text or self.mode != "html":
            self._hit_label.setText("")
            return 0
        document = self._page.document()
        cursor = QTextCursor(document)
        highlight = QTextCharFormat()
        colour = QColor(self.palette().color(QPalette.ColorRole.Highlight))
        colour.setAlpha(110)
        highlight.setBackground(colour)
        selections: list[QTextEdit.ExtraSelection] = []
        while len(self._hits) < MAX_HITS:
            cursor = document.find(text, cursor)
            if cursor.isNull():
                break
            self._hits.append(QTextCursor(cursor))
            selection = QTextEdit.ExtraSelection()
            selection.cursor = QTextCursor(cursor)
            selection.format = highlight
            selections.append(selection)
        self._page.setExtraSelections(selections)
        if self._hits:
            self._go_to_hit(0)
        else:
            self._hit_label.setText("No matches")
        return len(self._hits)

    def next_hit(self) -> None:
        """Moves to the next match (F3, Enter in the find field)."""
        if self._hits:
            self._go_to_hit((self._current_hit + 1) % len(self._hits))

    def previous_hit(self) -> None:
        """Moves to the previous match (Shift+F3)."""
        if self._hits:
            self._go_to_hit((self._current_hit - 1) % len(self._hits))

    def open_find(self) -> None:
        """Shows the find field (Ctrl+F), with its text selected."""
        if self.mode != "html":
            return
        self._find_bar.show()
        self._find_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self._find_field.selectAll()

    def close_find(self) -> None:
        """Hides the find field and its highlights (Esc)."""
        self._find_bar.hide()
        self._clear_hits()
        self._page.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- internals ----------------------------------------------------------

    def _tool_button(
        self,
        theme: QIcon.ThemeIcon,
        text: str,
        tip: str,
        slot: Callable[[], object] | None,
    ) -> QToolButton:
        button = QToolButton(self)
        button.setAutoRaise(True)
        icon = QIcon.fromTheme(theme)
        button.setText(text)
        if icon.isNull():
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        else:
            button.setIcon(icon)
            button.setIconSize(QSize(16, 16))
        button.setToolTip(tip)
        button.setAccessibleName(text)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        if slot is not None:
            button.clicked.connect(lambda: slot())
        return button

    def _start_html(self, source: ViewerSource) -> None:
        generation = self._generation
        workers = self.services.workers
        request = {"job": "word.html", "path": str(source.path)}

        def render() -> _Rendered:
            """Runs on a pool thread; builds QImages only, touches no widget."""
            header, payload = workers.run(request, timeout=DOCUMENT_TIMEOUT, reader="Word reader")
            reason = worker_answer(header)
            if reason is not None:
                raise _Refused(reason)
            return _rendered(header, payload, find_soffice() is not None)

        self._task = self.services.tasks.run(
            render,
            lambda rendered: self._on_rendered(generation, rendered),
            lambda exc: self._on_error(generation, exc),
            name="document html",
        )

    def _start_pages(self, source: ViewerSource) -> None:
        generation = self._generation
        cancel = self._cancel
        cache_dir = self.services.cache_dir

        def convert() -> _Converted | None:
            """Runs on a pool thread (LibreOffice takes seconds); touches no widget."""
            if find_soffice() is None:
                return None
            pdf = convert_to_pdf(
                source.path,
                source.blob_hash,
                cache_dir,
                mime=source.mime,
                cancelled=cancel.is_set,
            )
            digest = hashlib.sha256()
            with pdf.open("rb") as stream:
                for chunk in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(chunk)
            return _Converted(pdf, digest.hexdigest(), pdf.stat().st_size)

        self._task = self.services.tasks.run(
            convert,
            lambda converted: self._on_converted(generation, converted),
            lambda exc: self._on_error(generation, exc),
            name="document conversion",
        )

    def _on_rendered(self, generation: int, rendered: _Rendered) -> None:
        if generation != self._generation or self._source is None:
            rendered.document.deleteLater()
            return  # the selection moved on
        self._task = None
        self._pages_possible = rendered.pages_possible
        # Parented to the page, so the next document replacing it deletes this one.
        rendered.document.setParent(self._page)
        self._page.setDocument(rendered.document)
        self._page.setAccessibleDescription(rendered.title or self._source.name)
        self._page.moveCursor(QTextCursor.MoveOperation.Start)
        self._apply_zoom()
        self._set_mode("html")
        self._stack.setCurrentWidget(self._page)
        if self._find_bar.isVisible() and self._find_field.text():
            self.find(self._find_field.text())
        self.content_shown.emit()

    def _on_converted(self, generation: int, converted: _Converted | None) -> None:
        source = self._source
        if generation != self._generation or source is None:
            return
        self._task = None
        if converted is None:
            self._pages_possible = False
            self._show_notice(office_viewer_hint(source.mime))
            self.content_shown.emit()
            return
        self._pages_possible = True
        viewer = self._pdf_viewer
        if viewer is None:
            if self._pdf_viewer_factory is None:
                self._show_notice("LibreOffice converted the document, but no PDF viewer is here.")
                self.content_shown.emit()
                return
            viewer = self._pdf_viewer_factory(self.services, self._stack)
            viewer.failed.connect(self._on_pdf_failed)
            self._stack.addWidget(viewer)
            self._pdf_viewer = viewer
        self._set_mode("pages")
        self._stack.setCurrentWidget(viewer)
        viewer.show_source(
            replace(
                source,
                mime=_PDF_MIME,
                kind="pdf",
                path=converted.path,
                blob_hash=converted.blob_hash,
                size=converted.size,
            )
        )
        self.content_shown.emit()

    def _on_pdf_failed(self, reason: str) -> None:
        if self._source is not None and self.mode == "pages":
            self.failed.emit(reason)

    def _on_error(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation or self._source is None:
            return
        self._task = None
        if isinstance(exc, ConversionCancelled):
            return  # stop() asked for it; not an error
        if isinstance(exc, _Refused | WorkerFailed | ConversionFailed):
            reason = str(exc)
        elif isinstance(exc, _BadAnswer):
            log.error("the Word reader sent a malformed answer (%s)", exc)
            reason = "the Word reader failed"
        else:
            log.error("document viewer failed", exc_info=(type(exc), exc, exc.__traceback__))
            reason = "an internal error"
        self._show_notice("")
        self.failed.emit(f"{self._source.name} cannot be shown: {reason}.")

    def _on_pages_toggled(self, checked: bool) -> None:
        if checked == self._show_pages:
            return
        self._show_pages = checked
        source = self._source
        if source is not None and source.mime in WORD_HTML_MIMES:
            self.show_source(source)

    def _show_notice(self, text: str) -> None:
        self._message.setText(text)
        self._stack.setCurrentWidget(self._message)
        self._set_mode("message")

    def _set_mode(self, mode: str) -> None:
        self.mode = mode
        self._set_controls()

    def _set_controls(self) -> None:
        html = self.mode == "html"
        self._zoom_in_button.setEnabled(html and self._zoom < _ZOOM_RANGE[1])
        self._zoom_out_button.setEnabled(html and self._zoom > _ZOOM_RANGE[0])
        self._find_button.setEnabled(html)
        # The PDF viewer has its own controls; this row stays for the pages switch.
        for button in (self._zoom_in_button, self._zoom_out_button, self._find_button):
            button.setVisible(self.mode != "pages")
        source = self._source
        word = source is not None and source.mime in WORD_HTML_MIMES
        self._pages_button.setVisible(
            word and self._pages_possible and self._pdf_viewer_factory is not None
        )
        self._pages_button.blockSignals(True)
        self._pages_button.setChecked(self._show_pages)
        self._pages_button.blockSignals(False)
        if not html:
            self._find_bar.hide()

    def _set_zoom(self, zoom: int) -> None:
        zoom = max(_ZOOM_RANGE[0], min(_ZOOM_RANGE[1], zoom))
        if zoom == self._zoom:
            return
        self._zoom = zoom
        self._apply_zoom()
        self._set_controls()

    def _apply_zoom(self) -> None:
        # Relative to the widget's font, so it is the same after every setHtml().
        base = self.font().pointSizeF()
        font = self._page.document().defaultFont()
        font.setPointSizeF(max(4.0, base * (1.0 + 0.15 * self._zoom)))
        self._page.document().setDefaultFont(font)
        self._page.page_width = int(PAGE_WIDTH * max(0.5, 1.0 + 0.15 * self._zoom))
        self._page.center_page()

    def _clear_hits(self) -> None:
        self._hits = []
        self._current_hit = -1
        self._page.setExtraSelections([])

    def _go_to_hit(self, index: int) -> None:
        self._current_hit = index
        self._page.setTextCursor(self._hits[index])
        self._page.ensureCursorVisible()
        self._hit_label.setText(f"{index + 1} of {len(self._hits)}")
