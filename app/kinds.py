"""What a file is, judged by its first bytes and then by its name.

:func:`detect` runs on every imported file, so it is built to be cheap: it only
looks at bytes the importer has already read (``head``), never opens the file,
and never runs charset detection. The content decides whenever it can (a JPEG
named ``report.pdf`` is an image); the extension only refines an ambiguous
container (an MP4 that holds only sound, a zip that is a Word document) or
fills in when the bytes prove nothing.

The result is ``(kind, mime)``; ``kind`` is one of :data:`KINDS` and picks the
icon, the preview and whether text is extracted for search.
"""

from __future__ import annotations

import mimetypes
import re
from typing import Any

import filetype

KINDS = ("image", "video", "audio", "document", "other")
"""Every value :func:`detect` may return as the kind."""

HEAD_BYTES = 8192
"""How many leading bytes callers should pass as ``head``."""

OCTET_STREAM = "application/octet-stream"
EMPTY_MIME = "application/x-zerosize"
"""An empty file: its content proves nothing, whatever its name (shared-mime-info's name)."""

_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"

# Python's built-in table (deliberately not the system's mime.types, which
# differs per machine and would make detection depend on the computer) lacks
# many media types. These fill the gaps and win over it.
_EXT_MIME: dict[str, str] = {
    # images
    ".apng": "image/apng",
    ".avifs": "image/avif",
    ".cur": "image/x-win-bitmap",
    ".eps": "image/x-eps",
    ".epsf": "image/x-eps",
    ".icns": "image/icns",
    ".jxl": "image/jxl",
    ".mpo": "image/jpeg",
    ".psd": "image/vnd.adobe.photoshop",
    ".tga": "image/x-tga",
    ".wmf": "image/wmf",
    ".emf": "image/emf",
    ".xcf": "image/x-xcf",
    ".sgi": "image/x-sgi",
    ".blp": "image/x-blp",
    ".dng": "image/x-adobe-dng",
    ".cr2": "image/x-canon-cr2",
    ".nef": "image/x-nikon-nef",
    ".arw": "image/x-sony-arw",
    # audio
    ".aac": "audio/aac",
    ".ac3": "audio/ac3",
    ".aif": "audio/x-aiff",
    ".aiff": "audio/x-aiff",
    ".amr": "audio/amr",
    ".ape": "audio/x-ape",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".m4b": "audio/mp4",
    ".mka": "audio/x-matroska",
    ".mp3": "audio/mpeg",
    ".oga": "audio/ogg",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".wav": "audio/x-wav",
    ".wma": "audio/x-ms-wma",
    ".wv": "audio/x-wavpack",
    # video
    ".3gp": "video/3gpp",
    ".asf": "video/x-ms-asf",
    ".avi": "video/x-msvideo",
    ".flv": "video/x-flv",
    ".m2ts": "video/mp2t",
    ".m4v": "video/mp4",
    ".mkv": "video/x-matroska",
    ".mov": "video/quicktime",
    ".mp4": "video/mp4",
    ".mts": "video/mp2t",
    ".mxf": "video/mxf",
    ".oggtheora": "video/ogg",
    ".ogv": "video/ogg",
    ".rm": "video/vnd.rn-realvideo",
    ".rmvb": "video/vnd.rn-realvideo",
    ".webm": "video/webm",
    ".wmv": "video/x-ms-wmv",
    # documents
    ".doc": "application/msword",
    ".dot": "application/msword",
    ".docx": _DOCX,
    ".docm": "application/vnd.ms-word.document.macroEnabled.12",
    ".dotx": "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": _XLSX,
    ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": _PPTX,
    ".pptm": "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".rtf": "application/rtf",
    ".pdf": "application/pdf",
}

# Text-like extensions: used only once the bytes look like text, so a binary
# file called notes.md is not mistaken for a document.
_TEXT_EXT_MIME: dict[str, str] = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".json": "application/json",
    ".xml": "application/xml",
    ".srt": "application/x-subrip",
    ".vtt": "text/vtt",
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".ts": "text/x-typescript",
    ".py": "text/x-python",
    ".rs": "text/x-rust",
    ".go": "text/x-go",
    ".c": "text/x-c",
    ".h": "text/x-c",
    ".cpp": "text/x-c++",
    ".hpp": "text/x-c++",
    ".java": "text/x-java",
    ".sh": "text/x-shellscript",
    ".toml": "application/toml",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".ini": "text/plain",
    ".log": "text/plain",
    ".txt": "text/plain",
    ".tex": "text/x-tex",
    ".sql": "application/sql",
}

