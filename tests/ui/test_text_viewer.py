"""The text viewer: plain text, JSON, Markdown and CSV tables from the shared corpus."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from app.text_preview import TEXT_LIMIT, CsvPreview
from app.workers import WorkerPool
from ui.tasks import TaskManager
from ui.viewers.base import ViewerServices, ViewerSource
from ui.viewers.text_viewer import (
    HARD_LIMIT,
    LONG_LINE,
    CsvTableModel,
    TextViewer,
    break_long_lines,
    encoding_name,
    text_viewer_mode,
)

WAIT = 10_000


@pytest.fixture
def viewer(qapp: QApplication, pool: WorkerPool, tmp_path: Path) -> Iterator[TextViewer]:
    tasks = TaskManager(max_threads=2, name="test-text-viewer")
    widget = TextViewer(ViewerServices(tasks=tasks, workers=pool, cache_dir=tmp_path))
    widget.resize(480, 360)
    widget.show()
    yield widget
    destroy(widget, tasks)


def destroy(widget: QWidget, tasks: TaskManager) -> None:
    """Ends the pool's work, then deletes the widget now, here.

    Not with deleteLater (qtbot.addWidget): the deletion would happen in the
    next test's event loop while its pool threads run Python, and PySide
    6.11 then crashes now and then in the garbage collector on a pool thread.
    """
    tasks.shutdown()
    widget.close()
    shiboken6.delete(widget)


def source(path: Path, mime: str) -> ViewerSource:
    return ViewerSource(
        file_id=1,
        name=path.name,
        mime=mime,
        kind="text",
        path=path,
        blob_hash="0" * 64,
        size=path.stat().st_size,
    )


def show(qtbot: QtBot, viewer: TextViewer, path: Path, mime: str) -> None:
    with qtbot.waitSignal(viewer.content_shown, timeout=WAIT):
        viewer.show_source(source(path, mime))


def test_modes_by_type() -> None:
    assert text_viewer_mode("text/csv", "a.csv") == "table"
    assert text_viewer_mode("text/tab-separated-values", "a.tsv") == "table"
    assert text_viewer_mode("text/markdown", "README.md") == "markdown"
    assert text_viewer_mode("text/plain", "notes.md") == "markdown"
    assert text_viewer_mode("text/plain", "a.txt") == "text"
    for mime in (
        "application/json",
        "application/xml",
        "application/yaml",
        "application/toml",
        "application/sql",
        "application/x-subrip",
        "text/vtt",
        "text/x-python",
        "application/ld+json",
        "text/html",
    ):
        assert text_viewer_mode(mime, "x") == "text", mime
    for mime in ("image/png", "application/pdf", "text/rtf", "application/octet-stream"):
        assert text_viewer_mode(mime, "x") is None, mime


def test_encoding_names() -> None:
    assert encoding_name("utf-8") == "UTF-8"
    assert encoding_name("utf-8-sig") == "UTF-8 (BOM)"
    assert encoding_name("cp1251") == "Windows-1251"
    assert encoding_name("cp932") == "Shift_JIS"
    assert encoding_name("iso2022_jp") == "ISO-2022-JP"


def test_legacy_text_shows_with_its_encoding(
    qtbot: QtBot, viewer: TextViewer, corpus: Path
) -> None:
    show(qtbot, viewer, corpus / "text" / "chardet-windows-1251-russian-ude_1.txt", "text/plain")
    assert viewer.mode == "text"
    assert viewer.encoding_label.text() == "Windows-1251"
    assert "В гимназии" in viewer.plain.toPlainText()
    assert "\ufffd" not in viewer.text()
    assert not viewer.can_show_more and not viewer.more_button.isEnabled()
    assert viewer.plain.isReadOnly()


def test_json_is_pretty_printed_and_deep_json_does_not_crash(
    qtbot: QtBot, viewer: TextViewer, corpus: Path
) -> None:
    show(qtbot, viewer, corpus / "text" / "y_string_unicode_2.json", "application/json")
    assert viewer.text() == '[\n  "⍂㈴⍂"\n]'
    assert "formatted" in viewer.info_label.text()
    show(
        qtbot,
        viewer,
        corpus / "broken" / "n_structure_100000_opening_arrays.json",
        "application/json",
    )
    assert viewer.text().startswith("[[[[")  # shown as it is


def test_show_more_grows_the_text(qtbot: QtBot, viewer: TextViewer, tmp_path: Path) -> None:
    line = "Zürich — 東京 — line of text\n"
    big = tmp_path / "big.txt"
    big.write_text(line * (TEXT_LIMIT * 3 // len(line.encode())), encoding="utf-8")
    show(qtbot, viewer, big, "text/plain")
    first = len(viewer.text())
    assert viewer.can_show_more and viewer.more_button.isEnabled()
    assert "first" in viewer.info_label.text()
    with qtbot.waitSignal(viewer.content_shown, timeout=WAIT):
        qtbot.mouseClick(viewer.more_button, Qt.MouseButton.LeftButton)
    assert len(viewer.text()) > first
    assert viewer.text() == big.read_text(encoding="utf-8")
    assert not viewer.can_show_more
    assert "\ufffd" not in viewer.text()


def test_show_more_stops_at_the_hard_cap(qtbot: QtBot, viewer: TextViewer, tmp_path: Path) -> None:
    huge = tmp_path / "huge.log"
    line = b"2026-11-21 14:00:00 INFO something happened\n"
    huge.write_bytes(line * (HARD_LIMIT // len(line) + 100))
    show(qtbot, viewer, huge, "text/plain")
    presses = 0
    while viewer.can_show_more:
        with qtbot.waitSignal(viewer.content_shown, timeout=WAIT):
            viewer.show_more()
        presses += 1
    assert presses >= 2
    assert viewer.shown_bytes == HARD_LIMIT
    assert "open the file to see the rest" in viewer.info_label.text()
    viewer.show_more()  # at the cap: nothing happens
    assert not viewer.more_button.isEnabled()
    assert viewer.shown_bytes == HARD_LIMIT


def test_very_long_lines_are_broken(qtbot: QtBot, viewer: TextViewer, tmp_path: Path) -> None:
    minified = tmp_path / "min.js"
    minified.write_text("a=1;" * 100_000)  # one 400 kB line: Qt would take minutes on it
    show(qtbot, viewer, minified, "text/javascript")
    lines = viewer.text().split("\n")
    assert max(map(len, lines)) == LONG_LINE
    assert "".join(lines) == ("a=1;" * 100_000)[: viewer.shown_bytes]
    assert "long lines broken" in viewer.info_label.text()
    assert break_long_lines("short\nlines") == ("short\nlines", False)


def test_csv_table_shows_cells(qtbot: QtBot, viewer: TextViewer, corpus: Path) -> None:
    show(qtbot, viewer, corpus / "text" / "quotes_and_newlines.csv", "text/csv")
    assert viewer.mode == "table"
    assert viewer.stack.currentWidget() is viewer.table
    model = viewer.table_model
    assert model.headerData(0, Qt.Orientation.Horizontal) == "a"
    assert model.headerData(1, Qt.Orientation.Horizontal) == "b"
    assert model.rowCount() == 2
    assert model.cell(0, 1) == 'ha \n"ha" \nha'
    assert model.data(model.index(1, 0)) == "3"
    assert "2 rows" in viewer.info_label.text()
    assert not viewer.more_button.isVisible()

    show(qtbot, viewer, corpus / "text" / "comma_in_quotes.csv", "text/csv")
    assert viewer.table_model.cell(0, 3) == "Anytown, WW"


def test_long_csv_says_first_rows_shown(qtbot: QtBot, viewer: TextViewer, tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("n;square\n" + "".join(f"{i};{i * i}\n" for i in range(5000)))
    show(qtbot, viewer, path, "text/csv")
    assert viewer.table_model.rowCount() == 2000
    assert viewer.table_model.data(viewer.table_model.index(1999, 1)) == str(1999 * 1999)
    assert "first 2,000 rows shown" in viewer.info_label.text()
    assert "semicolon" in viewer.info_label.text()


def test_csv_model_passes_the_model_tester(qtmodeltester: ModelTester, corpus: Path) -> None:
    from app.text_preview import read_csv

    model = CsvTableModel(read_csv(corpus / "text" / "newlines_crlf.csv"))
    qtmodeltester.check(model)
    ragged = CsvTableModel(CsvPreview(["a"], [["1", "2", "3"], []], False, ","))
    qtmodeltester.check(ragged)
    assert ragged.columnCount() == 3 and ragged.data(ragged.index(1, 2)) == ""


def test_markdown_renders_and_fetches_nothing(
    qtbot: QtBot, viewer: TextViewer, corpus: Path, tmp_path: Path
) -> None:
    show(qtbot, viewer, corpus / "text" / "python-docx-README.md", "text/markdown")
    assert viewer.mode == "markdown"
    assert viewer.stack.currentWidget() is viewer.browser
    document = viewer.browser.document()
    first = document.firstBlock()
    assert first.blockFormat().headingLevel() == 1
    assert first.text() == "python-docx"
    assert viewer.text().startswith("# python-docx")

    viewer.source_button.click()
    assert viewer.stack.currentWidget() is viewer.plain
    assert viewer.plain.toPlainText().startswith("# python-docx")
    viewer.source_button.click()
    assert viewer.stack.currentWidget() is viewer.browser

    page = tmp_path / "tracker.md"
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not an image")
    page.write_text(
        "# Hi\n\n![pixel](https://example.invalid/p.png)\n\n"
        f"![local]({secret.as_uri()})\n\n[link](https://example.invalid/)\n"
    )
    show(qtbot, viewer, page, "text/markdown")
    viewer.browser.grab()  # layout and paint: the document asks for its images now
    asked = {url.toString() for url in viewer.browser.refused}
    assert "https://example.invalid/p.png" in asked
    resource = viewer.browser.loadResource(
        QTextDocument.ResourceType.ImageResource.value, QUrl(secret.as_uri())
    )
    assert resource is None
    # A click on a link opens nothing and does not navigate away.
    viewer.browser.anchorClicked.emit(QUrl("https://example.invalid/"))
    assert viewer.browser.source().isEmpty()
    assert viewer.browser.document().firstBlock().text() == "Hi"


def test_unreadable_file_fails_cleanly(qtbot: QtBot, viewer: TextViewer, tmp_path: Path) -> None:
    gone = tmp_path / "gone.txt"
    gone.write_text("x")
    item = source(gone, "text/plain")
    gone.unlink()
    with qtbot.waitSignal(viewer.failed, timeout=WAIT) as blocker:
        viewer.show_source(item)
    assert blocker.args[0].startswith("the file could not be read")


def test_stale_read_is_dropped(qtbot: QtBot, viewer: TextViewer, corpus: Path) -> None:
    viewer.show_source(source(corpus / "text" / "symbols.txt", "text/plain"))
    show(qtbot, viewer, corpus / "text" / "crazyones.txt", "text/plain")
    qtbot.wait(200)
    assert viewer.text().startswith("The Crazy Ones")


def test_pending_read_does_not_keep_the_viewer_alive(
    qtbot: QtBot, qapp: QApplication, pool: WorkerPool, tmp_path: Path, corpus: Path
) -> None:
    # A cycle (viewer → task → callback → viewer) would leave the widget to
    # the garbage collector, which may run on a pool thread: Qt crashes there.
    tasks = TaskManager(max_threads=1, name="test-text-viewer-gc")
    widget = TextViewer(ViewerServices(tasks=tasks, workers=pool, cache_dir=tmp_path))
    widget.show_source(source(corpus / "text" / "symbols.txt", "text/plain"))
    tasks.shutdown()  # the answer is dropped: no callback ever runs
    gone = weakref.ref(widget)
    del widget
    assert gone() is None  # freed by reference counting, here, on the GUI thread
