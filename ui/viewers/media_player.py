"""The preview pane's audio and video player, on Qt Multimedia.

Qt Multimedia's FFmpeg backend decodes inside this process, so a file is
first probed in a viewer worker (``"media.probe"``, :mod:`app.media_probe`):
PyAV opens it and decodes the first frames of its streams there, where a
hostile file can only cost a worker. Only a file with a stream that decodes
is then handed to :class:`QMediaPlayer`, which loads it asynchronously; the
GUI thread never waits for either.

Nothing plays by itself: the user presses play (the button or Space). A
video shows its first frame once loaded (decoded by the probe: putting the
player in the paused state to make it draw one can hang a later stop()); an
audio file shows
its cover art when the player reports one, else the audio icon, with its
title, artist and album.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Q_ARG, QMetaObject, QRectF, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QFont,
    QIcon,
    QImage,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QShortcut,
)
from PySide6.QtMultimedia import QAudioOutput, QMediaMetaData, QMediaPlayer, QtAudio
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStackedWidget,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.media_probe import MAX_COVER_SIDE
from app.workers import WorkerFailed
from ui.resources import kind_icon
from ui.tasks import Task
from ui.viewers.base import Viewer, ViewerServices, ViewerSource, worker_answer

log = logging.getLogger(__name__)

SEEK_STEP_MS = 5_000
"""How far Left/Right move the playback position."""

_MIN_COVER_SIDE = 16  # smaller "covers" (the corpus has 1×1 pixels) say nothing: show the icon


def clock(ms: int) -> str:
    """``72_000`` → ``"1:12"``; hours when needed (``"1:02:03"``)."""
    seconds = max(0, ms) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"


def cover_image(geometry: Any, payload: bytes) -> QImage | None:
    """The probe's cover art (raw RGB888 rows) as a QImage, or None if absent or malformed.

    The worker's answer is data from a process that parsed a hostile file:
    its sizes are checked before a QImage is built over the bytes.
    """
    if not isinstance(geometry, dict):
        return None
    try:
        width, height, stride = (int(geometry[k]) for k in ("width", "height", "stride"))
    except (KeyError, TypeError, ValueError):
        return None
    if not (0 < width <= MAX_COVER_SIDE and 0 < height <= MAX_COVER_SIDE):
        return None
    if stride < width * 3 or len(payload) < stride * height:
        return None
    return QImage(payload, width, height, stride, QImage.Format.Format_RGB888).copy()


def _theme_icon(theme: QIcon.ThemeIcon, fallback: QStyle.StandardPixmap, widget: QWidget) -> QIcon:
    """The desktop theme's icon, else the style's own (always present)."""
    found = QIcon.fromTheme(theme)
    return found if not found.isNull() else widget.style().standardIcon(fallback)


def _text(value: Any) -> str:
    """A metadata value as one line: lists ("ContributingArtist") are joined."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value if v)
    return str(value)


class _SeekSlider(QSlider):
    """A position slider that jumps to where it is clicked (players do; QSlider pages)."""

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.maximum() > self.minimum():
            option = QStyleOptionSlider()
            self.initStyleOption(option)
            style = self.style()
            handle = style.subControlRect(
                QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self
            )
            point = event.position().toPoint()
            if not handle.contains(point):
                groove = style.subControlRect(
                    QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderGroove, self
                )
                span = max(1, groove.width() - handle.width())
                offset = point.x() - groove.x() - handle.width() // 2
                self.setValue(
                    QStyle.sliderValueFromPosition(
                        self.minimum(), self.maximum(), offset, span, option.upsideDown
                    )
                )
                self.sliderReleased.emit()  # a click is a finished seek
                event.accept()
                return
        super().mousePressEvent(event)


class _VideoView(QVideoWidget):
    """The video surface; a double-click asks for full screen.

    Signals:
        double_clicked(): the user double-clicked the picture.
    """

    double_clicked = Signal()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.double_clicked.emit()
            event.accept()
            return
        super().mouseDoubleClickEvent(event)


