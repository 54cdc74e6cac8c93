"""Time to the first visible page of a 500-page PDF in the preview pane's PDF viewer.

Ours, in a child process (offscreen Qt, a fresh interpreter): the viewer's
worker processes are started and warmed as the window does it a moment after
start; then, for each of five copies of the document (distinct files, so no
worker has it open already), the clock runs from ``PdfViewer.show_source`` to
its ``page_shown`` signal: the first page's pixels painted at the fit-width
zoom of a 600-pixel-wide pane.

Peers on the same file at the same size: ``pdftoppm`` (poppler-utils)
drawing page 1, a whole process from start to PNG; and PyMuPDF alone in this
process (open, render page 1), the floor of what the viewer can do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import OUT, ROOT, Row, Section, apt_install, fmt_ms, log, median, temp_dir

PAGES = 500
WIDTH = 600  # the viewer's width in pixels
COPIES = 5


def make_pdf(path: Path) -> Path:
    """A 500-page report: headings, paragraphs of text, a drawing every tenth page."""
    import pymupdf

    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    document = pymupdf.open()
    words = [
        "vault",
        "photo",
        "bucket",
        "archive",
        "summer",
        "holiday",
        "invoice",
        "contract",
        "draft",
        "report",
    ]
    for number in range(1, PAGES + 1):
        page = document.new_page(width=595, height=842)  # A4
        page.insert_text((72, 90), f"Chapter {number}", fontsize=22)
        y = 130
        for line in range(40):
            text = " ".join(words[(number * 7 + line * 3 + k) % len(words)] for k in range(12))
            page.insert_text((72, y), text, fontsize=10)
            y += 16
        if number % 10 == 0:
            page.draw_circle((300, 600), 80, color=(0.2, 0.4, 0.8), fill=(0.8, 0.9, 1))
    document.save(path)
    document.close()
    return path


def _child_ours(paths: list[str]) -> None:
    """Runs in the child: prints one JSON line with the seconds to the first page, per copy."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from app.viewer_jobs import WARM_UP, viewer_pool
    from ui.tasks import TaskManager
    from ui.viewers.base import ViewerServices, ViewerSource
    from ui.viewers.pdf_viewer import PdfViewer

    app = QApplication([])
    pool = viewer_pool(workers=2)
    pool.warm(WARM_UP)
    time.sleep(4)  # the window warms its workers 1.5 s after start; they are ready by now
    tasks = TaskManager(max_threads=2, name="bench")
    viewer = PdfViewer(ViewerServices(tasks, pool, Path(paths[0]).parent), None)
    viewer.resize(WIDTH, 800)
    viewer.show()
    app.processEvents()
    times = []
    shown: list[float] = []
    viewer.page_shown.connect(lambda _n: shown.append(time.perf_counter()))
    for index, path in enumerate(paths):
        shown.clear()
        source = ViewerSource(
            index, Path(path).name, "application/pdf", "pdf", Path(path), f"{index:064x}", 0
        )
        started = time.perf_counter()
        viewer.show_source(source)
        deadline = started + 30
        while not shown and time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.001)
        times.append(shown[0] - started if shown else float("nan"))
        viewer.stop()
    tasks.shutdown()
    pool.close()
    print(json.dumps({"times": times}))


def _pymupdf_first_page(path: Path) -> float:
    import pymupdf

    started = time.perf_counter()
    document = pymupdf.open(path)
    page = document[0]
    zoom = WIDTH / page.rect.width
    page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
    took = time.perf_counter() - started
    document.close()
    return took


def bench(quick: bool) -> list[Section]:
    if shutil.which("pdftoppm") is None:
        apt_install("poppler-utils")
    source = make_pdf(OUT / "pdf" / f"report-{PAGES}.pdf")
    section = Section(
        "PDF viewer",
        f"A {PAGES}-page PDF (A4, text on every page, a drawing every tenth), shown in the "
        f"preview pane's PDF viewer {WIDTH} pixels wide, fitted to its width. Five distinct "
        "copies, each opened for the first time, the viewer's worker processes already started.",
    )
    with temp_dir("pdf") as work:
        copies = []
        for i in range(COPIES):
            copy = work / f"copy-{i}.pdf"
            shutil.copyfile(source, copy)
            copies.append(str(copy))
        log("pdf: ours")
        done = subprocess.run(
            [sys.executable, "-m", "bench.bench_pdf", "ours", *copies],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the PDF viewer child failed: {done.stderr[-2000:]}")
        ours = median(json.loads(done.stdout.strip().splitlines()[-1])["times"])
        log("pdf: pdftoppm, PyMuPDF")
        poppler = []
        for copy in copies:
            started = time.perf_counter()
            subprocess.run(
                ["pdftoppm", "-f", "1", "-l", "1", "-scale-to-x", str(WIDTH), "-scale-to-y", "-1"]
                + ["-png", copy, str(work / "page")],
                check=True,
            )
            poppler.append(time.perf_counter() - started)
        floor = median([_pymupdf_first_page(Path(c)) for c in copies])
    section.rows.append(
        Row(
            "first visible page",
            fmt_ms(ours),
            f"pdftoppm {fmt_ms(median(poppler))} · PyMuPDF alone {fmt_ms(floor)}",
            f"{median(poppler) / ours:.1f}× pdftoppm",
            "< 150 ms",
            ours < 0.150,
        )
    )
    return [section]


if __name__ == "__main__":
    if sys.argv[1] == "ours":
        _child_ours(sys.argv[2:])
