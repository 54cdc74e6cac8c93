"""PDF jobs of the preview pane's viewer: open, draw a page, find text.

These run inside a viewer worker process (:mod:`app.viewer_jobs` sends every
``"pdf.*"`` request here), never in the application: MuPDF parses untrusted
files. :func:`handle` answers the :data:`app.workers.Handler` shape:

``"pdf.open"`` ``{path, password?}``
    ``{"ok": True, "page_count", "sizes": [[w, h], ...], "title",
    "needs_password", "password_wrong", "reason"?}``. Sizes are in points with
    each page's /Rotate applied; at most :data:`MAX_SIZES` are listed (later
    pages are assumed the size of the last one listed). When the document
    is encrypted and the password given (or none) does not open it,
    ``needs_password`` is True, ``page_count`` is 0, and a wrong password
    (one was given) also sets ``password_wrong`` and the reason "the
    password is wrong". A document without a single page (what MuPDF's
    repair of a wrecked file may leave) answers not ok, "the document has no
    pages".
``"pdf.page"`` ``{path, password?, page, zoom}``
    Raw RGB pixels of page ``page`` (0-based) at ``zoom`` pixels per point
    (lowered so the page stays within :data:`MAX_PIXELS`); the header has
    ``width``, ``height``, ``stride`` and the ``zoom`` actually used.
``"pdf.find"`` ``{path, password?, query, max_hits?}``
    ``{"ok": True, "hits": [[page, [x0, y0, x1, y1]], ...], "partial"}``:
    pages 0-based, rectangles in points on the rotated page (the space of
    ``sizes`` and of the drawn pixels divided by ``zoom``). At most
    :data:`MAX_HITS` hits, and the search stops after :data:`FIND_BUDGET`
    seconds; ``partial`` says it stopped early.

An encrypted document asked for a page or a search without the right
password answers ``{"ok": False, "needs_password": True, "reason": ...}``.
Nothing here prompts or touches the network. The last
:data:`OPEN_DOCUMENTS` documents stay open between requests (one worker
serves page after page of the same file). No Qt here.
"""

from __future__ import annotations

import math
import os
import time
from collections import OrderedDict
from typing import Any

from app.extract_worker import load_pymupdf
from app.workers import damaged

MAX_SIZES = 10_000
"""Page sizes listed by "pdf.open"; a longer document's further pages take the last size."""

SIZES_BUDGET = 2.0
"""Seconds "pdf.open" spends reading page sizes before it assumes the rest."""

MAX_PIXELS = 40_000_000
"""The most pixels one drawn page may have (120 MB of RGB)."""

MAX_ZOOM = 16.0
"""The largest zoom (pixels per point) a page is drawn at."""

MAX_HITS = 1000
"""The most hits one "pdf.find" answers."""

FIND_BUDGET = 3.0
"""Seconds one "pdf.find" searches before it answers what it found so far."""

MAX_QUERY = 500
"""The longest search text accepted, in characters."""

OPEN_DOCUMENTS = 2
"""Documents kept open in the worker between requests."""

WRONG_PASSWORD = "the password is wrong"
NEEDS_PASSWORD = "the document is protected by a password"

# (path, size, mtime, password) → open document; the newest last.
_documents: OrderedDict[tuple[str, int, int, str], Any] = OrderedDict()


class _Locked(Exception):
    """The document needs a password it was not given (or a wrong one)."""

    def __init__(self, wrong: bool) -> None:
        super().__init__(WRONG_PASSWORD if wrong else NEEDS_PASSWORD)
        self.wrong = wrong


