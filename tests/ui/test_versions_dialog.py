"""The Versions dialog over a real vault: list, preview, restore, export, note, delete.

The versions are real pictures from the shared corpus, imported through the
vault (read in place, never copied into the project); every action runs on a
real :class:`ui.tasks.TaskManager`, and the tests wait for its results.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from app.rows import Changes
from app.vault import Vault
from ui.tasks import TaskManager
from ui.versions_dialog import Column, VersionRole, VersionsDialog, VersionsModel

CORPUS = Path("/work/shared/corpus/images")
PICTURES = [CORPUS / "court-exif.jpg", CORPUS / "chi.gif"]
WAIT = 20_000

pytestmark = pytest.mark.skipif(
    not all(p.is_file() for p in PICTURES), reason="the shared corpus is not here"
)


@pytest.fixture
def tasks(qtbot: QtBot) -> Iterator[TaskManager]:
    manager = TaskManager(max_threads=2, name="test-versions")
    yield manager
    manager.shutdown()


@pytest.fixture
def file_id(vault: Vault, tmp_path: Path) -> int:
    """ "photo.jpg" with three versions: a JPEG, a GIF, the JPEG again (current)."""
    report = vault.import_paths([PICTURES[0]])
    assert report.ok, report.failed
    (tmp_path / "in").mkdir()
    new_id = report.file_ids[0]
    vault.rename_file(new_id, "photo.jpg")
    for picture in (PICTURES[1], tmp_path / "in" / "third.txt"):
        if picture.suffix == ".txt":
            picture.write_bytes(b"plain text this time\n")
        added = vault.add_version(new_id, picture)
        assert added.ok and added.new_versions
    return new_id


def _open(qtbot: QtBot, vault: Vault, tasks: TaskManager, file_id: int) -> VersionsDialog:
    dialog = VersionsDialog(vault, tasks, file_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.busy and dialog.model.rowCount() > 0, timeout=WAIT)
    return dialog


def _idle(qtbot: QtBot, dialog: VersionsDialog) -> None:
    qtbot.waitUntil(lambda: not dialog.busy, timeout=WAIT)


def _select(dialog: VersionsDialog, number: int) -> None:
    for row in range(dialog.model.rowCount()):
        version = dialog.model.version(row)
        if version is not None and version.number == number:
            assert dialog.select_version(version.id)
            return
    raise AssertionError(f"no version {number}")


def _numbers(dialog: VersionsDialog) -> list[int]:
    return [
        dialog.model.index(r, 0).data(VersionRole.INFO).number
        for r in range(dialog.model.rowCount())
    ]


def test_lists_versions_newest_first_with_a_preview(
    qtbot: QtBot, qtmodeltester: ModelTester, vault: Vault, tasks: TaskManager, file_id: int
) -> None:
    # The model on its own (the dialog's goes with the dialog, before the tester's teardown).
    checked = VersionsModel()
    checked.set_versions(vault.versions(file_id), vault.file_info(file_id).version.id)
    qtmodeltester.check(checked, force_py=True)  # type: ignore[no-untyped-call]
    dialog = _open(qtbot, vault, tasks, file_id)
    assert _numbers(dialog) == [3, 2, 1]
    model = dialog.model
    assert model.index(0, Column.VERSION).data() == "3 (current)"
    assert model.index(0, Column.VERSION).data(VersionRole.IS_CURRENT) is True
    assert model.index(1, Column.NOTE).data() == "Imported as a new version"
    assert model.index(2, Column.STORED).data() == "Here only"
    assert model.headerData(Column.SIZE, Qt.Orientation.Horizontal) == "Size"
    assert dialog.windowTitle() == "Versions of photo.jpg"
    assert "/photo.jpg: 3 versions" in dialog.title.text()
    # The current version is selected: it can be exported or noted, not restored or deleted.
    assert dialog.selected_version() is not None and dialog.selected_version().number == 3
    assert dialog.export_button.isEnabled() and dialog.note_button.isEnabled()
    assert not dialog.restore_button.isEnabled() and not dialog.delete_button.isEnabled()
    assert "current version" in dialog.delete_button.toolTip()
    # Version 1 is a JPEG: its own thumbnail shows in the pane.
    _select(dialog, 1)
    assert dialog.restore_button.isEnabled() and dialog.delete_button.isEnabled()
    assert "Version 1" in dialog.details.text()
    qtbot.waitUntil(
        lambda: dialog.preview.pixmap() is not None and not dialog.preview.pixmap().isNull(),
        timeout=WAIT,
    )
    assert dialog.view.accessibleName() == "Versions"


def test_restore_brings_old_content_back_as_a_new_version(
    qtbot: QtBot, vault: Vault, tasks: TaskManager, file_id: int, tmp_path: Path
) -> None:
    dialog = _open(qtbot, vault, tasks, file_id)
    _select(dialog, 1)
    with qtbot.waitSignal(dialog.changed, timeout=WAIT) as changed:
        qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    assert isinstance(changed.args[0], Changes) and file_id in changed.args[0].files
    qtbot.waitUntil(lambda: _numbers(dialog) == [4, 3, 2, 1], timeout=WAIT)
    _idle(qtbot, dialog)
    assert dialog.status.text() == "Version 1 restored as version 4."
    assert dialog.selected_version() is not None and dialog.selected_version().number == 4
    assert dialog.model.index(0, Column.NOTE).data() == "Restored from version 1"
    out = vault.export_file(file_id, tmp_path / "current")
    assert out.read_bytes() == PICTURES[0].read_bytes()
    assert vault.file_info(file_id).mime == "image/jpeg"


def test_export_this_version(
    qtbot: QtBot, vault: Vault, tasks: TaskManager, file_id: int, tmp_path: Path
) -> None:
    dialog = _open(qtbot, vault, tasks, file_id)
    _select(dialog, 2)
    chooser = dialog.choose_export_folder()
    assert isinstance(chooser, QFileDialog) and chooser.isVisible()
    chooser.close()
    out = tmp_path / "exported"
    dialog.export_selected(out)
    qtbot.waitUntil(lambda: dialog.last_export is not None, timeout=WAIT)
    _idle(qtbot, dialog)
    assert dialog.last_export == out / "photo (v2).jpg"
    data = dialog.last_export.read_bytes()
    assert data == PICTURES[1].read_bytes()
    assert hashlib.sha256(data).hexdigest() == dialog.selected_version().blob_hash
    assert dialog.status.text() == f"Exported to {dialog.last_export}"


def test_edit_note(qtbot: QtBot, vault: Vault, tasks: TaskManager, file_id: int) -> None:
    dialog = _open(qtbot, vault, tasks, file_id)
    _select(dialog, 2)
    qtbot.mouseClick(dialog.note_button, Qt.MouseButton.LeftButton)
    box = dialog.last_box
    assert isinstance(box, QInputDialog) and box.textValue() == "Imported as a new version"
    box.setTextValue("The GIF the client sent")
    with qtbot.waitSignal(dialog.changed, timeout=WAIT):
        box.accept()
    qtbot.waitUntil(
        lambda: dialog.model.index(1, Column.NOTE).data() == "The GIF the client sent",
        timeout=WAIT,
    )
    _idle(qtbot, dialog)
    assert dialog.selected_version().number == 2
    assert "Note: The GIF the client sent" in dialog.details.text()
    assert [v.note for v in vault.versions(file_id)][1] == "The GIF the client sent"


def test_delete_is_refused_for_the_current_version_and_asks_for_others(
    qtbot: QtBot, vault: Vault, tasks: TaskManager, file_id: int
) -> None:
    dialog = _open(qtbot, vault, tasks, file_id)
    # The Delete key on the list, with the current version selected: a refusal, no question.
    dialog.view.setFocus()
    qtbot.keyClick(dialog.view, Qt.Key.Key_Delete)
    refusal = dialog.last_box
    assert isinstance(refusal, QMessageBox)
    assert "is the current version" in refusal.text()
    assert refusal.buttons() == [refusal.button(QMessageBox.StandardButton.Ok)]
    refusal.accept()
    assert _numbers(dialog) == [3, 2, 1]
    # An old version: asked first; Cancel keeps it.
    _select(dialog, 2)
    box = dialog.ask_delete_selected()
    assert box is not None and "Delete version 2 of photo.jpg?" in box.text()
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert not dialog.busy and _numbers(dialog) == [3, 2, 1]
    # Confirmed: it goes, with its content (nothing else uses the GIF).
    box = dialog.ask_delete_selected()
    assert box is not None
    delete = next(b for b in box.buttons() if b.text() == "Delete Version")
    with qtbot.waitSignal(dialog.changed, timeout=WAIT):
        delete.click()
    qtbot.waitUntil(lambda: _numbers(dialog) == [3, 1], timeout=WAIT)
    _idle(qtbot, dialog)
    assert dialog.status.text().startswith("Version 2 deleted.")
    assert "freed" in dialog.status.text()
    assert [v.number for v in vault.versions(file_id)] == [1, 3]


def test_the_vault_refusal_is_shown_not_raised(
    qtbot: QtBot, vault: Vault, tasks: TaskManager, file_id: int
) -> None:
    dialog = _open(qtbot, vault, tasks, file_id)
    current = dialog.model.current_id
    assert current is not None
    dialog.delete_version(current)  # past the disabled button: the vault says no
    qtbot.waitUntil(lambda: "cannot be deleted" in dialog.status.text(), timeout=WAIT)
    _idle(qtbot, dialog)
    assert _numbers(dialog) == [3, 2, 1]


def test_a_file_deleted_forever_says_so(
    qtbot: QtBot, vault: Vault, tasks: TaskManager, file_id: int
) -> None:
    vault.delete_file(file_id)
    vault.empty_trash()
    dialog = VersionsDialog(vault, tasks, file_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=WAIT)
    assert dialog.status.text() == "That file no longer exists."
    assert dialog.model.rowCount() == 0
    assert not any(
        b.isEnabled()
        for b in (
            dialog.restore_button,
            dialog.export_button,
            dialog.note_button,
            dialog.delete_button,
        )
    )
