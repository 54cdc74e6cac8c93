"""Where the preview pane's viewers live: picks one by type, fetches content first.

:class:`ViewerHost` is the top part of the preview pane. For a file it picks
the viewer of its type (:func:`viewer_family`), creates that viewer the first
time it is needed (Qt Multimedia and friends load only then) and reuses it
for the next file of the same family. Content that is in the bucket only is
downloaded first, verified (:meth:`app.space.SpaceOps.fetch`), with progress
in the host: at once when it is small, on a click when it is big, so that
arrowing through a folder never downloads gigabytes. A viewer's failure
("the document is damaged") replaces it by a "cannot preview" message; the
rest of the pane stays.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QLabel,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.errors import VaultError
from app.rows import FileInfo
from app.thumbnails import can_thumbnail
from app.vault import Vault
from ui.formatting import human_size
from ui.tasks import Task
from ui.viewers.base import Viewer, ViewerServices, ViewerSource

log = logging.getLogger(__name__)

AUTO_FETCH_BYTES = 25 << 20
"""Content up to this size is downloaded for the preview without asking."""

FAMILIES = ("image", "pdf", "document", "text", "media")

# The signals by which each family's viewer says its content is on screen (or,
# for a locked PDF, the password prompt: what there is to see).
_SHOWN_SIGNALS = {
    "image": ("image_shown",),
    "pdf": ("page_shown", "password_requested"),
    "document": ("content_shown",),
    "text": ("content_shown",),
    "media": ("ready",),
}


def viewer_family(mime: str, name: str) -> str | None:
    """Which viewer shows files of this type: one of :data:`FAMILIES`, or None.

    Cheap and pure: safe on the GUI thread.
    """
    from ui.viewers.document_viewer import document_viewer_takes
    from ui.viewers.text_viewer import text_viewer_mode

    if mime == "application/pdf":
        return "pdf"
    if mime.startswith(("audio/", "video/")):
        return "media"
    if mime.startswith("image/"):
        return "image" if can_thumbnail(mime) else None
    if document_viewer_takes(mime):
        return "document"
    if text_viewer_mode(mime, name) is not None:
        return "text"
    return None


class _Cancelled(Exception):
    """Raised from a download's progress callback once the preview moved on."""


