"""Word documents as simple HTML, for the preview pane's document viewer.

Runs in a viewer worker (:mod:`app.viewer_jobs`), job ``"word.html"``
``{"path"}``: a .docx (or .docm, .dotx, .dotm: the same package format) is
opened with python-docx and its body walked in document order into the
subset of HTML that Qt's ``QTextDocument`` understands: headings,
paragraphs, bold/italic/underline/strike, super- and subscript, font colour,
nested lists, tables with borders and cell spans, pictures and page breaks
(as ``<hr>``). The first section's header and footer frame the body, small
and grey.

Nothing of the document's own markup passes through: every text is escaped
and every tag and attribute here is written by this module. Pictures are
decoded with Pillow here in the worker (the thumbnailer's allow-list of
formats, its bomb guard), scaled to at most :data:`MAX_IMAGE_SIDE` pixels and
sent as raw RGB/RGBA pixels after the HTML; the HTML names them
``docimg:N`` and the viewer adds them as resources.

The answer's header: ``ok``, ``html_length`` (UTF-8 bytes of HTML at the
start of the payload), ``images`` (``[{offset, length, width, height,
stride, mode}]``, offsets into the payload, ``docimg:N`` is entry N),
``truncated`` (the HTML was cut at :data:`MAX_HTML_CHARS`) and ``title``.

Safety: the package's zip directory is checked before python-docx reads it
(:func:`app.extract_worker.open_package`), no part may unpack to more
than :data:`MAX_PART_BYTES`, and python-docx's lxml parser neither loads
DTDs nor resolves entities (checked by the tests with a hostile file). No
Qt here.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.extract_worker import Refused, open_package
from app.processes import brief
from app.workers import damaged

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.opc.part import Part

MAX_PART_BYTES = 64 << 20
"""The most one part of the package (word/document.xml, a picture…) may unpack to."""

MAX_HTML_CHARS = 8 << 20
"""The HTML is cut after this many characters, with a note that the rest is not shown."""

MAX_IMAGE_SIDE = 1600
"""Pictures are scaled down to at most this many pixels on their longer side."""

MAX_IMAGES = 200
"""Pictures after this many are left out (a placeholder says so)."""

MAX_IMAGE_BYTES = 256 << 20
"""The most raw pixel bytes sent for all pictures together."""

MAX_IMAGE_PIXELS = 64_000_000
"""A picture claiming more pixels than this is not decoded (a decompression bomb)."""

PAGE_WIDTH = 640
"""Pixels a picture is at most shown wide: a page's text width at 96 dpi."""

_MAX_DEPTH = 12  # tables in tables in …: deeper ones are flattened to their text
_EMU_PER_PIXEL = 9525  # English Metric Units per pixel at 96 dpi
_TRUNCATED_NOTE = "<p><i>… the rest is not shown.</i></p>"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
_V = "{urn:schemas-microsoft-com:vml}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"

# Elements of a paragraph whose runs are part of its text; w:del (deleted
# text), w:pPr and field instructions are not.
_RUN_CONTAINERS = frozenset(
    _W + name
    for name in ("hyperlink", "ins", "smartTag", "fldSimple", "sdt", "sdtContent", "customXml")
)
_BLOCK_CONTAINERS = frozenset(_W + name for name in ("sdt", "sdtContent", "customXml"))

# python-docx knows only .docx's main part; the macro-enabled and template
# variants carry the same WordprocessingML under another content type.
_MAIN_CONTENT_TYPES = (
    "application/vnd.ms-word.document.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
)


class _Full(Exception):
    """The HTML reached :data:`MAX_HTML_CHARS`."""


@dataclass
class _Picture:
    mode: str
    width: int
    height: int
    pixels: bytes


@dataclass
class _Output:
    """The HTML being written, with its size cap, and the pictures it names."""

    parts: list[str] = field(default_factory=list)
    size: int = 0
    pictures: list[_Picture] = field(default_factory=list)
    picture_bytes: int = 0
    # picture part name → docimg index, or None when it cannot be shown
    picture_index: dict[str, int | None] = field(default_factory=dict)
    styles: dict[str, str] = field(default_factory=dict)  # style id → name
    numbering: Any = None  # the w:numbering element, if any
    numbered: dict[tuple[str, int], bool] = field(default_factory=dict)  # (numId, level)

    def write(self, text: str) -> None:
        if self.size + len(text) > MAX_HTML_CHARS:
            raise _Full
        self.parts.append(text)
        self.size += len(text)


