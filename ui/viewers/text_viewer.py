"""The preview pane's text viewer: plain text and code, Markdown, and CSV tables.

Files are read and decoded on a pool thread (:mod:`ui.tasks`) by
:mod:`app.text_preview`, a capped amount at a time: the first 256 KiB, then
more on "Show more", up to 8 MiB. JSON is pretty-printed when the whole
document was read. Markdown is rendered from capped text only, never fetches
an image or follows a link by itself (hostile documents point at URLs and at
local files). CSV files show as a table of their first 2,000 rows.
"""

from __future__ import annotations

import codecs
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QStackedWidget,
    QTableView,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.text_preview import (
    CSV_ROWS,
    TEXT_LIMIT,
    CsvPreview,
    TextPreview,
    format_json,
    read_csv,
    read_text,
)
from ui.formatting import human_size
from ui.tasks import Task
from ui.viewers.base import Viewer, ViewerServices, ViewerSource, weakly

log = logging.getLogger(__name__)

HARD_LIMIT = 8 << 20
"""The most bytes of a text file ever shown; "Show more" stops there."""

MARKDOWN_LIMIT = 1 << 20
"""The most bytes of Markdown rendered (rendering runs on the GUI thread)."""

_GROWTH = 4  # "Show more" reads four times as much as is shown
# Qt lays out a paragraph in time that grows with the square of its length
# (a million characters on one line: over a minute); shown lines are broken here.
LONG_LINE = 4096

# Types outside text/* that are text to read.
_TEXT_MIMES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/yaml",
        "application/x-yaml",
        "application/toml",
        "application/sql",
        "application/x-subrip",
        "application/x-sh",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "application/x-ndjson",
        "application/x-httpd-php",
        "application/x-perl",
        "application/x-python",
        "application/x-ruby",
        "application/x-tex",
        "application/x-latex",
        "application/graphql",
        "application/xhtml+xml",
    }
)
_TABLE_MIMES = frozenset({"text/csv", "text/tab-separated-values", "application/csv"})
_MARKDOWN_MIMES = frozenset({"text/markdown", "text/x-markdown"})
_NOT_TEXT = frozenset({"text/rtf", "application/rtf"})  # formatted documents, not text to read
_JSON_SUFFIXES = ("+json", "/json")


def text_viewer_mode(mime: str, name: str) -> str | None:
    """Which of the text viewer's modes shows a file, or None when it does not take it.

    Cheap and pure: safe on the GUI thread.

    Args:
        mime: the file's MIME type (from :func:`app.kinds.detect`).
        name: its name; decides for plain text that is really CSV or Markdown.

    Returns:
        ``"table"`` for CSV/TSV, ``"markdown"`` for Markdown, ``"text"`` for
        other text, code, JSON, XML, YAML, TOML, SQL and subtitles; None otherwise.
    """
    mime = mime.lower().split(";", 1)[0].strip()
    suffix = Path(name).suffix.lower()
    if mime in _TABLE_MIMES:
        return "table"
    if mime in _MARKDOWN_MIMES:
        return "markdown"
    if mime in _NOT_TEXT:
        return None
    textual = (
        mime.startswith("text/")
        or mime in _TEXT_MIMES
        or (mime.startswith("application/") and mime.endswith(("+xml", "+json")))
    )
    if not textual:
        return None
    if mime == "text/plain" and suffix in (".csv", ".tsv"):
        return "table"
    if mime == "text/plain" and suffix in (".md", ".markdown"):
        return "markdown"
    return "text"


def encoding_name(encoding: str) -> str:
    """A codec as people know it: ``"cp1251"`` → ``"Windows-1251"``, ``"utf-8-sig"`` → ``"UTF-8 (BOM)"``."""
    known = {
        "utf-8-sig": "UTF-8 (BOM)",
        "utf-16": "UTF-16",
        "utf-32": "UTF-32",
        "utf-16-le": "UTF-16 LE",
        "utf-16-be": "UTF-16 BE",
        "cp932": "Shift_JIS",
        "shift_jis": "Shift_JIS",
        "iso2022_jp": "ISO-2022-JP",
        "latin-1": "ISO-8859-1",
        "big5": "Big5",
    }
    if encoding.lower() in known:
        return known[encoding.lower()]
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return encoding
    if name in known:
        return known[name]
    if name.startswith("cp125"):
        return f"Windows-{name[2:]}"
    return name.upper().replace("_", "-")


