"""A one-line progress bar on a terminal stream, for the command line.

Only the CLI uses it; the window has its own progress widgets. The bar redraws
in place with ``\\r`` at most ten times a second (a bar that redraws for every
file of a 100,000-file import would cost more than the import's own output),
and draws nothing at all when disabled, so callers need no ``if``.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO

MIN_INTERVAL = 0.1  # seconds between redraws: about 10 Hz


def human_size(size: float) -> str:
    """``1536`` → ``"1.5 KB"``: binary multiples (as ``--min-size 10M`` reads them)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


class ProgressBar:
    """A single-line bar: ``label [#####.....]  42% 12/30 files  3.1 MB  current``.

    Not thread-safe: call it from one thread (the import calls its progress
    callback on the thread that runs the import).

    Attributes:
        enabled: False makes every method a no-op.
    """

    def __init__(self, label: str, enabled: bool, stream: TextIO | None = None) -> None:
        self.label = label
        self.enabled = enabled
        self._stream = stream if stream is not None else sys.stderr
        self._last = 0.0
        self._drawn = False

    def update(
        self,
        done: int,
        total: int,
        bytes_done: int | None = None,
        unit: str = "",
        current: str = "",
    ) -> None:
        """Redraw with ``done`` of ``total`` finished, unless redrawn less than 0.1 s ago.

        The last step (``done == total``) is always drawn.
        """
        if not self.enabled:
            return
        clock = time.monotonic()
        if clock - self._last < MIN_INTERVAL and done != total:
            return
        self._last = clock
        width = shutil.get_terminal_size((80, 24)).columns
        fraction = done / total if total else 1.0
        cells = 20
        filled = int(cells * min(1.0, fraction))
        line = (
            f"{self.label} [{'#' * filled}{'.' * (cells - filled)}] {fraction:4.0%} {done}/{total}"
        )
        if unit:
            line += f" {unit}"
        if bytes_done is not None:
            line += f"  {human_size(bytes_done)}"
        if current:
            room = width - len(line) - 3
            if room > 8:
                tail = current if len(current) <= room else "…" + current[-(room - 1) :]
                line += "  " + tail
        line = line[: width - 1]
        self._stream.write("\r" + line.ljust(width - 1))
        self._stream.flush()
        self._drawn = True

    def finish(self) -> None:
        """Erase the bar so that what follows starts on a clean line. Idempotent."""
        if self.enabled and self._drawn:
            width = shutil.get_terminal_size((80, 24)).columns
            self._stream.write("\r" + " " * (width - 1) + "\r")
            self._stream.flush()
            self._drawn = False
