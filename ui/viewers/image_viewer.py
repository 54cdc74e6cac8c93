"""The preview pane's image viewer: fit, zoom, pan, transparency, animation.

Decoding happens in the viewer's worker processes (the ``"image.frames"``
job of :mod:`app.image_frames`); a pool thread (:mod:`ui.tasks`) waits for
the answer, checks the raw pixels and builds the ``QImage`` frames, so the
GUI thread only paints. Zoom 1.0 ("100 %") shows one image pixel per device
pixel, so a photo at 100 % is as sharp on a HiDPI screen as the file allows.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QPoint, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QHideEvent,
    QIcon,
    QImage,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QShowEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.workers import WorkerFailed, WorkerPool
from ui.resources import checkerboard
from ui.tasks import Task
from ui.viewers.base import Viewer, ViewerServices, ViewerSource, weakly, worker_answer

log = logging.getLogger(__name__)

MAX_PIXELS = 40_000_000
"""Cap on one frame's width × height; larger images arrive reduced (the header says so)."""

MAX_BYTES = 256 << 20
"""Cap on all frames' pixels together: long animations arrive truncated."""

MIN_ZOOM = 0.01
MAX_ZOOM = 32.0
ZOOM_STEPS = (
    0.01, 0.02, 0.03, 0.05, 0.0625, 0.083, 0.1, 0.125, 0.167, 0.25, 0.333, 0.5, 0.667,
    0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0,
)  # fmt: skip
"""The zoom levels that zoom in/out step through (1.0 = one image pixel per device pixel)."""

_SMOOTH_LIMIT = 4_000_000  # pixels a frame may have to be scaled smoothly on every paint
_SCALE_DELAY_MS = 120  # a burst of zoom steps asks for one smooth copy, not one per step
_FORMATS = {"RGB": (3, QImage.Format.Format_RGB888), "RGBA": (4, QImage.Format.Format_RGBA8888)}


class ImageUnreadable(Exception):
    """The image cannot be shown; the message is the reason for the user."""


@dataclass(frozen=True)
class DecodedImage:
    """An image's frames, ready to paint (built off the GUI thread; ``QImage`` is fine there).

    Attributes:
        frames: one ``QImage`` per frame, all of one size, in a fast paint format.
        durations: milliseconds each frame shows (all 0 for a still).
        loop: how often an animation plays; 0 = forever.
        original: the image's own size; ``frames`` may be reduced from it.
        truncated: True when an animation had more frames than were decoded.
    """

    frames: list[QImage]
    durations: list[int]
    loop: int
    original: QSize
    truncated: bool


def decode_image(workers: WorkerPool, path: str) -> DecodedImage:
    """Has a worker decode ``path`` and builds its frames. Blocks: pool threads only.

    Touches no widget or ``QPixmap``.

    Raises:
        ImageUnreadable: the file is damaged, refused or the worker failed.
    """
    request = {
        "job": "image.frames",
        "path": path,
        "max_pixels": MAX_PIXELS,
        "max_bytes": MAX_BYTES,
    }
    try:
        header, payload = workers.run(request, reader="image reader")
    except WorkerFailed as exc:
        raise ImageUnreadable(str(exc)) from exc
    reason = worker_answer(header)
    if reason is not None:
        raise ImageUnreadable(reason)
    return frames_from_answer(header, payload)