class _Poster(QWidget):
    """An audio file's picture: its cover art, else the audio icon, scaled to fit."""

    def __init__(self, parent: QWidget | None = None, icon: str = "audio") -> None:
        super().__init__(parent)
        self._cover = QImage()
        self._icon = kind_icon(icon)
        self.setMinimumSize(64, 64)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    @property
    def has_cover(self) -> bool:
        """True when a cover image is shown rather than the icon."""
        return not self._cover.isNull()

    def set_cover(self, image: QImage | None) -> None:
        """Shows ``image`` (a null or tiny one shows the icon)."""
        usable = (
            image is not None
            and not image.isNull()
            and min(image.width(), image.height()) >= _MIN_COVER_SIDE
        )
        self._cover = QImage(image) if usable and image is not None else QImage()
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        area = self.rect().adjusted(8, 8, -8, -8)
        if self.has_cover:
            size = self._cover.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
            x = area.x() + (area.width() - size.width()) / 2
            y = area.y() + (area.height() - size.height()) / 2
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(QRectF(x, y, size.width(), size.height()), self._cover)
        else:
            side = max(16, min(area.width(), area.height(), 128))
            pixmap = self._icon.pixmap(QSize(side, side), self.devicePixelRatioF())
            x = area.x() + (area.width() - side) // 2
            y = area.y() + (area.height() - side) // 2
            painter.drawPixmap(x, y, side, side, pixmap)
        painter.end()


class _FullscreenWindow(QWidget):
    """The top-level window the player's stage moves into for full screen.

    Signals:
        closing(): the window is being closed (by the user or the window manager).
    """

    closing = Signal()

    def __init__(self, parent: QWidget) -> None:
        # A child of the viewer (as a separate window), so it dies with it.
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(parent.window().windowTitle() or "Media Vault")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closing.emit()
        super().closeEvent(event)


