"""Thumbnails of blobs, decoded in worker processes and kept in the cache directory.

A thumbnail is addressed by what it shows and how big it is: the blob's hash
and its longest side in pixels. It lives at
``<cache>/thumbnails/<size>/<ab>/<hash>.jpg`` (``.png`` when it has
transparency), is written atomically and is never regenerated while it is
there. Blobs are immutable, so a thumbnail can never go stale.

Imported files are untrusted, and image and PDF decoders are where hostile
files do their work. So decoding happens in worker processes, as for
:mod:`app.extract`, with the same limits (address space, CPU, no file writes;
see :mod:`app.extract_worker`) and a wall-clock time limit per file. A worker
that hangs or crashes is killed and replaced; the file's failure is remembered
for the session with a short reason, so a broken file is not retried on every
repaint. Workers send back raw pixels, never encoded images or pickles: this
process checks their size and encodes the cache file itself, so even a
compromised worker can only ever produce a wrong-looking picture.

Workers are started with multiprocessing's "spawn" method, like the import's
staging processes, so the frozen build needs no extra entry point; they end
with this process even when it is killed (:func:`app.processes.die_with_parent`).

No Qt here: :mod:`ui.thumbnails` wraps this for the window.
"""

from __future__ import annotations

import logging
import math
import os
import re
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from app.extract_worker import load_pymupdf
from app.image_formats import open_image, prepare_mode, to_srgb, transpose
from app.processes import brief
from app.workers import NoWorker, WorkerFailed, WorkerPool, damaged

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from app.core import VaultBase

log = logging.getLogger(__name__)

MAX_SIZE = 2048
"""The largest thumbnail edge in pixels a caller may ask for."""

