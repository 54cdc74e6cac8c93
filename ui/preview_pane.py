"""The preview pane on the right of the window: what the selection is.

:class:`PreviewPane` shows one file or folder: a viewer area on top (for now
the large thumbnail, or the kind's icon while there is none; the viewers of
images, PDF pages, documents and media go there later) and the item's
properties below (size, type, dimensions, duration or pages where known,
checksum, backup state, dates, tags, description), all in one scroll area so
that it works in a narrow pane. Several selected items show a one-line
summary, nothing selected a quiet placeholder.

The properties are read off the GUI thread through
:class:`ui.tasks.TaskManager` (:meth:`app.vault.Vault.file_info` and
:meth:`~app.vault.Vault.folder_info`). Each request carries a number; a reply
for an item that is no longer the one asked for (the selection moved on
meanwhile) is dropped. A known failure (the item was deleted forever, the
catalog is busy) becomes a short message in the pane; anything else is
logged with its traceback and reported in one line.

Thumbnails come from a :class:`ThumbnailSource` (``ui/thumbnails.py``), asked
by blob hash and a size bucket that follows the pane's width; it is asked
again when it announces the hash shown, or when a resize crosses a bucket.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from PySide6.QtCore import (
    QEvent,
    QMimeDatabase,
    QObject,
    QSize,
    Qt,
    QTimer,
    Signal,
    SignalInstance,
)
from PySide6.QtGui import (
    QContextMenuEvent,
    QFont,
    QGuiApplication,
    QIcon,
    QMouseEvent,
    QPainter,
    QPalette,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.browse import sync_word
from app.errors import NotFound, VaultError
from app.rows import FileInfo, FolderInfo, TagInfo
from app.vault import Vault
from ui.formatting import format_time, human_size
from ui.resources import checkerboard, kind_icon
from ui.tag_chips import TagChipRow
from ui.tasks import Task, TaskManager
from ui.viewers.base import ViewerServices
from ui.viewers.host import ViewerHost

log = logging.getLogger(__name__)

NOTHING_SELECTED_TEXT = "Select a file or folder to see its details."
LOADING_TEXT = "Loading…"
GONE_TEXT = "This item no longer exists."
FAILED_TEXT = "The details could not be read; the log has them."

THUMBNAIL_BUCKETS = (128, 256, 512)
"""The sizes (longest side, logical pixels) a :class:`ThumbnailSource` is asked for."""

MAX_VIEWER_WIDTH = 512
"""The thumbnail is never shown wider than this, in logical pixels."""

NARROW_CHARS = 34
"""Below this many average characters of width, field names go above their values."""

HASH_DIGITS_SHOWN = 12
"""How much of a checksum the pane shows; the tooltip and Copy give all of it."""

# A reply usually comes within a few milliseconds; only a slow one replaces the
# previous item by "Loading…", so arrowing through a list does not flicker.
_LOADING_DELAY_MS = 250

BACKUP_HINTS = {
    "Not backed up": "Only on this computer so far.",
    "Uploading": "Being copied to the bucket now.",
    "Backed up": "On this computer and in the bucket.",
    "Upload failed": "The last upload failed; the next sync tries again.",
    "Only in bucket": "Not on this computer; it is downloaded when opened.",
    "Missing": "Neither on this computer nor in the bucket: the content is lost.",
}
"""What each backup word means, for its tooltip."""


class ThumbnailSource(Protocol):
    """Where the pane gets large thumbnails (``ui/thumbnails.py`` provides one).

    Attributes:
        ready: emits a blob hash (str) when a thumbnail for it has arrived;
            the pane then asks :meth:`pixmap` again.
    """

    ready: SignalInstance

    def pixmap(self, blob_hash: str, mime: str, size: int) -> QPixmap | None:
        """The thumbnail of ``blob_hash`` fitting ``size`` logical pixels, or None for now.

        The pixmap may carry a device pixel ratio (sharp on HiDPI screens).
        Called on the GUI thread and must not block: None means "not yet"
        (``ready`` follows when it arrives) or "cannot be made".
        """
        ...


@dataclass(frozen=True)
class _FileDetails:
    """A file's properties plus what Qt's MIME database says of its type."""

    info: FileInfo
    type_name: str  # "JPEG image"; "" when the database does not know the MIME type
    icon_name: str  # the MIME type's own theme icon ("application-pdf"), or ""
    tags: tuple[TagInfo, ...] = ()  # with their colours, for the chips


@dataclass(frozen=True)
class _Shown:
    """The item the pane shows (or is loading)."""

    kind: str  # "file" or "folder"
    id: int


def _load_file(vault: Vault, file_id: int) -> _FileDetails:
    """Reads a file's properties. Runs on a pool thread: catalog and MIME lookups only."""
    info = vault.file_info(file_id)
    # QMimeDatabase is documented thread-safe; its first use reads the
    # shared-mime-info cache from disk, which is why it happens here.
    mime = QMimeDatabase().mimeTypeForName(info.mime)
    valid = mime.isValid()
    tags = tuple(vault.file_tags(file_id))
    return _FileDetails(
        info, mime.comment() if valid else "", mime.iconName() if valid else "", tags
    )


