"""The PDF viewer driven like a user would, over a real viewer worker and corpus files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPalette, QWheelEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.workers import WorkerPool
from ui.tasks import TaskManager
from ui.viewers import pdf_viewer
from ui.viewers.base import ViewerServices, ViewerSource
from ui.viewers.pdf_viewer import MARGIN, NO_MATCHES, WRONG_PASSWORD_TEXT, PdfViewer

WAIT = 20_000


@pytest.fixture
def viewer(qtbot: QtBot, pool: WorkerPool, tmp_path: Path) -> Iterator[PdfViewer]:
    tasks = TaskManager(name="test-viewer")
    widget = PdfViewer(ViewerServices(tasks=tasks, workers=pool, cache_dir=tmp_path))
    qtbot.addWidget(widget)
    widget.resize(600, 800)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.stop()
    tasks.shutdown()


def source(path: Path) -> ViewerSource:
    return ViewerSource(
        file_id=1,
        name=path.name,
        mime="application/pdf",
        kind="pdf",
        path=path,
        blob_hash=path.name,
        size=path.stat().st_size,
    )


def open_pdf(qtbot: QtBot, viewer: PdfViewer, path: Path) -> None:
    """Shows ``path`` and waits until its first page is painted."""
    with qtbot.waitSignal(viewer.page_shown, timeout=WAIT, check_params_cb=lambda p: p == 1):
        viewer.show_source(source(path))


def rendered_width(viewer: PdfViewer, page: int) -> int:
    size = viewer.rendered_size(page)
    return size.width() if size is not None else 0


def test_first_page_shows_at_fit_width(qtbot: QtBot, viewer: PdfViewer, corpus: Path) -> None:
    open_pdf(qtbot, viewer, corpus / "pdf" / "pdflatex-4-pages.pdf")
    assert viewer.page_count == 4
    assert viewer.current_page == 1
    assert viewer.zoom_mode == "fit-width"
    assert viewer._page_box.text() == "1 / 4"
    room = viewer._view.viewport().width() - 2 * MARGIN
    dpr = viewer._view.viewport().devicePixelRatioF()
    assert abs(rendered_width(viewer, 1) - room * dpr) <= 2
    # The page next to the view is drawn ahead; the far ones are not.
    qtbot.waitUntil(lambda: viewer.rendered_size(2) is not None, timeout=WAIT)
    assert viewer.rendered_size(4) is None


def test_page_navigation(qtbot: QtBot, viewer: PdfViewer, corpus: Path) -> None:
    open_pdf(qtbot, viewer, corpus / "pdf" / "pdflatex-4-pages.pdf")
    with qtbot.waitSignal(viewer.page_shown, timeout=WAIT, check_params_cb=lambda p: p == 3):
        viewer.go_to_page(3)
    assert viewer.current_page == 3
    assert viewer._page_box.value() == 3

    view = viewer._view
    qtbot.keyClick(view, Qt.Key.Key_PageUp)
    assert viewer.current_page == 2
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert viewer.current_page == 4
    qtbot.keyClick(view, Qt.Key.Key_PageDown)  # already the last
    assert viewer.current_page == 4
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert viewer.current_page == 1
    assert view.verticalScrollBar().value() == 0

    viewer._page_box.setValue(2)  # typing a number in the page box
    assert viewer.current_page == 2


def test_scrolling_a_long_document_draws_only_what_is_seen(
    qtbot: QtBot, viewer: PdfViewer, corpus: Path
) -> None:
    open_pdf(qtbot, viewer, corpus / "pdf" / "mupdf_explored.pdf")
    assert viewer.page_count == 285
    bar = viewer._view.verticalScrollBar()
    bar.setValue(bar.maximum() * 2 // 3)
    page = viewer.current_page
    assert 150 < page < 250
    with qtbot.waitSignal(viewer.page_shown, timeout=WAIT, check_params_cb=lambda p: p == page):
        pass
    drawn = [n for n in range(1, 286) if viewer.rendered_size(n) is not None]
    assert len(drawn) <= 8  # page 1, its neighbour, and those around the view


def test_zoom_modes_change_the_drawn_width(qtbot: QtBot, viewer: PdfViewer, corpus: Path) -> None:
    open_pdf(qtbot, viewer, corpus / "pdf" / "pdflatex-4-pages.pdf")
    fit_width = rendered_width(viewer, 1)

    with qtbot.waitSignal(viewer.page_shown, timeout=WAIT, check_params_cb=lambda p: p == 1):
        viewer.set_zoom("fit-page")
    fit_page = rendered_width(viewer, 1)
    assert fit_page < fit_width  # a portrait page in a portrait window: its height limits

    with qtbot.waitSignal(viewer.page_shown, timeout=WAIT, check_params_cb=lambda p: p == 1):
        viewer.set_zoom(50.0)
    dpr = viewer._view.viewport().devicePixelRatioF()
    expected = 595.276 * 0.5 * viewer.logicalDpiX() / 72 * dpr
    assert abs(rendered_width(viewer, 1) - expected) <= 2
    assert viewer._zoom_box.currentText() == "50%"

    with qtbot.waitSignal(viewer.page_shown, timeout=WAIT, check_params_cb=lambda p: p == 1):
        viewer.zoom_in()
    assert viewer.zoom_mode == 67
    assert rendered_width(viewer, 1) > expected


def test_zoom_keeps_showing_the_old_image_meanwhile(
    qtbot: QtBot, viewer: PdfViewer, corpus: Path
) -> None:
    open_pdf(qtbot, viewer, corpus / "pdf" / "pdflatex-4-pages.pdf")
    before = viewer.rendered_size(1)
    viewer.set_zoom(200.0)
    assert viewer.rendered_size(1) == before  # scaled until the sharp one arrives
    qtbot.waitUntil(lambda: rendered_width(viewer, 1) > before.width(), timeout=WAIT)


def test_find_highlights_and_moves_between_pages(
    qtbot: QtBot, viewer: PdfViewer, corpus: Path
) -> None:
    open_pdf(qtbot, viewer, corpus / "pdf" / "GeoTopo-komprimiert.pdf")
    viewer.show_find_bar()
    assert viewer._find_bar.isVisible()
    with qtbot.waitSignal(viewer.find_finished, timeout=WAIT) as found:
        viewer.find("Topologie")
    count = found.args[0]
    assert count == viewer.hit_count > 10
    assert viewer.current_hit == 1
    assert viewer.current_hit_page == 1
    assert viewer._find_status.text() == f"1 of {count}"

    # The current hit is painted in the palette's highlight colour over the page.
    hit = viewer._hits[0]
    view = viewer._view
    qtbot.waitUntil(lambda: viewer.rendered_size(1) is not None, timeout=WAIT)
    area = view.to_viewport(view.to_document(hit.page, hit.rect))
    image = view.viewport().grab().toImage()
    highlight = view.palette().color(QPalette.ColorRole.Highlight)
    assert _tinted(image, area, highlight) > 0.5
    # Away from any hit the page is its own grey-scale self.
    assert _tinted(image, area.translated(0, -area.height() * 3), highlight) == 0

    first_page = viewer.current_hit_page
    for _ in range(count):
        viewer.find_next()
        if viewer.current_hit_page != first_page:
            break
    assert viewer.current_hit_page > first_page
    assert viewer.current_page == viewer.current_hit_page  # scrolled into view
    hit = viewer._hits[viewer.current_hit - 1]
    area = view.to_viewport(view.to_document(hit.page, hit.rect))
    assert QRectF(view.viewport().rect()).contains(area)
    assert viewer._find_status.text() == f"{viewer.current_hit} of {count}"

    at = viewer.current_hit
    viewer.find_previous()
    assert viewer.current_hit == at - 1

    # Enter in the field on the same text moves on; Shift+Enter moves back.
    viewer._find_field.setText("Topologie")
    qtbot.keyClick(viewer._find_field, Qt.Key.Key_Return)
    assert viewer.current_hit == at
    qtbot.keyClick(viewer._find_field, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert viewer.current_hit == at - 1


def test_find_without_matches(qtbot: QtBot, viewer: PdfViewer, corpus: Path) -> None:
    open_pdf(qtbot, viewer, corpus / "pdf" / "pdflatex-4-pages.pdf")
    with qtbot.waitSignal(viewer.find_finished, timeout=WAIT):
        viewer.find("zqxjv-nowhere")
    assert viewer.hit_count == 0
    assert viewer.current_hit == 0
    assert viewer._find_status.text() == NO_MATCHES
    viewer.find_next()  # nothing to move to, nothing breaks
    assert viewer.current_hit == 0


def test_password_flow(qtbot: QtBot, viewer: PdfViewer, corpus: Path) -> None:
    with qtbot.waitSignal(viewer.password_requested, timeout=WAIT) as asked:
        viewer.show_source(source(corpus / "pdf" / "r6-user-password.pdf"))
    assert asked.args == [False]
    assert viewer.needs_password
    assert viewer._password_box.isVisible()
    assert not viewer._view.isVisible()
    assert viewer.page_count == 0

    with qtbot.waitSignal(viewer.password_requested, timeout=WAIT) as asked:
        viewer._password_field.setText("not-it")
        qtbot.mouseClick(viewer._password_open, Qt.MouseButton.LeftButton)
    assert asked.args == [True]
    assert viewer._password_message.text() == WRONG_PASSWORD_TEXT
    assert viewer._password_field.text() == ""

    with qtbot.waitSignal(viewer.page_shown, timeout=WAIT, check_params_cb=lambda p: p == 1):
        viewer._password_field.setText("asdfzxcv")
        qtbot.keyClick(viewer._password_field, Qt.Key.Key_Return)
    assert not viewer.needs_password
    assert not viewer._password_box.isVisible()
    assert viewer.page_count == 1


def test_stop_drops_a_pending_render(qtbot: QtBot, viewer: PdfViewer, corpus: Path) -> None:
    shown: list[int] = []
    viewer.page_shown.connect(shown.append)
    with qtbot.waitSignal(viewer.opened, timeout=WAIT):
        viewer.show_source(source(corpus / "pdf" / "mupdf_explored.pdf"))
    assert viewer._rendering is not None  # page 1 was asked for at once
    viewer.stop()
    assert viewer.page_count == 0
    qtbot.wait(1500)  # the worker answers; the answer must go nowhere
    assert shown == []
    assert viewer.rendered_size(1) is None

    open_pdf(qtbot, viewer, corpus / "pdf" / "crazyones.pdf")
    assert viewer.page_count == 1


def test_a_newer_file_wins(qtbot: QtBot, viewer: PdfViewer, corpus: Path) -> None:
    counts: list[int] = []
    viewer.opened.connect(counts.append)
    viewer.show_source(source(corpus / "pdf" / "mupdf_explored.pdf"))
    open_pdf(qtbot, viewer, corpus / "pdf" / "pdflatex-4-pages.pdf")
    qtbot.wait(300)
    assert counts == [4]
    assert viewer.page_count == 4


def test_document_without_pages_fails_with_a_reason(
    qtbot: QtBot, viewer: PdfViewer, corpus: Path
) -> None:
    with qtbot.waitSignal(viewer.failed, timeout=WAIT) as failed:
        viewer.show_source(source(corpus / "broken" / "unreadablemetadata.pdf"))
    assert failed.args == ["the document has no pages"]


def test_damaged_document_renders(qtbot: QtBot, viewer: PdfViewer, corpus: Path) -> None:
    # A /Prev loop in the trailer: MuPDF repairs it and draws the page.
    open_pdf(qtbot, viewer, corpus / "broken" / "circular-toc.pdf")
    assert viewer.page_count == 2


def test_missing_file_fails_with_a_reason(qtbot: QtBot, viewer: PdfViewer, tmp_path: Path) -> None:
    gone = tmp_path / "gone.pdf"
    gone.write_bytes(b"%PDF-1.4\n")
    item = source(gone)
    gone.unlink()
    with qtbot.waitSignal(viewer.failed, timeout=WAIT) as failed:
        viewer.show_source(item)
    assert failed.args[0].startswith("the file could not be read")


def _tinted(image: QImage, area: QRectF, tint: QColor) -> float:
    """The share of pixels in ``area`` (logical) leaning to ``tint``'s hue: the page's
    text and paper are grey, so only a highlight can colour them."""
    ratio = image.devicePixelRatio()
    box = QRectF(area.topLeft() * ratio, area.size() * ratio).toRect()
    channels = (tint.red(), tint.green(), tint.blue())
    strongest = channels.index(max(channels))
    weakest = channels.index(min(channels))
    tinted = total = 0
    for y in range(box.top(), box.bottom() + 1):
        for x in range(box.left(), box.right() + 1):
            pixel = image.pixelColor(x, y)
            rgb = (pixel.red(), pixel.green(), pixel.blue())
            total += 1
            tinted += rgb[strongest] - rgb[weakest] > 30
    return tinted / max(1, total)


def test_keyboard_and_wheel_shortcuts(qtbot: QtBot, viewer: PdfViewer, corpus: Path) -> None:
    open_pdf(qtbot, viewer, corpus / "pdf" / "pdflatex-4-pages.pdf")
    viewer.activateWindow()
    qtbot.waitActive(viewer)
    view = viewer._view
    view.setFocus()

    qtbot.keyClick(view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert viewer._find_bar.isVisible()
    assert viewer._find_field.hasFocus()
    qtbot.keyClick(viewer._find_field, Qt.Key.Key_Escape)
    assert not viewer._find_bar.isVisible()

    qtbot.keyClick(view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    smaller = viewer.zoom_mode
    assert isinstance(smaller, float)
    qtbot.keyClick(view, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert viewer.zoom_mode == "fit-width"

    centre = QPointF(view.viewport().rect().center())
    wheel = QWheelEvent(
        centre,
        view.viewport().mapToGlobal(centre),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), wheel)
    zoomed = viewer.zoom_mode
    assert isinstance(zoomed, float) and zoomed > smaller
    assert view.verticalScrollBar().value() == 0  # Ctrl+wheel zooms, it does not scroll


def test_drawn_pages_are_evicted_beyond_the_budget(
    qtbot: QtBot, viewer: PdfViewer, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf_viewer, "CACHE_BYTES", 1)  # only the pages in and next to view stay
    open_pdf(qtbot, viewer, corpus / "pdf" / "GeoTopo-komprimiert.pdf")
    qtbot.waitUntil(lambda: viewer.rendered_size(2) is not None, timeout=WAIT)
    with qtbot.waitSignal(viewer.page_shown, timeout=WAIT, check_params_cb=lambda p: p == 60):
        viewer.go_to_page(60)
    qtbot.waitUntil(lambda: viewer.rendered_size(61) is not None, timeout=WAIT)
    drawn = {n for n in range(1, 118) if viewer.rendered_size(n) is not None}
    assert 60 in drawn
    assert drawn <= set(range(58, 64))
    assert viewer.rendered_size(1) is None