PDF_MIME = "application/pdf"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Plain-text types outside text/* whose first lines make a useful picture.
_TEXT_MIMES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/toml",
        "application/yaml",
        "application/sql",
    }
)
_TEXT_READ = 16 * 1024  # bytes of a text file looked at for its first lines
_PAGE_LINES = 36  # lines on a text thumbnail's page

# Image types Pillow cannot read without extra plugins or external programs
# (Ghostscript for EPS!), or that are vector formats for a later renderer.
# They get the kind icon without a round trip to a worker.
_NOT_THUMBNAILED = frozenset(
    {
        "image/svg+xml",
        "image/x-eps",
        "image/wmf",
        "image/emf",
        "image/jxl",
        "image/x-xcf",
    }
)

_HASH_RE = re.compile(r"[0-9a-f]{64}")
_ORIENTATION = 0x0112
_MAX_REPLY = MAX_SIZE * MAX_SIZE * 4 + 64 * 1024


def can_thumbnail(mime: str) -> bool:
    """Whether files of this type get a generated thumbnail (else the kind icon).

    Cheap and pure: safe on the GUI thread.

    Args:
        mime: the file's mime type from :func:`app.kinds.detect`.

    Returns:
        True for images Pillow may read, PDFs, .docx documents, plain text,
        video (a frame) and audio (its cover art, when it has one).
    """
    if mime in (PDF_MIME, DOCX_MIME) or _is_text(mime):
        return True
    if mime.startswith(("video/", "audio/")):
        return True
    return mime.startswith("image/") and mime not in _NOT_THUMBNAILED


def _is_text(mime: str) -> bool:
    return (mime.startswith("text/") and mime != "text/rtf") or mime in _TEXT_MIMES


def is_blob_hash(value: object) -> bool:
    """Whether ``value`` is a blob address: 64 lower-case hex digits. Cheap; any thread."""
    return isinstance(value, str) and _HASH_RE.fullmatch(value) is not None


def thumbnail_dir(cache_dir: Path, size: int) -> Path:
    """The directory holding the thumbnails of one size (``<cache>/thumbnails/<size>``)."""
    return cache_dir / "thumbnails" / str(size)


# --- the worker process -----------------------------------------------------


def handle(request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """A worker's job (:data:`app.workers.Handler`): one thumbnail's raw pixels."""
    try:
        path, mime, size = Path(request["path"]), str(request["mime"]), int(request["size"])
    except (KeyError, TypeError, ValueError) as exc:
        return {"ok": False, "reason": "the request was malformed", "error": repr(exc)}, b""
    what = _what(mime)
    try:
        mode, width, height, pixels = render(path, mime, size, pages=bool(request.get("pages")))
    except _NeedsPages:
        return {"ok": False, "reason": "", "needs_pages": True}, b""
    except NoPicture as exc:
        return {"ok": False, "reason": str(exc), "pictureless": True}, b""
    except Unreadable as exc:
        return {"ok": False, "reason": str(exc)}, b""
    except MemoryError:
        reason = f"the {what} needs more memory than a thumbnail may use"
        return {"ok": False, "reason": reason, "restart": True}, b""
    except ImportError:
        raise  # the pool's answer: restart a worker whose decoder did not load
    except Exception as exc:  # any other decoder error means a damaged file
        return damaged(what, exc), b""
    header = {"ok": True, "mode": mode, "width": width, "height": height}
    return header, pixels


def _what(mime: str) -> str:
    """The file as a reason names it: "the document is damaged"."""
    if mime in (PDF_MIME, DOCX_MIME) or _is_text(mime):
        return "document"
    if mime.startswith(("video/", "audio/")):
        return "file"
    return "image"


class Unreadable(Exception):
    """A file that gets no thumbnail, with the reason for the user as its message."""


class NoPicture(Unreadable):
    """A file that is fine but has nothing to show (audio without cover art)."""


def render(path: Path, mime: str, size: int, pages: bool = False) -> tuple[str, int, int, bytes]:
    """Decodes a file into thumbnail pixels, in this process. Meant for worker processes.

    Args:
        path: the file; it is only read.
        mime: its mime type; ``application/pdf`` renders the first page.
        size: the longest side in pixels. Images smaller than this are not
            enlarged; PDF pages are scaled to fit exactly.
        pages: a .docx without a thumbnail of its own raises
            :class:`_NeedsPages` (its caller has LibreOffice to draw its
            first page) instead of getting a page of its first lines.

    Returns:
        ``(mode, width, height, pixels)``: mode ``RGB`` or ``RGBA`` and the
        raw, row-major pixels.

    Raises:
        Unreadable: encrypted, unsupported, a decompression bomb, no pages.
        Exception: whatever the decoder raises on a damaged file.
    """
    if mime == PDF_MIME:
        return _render_pdf(path, size)
    if mime == DOCX_MIME:
        return _render_docx(path, size, pages)
    if _is_text(mime):
        return _render_page(_text_lines(path), size)
    if mime.startswith(("video/", "audio/")):
        return _render_media(path, size)
    return render_image(path, size)


_FRAME_AT = (0.1, 0.3, 0.5)  # where in a video to look for a frame worth showing
_DARK = 24  # mean brightness (0–255) under which a frame is taken for black


def _render_media(path: Path, size: int) -> tuple[str, int, int, bytes]:
    """Audio: its embedded cover art. Video: a frame from a tenth of the way in, or
    later if that one is (nearly) black, as a fade-in often is."""
    import io

    from PIL import ImageStat

    from app.extract_worker import Refused, open_media

    try:
        av, container = open_media(path)
    except Refused as exc:
        raise Unreadable(str(exc)) from exc
    with container:
        for stream in container.streams:
            if stream.disposition & av.stream.Disposition.attached_pic:
                for packet in container.demux(stream):
                    if packet.size:
                        return render_image(io.BytesIO(bytes(packet)), size)
        video = next(iter(container.streams.video), None)
        if video is None:
            raise NoPicture("it has no cover art")
        video.thread_type = "NONE"  # one thread: stays inside the worker's memory limit
        duration = container.duration or 0  # microseconds
        best = None
        for share in _FRAME_AT if duration > 0 else (0.0,):
            if duration > 0:
                container.seek(int(duration * share), any_frame=False, backward=True)
            frame = next(container.decode(video), None)
            if frame is None:
                continue
            picture = frame.to_image()
            picture.thumbnail((size, size))
            brightness = ImageStat.Stat(picture.convert("L")).mean[0]
            if best is None or brightness > best[0]:
                best = (brightness, picture)
            if brightness >= _DARK:
                break
        if best is None:
            raise Unreadable("no frame of the video could be decoded")
    return _final_pixels(prepare_mode(best[1]))


def _text_lines(path: Path) -> list[tuple[str, bool]]:
    """The first lines of a text file (none of them headings)."""
    with path.open("rb") as stream:
        head = stream.read(_TEXT_READ)
    text = head.decode("utf-8", "replace") if _utf8ish(head) else head.decode("latin-1")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")[:_PAGE_LINES]
    return [(line.expandtabs(4), False) for line in lines]


def _utf8ish(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(data) - 3  # only a character cut at the end
    return True


class _NeedsPages(Exception):
    """A document the worker can only show as lines, where LibreOffice could draw its page."""


def _render_docx(path: Path, size: int, pages: bool = False) -> tuple[str, int, int, bytes]:
    """A .docx's own thumbnail (docProps/thumbnail.jpeg or .png) when Word saved one,
    else (``pages`` False) a page of its first paragraphs, headings larger."""
    import io

    from app.extract_worker import Refused, open_package, word_paragraphs

    try:
        package = open_package(path)
    except Refused as exc:
        raise Unreadable(str(exc)) from exc
    with package:
        names = set(package.namelist())
        for name in ("docProps/thumbnail.jpeg", "docProps/thumbnail.jpg", "docProps/thumbnail.png"):
            if name in names and package.getinfo(name).file_size <= 8 << 20:
                return render_image(io.BytesIO(package.read(name)), size)
        if "word/document.xml" not in names:
            raise Unreadable("the document has no body")
        if pages:
            raise _NeedsPages
        paragraphs = word_paragraphs(package.read("word/document.xml"), _PAGE_LINES)
    return _render_page(paragraphs, size)


def _render_page(lines: list[tuple[str, bool]], size: int) -> tuple[str, int, int, bytes]:
    """A paper-like page (3:4) showing ``lines`` of text; (line, is heading) pairs."""
    from PIL import Image, ImageDraw, ImageFont

    height = max(32, size)
    width = height * 3 // 4
    page = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(page)
    margin = max(2, width // 12)
    body = max(4, height // 30)
    y = margin
    for line, heading in lines:
        font_size = body * 3 // 2 if heading else body
        font = ImageFont.load_default(font_size)
        text = line
        while text and draw.textlength(text, font=font) > width - 2 * margin:
            text = text[: max(0, len(text) - max(1, len(text) // 8))]
        draw.text((margin, y), text, fill=(40, 40, 40) if heading else (90, 90, 90), font=font)
        y += font_size + max(1, font_size // 3)
        if y > height - margin - body:
            break
    draw.rectangle((0, 0, width - 1, height - 1), outline=(200, 200, 200))
    return "RGB", width, height, page.tobytes()


def _render_pdf(path: Path, size: int) -> tuple[str, int, int, bytes]:
    pymupdf = load_pymupdf()
    try:
        document = pymupdf.open(path, filetype="pdf")
    except pymupdf.FileDataError as exc:
        raise Unreadable(f"the document is damaged ({brief(exc)})") from exc
    try:
        if document.needs_pass:
            # A background thumbnailer never prompts and never guesses.
            raise Unreadable("the file is encrypted")
        if document.page_count < 1:
            raise Unreadable("the document has no pages")
        page = document[0]
        rect = page.rect  # with the page's /Rotate applied
        longest = max(rect.width, rect.height)
        if not math.isfinite(longest) or longest <= 0:
            raise Unreadable("the document's first page has no size")
        zoom = size / longest
        pixmap = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
        width, height = int(pixmap.width), int(pixmap.height)
        pixels = bytes(pixmap.samples)
        if pixmap.n != 3 or len(pixels) != width * height * 3:
            raise Unreadable("the document's first page could not be drawn")
    finally:
        document.close()
        pymupdf.TOOLS.store_shrink(100)  # this process serves many files: free MuPDF's caches
    if max(width, height) > size:  # MuPDF rounds the page's box outwards
        from PIL import Image

        image = Image.frombytes("RGB", (width, height), pixels)
        image.thumbnail((size, size))
        return "RGB", image.width, image.height, image.tobytes()
    return "RGB", width, height, pixels


def render_image(path: Path | BinaryIO, size: int) -> tuple[str, int, int, bytes]:
    from PIL import Image, UnidentifiedImageError

    # MAX_IMAGE_PIXELS stays at Pillow's default: a header claiming gigapixels
    # raises DecompressionBombError before any pixel memory is allocated; some
    # formats only find out when they load (ICNS, GIF frame extents).
    try:
        with open_image(path) as image:
            # JPEG only: decode at 1/2, 1/4 or 1/8 scale, still at least `size` wide.
            image.draft("RGB", (size, size))
            image.load()  # now, while the file is open (thumbnail() skips small images)
            try:
                # Read after loading: Pillow's TIFF reader turns the image itself
                # and then drops the tag, which must not turn it a second time.
                orientation = image.getexif().get(_ORIENTATION)
            except Exception:  # broken EXIF must not cost us the picture
                orientation = None
            icc = image.info.get("icc_profile")
            cmyk = image.mode == "CMYK"
            # CMYK needs its profile before becoming RGB; the rest converts
            # after resizing, on far fewer pixels.
            prepared = prepare_mode(to_srgb(image, icc) if cmyk else image)
            prepared.thumbnail((size, size), Image.Resampling.LANCZOS)
            if not cmyk:
                prepared = to_srgb(prepared, icc)
    except Image.DecompressionBombError as exc:
        raise Unreadable("the image claims too many pixels to open safely") from exc
    except UnidentifiedImageError as exc:
        raise Unreadable("this image format is not supported, or the file is damaged") from exc
    # Turned after resizing, where it costs almost nothing.
    return _final_pixels(transpose(prepared, orientation))


def _final_pixels(image: PILImage.Image) -> tuple[str, int, int, bytes]:
    if image.mode in ("LA", "RGBA"):
        image = image.convert("RGBA")
        low, _ = image.getchannel("A").getextrema()
        # Many PNGs carry an alpha channel they never use: those become JPEGs.
        mode = "RGB" if low == 255 else "RGBA"
    else:
        mode = "RGB"
    image = image.convert(mode)
    return mode, image.width, image.height, image.tobytes()


# --- this process's side -----------------------------------------------------


DISK_SIZES = (64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, MAX_SIZE)
"""The sizes thumbnails are made and kept at in the cache directory (longest side, pixels)."""


def disk_size(pixels: int) -> int:
    """The size on disk a thumbnail of ``pixels`` is scaled from: the next of :data:`DISK_SIZES`."""
    return next((size for size in DISK_SIZES if size >= pixels), MAX_SIZE)


class Thumbnailer:
    """Makes and finds thumbnails of blobs in the cache directory. No Qt.

    :meth:`make` may be called from any number of threads (it blocks; call it
    from a pool thread, never the GUI thread); at most ``workers`` files are
    decoded at once and further callers wait for a free worker. Two calls for
    the same blob and size at once decode it once.

    Attributes:
        cache_dir: the vault's cache directory (``vault.paths.cache``).
        timeout: seconds one file may take in a worker.
        memory_limit: address-space limit of each worker in bytes (POSIX only).
    """

    def __init__(
        self,
        cache_dir: Path,
        workers: int = 2,
        timeout: float = 10.0,
        memory_limit: int = 1 << 30,
    ) -> None:
        """Prepares the pool; no process starts and nothing is written until needed.

        Args:
            cache_dir: the vault's cache directory.
            workers: how many worker processes may run at once (at least 1).
            timeout: wall-clock seconds per file in a worker.
            memory_limit: RLIMIT_AS for each worker, in bytes.
        """
        self.cache_dir = cache_dir
        self.timeout = timeout
        self.memory_limit = memory_limit
        self._pool = WorkerPool(
            handle,
            name="thumbnail",
            workers=workers,
            timeout=timeout,
            memory_limit=memory_limit,
            max_reply=_MAX_REPLY,
        )
        self._lock = threading.Lock()
        self._failures: dict[str, str] = {}
        self._pictureless: set[str] = set()  # fine files with nothing to show
        self._soffice: bool | None = None  # LibreOffice installed? Looked up when first needed
        self._inflight: dict[tuple[str, int], threading.Event] = {}
        self._closed = False

    def __enter__(self) -> Thumbnailer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def path(self, blob_hash: str, size: int, transparent: bool = False) -> Path:
        """Where the thumbnail of ``blob_hash`` at ``size`` lives (whether or not it is there)."""
        name = f"{blob_hash}.png" if transparent else f"{blob_hash}.jpg"
        return thumbnail_dir(self.cache_dir, size) / blob_hash[:2] / name

    def cached(self, blob_hash: str, size: int) -> Path | None:
        """The thumbnail file if it was made already, else None. Touches the disk; any thread."""
        _check(blob_hash, size)
        for transparent in (False, True):
            candidate = self.path(blob_hash, size, transparent)
            if candidate.is_file():
                return candidate
        return None

    def failure(self, blob_hash: str) -> str | None:
        """Why ``blob_hash`` got no thumbnail this session, or None if it did not fail.

        Files of a type without thumbnails and missing source files are not
        failures: they give None here too.
        """
        with self._lock:
            return self._failures.get(blob_hash)

    def pictureless(self, blob_hash: str) -> bool:
        """True when the file is fine but has no picture (audio without cover art)."""
        with self._lock:
            return blob_hash in self._pictureless

    def discard(self, blob_hash: str, size: int) -> None:
        """Removes a cached thumbnail (e.g. one that proved unreadable), so it is made again."""
        _check(blob_hash, size)
        for transparent in (False, True):
            try:
                self.path(blob_hash, size, transparent).unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("cannot remove thumbnail of %s: %s", blob_hash, exc)

    def make(self, blob_hash: str, source: Path, mime: str, size: int) -> Path | None:
        """The thumbnail of a blob at ``size``, made now if it is not cached yet.

        Blocks while workers are busy and for at most ``timeout`` seconds once
        one has the file. Never downloads anything.

        Args:
            blob_hash: the blob's SHA-256 (lower-case hex); the cache key.
            source: the blob's file (``vault.blobs.path(blob_hash)``); only read.
            mime: its mime type, which picks the decoder.
            size: the longest side in pixels, 1 to :data:`MAX_SIZE`. Smaller
                images keep their size; PDF pages are scaled to fit.

        Returns:
            The thumbnail file (JPEG, or PNG with transparency), or None: the
            type has no thumbnails, the source file is not on this computer,
            the thumbnailer is closed, or the file failed (:meth:`failure`
            says why; it is not tried again this session). Never raises for a
            bad file.

        Raises:
            ValueError: ``blob_hash`` is not a SHA-256 or ``size`` is out of range.
        """
        _check(blob_hash, size)
        key = (blob_hash, size)
        while True:
            found = self.cached(blob_hash, size)
            if found is not None or self._closed or not can_thumbnail(mime):
                return found
            with self._lock:
                if blob_hash in self._failures:
                    return None
                waiting = self._inflight.get(key)
                if waiting is None:
                    done = self._inflight[key] = threading.Event()
                    break
            waiting.wait()  # another thread is making it; then look again
        try:
            return self._make(blob_hash, source, mime, size)
        finally:
            with self._lock:
                del self._inflight[key]
            done.set()

    def worker_pids(self) -> list[int]:
        """Process ids of the running workers, for diagnostics and tests."""
        return self._pool.worker_pids()

    def close(self) -> None:
        """Stops all workers at once. Idempotent; calls in flight return None quickly."""
        self._closed = True
        self._pool.close()

    def _make(self, blob_hash: str, source: Path, mime: str, size: int) -> Path | None:
        if not source.is_file():
            return None  # evicted: only the bucket has it, and thumbnails never download
        reader = "PDF reader" if mime == PDF_MIME else "image reader"
        # A .docx without a picture of its own: its first page through
        # LibreOffice when this computer has it, else a page of its first lines.
        pages = mime == DOCX_MIME and self._libreoffice()
        request = {"path": str(source.resolve()), "mime": mime, "size": size, "pages": pages}
        try:
            header, pixels = self._pool.run(request, reader=reader)
            if header.get("needs_pages"):
                request = self._first_page(blob_hash, source, mime, request)
                reader = "PDF reader" if request["mime"] == PDF_MIME else reader
                header, pixels = self._pool.run(request, reader=reader)
        except NoWorker as exc:
            if not self._closed:
                log.error("no thumbnail for %s: %s", source, exc)
            return None
        except WorkerFailed as exc:
            self._fail(blob_hash, str(exc))
            return None
        if header.get("error"):
            log.warning("thumbnail of %s failed: %s", source, header["error"])
        if not header.get("ok"):
            self._fail(blob_hash, str(header.get("reason") or f"the {reader} failed"))
            if header.get("pictureless"):
                with self._lock:
                    self._pictureless.add(blob_hash)
            return None
        try:
            return self._store(blob_hash, size, header, pixels)
        except WorkerFailed as exc:
            log.error("thumbnail worker sent bad pixels for %s: %s", source, exc)
            self._fail(blob_hash, f"the {reader} failed")
        except OSError as exc:
            # The cache's disk, not the file: worth another try next session.
            log.warning("cannot write the thumbnail of %s: %s", source, exc)
        return None

    def _libreoffice(self) -> bool:
        with self._lock:
            if self._soffice is None:
                from app.office import find_soffice

                self._soffice = find_soffice() is not None
            return self._soffice

    def _first_page(
        self, blob_hash: str, source: Path, mime: str, request: dict[str, Any]
    ) -> dict[str, Any]:
        """The request for a document's first page, as LibreOffice draws it (converted
        once into the cache, shared with the viewer); the lines' page if that fails."""
        from app.office import ConversionFailed, convert_to_pdf

        try:
            pdf = convert_to_pdf(source, blob_hash, self.cache_dir, mime=mime)
        except ConversionFailed as exc:
            log.warning("LibreOffice could not convert %s: %s", source, exc)
            return {**request, "pages": False}
        return {"path": str(pdf), "mime": PDF_MIME, "size": request["size"]}

    def _fail(self, blob_hash: str, reason: str) -> None:
        with self._lock:
            self._failures[blob_hash] = reason

    def _store(self, blob_hash: str, size: int, header: dict[str, Any], pixels: bytes) -> Path:
        """Checks the worker's pixels, encodes them and writes the cache file atomically."""
        from PIL import Image

        mode, width, height = header.get("mode"), header.get("width"), header.get("height")
        if mode not in ("RGB", "RGBA") or not isinstance(width, int) or not isinstance(height, int):
            raise WorkerFailed("malformed header")
        if not (0 < width <= size and 0 < height <= size):
            raise WorkerFailed(f"{width}x{height} does not fit {size}")
        if len(pixels) != width * height * len(mode):
            raise WorkerFailed("wrong number of pixels")
        image = Image.frombytes(mode, (width, height), pixels)
        target = self.path(blob_hash, size, transparent=mode == "RGBA")
        target.parent.mkdir(parents=True, exist_ok=True)
        # Temp file and rename, so a reader never sees half a thumbnail. No
        # fsync: after a power cut a cache file may be empty, and the window
        # discards a thumbnail it cannot load and makes it again.
        handle, temp = tempfile.mkstemp(
            prefix=f".{blob_hash[:16]}.", suffix=".tmp", dir=target.parent
        )
        try:
            with os.fdopen(handle, "wb") as stream:
                if mode == "RGBA":
                    image.save(stream, "PNG", compress_level=6)
                else:
                    image.save(stream, "JPEG", quality=85)
            os.replace(temp, target)
        except BaseException:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise
        return target


def _check(blob_hash: str, size: int) -> None:
    if not is_blob_hash(blob_hash):
        raise ValueError(f"not a blob hash: {blob_hash!r}")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= MAX_SIZE:
        raise ValueError(f"thumbnail size must be 1 to {MAX_SIZE} pixels, not {size!r}")


@dataclass
class BuildReport:
    """What :func:`build_thumbnails` did.

    Attributes:
        made: thumbnails made now; cached: already there.
        failed: (vault path, reason) of each file that could not be thumbnailed.
        not_local: files whose content is only in the bucket (never downloaded here).
        pictureless: fine files with nothing to show (audio without cover art).
    """

    made: int = 0
    cached: int = 0
    pictureless: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    not_local: int = 0


@dataclass(frozen=True)
class _Wanted:
    path: str
    blob_hash: str
    mime: str
    local: bool


def wanted_thumbnails(vault: VaultBase, folder_id: int | None = None) -> list[_Wanted]:
    """Live files of the vault (or of a folder's subtree) whose type has thumbnails."""
    from sqlalchemy import text

    from app.search import SearchOps

    where = "file.trash_id IS NULL"
    params: dict[str, object] = {}
    if folder_id is not None:
        where += (
            " AND file.folder_id IN (WITH RECURSIVE below(id) AS (SELECT :top"
            " UNION ALL SELECT folder.id FROM folder JOIN below ON folder.parent_id = below.id"
            " WHERE folder.trash_id IS NULL) SELECT id FROM below)"
        )
        params["top"] = folder_id
    with vault.reading() as session:
        rows = session.execute(
            text(
                "SELECT file.folder_id, file.name, file.mime, version.blob_hash, blob.local_state"
                " FROM file JOIN version ON version.id = file.current_version_id"
                f" JOIN blob ON blob.hash = version.blob_hash WHERE {where}"
                " ORDER BY file.folder_id, file.name_key"
            ),
            params,
        ).all()
        rows = [r for r in rows if can_thumbnail(r[2])]
        paths = SearchOps._folder_paths(session, {r[0] for r in rows}) if rows else {}
    return [
        _Wanted(paths[r[0]].rstrip("/") + "/" + r[1], r[3], r[2], r[4] == "present") for r in rows
    ]


def build_thumbnails(
    vault: VaultBase,
    size: int,
    folder_id: int | None = None,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> BuildReport:
    """Make the missing thumbnails of ``size`` pixels for the vault (or a folder's subtree).

    ``workers`` files are decoded at once, each in a sandboxed worker process
    with a time limit. Content only in the bucket is counted, not downloaded.
    ``progress(done, total)`` is called as files finish. Never raises for a bad
    file: it is in the report with the reason.
    """
    size = disk_size(size)
    wanted = wanted_thumbnails(vault, folder_id)
    report = BuildReport()
    local = [w for w in wanted if w.local]
    report.not_local = len(wanted) - len(local)
    lock = threading.Lock()
    done = 0

    def one(thumbnailer: Thumbnailer, item: _Wanted) -> None:
        nonlocal done
        cached = thumbnailer.cached(item.blob_hash, size) is not None
        made = cached or thumbnailer.make(
            item.blob_hash, vault.blobs.path(item.blob_hash), item.mime, size
        )
        with lock:
            if cached:
                report.cached += 1
            elif made:
                report.made += 1
            elif thumbnailer.pictureless(item.blob_hash):
                report.pictureless += 1
            else:
                reason = thumbnailer.failure(item.blob_hash) or "no thumbnail could be made"
                report.failed.append((item.path, reason))
            done += 1
            if progress is not None:
                progress(done, len(local))

    with (
        Thumbnailer(vault.paths.cache, workers=workers) as thumbnailer,
        ThreadPoolExecutor(max(1, workers), thread_name_prefix="thumbnails") as pool,
    ):
        for future in [pool.submit(one, thumbnailer, item) for item in local]:
            future.result()
    report.failed.sort()
    return report
