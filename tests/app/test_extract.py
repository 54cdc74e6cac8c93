"""Text and facts extraction: real corpus files, hostile files, and a worker that dies."""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from app.extract import Extractor, Facts, extract_plain_text, wants_worker
from app.kinds import HEAD_BYTES, detect
from app.vault import Vault

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
needs_corpus = pytest.mark.skipif(
    not (CORPUS / "MANIFEST.tsv").is_file(), reason=f"test corpus not found at {CORPUS}"
)
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="needs FIFOs and SIGKILL")

TIMEOUT = 5.0
SLACK = 3.0  # worker start-up and a loaded CI machine


def _sha256s() -> dict[str, str]:
    lines = (CORPUS / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return {line.split("\t")[0]: line.split("\t")[4] for line in lines}


def _copy(rel: str, tmp_path: Path) -> Path:
    """Copies a corpus file into tmp_path after checking its digest."""
    data = (CORPUS / rel).read_bytes()
    assert hashlib.sha256(data).hexdigest() == _sha256s()[rel], f"corpus file changed: {rel}"
    copy = tmp_path / Path(rel).name
    copy.write_bytes(data)
    return copy


def _extract(extractor: Extractor, path: Path) -> Facts:
    with path.open("rb") as stream:
        kind, mime = detect(path.name, stream.read(HEAD_BYTES))
    return extractor.extract(path, kind, mime)


@pytest.fixture(scope="module")
def extractor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Extractor]:
    """One extractor for the module, its worker started and its PDF reader loaded.

    The time limit counts a worker's start and its first import of PyMuPDF,
    which take a few hundred ms alone but can take longer than TIMEOUT on a
    loaded machine; the warm-up gets a minute, the tests TIMEOUT.
    """
    import pymupdf

    warm = tmp_path_factory.mktemp("warm") / "warm.pdf"
    document = pymupdf.open()
    document.new_page().insert_text((72, 72), "warm")
    document.save(warm)
    document.close()
    with Extractor(timeout=60.0) as shared:
        assert _extract(shared, warm).pages == 1
        shared.timeout = TIMEOUT
        yield shared


@needs_corpus
def test_pdf_gives_pages_and_text(extractor: Extractor, tmp_path: Path) -> None:
    facts = _extract(extractor, _copy("pdf/crazyones.pdf", tmp_path))
    assert facts.pages == 1
    assert "troublemakers" in facts.text
    assert facts.note == ""


@needs_corpus
def test_long_pdf_text_is_capped(extractor: Extractor, tmp_path: Path) -> None:
    facts = _extract(extractor, _copy("pdf/mupdf_explored.pdf", tmp_path))
    assert facts.pages == 285
    assert 0 < len(facts.text) <= 200_000


@needs_corpus
@pytest.mark.parametrize(
    ("rel", "word"),
    [
        ("office/fixture.docx", "Unicorns!"),
        ("office/test_open2.docx", "Some minimal content"),
        ("office/SimpleMacro.docm", "macro word processing document"),
        ("office/fixture.odt", "DocumentLoader"),
        ("office/fixture.pptx", "Unicorns!"),
    ],
)
def test_office_text(extractor: Extractor, tmp_path: Path, rel: str, word: str) -> None:
    facts = _extract(extractor, _copy(rel, tmp_path))
    assert word in facts.text
    assert facts.note == ""


@needs_corpus
def test_docx_pages_and_tables(extractor: Extractor, tmp_path: Path) -> None:
    facts = _extract(extractor, _copy("office/IllustrativeCases.docx", tmp_path))
    assert facts.pages is not None and facts.pages >= 1
    assert len(facts.text) > 1000