def _load_folder(vault: Vault, folder_id: int) -> FolderInfo:
    """Reads a folder's properties. Runs on a pool thread."""
    return vault.folder_info(folder_id)


def _on_checkerboard(pixmap: QPixmap) -> QPixmap:
    """A transparent picture laid on the checkerboard, so that its shape shows."""
    board = QPixmap(pixmap.size())
    painter = QPainter(board)
    painter.fillRect(board.rect(), checkerboard())
    painter.drawPixmap(0, 0, pixmap)
    painter.end()
    return board


def short_hash(blob_hash: str) -> str:
    """``"8a9d04b92d0de583…"``: the start of a checksum, enough to tell two apart by eye."""
    if len(blob_hash) <= HASH_DIGITS_SHOWN:
        return blob_hash
    return blob_hash[:HASH_DIGITS_SHOWN] + "…"


def media_duration(seconds: float) -> str:
    """A clip's length as players show it: ``"4.2 s"``, ``"3:05"``, ``"1:02:03"``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _taken_time(moment: datetime) -> str:
    # EXIF times without an offset are the camera's wall clock, not UTC:
    # shown as recorded, where format_time would shift them by the zone.
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return format_time(moment)


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def selection_text(count: int, total_bytes: int) -> str:
    """``"3 items · 12.4 MB"``: what the pane says of a multiple selection."""
    text = _count(count, "item")
    return f"{text} · {human_size(total_bytes)}" if total_bytes > 0 else text


def _size_text(size: int) -> str:
    return human_size(size) if size < 1000 else f"{human_size(size)} ({size:,} bytes)"


class _ValueLabel(QLabel):
    """A property's value: elided to the width it gets, whole in the tooltip and on Copy.

    Wrapping labels (description, tags) show all of their text instead.
    """

    def __init__(
        self,
        parent: QWidget,
        *,
        wrap: bool = False,
        elide: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
        grow: bool = True,
    ) -> None:
        super().__init__(parent)
        self._full = ""
        self._display = ""
        self._tooltip = ""
        self._wrap = wrap
        self._elide = elide
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(wrap)
        # Ignored (grow): the form gives the value whatever width is left,
        # however long the text, so a narrow pane elides instead of scrolling
        # sideways. Otherwise it asks for its whole text and yields when short of room.
        horizontal = QSizePolicy.Policy.Ignored if grow else QSizePolicy.Policy.Preferred
        self.setSizePolicy(horizontal, QSizePolicy.Policy.Preferred)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def full_text(self) -> str:
        """The whole value, as Copy gives it."""
        return self._full

    def set_value(self, full: str, display: str | None = None, tooltip: str = "") -> None:
        """Show ``display`` (``full`` by default); ``tooltip`` adds to the full value's."""
        self._full = full
        self._display = full if display is None else display
        self._tooltip = tooltip
        self._fit()

    def _fit(self) -> None:
        if self._wrap:
            shown = self._display
        else:
            width = max(self.contentsRect().width() - 2 * self.margin(), 1)
            metrics = self.fontMetrics()
            # The same measure as sizeHint: elidedText alone may cut a text that fits.
            if metrics.horizontalAdvance(self._display) <= width:
                shown = self._display
            else:
                shown = metrics.elidedText(self._display, self._elide, width)
        cut = shown != self._full
        self.setText(shown)
        parts = [self._full] if cut else []
        if self._tooltip:
            parts.append(self._tooltip)
        self.setToolTip("\n".join(parts))
        # Selecting an elided text would copy the ellipsis: only whole text is selectable.
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.NoTextInteraction
            if cut
            else Qt.TextInteractionFlag.TextSelectableByMouse
        )

    def copy(self) -> None:
        """Put the whole value (or the selected part of it) on the clipboard."""
        QGuiApplication.clipboard().setText(self.selectedText() or self._full)

    def minimumSizeHint(self) -> QSize:
        if self._wrap:
            return super().minimumSizeHint()
        hint = super().minimumSizeHint()
        return QSize(self.fontMetrics().horizontalAdvance("…"), hint.height())

    def sizeHint(self) -> QSize:
        if self._wrap:
            return super().sizeHint()
        # The whole text's width, not the elided one's, or it could never grow back.
        margins = self.contentsMargins()
        width = (
            self.fontMetrics().horizontalAdvance(self._display) + margins.left() + margins.right()
        )
        return QSize(width + 2 * self.margin(), super().sizeHint().height())

    def contextMenuEvent(self, ev: QContextMenuEvent) -> None:
        menu = QMenu(self)
        menu.addAction("Copy", self.copy)
        menu.exec(ev.globalPos())

    def resizeEvent(self, ev: QResizeEvent) -> None:
        super().resizeEvent(ev)
        if not self._wrap:
            self._fit()


