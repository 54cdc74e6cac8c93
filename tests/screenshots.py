"""Screenshots of the real window for the README: ``.venv/bin/python -m tests.screenshots``.

Builds a vault from ``../shared/corpus`` in a temporary directory, then opens
the window once per scale (100% and 200%, and once in the dark palette) in a
child process under ``xvfb-run`` (offscreen when it is missing) and saves, in
``docs/screenshots/``: the grid with thumbnails, the list, search results,
the Trash, files of two tags, the tag editor, the Versions and Share
dialogs, an upload request, the Shared links and the Settings dialog (and its
Versions tab); and the preview pane showing a photo, a PDF, a Word document, a
CSV table, a video, the audio player and a broken file. The shares need a
bucket: the tests' own S3 server (moto) runs meanwhile. Look at them before
committing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from tests.s3server import moto_server

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
OUT = ROOT / "docs" / "screenshots"
SIZE = (1280, 780)  # logical pixels
BUCKET = "media-vault-shots"


def build_vault(home: Path, endpoint: str) -> None:
    """A vault that looks lived in: photos, documents, music, a favorite, the Trash,
    a file with several versions, shares, all synced to a bucket at ``endpoint``."""
    from app.browse import Source
    from app.remote import RemoteConfig, save_remote
    from app.sync import Syncer
    from app.vault import Vault
    from storage.s3_client import RemoteSpec, make_client

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
        docs_files = [r.id for r in vault.browse_page(Source.folder(docs)).rows if r.item == "file"]
        vault.tag_files(files[:6], add=["Family", "Italy 2023"], create=True)
        vault.tag_files(files[2:4], add=["To print"], create=True, colors={"To print": "yellow"})
        vault.tag_files(docs_files[:3], add=["Receipts"], create=True)
        vault.tag_files(docs_files[3:5], add=["Work"], create=True)
        for file_id in files[-4:]:
            vault.delete_file(file_id)
        edits = vault.makedirs("/Photos/Edits")
        cover = vault.import_paths([CORPUS / "images/flower.jpg"], edits).file_ids[0]
        vault.rename_file(cover, "cover.jpg")
        for name in ("iptc.jpg", "court-exif.jpg", "fixture.jpg"):
            vault.add_version(cover, CORPUS / "images" / name)
        history = vault.versions(cover)
        vault.set_version_note(history[0].id, "Straight from the camera")
        vault.set_version_note(history[2].id, "Cropped for the brochure")
        vault.restore_version(cover, history[1].id)

        spec = RemoteSpec(BUCKET, endpoint, "us-east-1", "vault", "path")
        make_client(spec).create_bucket(Bucket=BUCKET)
        save_remote(vault.paths, RemoteConfig(spec, "chain"))
        assert Syncer.for_vault(vault).run().ok
        shared = vault.share_file(cover, expires_in=timedelta(days=3), note="Grandma")
        vault.share_file(cover, expires_in=timedelta(hours=6), note="Team chat")
        vault.revoke_share(shared.share.id)
        vault.create_upload_request(inbox, note="Scans of the signed contract")


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
    from PySide6.QtWidgets import QApplication, QWidget

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

    from ui.folder_tree import NodeKind
    from ui.tag_editor import TagEditor

    window.open_folder(photos)
    settle()
    tagged = [i.id for i in window.model.items() if not i.is_folder][1:5]
    editor = TagEditor(vault, window.tasks, tagged, window)
    editor.show()
    settle(800)
    path = OUT / f"tags{suffix}.png"
    editor.grab().save(str(path))
    print("saved", path.relative_to(ROOT))
    editor.filter_edit.setText("Road trip")
    settle(300)
    path = OUT / f"tags-create{suffix}.png"
    editor.grab().save(str(path))
    print("saved", path.relative_to(ROOT))
    editor.close()
    window.tree.expand(window.tree_model.place_index(NodeKind.TAGS))
    settle(500)
    both = [t.id for t in vault.tags_with_counts() if t.name in ("Family", "To print")]
    window.tree.select_tags(both)
    settle()
    save("tags-list")

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

    def save_dialog(dialog: QWidget, name: str) -> None:
        settle(600)
        while getattr(dialog, "busy", False):
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 100)
        settle(300)
        path = OUT / f"{name}{suffix}.png"
        dialog.grab().save(str(path))
        print("saved", path.relative_to(ROOT))

    actions = window.file_actions
    cover = vault.require_file("/Photos/Edits/cover.jpg")
    versions = actions.open_versions(cover)
    settle(800)
    versions.select_version(vault.version_id(cover, 3))  # type: ignore[attr-defined]
    settle(1200)
    save_dialog(versions, "versions")
    versions.close()

    share = actions.open_share(cover, None)
    share.resize(640, 560)
    settle(800)
    share.note.setText("For Ana, the beach day")  # type: ignore[attr-defined]
    share.create_link()  # type: ignore[attr-defined]
    save_dialog(share, "share")
    share.close()

    request = actions.open_upload_request(vault.resolve_folder("/Inbox"))
    request.resize(680, 620)
    settle(800)
    request.note.setText("Invoices for March")  # type: ignore[attr-defined]
    request.create_request()  # type: ignore[attr-defined]
    save_dialog(request, "share-request")
    request.close()

    shared = actions.open_shared_view()
    save_dialog(shared, "shared")
    shared.close()

    actions.open_settings()
    dialog = actions.settings_dialog
    assert dialog is not None
    settle(1500)
    save_dialog(dialog, "settings")
    dialog.tabs.setCurrentIndex(2)
    save_dialog(dialog, "settings-versions")
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
    # The shares need a bucket: the tests' own S3 server, with its test keys.
    os.environ.update(AWS_ACCESS_KEY_ID="testing-key", AWS_SECRET_ACCESS_KEY="testing-secret")
    with tempfile.TemporaryDirectory(prefix="mv-shots-") as tmp, moto_server() as (url, _):
        home = Path(tmp) / "vault"
        build_vault(home, url)
        shoot(home, "1", "light", "")
        shoot(home, "2", "light", "-200")
        shoot(home, "1", "dark", "-dark")


if __name__ == "__main__":
    main()
