"""The Transfers panel: real imports, exports and downloads through the manager."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QObject, Qt, Signal
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from app import importer
from app.autosync import PAUSED, SyncState
from app.credentials import open_remote
from app.importer import Conflict
from app.remote import RemoteConfig, save_remote
from app.sync import ERROR, SYNCING, UP_TO_DATE, Syncer, SyncProgress
from app.vault import Vault
from storage.s3_client import RemoteSpec
from ui.transfers import (
    BUG_MESSAGE,
    Transfer,
    TransferKind,
    TransferManager,
    TransferRole,
    TransfersPanel,
    TransferState,
    summarize,
)

MB = 1_000_000
WAIT = 60_000  # ms: imports share two cores with other test runs


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[Vault]:
    with Vault.open(tmp_path / "vault") as opened:
        yield opened


@pytest.fixture
def manager(qtbot: QtBot, vault: Vault) -> Iterator[TransferManager]:
    transfers = TransferManager(vault)
    yield transfers
    transfers.shutdown()


class _SyncSource(QObject):
    """Stands in for the status bar's sync widget: emits SyncState on the GUI thread."""

    state_changed = Signal(object)


def _files(folder: Path, count: int, size: int, prefix: str = "f") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{prefix}-{i:04}.bin"
        path.write_bytes(os.urandom(size))
        paths.append(path)
    return paths


def _wait_end(qtbot: QtBot, transfer: Transfer) -> None:
    qtbot.waitUntil(lambda: not transfer.active, timeout=WAIT)


def _names(vault: Vault, folder_id: int) -> list[str]:
    listing = vault.list_folder(folder_id, limit=10_000)
    return [f.name for f in listing.folders] + [f.name for f in listing.files]


def test_import_ends_done_with_the_files_in_the_catalog(
    qtbot: QtBot, manager: TransferManager, vault: Vault, tmp_path: Path
) -> None:
    sources = _files(tmp_path / "src", 30, 20_000)
    finished: list[Transfer] = []
    manager.finished.connect(finished.append)
    transfer = manager.start_import(sources, vault.root_id)
    assert transfer.kind is TransferKind.IMPORT
    assert transfer.state is TransferState.QUEUED
    assert manager.active() == [transfer]
    _wait_end(qtbot, transfer)
    assert transfer.state is TransferState.DONE, transfer.error
    assert finished == [transfer]
    assert (transfer.done, transfer.total) == (30, 30)
    assert transfer.bytes_done == transfer.bytes_total == 30 * 20_000
    assert transfer.title == "Importing 30 files into /"
    assert transfer.summary == "30 files imported · 600 kB"
    assert transfer.fraction == 1.0
    assert len(transfer.file_ids) == 30
    assert vault.root_id in transfer.changed_folders
    assert sorted(_names(vault, vault.root_id)) == sorted(p.name for p in sources)
    assert manager.active() == []


