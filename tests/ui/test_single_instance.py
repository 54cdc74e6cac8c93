"""One window per vault: a second start hands its files over and ends."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.browse import Source
from app.paths import vault_paths
from app.vault import Vault
from tests.helpers.windows import WAIT, listed, open_window
from ui.single_instance import InstanceGuard, server_name

ROOT = Path(__file__).resolve().parents[2]


def _second_start(home: Path, *files: Path) -> subprocess.Popen[str]:
    """``mediavault --vault HOME FILE…`` as a launcher would run it."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.Popen(
        [sys.executable, "-m", "app", "--vault", str(home), *map(str, files)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(qtbot: QtBot, process: subprocess.Popen[str]) -> tuple[int, str]:
    """Keep this side's event loop turning (it answers) until the second start ends."""
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        qtbot.wait(50)
    if process.poll() is None:
        process.kill()
    out = process.communicate()[0]
    return process.returncode, out


def test_the_first_guard_wins_and_a_second_is_refused(tmp_path: Path) -> None:
    paths = vault_paths(tmp_path / "v")
    first, second = InstanceGuard(paths), InstanceGuard(paths)
    try:
        assert first.acquire() is True
        assert second.acquire() is False
    finally:
        first.release()
        second.release()
    # Released: the next start is first again.
    third = InstanceGuard(paths)
    assert third.acquire() is True
    third.release()
    assert server_name(paths) != server_name(vault_paths(tmp_path / "other"))


def test_a_second_start_sends_its_files_to_the_open_window(
    qtbot: QtBot, vault: Vault, vault_home: Path, tmp_path: Path
) -> None:
    guard = InstanceGuard(vault.paths)
    assert guard.acquire()
    window = open_window(qtbot, vault)
    guard.files_received.connect(window.import_from_outside)
    try:
        photos = vault.makedirs("/Photos")
        window.open_source(Source.folder(photos))
        listed(qtbot, window)
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "a.txt").write_text("first")
        (outside / "b.txt").write_text("second")
        with qtbot.waitSignal(guard.files_received, timeout=WAIT) as received:
            process = _second_start(vault_home, outside / "a.txt", outside / "b.txt")
            while process.poll() is None and not received.signal_triggered:
                qtbot.wait(50)
        code, out = _finish(qtbot, process)
        assert code == 0, out
        assert sorted(Path(p).name for p in received.args[0]) == ["a.txt", "b.txt"]
        qtbot.waitUntil(
            lambda: {"a.txt", "b.txt"} <= {f.name for f in vault.list_folder(photos).files},
            timeout=WAIT,
        )
    finally:
        guard.release()


def test_a_start_without_files_only_brings_the_window_forward(
    qtbot: QtBot, vault: Vault, vault_home: Path
) -> None:
    guard = InstanceGuard(vault.paths)
    assert guard.acquire()
    try:
        with qtbot.waitSignal(guard.files_received, timeout=WAIT) as received:
            process = subprocess.Popen(
                [sys.executable, "-c", "from app.cli import main; import sys; sys.exit(main([]))"],
                cwd=ROOT,
                env=dict(os.environ, QT_QPA_PLATFORM="offscreen", MEDIAVAULT_HOME=str(vault_home)),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            while process.poll() is None and not received.signal_triggered:
                qtbot.wait(50)
        code, out = _finish(qtbot, process)
        assert code == 0, out
        assert received.args[0] == []
    finally:
        guard.release()


def test_the_command_line_works_on_the_vault_the_window_has_open(
    qtbot: QtBot, vault: Vault, vault_home: Path, tmp_path: Path
) -> None:
    """The window and `mediavault import` at the same time: both land, nothing breaks."""
    window = open_window(qtbot, vault)
    photos = vault.makedirs("/Photos")
    window.open_source(Source.folder(photos))
    listed(qtbot, window)
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for folder in (ours, theirs):
        folder.mkdir()
        for i in range(150):
            (folder / f"{folder.name}-{i:03}.txt").write_text(f"{folder.name} {i}\n" * 50)
    cli = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app",
            "--vault",
            str(vault_home),
            "import",
            str(theirs),
            "--to",
            "/Photos",
        ],
        cwd=ROOT,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    window.import_from_outside([str(ours)])
    code, out = _finish(qtbot, cli)
    assert code == 0, out
    qtbot.waitUntil(lambda: not window.transfers.active(), timeout=WAIT)
    names = {f.name for f in vault.list_folder(photos).folders}
    assert names == {"ours", "theirs"}
    for name in names:
        folder = vault.resolve_folder(f"/Photos/{name}")
        assert len(vault.list_folder(folder, limit=1000).files) == 150
    with vault.reading() as session:
        assert session.connection().exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    assert vault.verify().ok
