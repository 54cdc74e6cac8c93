"""The main window on a 1,000,000-file vault next to a bare ``QListView`` of the same size.

Every measurement runs in a child process (a fresh interpreter, so imports and
memory are real), ours and the peer taking turns:

* ours: ``ui.app.run(home)`` — the real entry point — on a vault of 1,000,000
  files, one folder holding 100,000 of them. Timed: process start to the
  window's first frame; ``open_source(Source.folder(big))`` to the first page
  of rows painted; one page-sized scroll step per frame over the whole folder
  (the model pages in more rows as the view reaches the end: that is part of
  what is measured); peak resident memory.
* peer: a top-level ``QListView`` (uniform item sizes) over a trivial
  ``QAbstractListModel`` of 100,000 rows (and, for start-up only, 1,000,000),
  the viewport the size of ours, the same steps.

Run as a child: ``python -m bench.bench_window ours HOME FOLDER_ID T0`` or
``python -m bench.bench_window peer ROWS SCROLL WIDTH HEIGHT T0``; the child
prints one JSON line. ``T0`` is the parent's ``time.monotonic()`` just before
it spawned the child (CLOCK_MONOTONIC is system-wide on Linux), so start-up
includes the interpreter's own start. ``MV_BENCH_PROFILE=FILE`` makes the ours
child write a cProfile of its first-screen and scroll phases to FILE.
"""

from __future__ import annotations

import faulthandler
import json
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import ROOT, Row, Section, fmt_ms, log, median, percentile, temp_dir

TOTAL = 1_000_000
BIG = 100_000
PER_FOLDER = 500
QUICK_TOTAL = 100_000
QUICK_BIG = 20_000
CATEGORIES = ("Photos", "Camera Roll", "Music", "Documents", "Work", "Videos", "Archive", "Scans")
BIG_NAME = "Camera Uploads"
WAIT_LIMIT = 30.0  # seconds a child waits for anything before giving up


class Stuck(RuntimeError):
    """Something the child waited for did not happen within ``WAIT_LIMIT``."""


# -- building the vault (parent) ----------------------------------------------


def build(home: Path, total: int, big: int) -> int:
    """A vault at ``home`` with ``total`` files, ``big`` of them in one folder; its id."""
    from app.vault import Vault
    from bench.catalog_fill import add_files, add_folder, open_raw
    from bench.common import NameGen

    Vault.open(home).close()
    db = open_raw(home / "catalog.sqlite3")
    db.execute("BEGIN")
    big_id = add_folder(db, 1, BIG_NAME)
    gen = NameGen(31)
    rows: list[tuple[int, str]] = [(big_id, n) for n in gen.unique(big)]
    tops = {c: add_folder(db, 1, c) for c in CATEGORIES}
    r = random.Random(32)
    left, i = total - big, 0
    while left > 0:
        count = min(PER_FOLDER, left)
        cat = CATEGORIES[i % len(CATEGORIES)]
        sub = add_folder(db, tops[cat], f"{r.randint(2008, 2024)}-{r.randint(1, 12):02} {i:04}")
        rows.extend((sub, n) for n in gen.unique(count))
        left -= count
        i += 1
    add_files(db, rows, seed=33, start_id=1)
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return big_id


# -- the display (parent) -------------------------------------------------------


@contextmanager
def display() -> Iterator[tuple[dict[str, str], str]]:
    """Environment for the children and a description of where they draw.

    An Xvfb server when there is one (a real X server: the window is mapped,
    exposed and every frame is flushed to it, as on a desktop), else Qt's
    offscreen platform (paints into memory, flushes nowhere).
    ``MV_BENCH_QPA=offscreen`` forces the latter.
    """
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)
    xvfb = None
    if os.environ.get("MV_BENCH_QPA") != "offscreen":
        for d in os.environ.get("PATH", "").split(os.pathsep):
            if (Path(d) / "Xvfb").is_file():
                xvfb = str(Path(d) / "Xvfb")
                break
    if xvfb is None:
        env["QT_QPA_PLATFORM"] = "offscreen"
        yield env, "Qt's `offscreen` platform (no display on this machine)"
        return
    read, write = os.pipe()
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        env["DISPLAY"] = f":{number}"
        env["QT_QPA_PLATFORM"] = "xcb"
        yield env, "an Xvfb X server (`xcb` platform; no real display on this machine)"
    finally:
        server.terminate()
        server.wait(10)


