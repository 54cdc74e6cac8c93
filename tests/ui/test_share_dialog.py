"""The Share dialog, the upload-request dialog and the "Shared" view, driven through
their widgets over a real vault and the suite's real S3 endpoint (moto over HTTP).

Links are fetched with ``urllib``, as a recipient would; every bucket call of
the dialogs runs on a real :class:`ui.tasks.TaskManager`, so each test waits for
the dialog to be idle rather than for a function to return.
"""

from __future__ import annotations

import io
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from app.remote import RemoteConfig, save_remote
from app.sync import Syncer
from app.vault import Vault
from storage.s3_client import RemoteSpec
from tests.app.test_inbox import post_form
from tests.helpers.vaults import add_file
from ui.share_dialog import ShareDialog, UploadRequestDialog
from ui.shares_view import SharesView
from ui.tasks import TaskManager

DATA = bytes(range(256)) * 64


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def tasks(qtbot: QtBot) -> Iterator[TaskManager]:
    manager = TaskManager(name="share-tests")
    yield manager
    manager.shutdown()


@pytest.fixture
def remote(vault: Vault, spec: RemoteSpec, aws_chain: None) -> Vault:
    save_remote(vault.paths, RemoteConfig(spec, "chain"))
    return vault


D = TypeVar("D", ShareDialog, UploadRequestDialog, SharesView)


def _idle(qtbot: QtBot, dialog: ShareDialog | UploadRequestDialog | SharesView) -> None:
    qtbot.waitUntil(lambda: not dialog.busy, timeout=15_000)


def _opened(qtbot: QtBot, dialog: D) -> D:
    """``dialog`` opened, its first load done."""
    qtbot.addWidget(dialog)
    dialog.open()
    _idle(qtbot, dialog)
    return dialog


def _click_revoke(qtbot: QtBot, box: QMessageBox | None) -> None:
    assert box is not None and box.isVisible()
    button = next(b for b in box.findChildren(QPushButton) if b.text().replace("&", "") == "Revoke")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_without_a_remote_it_explains_and_offers_settings(
    qtbot: QtBot, vault: Vault, tasks: TaskManager, tmp_path: Path
) -> None:
    file_id = add_file(vault, tmp_path, "a.bin", DATA)
    dialog = _opened(qtbot, ShareDialog(vault, tasks, file_id=file_id))
    assert dialog.needs_remote
    with qtbot.waitSignal(dialog.settings_requested, timeout=2000):
        qtbot.mouseClick(dialog.settings_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    request = UploadRequestDialog(vault, tasks, vault.root_id)
    qtbot.addWidget(request)
    _idle(qtbot, request)
    assert request.needs_remote


def test_share_a_file_copy_and_revoke(
    qtbot: QtBot, remote: Vault, tasks: TaskManager, tmp_path: Path
) -> None:
    file_id = add_file(remote, tmp_path, "Holiday.bin", b"old content")
    newer = tmp_path / "newer.bin"
    newer.write_bytes(DATA)
    assert remote.add_version(file_id, newer).ok
    dialog = _opened(qtbot, ShareDialog(remote, tasks, file_id=file_id))
    assert not dialog.needs_remote
    assert dialog.windowTitle() == "Share “Holiday.bin”"
    assert dialog.version_combo.count() == 2
    assert dialog.version_combo.currentText().startswith("Version 2")
    assert dialog.version_combo.currentText().endswith("(current)")
    assert "7 days" in dialog.expiry.toolTip()
    dialog.expiry.setCurrentIndex(dialog.expiry.findText("1 hour"))
    qtbot.keyClicks(dialog.note, "for Ana")
    made: list[object] = []
    dialog.shares_changed.connect(made.append)
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    assert dialog.busy and not dialog.create_button.isEnabled()  # off the GUI thread
    qtbot.waitUntil(lambda: bool(dialog.link_edit.text()), timeout=15_000)
    _idle(qtbot, dialog)
    url = dialog.link_edit.text()
    assert fetch(url) == DATA and len(made) == 1
    assert "X-Amz-Expires=3600" in url
    qtbot.mouseClick(dialog.copy_new, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == url

    # The older version, through the combo.
    dialog.version_combo.setCurrentIndex(1)
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.link_edit.text() != url, timeout=15_000)
    _idle(qtbot, dialog)
    assert fetch(dialog.link_edit.text()) == b"old content"

    assert dialog.table.topLevelItemCount() == 2
    dialog.table.setCurrentItem(dialog.table.topLevelItem(1))  # the first link, older
    share = dialog.table.selected_share()
    assert share is not None and share.note == "for Ana" and share.version_number == 2
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text().startswith("http"), timeout=15_000)
    assert fetch(QGuiApplication.clipboard().text()) == DATA

    _click_revoke(qtbot, dialog.ask_revoke())
    qtbot.waitUntil(lambda: len(made) == 3, timeout=15_000)
    _idle(qtbot, dialog)
    assert status_of(url) in (403, 404)
    assert dialog.table.topLevelItem(1).text(0) == "Revoked"
    dialog.table.setCurrentItem(dialog.table.topLevelItem(1))
    assert not dialog.revoke_button.isEnabled() and not dialog.copy_button.isEnabled()


