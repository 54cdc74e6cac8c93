"""Text and media facts for search and the info pane, extracted safely.

Imported files are untrusted: a PDF can send MuPDF into a minutes-long loop, a
TIFF can crash a native decoder, a docx can be a zip bomb. So every parser of
a binary format runs in a worker subprocess (:mod:`app.extract_worker`) with
a memory limit, and the parent gives each request a wall-clock time limit. A
worker that times out, crashes or runs out of memory is killed; the file gets
a :class:`Facts` whose ``note`` tells the user why its content is not
searchable, and the next request starts a fresh worker.

Plain text is decoded in this process instead: reading a bounded number of
bytes and decoding them cannot hang or crash, and a process round trip per
text file would slow imports down for nothing.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from app.kinds import utf16_without_bom

log = logging.getLogger(__name__)

WORKER_FLAG = "--extract-worker"

MAX_TEXT_CHARS = 200_000
"""At most this much text per file goes into the search index."""

NOTE_PREFIX = "content not indexed"

_CHARSET_SAMPLE = 64 * 1024
_PLAIN_TEXT_MIMES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/x-subrip",
        "application/toml",
        "application/yaml",
        "application/sql",
        "application/x-sh",
    }
)
_PACKAGE_PREFIXES = (
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.oasis.opendocument.",
    "application/vnd.ms-word.document.",
    "application/vnd.ms-word.template.",
    "application/vnd.ms-excel.sheet.",
    "application/vnd.ms-powerpoint.presentation.",
)
# Images the worker cannot say anything about without rendering them.
_NO_WORKER_IMAGES = frozenset({"image/svg+xml"})


@dataclass(frozen=True)
class Facts:
    """What extraction learned about one file.

    Attributes:
        text: extracted text for the search index, at most :data:`MAX_TEXT_CHARS`.
        pages: page count of a PDF or Word document, when known.
        width: image width in pixels as displayed (EXIF rotation applied).
        height: image height in pixels as displayed.
        taken_at: when a photo was taken (EXIF DateTimeOriginal); naive unless
            the camera recorded an offset.
        camera: camera make and model from EXIF.
        duration: length of audio or video in seconds.
        codecs: a media file's streams in words ("H.264 video, AAC audio").
        note: why the content is not indexed, in words for the user; "" when
            extraction went fine or there was nothing to extract.
    """

    text: str = ""
    pages: int | None = None
    width: int | None = None
    height: int | None = None
    taken_at: datetime | None = None
    camera: str | None = None
    duration: float | None = None
    codecs: str | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-ready dict (``taken_at`` as ISO 8601)."""
        return {
            "text": self.text,
            "pages": self.pages,
            "width": self.width,
            "height": self.height,
            "taken_at": self.taken_at.isoformat() if self.taken_at else None,
            "camera": self.camera,
            "duration": self.duration,
            "codecs": self.codecs,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Facts:
        """Builds Facts from :meth:`to_dict` output, dropping values of the wrong type.

        Args:
            data: a dict as produced by :meth:`to_dict`, typically from a worker.

        Returns:
            The facts; malformed fields are left at their defaults.
        """

        def _int(value: Any) -> int | None:
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        def _str(value: Any) -> str:
            return value if isinstance(value, str) else ""

        def _seconds(value: Any) -> float | None:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            return float(value) if ok and 0 <= value < 1e9 else None

        taken_at = None
        if isinstance(data.get("taken_at"), str):
            try:
                taken_at = datetime.fromisoformat(data["taken_at"])
            except ValueError:
                taken_at = None
        return cls(
            text=_str(data.get("text"))[:MAX_TEXT_CHARS],
            pages=_int(data.get("pages")),
            width=_int(data.get("width")),
            height=_int(data.get("height")),
            taken_at=taken_at,
            camera=_str(data.get("camera")) or None,
            duration=_seconds(data.get("duration")),
            codecs=_str(data.get("codecs"))[:200] or None,
            note=_str(data.get("note")),
        )


def note(reason: str) -> str:
    """Formats a user-facing reason why a file's content is not indexed.

    Args:
        reason: what happened, e.g. "the file is encrypted".

    Returns:
        The note, e.g. "content not indexed: the file is encrypted".
    """
    return f"{NOTE_PREFIX}: {reason}"


def is_plain_text(kind: str, mime: str) -> bool:
    """Whether a file is read as plain text in-process by :func:`extract_plain_text`.

    Args:
        kind: the kind from :func:`app.kinds.detect`.
        mime: the mime type from :func:`app.kinds.detect`.

    Returns:
        True for text/*, JSON, XML, subtitles and similar.
    """
    if kind != "document":
        return False
    return (mime.startswith("text/") and mime != "text/rtf") or mime in _PLAIN_TEXT_MIMES


def wants_worker(kind: str, mime: str) -> bool:
    """Whether a file's facts come from the worker process.

    Args:
        kind: the kind from :func:`app.kinds.detect`.
        mime: the mime type from :func:`app.kinds.detect`.

    Returns:
        True for PDFs, OOXML and ODF documents, images (dimensions and EXIF),
        audio and video (duration, and a video's frame size); False for plain
        text (read in-process) and for everything with nothing to extract yet
        (legacy .doc, other).
    """
    if kind == "image":
        return mime not in _NO_WORKER_IMAGES
    if kind in ("audio", "video"):
        return True
    return mime == "application/pdf" or mime.startswith(_PACKAGE_PREFIXES)


def extract_plain_text(path: Path, limit_bytes: int = 1_000_000) -> Facts:
    """Reads the start of a text file and decodes it, whatever its encoding.

    A byte-order mark decides first; then UTF-8; then UTF-16 without a BOM
    and ISO-2022-JP, which UTF-8 would accept as garbage or reject; and
    finally charset_normalizer's best guess from the first 64 KiB.

    Args:
        path: the file to read; any thread.
        limit_bytes: read at most this many bytes.

    Returns:
        Facts with ``text`` (at most :data:`MAX_TEXT_CHARS`); a note if the
        file cannot be read. Never raises.
    """
    try:
        with path.open("rb") as stream:
            data = stream.read(limit_bytes + 1)
    except OSError as exc:
        return Facts(note=note(f"the file could not be read ({exc.strerror or exc})"))
    truncated = len(data) > limit_bytes
    text = decode_text(data[:limit_bytes], truncated=truncated)
    return Facts(text=text.replace("\x00", "")[:MAX_TEXT_CHARS])


def decode_text(data: bytes, truncated: bool = False) -> str:
    """Decodes bytes of unknown encoding to text; never raises.

    Args:
        data: the bytes.
        truncated: whether ``data`` was cut from a longer file, so a character
            split at the end is not evidence of a wrong encoding.

    Returns:
        The text; undecodable bytes become U+FFFD.
    """
    if data.startswith((b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")):
        return data.decode("utf-32", errors="replace")
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig", errors="replace")
    if data.startswith((b"\xfe\xff", b"\xff\xfe")):
        return data.decode("utf-16", errors="replace")
    if b"\x1b$" in data or b"\x1b(" in data:
        # ISO-2022-JP is 7-bit, so it would pass as UTF-8 with escapes left in.
        try:
            return data.decode("iso2022_jp")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if truncated and exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return data[: exc.start].decode("utf-8")
    utf16 = utf16_without_bom(data[:_CHARSET_SAMPLE])
    if utf16:
        return data.decode(utf16, errors="replace")
    import charset_normalizer  # only for legacy encodings; it costs an import

    best = charset_normalizer.from_bytes(data[:_CHARSET_SAMPLE]).best()
    encoding = best.encoding if best is not None else "cp1252"
    try:
        return data.decode(encoding, errors="replace")
    except LookupError:
        return data.decode("cp1252", errors="replace")


def _reader_name(kind: str, mime: str) -> str:
    if mime == "application/pdf":
        return "PDF reader"
    return "image reader" if kind == "image" else "document reader"


class _Worker:
    """One worker subprocess, started lazily and replaced after any failure.

    Not thread-safe: :class:`Extractor` hands each one to a single thread at a time.
    """

    def __init__(self, argv: list[str]) -> None:
        self._argv = argv
        self._proc: subprocess.Popen[bytes] | None = None
        self._lines: queue.Queue[bytes | None] = queue.Queue()

    @property
    def pid(self) -> int | None:
        """The process id of the running worker, or None."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def run(self, request: dict[str, Any], timeout: float, reader: str) -> Facts:
        """Sends one request and waits for its answer, at most ``timeout`` seconds."""
        if self._proc is None or self._proc.poll() is not None:
            self._start()
        proc = self._proc
        assert proc is not None and proc.stdin is not None
        line = json.dumps(request, ensure_ascii=False).encode("utf-8") + b"\n"
        try:
            proc.stdin.write(line)
            proc.stdin.flush()
            answer = self._lines.get(timeout=timeout)
        except OSError:
            answer = None  # the worker died before it could read the request
        except queue.Empty:
            self.stop(kill=True)
            log.warning("extraction of %s timed out after %g s", request["path"], timeout)
            return Facts(note=note(f"the {reader} stopped after {timeout:g} s"))
        if answer is None:
            code = self.stop(kill=True)
            log.warning("extraction worker died on %s (exit %s)", request["path"], code)
            return Facts(
                note=note(f"the {reader} stopped unexpectedly (it crashed or ran out of memory)")
            )
        try:
            response = json.loads(answer)
            facts = Facts.from_dict(response["facts"])
        except (ValueError, KeyError, TypeError):
            self.stop(kill=True)
            log.error("extraction worker sent a malformed answer for %s", request["path"])
            return Facts(note=note(f"the {reader} failed"))
        if response.get("error"):
            # A bug or an unexpected library error on this file; the worker lives on.
            log.warning("extraction of %s failed: %s", request["path"], response["error"])
        if response.get("restart"):
            # After a MemoryError the interpreter's state is suspect; start afresh.
            self.stop(kill=True)
        return facts

    def stop(self, kill: bool) -> int | None:
        """Ends the worker: politely (EOF on stdin) or with a kill; returns its exit code."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if not kill and proc.stdin is not None:
            try:
                proc.stdin.close()
                return proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        proc.kill()
        code = proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        return code

    def _start(self) -> None:
        env = dict(os.environ)
        # `-m app.extract_worker` must find this package whatever the caller's cwd.
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        proc = subprocess.Popen(
            self._argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # MuPDF and libtiff complain on stderr about every damaged file;
            # the worker reports what matters in its answers instead.
            stderr=subprocess.DEVNULL,
            env=env,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )
        # A fresh queue per process, so a late answer from a killed worker
        # can never be taken for the answer to the next request.
        self._lines = queue.Queue()
        assert proc.stdout is not None
        threading.Thread(
            target=_pump, args=(proc.stdout, self._lines), name="extract-reader", daemon=True
        ).start()
        self._proc = proc


def _pump(stream: IO[bytes], lines: queue.Queue[bytes | None]) -> None:
    # A reader thread rather than select(): select does not work on pipes on Windows.
    try:
        for line in iter(stream.readline, b""):
            lines.put(line)
    except (OSError, ValueError):
        pass  # the pipe was closed under us when the worker was killed
    lines.put(None)


class Extractor:
    """Extracts :class:`Facts` from files, parsing binary formats in worker processes.

    Use as a context manager, or call :meth:`close`. :meth:`extract` may be
    called from any number of threads; at most ``workers`` files are parsed
    at once and further callers wait for a free worker.

    Attributes:
        timeout: seconds one file may take in a worker, including the worker's
            start-up when it has to be (re)started.
        memory_limit: address-space limit of each worker in bytes (POSIX only).
    """

    def __init__(
        self, workers: int = 1, timeout: float = 10.0, memory_limit: int = 1 << 30
    ) -> None:
        """Prepares the pool; no process starts until a file needs one.

        Args:
            workers: how many worker processes may run at once (at least 1).
            timeout: wall-clock seconds per file in a worker.
            memory_limit: RLIMIT_AS for each worker, in bytes.
        """
        self.timeout = timeout
        self.memory_limit = memory_limit
        # The CPU limit is a backstop for a worker the parent cannot reach
        # (e.g. the parent itself is stopped in a debugger), not the time bound.
        cpu_seconds = int(timeout * 3) + 10
        # A PyInstaller build has no `python -m`: its executable serves as the worker
        # when given WORKER_FLAG first (see app/__main__.py).
        launcher = (
            [sys.executable, WORKER_FLAG]
            if getattr(sys, "frozen", False)
            else [sys.executable, "-m", "app.extract_worker"]
        )
        argv = [
            *launcher,
            "--memory-limit",
            str(memory_limit),
            "--cpu-seconds",
            str(cpu_seconds),
        ]
        self._workers = [_Worker(argv) for _ in range(max(1, workers))]
        self._idle: queue.Queue[_Worker] = queue.Queue()
        for worker in self._workers:
            self._idle.put(worker)
        self._closed = False

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def extract(self, path: Path, kind: str, mime: str) -> Facts:
        """Extracts text and facts from one file.

        Thread-safe; blocks while all workers are busy, and for at most
        ``timeout`` seconds once a worker has the file.

        Args:
            path: the file (a blob or a temp copy); it is only read.
            kind: its kind from :func:`app.kinds.detect`.
            mime: its mime type from :func:`app.kinds.detect`.

        Returns:
            The facts. A damaged, hostile, encrypted or too slow file gives
            Facts with a ``note``; this never raises for a bad file.

        Raises:
            RuntimeError: the extractor has been closed.
        """
        if self._closed:
            raise RuntimeError("Extractor is closed")
        if is_plain_text(kind, mime):
            return extract_plain_text(path)
        if not wants_worker(kind, mime):
            return Facts()
        request = {"path": str(Path(path).resolve()), "kind": kind, "mime": mime}
        worker = self._idle.get()
        try:
            if self._closed:
                raise RuntimeError("Extractor is closed")
            return worker.run(request, self.timeout, _reader_name(kind, mime))
        finally:
            self._idle.put(worker)

    def worker_pids(self) -> list[int]:
        """Process ids of the running workers, for diagnostics and tests."""
        return [pid for pid in (w.pid for w in self._workers) if pid is not None]

    def close(self) -> None:
        """Stops all workers. Idempotent; a request still running gets a failure note."""
        self._closed = True
        for worker in self._workers:
            worker.stop(kill=False)
