"""The "media.probe" viewer job, in a real sandboxed worker, on corpus files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import app.media_probe
from app.media_probe import MAX_COVER_SIDE
from app.viewer_jobs import VIEWER_MEMORY, VIEWER_TIMEOUT, viewer_pool
from app.workers import WorkerPool


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    """A worker running the media family's handler directly, limited like the viewers'."""
    workers = WorkerPool(
        app.media_probe.handle,
        name="viewer",
        workers=1,
        timeout=VIEWER_TIMEOUT,
        memory_limit=VIEWER_MEMORY,
    )
    yield workers
    workers.close()


def probe(pool: WorkerPool, path: Path) -> dict[str, Any]:
    header, payload = pool.run({"job": "media.probe", "path": str(path)})
    if header.get("cover") is None:
        assert payload == b""
    return header


def test_audio(pool: WorkerPool, corpus: Path) -> None:
    answer = probe(pool, corpus / "media" / "silence-44-s.mp3")
    assert answer["ok"] is True
    assert answer["has_audio"] is True
    assert answer["has_video"] is False
    assert answer["audio_codec"].startswith("mp3")
    assert answer["video_codec"] is None
    assert answer["width"] is None and answer["height"] is None
    assert 3_700 <= answer["duration_ms"] <= 3_800  # MP3 3.8 s


def test_cover_art_is_not_video(pool: WorkerPool, corpus: Path) -> None:
    # A FLAC with an attached picture: a still cover, not a video stream.
    answer = probe(pool, corpus / "media" / "silence-44-s.flac")
    assert answer["ok"] is True
    assert (answer["has_audio"], answer["has_video"]) == (True, False)
    assert answer["codecs"] == ["flac"]


def test_cover_art_comes_scaled_as_rgb(pool: WorkerPool, corpus: Path) -> None:
    header, payload = pool.run(
        {"job": "media.probe", "path": str(corpus / "media" / "fixture-id3v2.flac")}
    )
    assert header["ok"] is True
    assert header["has_video"] is False
    cover = header["cover"]
    assert (cover["width"], cover["height"]) == (MAX_COVER_SIDE, MAX_COVER_SIDE)  # was 650×650
    assert cover["stride"] >= cover["width"] * 3
    assert len(payload) == cover["stride"] * cover["height"]
    assert len(set(payload)) > 16  # a picture, not one colour


def test_a_videos_picture_is_its_first_frame(pool: WorkerPool, corpus: Path) -> None:
    header, payload = pool.run(
        {"job": "media.probe", "path": str(corpus / "media" / "fixture.3gp")}
    )
    cover = header["cover"]
    assert (cover["width"], cover["height"]) == (header["width"], header["height"])
    assert len(payload) == cover["stride"] * cover["height"]
    big = probe(pool, corpus / "media" / "fixture-null.webm")  # 1920×1080: scaled down
    assert (big["cover"]["width"], big["cover"]["height"]) == (512, 288)


def test_video_only(pool: WorkerPool, corpus: Path) -> None:
    answer = probe(pool, corpus / "media" / "fixture-null.webm")
    assert answer["ok"] is True
    assert (answer["has_video"], answer["has_audio"]) == (True, False)
    assert (answer["width"], answer["height"]) == (1920, 1080)
    assert answer["video_codec"] == "vp8"
    assert 4_200 <= answer["duration_ms"] <= 4_300


def test_video_with_sound(pool: WorkerPool, corpus: Path) -> None:
    answer = probe(pool, corpus / "media" / "fixture.3gp")
    assert answer["ok"] is True
    assert (answer["has_video"], answer["has_audio"]) == (True, True)
    assert answer["codecs"] == ["h263", "amrnb"]
    assert (answer["width"], answer["height"]) == (352, 288)


def test_through_the_viewer_dispatcher(corpus: Path) -> None:
    with viewer_pool(workers=1) as workers:
        header, _ = workers.run(
            {"job": "media.probe", "path": str(corpus / "media" / "example.opus")}
        )
    assert header["ok"] is True
    assert header["audio_codec"] == "opus"


@pytest.mark.parametrize(
    "name",
    [
        "emptyfile.mp3",
        "fixture-corrupt.mkv",
        "fixture-dash.mp4",
        "ooming-header.flac",
        "52-overwritten-metadata.flac",  # opens, but no frame decodes
        "nero-chapters.m4b",  # header of a 47-hour audiobook, no audio data
        "truncated-64bit.mp4",
    ],
)
def test_broken_files_are_refused_with_a_reason(pool: WorkerPool, corpus: Path, name: str) -> None:
    answer = probe(pool, corpus / "broken" / name)
    assert answer["ok"] is False
    assert answer["reason"]
    assert str(corpus) not in answer["reason"]  # a reason, not a path


def test_a_file_that_is_not_media(pool: WorkerPool, corpus: Path) -> None:
    pdfs = sorted((corpus / "pdf").glob("*.pdf"))
    answer = probe(pool, pdfs[0])
    assert answer["ok"] is False
    assert answer["reason"]


def test_missing_file_and_bad_requests(pool: WorkerPool, tmp_path: Path) -> None:
    answer = probe(pool, tmp_path / "gone.mp3")
    assert answer["ok"] is False
    assert answer["reason"] == "the file could not be read (No such file or directory)"
    header, _ = pool.run({"job": "media.frames", "path": str(tmp_path)})
    assert header["ok"] is False
    header, _ = pool.run({"job": "media.probe"})
    assert header["ok"] is False
