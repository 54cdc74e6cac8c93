"""Thumbnails per second next to ``vipsthumbnail`` and ImageMagick, on the same files.

Data: 200 photos of 4000×3000 (JPEG, quality 90) and 100 pictures of
2000×2000 (PNG), made once from a real photo of the test corpus, cropped, recoloured and with
sensor-like grain, so that each file is different and weighs what a camera's
does (about 3 MB per JPEG). They
are kept in ``bench/out/thumbdata`` between runs.

Each tool makes 256-pixel thumbnails of every file, with one and with two
workers, three times, taking turns; the median run counts:

* ours: :class:`app.thumbnails.Thumbnailer` as the window uses it — a request
  to a sandboxed worker process, Pillow's reduced-size JPEG decoding, the
  pixels back over a pipe, then JPEG encoding and an atomic write of the cache
  file. Two workers: two threads asking two worker processes. The workers are
  started before the clock starts (the window starts them early too).
* ``vipsthumbnail -s 256`` (Debian libvips-tools), one process per worker
  over its half of the files, ``VIPS_CONCURRENCY=1`` so that a worker is one
  core, as ours are.
* ImageMagick ``mogrify -thumbnail 256x256`` with ``-define jpeg:size=512x512``
  (its own reduced-size decoding), one process per worker,
  ``MAGICK_THREAD_LIMIT=1``.

A tool that is missing is installed with apt-get.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import OUT, ROOT, Row, Section, apt_install, log, median, temp_dir

SIZE = 256
RUNS = 3  # per tool and setting; the median counts
CORPUS = ROOT.parent / "shared" / "corpus"
DATA = OUT / "thumbdata"


# -- data ---------------------------------------------------------------------


def _photo_source() -> object:
    from PIL import Image

    source = CORPUS / "images" / "flower.jpg"
    if source.is_file():
        with Image.open(source) as image:
            return image.convert("RGB")
    # Without the corpus: a synthetic scene with the same kind of detail.
    image = Image.radial_gradient("L").resize((800, 600)).convert("RGB")
    return image


def make_data(jpegs: int, pngs: int) -> tuple[list[Path], list[Path]]:
    """The benchmark's pictures, made the first time (about two minutes)."""
    from PIL import Image, ImageChops, ImageEnhance

    jpeg_dir, png_dir = DATA / "jpeg", DATA / "png"
    jpeg_dir.mkdir(parents=True, exist_ok=True)
    png_dir.mkdir(parents=True, exist_ok=True)
    base = _photo_source()
    assert isinstance(base, Image.Image)
    rng = random.Random(7)

    def variant(width: int, height: int, seed: int, grain: float) -> Image.Image:
        rng.seed(seed)
        left = rng.randint(0, base.width // 5)
        top = rng.randint(0, base.height // 5)
        crop = base.crop((left, top, left + base.width * 4 // 5, top + base.height * 4 // 5))
        picture = crop.resize((width, height), Image.Resampling.BICUBIC)
        picture = ImageEnhance.Color(picture).enhance(rng.uniform(0.7, 1.3))
        # Sensor-like grain: what makes real photos cost what they cost to decode
        # (a 12 MP photo at quality 90 comes out near 3 MB, as a phone's does).
        noise = Image.effect_noise((width, height), rng.uniform(30, 40)).convert("RGB")
        return ImageChops.blend(picture, noise, grain)

    jpeg_files = []
    for i in range(jpegs):
        path = jpeg_dir / f"photo_{i:03}.jpg"
        if not path.exists():
            variant(4000, 3000, i, 0.18).save(path, "JPEG", quality=90)
        jpeg_files.append(path)
    png_files = []
    for i in range(pngs):
        path = png_dir / f"picture_{i:03}.png"
        if not path.exists():
            variant(2000, 2000, 1000 + i, 0.06).save(path, "PNG", compress_level=6)
        png_files.append(path)
    return jpeg_files, png_files


# -- tools --------------------------------------------------------------------


def ensure_tools() -> dict[str, str]:
    tools = {}
    for name, package in (("vipsthumbnail", "libvips-tools"), ("mogrify", "imagemagick")):
        found = shutil.which(name)
        if found is None:
            apt_install(package)
            found = shutil.which(name)
        if found is None:
            raise RuntimeError(f"{name} is still missing after installing {package}")
        tools[name] = found
    return tools


def _version(cmd: list[str]) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else "?"


# -- runs ---------------------------------------------------------------------


def _halves(files: list[Path], workers: int) -> list[list[Path]]:
    return [files[i::workers] for i in range(workers)]


def run_ours(files: list[Path], workers: int, cache: Path) -> float:
    """Seconds for our thumbnailer to make every file's thumbnail (cache file written)."""
    from app.thumbnails import Thumbnailer

    mime = "image/jpeg" if files[0].suffix == ".jpg" else "image/png"
    hashes = [hashlib.sha256(str(f).encode()).hexdigest() for f in files]  # any unique key
    shutil.rmtree(cache, ignore_errors=True)
    with Thumbnailer(cache, workers=workers, timeout=60) as thumbnailer:
        # Start the worker processes before the clock starts, as the window does.
        warm = [hashlib.sha256(f"warm{i}".encode()).hexdigest() for i in range(workers)]
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda h: thumbnailer.make(h, files[0], mime, 64), warm))
        started = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            made = list(
                pool.map(
                    lambda pair: thumbnailer.make(pair[0], pair[1], mime, SIZE),
                    zip(hashes, files, strict=True),
                )
            )
        took = time.perf_counter() - started
    missing = sum(1 for m in made if m is None)
    if missing:
        raise RuntimeError(f"{missing} thumbnails were not made")
    return took


def _run_parallel(commands: list[list[str]], env: dict[str, str]) -> float:
    started = time.perf_counter()
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL) for cmd in commands]
    codes = [p.wait() for p in procs]
    took = time.perf_counter() - started
    if any(codes):
        raise RuntimeError(f"{commands[0][0]} failed: exit codes {codes}")
    return took