class ThumbnailView(QLabel):
    """The large thumbnail (or kind icon) at the top of the pane.

    Signals:
        double_clicked: the user double-clicked it.
    """

    double_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # Ignored horizontally: a wide pixmap must not hold the pane wide.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Preview")

    def mouseDoubleClickEvent(self, ev: QMouseEvent) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            self.double_clicked.emit()
            ev.accept()
            return
        super().mouseDoubleClickEvent(ev)


class PreviewPane(QWidget):
    """The right-hand pane: a viewer area over the selected item's properties.

    Call :meth:`show_file`, :meth:`show_folder`, :meth:`show_selection` or
    :meth:`clear` whenever the selection changes; they return at once and the
    properties appear when the background read answers. All methods must be
    called on the GUI thread.

    Attributes:
        viewer_area: the stack on top where viewers go; for now it holds
            :attr:`thumbnail_view` only.
        thumbnail_view: the large thumbnail, or the kind icon while there is none.
        thumbnail_shown: True when :attr:`thumbnail_view` shows a real thumbnail.

    Signals:
        open_requested(int): the user double-clicked the preview of this file id.
        tag_clicked(int): the user clicked the chip of this tag id (show its files).
    """

    open_requested = Signal(int)
    tag_clicked = Signal(int)

    # Row keys and field names, in the order the form lists them.
    FIELDS: tuple[tuple[str, str], ...] = (
        ("type", "Type"),
        ("size", "Size"),
        ("contains", "Contains"),
        ("dimensions", "Dimensions"),
        ("duration", "Duration"),
        ("pages", "Pages"),
        ("taken", "Taken"),
        ("camera", "Camera"),
        ("codecs", "Codecs"),
        ("backup", "Backup"),
        ("checksum", "Checksum"),
        ("versions", "Versions"),
        ("where", "Where"),
        ("added", "Added"),
        ("modified", "Modified"),
        ("tags", "Tags"),
        ("description", "Description"),
        ("search", "Search"),
        ("status", "Status"),
    )

    def __init__(
        self,
        vault: Vault,
        tasks: TaskManager,
        thumbnails: ThumbnailSource | None,
        parent: QWidget | None = None,
        services: ViewerServices | None = None,
    ) -> None:
        super().__init__(parent)
        self._vault = vault
        self._services = services
        self._tasks = tasks
        self._thumbnails = thumbnails
        self._request: _Shown | None = None  # what was asked for last
        self._serial = 0  # numbers requests; a reply with an older number is stale
        self._task: Task[object] | None = None
        self._shown: _Shown | None = None  # what the properties page shows
        self._blob_hash = ""
        self._mime = ""
        self._image_size: QSize | None = None  # pixels of the original, when known
        self._icon = QIcon()
        self._thumbnail: QPixmap | None = None
        self._bucket = 0

        self._loading_timer = QTimer(self)
        self._loading_timer.setSingleShot(True)
        self._loading_timer.setInterval(_LOADING_DELAY_MS)
        self._loading_timer.timeout.connect(lambda: self._show_message(LOADING_TEXT))

        self._build()
        if thumbnails is not None:
            thumbnails.ready.connect(self._thumbnail_ready)
        self.clear()

    # --- building -------------------------------------------------------

    def _build(self) -> None:
        self._pages = QStackedWidget(self)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._pages)

        self._message = QLabel(self)
        self._message.setObjectName("preview_message")
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message.setWordWrap(True)
        self._message.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self._message.setMargin(self.fontMetrics().height())
        self._pages.addWidget(self._message)

        # The viewer on top, the properties below; without a viewer for the
        # file, the properties (with the thumbnail) take the whole height.
        self._content = QSplitter(Qt.Orientation.Vertical, self)
        self._content.setChildrenCollapsible(False)
        self._pages.addWidget(self._content)
        self.viewer_host: ViewerHost | None = None
        if self._services is not None:
            self.viewer_host = ViewerHost(self._vault, self._services, self._content)
            self.viewer_host.hide()
            self._content.addWidget(self.viewer_host)
        self._scroll = QScrollArea(self._content)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setWidgetResizable(True)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._content.addWidget(self._scroll)
        self._content.setStretchFactor(0, 3)
        self._content.setStretchFactor(self._content.count() - 1, 1)

        content = QWidget(self._scroll)
        column = self._column = QVBoxLayout(content)
        self.viewer_area = QStackedWidget(content)
        self.viewer_area.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.thumbnail_view = ThumbnailView(self.viewer_area)
        self.thumbnail_view.double_clicked.connect(self._thumbnail_double_clicked)
        self.viewer_area.addWidget(self.thumbnail_view)
        column.addWidget(self.viewer_area)
        column.addSpacing(self.fontMetrics().height() // 2)

        self._title = _ValueLabel(content, elide=Qt.TextElideMode.ElideMiddle)
        self._title.setObjectName("preview_title")
        self._apply_title_font()
        column.addWidget(self._title)

        self._form = QFormLayout()
        self._form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self._form.setFormAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._values: dict[str, _ValueLabel] = {}
        self._names: dict[str, str] = {}
        self._rows: dict[str, QWidget] = {}  # the form's field widget of each row
        self._name_labels: list[QLabel] = []
        for key, name in self.FIELDS:
            label = QLabel(name, content)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            self._name_labels.append(label)
            label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
            wrap = key in ("description", "tags", "search")
            elide = Qt.TextElideMode.ElideMiddle if key == "where" else Qt.TextElideMode.ElideRight
            # The checksum keeps its Copy button right beside it.
            value = _ValueLabel(content, wrap=wrap, elide=elide, grow=key != "checksum")
            value.setObjectName(f"field_{key}")
            label.setBuddy(value)
            self._values[key] = value
            self._names[key] = name
            if key == "checksum":
                row = self._checksum_row(content, value)
            elif key == "tags":
                row = self._tags_row(content, value)
                label.setBuddy(self.tag_chips)
            else:
                row = value
            self._rows[key] = row
            self._form.addRow(label, row)
        column.addLayout(self._form)
        column.addStretch(1)
        self._scroll.setWidget(content)
        self._scroll.viewport().installEventFilter(self)

    def _checksum_row(self, parent: QWidget, value: _ValueLabel) -> QWidget:
        row = QWidget(parent)
        row.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(value)
        copy = QToolButton(row)
        copy.setObjectName("copy_checksum")
        copy.setAutoRaise(True)
        copy.setIcon(QIcon.fromTheme("edit-copy"))
        if copy.icon().isNull():
            copy.setText("Copy")
        copy.setToolTip("Copy the full SHA-256 checksum")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(value.full_text()))
        # No taller than the text, so the checksum row spaces like the others.
        copy.setMaximumHeight(value.sizeHint().height() + 2)
        box.addWidget(copy, 0, Qt.AlignmentFlag.AlignVCenter)
        box.addStretch(1)
        return row

    def _tags_row(self, parent: QWidget, value: _ValueLabel) -> QWidget:
        """The file's tags as clickable chips; ``value`` keeps their names as text
        (for :meth:`properties`), hidden."""
        row = QWidget(parent)
        row.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        box = QVBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        self.tag_chips = TagChipRow(row)
        self.tag_chips.setObjectName("tag_chips")
        self.tag_chips.tag_clicked.connect(self.tag_clicked)
        box.addWidget(self.tag_chips)
        value.setParent(row)
        value.hide()
        return row

    def _apply_title_font(self) -> None:
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self._title.setFont(font)

    # --- public API -----------------------------------------------------

    def show_file(self, file_id: int) -> None:
        """Show a file's thumbnail and properties once they are read."""
        vault = self._vault
        self._start(_Shown("file", file_id), lambda: _load_file(vault, file_id))

    def show_folder(self, folder_id: int) -> None:
        """Show a folder's properties once they are read."""
        vault = self._vault
        self._start(_Shown("folder", folder_id), lambda: _load_folder(vault, folder_id))

    def show_selection(self, count: int, total_bytes: int) -> None:
        """Several items are selected: say how many and how big ("3 items · 12.4 MB")."""
        self._cancel()
        self._show_message(selection_text(count, total_bytes))

    def clear(self) -> None:
        """Nothing is selected: a quiet placeholder."""
        self._cancel()
        self._show_message(NOTHING_SELECTED_TEXT)

    def refresh(self) -> None:
        """Read the item shown again (after a rename, a sync, a new version); no-op otherwise."""
        request = self._request
        if request is None:
            return
        if request.kind == "file":
            self.show_file(request.id)
        else:
            self.show_folder(request.id)

    @property
    def current_file_id(self) -> int | None:
        """The file asked for last, or None (a folder, several items, nothing)."""
        request = self._request
        return request.id if request is not None and request.kind == "file" else None

    @property
    def message(self) -> str | None:
        """The text shown instead of properties (placeholder, summary, error), or None."""
        if self._pages.currentWidget() is self._message:
            return self._message.text()
        return None

    @property
    def title(self) -> str:
        """The name of the item whose properties are shown ("" when none)."""
        return self._title.full_text() if self._shown is not None else ""

    @property
    def thumbnail_shown(self) -> bool:
        """True when the viewer area shows a real thumbnail rather than an icon."""
        return self._thumbnail is not None and self._shown is not None

    def properties(self) -> dict[str, str]:
        """The properties shown, field name → whole value, in the form's order.

        Empty while a message is shown instead.
        """
        if self.message is not None:
            return {}
        return {
            self._names[key]: value.full_text()
            for key, value in self._values.items()
            if self._form.isRowVisible(self._rows[key])
        }

    # --- loading --------------------------------------------------------

    def _cancel(self) -> None:
        if self.viewer_host is not None:
            self.viewer_host.stop()  # no sound or download outlives the selection
        self._serial += 1
        self._request = None
        self._loading_timer.stop()
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _start(self, request: _Shown, load: Callable[[], object]) -> None:
        self._cancel()
        self._request = request
        serial = self._serial
        self._loading_timer.start()
        self._task = self._tasks.run(
            load,
            lambda result: self._loaded(serial, result),
            lambda exc: self._failed(serial, exc),
            name=f"preview {request.kind} {request.id}",
        )

    def _loaded(self, serial: int, result: object) -> None:
        if serial != self._serial:
            return  # the selection moved on
        self._loading_timer.stop()
        self._task = None
        if isinstance(result, _FileDetails):
            self._fill_file(result)
        elif isinstance(result, FolderInfo):
            self._fill_folder(result)

    def _failed(self, serial: int, exc: BaseException) -> None:
        if serial != self._serial:
            return
        self._loading_timer.stop()
        self._task = None
        if isinstance(exc, NotFound):
            self._show_message(GONE_TEXT)
        elif isinstance(exc, VaultError):
            self._show_message(exc.message)
        else:
            log.error(
                "preview pane: reading details failed", exc_info=(type(exc), exc, exc.__traceback__)
            )
            self._show_message(FAILED_TEXT)

    def _show_message(self, text: str) -> None:
        self._set_viewer(None)
        self._loading_timer.stop()
        self._shown = None
        self._thumbnail = None
        self._blob_hash = ""
        self._message.setText(text)
        self._pages.setCurrentWidget(self._message)

    # --- filling the form -------------------------------------------------

    def _set(
        self, key: str, full: str | None, display: str | None = None, tooltip: str = ""
    ) -> None:
        value = self._values[key]
        visible = bool(full)
        value.set_value(full or "", display, tooltip)
        self._form.setRowVisible(self._rows[key], visible)

    def _fill_common(self, name: str, path: str, description: str, in_trash: bool) -> None:
        self._title.set_value(name, tooltip=path)
        folder = path.rstrip("/").rpartition("/")[0] or "/"
        # Shown the way the folder tree names it; copied as a path the CLI takes.
        shown = " › ".join(["Vault", *folder.strip("/").split("/")]) if folder != "/" else "Vault"
        self._set("where", folder if path != "/" else None, shown)
        self._set("description", description)
        self._set("status", "In the Trash" if in_trash else None)

    def _fill_file(self, details: _FileDetails) -> None:
        info = details.info
        version = info.version
        self._shown = _Shown("file", info.id)
        self._fill_common(info.name, info.path, info.description, info.in_trash)
        type_name = details.type_name or f"{info.kind.capitalize()} ({info.mime})"
        self._set("type", type_name, tooltip=info.mime)
        self._set("size", _size_text(info.size))
        self._set("contains", None)
        dimensions = (
            f"{version.width:,} × {version.height:,}" if version.width and version.height else None
        )
        self._set("dimensions", dimensions)
        self._set("duration", media_duration(version.duration) if version.duration else None)
        self._set("pages", f"{version.pages:,}" if version.pages is not None else None)
        self._set("taken", _taken_time(version.taken_at) if version.taken_at else None)
        self._set("camera", version.camera)
        self._set("codecs", version.codecs)
        word = sync_word(version.local_state, version.remote_state)
        self._set("backup", word, tooltip=BACKUP_HINTS.get(word, ""))
        self._set("checksum", version.blob_hash, short_hash(version.blob_hash), "SHA-256")
        versions = (
            f"{info.versions:,}"
            if info.versions == 1
            else f"{info.versions:,} (showing version {version.number})"
        )
        self._set("versions", versions)
        self._set("added", format_time(info.created_at))
        self._set("modified", format_time(info.modified_at))
        self._set("tags", ", ".join(t.name for t in details.tags) or ", ".join(info.tags))
        self.tag_chips.set_tags(details.tags)
        self._set("search", version.index_note)

        self._blob_hash = version.blob_hash
        self._mime = info.mime
        self._image_size = (
            QSize(version.width, version.height) if version.width and version.height else None
        )
        self._icon = self._file_icon(details.icon_name, info.kind)
        self._thumbnail = None
        self._bucket = 0
        self._pages.setCurrentWidget(self._content)
        self._scroll.verticalScrollBar().setValue(0)
        self._set_viewer(info)
        self._ask_thumbnail()
        self._update_viewer()

    def _fill_folder(self, info: FolderInfo) -> None:
        self._shown = _Shown("folder", info.id)
        name = info.name or "Vault"
        self._fill_common(name, info.path, info.description, info.in_trash)
        self._set("type", "Folder")
        parts = []
        if info.folders:
            parts.append(_count(info.folders, "folder"))
        if info.files:
            parts.append(_count(info.files, "file"))
        self._set("contains", ", ".join(parts) or "Nothing")
        for key in ("size", "dimensions", "duration", "pages", "taken", "camera", "codecs"):
            self._set(key, None)
        for key in ("backup", "checksum"):
            self._set(key, None)
        for key in ("versions", "tags", "search"):
            self._set(key, None)
        self._set("added", format_time(info.created_at))
        self._set("modified", format_time(info.modified_at))

        self._blob_hash = ""
        self._mime = ""
        self._image_size = None
        self._icon = self._fallback(kind_icon("folder"), QStyle.StandardPixmap.SP_DirIcon)
        self._thumbnail = None
        self._bucket = 0
        self._pages.setCurrentWidget(self._content)
        self._scroll.verticalScrollBar().setValue(0)
        self._set_viewer(None)
        self._update_viewer()

    def _set_viewer(self, info: FileInfo | None) -> None:
        """Shows ``info`` in its viewer when its type has one; else the thumbnail."""
        host = self.viewer_host
        if host is None:
            return
        shown = info is not None and host.show_file(info)
        if not shown:
            host.clear()
        host.setVisible(shown)
        # The viewer shows the content itself: the thumbnail would repeat it.
        self.viewer_area.setVisible(not shown)

    @property
    def viewer(self) -> object | None:
        """The viewer showing the current file (``ui/viewers``), or None."""
        host = self.viewer_host
        return host.viewer if host is not None and host.isVisible() else None

    def _file_icon(self, icon_name: str, kind: str) -> QIcon:
        # The desktop theme's icon of the exact type first (a PDF looks like
        # one), then the kind's, as the grid shows it.
        icon = QIcon.fromTheme(icon_name) if icon_name else QIcon()
        if icon.isNull():
            icon = kind_icon(kind)
        return self._fallback(icon, QStyle.StandardPixmap.SP_FileIcon)

    def _fallback(self, icon: QIcon, standard: QStyle.StandardPixmap) -> QIcon:
        return icon if not icon.isNull() else self.style().standardIcon(standard)

    # --- the thumbnail ----------------------------------------------------

    def _viewer_box(self) -> QSize:
        """The logical size the thumbnail may take: the pane's width, not too tall."""
        viewport = self._scroll.viewport()
        margins = self._column.contentsMargins()
        width = viewport.width() - margins.left() - margins.right()
        line = self.fontMetrics().height()
        width = max(min(width, MAX_VIEWER_WIDTH), 4 * line)
        # A portrait photo must leave room for the properties below it.
        height = min(width, max(int(viewport.height() * 0.6), 8 * line))
        return QSize(width, height)

    def _wanted_bucket(self) -> int:
        box = self._viewer_box()
        needed = max(box.width(), box.height())
        for bucket in THUMBNAIL_BUCKETS:
            if bucket >= needed:
                return bucket
        return THUMBNAIL_BUCKETS[-1]

    def _ask_thumbnail(self) -> None:
        if self._thumbnails is None or not self._blob_hash:
            return
        self._bucket = self._wanted_bucket()
        pixmap = self._thumbnails.pixmap(self._blob_hash, self._mime, self._bucket)
        if pixmap is not None and not pixmap.isNull():
            self._thumbnail = pixmap
        # None keeps what is shown (the icon, or a smaller thumbnail) until ready().

    def _thumbnail_ready(self, blob_hash: str) -> None:
        if self._shown is None or self._shown.kind != "file" or blob_hash != self._blob_hash:
            return
        self._ask_thumbnail()
        self._update_viewer()

    def _update_viewer(self) -> None:
        if self._shown is None:
            return
        dpr = self.devicePixelRatioF()
        box = self._viewer_box()
        if self._thumbnail is not None:
            source = self._thumbnail
            logical = source.deviceIndependentSize().toSize()
            if self._image_size is not None:
                # Never blow a small picture up beyond its own pixels.
                box = box.boundedTo(self._image_size)
            logical = logical.scaled(box, Qt.AspectRatioMode.KeepAspectRatio)
            pixmap = source.scaled(
                logical * dpr,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            if pixmap.hasAlphaChannel():
                pixmap = _on_checkerboard(pixmap)
        else:
            side = min(6 * self.fontMetrics().height(), box.width())
            pixmap = self._icon.pixmap(QSize(side, side), dpr)
        pixmap.setDevicePixelRatio(dpr)
        self.thumbnail_view.setPixmap(pixmap)
        tip = "Double-click to open" if self._shown.kind == "file" else ""
        self.thumbnail_view.setToolTip(tip)

    def _fit_form(self) -> None:
        # In a narrow pane, names go above their values rather than squeezing both.
        narrow = (
            self._scroll.viewport().width() < NARROW_CHARS * self.fontMetrics().averageCharWidth()
        )
        policy = (
            QFormLayout.RowWrapPolicy.WrapAllRows
            if narrow
            else QFormLayout.RowWrapPolicy.DontWrapRows
        )
        if self._form.rowWrapPolicy() != policy:
            self._form.setRowWrapPolicy(policy)
            align = Qt.AlignmentFlag.AlignLeft if narrow else Qt.AlignmentFlag.AlignRight
            self._form.setLabelAlignment(align | Qt.AlignmentFlag.AlignTop)
            # The label's own alignment too: beside a two-line value it stays on the first.
            for label in self._name_labels:
                label.setAlignment(align | Qt.AlignmentFlag.AlignTop)

    def _thumbnail_double_clicked(self) -> None:
        shown = self._shown
        # Only what is on screen and still asked for: a stale item is never opened.
        if shown is not None and shown.kind == "file" and shown == self._request:
            self.open_requested.emit(shown.id)

    # --- Qt overrides -----------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        resized = event.type() == QEvent.Type.Resize
        if resized and watched is self._scroll.viewport():
            self._fit_form()
        if resized and watched is self._scroll.viewport() and self._shown is not None:
            # Re-ask only when the bucket changes; otherwise rescale what is there.
            if self._blob_hash and self._wanted_bucket() != self._bucket:
                self._ask_thumbnail()
            self._update_viewer()
        return super().eventFilter(watched, event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._apply_title_font()
