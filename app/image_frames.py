"""Decoding an image for the viewer: all its pixels, or every frame of an animation.

The image viewer sends ``{"job": "image.frames", "path": ..., "max_pixels":
..., "max_bytes": ...}`` to the viewer's worker processes
(:mod:`app.viewer_jobs`); :func:`handle` answers there with raw pixels, which
the window checks before it builds a ``QImage`` from them. Pillow's decoders
never run in the application's own process.

What the answer holds:

* the picture as the camera meant it: EXIF orientation applied, colours
  converted from an embedded ICC profile to sRGB (when that fails, the
  pixels are shown as they are);
* at most ``max_pixels`` per frame: a larger image is reduced (JPEG decodes
  straight at 1/2, 1/4 or 1/8 scale) and the header still says its original
  size;
* every frame of an animated GIF, PNG (APNG), WebP or AVIF sequence, as
  Pillow composites them, with its duration, up to ``max_bytes`` in all (the
  header then says ``"truncated"``). Multi-page TIFFs and icon files with
  several sizes are not animations: their first image is shown.

Opening (the formats allow-list) and colour management are
:mod:`app.image_formats`'s; orientation and mode preparation are the
thumbnailer's (:mod:`app.thumbnails`), so a preview and its thumbnail always
agree. No Qt here.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.image_formats import open_image, prepare_mode, to_srgb, transpose
from app.workers import damaged

if TYPE_CHECKING:
    from PIL import Image as PILImage

MAX_PIXELS = 40_000_000
"""Default cap on width × height of one frame (a 40 MP photo shows at full size)."""

MAX_BYTES = 256 << 20
"""Default cap on the pixels of all frames together, in bytes."""

MAX_FRAMES = 2000
"""Frames beyond this many are left out (and the answer says so)."""

DEFAULT_DURATION = 100
"""Milliseconds a frame shows when the file gives none, or 10 ms and less, as browsers do."""

# Formats whose frames are an animation; other multi-frame formats (TIFF
# pages, icon sizes, MPO's second eye) show their first image.
_ANIMATED_FORMATS = frozenset({"GIF", "PNG", "WEBP", "AVIF"})
_ORIENTATION = 0x0112
_SWAPPING = frozenset({5, 6, 7, 8})  # orientations that turn the picture on its side


class _Refused(Exception):
    """An image this job will not decode; the message is the reason for the user."""


def handle(request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """The worker's ``image.frames`` job (:data:`app.workers.Handler`).

    Args:
        request: ``path`` (the image), ``max_pixels`` (cap on one frame's
            width × height, default :data:`MAX_PIXELS`), ``max_bytes`` (cap on
            all frames' pixels together, default :data:`MAX_BYTES`).

    Returns:
        On success the header ``{"ok": True, "width", "height",
        "original_width", "original_height", "mode": "RGB" | "RGBA",
        "stride", "frames": [{"offset", "length", "duration"}], "loop",
        "truncated"}`` and the frames' raw pixels, row-major, one after the
        other (``offset``/``length`` into the payload; ``duration`` in ms;
        ``loop`` 0 = forever, else how many times to play). Otherwise
        ``{"ok": False, "reason": ...}`` and no payload.
    """
    try:
        path = Path(str(request["path"]))
        max_pixels = max(1, int(request.get("max_pixels", MAX_PIXELS)))
        max_bytes = max(1, int(request.get("max_bytes", MAX_BYTES)))
    except (KeyError, TypeError, ValueError) as exc:
        return {"ok": False, "reason": "the request was malformed", "error": repr(exc)}, b""
    try:
        return decode(path, max_pixels, max_bytes)
    except _Refused as exc:
        return {"ok": False, "reason": str(exc)}, b""
    except MemoryError:
        reason = "the image needs more memory than a preview may use"
        return {"ok": False, "reason": reason, "restart": True}, b""
    except ImportError:
        raise  # the pool's answer: restart a worker whose decoder did not load
    except Exception as exc:  # any other decoder error means a damaged file
        return damaged("image", exc), b""


def decode(path: Path, max_pixels: int, max_bytes: int) -> tuple[dict[str, Any], bytes]:
    """Decodes ``path`` in this process (meant for a worker): the answer of :func:`handle`.

    Raises:
        _Refused: a decompression bomb, an unsupported format, an image too big.
        Exception: whatever the decoder raises on a damaged file.
    """
    from PIL import Image, UnidentifiedImageError

    # MAX_IMAGE_PIXELS stays at Pillow's default: a header claiming gigapixels
    # raises DecompressionBombError before any pixel memory is allocated.
    try:
        with open_image(path) as image:
            return _frames(image, max_pixels, max_bytes)
    except Image.DecompressionBombError as exc:
        raise _Refused("the image claims too many pixels to open safely") from exc
    except UnidentifiedImageError as exc:
        raise _Refused("this image format is not supported, or the file is damaged") from exc


def _frames(image: PILImage.Image, max_pixels: int, max_bytes: int) -> tuple[dict[str, Any], bytes]:
    width, height = image.size
    if width < 1 or height < 1:
        raise _Refused("the image has no pixels")
    target = _fit(width, height, max_pixels)
    count = int(getattr(image, "n_frames", 1) or 1)
    animated = image.format in _ANIMATED_FORMATS and count > 1
    if not animated:
        # JPEG only: decode at 1/2, 1/4 or 1/8 scale, still at least `target`.
        image.draft("RGB", target)
    image.load()
    try:
        # Read after loading: Pillow's TIFF reader turns the image itself and
        # then drops the tag, which must not turn it a second time.
        orientation = image.getexif().get(_ORIENTATION)
    except Exception:  # broken EXIF must not cost us the picture
        orientation = None
    profile = image.info.get("icc_profile")
    icc = profile if isinstance(profile, bytes) else None
    loop = image.info.get("loop", 0)
    mode = "RGBA" if animated else ""
    payload = bytearray()
    frames: list[dict[str, int]] = []
    truncated = False
    shown = (0, 0)
    for index in range(count if animated else 1):
        if index:
            if index >= MAX_FRAMES:
                truncated = True
                break
            try:
                image.seek(index)
                image.load()
            except EOFError:  # fewer frames than the header said
                break
        # Colour-managed after the reduction, where it costs least; CMYK
        # before it, since the reduction would turn it to RGB naively.
        if image.mode == "CMYK":
            frame = _resized(to_srgb(image, icc), target)
        else:
            frame = to_srgb(_resized(image, target), icc)
        frame = transpose(frame, orientation)
        if animated:
            frame = frame.convert("RGBA")
        else:
            frame, mode = _final(frame)
        if frames and frame.size != shown:
            break  # a frame of another size is damage; keep what came before
        shown = frame.size
        pixels = frame.tobytes()
        if frames and len(payload) + len(pixels) > max_bytes:
            truncated = True
            break
        if len(pixels) > max_bytes:
            raise _Refused("the image is too big to preview")
        duration = _duration(image.info.get("duration")) if animated else 0
        frames.append({"offset": len(payload), "length": len(pixels), "duration": duration})
        payload += pixels
    if not frames:
        raise _Refused("the image has no frames")
    original = (height, width) if orientation in _SWAPPING else (width, height)
    header = {
        "ok": True,
        "width": shown[0],
        "height": shown[1],
        "original_width": original[0],
        "original_height": original[1],
        "mode": mode,
        "stride": shown[0] * len(mode),
        "frames": frames,
        "loop": loop if isinstance(loop, int) and loop >= 0 else 0,
        "truncated": truncated,
    }
    return header, bytes(payload)


def _fit(width: int, height: int, max_pixels: int) -> tuple[int, int]:
    """The largest size with ``width``:``height``'s shape and at most ``max_pixels``."""
    if width * height <= max_pixels:
        return width, height
    scale = math.sqrt(max_pixels / (width * height))
    return max(1, int(width * scale)), max(1, int(height * scale))


def _resized(image: PILImage.Image, target: tuple[int, int]) -> PILImage.Image:
    from PIL import Image

    prepared = prepare_mode(image)
    if prepared.width * prepared.height <= target[0] * target[1]:
        return prepared  # draft() may already have made it small enough
    # reducing_gap: a cheap box reduction first, then Lanczos on the rest.
    return prepared.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _final(image: PILImage.Image) -> tuple[PILImage.Image, str]:
    """RGBA when any pixel is not opaque, else RGB: a third less to send and paint."""
    if image.mode in ("LA", "RGBA"):
        image = image.convert("RGBA")
        low, _ = image.getchannel("A").getextrema()
        if low != 255:
            return image, "RGBA"
    return image.convert("RGB"), "RGB"


def _duration(value: Any) -> int:
    try:
        milliseconds = int(value)
    except (TypeError, ValueError, OverflowError):
        return DEFAULT_DURATION
    # Browsers play 0–10 ms frames at 100 ms: files rely on it.
    return milliseconds if milliseconds > 10 else DEFAULT_DURATION