def break_long_lines(text: str, width: int = LONG_LINE) -> tuple[str, bool]:
    """``text`` with lines longer than ``width`` characters broken into pieces; any thread.

    Returns:
        The text, and whether any line was broken.
    """
    lines = text.split("\n")
    if max(map(len, lines), default=0) <= width:
        return text, False
    pieces: list[str] = []
    for line in lines:
        if len(line) <= width:
            pieces.append(line)
        else:
            pieces.extend(line[start : start + width] for start in range(0, len(line), width))
    return "\n".join(pieces), True


@dataclass(frozen=True)
class _Loaded:
    """What a read task hands back: the text to show and how it came about."""

    preview: TextPreview
    text: str
    formatted: bool
    broken: bool


class CsvTableModel(QAbstractTableModel):
    """The first rows of a CSV file, as a table. Flat: rows and columns, no children.

    Holds the parsed cells in memory (at most :data:`app.text_preview.CSV_ROWS`
    rows); ``data()`` only looks them up.
    """

    _DISPLAY_CHARS = 500  # a cell shows this much; its tooltip up to four times more

    def __init__(self, preview: CsvPreview | None = None) -> None:
        super().__init__()
        self._header: list[str] = []
        self._rows: list[list[str]] = []
        self._columns = 0
        if preview is not None:
            self.set_preview(preview)

    def set_preview(self, preview: CsvPreview) -> None:
        """Shows ``preview``'s rows (a reset: a new file)."""
        self.beginResetModel()
        self._header = preview.header
        self._rows = preview.rows
        self._columns = max([len(preview.header), *(len(row) for row in preview.rows)])
        self.endResetModel()

    def cell(self, row: int, column: int) -> str:
        """The cell's text as the file has it ("" past a short row's end)."""
        cells = self._rows[row]
        return cells[column] if column < len(cells) else ""

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._columns

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            text = self.cell(index.row(), index.column())
            # One line per row: breaks inside a quoted field show as a symbol.
            return text[: self._DISPLAY_CHARS].replace("\r\n", "\n").replace("\n", " ↵ ")
        if role == Qt.ItemDataRole.ToolTipRole:
            text = self.cell(index.row(), index.column())
            return text[: 4 * self._DISPLAY_CHARS] if len(text) > 40 or "\n" in text else None
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or section < 0:
            return None
        if orientation == Qt.Orientation.Horizontal:
            if section < len(self._header) and self._header[section].strip():
                return self._header[section][: self._DISPLAY_CHARS]
            return str(section + 1)
        return str(section + 1)