def test_share_a_folder_as_a_zip(
    qtbot: QtBot, remote: Vault, tasks: TaskManager, tmp_path: Path
) -> None:
    folder = remote.makedirs("/Album/Inside")
    top = remote.resolve_folder("/Album")
    add_file(remote, tmp_path, "x.bin", DATA, folder)
    dialog = _opened(qtbot, ShareDialog(remote, tasks, folder_id=top))
    assert dialog.as_zip.isChecked() and "zip" in dialog.how_text.text()
    assert not dialog.version_combo.isVisibleTo(dialog)
    dialog.per_file.setChecked(True)
    assert "separate link for each file" in dialog.how_text.text()
    dialog.as_zip.setChecked(True)
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(dialog.link_edit.text()), timeout=15_000)
    with zipfile.ZipFile(io.BytesIO(fetch(dialog.link_edit.text()))) as zf:
        assert zf.read("Inside/x.bin") == DATA
    _idle(qtbot, dialog)
    assert "Album.zip" in dialog.table.topLevelItem(0).text(0)


def test_upload_request_dialog(
    qtbot: QtBot, remote: Vault, tasks: TaskManager, tmp_path: Path
) -> None:
    folder = remote.makedirs("/Inbox")
    dialog = _opened(qtbot, UploadRequestDialog(remote, tasks, folder))
    assert dialog.heading.text() == "Let someone send files into /Inbox"
    assert not dialog.save_html.isEnabled()
    dialog.max_size.setValue(2)
    qtbot.keyClicks(dialog.note, "scans")
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.request is not None, timeout=15_000)
    _idle(qtbot, dialog)
    request = dialog.request
    assert request is not None and request.share.max_bytes == 2 << 20
    assert dialog.link_edit.text() == request.url
    assert dialog.curl.toPlainText().startswith("curl ")
    qtbot.mouseClick(dialog.copy_curl, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == request.curl
    page = tmp_path / "form.html"
    dialog.save_html_form(page)
    qtbot.waitUntil(page.is_file, timeout=15_000)
    assert request.url in page.read_text(encoding="utf-8")

    fields = {**request.fields, "x-amz-meta-sender": "Bo"}
    assert post_form(request.url, fields, "scan.pdf", b"%PDF-1.4\n") < 300
    assert Syncer.for_vault(remote).run().inbox_received == 1
    dialog.reload()
    _idle(qtbot, dialog)
    dialog.table.setCurrentItem(dialog.table.topLevelItem(0))
    assert "scan.pdf from Bo" in dialog.arrivals.text()
    _click_revoke(qtbot, dialog.ask_revoke())
    qtbot.waitUntil(lambda: dialog.request is None, timeout=15_000)
    _idle(qtbot, dialog)
    assert dialog.table.topLevelItem(0).text(0) == "Revoked"
    assert dialog.link_edit.text() == ""


def test_the_shared_view(qtbot: QtBot, remote: Vault, tasks: TaskManager, tmp_path: Path) -> None:
    a = add_file(remote, tmp_path, "a.bin", DATA)
    first = remote.share_file(a, note="one")
    remote.create_upload_request(remote.root_id, note="drop")
    view = _opened(qtbot, SharesView(remote, tasks))
    assert view.table.topLevelItemCount() == 2
    row = next(
        view.table.topLevelItem(i)
        for i in range(2)
        if view.table.topLevelItem(i).text(0).startswith("/a.bin")
    )
    view.table.setCurrentItem(row)
    assert view.show_button.text() == "&Show file"
    with qtbot.waitSignal(view.show_file, timeout=2000) as shown:
        qtbot.mouseClick(view.show_button, Qt.MouseButton.LeftButton)
    assert shown.args == [a]
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(view.copy_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text().startswith("http"), timeout=15_000)
    assert fetch(QGuiApplication.clipboard().text()) == DATA
    _idle(qtbot, view)
    _click_revoke(qtbot, view.ask_revoke())
    qtbot.waitUntil(lambda: view.table.topLevelItemCount() == 1, timeout=15_000)
    assert remote.share(first.share.id).status == "revoked"
    view.table.setCurrentItem(view.table.topLevelItem(0))
    assert view.show_button.text() == "&Show folder"
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(view.copy_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text().startswith("curl"), timeout=15_000)
    _idle(qtbot, view)
    _click_revoke(qtbot, view.ask_revoke())
    qtbot.waitUntil(lambda: view.empty.isVisibleTo(view), timeout=15_000)


def test_errors_are_shown_not_raised(
    qtbot: QtBot, remote: Vault, tasks: TaskManager, tmp_path: Path
) -> None:
    file_id = add_file(remote, tmp_path, "a.bin", DATA)
    dialog = _opened(qtbot, ShareDialog(remote, tasks, file_id=file_id))
    remote.delete_file(file_id)  # gone meanwhile
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.last_box is not None, timeout=15_000)
    assert dialog.last_box is not None
    assert "no longer exists" in dialog.last_box.text()
    dialog.last_box.close()


def test_enter_in_the_note_creates_the_link(
    qtbot: QtBot, remote: Vault, tasks: TaskManager, tmp_path: Path
) -> None:
    file_id = add_file(remote, tmp_path, "a.bin", DATA)
    dialog = _opened(qtbot, ShareDialog(remote, tasks, file_id=file_id))
    for widget in (dialog.version_combo, dialog.expiry, dialog.note, dialog.create_button):
        assert widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        assert widget.accessibleName() or widget.text()
    dialog.note.setFocus()
    qtbot.keyClicks(dialog.note, "via keyboard")
    qtbot.keyClick(dialog.note, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(dialog.link_edit.text()), timeout=15_000)
    _idle(qtbot, dialog)
    assert [s.note for s in remote.list_shares(file_id)] == ["via keyboard"]
