"""The preview pane's document viewer, on real Word files and a real worker pool."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QImage, QTextDocument
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.kinds import detect
from app.workers import WorkerPool
from ui.tasks import TaskManager
from ui.viewers import document_viewer as module
from ui.viewers.base import Viewer, ViewerServices, ViewerSource
from ui.viewers.document_viewer import DocumentViewer, document_viewer_takes

WAIT_MS = 30_000  # a worker starts cold on a busy machine


@pytest.fixture
def services(qtbot: QtBot, pool: WorkerPool, tmp_path: Path) -> Iterator[ViewerServices]:
    tasks = TaskManager()
    yield ViewerServices(tasks=tasks, workers=pool, cache_dir=tmp_path / "cache")
    tasks.shutdown()


class FakePdfViewer(Viewer):
    """Stands in for the PDF viewer another module provides: records what it was given."""

    def __init__(self, services: ViewerServices, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self.shown: list[ViewerSource] = []
        self.stopped = 0

    def show_source(self, source: ViewerSource) -> None:
        self.shown.append(source)

    def stop(self) -> None:
        self.stopped += 1


def source_for(path: Path, blob_hash: str = "ab" + "1" * 62) -> ViewerSource:
    kind, mime = detect(path.name, path.read_bytes()[:8192])
    return ViewerSource(1, path.name, mime, kind, path, blob_hash, path.stat().st_size)


def make_viewer(qtbot: QtBot, services: ViewerServices, **kwargs: object) -> DocumentViewer:
    viewer = DocumentViewer(services, **kwargs)  # type: ignore[arg-type]
    qtbot.addWidget(viewer)
    viewer.resize(900, 700)
    viewer.show()
    return viewer


def show(qtbot: QtBot, viewer: DocumentViewer, source: ViewerSource) -> None:
    with qtbot.waitSignal(viewer.content_shown, timeout=WAIT_MS):
        viewer.show_source(source)


def focus_page(qtbot: QtBot, viewer: DocumentViewer) -> None:
    """Keys go through the window's shortcut map only when it is active and focused."""
    viewer.activateWindow()
    viewer._page.setFocus()
    qtbot.waitUntil(viewer._page.hasFocus, timeout=WAIT_MS)