def run_vips(tool: str, files: list[Path], workers: int, out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = dict(os.environ, VIPS_CONCURRENCY="1")
    commands = [
        [tool, "-s", str(SIZE), "-o", f"{out}/%s.jpg[Q=85]", *map(str, part)]
        for part in _halves(files, workers)
    ]
    return _run_parallel(commands, env)


def run_magick(tool: str, files: list[Path], workers: int, out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = dict(os.environ, MAGICK_THREAD_LIMIT="1")
    commands = [
        [
            tool,
            "-path",
            str(out),
            "-define",
            f"jpeg:size={2 * SIZE}x{2 * SIZE}",
            "-thumbnail",
            f"{SIZE}x{SIZE}",
            "-quality",
            "85",
            "-format",
            "jpg",
            *map(str, part),
        ]
        for part in _halves(files, workers)
    ]
    return _run_parallel(commands, env)


def bench(quick: bool) -> list[Section]:
    tools = ensure_tools()
    jpegs, pngs = make_data(40 if quick else 200, 20 if quick else 100)
    section = Section(
        "Thumbnails",
        f"{len(jpegs)} JPEG photos of 4000×3000 and {len(pngs)} PNGs of 2000×2000 made into "
        f"{SIZE}-pixel thumbnails, cache files written, with one and with two workers. Peers: "
        f"`vipsthumbnail` ({_version([tools['vipsthumbnail'], '--vips-version'])}, "
        "`VIPS_CONCURRENCY=1` per worker) and ImageMagick `mogrify` with `jpeg:size` "
        f"({_version([tools['mogrify'], '-version'])[:40]}, `MAGICK_THREAD_LIMIT=1`).",
    )
    with temp_dir("thumbs") as work:
        for kind, files, goal_factor in (("JPEG", jpegs, 1.2), ("PNG", pngs, 1.0)):
            for workers in (1, 2):
                log(f"thumbnails: {kind}, {workers} worker(s)")
                times: dict[str, list[float]] = {"ours": [], "vips": [], "magick": []}
                for _ in range(1 if quick else RUNS):  # taking turns, so noise hits all alike
                    times["ours"].append(run_ours(files, workers, work / "ours"))
                    times["vips"].append(
                        run_vips(tools["vipsthumbnail"], files, workers, work / "vips")
                    )
                    times["magick"].append(
                        run_magick(tools["mogrify"], files, workers, work / "magick")
                    )
                rate, vips_rate, magick_rate = (
                    len(files) / median(times[tool]) for tool in ("ours", "vips", "magick")
                )
                ratio = rate / vips_rate
                section.rows.append(
                    Row(
                        f"{kind}, {workers} worker{'s' if workers > 1 else ''}",
                        f"{rate:.1f}/s",
                        f"vips {vips_rate:.1f}/s · ImageMagick {magick_rate:.1f}/s",
                        f"{ratio:.2f}× vips",
                        f"≥ {goal_factor:g}× vips",
                        ratio >= goal_factor,
                    )
                )
    return [section]
