"""The preview pane over a real vault holding real files from the shared corpus."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPixmap
from PySide6.QtWidgets import QApplication, QToolButton
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from app.rows import FileInfo
from app.vault import Vault
from ui.formatting import format_time
from ui.preview_pane import (
    GONE_TEXT,
    LOADING_TEXT,
    NOTHING_SELECTED_TEXT,
    THUMBNAIL_BUCKETS,
    PreviewPane,
    media_duration,
    selection_text,
    short_hash,
)
from ui.tasks import TaskManager

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WAIT = 10_000


class FakeThumbnails(QObject):
    """A :class:`ui.preview_pane.ThumbnailSource` whose thumbnails the test hands in.

    ``pixmap`` answers None until :meth:`arrive` stores one and emits ``ready``.
    """

    ready = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.stored: dict[str, QPixmap] = {}
        self.asked: list[tuple[str, str, int]] = []

    def pixmap(self, blob_hash: str, mime: str, size: int) -> QPixmap | None:
        self.asked.append((blob_hash, mime, size))
        return self.stored.get(blob_hash)

    def arrive(self, blob_hash: str, width: int, height: int, color: str) -> None:
        pixmap = QPixmap(width, height)
        pixmap.fill(QColor(color))
        self.stored[blob_hash] = pixmap
        self.ready.emit(blob_hash)


@pytest.fixture
def tasks(qapp: QApplication) -> Iterator[TaskManager]:
    manager = TaskManager(max_threads=2, name="test-preview")
    yield manager
    manager.shutdown()


@pytest.fixture
def thumbnails() -> FakeThumbnails:
    return FakeThumbnails()


@pytest.fixture
def pane(qtbot: QtBot, vault: Vault, tasks: TaskManager, thumbnails: FakeThumbnails) -> PreviewPane:
    widget = PreviewPane(vault, tasks, thumbnails)
    qtbot.addWidget(widget)
    widget.resize(320, 640)
    widget.show()
    return widget


def _import(vault: Vault, corpus: Path, *relative: str) -> dict[str, FileInfo]:
    """Imports corpus files in one call; their infos by file name."""
    report = vault.import_paths([corpus / r for r in relative])
    assert not report.failed, report.failed
    infos = [vault.file_info(file_id) for file_id in report.file_ids]
    return {info.name: info for info in infos}


def _tag(vault: Vault, file_id: int, name: str) -> None:
    """Tags by SQL (the tag API comes later)."""
    with vault.writing() as session:
        tag_id = session.execute(
            text("INSERT INTO tag (name, name_key, color) VALUES (:n, :k, '') RETURNING id"),
            {"n": name, "k": name.casefold()},
        ).scalar_one()
        session.execute(
            text("INSERT INTO file_tag (file_id, tag_id) VALUES (:f, :t)"),
            {"f": file_id, "t": tag_id},
        )


def _shown(qtbot: QtBot, pane: PreviewPane, name: str) -> dict[str, str]:
    qtbot.waitUntil(lambda: pane.title == name, timeout=WAIT)
    return pane.properties()


def test_photo_properties(qtbot: QtBot, pane: PreviewPane, vault: Vault, corpus: Path) -> None:
    photo = _import(vault, corpus, "images/flower.jpg")["flower.jpg"]
    pane.show_file(photo.id)
    props = _shown(qtbot, pane, "flower.jpg")
    assert props["Size"] == "32.8 kB (32,764 bytes)"
    assert props["Type"] == "JPEG image"
    assert props["Dimensions"] == "480 × 360"
    assert props["Taken"] == "2003-12-14 12:01"  # EXIF wall-clock time, not shifted
    assert props["Backup"] == "Not backed up"
    assert props["Checksum"] == photo.version.blob_hash
    assert props["Versions"] == "1"
    assert props["Where"] == "/"
    assert props["Added"] == format_time(photo.created_at)
    assert props["Modified"] == format_time(photo.modified_at)
    # Fields the catalog has nothing for are left out, not shown empty.
    for absent in ("Pages", "Duration", "Contains", "Tags", "Description", "Status"):
        assert absent not in props
    checksum = pane.findChild(QObject, "field_checksum")
    assert checksum.text() == short_hash(photo.version.blob_hash)
    assert photo.version.blob_hash in checksum.toolTip()
    assert pane.message is None


def test_pdf_pages_and_tags(qtbot: QtBot, pane: PreviewPane, vault: Vault, corpus: Path) -> None:
    pdf = _import(vault, corpus, "pdf/crazyones.pdf")["crazyones.pdf"]
    vault.describe_file(pdf.id, "The crazy ones, as a PDF.")
    _tag(vault, pdf.id, "Reading")
    pane.show_file(pdf.id)
    props = _shown(qtbot, pane, "crazyones.pdf")
    assert props["Pages"] == "1"
    assert props["Type"] == "PDF document"
    assert props["Tags"] == "Reading"
    assert props["Description"] == "The crazy ones, as a PDF."
    assert "Dimensions" not in props


def test_checksum_copy_gives_the_full_hash(
    qtbot: QtBot, pane: PreviewPane, vault: Vault, corpus: Path
) -> None:
    photo = _import(vault, corpus, "images/flower.jpg")["flower.jpg"]
    pane.show_file(photo.id)
    _shown(qtbot, pane, "flower.jpg")
    QGuiApplication.clipboard().clear()
    button = pane.findChild(QToolButton, "copy_checksum")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == photo.version.blob_hash


def test_folder_properties(qtbot: QtBot, pane: PreviewPane, vault: Vault, corpus: Path) -> None:
    _import(vault, corpus, "images/flower.jpg", "pdf/crazyones.pdf")
    photos = vault.mkdir(vault.root_id, "Photos").created[0]
    pane.show_folder(vault.root_id)
    props = _shown(qtbot, pane, "Vault")
    assert props["Type"] == "Folder"
    assert props["Contains"] == "1 folder, 2 files"
    assert "Where" not in props  # the top of the vault is nowhere
    pane.show_folder(photos)
    props = _shown(qtbot, pane, "Photos")
    assert props["Contains"] == "Nothing"
    assert props["Where"] == "/"
    assert "Size" not in props and "Checksum" not in props
    assert pane.current_file_id is None


def test_stale_reply_is_dropped(
    qtbot: QtBot,
    pane: PreviewPane,
    vault: Vault,
    corpus: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    infos = _import(vault, corpus, "images/flower.jpg", "pdf/crazyones.pdf")
    slow, fast = infos["flower.jpg"].id, infos["crazyones.pdf"].id
    started, release = threading.Event(), threading.Event()
    real: Callable[[int], FileInfo] = vault.file_info

    def gated(file_id: int) -> FileInfo:
        if file_id == slow:
            started.set()
            release.wait(WAIT / 1000)
        return real(file_id)

    monkeypatch.setattr(vault, "file_info", gated)
    pane.show_file(slow)
    assert started.wait(WAIT / 1000)
    pane.show_file(fast)  # the user moved on while the first read still runs
    _shown(qtbot, pane, "crazyones.pdf")
    release.set()
    qtbot.waitUntil(lambda: not pane._tasks.busy, timeout=WAIT)
    qtbot.wait(50)  # let any queued delivery run
    assert pane.title == "crazyones.pdf"
    assert pane.current_file_id == fast


def test_slow_read_says_loading(
    qtbot: QtBot,
    pane: PreviewPane,
    vault: Vault,
    corpus: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    photo = _import(vault, corpus, "images/flower.jpg")["flower.jpg"]
    release = threading.Event()
    real: Callable[[int], FileInfo] = vault.file_info

    def gated(file_id: int) -> FileInfo:
        release.wait(WAIT / 1000)
        return real(file_id)

    monkeypatch.setattr(vault, "file_info", gated)
    pane.show_file(photo.id)
    assert pane.message == NOTHING_SELECTED_TEXT  # no flash of "Loading…" at once
    qtbot.waitUntil(lambda: pane.message == LOADING_TEXT, timeout=WAIT)
    release.set()
    _shown(qtbot, pane, "flower.jpg")


def test_deleted_file_shows_a_message(
    qtbot: QtBot, pane: PreviewPane, vault: Vault, corpus: Path
) -> None:
    photo = _import(vault, corpus, "images/flower.jpg")["flower.jpg"]
    vault.delete_file(photo.id)
    pane.show_file(photo.id)
    props = _shown(qtbot, pane, "flower.jpg")
    assert props["Status"] == "In the Trash"

    vault.empty_trash()
    pane.show_file(photo.id)
    qtbot.waitUntil(lambda: pane.message == GONE_TEXT, timeout=WAIT)
    assert pane.properties() == {}
    assert pane.title == ""


def test_unexpected_error_is_one_line(
    qtbot: QtBot,
    pane: PreviewPane,
    vault: Vault,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(file_id: int) -> FileInfo:
        raise RuntimeError("boom")

    monkeypatch.setattr(vault, "file_info", broken)
    pane.show_file(1)
    qtbot.waitUntil(lambda: pane.message is not None and "log" in pane.message, timeout=WAIT)
    assert "boom" not in (pane.message or "")
    assert "Traceback" not in (pane.message or "")
    assert any(r.exc_info for r in caplog.records)  # the traceback went to the log


def test_selection_and_clear(
    qtbot: QtBot,
    pane: PreviewPane,
    vault: Vault,
    corpus: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pane.show_selection(3, 12_400_000)
    assert pane.message == "3 items · 12.4 MB"
    assert selection_text(1, 0) == "1 item"
    assert selection_text(2_000, 999) == "2,000 items · 999 bytes"

    photo = _import(vault, corpus, "images/flower.jpg")["flower.jpg"]
    release = threading.Event()
    real: Callable[[int], FileInfo] = vault.file_info

    def gated(file_id: int) -> FileInfo:
        release.wait(WAIT / 1000)
        return real(file_id)

    monkeypatch.setattr(vault, "file_info", gated)
    pane.show_file(photo.id)
    pane.clear()  # deselected before the read answers: its reply must not show
    assert pane.message == NOTHING_SELECTED_TEXT
    assert pane.current_file_id is None
    release.set()
    qtbot.waitUntil(lambda: not pane._tasks.busy, timeout=WAIT)
    qtbot.wait(50)
    assert pane.message == NOTHING_SELECTED_TEXT
    assert pane.properties() == {}


def test_thumbnail_arrives_later(
    qtbot: QtBot,
    pane: PreviewPane,
    vault: Vault,
    corpus: Path,
    thumbnails: FakeThumbnails,
) -> None:
    infos = _import(vault, corpus, "images/flower.jpg", "pdf/crazyones.pdf")
    photo = infos["flower.jpg"]
    blob_hash = photo.version.blob_hash
    pane.show_file(photo.id)
    _shown(qtbot, pane, "flower.jpg")
    assert not pane.thumbnail_shown
    icon = pane.thumbnail_view.pixmap()
    assert not icon.isNull()  # the kind icon stands in meanwhile
    assert thumbnails.asked
    asked_hash, asked_mime, size = thumbnails.asked[-1]
    assert (asked_hash, asked_mime) == (blob_hash, "image/jpeg")
    assert size in THUMBNAIL_BUCKETS

    asked = len(thumbnails.asked)
    thumbnails.ready.emit(infos["crazyones.pdf"].version.blob_hash)  # another file's
    assert len(thumbnails.asked) == asked

    thumbnails.arrive(blob_hash, 480, 360, "#d04020")
    assert pane.thumbnail_shown
    shown = pane.thumbnail_view.pixmap().toImage()
    assert shown.width() > 0
    assert shown.pixelColor(shown.width() // 2, shown.height() // 2).name() == "#d04020"
    # Landscape in a 320 px pane: as wide as the pane allows, proportions kept.
    width = shown.width() / shown.devicePixelRatio()
    height = shown.height() / shown.devicePixelRatio()
    assert 200 <= width <= 320
    assert abs(width / height - 480 / 360) < 0.02


def test_resize_asks_again_only_across_buckets(
    qtbot: QtBot,
    pane: PreviewPane,
    vault: Vault,
    corpus: Path,
    thumbnails: FakeThumbnails,
) -> None:
    photo = _import(vault, corpus, "images/flower.jpg")["flower.jpg"]
    thumbnails.arrive(photo.version.blob_hash, 480, 360, "#2060c0")
    pane.resize(200, 640)
    pane.show_file(photo.id)
    _shown(qtbot, pane, "flower.jpg")
    first = thumbnails.asked[-1][2]
    asked = len(thumbnails.asked)
    for width in (201, 205, 210, 215):  # same bucket: rescale only
        pane.resize(width, 640)
        QApplication.processEvents()
    assert len(thumbnails.asked) == asked
    pane.resize(600, 640)
    QApplication.processEvents()
    assert len(thumbnails.asked) == asked + 1
    assert thumbnails.asked[-1][2] > first


def test_no_thumbnail_source(qtbot: QtBot, vault: Vault, tasks: TaskManager, corpus: Path) -> None:
    pane = PreviewPane(vault, tasks, None)
    qtbot.addWidget(pane)
    pane.resize(300, 500)
    pane.show()
    photo = _import(vault, corpus, "images/flower.jpg")["flower.jpg"]
    pane.show_file(photo.id)
    _shown(qtbot, pane, "flower.jpg")
    assert not pane.thumbnail_shown
    assert not pane.thumbnail_view.pixmap().isNull()


def test_double_click_opens(qtbot: QtBot, pane: PreviewPane, vault: Vault, corpus: Path) -> None:
    photo = _import(vault, corpus, "images/flower.jpg")["flower.jpg"]
    pane.show_file(photo.id)
    _shown(qtbot, pane, "flower.jpg")
    view = pane.thumbnail_view
    with qtbot.waitSignal(pane.open_requested, timeout=WAIT) as blocker:
        qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, pos=view.rect().center())
    assert blocker.args == [photo.id]

    pane.show_folder(vault.root_id)
    _shown(qtbot, pane, "Vault")
    with qtbot.assertNotEmitted(pane.open_requested):
        qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))


def test_media_duration() -> None:
    assert media_duration(4.24) == "4.2 s"
    assert media_duration(185.4) == "3:05"
    assert media_duration(3723) == "1:02:03"


def test_screenshot(
    qtbot: QtBot,
    pane: PreviewPane,
    vault: Vault,
    corpus: Path,
    thumbnails: FakeThumbnails,
) -> None:
    """Renders a photo's properties; MEDIAVAULT_PREVIEW_PANE_PNG=path saves the picture."""
    photo = _import(vault, corpus, "images/flower.jpg")["flower.jpg"]
    _tag(vault, photo.id, "Garden")
    vault.describe_file(photo.id, "A flower in the garden, photographed in December 2003.")
    thumbnails.stored[photo.version.blob_hash] = QPixmap(str(corpus / "images" / "flower.jpg"))
    pane.resize(340, 720)
    pane.show_file(photo.id)
    _shown(qtbot, pane, "flower.jpg")
    assert pane.thumbnail_shown
    QApplication.processEvents()
    image = pane.grab().toImage()
    assert not image.isNull()
    target = os.environ.get("MEDIAVAULT_PREVIEW_PANE_PNG")
    if target:
        assert image.save(target)
    if os.environ.get("MEDIAVAULT_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        assert image.save(str(SCREENSHOTS / "preview-pane.png"))