def _child(env: dict[str, str], *args: object) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.bench_window", *map(str, args)]
    cmd.append(repr(time.monotonic()))
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"{cmd[3]} child failed ({proc.returncode}): {proc.stdout[-1000:]}\n"
            f"{proc.stderr[-3000:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result


# -- the children ---------------------------------------------------------------


def _peak_mb() -> float:
    """This process's peak resident memory in MB (VmHWM).

    Not ``ru_maxrss``: Linux carries the parent's peak over into a child across
    fork and exec, so the child would report the benchmark's own memory.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _tasks_state(window: Any) -> str:
    """The window's task manager's state, if it has the one it had when this was written."""
    tasks = getattr(window, "tasks", None)
    pool = getattr(tasks, "pool", None)
    if tasks is None or pool is None:
        return ""
    return (
        f"; its task manager {'has' if tasks.busy else 'has no'} results pending, "
        f"{pool.activeThreadCount()} of its {pool.maxThreadCount()} threads busy"
    )


def _frame_stats(frames: list[float]) -> dict[str, float]:
    return {
        "p50": percentile(frames, 50),
        "p95": percentile(frames, 95),
        "max": max(frames),
        "count": len(frames),
    }


def _child_main(argv: list[str]) -> None:
    t0 = float(argv[-1])
    from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
    from PySide6.QtWidgets import QAbstractItemView, QApplication, QStackedWidget

    class PaintWatch(QObject):
        """Counts paint events of one viewport and the rows the model had at each."""

        def __init__(self, count_rows: Callable[[], int]) -> None:
            super().__init__()
            self.count_rows = count_rows
            self.paints = 0
            self.rows = 0

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.paints += 1
                self.rows = self.count_rows()
            return False

    def pump_until(
        app: QApplication, done: Callable[[], bool], what: str | Callable[[], str]
    ) -> None:
        # A heartbeat keeps WaitForMoreEvents from sleeping past a condition that
        # became true without a new event; the wait itself leaves the CPU to the
        # pool thread listing the page.
        beat = QTimer()
        beat.start(5)
        limit = time.monotonic() + WAIT_LIMIT
        try:
            while not done():
                if time.monotonic() > limit:
                    # Where every thread is, for the parent's error message.
                    faulthandler.dump_traceback(sys.stderr, all_threads=True)
                    label = what() if callable(what) else what  # the state at the end
                    raise Stuck(f"gave up waiting {WAIT_LIMIT:.0f} s for {label}")
                app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
        finally:
            beat.stop()

    def first_screen(app: QApplication, watch: PaintWatch, start: Callable[[], None]) -> float:
        """From ``start()`` until a paint showed rows (time taken after it finished)."""
        before = watch.paints
        t = time.perf_counter()
        start()
        pump_until(app, lambda: watch.paints > before and watch.rows > 0, "the first screen")
        return time.perf_counter() - t

    def scroll(
        app: QApplication,
        view: QAbstractItemView,
        more: Callable[[], bool],
        rows: Callable[[], int],
        describe: Callable[[], str] = str,
    ) -> dict[str, Any]:
        """One page step per frame to the end; frame = step + synchronous repaint + events."""
        bar = view.verticalScrollBar()
        viewport = view.viewport()
        frames: list[float] = []
        steady: list[float] = []
        arrivals: list[float] = []
        waits: list[float] = []
        stuck = ""
        while True:
            if bar.value() >= bar.maximum():
                if not more():
                    break
                # At the end of the rows loaded while more are coming: the view
                # asked for them (fetchMore) in the frame that got here.
                t = time.perf_counter()
                try:
                    pump_until(
                        app,
                        lambda: bar.value() < bar.maximum() or not more(),
                        lambda: (
                            f"a page after row {rows():,} (scroll bar at its end, "
                            f"{bar.maximum()}; {len(frames)} frames, {len(waits)} waits so far"
                            f"{describe()})"
                        ),
                    )
                except Stuck as exc:
                    # What a user would see too: the list stops growing. The
                    # frames so far still count; the run reports where it stopped.
                    stuck = str(exc)
                    break
                waits.append(time.perf_counter() - t)
                continue
            before = rows()
            t = time.perf_counter()
            bar.setValue(bar.value() + bar.pageStep())
            viewport.repaint()
            app.processEvents()
            took = time.perf_counter() - t
            frames.append(took)
            (steady if rows() == before else arrivals).append(took)
        return {
            "frames": _frame_stats(frames),
            # Where the slow frames are: with or without a page of rows arriving.
            "steady": _frame_stats(steady),
            "arrivals": _frame_stats(arrivals) if arrivals else None,
            "waits": len(waits),
            "wait_p50": percentile(waits, 50) if waits else 0.0,
            "wait_max": max(waits) if waits else 0.0,
            "rows": rows(),
            "page_step": bar.pageStep(),
            "stuck": stuck,
        }

    out: dict[str, Any] = {}
    if argv[0] == "ours":
        home, folder_id = Path(argv[1]), int(argv[2])
        from app.browse import Source
        from ui.app import create_application, run
        from ui.main_window import MainWindow

        app = create_application(["mediavault"])

        class FirstPaint(QObject):
            """Sees the main window's first frame, and the first one showing the root's rows."""

            def __init__(self) -> None:
                super().__init__()
                self.window: MainWindow | None = None
                self.rows_seen = False
                self.rows_at: float | None = None

            def eventFilter(self, watched: QObject, event: QEvent) -> bool:
                if event.type() != QEvent.Type.Paint:
                    return False
                view = watched.parent()
                if not isinstance(view, QAbstractItemView) or watched is not view.viewport():
                    return False
                window = view.window()
                if not isinstance(window, MainWindow):
                    return False
                if self.window is None:
                    self.window = window
                    # Runs once this paint (and the rest of its frame) is done.
                    QTimer.singleShot(0, drive)
                if (
                    not self.rows_seen
                    and view.model() is window.model
                    and window.model.rowCount() > 0
                ):
                    self.rows_seen = True
                    QTimer.singleShot(0, self.mark_rows)
                return False

            def mark_rows(self) -> None:
                self.rows_at = time.monotonic()

        first = FirstPaint()
        app.installEventFilter(first)

        def drive() -> None:
            watchdog.stop()
            try:
                out["shown"] = time.monotonic() - t0
                out["shown_mb"] = _peak_mb()
                window = first.window
                assert window is not None
                model, view = window.model, window.view
                # The window may open on another view of the model (a grid): the
                # root listing is timed on whichever shows it first, the rest on the list.
                pump_until(app, lambda: first.rows_at is not None, "the root listing")
                assert first.rows_at is not None
                out["root_shown"] = first.rows_at - t0
                app.removeEventFilter(first)
                shown = [
                    v
                    for v in window.findChildren(QAbstractItemView)
                    if v.model() is model and v.isVisible()
                ]
                out["start_view"] = type(shown[0] if shown else view).__name__
                out["view"] = type(view).__name__
                watch = PaintWatch(model.rowCount)
                view.viewport().installEventFilter(watch)
                stack = view.parentWidget()
                if not view.isVisible() and isinstance(stack, QStackedWidget):
                    stack.setCurrentWidget(view)
                    pump_until(app, lambda: watch.paints > 0, "the list view")
                out["viewport"] = [view.viewport().width(), view.viewport().height()]
                profile_to = os.environ.get("MV_BENCH_PROFILE")
                profiler = None
                if profile_to:
                    import cProfile

                    profiler = cProfile.Profile()
                    profiler.enable()
                out["first_screen"] = first_screen(
                    app,
                    watch,
                    lambda: window.open_source(Source.folder(folder_id)),
                )
                out["scroll"] = scroll(
                    app,
                    view,
                    lambda: model.has_more,
                    model.rowCount,
                    lambda: (
                        f"; the model {'is' if model.loading else 'is not'} loading"
                        + _tasks_state(window)
                    ),
                )
                if profiler is not None and profile_to:
                    profiler.disable()
                    profiler.dump_stats(profile_to)
            except BaseException as exc:  # reported by the parent, with the child's stderr
                out["error"] = repr(exc)
            app.quit()

        def too_late() -> None:
            out.setdefault("error", "the window was never painted")
            app.quit()

        watchdog = QTimer()
        watchdog.setSingleShot(True)
        watchdog.timeout.connect(too_late)
        watchdog.start(int(WAIT_LIMIT * 1000))
        status = run(home, ["mediavault"])
        out["exit"] = status
    else:
        rows, do_scroll, width, height = (int(a) for a in argv[1:5])
        from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
        from PySide6.QtWidgets import QListView

        class Names(QAbstractListModel):
            """``rows`` made-up file names, computed on demand."""

            def __init__(self, count: int) -> None:
                super().__init__()
                self.count = count

            def rowCount(
                self,
                parent: QModelIndex | QPersistentModelIndex = QModelIndex(),  # noqa: B008
            ) -> int:
                return 0 if parent.isValid() else self.count

            def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> str | None:
                if role == Qt.ItemDataRole.DisplayRole:
                    return f"IMG_{index.row():07}.jpg"
                return None

        app = QApplication(["peer"])
        view = QListView()
        view.setUniformItemSizes(True)
        model = Names(rows)
        view.setModel(model)
        view.resize(width, height)
        peer_watch = PaintWatch(lambda: view.model().rowCount())
        view.viewport().installEventFilter(peer_watch)
        view.show()
        pump_until(app, lambda: peer_watch.paints > 0, "the first paint")
        out["shown"] = time.monotonic() - t0
        out["shown_mb"] = _peak_mb()
        if do_scroll:
            # Same viewport as ours (the frame and margins differ a little).
            view.resize(
                width + width - view.viewport().width(), height + height - view.viewport().height()
            )
            app.processEvents()
            out["viewport"] = [view.viewport().width(), view.viewport().height()]
            folder = Names(rows)
            out["first_screen"] = first_screen(app, peer_watch, lambda: view.setModel(folder))
            out["scroll"] = scroll(app, view, lambda: False, folder.rowCount)
    out["peak_mb"] = _peak_mb()
    print(json.dumps(out), flush=True)
    if "error" in out:
        sys.exit(1)


# -- the benchmark (parent) ------------------------------------------------------


def _med(results: list[dict[str, Any]], *path: str) -> float:
    values = []
    for r in results:
        v: Any = r
        for p in path:
            v = v[p]
        values.append(float(v))
    return median(values)


def _mb(value: float) -> str:
    return f"{value:,.0f} MB"


def bench(quick: bool) -> list[Section]:
    total, big = (QUICK_TOTAL, QUICK_BIG) if quick else (TOTAL, BIG)
    runs = 1 if quick else 3
    ours: list[dict[str, Any]] = []
    peer: list[dict[str, Any]] = []
    peer_1m: list[dict[str, Any]] = []
    with temp_dir("window") as work:
        home = work / "vault"
        log(f"window: building a vault of {total:,} files ({big:,} in one folder)")
        start = time.perf_counter()
        folder_id = build(home, total, big)
        log(f"window: built in {time.perf_counter() - start:.0f} s")
        with display() as (env, where):
            # A warm-up pair: the first Qt start after a while pages libraries in.
            first = _child(env, "ours", home, folder_id)
            width, height = first["viewport"]
            _child(env, "peer", big, 0, width, height)
            for i in range(runs):
                log(f"window: run {i + 1} of {runs}")
                pair: list[Callable[[], None]] = [
                    lambda: ours.append(_child(env, "ours", home, folder_id)),
                    lambda: peer.append(_child(env, "peer", big, 1, width, height)),
                ]
                for step in pair if i % 2 == 0 else pair[::-1]:
                    step()
                peer_1m.append(_child(env, "peer", total, 0, width, height))
    o_frames = {k: _med([r["scroll"] for r in ours], "frames", k) for k in ("p50", "p95", "max")}
    p_frames = {k: _med([r["scroll"] for r in peer], "frames", k) for k in ("p50", "p95", "max")}
    o_shown, p_shown = _med(ours, "shown"), _med(peer, "shown")
    o_first, p_first = _med(ours, "first_screen"), _med(peer, "first_screen")
    o_peak, p_peak = _med(ours, "peak_mb"), _med(peer, "peak_mb")
    o_scroll, p_scroll = ours[0]["scroll"], peer[0]["scroll"]
    sec = Section(
        f"Main window on {total:,} files, one folder of {big:,}",
        f"`ui.app.run(home)` in a fresh process on a vault of {total:,} files (rows inserted with "
        f"SQL in the real schema; {big:,} in one folder, the rest in folders of {PER_FOLDER}), "
        f"drawing on {where}. First screen and scrolling use the window's details list "
        f"(`MainWindow.view`, a `{ours[0]['view']}`"
        + (
            f", brought to the front: the window opens on its `{ours[0]['start_view']}`)"
            if ours[0]["start_view"] != ours[0]["view"]
            else ")"
        )
        + ". Peer: a bare `QListView` (uniform item sizes) over a trivial "
        f"`QAbstractListModel` of {big:,} rows in its own process, its viewport the size of ours "
        f"({width}×{height} px). Start-up runs from just before the parent spawns the process to "
        "the end of the frame in which the list's viewport was first painted (an event filter "
        "sees that paint event; a zero timer it starts fires once the whole window's frame has "
        "been painted and flushed). First screen: `open_source(Source.folder(…))` (peer: "
        "`setModel`) to the end of the first paint showing rows. Scrolling: the vertical "
        "scroll bar steps one page per frame from top to bottom; a frame is the step, a "
        "synchronous `viewport().repaint()` and the events then pending (pages arriving, "
        "layout); when the view sits at the end of the rows loaded, the wait for the next "
        "page is counted apart. Peak memory is the child's peak resident set (`VmHWM`; its `ru_maxrss` would include the parent's, which Linux carries across fork and exec). Medians of "
        f"{runs} run(s) after a warm-up pair, ours and the peer taking turns to go first.",
    )
    sec.rows += [
        Row(
            f"start → window shown ({total:,}-file vault)",
            fmt_ms(o_shown),
            f"{fmt_ms(p_shown)} QListView of {big:,} "
            f"({fmt_ms(_med(peer_1m, 'shown'))} of {total:,})",
            f"{o_shown / p_shown:.1f}× peer",
            "< 2 s",
            o_shown < 2.0,
        ),
        Row(
            f"start → root folder's rows shown (in the `{ours[0]['start_view']}`)",
            fmt_ms(_med(ours, "root_shown")),
            "",
            "",
            "",
            None,
        ),
        Row(
            f"first screen of the {big:,}-file folder",
            fmt_ms(o_first),
            fmt_ms(p_first) + " `setModel`",
            f"{o_first / p_first:.1f}× peer",
            "< 100 ms",
            o_first < 0.100,
        ),
        Row(
            "scroll frame p50",
            fmt_ms(o_frames["p50"]),
            fmt_ms(p_frames["p50"]),
            f"{o_frames['p50'] / p_frames['p50']:.1f}× peer",
            "",
            None,
        ),
        Row(
            "scroll frame p95",
            fmt_ms(o_frames["p95"]),
            fmt_ms(p_frames["p95"]),
            f"{o_frames['p95'] / p_frames['p95']:.1f}× peer",
            "< 16 ms",
            o_frames["p95"] < 0.016,
        ),
        Row(
            "scroll frame p95 without / with a page of rows arriving in it",
            f"{fmt_ms(_med([r['scroll'] for r in ours], 'steady', 'p95'))} / "
            + (
                f"{fmt_ms(_med([r['scroll'] for r in ours], 'arrivals', 'p95'))}"
                f" ({o_scroll['arrivals']['count']:,} frames)"
                if all(r["scroll"]["arrivals"] for r in ours)
                else "none"
            ),
            "",
            "",
            "",
            None,
        ),
        Row(
            "scroll frame max",
            fmt_ms(o_frames["max"]),
            fmt_ms(p_frames["max"]),
            "",
            "",
            None,
        ),
        Row(
            "frames (rows per page step)",
            f"{o_scroll['frames']['count']:,} ({o_scroll['page_step']})",
            f"{p_scroll['frames']['count']:,} ({p_scroll['page_step']})",
            "",
            "",
            None,
        ),
        Row(
            "waits at the end of the rows loaded (count, p50 / max)",
            f"{o_scroll['waits']} ({fmt_ms(_med([r['scroll'] for r in ours], 'wait_p50'))} / "
            f"{fmt_ms(_med([r['scroll'] for r in ours], 'wait_max'))})",
            "none: every row is there",
            "",
            "",
            None,
        ),
        Row(
            "peak memory (at first frame / after scrolling)",
            f"{_mb(_med(ours, 'shown_mb'))} / {_mb(o_peak)}",
            f"{_mb(_med(peer, 'shown_mb'))} / {_mb(p_peak)}",
            f"{o_peak / p_peak:.1f}× peer",
            "< 500 MB",
            o_peak < 500,
        ),
    ]
    if any(r["scroll"]["rows"] != big for r in ours):
        sec.notes.append(
            "**The window did not list every file of the folder**: it ended with "
            + ", ".join(f"{r['scroll']['rows']:,}" for r in ours)
            + f" rows of {big:,} in the runs. "
            + " ".join(
                f"Run {i + 1}: {r['scroll']['stuck']}."
                for i, r in enumerate(ours)
                if r["scroll"]["stuck"]
            )
        )
    return [sec]


if __name__ == "__main__":
    _child_main(sys.argv[1:])
