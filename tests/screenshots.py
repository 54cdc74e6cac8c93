"""Screenshots of the real window for the README: ``.venv/bin/python -m tests.screenshots``.

Builds a vault from ``../shared/corpus`` in a temporary directory, then opens
the window once per scale (100% and 200%, and once in the dark palette) in a
child process under ``xvfb-run`` (offscreen when it is missing) and saves, in
``docs/screenshots/``: the grid with thumbnails, the list, search results,
the Trash and the Settings dialog; and the preview pane showing a photo, a
PDF, a Word document, a CSV table, a video, the audio player and a broken
file. Look at them before committing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
OUT = ROOT / "docs" / "screenshots"
SIZE = (1280, 780)  # logical pixels


def build_vault(home: Path) -> None:
    """A vault that looks lived in: photos, documents, music, a favorite, the Trash."""
    from app.browse import Source
    from app.vault import Vault

    with Vault.open(home) as vault:
        photos = vault.makedirs("/Photos/Holidays")
        docs = vault.makedirs("/Documents")
        media = vault.makedirs("/Music and videos")
        images = sorted((CORPUS / "images").glob("*.jp*g"))
        images += sorted((CORPUS / "images").glob("*.png"))[:10]
        vault.import_paths(images[:40], photos)
        vault.import_paths(sorted((CORPUS / "pdf").glob("*.pdf"))[:8], docs)
        vault.import_paths(sorted((CORPUS / "office").glob("*.docx"))[:6], docs)
        vault.import_paths(sorted((CORPUS / "text").glob("*"))[:6], docs)
        vault.import_paths(
            sorted(p for p in (CORPUS / "media").glob("*") if p.is_file())[:8], media
        )
        vault.import_paths([CORPUS / "media/fixture.webm"], media)
        inbox = vault.makedirs("/Inbox")
        vault.import_paths([CORPUS / "broken/broken.png", CORPUS / "text/utf8.csv"], inbox)
        page = vault.browse_page(Source.folder(photos))
        files = [r.id for r in page.rows if r.item == "file"]
        vault.set_favorite(files[:3], True)
        for file_id in files[-4:]:
            vault.delete_file(file_id)


def shoot(home: Path, scale: str, scheme: str, suffix: str) -> None:
    """One child process: the window at ``scale``, its screenshots named ``*{suffix}.png``."""
    env = dict(os.environ, QT_SCALE_FACTOR=scale, MEDIAVAULT_COLOR_SCHEME=scheme)
    env.pop("QT_QPA_PLATFORM", None)
    width, height = SIZE
    command = [sys.executable, "-m", "tests.screenshots", "--child", str(home), suffix]
    xvfb = shutil.which("xvfb-run")
    if xvfb:
        screen = f"-screen 0 {int(width * float(scale)) + 64}x{int(height * float(scale)) + 64}x24"
        command = [xvfb, "-a", "-s", screen, *command]
    else:
        env["QT_QPA_PLATFORM"] = "offscreen"
    subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=300)


def _grab_on_screen(widget: object) -> object:
    """What the screen shows of ``widget``: a video's picture is in a native window
    that ``QWidget.grab`` leaves black; offscreen there is no screen to read."""
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QWidget

    assert isinstance(widget, QWidget)
    if QGuiApplication.platformName() == "offscreen":
        return widget.grab()
    corner = widget.mapToGlobal(widget.rect().topLeft())
    screen = QGuiApplication.primaryScreen()
    return screen.grabWindow(0, corner.x(), corner.y(), widget.width(), widget.height())


def child(home: Path, suffix: str) -> None:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.browse import Source
    from app.vault import Vault
    from ui.app import create_application
    from ui.main_window import GRID, LIST, MainWindow

    app = create_application([])
    vault = Vault.open(home)
    window = MainWindow(vault)
    window.resize(*SIZE)
    window.show()

    def settle(ms: int = 1500) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()
        while window.model.loading or window.thumbnails.pending:
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 100)

    def save(name: str) -> None:
        settle(400)
        path = OUT / f"{name}{suffix}.png"
        window.grab().save(str(path))
        print("saved", path.relative_to(ROOT))

    photos = vault.resolve_folder("/Photos/Holidays")
    window.set_view_mode(GRID)
    window.open_folder(photos)
    settle(4000)
    flower = next((i for i in window.model.items() if i.name == "flower.jpg"), None)
    if flower is not None:
        window.select_item(flower.id, False)
    save("grid")

    window.set_view_mode(LIST)
    window.open_folder(vault.resolve_folder("/Documents"))
    settle()
    if window.model.rowCount():
        window.select_item(window.model.item(0).id, False)
    save("list")

    window.search_field.setText("the")
    window.open_source(Source.search("the"))
    settle()
    save("search")

    window.search_field.clear()
    window.open_source(Source.trash())
    settle()
    save("trash")

    # The preview pane, wide, with each kind of viewer.
    window.set_view_mode(LIST)
    window.splitter.setSizes([180, 520, 580])
    host = window.preview.viewer_host
    assert host is not None
    for name, folder, file_name in (
        ("preview-photo", "/Photos/Holidays", "flower.jpg"),
        ("preview-pdf", "/Documents", "2201.00069.pdf"),
        ("preview-docx", "/Documents", "IllustrativeCases.docx"),
        ("preview-table", "/Inbox", "utf8.csv"),
        ("preview-video", "/Music and videos", "fixture.webm"),
        ("preview-audio", "/Music and videos", "covr-with-name.m4a"),
        ("preview-broken", "/Inbox", "broken.png"),
    ):
        window.open_folder(vault.resolve_folder(folder))
        settle(800)
        item = next((i for i in window.model.items() if i.name == file_name), None)
        if item is None:
            print("not in the vault:", folder, file_name)
            continue
        window.select_item(item.id, False)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (host.shown or host.message):
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 100)
        settle(1200)
        path = OUT / f"{name}{suffix}.png"
        _grab_on_screen(window.preview).save(str(path))
        print("saved", path.relative_to(ROOT))

    window.file_actions.open_settings()
    dialog = window.file_actions.settings_dialog
    assert dialog is not None
    settle(1500)
    path = OUT / f"settings{suffix}.png"
    dialog.grab().save(str(path))
    print("saved", path.relative_to(ROOT))
    dialog.close()
    window.close()
    vault.close()
    app.quit()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]), sys.argv[3])
        return
    if not CORPUS.is_dir():
        sys.exit(f"the corpus is not at {CORPUS}")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mv-shots-") as tmp:
        home = Path(tmp) / "vault"
        build_vault(home)
        shoot(home, "1", "light", "")
        shoot(home, "2", "light", "-200")
        shoot(home, "1", "dark", "-dark")


if __name__ == "__main__":
    main()
