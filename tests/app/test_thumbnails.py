"""Thumbnails of blobs: real corpus files, orientation, the disk cache, and workers that fail."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat

from app import workers
from app.image_formats import open_image
from app.kinds import HEAD_BYTES, detect
from app.thumbnails import MAX_SIZE, Thumbnailer, can_thumbnail, thumbnail_dir
from app.vault import Vault
from tests.helpers.vaults import import_blobs

TIMEOUT = 3.0
SLACK = 10.0  # worker start-up on a loaded machine
SLOW_PDF = "broken/test_2548.pdf"  # page 1 takes over a minute in MuPDF

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
REPO_ROOT = Path(__file__).resolve().parents[2]

# A program that asks for a thumbnail that hangs, from a short-lived thread, and
# says which worker has it. Started with "spawn", workers must not outlive it.
_ORPHAN_SCRIPT = """
import sys, threading, time
from pathlib import Path
from app.thumbnails import Thumbnailer
thumbnailer = Thumbnailer(Path(sys.argv[1]), workers=1, timeout=120)
args = ("a" * 64, Path(sys.argv[2]), "application/pdf", 64)
threading.Thread(target=thumbnailer.make, args=args, daemon=True).start()
while not thumbnailer.worker_pids():
    time.sleep(0.02)
print(thumbnailer.worker_pids()[0], flush=True)
time.sleep(120)
"""


def _mime(path: Path) -> str:
    with path.open("rb") as stream:
        return detect(path.name, stream.read(HEAD_BYTES))[1]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def thumbnailer(vault: Vault) -> Iterator[Thumbnailer]:
    with Thumbnailer(vault.paths.cache, workers=1, timeout=TIMEOUT) as made:
        yield made


def _make(thumbnailer: Thumbnailer, vault: Vault, blob: tuple[str, str], size: int) -> Path | None:
    blob_hash, mime = blob
    return thumbnailer.make(blob_hash, vault.blobs.path(blob_hash), mime, size)


def test_which_types_get_thumbnails() -> None:
    for mime in ("image/jpeg", "image/png", "image/tiff", "image/webp", "application/pdf"):
        assert can_thumbnail(mime), mime
    for mime in ("text/plain", "text/markdown", "text/csv", "text/x-python", "application/json"):
        assert can_thumbnail(mime), mime
    assert can_thumbnail("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    # Other kinds, vector images, and formats Pillow needs plugins or Ghostscript for.
    assert can_thumbnail("video/mp4") and can_thumbnail("audio/mpeg")  # a frame; cover art
    for mime in ("application/zip", "text/rtf", "image/svg+xml", "image/x-eps"):
        assert not can_thumbnail(mime), mime
    assert can_thumbnail("image/heic") and can_thumbnail("image/avif")


def test_heic_and_avif_photos_get_thumbnails(
    vault: Vault, thumbnailer: Thumbnailer, corpus: Path
) -> None:
    blobs = import_blobs(
        vault,
        corpus / "images/fixture-heic.heic",  # an iPhone photo of 3024x4032 in tiles
        corpus / "images/hopper.avif",
        corpus / "images/hopper.heif",
    )
    expected = {
        "fixture-heic.heic": (192, 256),
        "hopper.avif": (128, 128),
        "hopper.heif": (128, 128),
    }
    for name, size in expected.items():
        path = _make(thumbnailer, vault, blobs[name], 256)
        assert path is not None, thumbnailer.failure(blobs[name][0])
        with Image.open(path) as thumb:
            assert thumb.size == size, name
            # A real picture, not a flat fill.
            assert max(ImageStat.Stat(thumb.convert("L")).stddev) > 10, name


def test_colour_profiles_are_converted_to_srgb(
    vault: Vault, thumbnailer: Thumbnailer, tmp_path: Path, corpus: Path
) -> None:
    from PIL import ImageCms

    # The Display P3 profile an iPhone embeds, on a flat orange patch.
    with open_image(corpus / "images/fixture-heic.heic") as photo:
        p3 = photo.info["icc_profile"]
    source = tmp_path / "p3.png"
    Image.new("RGB", (64, 64), (200, 100, 50)).save(source, icc_profile=p3)
    plain = tmp_path / "plain.png"
    Image.new("RGB", (64, 64), (200, 100, 50)).save(plain)
    blobs = import_blobs(vault, source, plain)
    expected = ImageCms.profileToProfile(
        Image.new("RGB", (1, 1), (200, 100, 50)),
        ImageCms.ImageCmsProfile(io.BytesIO(p3)),
        ImageCms.createProfile("sRGB"),
    )
    assert expected is not None
    want = expected.getpixel((0, 0))
    assert isinstance(want, tuple)
    for name, colour in (("p3.png", want), ("plain.png", (200, 100, 50))):
        path = _make(thumbnailer, vault, blobs[name], 64)
        assert path is not None
        with Image.open(path) as thumb:
            got = thumb.convert("RGB").getpixel((32, 32))
        assert isinstance(got, tuple)
        assert all(abs(a - b) <= 3 for a, b in zip(got, colour, strict=True)), (name, got, colour)
    assert abs(want[0] - 200) + abs(want[1] - 100) + abs(want[2] - 50) > 15


def test_big_images_and_pdfs_fit_the_size_with_their_aspect(
    vault: Vault, thumbnailer: Thumbnailer, corpus: Path
) -> None:
    blobs = import_blobs(
        vault,
        corpus / "images/jpeg420exif.jpg",  # 2048x1536: decoded in JPEG draft mode
        corpus / "images/itxt_chunks.png",  # 2400x2000
        corpus / "images/300-dpi.TIF",  # bilevel 2464x3248
        corpus / "pdf/crazyones.pdf",  # US Letter, 612x792 pt
        corpus / "pdf/test_3569.pdf",  # landscape 3024x2160 pt
    )
    expected = {
        "jpeg420exif.jpg": (2048, 1536),
        "itxt_chunks.png": (2400, 2000),
        "300-dpi.TIF": (2464, 3248),
        "crazyones.pdf": (612, 792),
        "test_3569.pdf": (3024, 2160),
    }
    for name, (width, height) in expected.items():
        path = _make(thumbnailer, vault, blobs[name], 256)
        assert path is not None, thumbnailer.failure(blobs[name][0])
        assert path.suffix == ".jpg"
        assert path.parent == thumbnail_dir(vault.paths.cache, 256) / blobs[name][0][:2]
        with Image.open(path) as thumb:
            assert max(thumb.size) == 256, name
            assert thumb.width / thumb.height == pytest.approx(width / height, rel=0.02), name


def test_small_images_are_not_enlarged(
    vault: Vault, thumbnailer: Thumbnailer, corpus: Path
) -> None:
    blobs = import_blobs(vault, corpus / "images/hopper.jpg")
    path = _make(thumbnailer, vault, blobs["hopper.jpg"], 512)
    assert path is not None
    with Image.open(path) as thumb:
        assert thumb.size == (128, 128)


def test_exif_orientation_is_applied(
    vault: Vault, thumbnailer: Thumbnailer, tmp_path: Path
) -> None:
    # Stored landscape, red left and blue right; Orientation=6 means "turn it a
    # quarter clockwise to view", so it shows portrait, red on top.
    picture = Image.new("RGB", (400, 200), "blue")
    picture.paste("red", (0, 0, 200, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    source = tmp_path / "outside" / "rotated.jpg"
    source.parent.mkdir()
    picture.save(source, "JPEG", exif=exif, quality=95)
    blobs = import_blobs(vault, source)

    path = _make(thumbnailer, vault, blobs["rotated.jpg"], 100)
    assert path is not None
    with Image.open(path) as thumb:
        assert thumb.size == (50, 100)
        top = thumb.getpixel((25, 20))
        bottom = thumb.getpixel((25, 80))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 and top[2] < 60, top  # red
    assert bottom[2] > 200 and bottom[0] < 60, bottom  # blue


def test_every_exif_orientation_of_a_real_photo(tmp_path: Path, corpus: Path) -> None:
    # hopper_orientation_N.jpg are hopper.jpg stored flipped or turned, with
    # the tag that turns them back: every thumbnail must look like hopper.
    with Thumbnailer(tmp_path / "cache", workers=1, timeout=TIMEOUT) as thumbnailer:
        reference_path = corpus / "images/hopper.jpg"
        made = thumbnailer.make(_sha256(reference_path), reference_path, "image/jpeg", 64)
        assert made is not None
        reference = Image.open(made).convert("RGB")
        for orientation in range(2, 9):
            source = corpus / f"images/hopper_orientation_{orientation}.jpg"
            with Image.open(source) as raw:
                assert raw.getexif()[0x0112] == orientation
                # Without the correction it would not match (the check has teeth).
                raw_small = raw.convert("RGB").resize(reference.size)
            assert _difference(raw_small, reference) > 20, orientation
            path = thumbnailer.make(_sha256(source), source, "image/jpeg", 64)
            assert path is not None
            with Image.open(path) as thumb:
                assert _difference(thumb.convert("RGB"), reference) < 8, orientation


def _difference(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def test_transparency_is_kept_as_png_and_opaque_images_become_jpeg(
    vault: Vault, thumbnailer: Thumbnailer, corpus: Path
) -> None:
    blobs = import_blobs(vault, corpus / "images/transparent.png", corpus / "images/hopper.png")
    transparent = _make(thumbnailer, vault, blobs["transparent.png"], 64)
    opaque = _make(thumbnailer, vault, blobs["hopper.png"], 64)
    assert transparent is not None and transparent.suffix == ".png"
    assert opaque is not None and opaque.suffix == ".jpg"
    with Image.open(transparent) as thumb:
        assert thumb.mode == "RGBA"
        alpha_low, _ = thumb.getchannel("A").getextrema()
        assert alpha_low < 255


def test_thumbnails_are_made_once_and_reused(
    vault: Vault, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = import_blobs(vault, corpus / "images/flower.jpg")
    blob_hash, mime = blobs["flower.jpg"]
    source = vault.blobs.path(blob_hash)
    with Thumbnailer(vault.paths.cache, workers=1, timeout=TIMEOUT) as first:
        assert first.cached(blob_hash, 128) is None
        path = first.make(blob_hash, source, mime, 128)
        assert path is not None and first.cached(blob_hash, 128) == path
        stamp = path.stat().st_mtime_ns
        assert first.make(blob_hash, source, mime, 128) == path
        assert path.stat().st_mtime_ns == stamp
        # Written atomically: nothing but the thumbnail in its directory.
        assert [p.name for p in path.parent.iterdir()] == [path.name]
        # Another size is another thumbnail.
        other = first.make(blob_hash, source, mime, 64)
        assert other is not None and other != path

    # A new session finds it on disk and starts no worker at all.
    with Thumbnailer(vault.paths.cache, workers=1, timeout=TIMEOUT) as second:
        monkeypatch.setattr("app.workers._Worker.run", _no_worker)
        assert second.make(blob_hash, source, mime, 128) == path
        assert path.stat().st_mtime_ns == stamp
        assert second.worker_pids() == []


def _no_worker(*args: object) -> None:
    raise AssertionError("a cached thumbnail was made again")


def test_concurrent_requests_for_one_thumbnail_decode_it_once(
    vault: Vault, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = import_blobs(vault, corpus / "images/jpeg420exif.jpg")
    blob_hash, mime = blobs["jpeg420exif.jpg"]

    runs: list[str] = []
    real_run = workers._Worker.run

    def counting_run(self: object, request: dict[str, object], *args: object) -> object:
        runs.append(str(request["path"]))
        return real_run(self, request, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(workers._Worker, "run", counting_run)
    with Thumbnailer(vault.paths.cache, workers=2, timeout=TIMEOUT) as thumbnailer:
        results: list[Path | None] = []
        source = vault.blobs.path(blob_hash)

        def ask() -> None:
            results.append(thumbnailer.make(blob_hash, source, mime, 200))

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert len(results) == 4 and len(set(results)) == 1 and results[0] is not None
    assert len(runs) == 1


def test_other_kinds_and_evicted_blobs_get_none_without_a_worker(
    vault: Vault, thumbnailer: Thumbnailer, corpus: Path, tmp_path: Path
) -> None:
    blobs = import_blobs(vault, corpus / "images/image.svg", corpus / "pdf/crazyones.pdf")
    svg_hash, _ = blobs["image.svg"]
    assert _make(thumbnailer, vault, blobs["image.svg"], 128) is None
    assert thumbnailer.failure(svg_hash) is None  # not a failure: the kind icon stands in
    # Evicted: the catalog knows the blob, this computer has no file for it.
    pdf_hash, pdf_mime = blobs["crazyones.pdf"]
    gone = tmp_path / "evicted" / pdf_hash
    assert thumbnailer.make(pdf_hash, gone, pdf_mime, 128) is None
    assert thumbnailer.failure(pdf_hash) is None  # it may come back: not remembered
    assert thumbnailer.worker_pids() == []
    assert not (vault.paths.cache / "thumbnails").exists()


def test_damaged_and_hostile_files_fail_cleanly_with_a_reason(
    vault: Vault, thumbnailer: Thumbnailer, corpus: Path
) -> None:
    expected = {
        "truncated_jpeg.jpg": "damaged",
        "truncated_image.png": "damaged",
        "broken.png": "not supported",
        "decompression_bomb.gif": "too many pixels",
        "reallybig.bmp": "too many pixels",
        "oom-8ed3316a4109213ca96fb8a256a0bfefdece1461.icns": "too many pixels",
        "unreadablemetadata.pdf": "no pages",
    }
    blobs = import_blobs(vault, *(corpus / "broken" / name for name in expected))
    blobs.update(import_blobs(vault, corpus / "pdf/encrypted-file.pdf"))
    expected["encrypted-file.pdf"] = "encrypted"
    for name, words in expected.items():
        started = time.monotonic()
        assert _make(thumbnailer, vault, blobs[name], 128) is None, name
        assert time.monotonic() - started < TIMEOUT + SLACK
        reason = thumbnailer.failure(blobs[name][0])
        assert reason is not None and words in reason, (name, reason)
        assert "Traceback" not in reason and len(reason) < 200
    assert not list((vault.paths.cache / "thumbnails").rglob("*.*"))


def test_a_slow_file_is_cut_off_remembered_and_the_worker_replaced(
    vault: Vault, thumbnailer: Thumbnailer, corpus: Path
) -> None:
    blobs = import_blobs(vault, corpus / SLOW_PDF, corpus / "images/flower.jpg")
    slow = blobs["test_2548.pdf"]
    started = time.monotonic()
    assert _make(thumbnailer, vault, slow, 128) is None
    elapsed = time.monotonic() - started
    assert TIMEOUT <= elapsed < TIMEOUT + SLACK
    assert thumbnailer.failure(slow[0]) == f"the PDF reader stopped after {TIMEOUT:g} s"
    assert thumbnailer.worker_pids() == []  # the hung worker was killed

    # Remembered: asking again does not wait for the time limit again.
    started = time.monotonic()
    assert _make(thumbnailer, vault, slow, 128) is None
    assert _make(thumbnailer, vault, slow, 64) is None
    assert time.monotonic() - started < 1.0

    # A fresh worker serves the next file.
    assert _make(thumbnailer, vault, blobs["flower.jpg"], 128) is not None
    assert len(thumbnailer.worker_pids()) == 1


@posix_only
def test_a_crashed_worker_is_reported_and_replaced(
    vault: Vault, thumbnailer: Thumbnailer, corpus: Path
) -> None:
    blobs = import_blobs(vault, corpus / SLOW_PDF, corpus / "images/flower.jpg")
    slow = blobs["test_2548.pdf"]
    results: list[Path | None] = []
    asking = threading.Thread(target=lambda: results.append(_make(thumbnailer, vault, slow, 128)))
    asking.start()
    deadline = time.monotonic() + SLACK
    while not thumbnailer.worker_pids() and time.monotonic() < deadline:
        time.sleep(0.02)
    (pid,) = thumbnailer.worker_pids()
    time.sleep(0.3)  # let it get into the page
    os.kill(pid, signal.SIGKILL)  # what a segfault in a decoder looks like from here
    asking.join(TIMEOUT + SLACK)
    assert results == [None]
    reason = thumbnailer.failure(slow[0])
    assert reason is not None and "stopped unexpectedly" in reason
    path = _make(thumbnailer, vault, blobs["flower.jpg"], 128)
    assert path is not None
    assert thumbnailer.worker_pids() and thumbnailer.worker_pids() != [pid]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_killed_parent(tmp_path: Path, corpus: Path) -> None:
    program = subprocess.Popen(
        [sys.executable, "-c", _ORPHAN_SCRIPT, str(tmp_path / "cache"), str(corpus / SLOW_PDF)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        assert program.stdout is not None
        worker = int(program.stdout.readline())
        time.sleep(0.5)  # into the page, where MuPDF holds the GIL
        assert Path(f"/proc/{worker}").exists()
    finally:
        program.kill()
        program.wait()
        if program.stdout is not None:
            program.stdout.close()
    deadline = time.monotonic() + 5
    while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{worker}").exists(), f"orphaned thumbnail worker {worker}"


def test_close_stops_a_running_request_without_blaming_the_file(vault: Vault, corpus: Path) -> None:
    blobs = import_blobs(vault, corpus / SLOW_PDF)
    slow = blobs["test_2548.pdf"]
    thumbnailer = Thumbnailer(vault.paths.cache, workers=1, timeout=30.0)
    results: list[Path | None] = []
    asking = threading.Thread(target=lambda: results.append(_make(thumbnailer, vault, slow, 128)))
    asking.start()
    deadline = time.monotonic() + SLACK
    while not thumbnailer.worker_pids() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert thumbnailer.worker_pids()
    started = time.monotonic()
    thumbnailer.close()
    asking.join(SLACK)
    assert not asking.is_alive() and time.monotonic() - started < SLACK
    assert results == [None]
    assert thumbnailer.failure(slow[0]) is None
    assert thumbnailer.worker_pids() == []
    thumbnailer.close()  # idempotent
    assert _make(thumbnailer, vault, slow, 64) is None


def test_bad_arguments_are_refused(thumbnailer: Thumbnailer, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        thumbnailer.make("../../etc/passwd", tmp_path / "x", "image/png", 64)
    with pytest.raises(ValueError):
        thumbnailer.make("a" * 64, tmp_path / "x", "image/png", 0)
    with pytest.raises(ValueError):
        thumbnailer.cached("a" * 64, MAX_SIZE + 1)


def _manifest(corpus: Path) -> list[tuple[str, str, str]]:
    lines = (corpus / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
    rows = [line.split("\t") for line in lines]
    return [(row[0], row[5], row[6]) for row in rows if row[5] in ("image", "pdf")]


def test_every_corpus_image_and_pdf_thumbnails_or_fails_cleanly(
    tmp_path: Path, corpus: Path
) -> None:
    # Read in place (no import): each file once, through two workers.
    made = failed = 0
    with Thumbnailer(tmp_path / "cache", workers=2, timeout=TIMEOUT) as thumbnailer:
        for rel, _kind, expectation in _manifest(corpus):
            source = corpus / rel
            mime = _mime(source)
            blob_hash = _sha256(source)
            started = time.monotonic()
            path = thumbnailer.make(blob_hash, source, mime, 96)
            assert time.monotonic() - started < TIMEOUT + SLACK, rel
            if path is not None:
                made += 1
                with Image.open(path) as thumb:
                    thumb.load()
                    assert 0 < max(thumb.size) <= 96, rel
            elif can_thumbnail(mime):
                failed += 1
                reason = thumbnailer.failure(blob_hash)
                assert reason, rel
                assert expectation != "valid", f"{rel}: {reason}"
            else:
                assert thumbnailer.failure(blob_hash) is None, rel
    assert made > 100 and failed > 20


def test_exif_transpose_agrees_with_pillow(tmp_path: Path, corpus: Path) -> None:
    # Pillow's TIFF reader applies the orientation itself and drops the tag;
    # the thumbnail must be turned once, like exif_transpose on the full image.
    source = corpus / "images/g4_orientation_6.tif"
    with Thumbnailer(tmp_path / "cache", workers=1, timeout=TIMEOUT) as thumbnailer:
        path = thumbnailer.make(_sha256(source), source, "image/tiff", 64)
    assert path is not None
    with Image.open(source) as original:
        upright = ImageOps.exif_transpose(original)
        assert upright is not None
        width, height = upright.size
    with Image.open(path) as thumb:
        assert max(thumb.size) == 64
        assert (thumb.width > thumb.height) == (width > height)


def test_mediavault_thumbnails_builds_what_is_missing(
    vault: Vault, corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    photos = vault.makedirs("/Photos")
    docs = vault.makedirs("/Docs")
    vault.import_paths([corpus / "images/flower.jpg", corpus / "images/hopper.png"], photos)
    vault.import_paths([corpus / "broken/truncated_jpeg.jpg"], photos)
    note = tmp_path / "note.txt"
    note.write_text("a page of its first lines")
    vault.import_paths([corpus / "pdf/crazyones-pdfa.pdf", note], docs)
    home = str(vault.paths.data)

    assert main(["--vault", home, "thumbnails", "/Photos", "--size", "100", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["size"] == 128  # the next size kept on disk
    assert (first["made"], first["cached"]) == (2, 0)
    (failed,) = first["failed"]
    assert failed["path"] == "/Photos/truncated_jpeg.jpg" and "damaged" in failed["reason"]

    assert main(["--vault", home, "thumbnails", "--size", "100", "--json"]) == 0
    whole = json.loads(capsys.readouterr().out)
    # + the PDF and the text file's page
    assert (whole["made"], whole["cached"], len(whole["failed"])) == (2, 2, 1)
    assert len(list((vault.paths.cache / "thumbnails" / "128").rglob("*.*"))) == 4

    assert main(["--vault", home, "thumbnails", "--workers", "0"]) != 0
    assert "--workers" in capsys.readouterr().err


def test_text_and_word_documents_get_a_page_of_their_first_lines(
    vault: Vault,
    thumbnailer: Thumbnailer,
    corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A computer without LibreOffice (with it, the first page is drawn: tested below).
    monkeypatch.setattr("app.office.find_soffice", lambda: None)
    notes = tmp_path / "notes.md"
    notes.write_text("# Shopping\n\n- bread\n- olive oil\n\tindented\n" * 20)
    blobs = import_blobs(
        vault,
        notes,
        corpus / "office/IllustrativeCases.docx",
        corpus / "office/doc-no-coreprops.docx",  # carries docProps/thumbnail.jpeg
    )
    pages = {}
    for name in ("notes.md", "IllustrativeCases.docx"):
        made = _make(thumbnailer, vault, blobs[name], 256)
        assert made is not None, thumbnailer.failure(blobs[name][0])
        with Image.open(made) as image:
            assert image.size == (192, 256)  # a portrait page
            pages[name] = image.convert("L")
    for image in pages.values():  # ink on white: text was drawn
        assert image.getextrema()[0] < 150 and image.getpixel((96, 250)) > 240
    embedded = _make(thumbnailer, vault, blobs["doc-no-coreprops.docx"], 256)
    assert embedded is not None
    with zipfile.ZipFile(corpus / "office/doc-no-coreprops.docx") as package:
        original = Image.open(io.BytesIO(package.read("docProps/thumbnail.jpeg")))
    with Image.open(embedded) as image:
        # Word's own picture, scaled down (never up), not a drawn page.
        assert image.size[0] / image.size[1] == pytest.approx(
            original.size[0] / original.size[1], rel=0.05
        )
        assert max(image.size) == min(256, max(original.size))


@pytest.mark.skipif(sys.platform == "win32", reason="the stand-in soffice is a sh script")
def test_with_libreoffice_a_word_document_shows_its_first_page(
    vault: Vault, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in for LibreOffice on PATH that "converts" to a real US Letter PDF.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    soffice = bin_dir / "soffice"
    soffice.write_text(
        "#!/bin/sh\n"
        'for arg in "$@"; do case "$last" in --outdir) out="$arg";; esac; last="$arg"; done\n'
        'name=$(basename "$last")\n'
        f'cp "{corpus / "pdf/crazyones.pdf"}" "$out/${{name%.*}}.pdf"\n'
    )
    soffice.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    blobs = import_blobs(
        vault,
        corpus / "office/IllustrativeCases.docx",  # no picture of its own
        corpus / "office/doc-no-coreprops.docx",  # carries docProps/thumbnail.jpeg
    )
    with Thumbnailer(vault.paths.cache, workers=1, timeout=TIMEOUT) as thumbnailer:
        made = _make(thumbnailer, vault, blobs["IllustrativeCases.docx"], 256)
        assert made is not None, thumbnailer.failure(blobs["IllustrativeCases.docx"][0])
        with Image.open(made) as image:
            assert image.size == (198, 256)  # the PDF's 612 × 792 page, not a 3:4 drawn page
        converted = vault.paths.cache / "converted"
        assert len(list(converted.glob("*/*.pdf"))) == 1  # kept for the viewer too
        # A document's own picture still comes first.
        embedded = _make(thumbnailer, vault, blobs["doc-no-coreprops.docx"], 256)
        assert embedded is not None
        assert len(list(converted.glob("*/*.pdf"))) == 1


def test_a_damaged_word_document_fails_cleanly(
    vault: Vault, thumbnailer: Thumbnailer, tmp_path: Path
) -> None:
    fake = tmp_path / "fake.docx"
    with zipfile.ZipFile(fake, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", "<w:document")  # cut short
    blobs = import_blobs(vault, fake)
    blob_hash, _ = blobs["fake.docx"]
    mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert _make(thumbnailer, vault, (blob_hash, mime), 128) is None
    reason = thumbnailer.failure(blob_hash)
    assert reason and "Traceback" not in reason


def test_videos_show_a_frame_and_audio_its_cover_art(
    vault: Vault, thumbnailer: Thumbnailer, corpus: Path
) -> None:
    media = corpus / "media"
    blobs = import_blobs(
        vault,
        media / "fixture.mkv",
        media / "fixture-mjpeg.mov",
        media / "fixture-id3v2.flac",  # a 256 px cover inside
        media / "xing.mp3",  # no cover
    )
    for name, size in (("fixture.mkv", (128, 71)), ("fixture-mjpeg.mov", (128, 96))):
        made = _make(thumbnailer, vault, blobs[name], 128)
        assert made is not None, thumbnailer.failure(blobs[name][0])
        with Image.open(made) as image:
            assert image.size == size
            assert ImageStat.Stat(image.convert("L")).mean[0] > 24  # not a black frame
    cover = _make(thumbnailer, vault, blobs["fixture-id3v2.flac"], 128)
    assert cover is not None
    with Image.open(cover) as image:
        assert image.size == (128, 128)
    silent = blobs["xing.mp3"]
    assert _make(thumbnailer, vault, silent, 128) is None
    assert thumbnailer.pictureless(silent[0])  # fine, just nothing to show
    assert not thumbnailer.pictureless(blobs["fixture.mkv"][0])
