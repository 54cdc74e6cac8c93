"""The viewer's "image.frames" job on real corpus images, in this process and in a worker."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageCms

from app.image_frames import DEFAULT_DURATION, handle
from app.viewer_jobs import viewer_pool
from app.workers import WorkerPool


def frames(path: Path, **caps: int) -> tuple[dict[str, Any], bytes]:
    header, payload = handle({"job": "image.frames", "path": str(path), **caps})
    if header["ok"]:
        checked = 0
        for frame in header["frames"]:
            assert frame["offset"] == checked
            assert frame["length"] == header["stride"] * header["height"]
            checked += frame["length"]
        assert checked == len(payload)
    return header, payload


def difference(a: bytes, b: bytes) -> float:
    assert len(a) == len(b)
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def test_still_photo(corpus: Path) -> None:
    header, payload = frames(corpus / "images" / "flower.jpg")
    assert header["ok"] and header["mode"] == "RGB"
    assert (header["width"], header["height"]) == (480, 360)
    assert (header["original_width"], header["original_height"]) == (480, 360)
    assert len(header["frames"]) == 1 and header["frames"][0]["duration"] == 0
    assert header["stride"] == 480 * 3 and len(payload) == 480 * 360 * 3
    assert not header["truncated"]


def test_large_image_is_reduced_to_max_pixels(corpus: Path) -> None:
    header, payload = frames(corpus / "images" / "flower.jpg", max_pixels=20_000)
    assert header["width"] * header["height"] <= 20_000
    assert header["width"] / header["height"] == pytest.approx(480 / 360, rel=0.05)
    assert (header["original_width"], header["original_height"]) == (480, 360)
    assert len(payload) == header["width"] * header["height"] * 3


@pytest.mark.parametrize("orientation", range(2, 9))
def test_exif_orientation_is_applied(corpus: Path, orientation: int) -> None:
    _, upright = frames(corpus / "images" / "hopper.jpg")
    path = corpus / "images" / f"hopper_orientation_{orientation}.jpg"
    header, turned = frames(path)
    assert (header["width"], header["height"]) == (128, 128)
    # The same picture, up to JPEG noise; left as stored it would differ a lot.
    with Image.open(path) as stored:
        raw = stored.convert("RGB").tobytes()
    assert difference(upright, turned) < 10
    assert difference(upright, raw) > 2 * difference(upright, turned)


def test_transparency_is_kept(corpus: Path) -> None:
    for name in ("transparent.png", "transparent.webp"):
        header, payload = frames(corpus / "images" / name)
        assert header["mode"] == "RGBA", name
        alphas = payload[3::4]
        assert min(alphas) < 255, name


@pytest.mark.parametrize(
    ("name", "count"),
    [("dispose_bgnd.gif", 5), ("chi.gif", 31), ("iss634.webp", 42), ("iss634.apng", 41)],
)
def test_animations_have_every_frame(corpus: Path, name: str, count: int) -> None:
    header, payload = frames(corpus / "images" / name)
    assert header["mode"] == "RGBA"
    assert len(header["frames"]) == count
    assert all(frame["duration"] >= 20 for frame in header["frames"])
    assert header["loop"] == 0 and not header["truncated"]
    size = header["frames"][0]["length"]
    assert payload[:size] != payload[size : 2 * size]  # the frames differ


def test_gif_durations(corpus: Path) -> None:
    header, _ = frames(corpus / "images" / "dispose_bgnd.gif")
    assert {frame["duration"] for frame in header["frames"]} == {1000}
    header, _ = frames(corpus / "images" / "chi.gif")
    assert header["frames"][0]["duration"] == DEFAULT_DURATION


def test_animation_is_truncated_at_max_bytes(corpus: Path) -> None:
    header, payload = frames(corpus / "images" / "chi.gif", max_bytes=1_000_000)
    assert header["truncated"]
    assert len(header["frames"]) == 1_000_000 // (320 * 240 * 4)
    assert len(payload) <= 1_000_000


def test_multipage_tiff_is_a_still(corpus: Path) -> None:
    header, _ = frames(corpus / "images" / "multipage.tiff")
    assert len(header["frames"]) == 1


def test_cmyk_and_icc_profiles_come_out_rgb(corpus: Path) -> None:
    header, _ = frames(corpus / "images" / "pil_sample_cmyk.jpg")
    assert header["ok"] and header["mode"] == "RGB"
    header, _ = frames(corpus / "images" / "icc_profile_big.jpg")
    assert header["ok"] and header["mode"] == "RGB"


def test_icc_profile_is_converted_to_srgb(corpus: Path, tmp_path: Path) -> None:
    path = corpus / "images" / "xmp_tags_orientation.png"  # ColorMatch RGB, not sRGB
    header, payload = frames(path)
    with Image.open(path) as stored:
        assert "icc_profile" in stored.info
        raw = stored.convert(header["mode"])
        size = (header["width"], header["height"])
        if raw.size != size:  # the file's own orientation turned it
            raw = raw.transpose(Image.Transpose.ROTATE_270)
        if raw.size != size:
            pytest.skip("orientation differs; covered elsewhere")
        source = ImageCms.ImageCmsProfile(io.BytesIO(stored.info["icc_profile"]))
    converted = ImageCms.profileToProfile(
        raw, source, ImageCms.createProfile("sRGB"), outputMode=header["mode"]
    )
    assert converted is not None
    assert difference(payload, converted.tobytes()) < difference(payload, raw.tobytes())

    broken = tmp_path / "broken-profile.png"
    Image.new("RGB", (4, 4), (0, 255, 0)).save(broken, icc_profile=b"not a profile" * 10)
    header, payload = frames(broken)
    assert header["ok"] and payload[:3] == bytes((0, 255, 0))  # the profile is ignored


def test_bombs_and_damage_are_clean_reasons(corpus: Path) -> None:
    for name in ("decompression_bomb.gif", "decompression_bomb_extents.gif"):
        header, payload = frames(corpus / "broken" / name)
        assert not header["ok"] and "too many pixels" in header["reason"], name
        assert payload == b""
    header, _ = frames(corpus / "broken" / "broken.png")
    assert not header["ok"] and "damaged" in header["reason"]


def test_formats_outside_the_allow_list_are_refused(corpus: Path) -> None:
    header, _ = frames(corpus / "images" / "non_zero_bb.eps")  # would run Ghostscript
    assert not header["ok"]


def test_malformed_request() -> None:
    header, _ = handle({"job": "image.frames"})
    assert not header["ok"] and header["reason"] == "the request was malformed"
    header, _ = handle({"job": "image.frames", "path": "/x", "max_pixels": "many"})
    assert not header["ok"]


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    workers = viewer_pool(workers=1)
    yield workers
    workers.close()


def test_through_the_viewer_worker(pool: WorkerPool, corpus: Path) -> None:
    request = {"job": "image.frames", "path": str(corpus / "images" / "iss634.gif")}
    header, payload = pool.run(request)
    assert header["ok"] and len(header["frames"]) == 42
    assert len(payload) == sum(frame["length"] for frame in header["frames"])
    request["path"] = str(corpus / "broken" / "decompression_bomb.gif")
    header, payload = pool.run(request)
    assert not header["ok"] and "too many pixels" in header["reason"]
