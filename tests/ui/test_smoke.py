"""The smoke run (ui/smoke.py) from source: what .ci/run repeats on the built bundle."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.smoke_files import made

ROOT = Path(__file__).resolve().parents[2]


def _smoke(home: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MEDIAVAULT_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "app", "--smoke-test", *map(str, files)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_smoke_run_imports_thumbnails_and_previews(tmp_path: Path) -> None:
    files = made(tmp_path / "files")
    done = _smoke(tmp_path / "vault", *files)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("READY ")
    assert any("imported and listed: clip.mp4, photo.jpg, report.pdf" in line for line in lines)
    assert any("3 thumbnails made" in line for line in lines)
    for name, viewer in (
        ("photo.jpg", "ImageViewer"),
        ("report.pdf", "PdfViewer"),
        ("clip.mp4", "MediaPlayer"),
    ):
        assert any(f"{name} shown in its viewer ({viewer})" in line for line in lines), lines
    assert lines[-1] == "smoke: passed"
    assert (tmp_path / "vault" / "catalog.sqlite3").is_file()


def test_a_smoke_run_that_cannot_finish_says_which_step(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\nnot really a PDF\n")
    done = _smoke(tmp_path / "vault", broken)
    assert done.returncode == 1
    failed = [line for line in done.stdout.splitlines() if line.startswith("smoke: FAILED: ")]
    assert failed and "broken.pdf" in failed[0], done.stdout
    assert "Traceback" not in done.stdout + done.stderr