@needs_corpus
@pytest.mark.parametrize(
    "rel",
    [
        "pdf/encrypted-file.pdf",
        "pdf/r6-user-password.pdf",
        "office/protected_agile.docx",
        "office/bug53475-password-is-pass.docx",
    ],
)
def test_encrypted_files_get_a_note(extractor: Extractor, tmp_path: Path, rel: str) -> None:
    facts = _extract(extractor, _copy(rel, tmp_path))
    assert "encrypted" in facts.note
    assert facts.text == ""


@needs_corpus
def test_pdf_with_empty_user_password_opens(extractor: Extractor, tmp_path: Path) -> None:
    facts = _extract(extractor, _copy("pdf/r6-empty-password.pdf", tmp_path))
    assert facts.note == ""
    assert facts.pages == 1


@needs_corpus
def test_photo_facts(extractor: Extractor, tmp_path: Path) -> None:
    facts = _extract(extractor, _copy("images/court-exif.jpg", tmp_path))
    assert (facts.width, facts.height) == (500, 375)
    assert facts.camera == "NIKON D2H"
    assert facts.taken_at == datetime(2003, 11, 23, 18, 7, 37)


@needs_corpus
def test_image_size_is_as_displayed(extractor: Extractor, tmp_path: Path) -> None:
    # Stored 2x1 with EXIF Orientation=8: the user sees a 1x2 image.
    facts = _extract(extractor, _copy("images/orientation_rectangle.jpg", tmp_path))
    assert (facts.width, facts.height) == (1, 2)
    # Stored 88x590 with Orientation=6: seen (and reported by Pillow) as 590x88.
    facts = _extract(extractor, _copy("images/g4_orientation_6.tif", tmp_path))
    assert (facts.width, facts.height) == (590, 88)


@needs_corpus
@pytest.mark.parametrize("rel", ["broken/decompression_bomb.gif", "broken/reallybig.bmp"])
def test_image_bomb_is_refused(extractor: Extractor, tmp_path: Path, rel: str) -> None:
    facts = _extract(extractor, _copy(rel, tmp_path))
    assert facts.note
    assert facts.width is None


@needs_corpus
def test_xxe_docx_resolves_nothing(extractor: Extractor, tmp_path: Path) -> None:
    facts = _extract(extractor, _copy("broken/ExternalEntityInText.docx", tmp_path))
    assert facts.text == 'Here should not be the POI web site: ""'