class ViewerHost(QWidget):
    """The viewer part of the preview pane. Call on the GUI thread only.

    Attributes:
        viewer: the viewer shown now, or None (a message or a download is shown).

    Signals:
        content_shown(): the current file's content is on screen in its viewer.
    """

    content_shown = Signal()

    def __init__(self, vault: Vault, services: ViewerServices, parent: QWidget | None = None):
        super().__init__(parent)
        self._vault = vault
        self.services = services
        self._viewers: dict[str, Viewer] = {}
        self.viewer: Viewer | None = None
        self._info: FileInfo | None = None
        self._family: str | None = None
        self._fetch: Task[object] | None = None
        self._fetch_cancel = threading.Event()
        self._received = 0  # bytes of the running download, written by its pool thread
        self._active = False
        self._shown = False

        self._stack = QStackedWidget(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._stack)
        self._build_message_page()
        self._progress_timer = QTimer(self)
        self._progress_timer.setInterval(100)
        self._progress_timer.timeout.connect(self._show_progress)

    def _build_message_page(self) -> None:
        page = QWidget(self._stack)
        column = QVBoxLayout(page)
        column.addStretch(1)
        self._message = QLabel(page)
        self._message.setObjectName("viewer_message")
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message.setWordWrap(True)
        self._message.setTextFormat(Qt.TextFormat.PlainText)
        column.addWidget(self._message)
        self._progress = QProgressBar(page)
        self._progress.setTextVisible(False)
        column.addWidget(self._progress)
        self._fetch_button = QPushButton(page)
        self._fetch_button.setObjectName("fetch_button")
        self._fetch_button.clicked.connect(self._start_fetch)
        column.addWidget(self._fetch_button, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addStretch(1)
        self._message_page = page
        self._stack.addWidget(page)

    # --- public API -------------------------------------------------------

    @property
    def active(self) -> bool:
        """True when the host shows something for the current file."""
        return self._active

    @property
    def shown(self) -> bool:
        """True once the current file's content is on screen in its viewer."""
        return self._shown and self.viewer is not None

    @property
    def file_id(self) -> int | None:
        """The file the host is showing (or fetching, or explaining), or None."""
        return self._info.id if self._info is not None else None

    @property
    def message(self) -> str | None:
        """The text shown instead of a viewer (download, cannot preview), or None."""
        if self._active and self._stack.currentWidget() is self._message_page:
            return self._message.text() or None
        return None

    def show_file(self, info: FileInfo) -> bool:
        """Show ``info``'s content in its viewer; returns False when its type has none."""
        self.stop()
        family = viewer_family(info.mime, info.name)
        if family is None:
            self._active = False
            return False
        self._info, self._family = info, family
        self._active = True
        version = info.version
        if version.local_state == "present":
            self._open_viewer()
        elif version.remote_state == "completed":
            self._offer_fetch(auto=version.size <= AUTO_FETCH_BYTES)
        else:
            self._show_message("The content of this file is not on this computer.")
        return True

    def stop(self) -> None:
        """The selection moved on: stop the viewer and any download for it."""
        if self.viewer is not None:
            self.viewer.stop()
            self.viewer = None
        if self._fetch is not None:
            self._fetch_cancel.set()
            self._fetch.cancel()
            self._fetch = None
        self._progress_timer.stop()
        self._info = None
        self._family = None
        # A message was about the file before: it must not stand for the next one.
        self._message.clear()
        self._progress.hide()
        self._fetch_button.hide()

    def clear(self) -> None:
        """Nothing to show: stop and hide."""
        self.stop()
        self._active = False

    # --- viewers ----------------------------------------------------------

    def _viewer(self, family: str) -> Viewer:
        viewer = self._viewers.get(family)
        if viewer is None:
            viewer = self._create(family)
            viewer.failed.connect(lambda reason, v=viewer: self._viewer_failed(v, reason))
            for name in _SHOWN_SIGNALS[family]:
                getattr(viewer, name).connect(lambda *_args, v=viewer: self._viewer_shown(v))
            self._viewers[family] = viewer
            self._stack.addWidget(viewer)
        return viewer

    def _create(self, family: str) -> Viewer:
        # Imported here: each family's libraries load the first time one is shown.
        services = self.services
        if family == "image":
            from ui.viewers.image_viewer import ImageViewer

            return ImageViewer(services, self._stack)
        if family == "pdf":
            from ui.viewers.pdf_viewer import PdfViewer

            return PdfViewer(services, self._stack)
        if family == "document":
            from ui.viewers.document_viewer import DocumentViewer
            from ui.viewers.pdf_viewer import PdfViewer

            factory: Callable[[ViewerServices, QWidget], Viewer] = PdfViewer
            return DocumentViewer(services, self._stack, pdf_viewer_factory=factory)
        if family == "text":
            from ui.viewers.text_viewer import TextViewer

            return TextViewer(services, self._stack)
        from ui.viewers.media_player import MediaPlayer

        return MediaPlayer(services, self._stack)

    def _open_viewer(self) -> None:
        info, family = self._info, self._family
        if info is None or family is None:
            return
        version = info.version
        source = ViewerSource(
            file_id=info.id,
            name=info.name,
            mime=info.mime,
            kind=info.kind,
            path=self._vault.blobs.path(version.blob_hash),
            blob_hash=version.blob_hash,
            size=version.size,
        )
        viewer = self._viewer(family)
        self.viewer = viewer
        self._shown = False
        self._stack.setCurrentWidget(viewer)
        viewer.show_source(source)

    def _viewer_shown(self, viewer: Viewer) -> None:
        if viewer is self.viewer and not self._shown:
            self._shown = True
            self.content_shown.emit()

    def _viewer_failed(self, viewer: Viewer, reason: str) -> None:
        if viewer is not self.viewer:
            return  # a late word from a viewer no longer shown
        viewer.stop()
        self.viewer = None
        self._show_message(f"Cannot preview this file: {reason}.")

    # --- fetching ---------------------------------------------------------

    def _offer_fetch(self, auto: bool) -> None:
        info = self._info
        assert info is not None
        if auto:
            self._start_fetch()
            return
        self._show_message("This file is in the bucket only.")
        self._fetch_button.setText(f"Download and Show ({human_size(info.version.size)})")
        self._fetch_button.show()

    def _start_fetch(self) -> None:
        info = self._info
        if info is None or self._fetch is not None:
            return
        vault, version, name = self._vault, info.version, info.name
        cancel = self._fetch_cancel = threading.Event()
        self._received = 0

        def received(n: int) -> None:  # on the pool thread
            self._received += n
            if cancel.is_set():
                raise _Cancelled

        def fetch() -> object:
            from app.credentials import open_remote

            store = vault.remote_store or open_remote(vault.paths)[0]
            return vault.fetch(version.blob_hash, store, name=name, progress=received)

        self._show_message(f"Downloading {name} from the bucket…")
        self._progress.setRange(0, max(1, version.size))
        self._progress.setValue(0)
        self._progress.show()
        self._progress_timer.start()
        file_id = info.id
        self._fetch = self.services.tasks.run(
            fetch,
            lambda _path: self._fetched(file_id),
            lambda exc: self._fetch_failed(file_id, exc),
            name=f"preview fetch {file_id}",
        )

    def _show_progress(self) -> None:
        info = self._info
        if info is None:
            return
        self._progress.setValue(min(self._received, self._progress.maximum()))
        done, total = human_size(self._received), human_size(info.version.size)
        self._message.setText(f"Downloading {info.name} from the bucket… {done} of {total}")

    def _fetched(self, file_id: int) -> None:
        self._fetch = None
        self._progress_timer.stop()
        if self._info is None or self._info.id != file_id:
            return
        self._open_viewer()

    def _fetch_failed(self, file_id: int, exc: BaseException) -> None:
        self._fetch = None
        self._progress_timer.stop()
        if self._info is None or self._info.id != file_id or isinstance(exc, _Cancelled):
            return
        if isinstance(exc, VaultError):
            text = exc.message if not exc.hint else f"{exc.message}\n{exc.hint}"
        else:
            log.error("preview: download failed", exc_info=(type(exc), exc, exc.__traceback__))
            text = "The download failed; the log has the details."
        self._show_message(text)
        self._fetch_button.setText("Try Again")
        self._fetch_button.show()

    # --- helpers ----------------------------------------------------------

    def _show_message(self, text: str) -> None:
        self._message.setText(text)
        self._progress.hide()
        self._fetch_button.hide()
        self._stack.setCurrentWidget(self._message_page)
