"""Word documents as HTML for the document viewer (``app.word_html``).

Real documents from the shared corpus are rendered in this process (the
handler is plain Python); hostile ones go through a real viewer worker pool,
where a crash or hang costs only a worker.
"""

from __future__ import annotations

import html as html_lib
import io
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.enum.text import WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Inches
from PIL import Image

from app import word_html
from app.viewer_jobs import VIEWER_TIMEOUT, viewer_pool
from app.workers import WorkerPool

ENCRYPTED = {"bug53475-password-is-pass.docx", "protected_agile.docx"}


def render(path: Path) -> tuple[dict[str, Any], str, bytes]:
    """The job's header, its HTML and the whole payload."""
    header, payload = word_html.handle({"job": "word.html", "path": str(path)})
    text = payload[: header.get("html_length", 0)].decode("utf-8") if header["ok"] else ""
    return header, text, payload


def plain(markup: str) -> str:
    """The text of our HTML, tags dropped and entities decoded."""
    return html_lib.unescape(re.sub(r"<[^>]*>", " ", markup))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("\xa0", " "))


def corpus_docx(corpus: Path) -> list[Path]:
    return sorted(p for p in (corpus / "office").glob("*.docx") if p.name not in ENCRYPTED)


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    """One real viewer worker, shared by the hostile-file tests."""
    workers = viewer_pool(workers=1)
    yield workers
    workers.close()


def make_docx(path: Path, build: Any) -> Path:
    """A .docx written by python-docx after ``build(document)``."""
    document = docx.Document()
    build(document)
    document.save(str(path))
    return path