def handle(request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """Answers one ``"pdf.*"`` request (see the module docstring); runs in a worker."""
    job = request.get("job")
    path = request.get("path")
    password = request.get("password") or ""
    if not isinstance(path, str) or not path or not isinstance(password, str):
        return {"ok": False, "reason": "the request was malformed"}, b""
    pymupdf = load_pymupdf()
    try:
        document = _document(pymupdf, path, password)
        if job == "pdf.open":
            return _open_answer(pymupdf, document), b""
        if job == "pdf.page":
            return _page(pymupdf, document, request)
        if job == "pdf.find":
            return _find(pymupdf, document, request), b""
        return {"ok": False, "reason": f"unknown job {job!r}"}, b""
    except _Locked as exc:
        if job == "pdf.open":
            return {
                "ok": True,
                "needs_password": True,
                "password_wrong": exc.wrong,
                "reason": str(exc),
                "page_count": 0,
                "sizes": [],
                "title": "",
            }, b""
        return {"ok": False, "needs_password": True, "reason": str(exc)}, b""
    except (MemoryError, ImportError):
        forget()  # the worker restarts; close what can be closed first
        raise
    except Exception as exc:  # MuPDF's errors are as varied as damaged files
        return damaged("document", exc), b""


def forget() -> None:
    """Closes every cached document and frees MuPDF's caches. Idempotent."""
    while _documents:
        _close(_documents.popitem(last=False)[1])
    _shrink(100)


def _document(pymupdf: Any, path: str, password: str) -> Any:
    """The open (and authenticated) document at ``path``, from the cache when it can."""
    stat = os.stat(path)  # an OSError here is "could not be read", not "damaged"
    key = (path, stat.st_size, stat.st_mtime_ns, password)
    document = _documents.get(key)
    if document is not None:
        _documents.move_to_end(key)
        return document
    document = pymupdf.open(path, filetype="pdf")
    try:
        if document.needs_pass and not document.authenticate(password):
            raise _Locked(wrong=bool(password))
    except BaseException:
        _close(document)
        raise
    _documents[key] = document
    while len(_documents) > OPEN_DOCUMENTS:
        _close(_documents.popitem(last=False)[1])
        _shrink(100)
    return document


def _open_answer(pymupdf: Any, document: Any) -> dict[str, Any]:
    count = int(document.page_count)
    if count < 1:  # what MuPDF's repair of a wrecked file often leaves
        return {"ok": False, "reason": "the document has no pages"}
    sizes: list[list[float]] = []
    deadline = time.monotonic() + SIZES_BUDGET
    for number in range(min(count, MAX_SIZES)):
        if time.monotonic() > deadline:
            break  # a huge document: the rest are assumed like the last one read
        try:
            rect = document[number].rect  # with the page's /Rotate applied
            width, height = float(rect.width), float(rect.height)
        except _mupdf_errors(pymupdf):  # one broken page tree entry; the page shows its own error
            width, height = _last_size(sizes)
        if not (_sane(width) and _sane(height)):
            width, height = _last_size(sizes)
        sizes.append([round(width, 3), round(height, 3)])
    metadata = document.metadata or {}
    title = metadata.get("title") or ""
    return {
        "ok": True,
        "needs_password": False,
        "password_wrong": False,
        "page_count": count,
        "sizes": sizes,
        "title": str(title)[:500],
    }


def _page(pymupdf: Any, document: Any, request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    number = request.get("page")
    zoom = request.get("zoom")
    count = int(document.page_count)
    if not isinstance(number, int) or not 0 <= number < count:
        return {"ok": False, "reason": f"the document has no page {number}"}, b""
    if not isinstance(zoom, int | float) or not math.isfinite(zoom) or zoom <= 0:
        return {"ok": False, "reason": "the request was malformed"}, b""
    page = document[number]
    rect = page.rect
    width, height = float(rect.width), float(rect.height)
    if not (_sane(width) and _sane(height)):
        return {"ok": False, "reason": "the page has no size"}, b""
    # 0.995: MuPDF rounds the page's box outwards to whole pixels.
    zoom = min(float(zoom), MAX_ZOOM, 0.995 * math.sqrt(MAX_PIXELS / (width * height)))
    pixmap = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
    pixels = bytes(pixmap.samples)
    w, h, stride = int(pixmap.width), int(pixmap.height), int(pixmap.stride)
    del pixmap
    if w * h > 4_000_000:  # a big page's decoded images crowd MuPDF's store
        _shrink(50)
    if w < 1 or h < 1 or stride < w * 3 or len(pixels) != stride * h:
        return {"ok": False, "reason": "the page could not be drawn"}, b""
    header = {"ok": True, "width": w, "height": h, "stride": stride, "zoom": zoom, "page": number}
    return header, pixels


def _find(pymupdf: Any, document: Any, request: dict[str, Any]) -> dict[str, Any]:
    query = request.get("query")
    if not isinstance(query, str) or not query.strip():
        return {"ok": False, "reason": "nothing to find"}
    query = query[:MAX_QUERY]
    max_hits = request.get("max_hits")
    limit = max_hits if isinstance(max_hits, int) and 0 < max_hits < MAX_HITS else MAX_HITS
    deadline = time.monotonic() + FIND_BUDGET
    hits: list[list[Any]] = []
    partial = False
    for number in range(int(document.page_count)):
        if time.monotonic() > deadline:
            partial = True
            break
        try:
            page = document[number]
            # search_for answers in unrotated coordinates; the viewer draws rotated pages.
            found = page.search_for(query)
            matrix = page.rotation_matrix
        except _mupdf_errors(pymupdf):  # a damaged page has no text to find; the others still do
            continue
        for rect in found:
            r = pymupdf.Rect(rect) * matrix
            r.normalize()
            hits.append([number, [round(r.x0, 2), round(r.y0, 2), round(r.x1, 2), round(r.y1, 2)]])
        if len(hits) >= limit:
            partial = len(hits) > limit or number + 1 < document.page_count
            del hits[limit:]
            break
    return {"ok": True, "hits": hits, "partial": partial}


def _mupdf_errors(pymupdf: Any) -> tuple[type[Exception], ...]:
    """What MuPDF raises for a damaged page (not our bugs: those should surface)."""
    return (pymupdf.mupdf.FzErrorBase, RuntimeError, ValueError)


def _sane(points: float) -> bool:
    return math.isfinite(points) and 0 < points < 1_000_000


def _last_size(sizes: list[list[float]]) -> tuple[float, float]:
    return (sizes[-1][0], sizes[-1][1]) if sizes else (612.0, 792.0)  # US Letter


def _close(document: Any) -> None:
    try:
        document.close()
    except Exception:  # closing a damaged document may complain; it is gone either way
        pass


def _shrink(percent: int) -> None:
    try:
        load_pymupdf().TOOLS.store_shrink(percent)
    except Exception:  # freeing a cache is an optimisation, never a failure
        pass