class MarkdownBrowser(QTextBrowser):
    """Renders Markdown and fetches nothing: no images, remote or local, no followed links.

    A Markdown file may point at ``https://`` images (a tracking pixel) or at
    paths outside itself; the preview shows the text and leaves such
    references out. Links within the document (``#heading``) still scroll.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self._anchor_clicked)
        self.refused: list[QUrl] = []  # what the document asked for (shown in tests)

    def loadResource(self, type: int, name: QUrl | str) -> Any:
        self.refused.append(QUrl(name))
        return None

    def _anchor_clicked(self, url: QUrl) -> None:
        if not url.scheme() and not url.path() and url.fragment():
            self.scrollToAnchor(url.fragment())


class TextViewer(Viewer):
    """Shows text, Markdown or a CSV table, read on a pool thread with caps.

    Attributes:
        plain: the read-only monospaced text view.
        browser: the Markdown view.
        table: the CSV table view, over :attr:`table_model`.

    Signals:
        content_shown(): the file's content (or more of it) is on screen.
    """

    content_shown = Signal()

    def __init__(self, services: ViewerServices, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self._generation = 0
        self._task: Task[Any] | None = None
        self._source: ViewerSource | None = None
        self._mode = "text"
        self._limit = TEXT_LIMIT
        self._preview: TextPreview | None = None
        self._text = ""
        self._json = False
        self._broken = False

        self.plain = QPlainTextEdit(self)
        self.plain.setReadOnly(True)
        self.plain.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.plain.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.plain.setAccessibleName("Text")
        self.browser = MarkdownBrowser(self)
        self.browser.setAccessibleName("Markdown")
        self.table_model = CsvTableModel()
        self.table = QTableView(self)
        self.table.setModel(self.table_model)
        self.table.setAccessibleName("Table")
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setResizeContentsPrecision(100)
        self.table.horizontalHeader().setDefaultSectionSize(
            self.fontMetrics().horizontalAdvance("M") * 10
        )
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.stack = QStackedWidget(self)
        for widget in (self.plain, self.browser, self.table):
            self.stack.addWidget(widget)

        self.encoding_label = QLabel(self)
        self.encoding_label.setAccessibleName("Encoding")
        self.encoding_label.setToolTip("The character encoding the text was read with")
        self.info_label = QLabel(self)
        self.info_label.setAccessibleName("What is shown")
        self.info_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.source_button = QToolButton(self)
        self.source_button.setText("Source")
        self.source_button.setCheckable(True)
        self.source_button.setAutoRaise(True)
        self.source_button.setToolTip("Show the Markdown source instead of the rendered text")
        self.source_button.setAccessibleName("Source")
        self.source_button.toggled.connect(self._source_toggled)
        self.more_button = QToolButton(self)
        self.more_button.setText("Show more")
        self.more_button.setAutoRaise(True)
        self.more_button.setToolTip("Read further into the file")
        self.more_button.setAccessibleName("Show more")
        self.more_button.clicked.connect(self.show_more)

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.setSpacing(12)
        bar.addWidget(self.encoding_label)
        bar.addWidget(self.info_label, 1)
        bar.addWidget(self.source_button)
        bar.addWidget(self.more_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.stack, 1)
        layout.addLayout(bar)
        self._update_controls()

    # --- public API ---------------------------------------------------------

    @property
    def mode(self) -> str:
        """``"text"``, ``"markdown"`` or ``"table"``: how the current file is shown."""
        return self._mode

    @property
    def can_show_more(self) -> bool:
        """Whether the file goes on past what is shown and "Show more" can read on."""
        preview = self._preview
        if preview is None or self._task is not None or self._mode == "table":
            return False
        return preview.truncated and self._limit < self._hard_limit()

    @property
    def shown_bytes(self) -> int:
        """How many bytes of the file the shown text comes from (0 for tables)."""
        return self._preview.read_bytes if self._preview is not None else 0

    @property
    def encoding(self) -> str:
        """The codec the text was decoded with ("" before any is shown)."""
        return self._preview.encoding if self._preview is not None else ""

    def text(self) -> str:
        """The shown text: plain text (JSON pretty-printed) or the Markdown source; "" for tables.

        Lines longer than :data:`LONG_LINE` characters are broken, as shown.
        """
        return self._text

    def show_source(self, source: ViewerSource) -> None:
        """Reads ``source`` on a pool thread; shows it when done, or emits ``failed``."""
        self.stop()
        self._source = source
        self._mode = text_viewer_mode(source.mime, source.name) or "text"
        self._limit = TEXT_LIMIT
        self._json = source.mime.endswith(_JSON_SUFFIXES) or source.name.lower().endswith(".json")
        self.source_button.setChecked(False)
        self._read(None)

    def show_more(self) -> None:
        """Reads further into the file (four times as much, up to 8 MiB); no-op at the end."""
        if not self.can_show_more or self._preview is None:
            return
        self._limit = min(self._hard_limit(), self._limit * _GROWTH)
        self._read(self._preview.encoding)

    def stop(self) -> None:
        """Drops pending reads and what is shown. Idempotent."""
        self._generation += 1
        if self._task is not None:
            self._task.cancel()
        self._task = None
        self._preview = None
        self._text = ""
        self._broken = False
        self.plain.clear()
        self.browser.clear()
        self.table_model.set_preview(CsvPreview([], [], False, ","))
        self.encoding_label.setText("")
        self.info_label.setText("")
        self._update_controls()

    # --- internals ----------------------------------------------------------

    def _hard_limit(self) -> int:
        return MARKDOWN_LIMIT if self._mode == "markdown" else HARD_LIMIT

    def _read(self, encoding: str | None) -> None:
        source = self._source
        if source is None:
            return
        generation = self._generation
        path, limit, mode, pretty = source.path, self._limit, self._mode, self._json

        def read() -> CsvPreview | _Loaded:  # a pool thread: plain data only
            if mode == "table":
                return read_csv(path, CSV_ROWS)
            preview = read_text(path, limit, encoding)
            formatted = format_json(preview.text) if pretty and not preview.truncated else None
            shown, broken = break_long_lines(formatted or preview.text)
            return _Loaded(preview, shown, formatted is not None, broken)

        self._task = self.services.tasks.run(
            read,
            weakly(self._done, generation),
            weakly(self._failed, generation),
            name="text-viewer",
        )
        self._update_controls()

    def _done(self, generation: int, result: CsvPreview | _Loaded) -> None:
        if generation != self._generation:
            return  # a stale answer: the selection moved on
        self._task = None
        if isinstance(result, CsvPreview):
            self._show_table(result)
        else:
            self._show_text(result)
        self._update_controls()
        self.content_shown.emit()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._task = None
        self._update_controls()
        if isinstance(exc, OSError):
            self.failed.emit(f"the file could not be read ({exc.strerror or exc})")
            return
        log.error("the text viewer failed", exc_info=(type(exc), exc, exc.__traceback__))
        self.failed.emit("the file could not be shown")

    def _show_table(self, preview: CsvPreview) -> None:
        self.table_model.set_preview(preview)
        self.stack.setCurrentWidget(self.table)
        # Widths from the first rows, within reason: one long cell must not
        # push every other column out of the pane.
        self.table.resizeColumnsToContents()
        widest = self.fontMetrics().horizontalAdvance("M") * 24
        header = self.table.horizontalHeader()
        for column in range(min(self.table_model.columnCount(), 200)):
            header.resizeSection(column, min(header.sectionSize(column), widest))
        self.encoding_label.setText(encoding_name(preview.encoding))
        rows = len(preview.rows)
        noun = "row" if rows == 1 else "rows"
        delimiter = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "bar"}.get(
            preview.delimiter, preview.delimiter
        )
        text = f"first {rows:,} {noun} shown" if preview.truncated else f"{rows:,} {noun}"
        self.info_label.setText(f"{text} · separated by {delimiter}")
        self._text = ""

    def _show_text(self, loaded: _Loaded) -> None:
        preview = loaded.preview
        self._preview = preview
        self.encoding_label.setText(encoding_name(preview.encoding))
        self._text = loaded.text
        # Markdown with lines too long to lay out shows as (broken) source.
        self._broken = loaded.broken
        if self._mode == "markdown" and not loaded.broken:
            self._render_markdown()
        else:
            self._set_plain(self._text)
            self.stack.setCurrentWidget(self.plain)
        size = human_size(preview.total_bytes)
        if not preview.truncated:
            info = size
        elif self._limit >= self._hard_limit():
            info = (
                f"the first {human_size(preview.read_bytes)} of {size} are shown;"
                " open the file to see the rest"
            )
        else:
            info = f"first {human_size(preview.read_bytes)} of {size} shown"
        if loaded.formatted:
            info += " · JSON, formatted"
        if loaded.broken:
            info += " · very long lines broken"
        self.info_label.setText(info)
        self.info_label.setToolTip(info)

    def _set_plain(self, text: str) -> None:
        bar = self.plain.verticalScrollBar()
        position = bar.value()
        self.plain.setPlainText(text)
        bar.setValue(position)  # "Show more" keeps the reader's place

    def _render_markdown(self) -> None:
        if self.source_button.isChecked():
            self._set_plain(self._text)
            self.stack.setCurrentWidget(self.plain)
            return
        bar = self.browser.verticalScrollBar()
        position = bar.value()
        self.browser.setMarkdown(self._text)  # GitHub's dialect; the cursor goes to the top
        bar.setValue(position)
        self.stack.setCurrentWidget(self.browser)

    def _source_toggled(self, checked: bool) -> None:
        if self._mode == "markdown" and self._preview is not None and not self._broken:
            self._render_markdown()
        del checked

    def _update_controls(self) -> None:
        preview = self._preview
        self.more_button.setVisible(
            self._mode != "table" and preview is not None and preview.truncated
        )
        self.more_button.setEnabled(self.can_show_more)
        self.source_button.setVisible(self._mode == "markdown" and not self._broken)