class MediaPlayer(Viewer):
    """Plays an audio or video file of the vault, after a worker probed it.

    Attributes:
        has_video: True when the loaded file shows pictures.

    Signals:
        ready(): the file is loaded and can be played.
        position_changed(int): the playback position, in milliseconds.
        failed(str): (from :class:`Viewer`) the file cannot be played; the reason.
    """

    ready = Signal()
    position_changed = Signal(int)

    def __init__(self, services: ViewerServices, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self.has_video = False
        self._source: ViewerSource | None = None
        self._probe: dict[str, Any] = {}
        self._cover: QImage | None = None
        self._task: Task[Any] | None = None
        self._generation = 0
        self._loaded = False
        self._syncing = False  # the slider follows the player: not a user seek
        self._volume = 100
        self._fullscreen: _FullscreenWindow | None = None

        self._player = QMediaPlayer(self)
        self._audio = QAudioOutput(self)
        self._player.setAudioOutput(self._audio)

        # The stage (picture and controls) is what moves into the full-screen window.
        self._stage = QWidget(self)
        self._stage.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFocusProxy(self._stage)

        self._video = _VideoView(self._stage)
        self._video.setAccessibleName("Video")
        self._video.setAccessibleDescription("Double-click or F for full screen")
        self._player.setVideoOutput(self._video)

        self._poster = _Poster()
        self._title = QLabel()
        self._title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._title.setWordWrap(True)
        font = QFont(self._title.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self._title.setFont(font)
        self._details = QLabel()
        self._details.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._details.setWordWrap(True)
        self._details.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        audio_page = QWidget()
        audio_layout = QVBoxLayout(audio_page)
        audio_layout.addWidget(self._poster, 1)
        audio_layout.addWidget(self._title)
        audio_layout.addWidget(self._details)

        self._status = QLabel()
        self._status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._status.setWordWrap(True)
        self._status.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        # A video's first frame until it plays: the FFmpeg backend draws nothing
        # while stopped, and pausing to make it draw can hang a later stop().
        self._frame = _Poster(icon="video")
        self._frame.setAccessibleName("First frame")

        self._screen = QStackedWidget()
        self._screen.addWidget(self._status)
        self._screen.addWidget(self._video)
        self._screen.addWidget(audio_page)
        self._screen.addWidget(self._frame)

        self._play_icon = _theme_icon(
            QIcon.ThemeIcon.MediaPlaybackStart, QStyle.StandardPixmap.SP_MediaPlay, self
        )
        self._pause_icon = _theme_icon(
            QIcon.ThemeIcon.MediaPlaybackPause, QStyle.StandardPixmap.SP_MediaPause, self
        )
        self._volume_icon = _theme_icon(
            QIcon.ThemeIcon.AudioVolumeHigh, QStyle.StandardPixmap.SP_MediaVolume, self
        )
        self._muted_icon = _theme_icon(
            QIcon.ThemeIcon.AudioVolumeMuted, QStyle.StandardPixmap.SP_MediaVolumeMuted, self
        )
        self._enter_icon = _theme_icon(
            QIcon.ThemeIcon.ViewFullscreen, QStyle.StandardPixmap.SP_TitleBarMaxButton, self
        )
        self._leave_icon = _theme_icon(
            QIcon.ThemeIcon.ViewRestore, QStyle.StandardPixmap.SP_TitleBarNormalButton, self
        )

        self._play_button = self._tool_button(self._play_icon, "Play", "Play (Space)")
        self._play_button.clicked.connect(self.toggle)
        self._slider = _SeekSlider(Qt.Orientation.Horizontal)
        self._slider.setAccessibleName("Position")
        self._slider.setToolTip("Position (Left/Right: 5 s)")
        self._slider.setSingleStep(SEEK_STEP_MS)
        self._slider.setPageStep(6 * SEEK_STEP_MS)
        self._slider.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._slider.valueChanged.connect(self._on_slider_value)
        self._slider.sliderReleased.connect(self._on_slider_released)
        self._time = QLabel(self._time_text(0, 0))
        self._time.setAccessibleName("Elapsed and total time")
        self._time.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self._mute_button = self._tool_button(self._volume_icon, "Mute", "Mute (M)")
        self._mute_button.setCheckable(True)
        self._mute_button.toggled.connect(self._set_muted)
        self._volume_slider = QSlider(Qt.Orientation.Horizontal)
        self._volume_slider.setRange(0, 100)
        self._volume_slider.setValue(self._volume)
        self._volume_slider.setMaximumWidth(96)
        self._volume_slider.setAccessibleName("Volume")
        self._volume_slider.setToolTip("Volume (Up/Down)")
        self._volume_slider.valueChanged.connect(self.set_volume)
        self._fullscreen_button = self._tool_button(
            self._enter_icon, "Full screen", "Full screen (F, double-click the video)"
        )
        self._fullscreen_button.clicked.connect(self.toggle_fullscreen)

        controls = QHBoxLayout()
        controls.setContentsMargins(4, 2, 4, 2)
        controls.setSpacing(4)
        controls.addWidget(self._play_button)
        controls.addWidget(self._slider, 1)
        controls.addWidget(self._time)
        controls.addWidget(self._mute_button)
        controls.addWidget(self._volume_slider)
        controls.addWidget(self._fullscreen_button)
        stage_layout = QVBoxLayout(self._stage)
        stage_layout.setContentsMargins(0, 0, 0, 0)
        stage_layout.setSpacing(0)
        stage_layout.addWidget(self._screen, 1)
        stage_layout.addLayout(controls)

        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self._stage)

        # On the stage, so they follow it into the full-screen window.
        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        self._shortcuts: list[QShortcut] = []
        for key, slot in (
            (Qt.Key.Key_Space, self.toggle),
            (Qt.Key.Key_M, self.toggle_mute),
            (Qt.Key.Key_F, self.toggle_fullscreen),
            (Qt.Key.Key_Left, lambda: self._step(-SEEK_STEP_MS)),
            (Qt.Key.Key_Right, lambda: self._step(SEEK_STEP_MS)),
        ):
            shortcut = QShortcut(QKeySequence(key), self._stage, context=context)
            shortcut.activated.connect(slot)
            self._shortcuts.append(shortcut)
        self._escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self._stage, context=context)
        self._escape.activated.connect(self._leave_fullscreen)
        self._escape.setEnabled(False)  # Esc belongs to the window unless in full screen

        self._video.double_clicked.connect(self.toggle_fullscreen)
        self._player.mediaStatusChanged.connect(self._on_status)
        self._player.errorOccurred.connect(self._on_error)
        self._player.positionChanged.connect(self._on_position)
        self._player.durationChanged.connect(self._on_duration)
        self._player.playbackStateChanged.connect(self._on_state)
        self._player.metaDataChanged.connect(self._show_tags)
        self._reset()

    # --- public API ---------------------------------------------------------

    @property
    def playing(self) -> bool:
        """True while the file plays (not paused, stopped or loading)."""
        return self._player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    @property
    def position_ms(self) -> int:
        """The playback position in milliseconds (0 with nothing loaded)."""
        return int(self._player.position()) if self._loaded else 0

    @property
    def duration_ms(self) -> int:
        """The file's length in milliseconds: the player's, else the probe's; 0 if unknown."""
        if not self._loaded:
            return 0
        return int(self._player.duration()) or int(self._probe.get("duration_ms") or 0)

    @property
    def muted(self) -> bool:
        """True while the sound is off."""
        return bool(self._audio.isMuted())

    @property
    def volume(self) -> int:
        """The volume as the slider shows it, 0..100."""
        return self._volume

    @property
    def fullscreen(self) -> bool:
        """True while the video fills the screen."""
        return self._fullscreen is not None

    @property
    def loaded(self) -> bool:
        """True once :attr:`ready` was emitted for the current file."""
        return self._loaded

    def show_source(self, source: ViewerSource) -> None:
        """Probes ``source`` in a worker, then loads it; returns at once.

        ``ready`` follows when it can be played, ``failed`` when not.
        """
        self.stop()
        self._source = source
        generation = self._generation
        self._status.setText(f"Opening {source.name}…")
        workers = self.services.workers
        request = {"job": "media.probe", "path": str(source.path)}

        def probe() -> tuple[dict[str, Any], bytes]:
            """Runs on a pool thread; touches no widget."""
            return workers.run(request, reader="media reader")

        self._task = self.services.tasks.run(
            probe,
            lambda answer: self._on_probed(generation, *answer),
            lambda exc: self._on_probe_error(generation, exc),
            name="media probe",
        )

    def stop(self) -> None:
        """Stops playback at once and releases the file; pending work is dropped."""
        self._generation += 1
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._leave_fullscreen()
        self._source = None
        if self._player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self._player.pause()  # silent at once; pausing tears nothing down
        if self._player.playbackState() != QMediaPlayer.PlaybackState.StoppedState:
            self._queue("stop")
        self._queue("setSource", Q_ARG(QUrl, QUrl()))
        self._reset()

    def _queue(self, slot: str, *args: Any) -> None:
        """Call one of the player's slots from the event loop instead of from Python.

        Stopping and changing the source tear down the FFmpeg backend, whose
        threads may meanwhile destroy objects connected to our (Python-made)
        audio output; each such destruction asks PySide for the GIL while holding
        Qt's connection lock. Called from Python, the slot would wait for that
        lock holding the GIL: a deadlock. From the event loop, no GIL is held.
        Calls run in the order they were queued.
        """
        QMetaObject.invokeMethod(self._player, slot, Qt.ConnectionType.QueuedConnection, *args)

    def play(self) -> None:
        """Starts or resumes playback (from the start after the end); no-op until ready."""
        if self._loaded:
            self._player.play()

    def pause(self) -> None:
        """Pauses playback; no-op unless playing."""
        if self.playing:
            self._player.pause()

    def toggle(self) -> None:
        """Play when paused, pause when playing."""
        if self.playing:
            self.pause()
        else:
            self.play()

    def seek(self, ms: int) -> None:
        """Moves the playback position to ``ms`` (clamped to the file); no-op until ready."""
        if not self._loaded:
            return
        duration = self.duration_ms
        ms = max(0, min(int(ms), duration)) if duration else max(0, int(ms))
        self._player.setPosition(ms)
        self._sync_slider(ms)

    def set_volume(self, volume: int) -> None:
        """Sets the volume, 0..100 (a perceptual scale, like desktop volume sliders)."""
        self._volume = max(0, min(100, int(volume)))
        linear = QtAudio.convertVolume(
            self._volume / 100,
            QtAudio.VolumeScale.LogarithmicVolumeScale,
            QtAudio.VolumeScale.LinearVolumeScale,
        )
        self._audio.setVolume(linear)
        if self._volume_slider.value() != self._volume:
            self._volume_slider.setValue(self._volume)

    def set_muted(self, muted: bool) -> None:
        """Turns the sound off or back on."""
        self._mute_button.setChecked(muted)  # its toggled signal does the rest

    def toggle_mute(self) -> None:
        """Mutes or unmutes."""
        self.set_muted(not self.muted)

    def toggle_fullscreen(self) -> None:
        """Enters or leaves full screen; only a loaded video goes full screen."""
        if self._fullscreen is not None:
            self._leave_fullscreen()
            return
        if not (self._loaded and self.has_video):
            return
        window = _FullscreenWindow(self)
        window.closing.connect(self._leave_fullscreen)
        layout = window.layout()
        assert layout is not None
        layout.addWidget(self._stage)  # reparents: the same video and controls
        self._fullscreen = window
        self._escape.setEnabled(True)
        self._fullscreen_button.setIcon(self._leave_icon)
        self._fullscreen_button.setText("Leave full screen")
        self._fullscreen_button.setToolTip("Leave full screen (Esc, F)")
        # On the pane's screen; the geometry also serves window managers that ignore the state.
        window.setGeometry(self.screen().geometry())
        window.showFullScreen()
        self._stage.setFocus()

    # --- internals ----------------------------------------------------------

    def _tool_button(self, icon: QIcon, text: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setAutoRaise(True)
        button.setIcon(icon)
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(text)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        return button

    def _reset(self) -> None:
        """No file: controls off, nothing shown."""
        self.has_video = False
        self._probe = {}
        self._cover = None
        self._loaded = False
        self._status.setText("")
        self._screen.setCurrentWidget(self._status)
        self._poster.set_cover(None)
        self._frame.set_cover(None)
        self._title.setText("")
        self._details.setText("")
        self._sync_slider(0, 0)
        self._set_controls(False)
        self._show_state()

    def _set_controls(self, enabled: bool) -> None:
        for widget in (self._play_button, self._slider, self._fullscreen_button):
            widget.setEnabled(enabled)
        self._fullscreen_button.setVisible(not enabled or self.has_video)

    def _on_probed(self, generation: int, header: dict[str, Any], payload: bytes) -> None:
        if generation != self._generation or self._source is None:
            return  # the selection moved on
        self._task = None
        reason = worker_answer(header)
        if reason is not None:
            self._fail(f"{self._what(self._source)} cannot be played: {reason}.")
            return
        if not self._player.isAvailable():
            # No backend plugin loaded (a broken install): say so instead of waiting.
            self._fail(
                f"{self._what(self._source)} cannot be played: Qt Multimedia found no "
                "playback backend in this installation."
            )
            return
        self._probe = header
        self._cover = cover_image(header.get("cover"), payload)
        # Asynchronous: the FFmpeg backend opens the file on its own thread.
        self._queue("setSource", Q_ARG(QUrl, QUrl.fromLocalFile(str(self._source.path))))

    def _on_probe_error(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation or self._source is None:
            return
        self._task = None
        if isinstance(exc, WorkerFailed):
            self._fail(f"{self._what(self._source)} cannot be played: {exc}.")
            return
        log.error("media probe failed", exc_info=(type(exc), exc, exc.__traceback__))
        self._fail(f"{self._what(self._source)} cannot be played (an internal error).")

    def _on_status(self, status: QMediaPlayer.MediaStatus) -> None:
        if self._source is None:
            return  # a release's own NoMedia, or an old file's late news
        Status = QMediaPlayer.MediaStatus
        if status == Status.InvalidMedia:
            error = self._player.errorString() or "the file is not a playable format"
            self._fail(f"{self._what(self._source)}'s format cannot be played here ({error}).")
        elif not self._loaded and status in (
            Status.LoadedMedia,
            Status.BufferingMedia,
            Status.BufferedMedia,
        ):
            self._on_loaded()
        elif status == Status.EndOfMedia:
            self._sync_slider(self.duration_ms)

    def _on_loaded(self) -> None:
        assert self._source is not None
        player = self._player
        if not (player.hasVideo() or player.hasAudio()):
            self._fail(f"{self._what(self._source)}'s format cannot be played here.")
            return
        self._loaded = True
        # The probe tells a cover picture (shown on the audio page) from a video.
        self.has_video = bool(player.hasVideo()) and bool(self._probe.get("has_video", True))
        self._sync_slider(0, self.duration_ms)
        self._set_controls(True)
        if self.has_video:
            self._frame.set_cover(self._cover)
            self._screen.setCurrentWidget(self._frame)
        else:
            self._screen.setCurrentIndex(2)
            self._show_tags()
        self.ready.emit()

    def _show_tags(self) -> None:
        """Title, artist, album and cover of an audio file, from the player's metadata."""
        if self._source is None or not self._loaded or self.has_video:
            return
        data = self._player.metaData()

        def value(key: QMediaMetaData.Key) -> Any:
            try:
                return data.value(key)
            except RuntimeError:  # a type PySide cannot convert: not one we show
                return None

        Key = QMediaMetaData.Key
        title = _text(value(Key.Title)) or self._source.name
        artist = _text(value(Key.ContributingArtist)) or _text(value(Key.AlbumArtist))
        album = _text(value(Key.AlbumTitle))
        lines = [" — ".join(p for p in (artist, album) if p)]
        if title != self._source.name:
            lines.append(self._source.name)
        self._title.setText(title)
        self._details.setText("\n".join(line for line in lines if line))
        # The worker's decode first; the player's own is the fallback.
        cover: Any = self._cover
        if cover is None:
            cover = value(Key.CoverArtImage)
        if not isinstance(cover, QImage) or cover.isNull():
            cover = value(Key.ThumbnailImage)
        self._poster.set_cover(cover if isinstance(cover, QImage) else None)

    def _on_error(self, error: QMediaPlayer.Error, message: str) -> None:
        if self._source is None or error == QMediaPlayer.Error.NoError:
            return
        what = self._what(self._source)
        detail = message or error.name
        if error == QMediaPlayer.Error.FormatError:
            self._fail(f"{what}'s format cannot be played here ({detail}).")
        else:
            self._fail(f"{what} could not be played ({detail}).")

    def _fail(self, reason: str) -> None:
        self.stop()
        self.failed.emit(reason)

    def _on_position(self, position: int) -> None:
        if self._source is None or not self._loaded:
            return
        if not self._slider.isSliderDown():
            self._sync_slider(position)
        self.position_changed.emit(int(position))

    def _on_duration(self, duration: int) -> None:
        if self._loaded and duration > 0:
            self._sync_slider(self._player.position(), duration)

    def _on_state(self, state: QMediaPlayer.PlaybackState) -> None:
        if state == QMediaPlayer.PlaybackState.PlayingState and self.has_video:
            self._screen.setCurrentWidget(self._video)  # from now on, the video's own frames
        self._show_state()

    def _show_state(self) -> None:
        playing = self.playing
        self._play_button.setIcon(self._pause_icon if playing else self._play_icon)
        text = "Pause" if playing else "Play"
        self._play_button.setText(text)
        self._play_button.setAccessibleName(text)
        self._play_button.setToolTip(f"{text} (Space)")

    def _sync_slider(self, position: int, duration: int | None = None) -> None:
        """Moves the slider and the time label without seeking."""
        self._syncing = True
        try:
            if duration is not None:
                self._slider.setRange(0, max(0, int(duration)))
                # As wide as the longest text it will show, so the slider never jumps.
                longest = self._time_text(int(duration), int(duration)).replace("1", "0")
                self._time.setMinimumWidth(self._time.fontMetrics().horizontalAdvance(longest))
            self._slider.setValue(int(position))
        finally:
            self._syncing = False
        self._time.setText(self._time_text(position, self._slider.maximum()))

    def _on_slider_value(self, value: int) -> None:
        if self._syncing:
            return
        self._time.setText(self._time_text(value, self._slider.maximum()))
        if not self._slider.isSliderDown():  # keyboard and wheel: seek now; drags on release
            self.seek(value)

    def _on_slider_released(self) -> None:
        self.seek(self._slider.value())

    def _step(self, delta: int) -> None:
        if self._loaded:
            self.seek(self.position_ms + delta)

    def _set_muted(self, muted: bool) -> None:
        self._audio.setMuted(muted)
        self._mute_button.setIcon(self._muted_icon if muted else self._volume_icon)
        text = "Unmute" if muted else "Mute"
        self._mute_button.setText(text)
        self._mute_button.setAccessibleName(text)
        self._mute_button.setToolTip(f"{text} (M)")

    def _leave_fullscreen(self) -> None:
        window = self._fullscreen
        if window is None:
            return
        self._fullscreen = None
        self._escape.setEnabled(False)
        self._layout.addWidget(self._stage)  # back into the pane before the window goes
        self._stage.show()
        self._fullscreen_button.setIcon(self._enter_icon)
        self._fullscreen_button.setText("Full screen")
        self._fullscreen_button.setToolTip("Full screen (F, double-click the video)")
        window.closing.disconnect(self._leave_fullscreen)
        window.close()
        window.deleteLater()
        self._stage.setFocus()

    @staticmethod
    def _time_text(position: int, duration: int) -> str:
        return f"{clock(position)} / {clock(duration)}"

    @staticmethod
    def _what(source: ViewerSource) -> str:
        return "This video" if source.kind == "video" else "This audio file"
