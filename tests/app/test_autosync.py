"""The background sync: when it runs, what it reports, pause and resume.

Against the session's real S3 endpoint (``tests/s3server.py``), with a short
check interval so that "it noticed the change" happens within the test.
"""

from __future__ import annotations

import gzip
import os
import secrets
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app import autosync
from app.autosync import (
    NO_REMOTE,
    PAUSED,
    RETRY_FIRST,
    RETRY_MAX,
    AutoSync,
    SyncState,
    next_wait,
)
from app.catalog.models import Blob
from app.remote import RemoteConfig, remote_file, save_remote
from app.sync import ERROR, OFFLINE, UP_TO_DATE, Syncer, list_snapshots
from app.vault import Vault
from storage.s3 import S3BlobStore
from storage.s3_client import RemoteSpec
from tests.s3server import down_url

pytestmark = pytest.mark.usefixtures("aws_chain")


class Recorder:
    """Collects the states an AutoSync reports, from its thread."""

    def __init__(self) -> None:
        self.states: list[SyncState] = []
        self._lock = threading.Lock()

    def __call__(self, state: SyncState) -> None:
        with self._lock:
            self.states.append(state)

    def statuses(self) -> list[str]:
        with self._lock:
            return [s.status for s in self.states]


class CountingFactory:
    """Makes syncers (one worker, so pausing between blobs is observable); counts them
    and the catalog snapshots they make."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self.made = 0
        self.snapshots = 0

    def __call__(self, **kwargs: Any) -> Syncer:
        syncer = Syncer.for_vault(self.vault, workers=1, **kwargs)
        self.made += 1
        make_snapshot = syncer.snapshot

        def counted(force: bool = False) -> str | None:
            self.snapshots += 1
            return make_snapshot(force=force)

        syncer.snapshot = counted  # type: ignore[method-assign]
        return syncer


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll until ``predicate()``; fail (not hang) when it never comes true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


def _pending(vault: Vault) -> int:
    with vault.reading() as session:
        return int(
            session.scalar(select(func.count()).where(Blob.remote_state != "completed")) or 0
        )


def _import(vault: Vault, tmp_path: Path, count: int, size: int = 256) -> None:
    src = tmp_path / f"src-{secrets.token_hex(3)}"
    src.mkdir()
    for i in range(count):
        (src / f"file-{i:03}.bin").write_bytes(os.urandom(size))
    report = vault.import_paths([src])
    assert report.ok, report.failed


@pytest.fixture
def remote(vault: Vault, spec: RemoteSpec) -> RemoteSpec:
    save_remote(vault.paths, RemoteConfig(spec, "chain"))
    return spec


@pytest.fixture
def started(vault: Vault) -> Iterator[Callable[..., tuple[AutoSync, Recorder, CountingFactory]]]:
    made: list[AutoSync] = []

    def start(
        check_every: float = 0.05, paused: bool = False
    ) -> tuple[AutoSync, Recorder, CountingFactory]:
        recorder = Recorder()
        factory = CountingFactory(vault)
        auto = AutoSync(vault, recorder, make_syncer=factory, check_every=check_every)
        if paused:
            auto.pause()
        auto.start()
        made.append(auto)
        return auto, recorder, factory

    yield start
    for auto in made:
        assert auto.close(timeout=30)


def test_next_wait_backs_off_and_resets() -> None:
    waits = [next_wait(OFFLINE, None)]
    for _ in range(10):
        waits.append(next_wait(OFFLINE, waits[-1]))
    assert waits[0] == RETRY_FIRST
    assert waits[1] == 2 * RETRY_FIRST
    assert max(waits) == RETRY_MAX
    assert next_wait(UP_TO_DATE, RETRY_MAX) < RETRY_FIRST * 4


def test_uploads_then_notices_new_files(
    vault: Vault, remote: RemoteSpec, tmp_path: Path, started: Any
) -> None:
    _import(vault, tmp_path, 5)
    auto, recorder, factory = started()
    wait_for(lambda: auto.state.status == UP_TO_DATE and _pending(vault) == 0)
    assert auto.state.last_synced is not None
    assert "syncing" in recorder.statuses()

    runs = factory.made
    _import(vault, tmp_path, 3)  # a commit by another connection: data_version moves
    wait_for(lambda: factory.made > runs and _pending(vault) == 0)
    wait_for(lambda: auto.state.status == UP_TO_DATE)
    progress = auto.state.progress
    assert progress is not None and progress.files_done == progress.files_total == 3


def test_an_unchanged_catalog_is_not_synced_again(
    vault: Vault, remote: RemoteSpec, tmp_path: Path, started: Any
) -> None:
    _import(vault, tmp_path, 2)
    auto, _, factory = started(check_every=0.02)
    # Its own commits are seen once more: one more run, which finds nothing to do.
    wait_for(lambda: factory.made == 2 and auto.state.status == UP_TO_DATE)
    time.sleep(0.5)  # up to 25 more looks at the catalog
    assert factory.made == 2
    auto.sync_now()
    wait_for(lambda: factory.made == 3)


def test_without_a_remote_it_waits_for_one(
    vault: Vault, spec: RemoteSpec, tmp_path: Path, started: Any
) -> None:
    _import(vault, tmp_path, 2)
    auto, _, factory = started()
    wait_for(lambda: auto.state.status == NO_REMOTE)
    assert factory.made == 0 and _pending(vault) == 2
    save_remote(vault.paths, RemoteConfig(spec, "chain"))  # as `remote set` would
    wait_for(lambda: auto.state.status == UP_TO_DATE and _pending(vault) == 0)


def test_offline_waits_and_says_when_it_tries_again(
    vault: Vault, tmp_path: Path, started: Any
) -> None:
    down = RemoteSpec("bucket", endpoint_url=down_url(), addressing_style="path")
    save_remote(vault.paths, RemoteConfig(down, "chain"))
    _import(vault, tmp_path, 2)
    auto, _, _ = started()
    wait_for(lambda: auto.state.status == OFFLINE and auto.state.retry_in is not None, 60)
    assert auto.state.retry_in == RETRY_FIRST
    assert "cannot be reached" in auto.state.message
    assert _pending(vault) == 2  # nothing lost, nothing marked done


def test_a_damaged_remote_setting_is_an_error_with_a_hint(
    vault: Vault, tmp_path: Path, started: Any
) -> None:
    remote_file(vault.paths).parent.mkdir(parents=True, exist_ok=True)
    remote_file(vault.paths).write_text("{not json", encoding="utf-8")
    auto, _, _ = started()
    wait_for(lambda: auto.state.status == ERROR)
    assert "remote set" in auto.state.message


def test_pause_holds_uploads_and_resume_finishes_them(
    vault: Vault, remote: RemoteSpec, tmp_path: Path, started: Any
) -> None:
    _import(vault, tmp_path, 40)
    auto, recorder, _ = started(paused=True)
    time.sleep(0.3)
    assert auto.state.status == PAUSED
    assert _pending(vault) == 40  # nothing started while paused

    auto.resume()
    wait_for(lambda: _pending(vault) < 40)
    auto.pause()  # mid-sync: the blob in flight finishes, no new one starts
    assert auto.state.status == PAUSED
    time.sleep(0.3)
    held = _pending(vault)
    time.sleep(0.5)
    assert _pending(vault) == held
    assert held > 0, "the sync finished before it could be paused"
    # Progress from the paused run is still reported as paused.
    assert recorder.statuses()[-1] == PAUSED

    auto.resume()
    wait_for(lambda: auto.state.status == UP_TO_DATE and _pending(vault) == 0)


def test_close_stops_a_running_sync_and_the_next_one_finishes(
    vault: Vault, remote: RemoteSpec, tmp_path: Path, started: Any
) -> None:
    _import(vault, tmp_path, 60)
    auto, _, _ = started()
    wait_for(lambda: _pending(vault) < 60)
    assert auto.close(timeout=30)
    with vault.reading() as session:
        states = {
            state: count
            for state, count in session.execute(
                select(Blob.remote_state, func.count()).group_by(Blob.remote_state)
            )
        }
    assert "uploading" not in states and "failed" not in states, states
    auto2, _, _ = started()
    wait_for(lambda: auto2.state.status == UP_TO_DATE and _pending(vault) == 0)


def test_a_burst_of_changes_costs_few_snapshots_and_the_last_is_in_one(
    vault: Vault,
    remote: RemoteSpec,
    tmp_path: Path,
    started: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(autosync, "SNAPSHOT_MIN", 1.0)
    _import(vault, tmp_path, 1)
    file_id = vault.require_file(
        f"/{next(iter(vault.list_folder(vault.root_id).folders)).name}/file-000.bin"
    )
    auto, _, factory = started(check_every=0.02)
    wait_for(lambda: auto.state.status == UP_TO_DATE and factory.snapshots == 1)
    for i in range(40):  # a rename every 50 ms for two seconds
        vault.rename_file(file_id, f"renamed-{i:02}.bin")
        time.sleep(0.05)
    assert factory.made > 5  # it kept looking...
    # ...but snapshotted at most once a second, then once more for the last change.
    wait_for(lambda: _newest_snapshot_has(remote, "renamed-39.bin"), 30)
    assert factory.snapshots <= 5, factory.snapshots


def _newest_snapshot_has(spec: RemoteSpec, name: str) -> bool:
    store = S3BlobStore(spec, None)
    keys = list_snapshots(store)
    if not keys:
        return False
    packed = store.client.get_object(Bucket=spec.bucket, Key=keys[-1])["Body"].read()
    with tempfile.TemporaryDirectory() as scratch:
        catalog = Path(scratch) / "catalog.sqlite3"
        catalog.write_bytes(gzip.decompress(packed))
        connection = sqlite3.connect(catalog)
        try:
            return (
                connection.execute("SELECT 1 FROM file WHERE name = ?", (name,)).fetchone()
                is not None
            )
        finally:
            connection.close()