def test_a_failing_source_is_listed_and_retry_imports_only_it(
    qtbot: QtBot, manager: TransferManager, vault: Vault, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    _files(src / "sub", 3, 1000)
    _files(src / "odd:name", 2, 1000)  # stored under a valid name, and said so
    pipe = src / "sub" / "pipe.bin"
    odd_pipe = src / "odd:name" / "pipe.bin"
    os.mkfifo(pipe)  # not a regular file: the importer refuses it (tests run as root)
    os.mkfifo(odd_pipe)
    target = vault.mkdir(vault.root_id, "Photos").created[0]
    failed: list[Transfer] = []
    manager.failed.connect(failed.append)

    transfer = manager.start_import([src], target)
    _wait_end(qtbot, transfer)
    assert transfer.state is TransferState.FAILED
    assert failed == [transfer]
    assert sorted(p.source for p in transfer.problems) == sorted([str(pipe), str(odd_pipe)])
    assert transfer.error.startswith("2 of 7 items could not be imported: it is not a regular")
    assert transfer.details() == transfer.error
    assert any("odd:name" in note for note in transfer.notes)
    assert transfer.can_retry and not transfer.can_cancel
    sub = vault.resolve_folder("/Photos/src/sub")
    assert "pipe.bin" not in _names(vault, sub)

    for fifo in (pipe, odd_pipe):
        fifo.unlink()
        fifo.write_bytes(b"now a regular file")
    assert manager.retry(transfer)
    assert transfer.state is TransferState.QUEUED and not transfer.problems
    _wait_end(qtbot, transfer)
    assert transfer.state is TransferState.DONE, transfer.error
    # Only the two failed files went again, each into the folder it belonged in.
    assert transfer.total == 2
    assert transfer.summary.startswith("2 files imported")
    assert sorted(_names(vault, sub)) == ["f-0000.bin", "f-0001.bin", "f-0002.bin", "pipe.bin"]
    odd = [n for n in _names(vault, vault.resolve_folder("/Photos/src")) if n != "sub"]
    assert len(odd) == 1 and odd[0] != "odd:name"
    assert "pipe.bin" in _names(vault, vault.resolve_folder(f"/Photos/src/{odd[0]}"))
    assert not manager.retry(transfer)  # done: nothing left to redo


def test_import_into_a_missing_folder_fails_with_a_message(
    qtbot: QtBot, manager: TransferManager, tmp_path: Path
) -> None:
    transfer = manager.start_import(_files(tmp_path / "src", 1, 10), 9999)
    _wait_end(qtbot, transfer)
    assert transfer.state is TransferState.FAILED
    assert transfer.error and "Traceback" not in transfer.error
    assert transfer.can_retry


def test_cancel_stops_a_long_import_and_retry_finishes_it(
    qtbot: QtBot,
    manager: TransferManager,
    vault: Vault,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Small commit batches, so that figures (counted at each commit) show early.
    monkeypatch.setattr(importer, "BATCH_FILES", 10)
    count = 900
    sources = _files(tmp_path / "src", count, 128_000)
    seen: list[tuple[TransferState, int, int]] = []

    def on_changed(t: Transfer) -> None:
        seen.append((t.state, t.done, t.total))
        if t.done > 0:
            manager.cancel(t)  # as soon as the first figures show

    manager.changed.connect(on_changed)
    transfer = manager.start_import(sources, vault.root_id)
    _wait_end(qtbot, transfer)
    manager.changed.disconnect(on_changed)
    assert transfer.state is TransferState.CANCELLED
    # It showed progress on the way, and stopped well short of the end.
    assert any(s is TransferState.RUNNING and 0 < d < t for s, d, t in seen)
    imported = len(_names(vault, vault.root_id))
    assert 0 < imported < count
    assert transfer.details().startswith("Cancelled · ")
    assert transfer.can_retry

    assert manager.retry(transfer)
    _wait_end(qtbot, transfer)
    assert transfer.state is TransferState.DONE, transfer.error
    assert len(_names(vault, vault.root_id)) == count  # no duplicates of what was there
    assert f"{imported:,} already there" in transfer.summary


def test_a_single_file_onto_its_namesake_becomes_a_new_version(
    qtbot: QtBot, manager: TransferManager, vault: Vault, tmp_path: Path
) -> None:
    first = _files(tmp_path / "a", 1, 500, prefix="photo")[0]
    assert vault.import_paths([first]).ok
    second = _files(tmp_path / "b", 1, 700, prefix="photo")[0]
    transfer = manager.start_import([second], vault.root_id, Conflict.VERSION)
    _wait_end(qtbot, transfer)
    assert transfer.state is TransferState.DONE, transfer.error
    assert transfer.summary == "1 new version · 700 bytes"
    assert transfer.title == f"Importing {second.name} into /"
    assert _names(vault, vault.root_id) == [first.name]
    assert len(vault.versions(transfer.file_ids[0])) == 2


def test_export_writes_files_and_folders(
    qtbot: QtBot, manager: TransferManager, vault: Vault, tmp_path: Path
) -> None:
    singles = _files(tmp_path / "one", 2, 3000, prefix="s")
    report = vault.import_paths(singles)
    trip = tmp_path / "Trip"
    _files(trip, 3, 2000, prefix="t")
    assert vault.import_paths([trip]).ok
    folder = vault.resolve_folder("/Trip")
    out = tmp_path / "out"

    transfer = manager.start_export(report.file_ids, [folder], out)
    _wait_end(qtbot, transfer)
    assert transfer.state is TransferState.DONE, transfer.error
    assert (transfer.done, transfer.total) == (5, 5)
    for path in singles:
        assert (out / path.name).read_bytes() == path.read_bytes()
    for path in sorted(trip.iterdir()):
        assert (out / "Trip" / path.name).read_bytes() == path.read_bytes()
    assert transfer.summary == f"5 files exported to {out}"

    missing = manager.start_export([report.file_ids[0], 4242], [], out)
    _wait_end(qtbot, missing)
    assert missing.state is TransferState.FAILED
    assert [p.source for p in missing.problems] == ["file #4242"]
    assert (out / singles[0].name).exists() and len(list(out.glob("s-0000*"))) == 2


def test_download_without_a_bucket_says_how_to_set_one(
    qtbot: QtBot, manager: TransferManager, vault: Vault, tmp_path: Path
) -> None:
    report = vault.import_paths(_files(tmp_path / "src", 1, 100))
    failed: list[Transfer] = []
    manager.failed.connect(failed.append)
    transfer = manager.start_download(report.file_ids)
    _wait_end(qtbot, transfer)
    assert failed == [transfer]
    assert transfer.error == (
        "This vault has no remote bucket. Set one in the window's Settings (Remote) or with"
        " `mediavault remote set --bucket NAME`."
    )
    assert transfer.can_retry


@pytest.mark.slow
@pytest.mark.usefixtures("aws_chain")
def test_download_fetches_evicted_files_from_the_bucket(
    qtbot: QtBot, manager: TransferManager, vault: Vault, spec: RemoteSpec, tmp_path: Path
) -> None:
    sources = _files(tmp_path / "src", 5, 50_000)
    report = vault.import_paths(sources)
    save_remote(vault.paths, RemoteConfig(spec, "chain"))
    assert Syncer.for_vault(vault).run(snapshot=False).ok
    store = open_remote(vault.paths)[0]
    assert vault.free_up_space(store, file_ids=report.file_ids).evicted == 5
    assert all(vault.file_info(i).version.local_state == "evicted" for i in report.file_ids)

    transfer = manager.start_download(report.file_ids, keep=True)
    assert transfer.title == "Keeping 5 files on this device"
    _wait_end(qtbot, transfer)
    assert transfer.state is TransferState.DONE, transfer.error
    assert (transfer.done, transfer.total) == (5, 5)
    assert transfer.bytes_done == transfer.bytes_total == 250_000
    assert transfer.summary == "5 files downloaded · 250 kB"
    out = tmp_path / "out"
    for file_id, source in zip(report.file_ids, sources, strict=True):
        assert vault.file_info(file_id).version.local_state == "present"
        assert vault.export_file(file_id, out).read_bytes() == source.read_bytes()
    # Pinned: freeing up space now leaves them alone.
    assert vault.free_up_space(store, file_ids=report.file_ids).evicted == 0


def test_row_text_while_running_and_after() -> None:
    running = Transfer(1, TransferKind.IMPORT, "Importing 2,000 files into /Photos")
    running.state = TransferState.RUNNING
    assert running.details() == "Preparing…"
    running.done, running.total = 120, 2000
    running.bytes_done, running.bytes_total = 40 * MB, 760 * MB
    running.rate = 12 * MB
    assert running.details() == "120 of 2,000 · 40.0 MB of 760 MB · 12.0 MB/s · 1 min left"
    running.paused = True
    assert running.details() == "Paused · 120 of 2,000 · 40.0 MB of 760 MB"
    queued = Transfer(2, TransferKind.EXPORT, "Exporting 3 files to /tmp")
    assert queued.details() == "Waiting…" and queued.fraction is None
    cancelled = Transfer(3, TransferKind.DOWNLOAD, "Downloading 4 files")
    cancelled.state, cancelled.done, cancelled.total = TransferState.CANCELLED, 1, 4
    assert cancelled.details() == "Cancelled · 1 of 4 done"

    text, percent = summarize([running, queued, cancelled])
    assert text == "1 transfer running, 1 waiting · 40.0 MB of 760 MB · 12.0 MB/s"
    assert percent == 5
    assert summarize([cancelled]) == ("All transfers finished", None)
    assert summarize([]) == ("No transfers", None)


def test_panel_rows_actions_and_model(
    qtbot: QtBot,
    qtmodeltester: ModelTester,
    manager: TransferManager,
    vault: Vault,
    tmp_path: Path,
) -> None:
    panel = TransfersPanel(manager)
    qtbot.addWidget(panel)
    panel.resize(700, 220)
    panel.show()

    good = manager.start_import(_files(tmp_path / "ok", 2, 100), vault.root_id)
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    bad = manager.start_import([pipe], vault.root_id)
    assert panel.model.rowCount() == 2
    qtmodeltester.check(panel.model)  # also watches every change that follows
    assert panel.model.transfer(0) is bad  # newest first
    _wait_end(qtbot, good)
    _wait_end(qtbot, bad)

    model = panel.model
    top, second = model.index(0, 0), model.index(1, 0)
    assert model.data(top, Qt.ItemDataRole.DisplayRole) == "Importing pipe"
    assert model.data(top, TransferRole.DETAILS) == (
        "1 of 1 item could not be imported: it is not a regular file (a device, pipe or socket)"
    )
    assert model.data(top, TransferRole.STATE) == "failed"
    assert model.data(top, TransferRole.PROGRESS) == 0  # nothing to show: no busy bar
    assert str(pipe) in model.data(top, Qt.ItemDataRole.ToolTipRole)
    assert model.data(second, Qt.ItemDataRole.DisplayRole) == "Importing 2 files into /"
    assert model.data(second, TransferRole.DETAILS) == "2 files imported · 200 bytes"
    assert model.data(second, TransferRole.PROGRESS) == 100
    assert panel.summary.text() == "All transfers finished · 1 failed transfer"
    assert not panel.total_bar.isVisible()
    panel.grab()  # paints every row through the delegate

    panel.view.setCurrentIndex(top)
    assert panel.retry_button.isEnabled() and not panel.cancel_button.isEnabled()
    menu = panel.context_menu()
    assert [a.text() for a in menu.actions() if a.text()] == ["Cancel", "Retry", "Clear finished"]
    assert [a.isEnabled() for a in menu.actions() if a.text()] == [False, True, True]
    pipe.unlink()
    pipe.write_bytes(b"fixed")
    qtbot.mouseClick(panel.retry_button, Qt.MouseButton.LeftButton)
    _wait_end(qtbot, bad)
    assert bad.state is TransferState.DONE
    assert model.data(top, TransferRole.DETAILS) == "1 file imported · 5 bytes"

    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert model.rowCount(QModelIndex()) == 0 and manager.transfers == []
    assert panel.summary.text() == "No transfers"


def test_figures_reach_the_window_at_most_ten_times_a_second(
    qtbot: QtBot, manager: TransferManager
) -> None:
    added: list[Transfer] = []
    changes: list[int] = []
    manager.added.connect(added.append)
    manager.changed.connect(lambda t: changes.append(t.done))
    total = 2000
    for done in range(1, total):  # a flood, faster than any import reports
        manager.sync_progress(
            SyncProgress(SYNCING, done, total, done * 1000, total * 1000, 0, None)
        )
    assert len(added) == 1 and changes == []  # nothing yet: figures wait for the tick
    upload = added[0]
    assert upload.kind is TransferKind.UPLOAD and upload.title.startswith("Uploading to")
    qtbot.waitUntil(lambda: upload.done == total - 1, timeout=2000)  # the last one is shown
    qtbot.wait(250)
    assert 1 <= len(changes) <= 4
    assert upload.bytes_total == total * 1000 and not upload.can_cancel


def test_uploads_follow_the_sync(qtbot: QtBot, manager: TransferManager) -> None:
    asked: list[bool] = []
    finished: list[Transfer] = []
    manager.finished.connect(finished.append)

    def progress(status: str, done: int) -> SyncProgress:
        return SyncProgress(status, done, 4, done * MB, 4 * MB, MB, None)

    source = _SyncSource()
    manager.track_sync(source.state_changed, lambda: asked.append(True))
    source.state_changed.emit(SyncState(SYNCING, progress(SYNCING, 0)))
    upload = manager.transfers[-1]
    source.state_changed.emit(SyncState(PAUSED, progress(SYNCING, 1)))
    assert upload.paused
    source.state_changed.emit(SyncState(SYNCING, progress(SYNCING, 2)))
    qtbot.waitUntil(lambda: upload.done == 2 and upload.state is TransferState.RUNNING)
    source.state_changed.emit(SyncState(SYNCING, progress(ERROR, 3)))  # not over yet
    assert upload.active
    source.state_changed.emit(
        SyncState(ERROR, progress(ERROR, 4), message="1 file could not be uploaded: denied")
    )
    assert upload.state is TransferState.FAILED and finished == [upload]
    assert upload.error == "1 file could not be uploaded: denied"
    assert manager.retry(upload) and asked == [True]

    source.state_changed.emit(SyncState(SYNCING, progress(SYNCING, 1)))
    second = manager.transfers[-1]
    assert second is not upload
    source.state_changed.emit(SyncState(UP_TO_DATE, progress(UP_TO_DATE, 4)))
    assert second.state is TransferState.DONE
    assert second.details() == "4 files uploaded · 4.0 MB"
    # A sync with nothing to send shows no row.
    source.state_changed.emit(SyncState(SYNCING, SyncProgress(SYNCING, 0, 0, 0, 0, 0, None)))
    assert len(manager.transfers) == 2


def test_shutdown_cancels_and_is_idempotent(
    qtbot: QtBot, manager: TransferManager, vault: Vault, tmp_path: Path
) -> None:
    transfer = manager.start_import(_files(tmp_path / "src", 200, 64_000), vault.root_id)
    assert manager.shutdown()
    assert manager.shutdown()
    assert transfer.state is TransferState.CANCELLED and manager.active() == []
    later = manager.start_import(_files(tmp_path / "more", 1, 10), vault.root_id)
    assert later.state is TransferState.CANCELLED
    assert not manager.retry(later)


def test_an_unexpected_error_is_logged_and_shown_short(
    qtbot: QtBot,
    manager: TransferManager,
    vault: Vault,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the importer")

    monkeypatch.setattr(vault, "import_paths", broken)
    transfer = manager.start_import(_files(tmp_path / "src", 1, 10), vault.root_id)
    _wait_end(qtbot, transfer)
    assert transfer.state is TransferState.FAILED
    assert transfer.error == BUG_MESSAGE
    assert "Traceback" in caplog.text and "a bug in the importer" in caplog.text
    assert transfer.can_retry
