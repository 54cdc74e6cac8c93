"""The installed Qt bindings keep Python's reference counts right.

A binding that loses a reference to ``True`` or ``None`` on each signal emit
(PySide6 6.12.0 on Python 3.11) aborts the application at exit once enough
signals went by. Emitting a few hundred times and counting catches it at once.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    value = Signal(object)
    flag = Signal(bool)


def test_emitting_signals_keeps_true_and_none_alive() -> None:
    emitter = _Emitter()
    received: list[object] = []
    emitter.value.connect(received.append)
    before = sys.getrefcount(True), sys.getrefcount(None)
    for _ in range(300):
        emitter.value.emit(None)
        emitter.flag.emit(True)
    received.clear()
    after = sys.getrefcount(True), sys.getrefcount(None)
    # Other threads may hold a few more or fewer at any moment; a leak shows as hundreds.
    assert abs(after[0] - before[0]) < 50 and abs(after[1] - before[1]) < 50, (before, after)
