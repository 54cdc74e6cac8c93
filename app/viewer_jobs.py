"""The jobs the preview pane's viewers send to their worker processes.

One :class:`app.workers.WorkerPool` serves every viewer; a request names its
job as ``"<family>.<verb>"`` (``"pdf.page"``, ``"image.frames"``,
``"word.html"``) and :func:`handle` passes it to the module of that family,
imported in the worker only when first needed. Each family module has a
``handle(request) -> (header, payload)`` of the :data:`app.workers.Handler`
shape. No Qt here.
"""

from __future__ import annotations

import importlib
from typing import Any

from app.extract_worker import load_pymupdf
from app.workers import WorkerPool

# Family → module; each module's `handle` answers that family's jobs.
FAMILIES = {
    "pdf": "app.pdf_pages",
    "image": "app.image_frames",
    "word": "app.word_html",
    "media": "app.media_probe",
}

WARM_UP = {"job": "warm"}
"""The request :meth:`WorkerPool.warm` sends to load the decoders ahead of time."""

VIEWER_TIMEOUT = 15.0
"""Seconds one viewer job may take in a worker before it is stopped."""

VIEWER_MEMORY = 1536 << 20
"""Address-space limit of a viewer worker: a full-size photo's frames fit, a bomb does not."""

MAX_VIEWER_REPLY = 400 << 20
"""The largest answer a viewer worker may send (all frames of an animation, capped)."""


def handle(request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """A viewer worker's job (:data:`app.workers.Handler`): dispatch by family."""
    job = request.get("job")
    if job == WARM_UP["job"]:
        # Load the decoders now, while nobody waits: the first PDF opened
        # then costs its own time only, not PyMuPDF's import.
        for name in ("app.pdf_pages", "app.image_frames"):
            importlib.import_module(name)
        load_pymupdf()
        return {"ok": True}, b""
    family = job.partition(".")[0] if isinstance(job, str) else ""
    module_name = FAMILIES.get(family)
    if module_name is None:
        return {"ok": False, "reason": f"unknown job {job!r}"}, b""
    module = importlib.import_module(module_name)
    answer: tuple[dict[str, Any], bytes] = module.handle(request)
    return answer


def viewer_pool(workers: int = 2) -> WorkerPool:
    """The worker pool the window's viewers share (started lazily; ``warm()`` it early)."""
    return WorkerPool(
        handle,
        name="viewer",
        workers=workers,
        timeout=VIEWER_TIMEOUT,
        memory_limit=VIEWER_MEMORY,
        max_reply=MAX_VIEWER_REPLY,
    )
