"""The window stays responsive while 2,000 files are imported through it (issue 4).

A folder of 2,000 small files is dropped onto the grid; a 5 ms timer on the GUI
thread records the longest gap between its ticks from the drop until the
import has ended and the listing is refreshed, then while the new folder is
opened and scrolled. A gap is a stall the user would feel: the test fails when
the worst one exceeds 250 ms.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.vault import Vault
from ui.main_window import GRID, LIST, MainWindow
from ui.transfers import Transfer, TransferState

FILES = 2_000
LIMIT_MS = 250.0
TICK_MS = 5
WAIT = 240_000


class StallMeter:
    """The largest gap between ticks of a fast timer on the GUI thread."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.ticks = 0
        self._last = 0.0
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._tick()

    @property
    def worst_ms(self) -> float:
        return self.worst * 1000

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self._last)
        self._last = now
        self.ticks += 1


def _drop_folder(window: MainWindow, folder: Path) -> None:
    view = window.current_view()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    at = QPoint(view.viewport().width() - 10, view.viewport().height() - 10)
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    buttons, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(view.viewport(), QDragEnterEvent(at, actions, mime, buttons, none))
    QApplication.sendEvent(view.viewport(), QDragMoveEvent(at, actions, mime, buttons, none))
    drop = QDropEvent(QPointF(at), actions, mime, buttons, none)
    drop.setDropAction(Qt.DropAction.CopyAction)
    QApplication.sendEvent(view.viewport(), drop)
    assert drop.isAccepted()


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GRID, LIST])
def test_import_of_2000_files_does_not_stall_the_window(
    qtbot: QtBot, vault: Vault, tmp_path: Path, mode: int
) -> None:
    from PIL import Image

    bulk = tmp_path / "Bulk"
    bulk.mkdir()
    for n in range(FILES):
        if n % 4 == 0:  # a quarter are small photos: the grid asks for their thumbnails
            color = (n % 256, (n * 7) % 256, (n * 13) % 256)
            Image.new("RGB", (48, 32), color).save(bulk / f"photo-{n:04}.jpg", quality=80)
        else:
            (bulk / f"note-{n:04}.txt").write_text(f"note {n}\n" + "x" * (n % 97), encoding="utf-8")
    window = MainWindow(vault)
    qtbot.addWidget(window)
    window.show()
    window.set_view_mode(mode)
    qtbot.waitUntil(lambda: not window.model.loading, timeout=WAIT)
    progress: list[tuple[int, int]] = []

    def seen(transfer: Transfer) -> None:
        progress.append((transfer.done, transfer.total))

    window.transfers.changed.connect(seen)

    # Garbage left by earlier tests in this process is not the window's to collect.
    gc.collect()
    meter = StallMeter()
    meter.start()
    _drop_folder(window, bulk)
    qtbot.waitUntil(lambda: len(window.transfers.transfers) == 1, timeout=WAIT)
    transfer = window.transfers.transfers[0]
    qtbot.waitUntil(lambda: not transfer.active, timeout=WAIT)
    qtbot.waitUntil(lambda: not window.model.loading and window.model.rowCount() == 1, timeout=WAIT)
    import_stall = meter.worst_ms
    # Then into the new folder, and to its end, as a user would look at what came in.
    window.open_folder(vault.resolve_folder("/Bulk"))
    view = window.current_view()
    qtbot.waitUntil(lambda: window.model.rowCount() > 0 and not window.model.loading, timeout=WAIT)
    model = window.model
    while model.has_more or model.loading:
        rows = model.rowCount()

        def scrolled_on() -> bool:
            bar = view.verticalScrollBar()
            bar.setValue(bar.maximum())  # again as the layout grows, as a user scrolls on
            return not model.loading and (model.rowCount() > rows or not model.has_more)  # noqa: B023

        qtbot.waitUntil(scrolled_on, timeout=WAIT)
    meter.stop()

    print(
        f"\nworst event-loop stall while importing {FILES:,} files "
        f"({'grid' if mode == GRID else 'list'}): {import_stall:.1f} ms; "
        f"with the listing: {meter.worst_ms:.1f} ms over {meter.ticks:,} ticks"
    )
    assert transfer.state is TransferState.DONE, transfer.error
    assert transfer.summary.startswith(f"{FILES:,} files imported")
    assert window.model.rowCount() == FILES
    assert window._count_label.text() == f"{FILES:,} items"
    assert progress and progress[-1] == (FILES, FILES)
    assert meter.ticks > 10
    assert meter.worst_ms <= LIMIT_MS, f"the window stalled for {meter.worst_ms:.0f} ms"


def test_stall_meter_sees_a_blocked_loop(qtbot: QtBot) -> None:
    """The meter itself: a GUI thread blocked for 300 ms shows as a stall of at least that."""
    meter = StallMeter()
    meter.start()
    qtbot.waitUntil(lambda: meter.ticks >= 3, timeout=5_000)
    QTimer.singleShot(0, lambda: time.sleep(0.3))
    qtbot.waitUntil(lambda: meter.worst_ms >= 290, timeout=5_000)
    meter.stop()
    assert meter.worst_ms < 2_000
