"""What every viewer of the preview pane shares: its input, its services, its contract.

The pane (``ui/preview_pane.py``) picks a viewer by the file's MIME type,
makes the content local first (fetching an evicted file from the bucket),
then calls :meth:`Viewer.show_source`. A viewer decodes nothing on the GUI
thread: it sends jobs to the shared worker processes
(:mod:`app.viewer_jobs`) from a :class:`ui.tasks.TaskManager` task, or reads
capped amounts of plain text on a pool thread.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from app.workers import WorkerPool
from ui.tasks import TaskManager


@dataclass(frozen=True)
class ViewerSource:
    """One file's content, ready to read.

    Attributes:
        file_id: the catalog's id of the file.
        name: its name in the vault ("Report.pdf"), for titles and messages.
        mime: its MIME type (from :func:`app.kinds.detect`).
        kind: its kind ("image", "pdf", "document", "text", "audio", "video", …).
        path: the blob file on this computer; read it, never write it.
        blob_hash: the content's SHA-256; a cache key.
        size: bytes.
    """

    file_id: int
    name: str
    mime: str
    kind: str
    path: Path
    blob_hash: str
    size: int


@dataclass(frozen=True)
class ViewerServices:
    """What viewers use to work off the GUI thread.

    Attributes:
        tasks: runs callables on a pool thread, answers on the GUI thread.
        workers: the sandboxed worker processes for decoding (see :mod:`app.viewer_jobs`).
        cache_dir: the vault's cache directory, for derived files (converted documents).
    """

    tasks: TaskManager
    workers: WorkerPool
    cache_dir: Path


class Viewer(QWidget):
    """Base of the preview pane's viewers.

    Signals:
        failed(str): the file cannot be shown; the reason, for the user
            ("the document is damaged (…)"). The pane shows it instead.
    """

    failed = Signal(str)

    def __init__(self, services: ViewerServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services

    def show_source(self, source: ViewerSource) -> None:
        """Show ``source``; returns at once, the content appears when decoded."""
        raise NotImplementedError

    def stop(self) -> None:
        """The selection moved on: stop playback, drop pending work, release the file."""
        raise NotImplementedError


def worker_answer(header: dict[str, Any]) -> str | None:
    """The reason in a worker's "not ok" answer, or None when it is ok."""
    if header.get("ok"):
        return None
    return str(header.get("reason") or "the file could not be read")


def weakly(method: Callable[..., None], *args: Any) -> Callable[[Any], None]:
    """``method(*args, value)`` as a task callback that does not keep its widget alive.

    A callback holding the viewer, held by a task the viewer holds, is a
    reference cycle: Python's collector may then free the widget on whatever
    thread it runs, a pool thread included, and Qt crashes deleting it there.
    """
    ref = weakref.WeakMethod(method)

    def call(value: Any) -> None:
        bound = ref()
        if bound is not None:
            bound(*args, value)

    return call