def handle(request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """The ``"word.html"`` job (:data:`app.workers.Handler`); runs in a viewer worker."""
    if request.get("job") != "word.html":
        return {"ok": False, "reason": f"unknown job {request.get('job')!r}"}, b""
    path = request.get("path")
    if not isinstance(path, str):
        return {"ok": False, "reason": "the request names no file"}, b""
    try:
        return render(Path(path))
    except Refused as exc:
        return {"ok": False, "reason": str(exc)}, b""
    except MemoryError:
        raise  # the worker answers it and restarts
    except Exception as exc:  # python-docx, lxml and zipfile errors all mean a damaged file
        return damaged("document", exc), b""


def render(path: Path) -> tuple[dict[str, Any], bytes]:
    """The document at ``path`` as the job's answer (header, payload).

    Raises:
        Refused: the package is unsafe to open (too big, a zip bomb, encrypted).
        Exception: python-docx or lxml found the document damaged.
    """
    _check_package(path)
    document = _open_document(path)
    out = _Output()
    truncated = False
    try:
        _write_document(document, out)
    except _Full:
        truncated = True
        out.parts.append(_TRUNCATED_NOTE)
    html_bytes = "".join(out.parts).encode("utf-8")
    images: list[dict[str, Any]] = []
    chunks = [html_bytes]
    offset = len(html_bytes)
    for picture in out.pictures:
        channels = len(picture.mode)
        images.append(
            {
                "offset": offset,
                "length": len(picture.pixels),
                "width": picture.width,
                "height": picture.height,
                "stride": picture.width * channels,
                "mode": picture.mode,
            }
        )
        chunks.append(picture.pixels)
        offset += len(picture.pixels)
    header = {
        "ok": True,
        "html_length": len(html_bytes),
        "images": images,
        "truncated": truncated,
        "title": _title(document),
    }
    return header, b"".join(chunks)


# --- opening ----------------------------------------------------------------


def _check_package(path: Path) -> None:
    with open_package(path) as package:
        for member in package.infolist():
            # Any name can hold XML (the main part's name comes from a relationship).
            if member.file_size > MAX_PART_BYTES:
                raise Refused("the document is too large to preview")
        try:
            package.getinfo("[Content_Types].xml")
        except KeyError:
            raise Refused("the document is damaged (not a Word package)") from None


def _open_document(path: Path) -> DocxDocument:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.opc.part import PartFactory
    from docx.package import Package
    from docx.parts.document import DocumentPart

    try:
        return docx.Document(str(path))
    except ValueError:
        pass  # .docm/.dotx: the main part has another content type, see below
    except (PackageNotFoundError, KeyError, zipfile.BadZipFile) as exc:
        raise Refused(f"the document is damaged ({brief(exc)})") from exc
    # python-docx's documented extension point: which class reads a content type.
    for content_type in _MAIN_CONTENT_TYPES:
        PartFactory.part_type_for.setdefault(content_type, DocumentPart)
    part = Package.open(str(path)).main_document_part
    if not isinstance(part, DocumentPart):
        raise Refused("this is not a Word document")
    document: DocxDocument = part.document
    return document


def _title(document: DocxDocument) -> str:
    try:
        title = document.core_properties.title or ""
    except Exception:  # a damaged docProps/core.xml costs the title, not the document
        title = ""
    return _clean(title).strip()[:300]


# --- writing ------------------------------------------------------------------


def _write_document(document: DocxDocument, out: _Output) -> None:
    try:
        out.styles = {s.style_id: s.name for s in document.styles if s.style_id and s.name}
    except Exception:  # no or damaged styles part: ids often are the names ("Heading1")
        out.styles = {}
    try:
        out.numbering = document.part.numbering_part.element
    except Exception:  # no numbering part: lists show as bullets
        out.numbering = None
    header_part = footer_part = None
    try:
        section = document.sections[0] if len(document.sections) else None
        if section is not None:
            header_part, footer_part = _header_footer(section)
    except Exception:  # a damaged header part must not cost the body
        header_part = footer_part = None
    if header_part is not None:
        _write_margin(header_part, out, above=True)
    _write_blocks(document.element.body, document.part, out, depth=0)
    if footer_part is not None:
        _write_margin(footer_part, out, above=False)


def _header_footer(section: Any) -> tuple[Part | None, Part | None]:
    found: list[Part | None] = []
    for primary, first in (
        (section.header, section.first_page_header),
        (section.footer, section.first_page_footer),
    ):
        # The first page's own header is what a reader sees on page one.
        chosen = first if section.different_first_page_header_footer else primary
        found.append(None if chosen.is_linked_to_previous else chosen.part)
    return found[0], found[1]


def _write_margin(part: Part, out: _Output, *, above: bool) -> None:
    inner = _Output(
        pictures=out.pictures,
        picture_index=out.picture_index,
        styles=out.styles,
        numbering=out.numbering,
        numbered=out.numbered,
    )
    inner.picture_bytes = out.picture_bytes
    _write_blocks(part.element, part, inner, depth=0)  # type: ignore[attr-defined]
    out.picture_bytes = inner.picture_bytes
    text = "".join(inner.parts)
    if not _has_content(text):
        return
    box = f'<div style="color:#808080; font-size:small">{text}</div>'
    out.write(box + "<hr>" if above else "<hr>" + box)


def _has_content(markup: str) -> bool:
    return "<img" in markup or bool(re.sub(r"<[^>]*>|&nbsp;|\s", "", markup))


def _write_blocks(container: Any, part: Part, out: _Output, depth: int) -> None:
    """Paragraphs and tables of a body, cell, header or content control, in order."""
    lists: list[str] = []  # the open list tags, outermost first
    for child in container.iterchildren():
        tag = child.tag
        if tag == f"{_W}p":
            _write_paragraph(child, part, out, lists, depth)
        elif tag == f"{_W}tbl":
            _close_lists(lists, 0, out)
            if depth < _MAX_DEPTH:
                _write_table(child, part, out, depth + 1)
            else:
                out.write(f"<p>{_escape(_plain_text(child))}</p>")
        elif tag in _BLOCK_CONTAINERS:
            _close_lists(lists, 0, out)
            if depth < _MAX_DEPTH:
                _write_blocks(child, part, out, depth + 1)
    _close_lists(lists, 0, out)


def _close_lists(lists: list[str], keep: int, out: _Output) -> None:
    while len(lists) > keep:
        out.write(f"</{lists.pop()}>")


def _write_paragraph(p: Any, part: Part, out: _Output, lists: list[str], depth: int) -> None:
    style = _style_name(p, out)
    page_break_before = _on(p.find(f"{_W}pPr/{_W}pageBreakBefore"))
    content, page_break_after, text_boxes = _runs_html(p, part, out)
    level, ordered = _list_level(p, out, style)
    if level is None:
        _close_lists(lists, 0, out)
    if page_break_before:
        out.write("<hr>")
    if level is not None:
        tag = "ol" if ordered else "ul"
        _close_lists(lists, level + 1, out)
        if len(lists) == level + 1 and lists[-1] != tag:
            _close_lists(lists, level, out)
        while len(lists) < level + 1:
            lists.append(tag)
            out.write(f"<{tag}>")
        out.write(f"<li>{content}</li>")
    else:
        heading = _heading_level(style)
        tag = f"h{heading}" if heading else "p"
        align = _alignment(p)
        attributes = f' align="{align}"' if align else ""
        out.write(f"<{tag}{attributes}>{content}</{tag}>")
    if text_boxes and depth < _MAX_DEPTH:
        # A text box floats somewhere near its paragraph: shown framed, after it.
        _close_lists(lists, 0, out)
        for box in text_boxes:
            out.write('<table border="1" cellspacing="0" cellpadding="6"><tr><td>')
            _write_blocks(box, part, out, depth + 1)
            out.write("</td></tr></table>")
    if page_break_after:
        _close_lists(lists, 0, out)
        out.write("<hr>")


def _style_name(p: Any, out: _Output) -> str:
    style_id = _val(p.find(f"{_W}pPr/{_W}pStyle"))
    if not style_id:
        return ""
    return out.styles.get(style_id, style_id)


_HEADING = re.compile(r"^heading\s*([1-9])$")


def _heading_level(style: str) -> int:
    name = style.strip().lower()
    if name == "title":
        return 1
    if name == "subtitle":
        return 2
    match = _HEADING.match(name)
    return min(6, int(match.group(1))) if match else 0


def _alignment(p: Any) -> str:
    jc = p.find(f"{_W}pPr/{_W}jc")
    value = jc.get(f"{_W}val") if jc is not None else None
    return {
        "center": "center",
        "right": "right",
        "end": "right",
        "both": "justify",
        "distribute": "justify",
    }.get(value or "", "")


def _list_level(p: Any, out: _Output, style: str) -> tuple[int | None, bool]:
    """The paragraph's list level (0 = outermost) and whether it is numbered."""
    num_pr = p.find(f"{_W}pPr/{_W}numPr")
    if num_pr is not None:
        num_id = _val(num_pr.find(f"{_W}numId"))
        level = _int(_val(num_pr.find(f"{_W}ilvl")), 0)
        if num_id is not None and num_id != "0":  # numId 0 switches numbering off
            key = (num_id, level)
            if key not in out.numbered:
                out.numbered[key] = _numbered(out.numbering, num_id, level)
            return min(max(level, 0), 8), out.numbered[key]
    name = style.lower()
    if name.startswith("list bullet"):
        return _style_list_level(name), False
    if name.startswith("list number"):
        return _style_list_level(name), True
    return None, False


def _style_list_level(name: str) -> int:
    digits = name.rsplit(" ", 1)[-1]
    return min(8, int(digits) - 1) if digits.isdigit() and int(digits) > 0 else 0


def _numbered(numbering: Any, num_id: str, level: int) -> bool:
    if numbering is None:
        return False  # bullets are the safer guess
    for num in numbering.iterchildren(f"{_W}num"):
        if num.get(f"{_W}numId") != num_id:
            continue
        abstract_id = _val(num.find(f"{_W}abstractNumId"))
        for abstract in numbering.iterchildren(f"{_W}abstractNum"):
            if abstract.get(f"{_W}abstractNumId") != abstract_id:
                continue
            for lvl in abstract.iterchildren(f"{_W}lvl"):
                if lvl.get(f"{_W}ilvl") == str(level):
                    fmt = _val(lvl.find(f"{_W}numFmt"))
                    return fmt not in (None, "bullet", "none")
    return False


def _runs_html(p: Any, part: Part, out: _Output) -> tuple[str, bool, list[Any]]:
    """The paragraph's content as HTML, whether a page break ends it, and its text boxes."""
    pieces: list[str] = []
    text_boxes: list[Any] = []
    page_break = False

    def walk(element: Any) -> None:
        nonlocal page_break
        for child in element.iterchildren():
            tag = child.tag
            if tag == f"{_W}r":
                text, broke = _run_html(child, part, out, text_boxes)
                pieces.append(text)
                page_break = page_break or broke
            elif tag in _RUN_CONTAINERS:
                walk(child)

    walk(p)
    return "".join(pieces), page_break, text_boxes


def _run_html(r: Any, part: Part, out: _Output, text_boxes: list[Any]) -> tuple[str, bool]:
    pieces: list[str] = []
    page_break = False
    for child in r.iterchildren():
        tag = child.tag
        if tag == f"{_W}t":
            # An unresolved entity reference is a child node; the text after it is its tail.
            text = (child.text or "") + "".join(node.tail or "" for node in child)
            pieces.append(_escape(text))
        elif tag == f"{_W}tab":
            pieces.append("&nbsp;&nbsp;&nbsp;&nbsp;")
        elif tag in (f"{_W}br", f"{_W}cr"):
            if child.get(f"{_W}type") == "page":
                page_break = True
            else:
                pieces.append("<br>")
        elif tag == f"{_W}noBreakHyphen":
            pieces.append("-")
        elif tag in (f"{_W}drawing", f"{_W}pict", f"{_W}object", f"{_MC}AlternateContent"):
            shape = _chosen(child)
            pieces.append(_pictures_html(shape, part, out))
            text_boxes.extend(_outside_text_boxes(shape, f"{_W}txbxContent"))
    text = "".join(pieces)
    if not text:
        return "", page_break
    return _formatted(r, text), page_break


def _chosen(element: Any) -> Any:
    """The one branch of an mc:AlternateContent shown (the same shape twice otherwise)."""
    if element.tag != f"{_MC}AlternateContent":
        return element
    for branch in element.iterchildren(f"{_MC}Choice", f"{_MC}Fallback"):
        return branch
    return element


def _outside_text_boxes(element: Any, *tags: str) -> list[Any]:
    """Descendants with one of ``tags`` that are not inside a text box within ``element``."""
    found = []
    for node in element.iter(*tags):
        inside = False
        for ancestor in node.iterancestors():
            if ancestor is element:
                break
            if ancestor.tag == f"{_W}txbxContent":
                inside = True
                break
        if not inside:
            found.append(node)
    return found


def _formatted(r: Any, text: str) -> str:
    rpr = r.find(f"{_W}rPr")
    if rpr is None:
        return text
    opening: list[str] = []
    closing: list[str] = []

    def wrap(start: str, end: str) -> None:
        opening.append(start)
        closing.insert(0, end)

    color = _color(rpr.find(f"{_W}color"))
    if color:
        wrap(f'<span style="color:#{color}">', "</span>")
    if _on(rpr.find(f"{_W}b")):
        wrap("<b>", "</b>")
    if _on(rpr.find(f"{_W}i")):
        wrap("<i>", "</i>")
    underline = rpr.find(f"{_W}u")
    if underline is not None and underline.get(f"{_W}val", "single") != "none":
        wrap("<u>", "</u>")
    if _on(rpr.find(f"{_W}strike")) or _on(rpr.find(f"{_W}dstrike")):
        wrap("<s>", "</s>")
    vertical = _val(rpr.find(f"{_W}vertAlign"))
    if vertical == "superscript":
        wrap("<sup>", "</sup>")
    elif vertical == "subscript":
        wrap("<sub>", "</sub>")
    return "".join(opening) + text + "".join(closing)


_HEX_COLOR = re.compile(r"^[0-9A-Fa-f]{6}$")


def _color(element: Any) -> str:
    """A run's colour as six hex digits, or "" for automatic or one too pale to read."""
    value = _val(element)
    if not value or not _HEX_COLOR.match(value):
        return ""
    red, green, blue = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    # White-on-dark text in a shaded cell would vanish on the white page.
    if 0.299 * red + 0.587 * green + 0.114 * blue > 200:
        return ""
    return value.upper()


def _on(element: Any) -> bool:
    """A toggle property (<w:b/>, <w:b w:val="false"/>) is set."""
    if element is None:
        return False
    return element.get(f"{_W}val", "true").lower() not in ("0", "false", "off", "none")


def _val(element: Any) -> str | None:
    if element is None:
        return None
    value = element.get(f"{_W}val")
    return str(value) if value is not None else None


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


# --- tables -------------------------------------------------------------------


@dataclass
class _Cell:
    element: Any
    column: int
    span: int
    merge: str | None  # "restart", "continue" or None (not vertically merged)
    rows: int = 1


def _write_table(tbl: Any, part: Part, out: _Output, depth: int) -> None:
    grid = _table_grid(tbl)
    out.write(
        '<table border="1" cellspacing="0" cellpadding="4" width="100%" style="border-collapse:collapse">'
    )
    for row in grid:
        out.write("<tr>")
        for cell in row:
            if cell.merge == "continue":
                continue
            attributes = ""
            if cell.span > 1:
                attributes += f' colspan="{cell.span}"'
            if cell.rows > 1:
                attributes += f' rowspan="{cell.rows}"'
            out.write(f'<td valign="top"{attributes}>')
            _write_blocks(cell.element, part, out, depth)
            out.write("</td>")
        out.write("</tr>")
    out.write("</table>")


def _table_grid(tbl: Any) -> list[list[_Cell]]:
    """The table's cells with their column, column span and row span."""
    grid: list[list[_Cell]] = []
    above: dict[int, _Cell] = {}  # column → the cell a vertical merge continues
    for tr in tbl.iterchildren(f"{_W}tr"):
        row: list[_Cell] = []
        column = 0
        for tc in _row_cells(tr):
            span = max(1, min(_int(_val(tc.find(f"{_W}tcPr/{_W}gridSpan")), 1), 64))
            merge_element = tc.find(f"{_W}tcPr/{_W}vMerge")
            merge = None
            if merge_element is not None:
                merge = "restart" if _val(merge_element) == "restart" else "continue"
            cell = _Cell(tc, column, span, merge)
            if merge == "continue":
                start = above.get(column)
                if start is None:
                    cell.merge = None  # nothing to continue: show it as a cell of its own
                else:
                    start.rows += 1
            if cell.merge != "continue":
                above[column] = cell
            row.append(cell)
            column += span
        grid.append(row)
    return grid


def _row_cells(tr: Any) -> list[Any]:
    cells: list[Any] = []
    for child in tr.iterchildren():
        if child.tag == f"{_W}tc":
            cells.append(child)
        elif child.tag in _BLOCK_CONTAINERS:  # cells inside a content control
            cells.extend(child.iter(f"{_W}tc"))
    return cells


def _plain_text(element: Any) -> str:
    return " ".join("".join(t.text or "" for t in p.iter(f"{_W}t")) for p in element.iter(f"{_W}p"))


# --- pictures -------------------------------------------------------------------


def _pictures_html(element: Any, part: Part, out: _Output) -> str:
    """The pictures of a w:drawing (DrawingML) or w:pict (VML) element."""
    pieces: list[str] = []
    references: list[tuple[str, int | None, int | None]] = []
    extent = element.find(f".//{_WP}extent")
    width = _int(extent.get("cx"), 0) // _EMU_PER_PIXEL if extent is not None else None
    height = _int(extent.get("cy"), 0) // _EMU_PER_PIXEL if extent is not None else None
    for blip in _outside_text_boxes(element, f"{_A}blip"):
        reference = blip.get(f"{_R}embed")
        if reference:
            references.append((reference, width, height))
    for image_data in _outside_text_boxes(element, f"{_V}imagedata"):
        reference = image_data.get(f"{_R}id")
        if reference:
            references.append((reference, None, None))
    for reference, shown_width, shown_height in references:
        index = _picture(part, reference, out)
        if index is None:
            pieces.append('<span style="color:#808080">[picture]</span>')
            continue
        picture = out.pictures[index]
        pieces.append(_img_tag(index, picture, shown_width, shown_height))
    return "".join(pieces)


def _img_tag(index: int, picture: _Picture, width: int | None, height: int | None) -> str:
    if not width or not height or width <= 0 or height <= 0:
        width, height = picture.width, picture.height
    if width > PAGE_WIDTH:
        height = max(1, height * PAGE_WIDTH // width)
        width = PAGE_WIDTH
    return f'<img src="docimg:{index}" width="{width}" height="{height}">'


def _picture(part: Part, reference: str, out: _Output) -> int | None:
    """The docimg index of the picture ``reference`` names in ``part``; None if not shown."""
    try:
        target = part.related_parts[reference]
    except KeyError:  # a dangling reference: a placeholder
        return None
    key = str(target.partname)  # the same picture in the header and the body is sent once
    if key in out.picture_index:
        return out.picture_index[key]
    index: int | None = None
    if len(out.pictures) < MAX_IMAGES:
        picture = decode_picture(target.blob)
        if picture is not None and out.picture_bytes + len(picture.pixels) <= MAX_IMAGE_BYTES:
            index = len(out.pictures)
            out.pictures.append(picture)
            out.picture_bytes += len(picture.pixels)
    out.picture_index[key] = index
    return index


def decode_picture(data: bytes) -> _Picture | None:
    """A picture's pixels scaled to :data:`MAX_IMAGE_SIDE`, or None when it is not shown.

    None for formats outside the allow-list (EMF, WMF, SVG are common in Word
    documents), damaged pictures and pictures claiming too many pixels.
    """
    from PIL import Image, UnidentifiedImageError

    from app.image_formats import open_image
    from app.thumbnails import Unreadable, render_image

    try:
        # The header alone says how big it claims to be; a bomb is not decoded.
        with open_image(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                return None
        mode, width, height, pixels = render_image(io.BytesIO(data), MAX_IMAGE_SIDE)
    except (Unreadable, UnidentifiedImageError, Image.DecompressionBombError, OSError):
        return None
    except (ValueError, SyntaxError, EOFError):  # Pillow's "damaged" errors
        return None
    return _Picture(mode, width, height, pixels)


# --- text -----------------------------------------------------------------------


def _clean(text: str) -> str:
    return _CONTROL.sub("", text)


def _escape(text: str) -> str:
    return html.escape(_clean(text), quote=True)
