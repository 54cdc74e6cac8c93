"""The one way to open an untrusted image with Pillow, and to bring its colours to sRGB.

Used inside worker processes only (thumbnails, the image viewer, import
facts): the decoders are native code and the files are anyone's. No Qt here.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from PIL import Image as PILImage

# The Pillow readers a worker may use. Anything else (EPS runs Ghostscript,
# WMF needs Windows, scientific formats are not photos) is refused even if the
# bytes claim to be one of them. HEIF comes from the pi-heif plugin: the
# decode-only build of pillow-heif, without the GPL encoder.
PILLOW_FORMATS = (
    "JPEG",
    "PNG",
    "GIF",
    "WEBP",
    "TIFF",
    "BMP",
    "DIB",
    "ICO",
    "CUR",
    "ICNS",
    "PSD",
    "JPEG2000",
    "AVIF",
    "HEIF",
    "PPM",
    "TGA",
    "SGI",
    "PCX",
    "DCX",
    "DDS",
    "QOI",
    "BLP",
    "FLI",
    "MSP",
    "SUN",
    "IM",
    "XBM",
    "XPM",
)

_registered = threading.Lock()
_heif_ready = False


def _register_heif() -> None:
    global _heif_ready
    with _registered:
        if _heif_ready:
            return
        _heif_ready = True
        try:
            import pi_heif

            # Thumbnails of a 12 MP photo need no more than the decoder's own
            # threads' worth of memory; one thread keeps a worker within its limit.
            pi_heif.register_heif_opener(decode_threads=1)
        except ImportError:  # a build without it: HEIC files keep their kind icon
            pass


def open_image(source: Path | BinaryIO) -> PILImage.Image:
    """Opens an image with the allowed readers only (header read; pixels on ``load()``).

    Pillow's decompression-bomb guard stays at its default: a header claiming
    gigapixels raises ``DecompressionBombError`` before any pixel memory is taken.

    Raises:
        PIL.UnidentifiedImageError: not an image of an allowed format.
        PIL.Image.DecompressionBombError: too many pixels to open safely.
        OSError: the file cannot be read.
    """
    from PIL import Image

    _register_heif()
    return Image.open(source, formats=PILLOW_FORMATS)


def to_srgb(image: PILImage.Image, icc_profile: bytes | None) -> PILImage.Image:
    """``image`` with its embedded colour profile converted to sRGB (else unchanged).

    Wide-gamut photos (Display P3 from phones, Adobe RGB from cameras) look
    washed out when their numbers are shown as sRGB. A broken profile is
    ignored: the picture matters more than its exact colours. CMYK with a
    profile comes out RGB.
    """
    if not icc_profile or image.mode not in ("RGB", "RGBA", "CMYK", "L"):
        return image
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        description = ImageCms.getProfileDescription(source) or ""
        if "srgb" in description.lower().replace(" ", "") and image.mode != "CMYK":
            return image  # already sRGB: nothing to do
        output_mode = "RGB" if image.mode == "CMYK" else image.mode
        if image.mode == "L":
            return image  # a grey profile changes tones only slightly; not worth a transform
        converted = ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode=output_mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image
    return converted if converted is not None else image


def prepare_mode(image: PILImage.Image) -> PILImage.Image:
    """An image in a mode that resizes well: RGB, RGBA, L or LA."""
    mode = image.mode
    if mode in ("RGB", "L") and "transparency" in image.info:
        return image.convert("RGBA")  # a colour key (PNG tRNS) is transparency too
    if mode in ("RGB", "RGBA", "L", "LA"):
        return image
    if mode == "1":
        return image.convert("L")  # bilevel scans resize to grey, not to noise
    if mode.startswith("I;16"):
        return image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if mode in ("I", "F"):
        extrema = image.getextrema()  # (low, high) for one band
        low, high = float(extrema[0]), float(extrema[1])  # type: ignore[arg-type]
        scale = 255 / (high - low) if high > low else 0
        return image.point(lambda v: (v - low) * scale).convert("L")
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    if mode == "La":
        return image.convert("LA")  # Pillow converts premultiplied La to LA only
    if mode == "RGBa":
        return image.convert("RGBA")
    return image.convert("RGB")  # CMYK, LAB, YCbCr, HSV


def transpose(image: PILImage.Image, orientation: Any) -> PILImage.Image:
    from PIL import Image

    method = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation if isinstance(orientation, int) else 1)
    return image.transpose(method) if method is not None else image