@needs_corpus
def test_xxe_to_a_local_file_leaks_nothing(extractor: Extractor, tmp_path: Path) -> None:
    # The corpus file points at a URL; point the same entity at a local file
    # (the /etc/passwd attack) whose content we can look for.
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:SECRET-MARKER\n", encoding="utf-8")
    original = _copy("broken/ExternalEntityInText.docx", tmp_path)
    hostile = tmp_path / "hostile.docx"
    with zipfile.ZipFile(original) as src, zipfile.ZipFile(hostile, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":
                data = data.replace(b"http://poi.apache.org/", secret.as_uri().encode())
                assert secret.as_uri().encode() in data
            dst.writestr(item, data)
    facts = _extract(extractor, hostile)
    assert "SECRET-MARKER" not in facts.text
    assert "Here should not be" in facts.text


def test_zip_bomb_is_refused_before_parsing(extractor: Extractor, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", b"\0" * (25 << 20))
    facts = _extract(extractor, bomb)
    assert "zip bomb" in facts.note


@needs_corpus
def test_every_broken_file_returns_in_time(tmp_path: Path) -> None:
    """The whole broken/ directory through one extractor: bounded, and it still works."""
    broken = sorted(rel for rel in _sha256s() if rel.startswith("broken/"))
    slow: list[tuple[str, float]] = []
    started = time.monotonic()
    with Extractor(timeout=TIMEOUT) as extractor:
        for rel in broken:
            began = time.monotonic()
            facts = _extract(extractor, _copy(rel, tmp_path))
            took = time.monotonic() - began
            assert isinstance(facts, Facts)
            assert took < TIMEOUT + SLACK, rel
            if took > 1:
                slow.append((rel, took))
        good = _extract(extractor, _copy("pdf/crazyones.pdf", tmp_path))
    assert "troublemakers" in good.text
    # Every file at its bound would be 79 * 5 s; today the run takes ~2 s.
    assert time.monotonic() - started < 60, slow


@posix_only
def test_hanging_read_times_out_and_worker_recovers(tmp_path: Path) -> None:
    # Opening a FIFO with no writer blocks forever: a deterministic hang.
    # (MuPDF refuses non-regular files up front; Pillow just opens it.)
    fifo = tmp_path / "hang.png"
    os.mkfifo(fifo)
    image = tmp_path / "tiny.png"
    _write_png(image)
    with Extractor(timeout=1.0) as extractor:
        began = time.monotonic()
        facts = extractor.extract(fifo, "image", "image/png")
        assert time.monotonic() - began < 1.0 + SLACK
        assert facts.note == "content not indexed: the image reader stopped after 1 s"
        assert extractor.extract(image, "image", "image/png").width == 3


@posix_only
def test_worker_killed_mid_request_recovers(tmp_path: Path) -> None:
    fifo = tmp_path / "hang.jpg"
    os.mkfifo(fifo)
    with Extractor(timeout=30.0) as extractor:
        result: list[Facts] = []
        thread = threading.Thread(
            target=lambda: result.append(extractor.extract(fifo, "image", "image/jpeg"))
        )
        began = time.monotonic()
        thread.start()
        while not extractor.worker_pids() and time.monotonic() - began < 10:
            time.sleep(0.01)
        time.sleep(0.3)  # let the worker take the request and block on the FIFO
        os.kill(extractor.worker_pids()[0], signal.SIGKILL)
        thread.join(timeout=10)
        assert not thread.is_alive()
        assert time.monotonic() - began < 10  # the kill was noticed, not the 30 s timeout
        assert "stopped unexpectedly" in result[0].note
        # A fresh worker takes the next file.
        image = tmp_path / "tiny.png"
        _write_png(image)
        assert (extractor.extract(image, "image", "image/png").width, len(result)) == (3, 1)


@posix_only
def test_worker_killed_while_idle_is_replaced(tmp_path: Path) -> None:
    image = tmp_path / "tiny.png"
    _write_png(image)
    with Extractor() as extractor:
        assert extractor.extract(image, "image", "image/png").width == 3
        os.kill(extractor.worker_pids()[0], signal.SIGKILL)
        time.sleep(0.1)
        assert extractor.extract(image, "image", "image/png").width == 3


@needs_corpus
@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is enforced on Linux")
def test_memory_limit_too_small_gives_a_note(tmp_path: Path) -> None:
    pdf = _copy("pdf/crazyones.pdf", tmp_path)
    with Extractor(memory_limit=32 << 20) as extractor:
        facts = extractor.extract(pdf, "document", "application/pdf")
        assert facts.note.startswith("content not indexed: ")
        assert facts.text == ""


@needs_corpus
@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("text/chardet-SHIFT_JIS-ude_2.txt", "コンソール アプリケーション"),
        ("text/chardet-iso-2022-jp-ude_1.txt", "コンソール アプリケーション"),
        ("text/chardet-UTF-16-bom-utf-16-le.srt", "-->"),
        ("text/chardet-UTF-16LE-nobom-utf16le.txt", "DateTime,Bid,Ask"),
        ("text/chardet-UTF-32-bom-utf-32-be.srt", "About 2 months ago"),
        ("text/chardet-windows-1251-russian-ude_1.txt", "В гимназии"),
        ("text/chardet-utf-8-sig-ude_4.txt", ""),
        ("text/crazyones.txt", "The Crazy Ones"),
    ],
)
def test_plain_text_decodes(tmp_path: Path, rel: str, expected: str) -> None:
    facts = extract_plain_text(_copy(rel, tmp_path))
    assert expected in facts.text
    assert "\ufeff" not in facts.text and "\x00" not in facts.text
    assert facts.note == ""


