"""``mediavault --smoke-test FILE…``: the whole application, end to end, in one run.

For a built bundle above all (``.ci/run`` runs it on the PyInstaller build),
where a missing plugin, data file or hidden import only shows when the app
runs: the window opens (offscreen works) on a new vault, the files are
imported as if given on the command line, and each step must happen within
the time limit:

1. the catalog is created and every file is listed;
2. each picture, PDF and video gets its thumbnail from the worker processes;
3. each file is shown in the preview pane: a PDF's page from its worker, a
   video loaded by Qt Multimedia's FFmpeg backend.

The run prints one line per step with its time and ends with exit status 0,
or names the step that failed and ends with 1. ``READY <time>`` is printed as
soon as the window has been painted once, so a benchmark can time the start.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from app.thumbnails import can_thumbnail
from app.vault import Vault
from ui.app import create_application
from ui.main_window import LIST, MainWindow

STEP_TIMEOUT = 120.0  # seconds per step: a cold start of the workers on a busy machine


class SmokeFailed(Exception):
    """A step did not happen in time; the message names it."""


def _wait(until: Callable[[], bool], what: str, timeout: float = STEP_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise SmokeFailed(f"{what}: not within {timeout:.0f} s")
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def _say(started: float, message: str) -> None:
    print(f"smoke: {time.monotonic() - started:6.2f} s  {message}", flush=True)


def run(home: Path | None, files: list[str]) -> int:
    """The smoke run on the vault at ``home`` (made if new); the exit status."""
    started = time.monotonic()
    app = create_application([sys.argv[0]])
    vault = Vault.open(home)
    window = MainWindow(vault)
    window.set_view_mode(LIST)
    window.resize(1100, 700)
    window.show()
    painted: list[float] = []
    QTimer.singleShot(0, lambda: painted.append(time.time()))
    try:
        _wait(lambda: bool(painted), "the window is painted")
        print(f"READY {painted[0]:.6f}", flush=True)
        _say(started, f"window shown; catalog at {vault.paths.catalog}")
        if files:
            _steps(window, vault, files, started)
        print("smoke: passed", flush=True)
        return 0
    except SmokeFailed as exc:
        print(f"smoke: FAILED: {exc}", flush=True)
        return 1
    finally:
        window.close()
        vault.close()
        app.processEvents()


def _steps(window: MainWindow, vault: Vault, files: list[str], started: float) -> None:
    window.import_from_outside(files)
    names = {Path(f).name for f in files}
    _wait(
        lambda: not window.transfers.active() and names <= {i.name for i in window.model.items()},
        f"{len(files)} files imported and listed",
    )
    items = [i for i in window.model.items() if i.name in names]
    _say(started, f"imported and listed: {', '.join(sorted(names))}")

    thumbs = window.thumbnails
    wanted = [i for i in items if i.blob_hash and can_thumbnail(i.mime)]

    def all_thumbnails() -> bool:
        for item in wanted:
            assert item.blob_hash is not None
            if thumbs.failed(item.blob_hash):
                raise SmokeFailed(f"no thumbnail for {item.name}: {thumbs.failed(item.blob_hash)}")
            if thumbs.pixmap(item.blob_hash, item.mime, 128) is None:
                return False
        return True

    _wait(all_thumbnails, f"{len(wanted)} thumbnails")
    _say(started, f"{len(wanted)} thumbnails made in the worker processes")

    host = window.preview.viewer_host
    if host is None:
        raise SmokeFailed("the preview pane has no viewers")
    for item in items:
        window.select_item(item.id, False)

        def on_screen(item_id: int = item.id) -> bool:
            return host.file_id == item_id and (host.shown or bool(host.message))

        _wait(on_screen, f"{item.name} shown in the preview pane")
        if host.message:
            raise SmokeFailed(f"{item.name} in the preview pane: {host.message}")
        _say(started, f"{item.name} shown in its viewer ({type(host.viewer).__name__})")
        vault_file = vault.file_info(item.id)
        if vault_file.version.local_state != "present":
            raise SmokeFailed(f"{item.name} is not stored on this computer")
