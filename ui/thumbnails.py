"""Thumbnails for the window's views: asked for while painting, delivered later.

:class:`ThumbnailProvider` answers :meth:`~ThumbnailProvider.pixmap` at once
from a bounded in-memory cache, or with None after queueing the request; the
view paints the kind icon meanwhile and repaints on
:attr:`~ThumbnailProvider.ready`. Each request passes through two stages on a
thread pool, each with a few requests at a time and the newest first:

1. *load*: is the thumbnail in the cache directory? If so, read it into a
   ``QImage``. Cheap, so these never wait behind decoding.
2. *make*: decode the blob in a worker process (:class:`app.thumbnails.Thumbnailer`,
   with its time limit), write the cache file, then read it as in 1.

Only the ``QImage`` → ``QPixmap`` conversion happens on the GUI thread.
Pixmaps are ``size × devicePixelRatio`` device pixels and carry that ratio,
so they stay sharp at 200 % scaling. On disk, thumbnails come in a few fixed
sizes (:data:`DISK_SIZES`): a pixmap is scaled down, on the pool, from the
next larger one, so dragging the grid's size slider reads cached files again
but never decodes the originals again.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication, QImage, QImageReader, QPixmap

from app.thumbnails import MAX_SIZE, Thumbnailer, can_thumbnail, disk_size, is_blob_hash
from app.vault import Vault
from ui.tasks import Task, TaskManager

log = logging.getLogger(__name__)

LOAD_PARALLEL = 2
"""Cache files read at once; reading one takes milliseconds."""

MAKE_PARALLEL = 2
"""Files decoded at once, one worker process each (the machine's cores are shared)."""

MAX_QUEUED = 256
"""Requests kept waiting per stage; older ones are dropped (their items scrolled away)."""

NOT_LOCAL = "the file is not on this computer"

_Key = tuple[str, int, float]  # blob hash, pixels, device pixel ratio


@dataclass(frozen=True)
class _Request:
    blob_hash: str
    mime: str
    pixels: int
    ratio: float
    generation: int

    @property
    def key(self) -> _Key:
        return (self.blob_hash, self.pixels, self.ratio)

    @property
    def disk_size(self) -> int:
        return disk_size(self.pixels)


@dataclass(frozen=True)
class _Result:
    """What a pool thread hands back: an image, "not made yet", or why there is none."""

    request: _Request
    image: QImage | None = None
    missing: bool = False
    reason: str = ""


def _read(path: Path, pixels: int) -> QImage | None:
    """Reads a cache file into a QImage at most ``pixels`` long (any thread); None if unreadable."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(False)  # thumbnails are stored upright
    image = reader.read()
    if image.isNull():
        return None
    if max(image.width(), image.height()) > pixels:
        image = image.scaled(
            pixels,
            pixels,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    return image


def _load(thumbnailer: Thumbnailer, request: _Request) -> _Result:
    """Stage 1, on a pool thread: the cached thumbnail, if there is one. No GUI objects."""
    path = thumbnailer.cached(request.blob_hash, request.disk_size)
    if path is None:
        return _Result(request, missing=True)
    image = _read(path, request.pixels)
    if image is None:
        # Cut short by a power failure, or damaged since: make it again.
        log.warning("discarding unreadable thumbnail %s", path)
        thumbnailer.discard(request.blob_hash, request.disk_size)
        return _Result(request, missing=True)
    return _Result(request, image)


def _make(thumbnailer: Thumbnailer, source: Path, request: _Request) -> _Result:
    """Stage 2, on a pool thread: decode the blob in a worker process. No GUI objects."""
    if not source.is_file():
        return _Result(request, reason=NOT_LOCAL)  # evicted: thumbnails never download
    path = thumbnailer.make(request.blob_hash, source, request.mime, request.disk_size)
    if path is None:
        reason = thumbnailer.failure(request.blob_hash) or "no thumbnail could be made"
        return _Result(request, reason=reason)
    image = _read(path, request.pixels)
    if image is None:
        thumbnailer.discard(request.blob_hash, request.disk_size)
        return _Result(request, reason="the thumbnail could not be read back")
    return _Result(request, image)


class ThumbnailProvider(QObject):
    """Thumbnails of blobs as QPixmaps, made and loaded off the GUI thread.

    Create and use it on the GUI thread; call :meth:`shutdown` before the
    vault is closed (it is also called when the application quits).

    Attributes:
        thumbnailer: the Qt-free thumbnail maker and disk cache underneath.

    Signals:
        ready(str): a thumbnail of this blob hash (at some size) is now in the
            memory cache; :meth:`pixmap` returns it.
        unavailable(str): this blob hash gets no thumbnail this session
            (broken, encrypted, unsupported, or not on this computer);
            :meth:`failed` says why.
    """

    ready = Signal(str)
    unavailable = Signal(str)

    def __init__(
        self, vault: Vault, parent: QObject | None = None, *, max_bytes: int = 96 * 1024 * 1024
    ) -> None:
        """Prepares the provider; nothing is read and no process starts until asked.

        Args:
            vault: the vault whose blobs and cache directory are used.
            parent: the owning QObject.
            max_bytes: the memory cache's bound (see :meth:`set_cache_limit`).
        """
        super().__init__(parent)
        self._vault = vault
        self.thumbnailer = Thumbnailer(vault.paths.cache, workers=MAKE_PARALLEL)
        self._tasks = TaskManager(
            self, max_threads=LOAD_PARALLEL + MAKE_PARALLEL, name="thumbnails"
        )
        self._pixmaps: OrderedDict[_Key, QPixmap] = OrderedDict()  # least recently used first
        self._bytes = 0
        self._max_bytes = max(0, max_bytes)
        self._unavailable: dict[str, str] = {}
        # Waiting requests, oldest first; the newest is started first.
        self._loads: OrderedDict[_Key, _Request] = OrderedDict()
        self._makes: OrderedDict[_Key, _Request] = OrderedDict()
        self._loading: dict[_Key, Task[_Result]] = {}
        self._making: dict[_Key, Task[_Result]] = {}
        self._generation = 0
        self._ratio: float | None = None
        self._closed = False
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # -- the interface for views --------------------------------------------

    def pixmap(self, blob_hash: str, mime: str, size: int) -> QPixmap | None:
        """The thumbnail for a logical size, or None for now. GUI thread; never blocks.

        The pixmap's longest side is ``size × devicePixelRatio`` device pixels
        (less for smaller images) and it carries that ratio, so it paints
        ``size`` logical pixels wide, sharp on HiDPI screens. When None is
        returned for a file that can have a thumbnail, a request is queued
        (the newest first) and :attr:`ready` follows once it is there.
        Files without thumbnails (other kinds, broken files, files not on
        this computer) return None at once and are not asked for again.

        Args:
            blob_hash: the blob's SHA-256.
            mime: the file's mime type, which decides whether and how.
            size: the longest side in logical pixels.
        """
        if size <= 0:
            return None
        ratio = self.device_pixel_ratio()
        pixels = min(MAX_SIZE, max(1, round(size * ratio)))
        key = (blob_hash, pixels, ratio)
        found = self._pixmaps.get(key)
        if found is not None:
            self._pixmaps.move_to_end(key)
            return found
        if (
            self._closed
            or blob_hash in self._unavailable
            or not can_thumbnail(mime)
            or not is_blob_hash(blob_hash)
            or key in self._loading
            or key in self._making
        ):
            return None
        if key in self._makes:  # asked again: it is wanted now
            self._makes.move_to_end(key)
        else:
            self._loads[key] = _Request(blob_hash, mime, pixels, ratio, self._generation)
            self._loads.move_to_end(key)
            _trim(self._loads)
        self._dispatch()
        return None

    def forget_pending(self) -> None:
        """Drops queued requests not yet started (the view scrolled, or shows another folder).

        Requests already running finish and are cached, but a running lookup
        that finds no cached thumbnail does not go on to decode the file.
        """
        self._generation += 1
        self._loads.clear()
        self._makes.clear()

    def set_cache_limit(self, max_bytes: int) -> None:
        """Bounds the memory cache (pixel bytes); least recently used pixmaps go first.

        The newest pixmap is always kept, even if it alone is larger. The
        bound should hold at least a screenful of thumbnails, or visible items
        keep pushing each other out.
        """
        self._max_bytes = max(0, max_bytes)
        self._evict()

    def shutdown(self) -> None:
        """Stops the worker processes and the pool; results in flight are dropped. Idempotent.

        Waits for the pool's threads, which return at once because their
        worker processes are killed first.
        """
        if self._closed:
            return
        self._closed = True
        self.forget_pending()
        self.thumbnailer.close()
        self._tasks.shutdown()
        self._loading.clear()
        self._making.clear()
        self._pixmaps.clear()
        self._bytes = 0

    # -- more for views, the preview pane and tests -------------------------

    def failed(self, blob_hash: str) -> str | None:
        """Why this blob gets no thumbnail this session, or None if that is not known (yet).

        Files of a type without thumbnails are not failures: None.
        """
        return self._unavailable.get(blob_hash)

    def invalidate(self, blob_hash: str) -> None:
        """Forgets what is known about a blob, e.g. after its file came back to this computer."""
        self._unavailable.pop(blob_hash, None)
        for key in [k for k in self._pixmaps if k[0] == blob_hash]:
            self._bytes -= _cost(self._pixmaps.pop(key))

    def device_pixel_ratio(self) -> float:
        """The ratio thumbnails are made for: the override, else the highest of the screens."""
        if self._ratio is not None:
            return self._ratio
        app = QCoreApplication.instance()
        if isinstance(app, QGuiApplication):
            return float(app.devicePixelRatio())
        return 1.0

    def set_device_pixel_ratio(self, ratio: float | None) -> None:
        """Makes thumbnails for this ratio (e.g. a view's ``devicePixelRatioF()``); None: automatic."""
        self._ratio = None if ratio is None or ratio <= 0 else float(ratio)

    @property
    def cache_bytes(self) -> int:
        """Pixel bytes held by the memory cache."""
        return self._bytes

    @property
    def pending(self) -> int:
        """Requests queued or running."""
        return len(self._loads) + len(self._makes) + len(self._loading) + len(self._making)

    # -- internals -------------------------------------------------------------

    def _dispatch(self) -> None:
        if self._closed:
            return
        while self._loads and len(self._loading) < LOAD_PARALLEL:
            key, request = self._loads.popitem(last=True)
            self._loading[key] = self._tasks.run(
                partial(_load, self.thumbnailer, request),
                self._loaded,
                partial(self._crashed, request),
                name="thumbnail-load",
            )
        while self._makes and len(self._making) < MAKE_PARALLEL:
            key, request = self._makes.popitem(last=True)
            source = self._vault.blobs.path(request.blob_hash)
            self._making[key] = self._tasks.run(
                partial(_make, self.thumbnailer, source, request),
                self._made,
                partial(self._crashed, request),
                name="thumbnail-make",
            )

    @Slot(object)
    def _loaded(self, result: _Result) -> None:
        request = result.request
        self._loading.pop(request.key, None)
        if result.missing:
            # Not made yet. A request from before forget_pending() is not worth
            # decoding: the view asks again if the item is still on screen.
            if request.generation == self._generation and request.key not in self._making:
                self._makes[request.key] = request
                self._makes.move_to_end(request.key)
                _trim(self._makes)
        else:
            self._deliver(result)
        self._dispatch()

    @Slot(object)
    def _made(self, result: _Result) -> None:
        self._making.pop(result.request.key, None)
        self._deliver(result)
        self._dispatch()

    def _crashed(self, request: _Request, exc: BaseException) -> None:
        # A bug, not a bad file (those are reasons): log it, and do not ask again.
        log.error(
            "thumbnail of %s failed",
            request.blob_hash,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
        self._loading.pop(request.key, None)
        self._making.pop(request.key, None)
        self._unavailable[request.blob_hash] = "no thumbnail could be made"
        self.unavailable.emit(request.blob_hash)
        self._dispatch()

    def _deliver(self, result: _Result) -> None:
        request = result.request
        if result.image is None:
            self._unavailable[request.blob_hash] = result.reason or "no thumbnail could be made"
            self.unavailable.emit(request.blob_hash)
            return
        pixmap = QPixmap.fromImage(result.image)
        pixmap.setDevicePixelRatio(request.ratio)
        old = self._pixmaps.pop(request.key, None)
        if old is not None:
            self._bytes -= _cost(old)
        self._pixmaps[request.key] = pixmap
        self._bytes += _cost(pixmap)
        self._evict()
        self.ready.emit(request.blob_hash)

    def _evict(self) -> None:
        while self._bytes > self._max_bytes and len(self._pixmaps) > 1:
            _, pixmap = self._pixmaps.popitem(last=False)
            self._bytes -= _cost(pixmap)


def _cost(pixmap: QPixmap) -> int:
    return pixmap.width() * pixmap.height() * max(1, pixmap.depth() // 8)


def _trim(waiting: OrderedDict[_Key, _Request]) -> None:
    while len(waiting) > MAX_QUEUED:
        waiting.popitem(last=False)