@needs_corpus
def test_plain_text_needs_no_worker(tmp_path: Path) -> None:
    with Extractor() as extractor:
        facts = _extract(extractor, _copy("text/y_string_unicode_2.json", tmp_path))
        assert facts.text
        assert extractor.worker_pids() == []


def test_plain_text_is_capped(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("ä" * 600_000, encoding="utf-8")  # 1.2 MB, cut mid-character at 1 MB
    facts = extract_plain_text(big)
    assert facts.text == "ä" * 200_000


def test_missing_text_file_gives_a_note(tmp_path: Path) -> None:
    assert "could not be read" in extract_plain_text(tmp_path / "gone.txt").note


def test_nothing_to_extract_needs_no_worker(tmp_path: Path) -> None:
    with Extractor() as extractor:
        assert (
            extractor.extract(tmp_path / "data.bin", "other", "application/octet-stream") == Facts()
        )
        assert extractor.worker_pids() == []


@pytest.mark.parametrize(
    ("kind", "mime", "wanted"),
    [
        ("document", "application/pdf", True),
        (
            "document",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            True,
        ),
        ("document", "application/vnd.oasis.opendocument.text", True),
        ("image", "image/jpeg", True),
        ("image", "image/svg+xml", False),
        ("document", "text/plain", False),
        ("document", "application/msword", False),
        ("video", "video/mp4", True),
        ("audio", "audio/mpeg", True),
        ("other", "application/octet-stream", False),
    ],
)
def test_wants_worker(kind: str, mime: str, wanted: bool) -> None:
    assert wants_worker(kind, mime) is wanted


def test_facts_round_trip() -> None:
    facts = Facts(
        text="x", pages=2, width=3, height=4, taken_at=datetime(2020, 1, 2), camera="C", codecs="V"
    )
    assert Facts.from_dict(facts.to_dict()) == facts
    assert Facts.from_dict({"pages": "7", "width": True, "taken_at": "junk"}) == Facts()


def _write_png(path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (3, 2), "red").save(path)


@needs_corpus
def test_audio_and_video_facts(extractor: Extractor, tmp_path: Path) -> None:
    video = _extract(extractor, _copy("media/fixture-mjpeg.mov", tmp_path))
    assert (video.width, video.height, video.duration) == (640, 480, 1.5)
    assert video.codecs == "Motion JPEG video, PCM audio"
    audio = _extract(extractor, _copy("media/example.opus", tmp_path))
    assert audio.duration == pytest.approx(12.72, abs=0.01) and audio.width is None
    assert audio.codecs == "Opus audio"
    both = _extract(extractor, _copy("media/fixture.mkv", tmp_path))
    assert both.codecs is not None and " video, " in both.codecs and both.codecs.endswith(" audio")
    # Cover art is a picture stream, not a video: no frame size.
    cover = _extract(extractor, _copy("media/fixture-id3v2.flac", tmp_path))
    assert cover.duration == pytest.approx(1.0, abs=0.01) and cover.width is None
    broken = _extract(extractor, _copy("broken/too-short.mp3", tmp_path))
    assert broken.duration is None and "damaged" in broken.note
    assert str(tmp_path) not in broken.note


@needs_corpus
def test_imported_media_and_photos_keep_their_facts(vault: Vault) -> None:
    (file_id,) = vault.import_paths([CORPUS / "media/fixture-mjpeg.mov"]).file_ids
    version = vault.file_info(file_id).version
    assert (version.width, version.height, version.duration) == (640, 480, 1.5)
    assert version.codecs == "Motion JPEG video, PCM audio" and version.camera is None
    (photo_id,) = vault.import_paths([CORPUS / "images/court-exif.jpg"]).file_ids
    photo = vault.file_info(photo_id).version
    assert photo.camera == "NIKON D2H" and photo.codecs is None