def test_which_types_it_takes() -> None:
    assert document_viewer_takes(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert document_viewer_takes("application/msword")
    assert document_viewer_takes("application/vnd.oasis.opendocument.text")
    assert not document_viewer_takes("application/pdf")
    assert not document_viewer_takes("text/plain")


def test_a_docx_shows_its_text_on_a_page(
    qtbot: QtBot, services: ViewerServices, corpus: Path
) -> None:
    viewer = make_viewer(qtbot, services)
    show(qtbot, viewer, source_for(corpus / "office" / "IllustrativeCases.docx"))
    assert viewer.mode == "html"
    text = viewer.document_text()
    assert text.startswith("(V) ILLUSTRATIVE CASES")
    assert "Patrick is single, employed as a waiter" in text
    assert viewer._page.isReadOnly() and not viewer._page.openLinks()


def test_pictures_are_resources_of_the_document(
    qtbot: QtBot, services: ViewerServices, corpus: Path
) -> None:
    viewer = make_viewer(qtbot, services)
    show(qtbot, viewer, source_for(corpus / "office" / "having-images.docx"))
    document = viewer._page.document()
    sizes = []
    for number in range(3):
        image = document.resource(
            QTextDocument.ResourceType.ImageResource, QUrl(f"docimg:{number}")
        )
        assert isinstance(image, QImage) and not image.isNull()
        sizes.append((image.width(), image.height()))
    assert sorted(sizes) == sorted([(140, 56), (211, 71), (150, 214)])
    missing = document.resource(QTextDocument.ResourceType.ImageResource, QUrl("docimg:3"))
    assert missing is None or (isinstance(missing, QImage) and missing.isNull())
    # Nothing outside the document is ever loaded, whatever a name asks for.
    assert viewer._page.loadResource(2, QUrl.fromLocalFile("/etc/hostname")) is None
    assert viewer._page.loadResource(2, QUrl("http://example.com/x.png")) is None


def test_find_counts_and_highlights_hits(
    qtbot: QtBot, services: ViewerServices, corpus: Path
) -> None:
    viewer = make_viewer(qtbot, services)
    show(qtbot, viewer, source_for(corpus / "office" / "IllustrativeCases.docx"))
    expected = viewer.document_text().lower().count("tax")
    assert expected > 5
    focus_page(qtbot, viewer)
    qtbot.keyClick(viewer._page, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert viewer._find_bar.isVisible() and viewer._find_field.hasFocus()
    qtbot.keyClicks(viewer._find_field, "tax")
    assert viewer.hit_count == expected
    assert len(viewer._page.extraSelections()) == expected
    assert viewer._hit_label.text() == f"1 of {expected}"
    qtbot.keyClick(viewer._find_field, Qt.Key.Key_Return)
    assert viewer._hit_label.text() == f"2 of {expected}"
    assert viewer._page.textCursor().selectedText().lower() == "tax"
    assert viewer.find("no such words anywhere") == 0 and viewer.hit_count == 0
    qtbot.keyClick(viewer._find_field, Qt.Key.Key_Escape)
    assert not viewer._find_bar.isVisible()


def test_zoom_changes_the_text_size(qtbot: QtBot, services: ViewerServices, corpus: Path) -> None:
    viewer = make_viewer(qtbot, services)
    show(qtbot, viewer, source_for(corpus / "office" / "fixture.docx"))
    size = viewer._page.document().defaultFont().pointSizeF()
    focus_page(qtbot, viewer)
    qtbot.keyClick(viewer._page, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert viewer.zoom == 1
    assert viewer._page.document().defaultFont().pointSizeF() > size
    viewer.zoom_out()
    viewer.zoom_out()
    assert viewer.zoom == -1
    assert viewer._page.document().defaultFont().pointSizeF() < size
    for _ in range(30):
        viewer.zoom_in()
    assert viewer.zoom == 12 and not viewer._zoom_in_button.isEnabled()


def test_a_doc_without_libreoffice_names_what_would_show_it(
    qtbot: QtBot, services: ViewerServices, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "find_soffice", lambda: None)
    viewer = make_viewer(qtbot, services, pdf_viewer_factory=FakePdfViewer)
    failures: list[str] = []
    viewer.failed.connect(failures.append)
    show(qtbot, viewer, source_for(corpus / "office" / "SampleDoc.doc"))
    assert viewer.mode == "message"
    assert viewer.document_text() == "Install LibreOffice to preview Word 97–2003 documents here."
    assert viewer._message.isVisible()
    assert failures == []


def test_a_broken_docx_fails_with_a_reason(
    qtbot: QtBot, services: ViewerServices, corpus: Path
) -> None:
    viewer = make_viewer(qtbot, services)
    path = corpus / "broken" / "truncated62886.docx"
    with qtbot.waitSignal(viewer.failed, timeout=WAIT_MS) as failed:
        viewer.show_source(source_for(path))
    assert failed.args == [
        "truncated62886.docx cannot be shown: the document is damaged (not a valid zip package)."
    ]


def test_only_the_latest_source_is_shown(
    qtbot: QtBot, services: ViewerServices, corpus: Path
) -> None:
    viewer = make_viewer(qtbot, services)
    shown: list[str] = []
    viewer.content_shown.connect(lambda: shown.append(viewer.document_text()))
    viewer.show_source(source_for(corpus / "office" / "IllustrativeCases.docx"))
    show(qtbot, viewer, source_for(corpus / "office" / "SimpleMacro.docm"))
    qtbot.wait(300)
    assert shown == ["This is a macro word processing document"]
    viewer.stop()
    assert viewer.mode == "message" and viewer.document_text() == ""


FAKE_SOFFICE = r"""#!/bin/sh
prev=""; input=""; outdir=""
for arg in "$@"; do
  if [ "$prev" = "--outdir" ]; then outdir="$arg"; fi
  prev="$arg"; input="$arg"
done
name=$(basename "$input")
printf '%%PDF-1.4\n%% fake\n' > "$outdir/${name%.*}.pdf"
"""


@pytest.mark.skipif(sys.platform == "win32", reason="the fake soffice is a sh script")
def test_with_libreoffice_other_formats_become_pages(
    qtbot: QtBot,
    services: ViewerServices,
    corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "soffice"
    script.write_text(FAKE_SOFFICE)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    made: list[FakePdfViewer] = []

    def factory(services: ViewerServices, parent: QWidget) -> Viewer:
        made.append(FakePdfViewer(services, parent))
        return made[-1]

    viewer = make_viewer(qtbot, services, pdf_viewer_factory=factory)
    show(qtbot, viewer, source_for(corpus / "office" / "fixture.odt"))
    assert viewer.mode == "pages"
    (pdf_viewer,) = made
    (given,) = pdf_viewer.shown
    assert given.mime == "application/pdf" and given.kind == "pdf"
    assert given.path.read_bytes().startswith(b"%PDF-")
    assert given.path.parent.parent == services.cache_dir / "converted"
    assert viewer._stack.currentWidget() is pdf_viewer

    # A Word document shows as HTML, with the choice to see LibreOffice's pages.
    show(qtbot, viewer, source_for(corpus / "office" / "fixture.docx", "cd" + "2" * 62))
    assert viewer.mode == "html" and pdf_viewer.stopped >= 1
    assert viewer._pages_button.isVisible()
    with qtbot.waitSignal(viewer.content_shown, timeout=WAIT_MS):
        viewer._pages_button.click()
    assert viewer.mode == "pages" and len(pdf_viewer.shown) == 2
    assert made == [pdf_viewer]  # one PDF viewer, reused
