"""Imports of many small files stage them in worker processes: same result, no orphans."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app import importer
from app.importer import ImportProgress
from app.vault import Vault
from tests.helpers.trees import make_tree

HELPER = Path(__file__).resolve().parents[1] / "helpers" / "import_child.py"


def _children_of(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            if f"\nPPid:\t{pid}\n" in status:
                found.add(int(entry))
    return found


def test_many_small_files_are_staged_in_processes(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "PROCESS_MIN_FILES", 20)
    src = tmp_path / "many"
    for i in range(60):
        (src / f"d{i % 3}").mkdir(parents=True, exist_ok=True)
        (src / f"d{i % 3}" / f"f{i:03}.txt").write_text(f"file {i}\n" * (i + 1))
    workers_seen: list[int] = []

    def progress(_p: ImportProgress) -> None:
        workers_seen.append(len(multiprocessing.active_children()))

    report = vault.import_paths([src], progress=progress)

    assert report.ok and report.imported == 60, report
    assert max(workers_seen) >= 1, "staging did not run in worker processes"
    assert vault.verify().ok
    for i in (0, 31, 59):
        file_id = vault.require_file(f"/many/d{i % 3}/f{i:03}.txt")
        exported = vault.export_file(file_id, tmp_path / "out")
        assert exported.read_text() == f"file {i}\n" * (i + 1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_staging_processes_die_with_a_killed_importer(tmp_path: Path) -> None:
    src = tmp_path / "src"
    make_tree(src, 3000, random.Random(7))
    child = subprocess.Popen(
        [sys.executable, str(HELPER), "--batch-files", "7", str(tmp_path / "vault"), str(src)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        stagers: set[int] = set()
        # The extraction helper is a child too; staging processes are the ones that
        # appear once the pool starts. Wait until at least two children exist.
        while time.monotonic() < deadline and child.poll() is None:
            stagers = _children_of(child.pid)
            if len(stagers) >= 2:
                break
            time.sleep(0.02)
        if child.poll() is not None:
            pytest.fail("the import finished before its staging processes could be seen")
        assert len(stagers) >= 2
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    deadline = time.monotonic() + 10
    alive = stagers
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive if Path(f"/proc/{pid}").exists()}
        time.sleep(0.05)
    assert not alive, f"orphaned staging processes: {sorted(alive)}"
