"""Every file of the shared corpus through import, thumbnail and its viewer, in one run.

Valid files must get a thumbnail and a meaningful preview (PDF page count as
the catalog has it, a .docx's words, a video's duration); damaged and hostile
ones must end within their time limit with a clean message; and the one
window-less pane that shows them all must still work at the end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.rows import FileInfo
from app.thumbnails import Thumbnailer, build_thumbnails
from app.vault import Vault
from app.viewer_jobs import VIEWER_TIMEOUT, viewer_pool
from app.workers import WorkerPool
from ui.preview_pane import PreviewPane
from ui.tasks import TaskManager
from ui.viewers.base import ViewerServices
from ui.viewers.host import viewer_family

# A viewer may need two worker jobs in a row (PDF: open, then page 1), plus a
# loaded machine's slack.
LIMIT_S = 2 * VIEWER_TIMEOUT + 10


def _manifest(corpus: Path) -> list[tuple[str, str, str, str]]:
    lines = (corpus / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
    rows = [line.split("\t") for line in lines]
    return [(row[0], row[5], row[6], row[7]) for row in rows]


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    workers = viewer_pool(workers=2)
    yield workers
    workers.close()


def _docx_words(path: Path) -> list[str]:
    import docx

    words = []
    for paragraph in docx.Document(str(path)).paragraphs:
        words.extend(w for w in paragraph.text.split() if len(w) > 3 and w.isalpha())
    return words[:20]


@pytest.mark.timeout(1500)
def test_every_corpus_file_imports_thumbnails_and_previews(
    qtbot: QtBot, qapp: QApplication, vault: Vault, pool: WorkerPool, corpus: Path
) -> None:
    manifest = _manifest(corpus)
    report = vault.import_paths([corpus / rel for rel, *_ in manifest], workers=2)
    assert not report.failed, report.failed  # every file imports, whatever it holds
    # The corpus's file names are unique, so each lands in the vault's top folder as itself.
    ids = {vault.file_info(file_id).name: file_id for file_id in report.file_ids}

    thumbs = build_thumbnails(vault, 256, workers=2)
    failed = dict(thumbs.failed)
    thumbnailer = Thumbnailer(vault.paths.cache)  # only to find the cached files

    tasks = TaskManager(max_threads=2, name="sweep")
    viewer_tasks = TaskManager(max_threads=2, name="sweep-viewers")
    pane = PreviewPane(
        vault, tasks, None, services=ViewerServices(viewer_tasks, pool, vault.paths.cache)
    )
    qtbot.addWidget(pane)
    pane.resize(520, 900)
    pane.show()
    host = pane.viewer_host
    assert host is not None
    problems: list[str] = []
    shown = failures = 0
    try:
        for rel, kind, expectation, note in manifest:
            file_id = ids[rel.rpartition("/")[2]]
            info = vault.file_info(file_id)
            path = info.path
            if expectation == "valid" and path in failed and "cannot identify" not in note:
                problems.append(f"{rel}: valid but no thumbnail ({failed[path]})")
            problems.extend(_check_thumbnail(thumbnailer, rel, kind, info))
            family = viewer_family(info.mime, info.name)
            started = time.monotonic()
            pane.show_file(file_id)
            qtbot.waitUntil(lambda info=info: pane.title == info.name, timeout=10_000)
            if family is None:
                continue

            def settled() -> bool:
                return host.shown or (host.message or "").startswith("Cannot preview")

            qtbot.waitUntil(settled, timeout=int(LIMIT_S * 1000))
            took = time.monotonic() - started
            message = host.message or ""
            if "Traceback" in message or "Error:" in message:
                problems.append(f"{rel}: unclean message {message!r}")
            if host.shown:
                shown += 1
                problems.extend(_check_preview(pane, rel, kind, info, corpus))
            else:
                failures += 1
                # A spreadsheet or slides need LibreOffice's Calc or Impress, which
                # a Writer-only install lacks: the message says LibreOffice failed.
                partial_office = kind == "office" and "LibreOffice" in message
                if expectation == "valid" and not partial_office:
                    problems.append(f"{rel}: valid but {message}")
            if took > LIMIT_S:
                problems.append(f"{rel}: took {took:.1f} s")
        # Still alive and well after all of them.
        pane.show_file(ids["hopper.jpg"])
        qtbot.waitUntil(lambda: host.shown, timeout=int(LIMIT_S * 1000))
    finally:
        host.stop()
        viewer_tasks.shutdown()
        tasks.shutdown()
    assert not problems, "\n".join(problems)
    assert shown > 150 and failures > 20, (shown, failures)


def _check_thumbnail(thumbnailer: Thumbnailer, rel: str, kind: str, info: FileInfo) -> list[str]:
    """A picture's thumbnail is its own shape, 256 pixels long or its own size if smaller."""
    from PIL import Image

    version = info.version
    if kind != "image" or not (version.width and version.height):
        return []
    cached = thumbnailer.cached(version.blob_hash, 256)
    if cached is None:
        return []  # a format without thumbnails, or a file that failed: checked above
    with Image.open(cached) as thumb:
        width, height = thumb.size
    longest = max(version.width, version.height)
    want = min(256, longest)
    ratio = version.width / version.height
    if abs(max(width, height) - want) > 1 or abs(width / height - ratio) > 0.05 * ratio + 0.02:
        return [f"{rel}: thumbnail {width}×{height} for {version.width}×{version.height}"]
    return []


def _check_preview(
    pane: PreviewPane, rel: str, kind: str, info: FileInfo, corpus: Path
) -> list[str]:
    """What makes a shown preview meaningful, per kind."""
    from ui.viewers.document_viewer import DocumentViewer
    from ui.viewers.media_player import MediaPlayer
    from ui.viewers.pdf_viewer import PdfViewer

    viewer = pane.viewer
    version = info.version
    pages = version.pages
    if isinstance(viewer, PdfViewer) and pages is not None and viewer.page_count != pages:
        return [f"{rel}: {viewer.page_count} pages shown, the catalog says {version.pages}"]
    if isinstance(viewer, DocumentViewer) and rel.endswith(".docx"):
        text = viewer.document_text()
        missing = [w for w in _docx_words(corpus / rel) if w not in text]
        if missing:
            return [f"{rel}: words missing from the preview: {missing[:5]}"]
    if isinstance(viewer, MediaPlayer) and kind == "video" and version.duration:
        duration_ms = viewer.duration_ms
        if duration_ms and abs(duration_ms / 1000 - version.duration) > 1.0:
            return [f"{rel}: plays {duration_ms} ms, the catalog says {version.duration} s"]
    return []