def frames_from_answer(header: dict[str, Any], payload: bytes) -> DecodedImage:
    """Checks a worker's ``image.frames`` answer and builds the ``QImage`` frames.

    The worker is not trusted: every size, offset and length is checked
    against the payload before a pixel is read. Any thread.

    Raises:
        ImageUnreadable: the answer does not add up.
    """
    try:
        width, height = int(header["width"]), int(header["height"])
        bytes_per_pixel, image_format = _FORMATS[str(header["mode"])]
        frames_info = list(header["frames"])
        original = QSize(int(header["original_width"]), int(header["original_height"]))
        loop = max(0, int(header.get("loop") or 0))
    except (KeyError, TypeError, ValueError) as exc:
        raise ImageUnreadable("the image reader answered nonsense") from exc
    stride = width * bytes_per_pixel
    if (
        width < 1
        or height < 1
        or not frames_info
        or width * height > MAX_PIXELS
        or header.get("stride", stride) != stride
    ):
        raise ImageUnreadable("the image reader answered nonsense")
    view = memoryview(payload)
    frames: list[QImage] = []
    durations: list[int] = []
    for info in frames_info:
        try:
            offset, length = int(info["offset"]), int(info["length"])
            duration = int(info.get("duration") or 0)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ImageUnreadable("the image reader answered nonsense") from exc
        if offset < 0 or length != stride * height or offset + length > len(payload):
            raise ImageUnreadable("the image reader answered nonsense")
        raw = QImage(view[offset : offset + length], width, height, stride, image_format)
        # Converting copies the pixels out of the payload, into the formats
        # the raster engine paints fastest.
        fast = (
            QImage.Format.Format_ARGB32_Premultiplied
            if bytes_per_pixel == 4
            else QImage.Format.Format_RGB32
        )
        frames.append(raw.convertToFormat(fast))
        durations.append(max(20, duration) if len(frames_info) > 1 else 0)
    if not original.isValid() or original.isEmpty():
        original = QSize(width, height)
    return DecodedImage(frames, durations, loop, original, bool(header.get("truncated")))


