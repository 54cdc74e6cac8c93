"""The extraction worker: a subprocess that parses untrusted files for app.extract.

Run as ``python -m app.extract_worker --memory-limit N --cpu-seconds N``. It
limits its own resources before importing any parser, then reads one JSON
request per line on stdin (``{"path", "kind", "mime"}``) and writes one JSON
answer per line on stdout (``{"facts": {...}}`` plus ``"error"`` when a
library failed unexpectedly and ``"restart": true`` after a MemoryError).

Everything that can go wrong with a *file* becomes a note in the answer. What
cannot be caught here (a native crash, the kernel's memory limit, a hang) is
the parent's job: it sees EOF or no answer in time, and kills this process.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
import warnings
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

from app.extract import MAX_TEXT_CHARS, Facts, note
from app.processes import allow_cpu, brief, limit_resources

MAX_PACKAGE_BYTES = 200 * 1024 * 1024
"""A docx/xlsx/ODF package may unpack to at most this many bytes."""

_MAX_RATIO = 100
_RATIO_FLOOR = 20 * 1024 * 1024  # small packages may compress well; it is harmless
_MAX_MEMBERS = 10_000
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 36867
_OFFSET_TIME_ORIGINAL = 36881
_MAKE, _MODEL, _ORIENTATION = 271, 272, 274


class Refused(Exception):
    """A file that is not parsed, with the reason for the user as its message."""


def main(argv: list[str] | None = None) -> int:
    """Serves requests until stdin closes.

    Args:
        argv: command-line arguments (defaults to ``sys.argv[1:]``).

    Returns:
        The exit code.
    """
    parser = argparse.ArgumentParser(prog="app.extract_worker")
    parser.add_argument("--memory-limit", type=int, default=1 << 30)
    parser.add_argument("--cpu-seconds", type=int, default=60)
    args = parser.parse_args(argv)
    limit_resources(args.memory_limit)
    # The protocol gets a private copy of stdout; fd 1 then points at stderr so
    # a library that prints cannot corrupt the answers.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    warnings.simplefilter("ignore")  # DecompressionBombWarning & co. are handled as facts
    for line in sys.stdin.buffer:
        allow_cpu(args.cpu_seconds)
        response = _handle(line)
        _send(answers, response)
        if response.get("restart"):
            return 0
    return 0


def _send(answers: IO[bytes], response: dict[str, Any]) -> None:
    answers.write(json.dumps(response, ensure_ascii=False).encode("utf-8", "replace") + b"\n")
    answers.flush()


def _handle(line: bytes) -> dict[str, Any]:
    try:
        request = json.loads(line)
        path, kind, mime = Path(request["path"]), str(request["kind"]), str(request["mime"])
    except (ValueError, KeyError, TypeError) as exc:
        return {"facts": Facts().to_dict(), "error": f"bad request: {exc}"}
    try:
        return {"facts": extract_facts(path, kind, mime).to_dict()}
    except Refused as exc:
        return {"facts": Facts(note=note(str(exc))).to_dict()}
    except ImportError as exc:
        # A parser library that cannot load (typically the memory limit is too
        # low for its shared objects) leaves a half-imported module behind;
        # the next file gets a fresh interpreter instead.
        reason = f"the reader for this file could not start ({brief(exc)})"
        return {"facts": Facts(note=note(reason)).to_dict(), "error": repr(exc), "restart": True}
    except MemoryError:
        reason = "the file needs more memory than a preview may use"
        return {"facts": Facts(note=note(reason)).to_dict(), "restart": True}
    except RecursionError:
        return {"facts": Facts(note=note("the document is nested too deeply")).to_dict()}
    except OSError as exc:
        if exc.errno is not None:  # a real I/O error, not a decoder's complaint
            reason = f"the file could not be read ({exc.strerror or exc})"
            return {"facts": Facts(note=note(reason)).to_dict()}
        return _damaged(kind, exc)
    except Exception as exc:  # every parser error means a damaged file
        return _damaged(kind, exc)


def _damaged(kind: str, exc: BaseException) -> dict[str, Any]:
    what = "image" if kind == "image" else "document"
    return {
        "facts": Facts(note=note(f"the {what} is damaged ({brief(exc)})")).to_dict(),
        "error": f"{type(exc).__name__}: {exc}"[:500],
    }


def extract_facts(path: Path, kind: str, mime: str) -> Facts:
    """Extracts facts from one file in this process; raises on damaged files.

    Args:
        path: the file.
        kind: its kind from :func:`app.kinds.detect`.
        mime: its mime type.

    Returns:
        The facts.

    Raises:
        Refused: the file is encrypted, a zip bomb, or otherwise not parsed.
        Exception: whatever the parser raises on a damaged file.
    """
    if kind == "image":
        return _image_facts(path)
    if kind in ("audio", "video"):
        return _media_facts(path)
    if mime == "application/pdf":
        return _pdf_facts(path)
    if "wordprocessingml" in mime or mime.startswith("application/vnd.ms-word."):
        return _docx_facts(path)
    return _package_facts(path, mime)


# --- audio and video -------------------------------------------------------


def open_media(path: Path) -> tuple[Any, Any]:
    """PyAV and the container at ``path`` (close it); :class:`Refused` if damaged.

    PyAV is imported by name: only workers load FFmpeg.
    """
    av: Any = importlib.import_module("av")
    try:
        return av, av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        # Its message names the file's path; the reason alone says what is wrong.
        raise Refused(f"the file is damaged ({exc.strerror or 'unreadable'})") from exc


def _media_facts(path: Path) -> Facts:
    """Duration, and a video's frame size, from the container's headers (no decoding)."""
    av, container = open_media(path)
    with container:
        duration = container.duration / 1_000_000 if container.duration else None
        video = next(
            (
                s
                for s in container.streams.video
                if not s.disposition & av.stream.Disposition.attached_pic
            ),
            None,
        )
        width = height = None
        if video is not None and video.codec_context.width:
            width, height = int(video.codec_context.width), int(video.codec_context.height)
        codecs = media_codecs(container, video)
    if duration is not None and not 0 <= duration < 1e9:
        duration = None
    return Facts(duration=duration, width=width, height=height, codecs=codecs or None)


# FFmpeg's codec names, as people know them.
_CODEC_NAMES = {
    "h264": "H.264",
    "hevc": "HEVC",
    "mpeg4": "MPEG-4",
    "mpeg2video": "MPEG-2",
    "mpeg1video": "MPEG-1",
    "vp8": "VP8",
    "vp9": "VP9",
    "av1": "AV1",
    "theora": "Theora",
    "mjpeg": "Motion JPEG",
    "prores": "ProRes",
    "aac": "AAC",
    "mp3": "MP3",
    "mp2": "MP2",
    "flac": "FLAC",
    "alac": "ALAC",
    "opus": "Opus",
    "vorbis": "Vorbis",
    "ac3": "AC-3",
    "eac3": "E-AC-3",
    "wavpack": "WavPack",
    "ape": "Monkey's Audio",
    "amrnb": "AMR",
    "amrwb": "AMR-WB",
}


def media_codecs(container: Any, video: Any) -> str:
    """``"H.264 video, AAC audio"``: the main video stream's codec and the audio codecs."""
    parts: list[str] = []
    if video is not None:
        parts.append(f"{_codec_name(video)} video")
    audio = []
    for stream in container.streams.audio:
        name = _codec_name(stream)
        if name not in audio:
            audio.append(name)
    parts.extend(f"{name} audio" for name in audio[:3])
    return ", ".join(parts)


