"""The built application: its size, and its start next to starting from source.

The bundle is built afresh with ``pyinstaller build.spec`` into
``bench/out/app`` (the build's time is reported too). Start: from just before the parent spawns the process to the ``READY``
timestamp the app prints once its window has been painted (``--smoke-test``
with no files, offscreen, a new vault each time), for the bundle's
executable and for ``python -m app`` from the checkout, taking turns. Then
one full smoke run of the bundle (import a JPEG, a PDF and a video, their
thumbnails, each shown in its viewer) is timed, when the corpus is there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import OUT, ROOT, Row, Section, fmt_ms, log, median, temp_dir

RUNS = 5
CORPUS = ROOT.parent / "shared" / "corpus"
SMOKE_FILES = ("images/hopper.jpg", "pdf/2201.00069.pdf", "media/fixture.webm")


def build(dist: Path) -> tuple[Path, float]:
    """Build the bundle into ``dist`` (replacing an older one): its executable, seconds."""
    shutil.rmtree(dist, ignore_errors=True)
    log("app: building with PyInstaller")
    began = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "build.spec", "--noconfirm", "--log-level", "WARN"]
        + ["--distpath", str(dist), "--workpath", str(dist.parent / "app-work")],
        cwd=ROOT,
        check=True,
    )
    return dist / "mediavault" / "mediavault", time.monotonic() - began


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def start_seconds(command: list[str], home: Path) -> float:
    """Spawn to the window's first paint (the child prints ``READY <epoch>``)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MEDIAVAULT_HOME=str(home))
    began = time.time()
    done = subprocess.run(
        [*command, "--smoke-test"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    ready = [line for line in done.stdout.splitlines() if line.startswith("READY ")]
    if done.returncode != 0 or not ready:
        raise RuntimeError(
            f"{command[0]} did not start: {done.stdout[-1500:]}{done.stderr[-1500:]}"
        )
    return float(ready[0].split()[1]) - began


def bench(quick: bool) -> list[Section]:
    executable, took = build(OUT / "app")
    section = Section(
        "The built application",
        f"`pyinstaller build.spec` (one folder, {sys.platform}); start-up from spawning the "
        "process to the first paint of its window (offscreen, a new vault each time), the "
        f"bundle next to `python -m app` from the checkout, taking turns; medians of {RUNS}.",
    )
    size = folder_bytes(executable.parent)
    frozen: list[float] = []
    source: list[float] = []
    with temp_dir("app") as work:
        for i in range(RUNS):
            log(f"app: start {i + 1}/{RUNS}")
            frozen.append(start_seconds([str(executable)], work / f"frozen-{i}"))
            source.append(start_seconds([sys.executable, "-m", "app"], work / f"source-{i}"))
        smoke = None
        files = [CORPUS / f for f in SMOKE_FILES]
        if all(f.is_file() for f in files):
            log("app: smoke run of the bundle")
            env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MEDIAVAULT_HOME=str(work / "smoke"))
            began = time.monotonic()
            done = subprocess.run(
                [str(executable), "--smoke-test", *map(str, files)],
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            smoke = time.monotonic() - began if done.returncode == 0 else None
    section.rows.append(Row("bundle size (one folder)", f"{size / 1e6:.0f} MB", "", "", "", None))
    section.rows.append(Row("build time", f"{took:.0f} s", "", "", "", None))
    ratio = median(frozen) / median(source)
    section.rows.append(
        Row(
            "start → window painted",
            fmt_ms(median(frozen)),
            f"{fmt_ms(median(source))} from source",
            f"{ratio:.2f}× source",
            "",
            None,
        )
    )
    if smoke is not None:
        section.rows.append(
            Row(
                "smoke run: import a JPEG, a PDF and a video, thumbnails, each previewed",
                f"{smoke:.1f} s",
                "",
                "",
                "exit 0",
                True,
            )
        )
    return [section]
