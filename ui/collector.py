"""Python's garbage collector, run on the GUI thread only.

Left to itself, the collector runs in whichever thread happens to allocate
when a threshold is crossed: a pool thread, then, may free the last Python
reference to a Qt object the GUI thread is deleting, and PySide crashes.
:class:`GuiThreadCollector` turns automatic collection off and runs the same
generational collections from a timer on the GUI thread instead, as
pyqtgraph's and Anki's collectors do.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500  # short enough that garbage never piles up, long enough to cost nothing


class GuiThreadCollector(QObject):
    """Collects garbage on the thread it lives on (the GUI thread), from a timer.

    Call :meth:`close` (or let the parent go) to give collection back to Python
    (turned on again if it was on when this started).
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect)
        self._timer.start()
        if self._was_enabled:
            self.destroyed.connect(gc.enable)

    def collect(self) -> None:
        """One round of what automatic collection would have done by now."""
        counts = gc.get_count()
        if counts[0] <= self._thresholds[0]:
            return
        generation = 0
        if counts[1] > self._thresholds[1]:
            generation = 2 if counts[2] > self._thresholds[2] else 1
        gc.collect(generation)

    def close(self) -> None:
        """Stops the timer and gives collection back to Python, as it was before."""
        self._timer.stop()
        if self._was_enabled:
            gc.enable()