# Mime types outside image/video/audio/text that are still documents.
_DOCUMENT_MIMES = frozenset(
    {
        "application/pdf",
        "application/json",
        "application/xml",
        "application/rtf",
        "application/x-subrip",
        "application/toml",
        "application/yaml",
        "application/sql",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/x-sh",
        "application/postscript",
    }
)
_DOCUMENT_PREFIXES = (
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.oasis.opendocument.",
    "application/vnd.ms-word",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
)

# Formats where the container says little and the name says more.
_AUDIO_MP4_BRANDS = (b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B ")
_AUDIO_MP4_EXTS = frozenset({".m4a", ".m4b", ".m4p", ".aac"})

# Bytes that never appear in text in any encoding we read, except as noise;
# tab, LF, VT, FF, CR and ESC (ISO-2022-JP) are allowed.
_CONTROL_BYTES = bytes(set(range(32)) - {9, 10, 11, 12, 13, 27}) + b"\x7f"
_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16"),
    (b"\xff\xfe", "utf-16"),
)
_SVG_RE = re.compile(rb"<svg[\s>/]", re.IGNORECASE)
_HTML_RE = re.compile(rb"<html[\s>]", re.IGNORECASE)

# A private table with only Python's built-in defaults (see _EXT_MIME).
_MIMETYPES = mimetypes.MimeTypes()


def detect(name: str, head: bytes) -> tuple[str, str]:
    """Says what a file is from its name and its first bytes.

    Args:
        name: the file's name (only the extension is used; a path is fine).
        head: the file's first bytes, up to :data:`HEAD_BYTES`; fewer for a short file.

    Returns:
        ``(kind, mime)``: kind is one of :data:`KINDS`; mime is never empty
        (``application/octet-stream`` when nothing is known). Never raises.
    """
    mime = _detect_mime(_extension(name), head)
    return kind_of(mime), mime


def kind_of(mime: str) -> str:
    """Maps a mime type to one of :data:`KINDS`.

    Args:
        mime: a lower-case mime type such as ``image/jpeg``.

    Returns:
        The kind; ``"other"`` for anything unknown.
    """
    top = mime.partition("/")[0]
    if top in ("image", "video", "audio"):
        return top
    if top == "text" or mime in _DOCUMENT_MIMES or mime.startswith(_DOCUMENT_PREFIXES):
        return "document"
    return "other"


def _extension(name: str) -> str:
    # rpartition on both separators: names may come from Windows or POSIX.
    base = name.replace("\\", "/").rpartition("/")[2]
    dot = base.rfind(".")
    return base[dot:].lower() if dot > 0 else ""


# filetype tries every matcher in turn; the zip-based document matchers and the
# EBML (Matroska/WebM) ones scan the whole head and cost two thirds of a miss, yet
# can only match behind their container's magic bytes. Skip them elsewhere.
_CONTAINER_MATCHERS = ("Docx", "Xlsx", "Pptx", "Odt", "Ods", "Odp", "Webm", "Mkv")
_CONTAINER_MAGIC = (b"PK", b"\x1a\x45\xdf\xa3")
_PLAIN_MATCHERS = [m for m in filetype.types if type(m).__name__ not in _CONTAINER_MATCHERS]


def _guess(head: bytes) -> Any:
    if head.startswith(_CONTAINER_MAGIC):
        return filetype.guess(head)
    return filetype.match(head, matchers=_PLAIN_MATCHERS)


def _detect_mime(ext: str, head: bytes) -> str:
    if not head:
        return EMPTY_MIME
    guess = _guess(head)
    if guess is not None:
        return _refine(guess.mime, ext, head)
    return _detect_unmatched(ext, head)


