"""The Settings dialog over a real vault, a real (loopback) S3 endpoint and a memory keyring."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMessageBox
from pytestqt.qtbot import QtBot

from app import credentials
from app.remote import RemoteConfig, load_remote, remote_config, save_remote
from app.settings import GB, MB, Preferences, load_preferences, save_preferences
from app.vault import Vault
from app.versions import RetentionPolicy
from storage.s3_client import Credentials, RemoteSpec
from tests.conftest import MemoryKeyring
from tests.s3server import S3Endpoint, down_url, moto_checks_keys
from ui.formatting import human_size
from ui.settings_dialog import KEYRING, PROFILE, SettingsDialog

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SECRET = "form-secret-that-must-stay-in-the-keyring"


def _dialog(qtbot: QtBot, vault: Vault) -> SettingsDialog:
    dialog = SettingsDialog(vault)
    qtbot.addWidget(dialog)
    dialog.open()
    assert dialog.busy  # loading runs off the GUI thread
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)
    qtbot.waitUntil(lambda: dialog.local_usage.text().endswith("of content"), timeout=10_000)
    return dialog


def _button(dialog: SettingsDialog, which: QDialogButtonBox.StandardButton) -> None:
    dialog.buttons.button(which).click()


def _fill_remote(
    qtbot: QtBot, dialog: SettingsDialog, bucket: str, endpoint: str, region: str = ""
) -> None:
    for edit, text in (
        (dialog.endpoint, endpoint),
        (dialog.region, region),
        (dialog.bucket, bucket),
        (dialog.prefix, "vault"),
    ):
        edit.clear()
        qtbot.keyClicks(edit, text)
    dialog.addressing.setCurrentIndex(dialog.addressing.findData("path"))


def _use_keyring(qtbot: QtBot, dialog: SettingsDialog, key_id: str, secret: str) -> None:
    dialog.source.setCurrentIndex(dialog.source.findData(KEYRING))
    dialog.access_key_id.clear()
    qtbot.keyClicks(dialog.access_key_id, key_id)
    dialog.secret.clear()
    qtbot.keyClicks(dialog.secret, secret)


def _all_bytes_under(root: Path) -> Iterator[tuple[Path, bytes]]:
    for path in root.rglob("*"):
        if path.is_file():
            yield path, path.read_bytes()


def _run_test(qtbot: QtBot, dialog: SettingsDialog) -> str:
    """Click Test connection, check the GUI stays live and shows progress; the result text."""
    ticks: list[int] = []
    timer = QTimer(dialog)
    timer.setInterval(0)  # fires on every event-loop turn
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    # The click returned before the network was touched: the check runs on a pool thread.
    assert dialog.testing
    assert not dialog.test_button.isEnabled()
    assert dialog.test_button.text() == "Testing…"
    assert dialog.test_result.text().startswith("Testing the connection to ")
    qtbot.waitUntil(lambda: not dialog.testing, timeout=30_000)
    timer.stop()
    assert ticks, "the event loop ran while the check was under way"
    assert dialog.test_button.isEnabled()
    return dialog.test_result.text()


def test_save_remote_puts_the_secret_in_the_keyring_only(
    qtbot: QtBot,
    vault: Vault,
    s3: S3Endpoint,
    memory_keyring: MemoryKeyring,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    dialog = _dialog(qtbot, vault)
    assert not dialog.remove_button.isEnabled()  # nothing to remove yet
    assert dialog.secret.echoMode() == dialog.secret.EchoMode.Password
    _fill_remote(qtbot, dialog, "media-bucket", s3.url + "/", s3.region)
    _use_keyring(qtbot, dialog, "AKIDFORM1234", SECRET)

    with qtbot.waitSignal(dialog.remote_changed, timeout=10_000):
        _button(dialog, QDialogButtonBox.StandardButton.Apply)
    qtbot.waitUntil(lambda: not dialog.busy)

    config = load_remote(vault.paths)
    assert config is not None
    assert config.credentials == "keyring"
    assert config.spec == RemoteSpec(
        bucket="media-bucket",
        endpoint_url=s3.url,
        region=s3.region,
        prefix="vault",
        addressing_style="path",
    )
    assert credentials.load_keys(config) == Credentials("AKIDFORM1234", SECRET)
    (stored,) = memory_keyring.entries.values()
    assert SECRET in stored
    # Nowhere else: not the vault's files (catalog, config, cache), not the log, not the form.
    for path, content in _all_bytes_under(vault.paths.data):
        assert SECRET.encode() not in content, path
    assert SECRET not in caplog.text
    assert dialog.secret.text() == ""
    assert "keep" in dialog.secret.placeholderText()
    assert dialog.access_key_id.text() == "AKIDFORM1234"
    assert dialog.remove_button.isEnabled()
    assert dialog.status.text() == "Settings saved."

    # A new dialog shows the saved remote, never the secret.
    again = _dialog(qtbot, vault)
    assert again.bucket.text() == "media-bucket"
    assert again.endpoint.text() == s3.url
    assert again.source.currentData() == KEYRING
    assert again.access_key_id.text() == "AKIDFORM1234"
    assert again.secret.text() == ""
    assert all(SECRET not in label.text() for label in again.findChildren(type(again.status)))


def test_empty_secret_keeps_the_stored_one(
    qtbot: QtBot, vault: Vault, s3: S3Endpoint, memory_keyring: MemoryKeyring
) -> None:
    config = remote_config("old-bucket", endpoint_url=s3.url, credentials="keyring")
    credentials.store_keys(config, Credentials("AKIDKEEP", SECRET))
    save_remote(vault.paths, config)
    dialog = _dialog(qtbot, vault)
    assert dialog.secret.text() == ""

    # A new bucket names a new keyring entry; the stored keys move there, the old one goes.
    dialog.bucket.clear()
    qtbot.keyClicks(dialog.bucket, "new-bucket")
    with qtbot.waitSignal(dialog.remote_changed, timeout=10_000):
        _button(dialog, QDialogButtonBox.StandardButton.Apply)
    new = load_remote(vault.paths)
    assert new is not None and new.spec.bucket == "new-bucket"
    assert credentials.load_keys(new) == Credentials("AKIDKEEP", SECRET)
    assert list(memory_keyring.entries) == [("mediavault", f"{s3.url}/new-bucket")]

    # A new key id without its secret is refused in place, and nothing changes.
    dialog.access_key_id.clear()
    qtbot.keyClicks(dialog.access_key_id, "AKIDOTHER")
    _button(dialog, QDialogButtonBox.StandardButton.Apply)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)
    assert "needs its secret" in dialog.errors[""].message
    assert dialog.errors[""].isVisible()
    assert credentials.load_keys(new) == Credentials("AKIDKEEP", SECRET)


def test_connection_works_without_saving(
    qtbot: QtBot, vault: Vault, spec: RemoteSpec, s3: S3Endpoint, memory_keyring: MemoryKeyring
) -> None:
    dialog = _dialog(qtbot, vault)
    _fill_remote(qtbot, dialog, spec.bucket, spec.endpoint_url, spec.region)
    _use_keyring(qtbot, dialog, s3.access_key, s3.secret_key)

    text = _run_test(qtbot, dialog)

    lines = text.splitlines()
    assert lines[0].startswith("The connection works")
    assert [line.split(" (")[0] for line in lines[1:]] == [
        "✓ List the bucket",
        "✓ Upload a test object",
        "✓ Download it again",
        "✓ Delete it",
    ]
    # Tested, not saved: no remote file, no keys in the keyring.
    assert load_remote(vault.paths) is None
    assert memory_keyring.entries == {}


def test_connection_with_a_wrong_secret(
    qtbot: QtBot, vault: Vault, spec: RemoteSpec, s3: S3Endpoint, memory_keyring: MemoryKeyring
) -> None:
    dialog = _dialog(qtbot, vault)
    _fill_remote(qtbot, dialog, spec.bucket, spec.endpoint_url, spec.region)
    _use_keyring(qtbot, dialog, "AKIAWRONGWRONGWRONG", SECRET)

    with moto_checks_keys(s3):
        text = _run_test(qtbot, dialog)

    lines = text.splitlines()
    assert lines[0] == "The connection does not work."
    assert lines[1].startswith("✗ List the bucket: ")
    assert "rejected the access keys" in lines[1]
    assert lines[2].strip().startswith("What to do: Check the access key id and secret")
    assert len(lines) == 3  # the next steps could only fail the same way
    assert SECRET not in text


def test_connection_to_an_endpoint_that_is_down(
    qtbot: QtBot, vault: Vault, memory_keyring: MemoryKeyring
) -> None:
    dialog = _dialog(qtbot, vault)
    url = down_url()
    _fill_remote(qtbot, dialog, "some-bucket", url)
    _use_keyring(qtbot, dialog, "AKIDDOWN", SECRET)

    text = _run_test(qtbot, dialog)

    lines = text.splitlines()
    assert lines[0] == "The connection does not work."
    assert lines[1] == f"✗ List the bucket: Cannot connect to {url}, or it did not answer in time."
    assert "Check the endpoint URL" in lines[2]


def test_connection_with_no_keys_says_so(
    qtbot: QtBot, vault: Vault, memory_keyring: MemoryKeyring
) -> None:
    dialog = _dialog(qtbot, vault)
    _fill_remote(qtbot, dialog, "some-bucket", down_url())
    _use_keyring(qtbot, dialog, "AKIDNOSECRET", "")

    text = _run_test(qtbot, dialog)

    assert text.startswith("The connection could not be tested: Enter the secret access key")


def test_invalid_fields_are_shown_in_place(
    qtbot: QtBot, vault: Vault, memory_keyring: MemoryKeyring
) -> None:
    dialog = _dialog(qtbot, vault)
    _fill_remote(qtbot, dialog, "My_Bucket", "ftp://example.com")
    dialog.source.setCurrentIndex(dialog.source.findData(PROFILE))

    _button(dialog, QDialogButtonBox.StandardButton.Apply)

    assert not dialog.busy  # refused before anything ran
    assert "lowercase letters" in dialog.errors["bucket"].message
    assert dialog.errors["bucket"].isVisible()
    assert "http:// or https://" in dialog.errors["endpoint_url"].message
    assert "profile" in dialog.errors["profile"].message
    assert not dialog.errors["prefix"].isVisible()
    assert dialog.tabs.currentIndex() == 0
    assert load_remote(vault.paths) is None

    # Test connection refuses the same form without going to the network.
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    assert not dialog.testing
    assert dialog.test_result.text() == "Fix the fields marked above, then test again."

    # Typing in the field clears its message.
    qtbot.keyClicks(dialog.bucket, "x")
    assert not dialog.errors["bucket"].isVisible()

    # OK with errors keeps the dialog open.
    _button(dialog, QDialogButtonBox.StandardButton.Ok)
    assert dialog.isVisible()


def test_a_missing_ca_bundle_is_reported_not_saved(
    qtbot: QtBot, vault: Vault, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    dialog = _dialog(qtbot, vault)
    _fill_remote(qtbot, dialog, "media-bucket", "https://s3.example.com")
    qtbot.keyClicks(dialog.ca_bundle, str(tmp_path / "no-such-ca.pem"))

    _button(dialog, QDialogButtonBox.StandardButton.Ok)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)

    assert "does not exist" in dialog.errors[""].message
    assert dialog.isVisible()  # OK closes only after a successful save
    assert load_remote(vault.paths) is None


def test_preferences_round_trip(qtbot: QtBot, vault: Vault) -> None:
    dialog = _dialog(qtbot, vault)
    assert dialog.thumb_size.value() == Preferences().thumbnail_size
    assert not dialog.budget.isEnabled()

    dialog.thumb_slider.setValue(256)
    assert dialog.thumb_size.value() == 256
    dialog.cache_size.setValue(500)
    dialog.budget_enabled.setChecked(True)
    assert dialog.budget.isEnabled()
    dialog.budget.setValue(5.5)

    with qtbot.waitSignal(dialog.preferences_changed, timeout=10_000) as signal:
        _button(dialog, QDialogButtonBox.StandardButton.Ok)
    expected = Preferences(thumbnail_size=256, cache_bytes=500 * MB, space_budget=int(5.5 * GB))
    assert signal.args == [expected]
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert load_preferences(vault.paths) == expected

    again = _dialog(qtbot, vault)
    assert again.thumb_size.value() == 256
    assert again.cache_size.value() == 500
    assert again.budget_enabled.isChecked()
    assert again.budget.value() == 5.5

    # No limit again; the remote part (empty) is left alone.
    again.budget_enabled.setChecked(False)
    with qtbot.waitSignal(again.preferences_changed, timeout=10_000) as signal:
        _button(again, QDialogButtonBox.StandardButton.Apply)
    assert signal.args[0].space_budget is None
    assert load_remote(vault.paths) is None


def test_nothing_changed_saves_nothing(qtbot: QtBot, vault: Vault) -> None:
    save_preferences(vault.paths, Preferences(thumbnail_size=96))
    dialog = _dialog(qtbot, vault)
    assert dialog.thumb_size.value() == 96
    emitted: list[object] = []
    dialog.preferences_changed.connect(emitted.append)
    dialog.remote_changed.connect(lambda: emitted.append("remote"))
    _button(dialog, QDialogButtonBox.StandardButton.Ok)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert emitted == []


def test_cancel_discards_changes(qtbot: QtBot, vault: Vault) -> None:
    dialog = _dialog(qtbot, vault)
    dialog.thumb_size.setValue(400)
    _button(dialog, QDialogButtonBox.StandardButton.Cancel)
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert load_preferences(vault.paths) == Preferences()


def test_usage_and_clear_cache(qtbot: QtBot, vault: Vault, tmp_path: Path) -> None:
    source = tmp_path / "photo.bin"
    source.write_bytes(b"p" * 12_345)
    vault.import_paths([source], vault.root_id)
    thumbs = vault.paths.cache / "thumbs" / "ab"
    thumbs.mkdir(parents=True)
    (thumbs / "abc.png").write_bytes(b"t" * 3_000)
    (vault.paths.cache / "preview.bin").write_bytes(b"v" * 2_000)

    dialog = _dialog(qtbot, vault)
    assert dialog.local_usage.text() == f"{human_size(12_345)} of content"
    qtbot.waitUntil(lambda: dialog.cache_usage.text() == human_size(5_000), timeout=10_000)

    qtbot.mouseClick(dialog.clear_cache_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Cache cleared"), timeout=10_000)
    assert dialog.status.text() == f"Cache cleared: {human_size(5_000)} freed."
    qtbot.waitUntil(lambda: dialog.cache_usage.text() == human_size(0), timeout=10_000)
    assert sorted(p.name for p in vault.paths.cache.iterdir()) == ["CACHEDIR.TAG"]
    assert dialog.clear_cache_button.isEnabled()


def test_remove_remote_asks_first(
    qtbot: QtBot, vault: Vault, s3: S3Endpoint, memory_keyring: MemoryKeyring
) -> None:
    config = remote_config("media-bucket", endpoint_url=s3.url, credentials="keyring")
    credentials.store_keys(config, Credentials("AKIDGONE", SECRET))
    save_remote(vault.paths, config)
    dialog = _dialog(qtbot, vault)
    removed: list[bool] = []
    dialog.remote_changed.connect(lambda: removed.append(True))

    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    box = dialog.remove_box
    assert box is not None and box.isVisible()
    assert "media-bucket" in box.text()
    box.button(QMessageBox.StandardButton.No).click()
    qtbot.wait(50)
    assert load_remote(vault.paths) == config
    assert removed == []

    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    box = dialog.remove_box
    assert box is not None
    with qtbot.waitSignal(dialog.remote_changed, timeout=10_000):
        box.button(QMessageBox.StandardButton.Yes).click()
    assert load_remote(vault.paths) is None
    assert memory_keyring.entries == {}
    assert dialog.bucket.text() == ""
    assert not dialog.remove_button.isEnabled()
    assert dialog.status.text().startswith("Remote removed")


def test_chain_remote_with_profile_is_shown(qtbot: QtBot, vault: Vault) -> None:
    save_remote(
        vault.paths,
        RemoteConfig(RemoteSpec(bucket="media-bucket", region="eu-west-1", profile="backup")),
    )
    dialog = _dialog(qtbot, vault)
    assert dialog.source.currentData() == PROFILE
    assert dialog.profile.text() == "backup"
    assert dialog.region.text() == "eu-west-1"
    assert dialog.endpoint.text() == ""
    assert not dialog.secret.isVisible()
    assert dialog.profile.isVisible()


@pytest.mark.parametrize("dark", [False, True])
def test_renders_in_light_and_dark(qtbot: QtBot, vault: Vault, dark: bool) -> None:
    dialog = _dialog(qtbot, vault)
    if dark:
        palette = QPalette()
        for role, color in (
            (QPalette.ColorRole.Window, "#202124"),
            (QPalette.ColorRole.WindowText, "#e8eaed"),
            (QPalette.ColorRole.Base, "#2b2c2f"),
            (QPalette.ColorRole.Text, "#e8eaed"),
            (QPalette.ColorRole.Button, "#303134"),
            (QPalette.ColorRole.ButtonText, "#e8eaed"),
        ):
            palette.setColor(role, QColor(color))
        dialog.setPalette(palette)
    _fill_remote(qtbot, dialog, "Bad_Bucket", "")
    _button(dialog, QDialogButtonBox.StandardButton.Apply)
    label = dialog.errors["bucket"]
    # The error colour follows the palette, so it reads on either background.
    assert ("#ff8a80" in label.text()) is dark
    image = dialog.grab().toImage()
    assert not image.isNull() and image.width() > 0
    if os.environ.get("MEDIAVAULT_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = "settings-remote-dark.png" if dark else "settings-remote.png"
        assert image.save(str(SCREENSHOTS / name))


# -- Versions: the retention policy and "Apply now" -------------------------------------------


def _versions_tab(dialog: SettingsDialog) -> None:
    dialog.tabs.setCurrentIndex(
        next(i for i in range(dialog.tabs.count()) if dialog.tabs.tabText(i) == "Versions")
    )


def _file_with_versions(vault: Vault, tmp_path: Path, count: int) -> int:
    source = tmp_path / "draft.txt"
    source.write_bytes(b"draft 1\n")
    file_id = vault.import_paths([source], vault.root_id).file_ids[0]
    for n in range(2, count + 1):
        source.write_bytes(f"draft {n}\n".encode())
        assert vault.add_version(file_id, source).new_versions
    return file_id


def test_retention_policy_round_trip(qtbot: QtBot, vault: Vault) -> None:
    dialog = _dialog(qtbot, vault)
    _versions_tab(dialog)
    assert dialog.keep_all.isChecked()
    assert not dialog.prune_button.isEnabled()  # keep all: nothing to apply
    assert not dialog.keep_last_count.isEnabled() and not dialog.keep_days.isEnabled()

    dialog.keep_by_age.click()
    assert dialog.keep_days.isEnabled() and dialog.keep_weeks.isEnabled()
    assert not dialog.keep_last_count.isEnabled() and dialog.prune_button.isEnabled()
    dialog.keep_days.setValue(3)
    dialog.keep_weeks.setValue(2)
    _button(dialog, QDialogButtonBox.StandardButton.Ok)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    assert vault.get_retention() == RetentionPolicy.by_age(3, 2)
    assert load_preferences(vault.paths) == Preferences()  # only what changed is saved

    again = _dialog(qtbot, vault)
    assert again.keep_by_age.isChecked()
    assert (again.keep_days.value(), again.keep_weeks.value()) == (3, 2)
    qtbot.keyClick(again.keep_last, Qt.Key.Key_Space)  # reachable from the keyboard
    assert again.keep_last.isChecked() and again.keep_last_count.isEnabled()
    again.keep_last_count.setValue(5)
    _button(again, QDialogButtonBox.StandardButton.Apply)
    qtbot.waitUntil(lambda: not again.busy, timeout=10_000)
    assert vault.get_retention() == RetentionPolicy.last(5)
    assert again.status.text() == "Settings saved."


def test_apply_now_asks_first_then_removes_old_versions(
    qtbot: QtBot, vault: Vault, tmp_path: Path
) -> None:
    file_id = _file_with_versions(vault, tmp_path, 4)
    dialog = _dialog(qtbot, vault)
    _versions_tab(dialog)
    dialog.keep_last.click()
    dialog.keep_last_count.setValue(1)

    # First a dry run, and a question saying what would go; Cancel removes nothing.
    qtbot.mouseClick(dialog.prune_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.prune_box is not None, timeout=10_000)
    box = dialog.prune_box
    assert box is not None
    assert box.text() == (
        "3 old versions of 1 file would be removed, freeing 24 bytes on this computer."
    )
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert [v.number for v in vault.versions(file_id)] == [1, 2, 3, 4]
    assert vault.get_retention() == RetentionPolicy.keep_all()

    qtbot.mouseClick(dialog.prune_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.prune_box is not None, timeout=10_000)
    box = dialog.prune_box
    assert box is not None
    remove = next(b for b in box.buttons() if b.text() == "Remove Old Versions")
    with qtbot.waitSignal(dialog.versions_pruned, timeout=10_000) as pruned:
        remove.click()
    assert file_id in pruned.args[0].files
    assert dialog.prune_result.text() == (
        "Removed 3 old versions of 1 file; 24 bytes freed on this computer."
    )
    assert [v.number for v in vault.versions(file_id)] == [4]
    assert vault.get_retention() == RetentionPolicy.last(1)  # the choice was saved too
    assert dialog.retention == RetentionPolicy.last(1)
    assert dialog.prune_button.isEnabled()

    # Again: nothing left to remove, said without asking.
    qtbot.mouseClick(dialog.prune_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Nothing to remove" in dialog.prune_result.text(), timeout=10_000)
    assert dialog.prune_box is None