def _codec_name(stream: Any) -> str:
    name = str(getattr(stream.codec_context, "name", "") or "unknown")
    if name.startswith("pcm_"):
        return "PCM"
    if name.startswith("wmav"):
        return "WMA"
    if name.startswith(("wmv", "msmpeg4")):
        return "WMV"
    if name.startswith(("rv", "cook")):
        return "RealMedia"
    return _CODEC_NAMES.get(name, name.upper())


# --- PDF -------------------------------------------------------------------


def load_pymupdf() -> Any:
    """PyMuPDF, imported lean and quiet for a worker that reads untrusted PDFs.

    PyMuPDF is only partly typed (Document is not even iterable to mypy): Any.
    """
    # `import pymupdf` also tries pymupdf.layout when pymupdf-layout is
    # installed, which pulls in onnxruntime and numpy: most of a second and
    # hundreds of MB of address space for layout analysis we do not use.
    # A None entry in sys.modules makes that optional import fail fast.
    sys.modules.setdefault("pymupdf.layout", None)  # type: ignore[arg-type]
    pymupdf: Any = importlib.import_module("pymupdf")
    # MuPDF reports every repair on stderr; damaged files are routine here.
    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    return pymupdf


def _pdf_facts(path: Path) -> Facts:
    pymupdf = load_pymupdf()
    try:
        document = pymupdf.open(path, filetype="pdf")
    except pymupdf.FileDataError as exc:
        raise Refused(f"the document is damaged ({brief(exc)})") from exc
    with document:
        if document.needs_pass:
            # Never prompt and never guess: an unreadable page count is no fact.
            return Facts(note=note("the file is encrypted"))
        pages = document.page_count
        parts: list[str] = []
        size = 0
        for page in document:
            text = page.get_text("text")
            parts.append(text)
            size += len(text)
            if size >= MAX_TEXT_CHARS:
                break  # the rest would be cut anyway; big books stay fast
        return Facts(text="\n".join(parts)[:MAX_TEXT_CHARS], pages=pages)