class ImageCanvas(QAbstractScrollArea):
    """Paints one frame at a zoom, with scroll bars, drag panning and Ctrl+wheel zoom.

    Signals:
        zoom_changed(float): the zoom changed (by the wheel, a resize in fit mode, …).
        zoom_requested(int, QPointF): Ctrl+wheel: +1 in, -1 out, around this point.
    """

    zoom_changed = Signal(float)
    zoom_requested = Signal(int, QPointF)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QAbstractScrollArea.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Image")
        self.image: QImage | None = None
        self.zoom = 1.0
        self.fitted = True
        self._smooth: QImage | None = None  # a smoothly scaled copy for this zoom
        self._smooth_key: tuple[int, float] = (0, 0.0)
        self._drag: tuple[QPoint, int, int] | None = None
        for bar in (self.horizontalScrollBar(), self.verticalScrollBar()):
            bar.setSingleStep(24)
            bar.valueChanged.connect(self.viewport().update)

    # --- geometry ---------------------------------------------------------

    def device_ratio(self) -> float:
        """Device pixels per logical pixel of the viewport (2.0 on a typical HiDPI screen)."""
        return max(1.0, float(self.viewport().devicePixelRatioF()))

    def fit_zoom(self) -> float:
        """The zoom at which the whole image fits the view; never above 100 %."""
        if self.image is None or self.image.isNull():
            return 1.0
        ratio = self.device_ratio()
        view = self.viewport().size()
        fit = min(
            view.width() * ratio / self.image.width(),
            view.height() * ratio / self.image.height(),
        )
        return max(MIN_ZOOM, min(1.0, fit))

    def content_size(self) -> tuple[float, float]:
        """The image's size on screen at the current zoom, in logical pixels."""
        if self.image is None:
            return 0.0, 0.0
        scale = self.zoom / self.device_ratio()
        return self.image.width() * scale, self.image.height() * scale

    def origin(self) -> QPointF:
        """Where the image's top-left corner is in the viewport (centred when it is smaller)."""
        width, height = self.content_size()
        view = self.viewport().size()
        x = (
            (view.width() - width) / 2
            if width <= view.width()
            else -self.horizontalScrollBar().value()
        )
        y = (
            (view.height() - height) / 2
            if height <= view.height()
            else -self.verticalScrollBar().value()
        )
        ratio = self.device_ratio()
        # On device pixels: at 100 % an image pixel must land on exactly one.
        return QPointF(round(x * ratio) / ratio, round(y * ratio) / ratio)

    def set_image(self, image: QImage | None, keep_view: bool = False) -> None:
        """Shows ``image`` (None: nothing); an animation's next frame keeps the view."""
        self.image = image
        self._smooth = None
        if not keep_view:
            self._drag = None
            if self.fitted:
                self.zoom = self.fit_zoom()
            self._update_bars()
        self.viewport().update()

    def set_zoom(self, zoom: float, anchor: QPointF | None = None, fitted: bool = False) -> None:
        """Zooms to ``zoom``, keeping the image point under ``anchor`` (default: the centre)."""
        zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        if anchor is None:
            anchor = QPointF(self.viewport().width() / 2, self.viewport().height() / 2)
        origin = self.origin()
        old_scale = self.zoom / self.device_ratio()
        point = (anchor - origin) / old_scale  # in image pixels
        self.zoom = zoom
        self.fitted = fitted
        self._update_bars()
        scale = zoom / self.device_ratio()
        self.horizontalScrollBar().setValue(round(point.x() * scale - anchor.x()))
        self.verticalScrollBar().setValue(round(point.y() * scale - anchor.y()))
        self._smooth = None
        self.viewport().update()
        self.zoom_changed.emit(zoom)

    def scrollable(self) -> bool:
        """Whether the image is larger than the view in some direction."""
        return self.horizontalScrollBar().maximum() > 0 or self.verticalScrollBar().maximum() > 0

    def wants_smooth_copy(self) -> tuple[int, float] | None:
        """(image key, zoom) when painting needs a smoothly scaled copy it does not have."""
        image = self.image
        if image is None or self.zoom >= 1.0:
            return None
        if image.width() * image.height() <= _SMOOTH_LIMIT:
            return None
        key = (image.cacheKey(), self.zoom)
        return None if self._smooth is not None and self._smooth_key == key else key

    def set_smooth_copy(self, key: tuple[int, float], scaled: QImage) -> None:
        """Takes a smoothly scaled copy made off the GUI thread, if still current."""
        if self.image is not None and key == (self.image.cacheKey(), self.zoom):
            self._smooth, self._smooth_key = scaled, key
            self.viewport().update()

    def _update_bars(self) -> None:
        width, height = self.content_size()
        view = self.viewport().size()
        for bar, content, page in (
            (self.horizontalScrollBar(), width, view.width()),
            (self.verticalScrollBar(), height, view.height()),
        ):
            bar.setPageStep(max(1, page))
            bar.setRange(0, max(0, math.ceil(content - page)))
        cursor = Qt.CursorShape.OpenHandCursor if self.scrollable() else Qt.CursorShape.ArrowCursor
        if self._drag is None:
            self.viewport().setCursor(cursor)

    # --- Qt overrides -------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self.viewport())
        image = self.image
        if image is None or image.isNull():
            painter.end()
            return
        width, height = self.content_size()
        origin = self.origin()
        target = QRectF(origin.x(), origin.y(), width, height)
        visible = target.intersected(QRectF(self.viewport().rect()))
        if image.hasAlphaChannel():
            painter.fillRect(visible, checkerboard())
        if self._smooth is not None:
            painter.drawImage(target, self._smooth)
        else:
            # Smooth when shrinking; sharp pixels when enlarging, to see them.
            small = image.width() * image.height() <= _SMOOTH_LIMIT
            painter.setRenderHint(
                QPainter.RenderHint.SmoothPixmapTransform, self.zoom < 1.0 and small
            )
            painter.drawImage(target, image)
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.fitted and self.image is not None:
            zoom = self.fit_zoom()
            if zoom != self.zoom:
                self.zoom = zoom
                self._smooth = None
                self.zoom_changed.emit(zoom)
        self._update_bars()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            delta = event.angleDelta().y()
            if delta:
                self.zoom_requested.emit(1 if delta > 0 else -1, event.position())
            event.accept()
            return
        super().wheelEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.scrollable():
            self._drag = (
                event.position().toPoint(),
                self.horizontalScrollBar().value(),
                self.verticalScrollBar().value(),
            )
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None:
            start, h, v = self._drag
            moved = event.position().toPoint() - start
            self.horizontalScrollBar().setValue(h - moved.x())
            self.verticalScrollBar().setValue(v - moved.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None and event.button() == Qt.MouseButton.LeftButton:
            self._drag = None
            self._update_bars()
            event.accept()
            return
        super().mouseReleaseEvent(event)


class ImageViewer(Viewer):
    """Shows an image: fitted to the pane, zoomable, pannable; animations play.

    Attributes:
        canvas: the :class:`ImageCanvas` that paints.

    Signals:
        image_shown(): the image's first frame is on screen.
    """

    image_shown = Signal()

    def __init__(self, services: ViewerServices, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self._task: Task[DecodedImage] | None = None
        self._scale_task: Task[QImage] | None = None
        self._generation = 0
        self._decoded: DecodedImage | None = None
        self._index = 0
        self._plays = 0
        self._playing = False
        self._source: ViewerSource | None = None

        self.canvas = ImageCanvas(self)
        self.canvas.zoom_changed.connect(self._zoom_changed)
        self.canvas.zoom_requested.connect(self._step_zoom)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._next_frame)
        self._scale_timer = QTimer(self)
        self._scale_timer.setSingleShot(True)
        self._scale_timer.setInterval(_SCALE_DELAY_MS)
        self._scale_timer.timeout.connect(self._request_smooth_copy)

        style = self.style()
        self.play_action = self._action(
            "Pause", "Pause the animation", None, self.toggle_playing,
            style.standardIcon(QStyle.StandardPixmap.SP_MediaPause),
        )  # fmt: skip
        self.zoom_out_action = self._action(
            "Zoom out", "Zoom out (Ctrl+−)", QKeySequence.StandardKey.ZoomOut, self.zoom_out,
            QIcon.fromTheme("zoom-out"),
        )  # fmt: skip
        self.zoom_in_action = self._action(
            "Zoom in", "Zoom in (Ctrl++)", QKeySequence.StandardKey.ZoomIn, self.zoom_in,
            QIcon.fromTheme("zoom-in"),
        )  # fmt: skip
        # Without an icon theme the buttons show their icon text: "−" and "+", as the
        # PDF viewer's, leave the image's size its room in a narrow pane.
        self.zoom_out_action.setIconText("−")
        self.zoom_in_action.setIconText("+")
        self.actual_size_action = self._action(
            "1:1", "Actual size (100 %): one image pixel per screen pixel", None, self.actual_size,
            QIcon.fromTheme("zoom-original"),
        )  # fmt: skip
        self.fit_action = self._action(
            "Fit", "Fit to the pane (Ctrl+0)", QKeySequence("Ctrl+0"), self.fit,
            QIcon.fromTheme("zoom-fit-best"),
        )  # fmt: skip
        # Ctrl+= too: on many layouts "+" needs Shift, and Ctrl+= is what people press.
        self.zoom_in_action.setShortcuts(
            [*QKeySequence.keyBindings(QKeySequence.StandardKey.ZoomIn), QKeySequence("Ctrl+=")]
        )
        self.fit_action.setCheckable(True)

        self.zoom_label = QLabel(self)
        self.zoom_label.setAccessibleName("Zoom")
        self.zoom_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("3200 %") + 4)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.info_label = QLabel(self)
        self.info_label.setAccessibleName("Image size")
        self.info_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.setSpacing(2)
        self.play_button = self._button(self.play_action)
        bar.addWidget(self.play_button)
        bar.addWidget(self.info_label, 1)
        for action in (self.zoom_out_action,):
            bar.addWidget(self._button(action))
        bar.addWidget(self.zoom_label)
        for action in (self.zoom_in_action, self.actual_size_action, self.fit_action):
            bar.addWidget(self._button(action))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(bar)
        self.play_button.setVisible(False)
        self._update_controls()

    # --- public API ---------------------------------------------------------

    @property
    def zoom(self) -> float:
        """The zoom: 1.0 shows one image pixel per device pixel."""
        return self.canvas.zoom

    @property
    def fitted(self) -> bool:
        """Whether the zoom follows the pane's size (fit mode)."""
        return self.canvas.fitted

    @property
    def frame_count(self) -> int:
        """Frames decoded (1 for a still, 0 before an image is shown)."""
        return len(self._decoded.frames) if self._decoded is not None else 0

    @property
    def frame_index(self) -> int:
        """The frame on screen."""
        return self._index

    @property
    def playing(self) -> bool:
        """Whether an animation is playing."""
        return self._playing

    @property
    def image_size(self) -> QSize:
        """The shown image's size in pixels (after any reduction; empty before one is shown)."""
        image = self.canvas.image
        return image.size() if image is not None else QSize()

    @property
    def original_size(self) -> QSize:
        """The image's own size in pixels (larger than :attr:`image_size` when reduced)."""
        return self._decoded.original if self._decoded is not None else QSize()

    def show_source(self, source: ViewerSource) -> None:
        """Decodes ``source`` in a worker; shows it when done, or emits ``failed``."""
        self.stop()
        self._source = source
        generation = self._generation
        workers = self.services.workers
        path = str(source.path)
        self.info_label.setText("")
        self._task = self.services.tasks.run(
            lambda: decode_image(workers, path),
            weakly(self._decoded_ready, generation),
            weakly(self._decode_failed, generation),
            name="image-viewer",
        )

    def stop(self) -> None:
        """Stops playback and drops pending work and the frames. Idempotent."""
        self._generation += 1
        for task in (self._task, self._scale_task):
            if task is not None:
                task.cancel()
        self._task = self._scale_task = None
        self._timer.stop()
        self._scale_timer.stop()
        self._playing = False
        self._decoded = None
        self._index = 0
        self.canvas.fitted = True
        self.canvas.set_image(None)
        self._update_controls()

    def zoom_in(self) -> None:
        """One zoom step in (around the view's centre)."""
        self._step_zoom(1, None)

    def zoom_out(self) -> None:
        """One zoom step out."""
        self._step_zoom(-1, None)

    def actual_size(self) -> None:
        """100 %: one image pixel per device pixel."""
        self.canvas.set_zoom(1.0)

    def fit(self) -> None:
        """Fit the whole image in the pane (and keep fitting it as the pane resizes)."""
        self.canvas.set_zoom(self.canvas.fit_zoom(), fitted=True)

    def set_zoom(self, zoom: float) -> None:
        """Zoom to ``zoom`` (clamped to 1 %–3200 %)."""
        self.canvas.set_zoom(zoom)

    def play(self) -> None:
        """Plays an animation from the frame on screen."""
        if self.frame_count > 1 and not self._playing:
            self._playing = True
            self._plays = 0
            self._schedule()
            self._update_controls()

    def pause(self) -> None:
        """Pauses an animation on the frame on screen."""
        if self._playing:
            self._playing = False
            self._timer.stop()
            self._update_controls()

    def toggle_playing(self) -> None:
        """Play or pause."""
        if self._playing:
            self.pause()
        else:
            self.play()

    # --- internals ----------------------------------------------------------

    def _action(
        self,
        text: str,
        tip: str,
        shortcut: QKeySequence | QKeySequence.StandardKey | None,
        slot: Any,
        icon: QIcon,
    ) -> QAction:
        action = QAction(icon, text, self)
        action.setToolTip(tip)
        if shortcut is not None:
            action.setShortcut(shortcut)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _button(self, action: QAction) -> QToolButton:
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setAutoRaise(True)
        button.setAccessibleName(action.text())
        style = (
            Qt.ToolButtonStyle.ToolButtonTextOnly
            if action.icon().isNull()
            else Qt.ToolButtonStyle.ToolButtonIconOnly
        )
        button.setToolButtonStyle(style)
        return button

    def _decoded_ready(self, generation: int, decoded: DecodedImage) -> None:
        if generation != self._generation:
            return  # a stale answer: the selection moved on
        self._task = None
        self._decoded = decoded
        self._index = 0
        self.canvas.fitted = True
        self.canvas.set_image(decoded.frames[0])
        self._zoom_changed(self.canvas.zoom)
        size = decoded.frames[0].size()
        text = f"{decoded.original.width()} × {decoded.original.height()}"
        if size != decoded.original:
            text += f" (shown at {size.width()} × {size.height()})"
        if decoded.truncated:
            text += f", first {len(decoded.frames)} frames"
        self.info_label.setText(text)
        self.info_label.setToolTip(text)
        self.play_button.setVisible(len(decoded.frames) > 1)
        if len(decoded.frames) > 1:
            self.play()
        self._update_controls()
        self.image_shown.emit()

    def _decode_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._task = None
        if isinstance(exc, ImageUnreadable):
            self.failed.emit(str(exc))
            return
        log.error("the image viewer failed", exc_info=(type(exc), exc, exc.__traceback__))
        self.failed.emit("the image could not be shown")

    def _schedule(self) -> None:
        decoded = self._decoded
        if decoded is not None and self._playing:
            self._timer.start(decoded.durations[self._index])

    def _next_frame(self) -> None:
        decoded = self._decoded
        if decoded is None or not self._playing:
            return
        index = self._index + 1
        if index >= len(decoded.frames):
            self._plays += 1
            if decoded.loop and self._plays >= decoded.loop:
                self.pause()  # played as often as the file asks; stays on its last frame
                return
            index = 0
        self._index = index
        self.canvas.set_image(decoded.frames[index], keep_view=True)
        self._schedule()

    def _step_zoom(self, direction: int, anchor: QPointF | None) -> None:
        if self.canvas.image is None:
            return
        zoom = self.canvas.zoom
        if direction > 0:
            target = next((z for z in ZOOM_STEPS if z > zoom * 1.01), MAX_ZOOM)
        else:
            target = next((z for z in reversed(ZOOM_STEPS) if z < zoom / 1.01), MIN_ZOOM)
        self.canvas.set_zoom(target, anchor)

    def _zoom_changed(self, zoom: float) -> None:
        percent = zoom * 100
        self.zoom_label.setText(f"{percent:.0f} %" if percent >= 10 else f"{percent:.1f} %")
        self._update_controls()
        if self.canvas.wants_smooth_copy() is not None:
            self._scale_timer.start()

    def _request_smooth_copy(self) -> None:
        key = self.canvas.wants_smooth_copy()
        image = self.canvas.image
        if key is None or image is None:
            return
        if self._scale_task is not None:
            self._scale_task.cancel()
        ratio = self.canvas.device_ratio()
        width, height = self.canvas.content_size()
        size = QSize(max(1, round(width * ratio)), max(1, round(height * ratio)))
        generation = self._generation

        def scale() -> QImage:  # a pool thread: QImage only, no QPixmap
            return image.scaled(
                size,
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )

        self._scale_task = self.services.tasks.run(
            scale, weakly(self._smooth_copy_ready, generation, key), name="image-viewer-scale"
        )

    def _smooth_copy_ready(self, generation: int, key: tuple[int, float], scaled: QImage) -> None:
        if generation == self._generation:
            self._scale_task = None
            self.canvas.set_smooth_copy(key, scaled)

    def _update_controls(self) -> None:
        has_image = self.canvas.image is not None
        zoom = self.canvas.zoom
        self.zoom_in_action.setEnabled(has_image and zoom < MAX_ZOOM)
        self.zoom_out_action.setEnabled(has_image and zoom > MIN_ZOOM)
        self.actual_size_action.setEnabled(has_image)
        self.fit_action.setEnabled(has_image)
        self.fit_action.setChecked(self.canvas.fitted)
        self.zoom_label.setVisible(has_image)
        if not has_image:
            self.zoom_label.setText("")
        style = self.style()
        if self._playing:
            self.play_action.setText("Pause")
            self.play_action.setToolTip("Pause the animation")
            self.play_action.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPause))
        else:
            self.play_action.setText("Play")
            self.play_action.setToolTip("Play the animation")
            self.play_action.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setAccessibleName(self.play_action.text())

    # --- Qt overrides -------------------------------------------------------

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()  # no frames for nobody; playing resumes when shown
        super().hideEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._playing and not self._timer.isActive():
            self._schedule()
