"""The PDF viewer's jobs, answered by a real viewer worker on real corpus files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import pdf_pages
from app.viewer_jobs import viewer_pool
from app.workers import WorkerPool


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    """One viewer worker for the module: starting an interpreter costs a second."""
    workers = viewer_pool(workers=1)
    yield workers
    workers.close()


def ask(pool: WorkerPool, **request: Any) -> tuple[dict[str, Any], bytes]:
    return pool.run(request, reader="PDF reader")


@pytest.mark.parametrize(
    ("name", "pages"),
    [("pdflatex-4-pages.pdf", 4), ("GeoTopo-komprimiert.pdf", 117), ("mupdf_explored.pdf", 285)],
)
def test_open_counts_pages_and_sizes(pool: WorkerPool, corpus: Path, name: str, pages: int) -> None:
    header, payload = ask(pool, job="pdf.open", path=str(corpus / "pdf" / name))
    assert header["ok"] and not header["needs_password"]
    assert header["page_count"] == pages
    assert len(header["sizes"]) == pages
    assert payload == b""
    width, height = header["sizes"][0]
    assert 500 < width < 650 and 780 < height < 850  # A4 or US Letter, portrait


def test_open_reads_the_title(pool: WorkerPool, corpus: Path) -> None:
    path = corpus / "pdf" / "GeoTopo-komprimiert.pdf"
    header, _ = ask(pool, job="pdf.open", path=str(path))
    assert header["title"] == "Geometrie und Topologie"


def test_sizes_follow_the_rotation(pool: WorkerPool, corpus: Path) -> None:
    header, _ = ask(pool, job="pdf.open", path=str(corpus / "pdf" / "habibi-rotated.pdf"))
    sizes = header["sizes"]
    assert sizes[0][0] > sizes[0][1]  # /Rotate 90: landscape on screen
    assert sizes[1][0] < sizes[1][1]  # /Rotate 180: still portrait


def test_open_lists_at_most_max_sizes(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # In this process: the cap is a module constant the worker cannot be told.
    monkeypatch.setattr(pdf_pages, "MAX_SIZES", 10)
    header, _ = pdf_pages.handle(
        {"job": "pdf.open", "path": str(corpus / "pdf" / "GeoTopo-komprimiert.pdf")}
    )
    assert header["page_count"] == 117
    assert len(header["sizes"]) == 10
    pdf_pages.forget()


def test_page_pixels_have_the_asked_size(pool: WorkerPool, corpus: Path) -> None:
    path = str(corpus / "pdf" / "pdflatex-4-pages.pdf")
    header, pixels = ask(pool, job="pdf.page", path=path, page=3, zoom=0.5)
    assert header["ok"], header
    width, height, stride = header["width"], header["height"], header["stride"]
    assert (width, height) == (round(595.276 * 0.5), round(841.89 * 0.5))
    assert stride >= width * 3
    assert len(pixels) == stride * height
    assert set(pixels[:stride]) != {0}  # paper, not an empty buffer


def test_page_zoom_is_capped_by_pixels(pool: WorkerPool, corpus: Path) -> None:
    # A 3024 × 2160 pt drawing at 10 pixels per point would be 650 MP.
    path = str(corpus / "pdf" / "test_3569.pdf")
    header, pixels = ask(pool, job="pdf.page", path=path, page=0, zoom=10.0)
    assert header["ok"], header
    assert header["width"] * header["height"] <= pdf_pages.MAX_PIXELS
    assert header["zoom"] < 10.0
    assert len(pixels) == header["stride"] * header["height"]


def test_page_out_of_range_is_refused(pool: WorkerPool, corpus: Path) -> None:
    path = str(corpus / "pdf" / "pdflatex-4-pages.pdf")
    header, _ = ask(pool, job="pdf.page", path=path, page=4, zoom=1.0)
    assert not header["ok"]
    assert "no page" in header["reason"]


def test_find_answers_pages_and_rectangles(pool: WorkerPool, corpus: Path) -> None:
    path = str(corpus / "pdf" / "GeoTopo-komprimiert.pdf")
    header, _ = ask(pool, job="pdf.find", path=path, query="Topologie", max_hits=100)
    assert header["ok"] and not header["partial"]
    hits = header["hits"]
    assert len(hits) > 10
    assert hits[0][0] == 0  # on the title page
    pages = [page for page, _ in hits]
    assert pages == sorted(pages)
    assert len(set(pages)) > 3
    for _, (x0, y0, x1, y1) in hits:
        assert 0 <= x0 < x1 <= 596 and 0 <= y0 < y1 <= 842


def test_find_in_a_later_page(pool: WorkerPool, corpus: Path) -> None:
    path = str(corpus / "pdf" / "pdflatex-4-pages.pdf")
    header, _ = ask(pool, job="pdf.find", path=path, query="Huardest gefburn")
    assert header["ok"]
    assert {page for page, _ in header["hits"]} == {0, 1, 2, 3}  # the blind text repeats


def test_find_hits_are_on_the_rotated_page(pool: WorkerPool, corpus: Path) -> None:
    path = str(corpus / "pdf" / "habibi-rotated.pdf")
    opened, _ = ask(pool, job="pdf.open", path=path)
    header, _ = ask(pool, job="pdf.find", path=path, query="habibi")
    for page, (x0, y0, x1, y1) in header["hits"]:
        width, height = opened["sizes"][page]
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height


def test_find_stops_at_max_hits(pool: WorkerPool, corpus: Path) -> None:
    path = str(corpus / "pdf" / "mupdf_explored.pdf")
    header, _ = ask(pool, job="pdf.find", path=path, query="the", max_hits=50)
    assert len(header["hits"]) == 50
    assert header["partial"] is True


def test_find_with_nothing_to_find(pool: WorkerPool, corpus: Path) -> None:
    path = str(corpus / "pdf" / "pdflatex-4-pages.pdf")
    header, _ = ask(pool, job="pdf.find", path=path, query="zqxjv-no-such-word")
    assert header == {"ok": True, "hits": [], "partial": False}


@pytest.mark.parametrize(
    ("name", "password"),
    [
        ("r6-user-password.pdf", "asdfzxcv"),
        ("r2-user-password.pdf", "asdfzxcv"),
        ("r4-aes-user-password.pdf", "asdfzxcv"),
        ("encrypted-file.pdf", "test"),
        ("crazyones-encrypted-256.pdf", "password"),
        ("libreoffice-writer-password.pdf", "openpassword"),
    ],
)
def test_password_flow(pool: WorkerPool, corpus: Path, name: str, password: str) -> None:
    path = str(corpus / "pdf" / name)
    locked, _ = ask(pool, job="pdf.open", path=path)
    assert locked["ok"] and locked["needs_password"] and not locked["password_wrong"]
    assert locked["page_count"] == 0

    wrong, _ = ask(pool, job="pdf.open", path=path, password="not-it")
    assert wrong["needs_password"] and wrong["password_wrong"]
    assert wrong["reason"] == "the password is wrong"

    page, _ = ask(pool, job="pdf.page", path=path, page=0, zoom=0.2)
    assert not page["ok"] and page["needs_password"]

    opened, _ = ask(pool, job="pdf.open", path=path, password=password)
    assert opened["ok"] and not opened["needs_password"]
    assert opened["page_count"] >= 1
    page, pixels = ask(pool, job="pdf.page", path=path, password=password, page=0, zoom=0.2)
    assert page["ok"] and len(pixels) == page["stride"] * page["height"]


@pytest.mark.parametrize("name", ["r4-owner-password.pdf", "r6-empty-password.pdf"])
def test_owner_or_empty_password_opens_without_asking(
    pool: WorkerPool, corpus: Path, name: str
) -> None:
    header, _ = ask(pool, job="pdf.open", path=str(corpus / "pdf" / name))
    assert header["ok"] and not header["needs_password"] and header["page_count"] >= 1


@pytest.mark.parametrize(
    "name",
    [
        "circular-toc.pdf",
        "duplicate_xref_entry.pdf",
        "trailer_loop.pdf",
        "toy.pdf",
        "test2238.pdf",
        "test_4505.pdf",
        "test_4712_a.pdf",
        "selenium-pypdf-issue-177.pdf",
        "unreadablemetadata.pdf",
    ],
)
def test_damaged_documents_render_or_say_why(pool: WorkerPool, corpus: Path, name: str) -> None:
    path = str(corpus / "broken" / name)
    header, _ = ask(pool, job="pdf.open", path=path)
    if not header["ok"]:
        reason = header["reason"]
        assert reason.startswith("the document is damaged") or reason == "the document has no pages"
        return
    for page in range(min(header["page_count"], 3)):
        answer, pixels = ask(pool, job="pdf.page", path=path, page=page, zoom=0.5)
        if answer["ok"]:
            assert len(pixels) == answer["stride"] * answer["height"]
        else:
            assert answer["reason"]
            assert "Traceback" not in answer["reason"]


def test_empty_file_is_damaged(pool: WorkerPool, tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    header, _ = ask(pool, job="pdf.open", path=str(empty))
    assert not header["ok"]
    assert header["reason"].startswith("the document is damaged")


def test_document_without_pages_says_so(pool: WorkerPool, corpus: Path) -> None:
    # MuPDF repairs its broken xref and finds no page at all.
    header, _ = ask(pool, job="pdf.open", path=str(corpus / "broken" / "unreadablemetadata.pdf"))
    assert header == {"ok": False, "reason": "the document has no pages"}


def test_missing_file_cannot_be_read(pool: WorkerPool, tmp_path: Path) -> None:
    header, _ = ask(pool, job="pdf.open", path=str(tmp_path / "gone.pdf"))
    assert not header["ok"]
    assert header["reason"].startswith("the file could not be read")


def test_malformed_requests(pool: WorkerPool, corpus: Path) -> None:
    path = str(corpus / "pdf" / "crazyones.pdf")
    assert not ask(pool, job="pdf.open")[0]["ok"]
    assert not ask(pool, job="pdf.page", path=path, page=0, zoom="big")[0]["ok"]
    assert not ask(pool, job="pdf.page", path=path, page=0, zoom=-1)[0]["ok"]
    assert not ask(pool, job="pdf.find", path=path, query="  ")[0]["ok"]
    assert "unknown job" in ask(pool, job="pdf.print", path=path)[0]["reason"]


def test_recent_documents_stay_open(corpus: Path) -> None:
    # In this process, to look at the cache; the files are valid ones.
    pdf_pages.forget()
    names = ["crazyones.pdf", "pdflatex-4-pages.pdf", "jpeg.pdf"]
    for name in names:
        header, _ = pdf_pages.handle({"job": "pdf.open", "path": str(corpus / "pdf" / name)})
        assert header["ok"]
    kept = [Path(key[0]).name for key in pdf_pages._documents]
    assert kept == names[-pdf_pages.OPEN_DOCUMENTS :]
    document = pdf_pages._documents[next(reversed(pdf_pages._documents))]
    pdf_pages.handle(
        {"job": "pdf.page", "path": str(corpus / "pdf" / "jpeg.pdf"), "page": 0, "zoom": 0.1}
    )
    assert pdf_pages._documents[next(reversed(pdf_pages._documents))] is document  # reused
    pdf_pages.forget()
    assert not pdf_pages._documents
