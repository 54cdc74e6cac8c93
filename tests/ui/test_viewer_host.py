"""The preview pane's viewers in place: the right one per type, fetching, failures, stopping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from app.vault import Vault
from app.workers import WorkerPool
from storage.s3 import S3BlobStore
from storage.s3_client import Credentials, RemoteSpec
from ui import viewers
from ui.preview_pane import PreviewPane
from ui.tasks import TaskManager
from ui.viewers.base import ViewerServices
from ui.viewers.host import viewer_family

WAIT = 30_000


@pytest.fixture
def pane(qtbot: QtBot, qapp: QApplication, vault: Vault, pool: WorkerPool) -> Iterator[PreviewPane]:
    tasks = TaskManager(max_threads=2, name="test-pane")
    viewer_tasks = TaskManager(max_threads=2, name="test-viewers")
    services = ViewerServices(viewer_tasks, pool, vault.paths.cache)
    widget = PreviewPane(vault, tasks, None, services=services)
    qtbot.addWidget(widget)
    widget.resize(480, 800)
    widget.show()
    yield widget
    assert widget.viewer_host is not None
    widget.viewer_host.stop()
    viewer_tasks.shutdown()
    tasks.shutdown()


def _import(vault: Vault, *paths: Path) -> dict[str, int]:
    report = vault.import_paths(list(paths), workers=1)
    assert not report.failed, report.failed
    return {vault.file_info(i).name: i for i in report.file_ids}


def test_types_pick_their_viewer() -> None:
    assert viewer_family("application/pdf", "a.pdf") == "pdf"
    assert viewer_family("image/jpeg", "a.jpg") == "image"
    assert viewer_family("image/heic", "a.heic") == "image"
    assert viewer_family("image/svg+xml", "a.svg") is None
    assert viewer_family("video/mp4", "a.mp4") == "media"
    assert viewer_family("audio/flac", "a.flac") == "media"
    assert viewer_family("text/plain", "a.txt") == "text"
    assert viewer_family("text/csv", "a.csv") == "text"
    assert viewer_family("application/json", "a.json") == "text"
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert viewer_family(docx, "a.docx") == "document"
    assert viewer_family("application/zip", "a.zip") is None


def test_each_kind_of_file_shows_in_its_viewer(
    qtbot: QtBot, pane: PreviewPane, vault: Vault, corpus: Path
) -> None:
    from ui.viewers.document_viewer import DocumentViewer
    from ui.viewers.image_viewer import ImageViewer
    from ui.viewers.media_player import MediaPlayer
    from ui.viewers.pdf_viewer import PdfViewer
    from ui.viewers.text_viewer import TextViewer

    ids = _import(
        vault,
        corpus / "images/hopper.jpg",
        corpus / "pdf/pdflatex-4-pages.pdf",
        corpus / "office/fixture.docx",
        corpus / "text/crazyones.txt",
        corpus / "media/silence-44-s.mp3",
    )
    expected = {
        "hopper.jpg": ImageViewer,
        "pdflatex-4-pages.pdf": PdfViewer,
        "fixture.docx": DocumentViewer,
        "crazyones.txt": TextViewer,
        "silence-44-s.mp3": MediaPlayer,
    }
    host = pane.viewer_host
    assert host is not None
    for name, kind in expected.items():
        pane.show_file(ids[name])
        qtbot.waitUntil(lambda kind=kind: isinstance(pane.viewer, kind), timeout=WAIT)
        qtbot.waitUntil(lambda: host.shown, timeout=WAIT)
        assert host.isVisible() and not pane.viewer_area.isVisible(), name
        assert pane.properties()["Size"], name  # the properties stay below the viewer
        assert host.message is None, name


def test_a_file_without_viewer_shows_its_thumbnail_area(
    qtbot: QtBot, pane: PreviewPane, vault: Vault, tmp_path: Path
) -> None:
    source = tmp_path / "archive.zip"
    source.write_bytes(b"PK\x05\x06" + bytes(18))
    ids = _import(vault, source)
    pane.show_file(ids["archive.zip"])
    qtbot.waitUntil(lambda: pane.title == "archive.zip", timeout=WAIT)
    host = pane.viewer_host
    assert host is not None
    assert not host.isVisible() and pane.viewer_area.isVisible()
    assert pane.viewer is None


def test_a_broken_file_says_it_cannot_be_previewed(
    qtbot: QtBot, pane: PreviewPane, vault: Vault, corpus: Path
) -> None:
    ids = _import(vault, corpus / "broken/broken.png")
    pane.show_file(ids["broken.png"])
    host = pane.viewer_host
    assert host is not None
    qtbot.waitUntil(lambda: (host.message or "").startswith("Cannot preview"), timeout=WAIT)
    assert "Traceback" not in (host.message or "")
    assert pane.properties()["Size"]  # the rest of the pane is unaffected


def test_changing_the_selection_stops_the_player(
    qtbot: QtBot, pane: PreviewPane, vault: Vault, corpus: Path
) -> None:
    from ui.viewers.media_player import MediaPlayer

    ids = _import(vault, corpus / "media/silence-44-s.mp3", corpus / "text/crazyones.txt")
    pane.show_file(ids["silence-44-s.mp3"])
    qtbot.waitUntil(lambda: isinstance(pane.viewer, MediaPlayer), timeout=WAIT)
    player = pane.viewer
    assert isinstance(player, MediaPlayer)
    qtbot.waitUntil(lambda: pane.viewer_host is not None and pane.viewer_host.shown, timeout=WAIT)
    player.play()
    qtbot.waitUntil(lambda: player.playing, timeout=WAIT)
    pane.show_file(ids["crazyones.txt"])
    assert not player.playing  # at once, not when the next file's details arrive


@pytest.fixture
def store(spec: RemoteSpec, s3_credentials: Credentials) -> S3BlobStore:
    """An S3 store on a new bucket (``spec`` empties and deletes it afterwards)."""
    return S3BlobStore(spec, s3_credentials, sleep=lambda _s: None)


def _evict(vault: Vault, store: S3BlobStore, file_id: int) -> str:
    blob_hash = vault.file_info(file_id).version.blob_hash
    store.put(blob_hash, vault.blobs.path(blob_hash), vault.file_info(file_id).size)
    with vault.writing() as session:
        session.execute(
            text("UPDATE blob SET remote_state = 'completed' WHERE hash = :h"), {"h": blob_hash}
        )
    report = vault.free_up_space(store, file_ids=[file_id])
    assert report.evicted == 1
    return blob_hash


def _local(vault: Vault, blob_hash: str) -> str:
    with vault.reading() as session:
        state = session.execute(
            text("SELECT local_state FROM blob WHERE hash = :h"), {"h": blob_hash}
        ).scalar_one()
    return str(state)


def test_an_evicted_file_is_fetched_then_shown(
    qtbot: QtBot, pane: PreviewPane, vault: Vault, store: S3BlobStore, corpus: Path
) -> None:
    from ui.viewers.pdf_viewer import PdfViewer

    ids = _import(vault, corpus / "pdf/pdflatex-4-pages.pdf")
    file_id = ids["pdflatex-4-pages.pdf"]
    blob_hash = _evict(vault, store, file_id)
    vault.remote_store = store
    pane.show_file(file_id)
    qtbot.waitUntil(lambda: isinstance(pane.viewer, PdfViewer), timeout=WAIT)
    assert _local(vault, blob_hash) == "present"  # downloaded and verified first


def test_a_big_evicted_file_waits_for_a_click(
    qtbot: QtBot,
    pane: PreviewPane,
    vault: Vault,
    store: S3BlobStore,
    corpus: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ui.viewers.image_viewer import ImageViewer

    monkeypatch.setattr(viewers.host, "AUTO_FETCH_BYTES", 1000)
    ids = _import(vault, corpus / "images/hopper.jpg")
    file_id = ids["hopper.jpg"]
    blob_hash = _evict(vault, store, file_id)
    vault.remote_store = store
    pane.show_file(file_id)
    host = pane.viewer_host
    assert host is not None
    qtbot.waitUntil(lambda: host.message == "This file is in the bucket only.", timeout=WAIT)
    assert _local(vault, blob_hash) == "evicted"
    button = host.findChild(QPushButton, "fetch_button")
    assert button is not None and button.isVisible() and "Download" in button.text()
    button.click()
    qtbot.waitUntil(lambda: isinstance(pane.viewer, ImageViewer), timeout=WAIT)
    assert _local(vault, blob_hash) == "present"


def test_without_a_bucket_an_evicted_file_explains_itself(
    qtbot: QtBot, pane: PreviewPane, vault: Vault, store: S3BlobStore, corpus: Path
) -> None:
    ids = _import(vault, corpus / "text/crazyones.txt")
    file_id = ids["crazyones.txt"]
    _evict(vault, store, file_id)
    vault.remote_store = None  # and no remote configured: open_remote says so
    pane.show_file(file_id)
    host = pane.viewer_host
    assert host is not None
    qtbot.waitUntil(lambda: host.message is not None and "remote" in host.message, timeout=WAIT)