# --- images ----------------------------------------------------------------


def _image_facts(path: Path) -> Facts:
    from PIL import Image, UnidentifiedImageError

    # Image.open reads the header only; MAX_IMAGE_PIXELS stays at Pillow's
    # default so a header claiming gigapixels raises DecompressionBombError.
    from app.image_formats import open_image

    try:
        image = open_image(path)
    except Image.DecompressionBombError as exc:
        raise Refused("the image claims too many pixels to open safely") from exc
    except UnidentifiedImageError as exc:
        raise Refused("this image format is not supported, or the file is damaged") from exc
    with image:
        width, height = image.size
        try:
            exif = image.getexif()
        except Exception:  # broken EXIF must not cost us the size
            return Facts(width=width, height=height)
        if exif.get(_ORIENTATION) in (5, 6, 7, 8) and image.format != "TIFF":
            # Rotated a quarter turn: report the size the user sees. (Pillow's TIFF
            # reader applies the orientation itself and reports the turned size.)
            width, height = height, width
        camera = _camera(exif.get(_MAKE), exif.get(_MODEL))
        try:
            details = exif.get_ifd(_EXIF_IFD)
        except Exception:  # same: keep what we have
            details = {}
        taken_at = _exif_time(details.get(_DATETIME_ORIGINAL), details.get(_OFFSET_TIME_ORIGINAL))
        return Facts(width=width, height=height, taken_at=taken_at, camera=camera)