def _refine(mime: str, ext: str, head: bytes) -> str:
    """Corrects filetype's answer where its magic numbers are too coarse."""
    if mime == "application/zip":
        return _zip_mime(ext, head)
    if mime.startswith(("application/msword", "application/vnd.ms-")) and head.startswith(
        _OLE2_MAGIC
    ):
        # filetype guesses the Office flavour of an OLE2 file from a weak
        # sniff; the extension is a better witness. Encrypted .docx/.xlsx are
        # OLE2 containers too and keep their OOXML type.
        return _office_by_ext(ext) or mime
    if mime.startswith("application/vnd.openxmlformats-officedocument."):
        # filetype names every Word package a .docx; .docm/.dotx are their own types.
        return _office_by_ext(ext) or mime
    if mime == "video/mp4" and (head[8:12] in _AUDIO_MP4_BRANDS or ext in _AUDIO_MP4_EXTS):
        return "audio/mp4"
    if mime == "audio/ogg" and (b"\x80theora" in head[:512] or ext in (".ogv", ".oggtheora")):
        return "video/ogg"
    if mime == "video/x-ms-wmv" and ext == ".wma":
        return "audio/x-ms-wma"
    if mime == "video/x-matroska" and ext == ".mka":
        return "audio/x-matroska"
    if mime == "application/gzip" and ext == ".svgz":
        return "image/svg+xml"
    if mime == "application/postscript" and ext in (".eps", ".epsf", ".epsi"):
        return "image/x-eps"
    if mime == "image/jpx" and ext == ".jp2":
        return "image/jp2"
    return mime


def _office_by_ext(ext: str) -> str:
    # Only an office type may refine an office container: a Word file named
    # .mp4 stays a Word file.
    mime = _EXT_MIME.get(ext, "")
    return mime if mime.startswith((*_DOCUMENT_PREFIXES, "application/msword")) else ""


def _zip_mime(ext: str, head: bytes) -> str:
    # OOXML and ODF packages are zips; the local file headers near the start
    # name their parts. ODF stores an uncompressed "mimetype" entry first.
    if head[30:38] == b"mimetype":
        odf = re.match(rb"[a-z0-9.+/-]+", head[38:120])
        if odf and odf.group().startswith(b"application/vnd.oasis.opendocument."):
            return odf.group().decode("ascii")
    by_ext = _office_by_ext(ext)
    if by_ext:
        return by_ext
    if b"word/" in head:
        return _DOCX
    if b"xl/" in head:
        return _XLSX
    if b"ppt/" in head:
        return _PPTX
    return "application/zip"


def _detect_unmatched(ext: str, head: bytes) -> str:
    """Handles what filetype's magic numbers do not know."""
    if b"%PDF-" in head[:1024]:
        return "application/pdf"
    if head.startswith(_OLE2_MAGIC):
        return _office_by_ext(ext) or "application/x-ole-storage"
    if head.startswith(_ZIP_MAGIC):
        return _zip_mime(ext, head)
    if head.startswith(b"{\\rtf"):
        return "application/rtf"
    # A UTF-16 byte-order mark (FF FE) also looks like an MPEG audio frame
    # sync, so text with a BOM is settled before the binary sniffs.
    has_bom = head.startswith(tuple(bom for bom, _ in _BOMS))
    binary = "" if has_bom else _binary_mime(ext, head)
    if binary:
        return binary
    text = _text_mime(ext, head)
    if text:
        return text
    return _EXT_MIME.get(ext) or _MIMETYPES.guess_type("x" + ext)[0] or OCTET_STREAM


def _binary_mime(ext: str, head: bytes) -> str:
    """Recognises a few binary formats that filetype 1.2 misses."""
    if head.startswith((b"II+\x00", b"MM\x00+")):
        return "image/tiff"  # BigTIFF
    if head.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")):
        return "image/jxl"
    if head.startswith(b"icns"):
        return "image/icns"
    if head[4:12] in (b"ftypavis", b"ftypavif"):
        return "image/avif"
    if head[4:8] == b"ftyp" or head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        # An ISO media file filetype did not place (QuickTime, odd brands).
        if ext in _AUDIO_MP4_EXTS or head[8:12] in _AUDIO_MP4_BRANDS:
            return "audio/mp4"
        by_ext = _EXT_MIME.get(ext, "")
        return by_ext if by_ext.startswith("video/") else "video/quicktime"
    if head.startswith(b"\x1aE\xdf\xa3"):
        if ext == ".mka":
            return "audio/x-matroska"
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if head.startswith(b"OggS"):
        return "video/ogg" if b"\x80theora" in head[:512] else "audio/ogg"
    if head.startswith(b"MAC "):
        return "audio/x-ape"
    if head.startswith(b"wvpk"):
        return "audio/x-wavpack"
    if head.startswith(b"\x0b\x77"):
        return "audio/ac3"
    if head.startswith(b".RMF"):
        return "video/vnd.rn-realvideo"
    if head.startswith(b"\x06\x0e\x2b\x34"):
        return "video/mxf"
    if head.startswith(b"\xd7\xcd\xc6\x9a"):
        return "image/wmf"
    if _is_mpeg_ts(head):
        return "video/mp2t"
    if head.startswith(b"ID3") or _is_mp3_frame(head):
        return "audio/mpeg"
    return ""


