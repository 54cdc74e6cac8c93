"""The image viewer on real corpus images, decoded by a real viewer worker process."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QWheelEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

import ui.viewers.image_viewer as module
from app.workers import WorkerPool
from ui.tasks import TaskManager
from ui.viewers.base import ViewerServices, ViewerSource
from ui.viewers.image_viewer import ImageUnreadable, ImageViewer, frames_from_answer

WAIT = 30_000  # a fresh worker interpreter on a busy 2-core machine


@pytest.fixture
def services(qapp: QApplication, pool: WorkerPool, tmp_path: Path) -> ViewerServices:
    return ViewerServices(
        tasks=TaskManager(max_threads=2, name="test-image-viewer"), workers=pool, cache_dir=tmp_path
    )


@pytest.fixture
def viewer(qtbot: QtBot, services: ViewerServices) -> Iterator[ImageViewer]:
    widget = ImageViewer(services)
    widget.resize(320, 260)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    # Pool work ends first, then the widget goes now, here: deleted later
    # (qtbot.addWidget) it would go in the next test's event loop while its
    # pool threads run Python, and PySide 6.11 then crashes now and then in
    # the garbage collector on a pool thread.
    services.tasks.shutdown()
    widget.close()
    shiboken6.delete(widget)


def source(path: Path, mime: str = "image/png") -> ViewerSource:
    return ViewerSource(
        file_id=1,
        name=path.name,
        mime=mime,
        kind="image",
        path=path,
        blob_hash="0" * 64,
        size=path.stat().st_size,
    )


def show(qtbot: QtBot, viewer: ImageViewer, path: Path) -> None:
    with qtbot.waitSignal(viewer.image_shown, timeout=WAIT):
        viewer.show_source(source(path))


def test_photo_is_fitted_and_zooms(qtbot: QtBot, viewer: ImageViewer, corpus: Path) -> None:
    show(qtbot, viewer, corpus / "images" / "flower.jpg")
    assert viewer.image_size.width() == 480 and viewer.image_size.height() == 360
    assert viewer.frame_count == 1 and not viewer.playing
    canvas = viewer.canvas
    hbar, vbar = canvas.horizontalScrollBar(), canvas.verticalScrollBar()
    # Fitted: smaller than 100 %, whole image visible, no scrolling.
    assert viewer.fitted and viewer.zoom < 1.0
    assert hbar.maximum() == 0 and vbar.maximum() == 0
    assert viewer.zoom_label.text() == f"{round(viewer.zoom * 100)} %"

    fitted = viewer.zoom
    viewer.zoom_in()
    assert viewer.zoom > fitted and not viewer.fitted
    viewer.zoom_out()
    assert viewer.zoom < fitted * 1.3

    viewer.actual_size()
    assert viewer.zoom == 1.0
    ratio = canvas.device_ratio()
    assert hbar.maximum() == pytest.approx(480 / ratio - canvas.viewport().width(), abs=1)
    assert vbar.maximum() > 0
    assert viewer.zoom_label.text() == "100 %"

    # Ctrl+0 fits again (the shortcut works while the viewer has focus).
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert viewer.fitted and viewer.zoom == pytest.approx(fitted)
    assert hbar.maximum() == 0


def test_drag_pans_and_ctrl_wheel_zooms(qtbot: QtBot, viewer: ImageViewer, corpus: Path) -> None:
    show(qtbot, viewer, corpus / "images" / "flower.jpg")
    viewer.set_zoom(2.0)
    canvas = viewer.canvas
    hbar, vbar = canvas.horizontalScrollBar(), canvas.verticalScrollBar()
    hbar.setValue(100)
    vbar.setValue(100)
    port = canvas.viewport()
    assert port.cursor().shape() == Qt.CursorShape.OpenHandCursor
    qtbot.mousePress(port, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    assert port.cursor().shape() == Qt.CursorShape.ClosedHandCursor
    qtbot.mouseMove(port, QPoint(60, 70))
    qtbot.mouseRelease(port, Qt.MouseButton.LeftButton, pos=QPoint(60, 70))
    assert (hbar.value(), vbar.value()) == (140, 130)

    before = viewer.zoom
    position = QPointF(50, 40)
    wheel = QWheelEvent(
        position,
        canvas.mapToGlobal(position),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(port, wheel)
    assert viewer.zoom > before


def test_transparency_and_hidpi_size(qtbot: QtBot, viewer: ImageViewer, corpus: Path) -> None:
    show(qtbot, viewer, corpus / "images" / "transparent.png")
    image = viewer.canvas.image
    assert image is not None and image.hasAlphaChannel()
    viewer.actual_size()
    # At 100 % the image covers its pixel size in device pixels.
    width, height = viewer.canvas.content_size()
    ratio = viewer.canvas.device_ratio()
    assert (width * ratio, height * ratio) == (200, 150)
    # The checkerboard shows through a transparent pixel: grab and look.
    grab = viewer.canvas.viewport().grab().toImage()
    assert not grab.isNull()


def test_exif_orientation_is_applied(qtbot: QtBot, viewer: ImageViewer, corpus: Path) -> None:
    show(qtbot, viewer, corpus / "images" / "hopper.jpg")
    upright = viewer.canvas.image
    assert upright is not None
    upright = upright.copy()
    show(qtbot, viewer, corpus / "images" / "hopper_orientation_6.jpg")
    turned = viewer.canvas.image
    assert turned is not None
    # Same picture after the turn: compare a few pixels loosely (JPEG noise).
    for x, y in ((10, 10), (64, 20), (100, 110), (30, 90)):
        a, b = upright.pixelColor(x, y), turned.pixelColor(x, y)
        assert abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) < 60


def test_animated_gif_plays_and_pauses(qtbot: QtBot, viewer: ImageViewer, corpus: Path) -> None:
    show(qtbot, viewer, corpus / "images" / "dispose_bgnd.gif")
    assert viewer.frame_count == 5
    assert viewer.playing and viewer.play_button.isVisible()
    qtbot.waitUntil(lambda: viewer.frame_index > 0, timeout=5000)
    viewer.play_button.click()
    assert not viewer.playing
    index = viewer.frame_index
    qtbot.wait(1300)  # longer than a frame's 1000 ms
    assert viewer.frame_index == index
    viewer.play_button.click()
    assert viewer.playing


def test_animated_webp_frames(qtbot: QtBot, viewer: ImageViewer, corpus: Path) -> None:
    show(qtbot, viewer, corpus / "images" / "iss634.webp")
    assert viewer.frame_count == 42
    viewer.stop()
    assert not viewer.playing and viewer.frame_count == 0


def test_bomb_and_broken_files_fail_cleanly(
    qtbot: QtBot, viewer: ImageViewer, corpus: Path
) -> None:
    with qtbot.waitSignal(viewer.failed, timeout=WAIT) as blocker:
        viewer.show_source(source(corpus / "broken" / "decompression_bomb.gif"))
    assert "too many pixels" in blocker.args[0]
    with qtbot.waitSignal(viewer.failed, timeout=WAIT) as blocker:
        viewer.show_source(source(corpus / "broken" / "broken.png"))
    assert "damaged" in blocker.args[0]


def test_stale_answer_is_dropped(qtbot: QtBot, viewer: ImageViewer, corpus: Path) -> None:
    viewer.show_source(source(corpus / "images" / "chi.gif"))
    viewer.stop()  # the selection moved on before the answer came
    with qtbot.waitSignal(viewer.image_shown, timeout=WAIT):
        viewer.show_source(source(corpus / "images" / "hopper.jpg"))
    qtbot.wait(300)
    assert viewer.frame_count == 1 and viewer.image_size.width() == 128


def test_nonsense_answers_are_refused() -> None:
    good = {"width": 2, "height": 2, "mode": "RGB", "original_width": 2, "original_height": 2}
    frames = [{"offset": 0, "length": 12, "duration": 0}]
    decoded = frames_from_answer({**good, "frames": frames}, bytes(12))
    assert decoded.frames[0].size().width() == 2
    assert decoded.frames[0].format() == QImage.Format.Format_RGB32
    with pytest.raises(ImageUnreadable):
        frames_from_answer({**good, "frames": frames}, bytes(11))  # short payload
    with pytest.raises(ImageUnreadable):
        frames_from_answer({**good, "frames": [{"offset": 4, "length": 12}]}, bytes(12))
    with pytest.raises(ImageUnreadable):
        frames_from_answer({**good, "mode": "CMYK", "frames": frames}, bytes(16))
    with pytest.raises(ImageUnreadable):
        frames_from_answer({**good, "stride": 7, "frames": frames}, bytes(12))
    with pytest.raises(ImageUnreadable):
        frames_from_answer({**good, "frames": [{"offset": -4, "length": 12}]}, bytes(12))
    with pytest.raises(ImageUnreadable):
        frames_from_answer({**good, "width": 100_000, "height": 100_000, "frames": []}, b"")


def test_large_image_is_reduced_and_smoothly_scaled(
    qtbot: QtBot, viewer: ImageViewer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "wide.png"
    Image.new("RGB", (2000, 1500), (10, 120, 200)).save(path)
    monkeypatch.setattr(module, "MAX_PIXELS", 1_000_000)
    monkeypatch.setattr(module, "_SMOOTH_LIMIT", 100_000)
    show(qtbot, viewer, path)
    shown = viewer.image_size
    assert shown.width() * shown.height() <= 1_000_000
    assert (viewer.original_size.width(), viewer.original_size.height()) == (2000, 1500)
    assert "2000 × 1500" in viewer.info_label.text() and "shown at" in viewer.info_label.text()
    # Fitted far below 100 %: a smoothly scaled copy is made off the GUI thread.
    assert viewer.zoom < 0.5
    qtbot.waitUntil(lambda: viewer.canvas.wants_smooth_copy() is None, timeout=WAIT)
    colour = (
        viewer.canvas.viewport()
        .grab()
        .toImage()
        .pixelColor(viewer.canvas.viewport().rect().center())
    )
    assert (colour.red(), colour.green(), colour.blue()) == (10, 120, 200)


def test_hidden_viewer_does_not_animate(qtbot: QtBot, viewer: ImageViewer, corpus: Path) -> None:
    show(qtbot, viewer, corpus / "images" / "iss634.gif")
    viewer.hide()
    index = viewer.frame_index
    qtbot.wait(400)
    assert viewer.frame_index == index and viewer.playing
    viewer.show()
    qtbot.waitUntil(lambda: viewer.frame_index != index, timeout=5000)


def test_pending_decode_does_not_keep_the_viewer_alive(
    qapp: QApplication, pool: WorkerPool, tmp_path: Path, corpus: Path
) -> None:
    # A cycle (viewer → task → callback → viewer) would leave the widget to
    # the garbage collector, which may run on a pool thread: Qt crashes there.
    tasks = TaskManager(max_threads=1, name="test-image-viewer-gc")
    widget = ImageViewer(ViewerServices(tasks=tasks, workers=pool, cache_dir=tmp_path))
    widget.show_source(source(corpus / "images" / "hopper.jpg"))
    tasks.shutdown()  # the answer is dropped: no callback ever runs
    gone = weakref.ref(widget)
    del widget
    assert gone() is None  # freed by reference counting, here, on the GUI thread