def rewrite_member(source: Path, target: Path, name: str, data: bytes) -> Path:
    """A copy of the package ``source`` with member ``name`` replaced by ``data``."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, data if info.filename == name else old.read(info))
    return target


# --- real documents ---------------------------------------------------------


def in_order(pieces: list[str], shown: str) -> int:
    """Asserts every piece occurs in ``shown`` after the one before; returns the count."""
    position = 0
    for piece in pieces:
        found = shown.find(piece, position)
        assert found >= 0, (piece, shown[position : position + 200])
        position = found + len(piece)
    return len(pieces)


def run_texts(paragraph: Any) -> list[str]:
    """python-docx's text of a paragraph, run by run (text in smart tags and
    tracked insertions is between runs: python-docx leaves it out, we show it)."""
    return [text for item in paragraph.iter_inner_content() if (text := squeeze(item.text))]


def test_every_corpus_docx_has_the_words_of_its_paragraphs(corpus: Path) -> None:
    checked = 0
    for path in corpus_docx(corpus):
        header, markup, _ = render(path)
        assert header["ok"], (path.name, header)
        shown = squeeze(plain(markup))
        document = docx.Document(str(path))
        pieces: list[str] = []
        seen: set[Any] = set()
        for block in document.iter_inner_content():
            if isinstance(block, docx.table.Table):
                for row in block.rows:
                    for cell in row.cells:
                        # python-docx repeats a merged cell in every row and column it covers.
                        if cell._tc in seen:
                            continue
                        seen.add(cell._tc)
                        for paragraph in cell.paragraphs:
                            pieces.extend(run_texts(paragraph))
            else:
                pieces.extend(run_texts(block))
        checked += in_order(pieces, shown)
    assert checked > 500  # the corpus has plenty of text: the loop really compared


def test_tables_become_html_tables(corpus: Path) -> None:
    header, markup, _ = render(corpus / "office" / "tbl-having-tables.docx")
    assert header["ok"]
    assert markup.count("<table") == 3
    assert markup.count("<tr>") == 2 + 3 + 2
    _, markup, _ = render(corpus / "office" / "IllustrativeCases.docx")
    assert "<table" in markup and "Gross Income" in markup


def test_headings_become_h1_and_h2(corpus: Path) -> None:
    _, markup, _ = render(corpus / "office" / "drawing.docx")
    assert "<h1" in markup and "<h2" in markup
    _, markup, _ = render(corpus / "office" / "IllustrativeCases.docx")
    assert re.search(r"<h1[^>]*>\(V\) ILLUSTRATIVE CASES</h1>", markup)


def test_header_and_footer_of_the_first_section_frame_the_body(corpus: Path) -> None:
    _, markup, _ = render(corpus / "office" / "hdr-header-footer.docx")
    header_at = markup.index("Header for section-1")
    body_at = markup.index("section with header")
    footer_at = markup.index("Footer for section 1")
    assert header_at < body_at < footer_at
    assert markup.count('style="color:#808080; font-size:small"') == 2


def test_macro_documents_and_templates_render(corpus: Path) -> None:
    header, markup, _ = render(corpus / "office" / "SimpleMacro.docm")
    assert header["ok"] and "This is a macro word processing document" in markup
    header, markup, _ = render(corpus / "office" / "test.dotx")
    assert header["ok"] and "<p>Test</p>" in markup


def referenced_pictures(document: Any) -> dict[str, bytes]:
    """Picture parts the body and the first header reference: part name → bytes."""
    found: dict[str, bytes] = {}
    section = document.sections[0]
    sources = [(document.element.body, document.part)]
    if not section.header.is_linked_to_previous:
        sources.insert(0, (section.header._element, section.header.part))
    for element, part in sources:
        for blip in element.iter(qn("a:blip")):
            target = part.related_parts[blip.get(qn("r:embed"))]
            found.setdefault(str(target.partname), target.blob)
    return found


@pytest.mark.parametrize("name", ["having-images.docx", "VariousPictures.docx"])
def test_pictures_come_as_raw_pixels_of_the_right_size(corpus: Path, name: str) -> None:
    path = corpus / "office" / name
    header, markup, payload = render(path)
    expected: list[tuple[int, int]] = []
    shown_formats = {"PNG", "JPEG", "GIF", "BMP", "TIFF"}
    for blob in referenced_pictures(docx.Document(str(path))).values():
        with Image.open(io.BytesIO(blob)) as image:
            if image.format in shown_formats:  # WMF/EMF are not decoded
                image.thumbnail((word_html.MAX_IMAGE_SIDE, word_html.MAX_IMAGE_SIDE))
                expected.append(image.size)
    images = header["images"]
    assert [(i["width"], i["height"]) for i in images] == expected
    assert len(images) == {"having-images.docx": 3, "VariousPictures.docx": 2}[name]
    html_end = header["html_length"]
    for number, image in enumerate(images):
        channels = len(image["mode"])
        assert image["mode"] in ("RGB", "RGBA")
        assert image["length"] == image["width"] * image["height"] * channels
        assert image["offset"] >= html_end
        assert image["offset"] + image["length"] <= len(payload)
        assert f'src="docimg:{number}"' in markup
    assert not re.search(r'src="(?!docimg:\d+")', markup)


def test_unsupported_pictures_leave_a_placeholder(corpus: Path) -> None:
    _, markup, _ = render(corpus / "office" / "VariousPictures.docx")
    assert markup.count("[picture]") == 3  # one WMF and two EMF pictures


# --- what the HTML says, on documents made here -----------------------------------


def test_formatting_lists_breaks_and_escaping(tmp_path: Path) -> None:
    def build(document: Any) -> None:
        document.add_heading("Main title", level=1)
        document.add_heading("Second level", level=2)
        paragraph = document.add_paragraph()
        paragraph.add_run("bold").bold = True
        paragraph.add_run("italic").italic = True
        paragraph.add_run("under").underline = True
        run = paragraph.add_run("struck")
        run.font.strike = True
        run = paragraph.add_run("up")
        run.font.superscript = True
        run = paragraph.add_run("red")
        run.font.color.rgb = docx.shared.RGBColor(0xC0, 0x00, 0x00)
        run = paragraph.add_run("white")
        run.font.color.rgb = docx.shared.RGBColor(0xFF, 0xFF, 0xFF)
        document.add_paragraph("<script>alert(1)</script> & <b>not bold</b>")
        document.add_paragraph("first bullet", style="List Bullet")
        document.add_paragraph("inner bullet", style="List Bullet 2")
        document.add_paragraph("second bullet", style="List Bullet")
        document.add_paragraph("numbered", style="List Number")
        document.add_paragraph("after the lists").add_run().add_break(WD_BREAK.PAGE)
        document.add_paragraph("next page")

    header, markup, _ = render(make_docx(tmp_path / "made.docx", build))
    assert header["ok"] and not header["truncated"]
    assert "<h1>Main title</h1>" in markup and "<h2>Second level</h2>" in markup
    for snippet in ("<b>bold</b>", "<i>italic</i>", "<u>under</u>", "<s>struck</s>"):
        assert snippet in markup
    assert "<sup>up</sup>" in markup
    assert '<span style="color:#C00000">red</span>' in markup
    assert "white" in markup and "#FFFFFF" not in markup  # white ink on paper: dropped
    assert "<script" not in markup and "<b>not bold" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;not bold&lt;/b&gt;" in markup
    assert (
        "<ul><li>first bullet</li><ul><li>inner bullet</li></ul><li>second bullet</li></ul>"
        "<ol><li>numbered</li></ol>"
    ) in markup
    assert markup.index("after the lists") < markup.index("<hr>") < markup.index("next page")


def test_merged_cells_become_spans(tmp_path: Path) -> None:
    def build(document: Any) -> None:
        table = document.add_table(rows=3, cols=3)
        for r, row in enumerate(table.rows):
            for c, cell in enumerate(row.cells):
                cell.text = f"r{r}c{c}"
        table.cell(0, 0).merge(table.cell(0, 1))  # two columns
        table.cell(1, 2).merge(table.cell(2, 2))  # two rows

    _, markup, _ = render(make_docx(tmp_path / "spans.docx", build))
    assert 'colspan="2"' in markup
    assert 'rowspan="2"' in markup
    assert markup.count("<td") == 9 - 1 - 1


def test_big_pictures_are_scaled_down(tmp_path: Path) -> None:
    picture = tmp_path / "big.png"
    Image.new("RGB", (3200, 2000), (10, 200, 30)).save(picture)

    def build(document: Any) -> None:
        document.add_picture(str(picture), width=Inches(9))

    header, markup, payload = render(make_docx(tmp_path / "big.docx", build))
    (image,) = header["images"]
    assert (image["width"], image["height"]) == (1600, 1000)
    assert image["mode"] == "RGB"
    start = image["offset"]
    assert payload[start : start + 3] == bytes((10, 200, 30))
    width = int(re.search(r'width="(\d+)"', markup).group(1))  # type: ignore[union-attr]
    assert width == word_html.PAGE_WIDTH  # 9 inches do not fit a page: shown page-wide


def test_long_documents_are_cut_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def build(document: Any) -> None:
        for number in range(200):
            document.add_paragraph(f"paragraph number {number}")

    monkeypatch.setattr(word_html, "MAX_HTML_CHARS", 2000)
    header, markup, _ = render(make_docx(tmp_path / "long.docx", build))
    assert header["truncated"]
    assert markup.endswith("<p><i>… the rest is not shown.</i></p>")
    assert len(markup) < 2100
    assert "paragraph number 0" in markup and "paragraph number 199" not in markup


def test_title_comes_from_the_properties(tmp_path: Path) -> None:
    def build(document: Any) -> None:
        document.core_properties.title = "Quarterly <report>"
        document.add_paragraph("body")

    header, _, _ = render(make_docx(tmp_path / "titled.docx", build))
    assert header["title"] == "Quarterly <report>"  # plain text: the viewer escapes it


# --- hostile and broken files ---------------------------------------------------


def test_not_this_job() -> None:
    header, payload = word_html.handle({"job": "word.pages", "path": "/x"})
    assert not header["ok"] and payload == b""
    header, _ = word_html.handle({"job": "word.html"})
    assert header == {"ok": False, "reason": "the request names no file"}


def test_legacy_and_other_formats_are_refused_cleanly(corpus: Path) -> None:
    for name in ("SampleDoc.doc", "fixture.odt", "fixture.rtf", "fixture.xlsx", "fixture.pptx"):
        header, _, _ = render(corpus / "office" / name)
        assert not header["ok"], name
        assert header["reason"], name


def test_encrypted_documents_say_so(corpus: Path) -> None:
    for name in ENCRYPTED:
        header, _, _ = render(corpus / "office" / name)
        assert header == {"ok": False, "reason": "the file is encrypted"}


def test_broken_documents_end_with_a_reason_in_time(corpus: Path, pool: WorkerPool) -> None:
    broken = sorted((corpus / "broken").glob("*.docx"))
    assert len(broken) >= 5
    for path in broken:
        started = time.monotonic()
        header, payload = pool.run({"job": "word.html", "path": str(path)}, reader="Word reader")
        assert time.monotonic() - started < VIEWER_TIMEOUT, path.name
        if header["ok"]:  # some are only odd, not broken: then the HTML is sane
            assert header["html_length"] <= len(payload)
        else:
            assert isinstance(header["reason"], str) and header["reason"], path.name
            assert "Traceback" not in header["reason"]


def test_external_entity_is_not_resolved(corpus: Path, pool: WorkerPool) -> None:
    header, payload = pool.run(
        {"job": "word.html", "path": str(corpus / "broken" / "ExternalEntityInText.docx")}
    )
    assert header["ok"]
    markup = payload[: header["html_length"]].decode()
    assert "Here should not be the POI web site" in markup
    assert "<html" not in markup.lower() and "apache" not in markup.lower()


def test_entities_and_dtds_reach_no_file(tmp_path: Path, pool: WorkerPool) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY % leak SYSTEM "{secret.as_uri()}">')
    laughs = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10 if n else "ha"}">' for n in range(10))
    source = make_docx(tmp_path / "plain.docx", lambda d: d.add_paragraph("placeholder"))
    with zipfile.ZipFile(source) as package:
        xml = package.read("word/document.xml").decode()
    prolog_end = xml.index("?>") + 2
    doctype = (
        f'<!DOCTYPE w:document SYSTEM "{dtd.as_uri()}" ['
        f'<!ENTITY file SYSTEM "{secret.as_uri()}">{laughs}]>'
    )
    hostile = xml[:prolog_end] + doctype + xml[prolog_end:]
    hostile = hostile.replace("placeholder", "before &file; middle &l9; after")
    path = rewrite_member(source, tmp_path / "hostile.docx", "word/document.xml", hostile.encode())
    started = time.monotonic()
    header, payload = pool.run({"job": "word.html", "path": str(path)})
    assert time.monotonic() - started < 5
    text = payload.decode("utf-8", errors="replace")
    assert "TOP-SECRET" not in text
    assert "hahaha" not in text
    if header["ok"]:
        assert "before" in text and "after" in text


def test_zip_bomb_is_refused_quickly(tmp_path: Path) -> None:
    source = make_docx(tmp_path / "plain.docx", lambda d: d.add_paragraph("x"))
    bomb = tmp_path / "bomb.docx"
    chunk = b" " * (1 << 24)
    with (
        zipfile.ZipFile(source) as old,
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as new,
    ):
        for info in old.infolist():
            if info.filename == "word/document.xml":
                continue
            new.writestr(info.filename, old.read(info))
        with new.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(64):  # 1 GiB of spaces, under 5 MB compressed
                member.write(chunk)
    assert bomb.stat().st_size < 8 << 20
    started = time.monotonic()
    header, _, _ = render(bomb)
    assert time.monotonic() - started < 2
    assert header == {
        "ok": False,
        "reason": "the document unpacks to more data than is safe to read",
    }


def test_an_oversized_part_is_refused(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(word_html, "MAX_PART_BYTES", 1000)
    header, _, _ = render(corpus / "office" / "IllustrativeCases.docx")
    assert header == {"ok": False, "reason": "the document is too large to preview"}


def test_damaged_xml_is_a_damaged_document(tmp_path: Path) -> None:
    source = make_docx(tmp_path / "plain.docx", lambda d: d.add_paragraph("x"))
    path = rewrite_member(source, tmp_path / "bad.docx", "word/document.xml", b"<w:document")
    header, _, _ = render(path)
    assert not header["ok"]
    assert header["reason"].startswith("the document is damaged")


def test_text_boxes_are_shown_once(corpus: Path) -> None:
    _, markup, _ = render(corpus / "office" / "WordWithAttachments.docx")
    assert plain(markup).count("Словарь") == 1