def _is_mpeg_ts(head: bytes) -> bool:
    # Sync byte 0x47 every 188 bytes (TS) or at 4 + 192*n (M2TS/AVCHD).
    for start, step in ((0, 188), (4, 192)):
        if len(head) >= start + 3 * step and all(head[start + i * step] == 0x47 for i in range(3)):
            return True
    return False


def _is_mp3_frame(head: bytes) -> bool:
    # MPEG audio frame header: 11 sync bits, a valid version/layer, and a
    # bitrate index that is neither "free" nor "bad". Not every 0xFFEx is MP3.
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 3
    layer = (head[1] >> 1) & 3
    bitrate = head[2] >> 4
    return version != 1 and layer != 0 and bitrate not in (0, 15)


def _text_mime(ext: str, head: bytes) -> str:
    """Returns a text mime type when ``head`` reads as text, else ""."""
    sample = _text_sample(head)
    if sample is None:
        return ""
    stripped = sample.lstrip()
    if stripped.startswith(b"<"):
        svg = _SVG_RE.search(stripped)
        if svg:
            html = _HTML_RE.search(stripped)
            if html is None or html.start() > svg.start():
                return "image/svg+xml"
    if stripped.startswith((b"%!PS", b"\xc5\xd0\xd3\xc6")):
        return "image/x-eps" if ext in (".eps", ".epsf", ".epsi") else "application/postscript"
    by_ext = _TEXT_EXT_MIME.get(ext) or _MIMETYPES.guess_type("x" + ext)[0] or ""
    if by_ext and kind_of(by_ext) == "document":
        return by_ext
    if stripped.startswith(b"<?xml"):
        return "application/xml"
    return "text/plain"


def _text_sample(head: bytes) -> bytes | None:
    """Returns ``head`` as ASCII-compatible bytes if it is text, else None.

    Text in UTF-16/32 is transcoded to UTF-8 so the markup checks that follow
    work on one representation; legacy 8-bit and CJK encodings pass as they
    are, since what matters here is only "is it text", not which characters.
    """
    for bom, codec in _BOMS:
        if head.startswith(bom):
            if codec == "utf-8":
                return head[len(bom) :]
            return _transcode(head, codec)
    if b"\x00" in head:
        codec = utf16_without_bom(head)
        return _transcode(head, codec) if codec else None
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    # Allow a stray control byte or two (form feeds, SUB at the end of old DOS
    # files); random or compressed data has about one in ten.
    if controls > 2 + len(head) // 100:
        return None
    return head


def utf16_without_bom(head: bytes) -> str:
    """Recognises UTF-16 text that has no byte-order mark.

    Mostly-Latin UTF-16 has a NUL in every other byte; binary data does not
    keep to one parity. Shared with the text extractor.

    Args:
        head: the first bytes of a file.

    Returns:
        ``"utf-16-le"``, ``"utf-16-be"``, or "" when it does not look like UTF-16.
    """
    even = head[0::2].count(0)
    odd = head[1::2].count(0)
    half = len(head) // 2
    if half >= 8 and odd > half * 0.3 and even < half * 0.02:
        return "utf-16-le"
    if half >= 8 and even > half * 0.3 and odd < half * 0.02:
        return "utf-16-be"
    return ""


def _transcode(head: bytes, codec: str) -> bytes | None:
    unit = 4 if codec.startswith("utf-32") else 2
    usable = head[: len(head) - len(head) % unit]
    try:
        text = usable.decode(codec)
    except UnicodeDecodeError as exc:
        # A surrogate pair cut by the end of the head is fine; anything else is not text.
        if exc.start < len(usable) - 2 * unit:
            return None
        text = usable[: exc.start].decode(codec, errors="replace")
    encoded = text.encode("utf-8", errors="replace")
    controls = len(encoded) - len(encoded.translate(None, _CONTROL_BYTES))
    return None if controls > 2 + len(encoded) // 100 else encoded
