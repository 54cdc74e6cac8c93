"""Type detection against the shared real-file corpus and a few crafted cases."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.kinds import HEAD_BYTES, KINDS, detect

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
needs_corpus = pytest.mark.skipif(
    not (CORPUS / "MANIFEST.tsv").is_file(), reason=f"test corpus not found at {CORPUS}"
)

# The kind column says what the file claims to be; these are the kinds detect() gives them.
_EXPECTED_KIND = {
    "image": "image",
    "audio": "audio",
    "video": "video",
    "pdf": "document",
    "docx": "document",
    "doc": "document",
    "office": "document",
    "text": "document",
}


def _manifest(top: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Rows (path, sha256, kind) of the corpus manifest under the given directories."""
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    rows = []
    for line in manifest.read_text(encoding="utf-8").splitlines()[1:]:
        path, _repo, _source, _size, sha256, kind = line.split("\t")[:6]
        if path.startswith(top):
            rows.append((path, sha256, kind))
    return rows


def _copy_head(rel: str, sha256: str, tmp_path: Path) -> tuple[str, bytes]:
    # Check the digest so an edited corpus file cannot pass silently, and
    # work on a copy: the corpus is read-only by agreement.
    data = (CORPUS / rel).read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha256, f"corpus file changed: {rel}"
    copy = tmp_path / Path(rel).name
    copy.write_bytes(data)
    with copy.open("rb") as stream:
        return copy.name, stream.read(HEAD_BYTES)


@needs_corpus
@pytest.mark.parametrize(
    ("rel", "sha256", "claimed"), _manifest(("images/", "media/", "pdf/", "office/", "text/"))
)
def test_corpus_file_gets_its_kind(rel: str, sha256: str, claimed: str, tmp_path: Path) -> None:
    name, head = _copy_head(rel, sha256, tmp_path)
    kind, mime = detect(name, head)
    assert kind == _EXPECTED_KIND[claimed], (rel, mime)
    if claimed == "pdf":
        assert mime == "application/pdf"


@needs_corpus
@pytest.mark.parametrize(("rel", "sha256", "claimed"), _manifest(("broken/",)))
def test_broken_corpus_file_is_detected_without_error(
    rel: str, sha256: str, claimed: str, tmp_path: Path
) -> None:
    name, head = _copy_head(rel, sha256, tmp_path)
    kind, mime = detect(name, head)
    assert kind in KINDS
    assert mime


@needs_corpus
def test_content_wins_over_extension() -> None:
    jpeg = (CORPUS / "images" / "hopper.jpg").read_bytes()[:HEAD_BYTES]
    pdf = (CORPUS / "pdf" / "crazyones.pdf").read_bytes()[:HEAD_BYTES]
    assert detect("report.pdf", jpeg) == ("image", "image/jpeg")
    assert detect("x.jpg", pdf) == ("document", "application/pdf")


@needs_corpus
def test_containers_are_refined_by_content_and_name() -> None:
    m4a = (CORPUS / "media" / "covr-with-name.m4a").read_bytes()[:HEAD_BYTES]
    theora = (CORPUS / "media" / "sample.oggtheora").read_bytes()[:HEAD_BYTES]
    docx = (CORPUS / "office" / "sty-having-no-styles-part.docx").read_bytes()[:HEAD_BYTES]
    assert detect("song.m4a", m4a) == ("audio", "audio/mp4")
    assert detect("clip.ogg", theora) == ("video", "video/ogg")
    assert detect("letter", docx)[1].endswith("wordprocessingml.document")


def test_random_bytes_are_other() -> None:
    noise = random.Random(0).randbytes(HEAD_BYTES)
    assert detect("x.bin", noise) == ("other", "application/octet-stream")


def test_empty_file_is_other() -> None:
    assert detect("empty.txt", b"")[0] == "other"
    assert detect("x.bin", b"")[0] == "other"


@pytest.mark.parametrize(
    ("name", "head", "mime"),
    [
        ("notes.md", b"# Title\n\nSome *text*.\n", "text/markdown"),
        ("data.csv", b"a,b\n1,2\n", "text/csv"),
        ("data.json", b'{"a": 1}', "application/json"),
        ("film.srt", b"1\n00:00:01,000 --> 00:00:02,000\nHi\n", "application/x-subrip"),
        ("noname", "Grüße aus Köln\n".encode(), "text/plain"),
        ("legacy.txt", "Grüße".encode("cp1252"), "text/plain"),
        ("utf16.txt", "\ufeffhello world".encode("utf-16-le"), "text/plain"),
        ("utf16.txt", "hello world, no BOM here".encode("utf-16-le"), "text/plain"),
        (
            "pic.svg",
            b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
            "image/svg+xml",
        ),
        ("page.html", b"<!DOCTYPE html><html><body><svg></svg></body></html>", "text/html"),
        ("doc.rtf", b"{\\rtf1\\ansi hello}", "application/rtf"),
        ("x.pdf", b"junk before the header\n%PDF-1.7\n", "application/pdf"),
    ],
)
def test_text_like_content(name: str, head: bytes, mime: str) -> None:
    kind, detected = detect(name, head)
    assert (kind, detected) == (("image" if mime == "image/svg+xml" else "document"), mime)


def test_binary_named_like_text_is_not_a_document() -> None:
    assert detect("notes.md", bytes(range(256)) * 4)[0] == "other"


@given(st.text(max_size=40), st.binary(max_size=HEAD_BYTES))
def test_detect_never_fails(name: str, head: bytes) -> None:
    kind, mime = detect(name, head)
    assert kind in KINDS
    assert "/" in mime
