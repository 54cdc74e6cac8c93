"""The welcome over an empty vault, and restoring a first start from its bucket."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog
from pytestqt.qtbot import QtBot

from app.remote import RemoteConfig, save_remote
from app.sync import Syncer
from app.vault import Vault
from storage.s3_client import RemoteSpec
from tests.helpers.windows import WAIT, open_window
from ui.welcome import restore_with_progress


def test_an_empty_vault_shows_the_welcome_until_files_arrive(
    qtbot: QtBot, vault: Vault, tmp_path: Path
) -> None:
    window = open_window(qtbot, vault)
    welcome = window.welcome
    qtbot.waitUntil(welcome.isVisible, timeout=WAIT)
    assert welcome.geometry() == window.stack.rect()
    assert welcome.bucket_button.isVisibleTo(welcome)
    assert not welcome.restore_button.isVisibleTo(welcome)
    assert "Drop photos" in welcome.text.text()
    photo = tmp_path / "note.txt"
    photo.write_text("hello")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    actions, button = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
    none = Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(10, 10), actions, mime, button, none)
    QApplication.sendEvent(welcome, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(welcome, QDragMoveEvent(QPoint(10, 10), actions, mime, button, none))
    drop = QDropEvent(QPointF(10, 10), actions, mime, button, none)
    with qtbot.waitSignal(welcome.dropped, timeout=WAIT):
        QApplication.sendEvent(welcome, drop)
    qtbot.waitUntil(lambda: bool(vault.list_folder(vault.root_id).files), timeout=WAIT)
    qtbot.waitUntil(lambda: not welcome.isVisible(), timeout=WAIT)
    assert [f.name for f in vault.list_folder(vault.root_id).files] == ["note.txt"]


def test_a_connected_bucket_offers_restore_and_the_window_steps_aside(
    qtbot: QtBot, vault: Vault, spec: RemoteSpec, aws_chain: None
) -> None:
    save_remote(vault.paths, RemoteConfig(spec, "chain"))
    window = open_window(qtbot, vault)
    welcome = window.welcome
    qtbot.waitUntil(lambda: welcome.restore_button.isVisibleTo(welcome), timeout=WAIT)
    assert spec.bucket in welcome.text.text()
    assert not welcome.bucket_button.isVisibleTo(welcome)
    welcome.restore_button.click()
    box = window.findChild(QMessageBox)
    assert box is not None and spec.bucket in box.text()
    next(b for b in box.buttons() if b.text() == "Restore").click()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT)
    assert window.restore_requested


def test_restore_with_progress_brings_the_bucket_back(
    qtbot: QtBot, tmp_path: Path, spec: RemoteSpec, aws_chain: None
) -> None:
    config = RemoteConfig(spec, "chain")
    source = tmp_path / "old-computer"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("from the old computer")
    with Vault.open(source) as old:
        save_remote(old.paths, config)
        old.import_paths([tmp_path / "in"])
        assert Syncer.for_vault(old).run().ok
    home = tmp_path / "new-computer"
    with Vault.open(home) as new:
        save_remote(new.paths, config)
    seen: list[str] = []

    def watch() -> None:
        dialog = next(
            (w for w in QApplication.topLevelWidgets() if isinstance(w, QProgressDialog)), None
        )
        if dialog is not None and dialog.isVisible():
            seen.append(dialog.labelText())

    timer = QTimer()
    timer.timeout.connect(watch)
    timer.start(20)
    assert restore_with_progress(home) is None
    timer.stop()
    with Vault.open(home) as restored:
        assert restored.require_file("/in/a.txt")


def test_a_failed_restore_says_so_and_keeps_the_empty_vault(
    qtbot: QtBot, tmp_path: Path, spec: RemoteSpec, aws_chain: None
) -> None:
    home = tmp_path / "new-computer"
    with Vault.open(home) as new:
        save_remote(new.paths, RemoteConfig(spec, "chain"))  # an empty bucket
    shown: list[str] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            shown.append(box.text() + " " + box.informativeText())
            box.accept()
        else:
            QTimer.singleShot(50, answer)

    QTimer.singleShot(50, answer)
    error = restore_with_progress(home)
    assert error is not None and "no catalog snapshot" in error.message
    assert shown and "unchanged" in shown[0]
    with Vault.open(home) as same:
        assert same.is_empty()
