"""The sync status in the status bar: its wording, and a real sync behind it."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.autosync import NO_REMOTE, PAUSED, STARTING, SyncState
from app.remote import RemoteConfig, save_remote
from app.sync import ERROR, OFFLINE, SYNCING, UP_TO_DATE, SyncProgress
from app.vault import Vault
from storage.s3_client import RemoteSpec
from ui.main_window import MainWindow
from ui.sync_status import SyncStatus, describe

MB = 1_000_000


def _progress(done: int, total: int, rate: float = 0.0, eta: float | None = None) -> SyncProgress:
    return SyncProgress(SYNCING, done, total, done * MB, total * MB, rate, eta)


@pytest.mark.parametrize(
    ("state", "text"),
    [
        (SyncState(STARTING), "Sync starting…"),
        (SyncState(SYNCING), "Syncing…"),
        (
            SyncState(SYNCING, _progress(12, 300, 12.5 * MB, 95)),
            "Syncing 12 of 300 · 12.0 MB of 300 MB · 12.5 MB/s · 2 min left",
        ),
        (SyncState(SYNCING, _progress(1200, 3000)), "Syncing 1,200 of 3,000 · 1.2 GB of 3.0 GB"),
        (SyncState(UP_TO_DATE, _progress(3, 3)), "Up to date"),
        (SyncState(PAUSED, _progress(1, 4)), "Sync paused · 1 of 4 · 1.0 MB of 4.0 MB"),
        (SyncState(OFFLINE, retry_in=30), "Offline · next try in 30 s"),
        (
            SyncState(ERROR, failed=1, retry_in=120),
            "Sync error: 1 file not uploaded · next try in 2 min",
        ),
        (SyncState(ERROR, message="The catalog cannot be read."), "Sync error"),
        (SyncState(NO_REMOTE), "Not backed up"),
    ],
)
def test_describe(state: SyncState, text: str) -> None:
    assert describe(state)[0] == text


def test_tooltips_say_why() -> None:
    assert "Settings" in describe(SyncState(NO_REMOTE))[1]
    assert describe(SyncState(OFFLINE, message="cannot be reached"))[1] == "cannot be reached"
    synced = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    assert describe(SyncState(UP_TO_DATE, last_synced=synced))[1].startswith("Last synced ")


@pytest.mark.usefixtures("aws_chain")
def test_status_bar_follows_a_real_sync_and_pauses(
    qtbot: QtBot, vault: Vault, spec: RemoteSpec, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(30):
        (src / f"clip-{i:02}.bin").write_bytes(os.urandom(2048))
    assert vault.import_paths([src]).ok
    save_remote(vault.paths, RemoteConfig(spec, "chain"))

    status = SyncStatus(vault)
    qtbot.addWidget(status)
    status.autosync.pause()  # before the first sync: the button must say Resume
    status.start()
    try:
        qtbot.waitUntil(lambda: status.label.text().startswith("Sync paused"), timeout=10_000)
        assert status.button.text() == "Resume"
        qtbot.mouseClick(status.button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: status.label.text() == "Up to date", timeout=30_000)
        assert status.button.text() == "Pause"
        assert status.label.toolTip().startswith("Last synced ")
    finally:
        status.shutdown()


def test_main_window_without_a_remote_says_not_backed_up(qtbot: QtBot, vault: Vault) -> None:
    window = MainWindow(vault)
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: window.sync_status.label.text() == "Not backed up", timeout=10_000)
        assert not window.sync_status.button.isVisible()
    finally:
        window.shutdown()