def _exif_str(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value.replace("\x00", "").strip() if isinstance(value, str) else ""


def _camera(make: Any, model: Any) -> str | None:
    make_s, model_s = _exif_str(make), _exif_str(model)
    # Many cameras repeat the make in the model ("Canon" + "Canon EOS 5D").
    if make_s and model_s.lower().startswith(make_s.split()[0].lower()):
        return model_s[:200]
    return " ".join(filter(None, [make_s, model_s]))[:200] or None


_OFFSET_RE = re.compile(r"^([+-])(\d\d):(\d\d)$")


def _exif_time(value: Any, offset: Any) -> datetime | None:
    text = _exif_str(value)
    try:
        taken = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None  # blank ("    :  :  "), zeroed or garbage dates are common
    match = _OFFSET_RE.match(_exif_str(offset))
    if match:
        sign = -1 if match.group(1) == "-" else 1
        delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        if delta < timedelta(hours=15):
            taken = taken.replace(tzinfo=timezone(sign * delta))
    return taken


# --- OOXML and ODF packages -------------------------------------------------


def open_package(path: Path) -> zipfile.ZipFile:
    """Opens a zip package after checking it cannot unpack to something huge."""
    with path.open("rb") as stream:
        magic = stream.read(8)
    if magic == _OLE2_MAGIC:
        # Encrypted OOXML is an OLE2 container holding the encrypted package.
        raise Refused("the file is encrypted")
    try:
        package = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise Refused("the document is damaged (not a valid zip package)") from exc
    members = package.infolist()
    total = sum(member.file_size for member in members)
    if len(members) > _MAX_MEMBERS or total > MAX_PACKAGE_BYTES:
        package.close()
        raise Refused("the document unpacks to more data than is safe to read")
    if total > _RATIO_FLOOR and total > _MAX_RATIO * max(1, path.stat().st_size):
        package.close()
        raise Refused("the document is compressed suspiciously well (a zip bomb?)")
    return package


def _etree() -> Any:
    # lxml ships no type stubs; going through importlib keeps mypy strict
    # without an ignore that would go stale once stubs are installed.
    return importlib.import_module("lxml.etree")


def _xml_parser() -> Any:
    etree = _etree()

    # No DTDs, no entity expansion, no network: XXE and billion laughs stay inert.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _docx_facts(path: Path) -> Facts:
    with open_package(path) as package:
        pages = _declared_pages(package)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except ValueError:
        # .docm and .dotx: python-docx refuses their content type, but the
        # body is the same WordprocessingML.
        return _package_facts(path, "application/vnd.ms-word.document")
    except (PackageNotFoundError, KeyError) as exc:
        raise Refused(f"the document is damaged ({brief(exc)})") from exc
    body = document.element.body
    text = _word_text(body)
    if pages is None:
        # Without Word's own count, explicit page breaks are the best cheap guess.
        pages = len(body.findall(f".//{_W}br[@{_W}type='page']")) + 1
    return Facts(text=text, pages=pages)


def _word_text(body: Any) -> str:
    # Every paragraph, including those in table cells, text boxes and content
    # controls, in document order. Only w:t text counts: deleted text
    # (w:delText) is not the document any more, and an unresolved entity
    # reference is a separate node, never part of .text.
    lines: list[str] = []
    size = 0
    for paragraph in body.iter(f"{_W}p"):
        parts = []
        for node in paragraph.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"):
            if node.tag == f"{_W}t":
                # Text after an unresolved entity is the tail of its node.
                parts.append((node.text or "") + "".join(c.tail or "" for c in node))
            else:
                parts.append("\t" if node.tag == f"{_W}tab" else "\n")
        line = "".join(parts)
        lines.append(line)
        size += len(line) + 1
        if size >= MAX_TEXT_CHARS:
            break
    return "\n".join(lines).strip()[:MAX_TEXT_CHARS]


def word_paragraphs(document_xml: bytes, limit: int) -> list[tuple[str, bool]]:
    """The first ``limit`` non-empty paragraphs of WordprocessingML ``document.xml``, each
    with whether its style is a heading or the title (parsed without DTDs or entities)."""
    root = _etree().fromstring(document_xml, _xml_parser())
    found: list[tuple[str, bool]] = []
    for paragraph in root.iter(f"{_W}p"):
        text = "".join(node.text or "" for node in paragraph.iter(f"{_W}t")).strip()
        if not text:
            continue
        style = paragraph.find(f"{_W}pPr/{_W}pStyle")
        name = (style.get(f"{_W}val") or "") if style is not None else ""
        found.append((text, name.lower().startswith(("heading", "title"))))
        if len(found) >= limit:
            break
    return found


def _declared_pages(package: zipfile.ZipFile) -> int | None:
    try:
        data = package.read("docProps/app.xml")
    except KeyError:
        return None
    etree = _etree()

    try:
        root = etree.fromstring(data, _xml_parser())
    except etree.XMLSyntaxError:
        return None
    for element in root:
        if isinstance(element.tag, str) and etree.QName(element).localname == "Pages":
            try:
                pages = int((element.text or "").strip())
            except ValueError:
                return None
            return pages if pages > 0 else None
    return None


def _slide_number(name: str) -> int:
    match = re.search(r"(\d+)\.xml$", name)
    return int(match.group(1)) if match else 0


def _package_facts(path: Path, mime: str) -> Facts:
    """Text of xlsx, pptx and ODF documents (and .docm/.dotx) straight from their XML."""
    etree = _etree()

    with open_package(path) as package:
        names = package.namelist()
        if "presentationml" in mime or "ms-powerpoint" in mime:
            parts = sorted(
                (n for n in names if re.fullmatch(r"ppt/slides/slide\d+\.xml", n)),
                key=_slide_number,
            )
        elif "spreadsheetml" in mime or "ms-excel" in mime:
            parts = ["xl/sharedStrings.xml"]
        elif "opendocument" in mime:
            manifest = (
                package.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in names else b""
            )
            if b"encryption-data" in manifest:
                raise Refused("the file is encrypted")
            parts = ["content.xml"]
        else:
            parts = ["word/document.xml"]
        lines: list[str] = []
        size = 0
        for name in parts:
            if name not in names or size >= MAX_TEXT_CHARS:
                continue
            try:
                root = etree.fromstring(package.read(name), _xml_parser())
            except etree.XMLSyntaxError as exc:
                raise Refused(f"the document is damaged ({brief(exc)})") from exc
            for line in _paragraphs(root):
                lines.append(line)
                size += len(line) + 1
                if size >= MAX_TEXT_CHARS:
                    break
    return Facts(text="\n".join(lines).strip()[:MAX_TEXT_CHARS])


def _paragraphs(root: Any) -> list[str]:
    etree = _etree()

    lines = []
    for element in root.iter(etree.Element):
        local = etree.QName(element).localname
        if local in ("p", "h", "si") and not _has_paragraph_ancestor(element):
            lines.append(_flow_text(element))
    return lines


def _has_paragraph_ancestor(element: Any) -> bool:
    etree = _etree()

    return any(etree.QName(a).localname in ("p", "h", "si") for a in element.iterancestors())


def _flow_text(element: Any) -> str:
    etree = _etree()

    # OOXML keeps text in <t> leaves (anything else is markup or properties);
    # ODF keeps it as mixed content. Entity nodes are skipped either way.
    namespace = etree.QName(element).namespace or ""
    if "openxmlformats" in namespace:
        return "".join(
            t.text or "" for t in element.iter(etree.Element) if etree.QName(t).localname == "t"
        )
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str):
            local = etree.QName(child).localname
            parts.append({"tab": "\t", "line-break": "\n", "s": " "}.get(local, ""))
            parts.append(_flow_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


if __name__ == "__main__":
    sys.exit(main())
