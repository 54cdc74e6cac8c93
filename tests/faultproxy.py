"""A fault-injecting HTTP/1.1 reverse proxy between the S3 client and the test endpoint.

The store's retries, resumable uploads and verified downloads only matter when
the network misbehaves, and moto never does. :class:`FaultProxy` sits on a free
loopback port, forwards every request to the real endpoint (moto's server) and,
at set rates, instead:

* ``error``: answers 500 InternalError or 503 SlowDown (an S3 XML error body)
  without forwarding;
* ``slow``: waits before forwarding;
* ``reset_before``: resets the connection (``SO_LINGER`` 0) before forwarding;
* ``reset_after``: forwards, lets the endpoint apply the request, then resets
  the connection instead of answering (the client must retry an operation that
  already happened: idempotency);
* ``truncate``: forwards, then sends the full ``Content-Length`` but only half
  the body and closes (for responses that have a body, of the methods in
  :attr:`Faults.truncate_methods`).

Decisions are seeded and depend only on the request (method, object key, the
query's keys and part number) and how many times that request was seen, not on
thread timing or the bucket's name, so the same requests meet the same faults
in every run. Every request is logged
(:class:`Logged`) for the tests to inspect. The Host header is forwarded as
sent: SigV4 signs it.

Bodies are streamed both ways in 64 KiB pieces (a 50 MiB PUT is never held in
memory); ``Expect: 100-continue``, keep-alive, Content-Length and chunked
request bodies are handled. One upstream connection is opened per request.
"""

from __future__ import annotations

import http.client
import random
import socket
import struct
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, BinaryIO, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

PIECE = 64 * 1024
MAX_LINE = 65536

KINDS = ("error", "reset_before", "reset_after", "truncate", "slow")

# Headers that belong to one connection, not to the request (RFC 9110 §7.6.1);
# Content-Length and Expect are recomputed or handled here.
_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "content-length",
    }
)

_ERRORS = (
    (500, "Internal Server Error", "InternalError", "We encountered an internal error."),
    (503, "Slow Down", "SlowDown", "Please reduce your request rate."),
)


@dataclass(frozen=True)
class Faults:
    """How often each fault happens, per request (rates add up to at most 1).

    Attributes:
        error: answer 500/503 without forwarding.
        reset_before: reset the connection before forwarding.
        reset_after: forward, then reset instead of answering.
        truncate: forward, then send half the body and close.
        slow: wait ``slow_seconds`` before forwarding.
        slow_seconds: the wait of a slow answer.
        truncate_methods: whose responses may be truncated.
        seed: makes the decisions repeatable.
    """

    error: float = 0.0
    reset_before: float = 0.0
    reset_after: float = 0.0
    truncate: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 0.2
    truncate_methods: frozenset[str] = frozenset({"GET"})
    seed: int = 0

    def pick(self, identity: str) -> str:
        """The fault for the request ``identity`` ("" for none), repeatable by seed."""
        roll = random.Random(f"{self.seed}|{identity}").random()
        for kind in KINDS:
            rate = float(getattr(self, kind))
            if roll < rate:
                return kind
            roll -= rate
        return ""


@dataclass(frozen=True)
class Logged:
    """One request the proxy handled.

    Attributes:
        method: the HTTP method.
        path: the URL path, unquoted (path style: ``/bucket/key``).
        query: the query's parameters (``partNumber``, ``uploadId``, ``uploads``…).
        fault: the fault applied ("" for none; "held" for a request dropped by
            :meth:`FaultProxy.release`).
        status: the status the endpoint (or the proxy) answered; 0 if none.
        request_bytes: body bytes read from the client.
        response_bytes: body bytes sent to the client.
        answered: True if the client got a complete answer.
    """

    method: str
    path: str
    query: dict[str, str]
    fault: str
    status: int
    request_bytes: int
    response_bytes: int
    answered: bool

    @property
    def operation(self) -> str:
        """The S3 operation, e.g. "UploadPart", told from the method and the query."""
        q, m = self.query, self.method
        if "uploadId" in q:
            if m == "PUT":
                return "UploadPart"
            return {"GET": "ListParts", "POST": "CompleteMultipartUpload"}.get(
                m, "AbortMultipartUpload"
            )
        if "uploads" in q:
            return "CreateMultipartUpload" if m == "POST" else "ListMultipartUploads"
        if self.path.strip("/").count("/") == 0:  # the bucket itself
            return {"GET": "ListObjects", "PUT": "CreateBucket", "HEAD": "HeadBucket"}.get(
                m, "DeleteBucket"
            )
        return {"GET": "GetObject", "PUT": "PutObject", "HEAD": "HeadObject"}.get(m, "DeleteObject")

    @property
    def key(self) -> str:
        """The object key (path style: the path after the bucket), "" for the bucket."""
        parts = self.path.lstrip("/").split("/", 1)
        return parts[1] if len(parts) == 2 else ""

    @property
    def part_number(self) -> int:
        """The part number of an UploadPart, else 0."""
        return int(self.query.get("partNumber", "0"))


@dataclass
class _Request:
    method: str
    target: str
    headers: list[tuple[str, str]]
    path: str = ""
    query: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str:
        for key, value in self.headers:
            if key.lower() == name:
                return value.strip()
        return ""


class _Body(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


def _reset(sock: socket.socket, reader: BinaryIO) -> None:
    """Close with RST (linger 0) instead of FIN: the client sees a connection reset.

    The reader made by ``makefile`` holds the descriptor open, so it goes first.
    """
    reader.close()
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class FaultProxy:
    """A threaded reverse proxy to ``upstream`` that injects :class:`Faults`.

    Use as a context manager (or :meth:`start` / :meth:`close`): closing stops
    the listener, drops every connection and joins every thread. Thread-safe:
    :attr:`faults` may be replaced and :attr:`log` read while requests run.

    Attributes:
        url: the proxy's base URL (``http://127.0.0.1:PORT``).
        faults: the fault rates in force for new requests.
        down: when True, every new request is reset before forwarding (the
            endpoint "went away").
    """

    def __init__(self, upstream: str, faults: Faults | None = None) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError("the upstream must be an http:// URL")
        self._upstream = (parts.hostname, parts.port or 80)
        self.faults = faults or Faults()
        self.down = False
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        self._log: list[Logged] = []
        self._seen: Counter[str] = Counter()
        self._clients: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._closing = threading.Event()
        self._hold: Callable[[Logged], bool] | None = None
        self._released = threading.Event()
        self._changed = threading.Condition(self._lock)
        self._held_count = 0
        self._busy = 0  # requests being handled
        self._forced: list[tuple[str, Callable[[Logged], bool], list[int]]] = []
        self._acceptor = threading.Thread(target=self._accept, name="faultproxy", daemon=True)

    # -- life cycle ------------------------------------------------------------------

    def start(self) -> FaultProxy:
        """Start accepting connections."""
        self._acceptor.start()
        return self

    def close(self) -> None:
        """Stop: no new connection, every open one dropped, every thread joined."""
        self._closing.set()
        self._released.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        if self._acceptor.is_alive():
            self._acceptor.join(10)
        with self._lock:
            clients, threads = list(self._clients), list(self._threads)
        for sock in clients:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in threads:
            thread.join(30)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what the tests use ----------------------------------------------------------

    @property
    def log(self) -> list[Logged]:
        """A copy of the requests handled so far, in the order they finished."""
        with self._lock:
            return list(self._log)

    def faults_injected(self) -> Counter[str]:
        """How many times each fault kind was applied."""
        return Counter(entry.fault for entry in self.log if entry.fault)

    def inject(self, kind: str, predicate: Callable[[Logged], bool], times: int = 1) -> None:
        """Apply fault ``kind`` to the next ``times`` requests that match ``predicate``
        (before any random pick): to aim a fault at one request, e.g. a big download."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self._forced.append((kind, predicate, [times]))

    def hold(self, predicate: Callable[[Logged], bool]) -> None:
        """Stop requests that match ``predicate`` before they are forwarded, until
        :meth:`release`. The predicate sees a :class:`Logged` with status 0."""
        with self._lock:
            self._released.clear()
            self._hold = predicate

    def wait_held(self, count: int = 1, timeout: float = 120.0) -> bool:
        """Wait until at least ``count`` requests are held; False on time-out."""
        with self._changed:
            return self._changed.wait_for(lambda: self._held_count >= count, timeout)

    def wait_for(self, predicate: Callable[[list[Logged]], bool], timeout: float = 120.0) -> bool:
        """Wait until ``predicate(log)`` holds (checked at each new entry); False on time-out."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self._log), timeout)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until no request is being handled (so the log is complete); False on time-out.

        A request is logged just after its answer is sent, so a client may act on
        the answer before the entry exists: wait for this before reading the log.
        """
        with self._changed:
            return self._changed.wait_for(lambda: self._busy == 0, timeout)

    def release(self) -> None:
        """Stop holding; held requests are dropped (reset, never forwarded), as a
        crash of the client would have left them."""
        with self._lock:
            self._hold = None
            self._released.set()

    # -- serving ---------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            thread = threading.Thread(
                target=self._serve, args=(client,), name="faultproxy-conn", daemon=True
            )
            with self._lock:
                if self._closing.is_set():
                    client.close()
                    return
                self._clients.add(client)
                self._threads.add(thread)
            thread.start()

    def _serve(self, client: socket.socket) -> None:
        reader = client.makefile("rb")
        try:
            while not self._closing.is_set():
                request = self._read_head(reader)
                if request is None:
                    break
                with self._changed:
                    self._busy += 1
                try:
                    if not self._handle(client, reader, request):
                        break
                finally:
                    with self._changed:
                        self._busy -= 1
                        self._changed.notify_all()
        except (OSError, http.client.HTTPException, ValueError):
            pass  # the client went away or spoke nonsense: drop the connection
        finally:
            reader.close()
            client.close()
            with self._lock:
                self._clients.discard(client)
                self._threads.discard(threading.current_thread())

    @staticmethod
    def _read_head(reader: BinaryIO) -> _Request | None:
        line = reader.readline(MAX_LINE)
        while line in (b"\r\n", b"\n"):  # tolerated between requests
            line = reader.readline(MAX_LINE)
        if not line:
            return None
        method, target, _version = line.decode("latin-1").split()
        headers: list[tuple[str, str]] = []
        while True:
            raw = reader.readline(MAX_LINE)
            if raw in (b"\r\n", b"\n", b""):
                break
            name, _, value = raw.decode("latin-1").partition(":")
            headers.append((name.strip(), value.strip()))
        parts = urlsplit(target)
        return _Request(
            method,
            target,
            headers,
            unquote(parts.path),
            dict(parse_qsl(parts.query, keep_blank_values=True)),
        )

    def _identity(self, request: _Request) -> str:
        """What a request is, for the seeded pick: no bucket name or upload id (tests
        make them random), so the same requests meet the same faults in every run."""
        keys = ",".join(sorted(request.query))
        key = request.path.lstrip("/").partition("/")[2]
        base = f"{request.method} {key} {keys} {request.query.get('partNumber', '')}"
        with self._lock:
            seen = self._seen[base]
            self._seen[base] += 1
        return f"{base} #{seen}"

    def _record(self, request: _Request, fault: str, status: int, up: int, down: int) -> None:
        answered = fault in ("", "slow", "error")
        entry = Logged(
            request.method, request.path, request.query, fault, status, up, down, answered
        )
        with self._changed:
            self._log.append(entry)
            self._changed.notify_all()

    def _forced_fault(self, request: _Request) -> str:
        probe = Logged(request.method, request.path, request.query, "", 0, 0, 0, False)
        with self._lock:
            for kind, predicate, left in self._forced:
                if left[0] > 0 and predicate(probe):
                    left[0] -= 1
                    return kind
        return ""

    def _wait_if_held(self, request: _Request) -> bool:
        """True if the request was held and must be dropped."""
        with self._lock:
            hold = self._hold
        probe = Logged(request.method, request.path, request.query, "", 0, 0, 0, False)
        if hold is None or not hold(probe):
            return False
        with self._changed:
            self._held_count += 1
            self._changed.notify_all()
        self._released.wait()
        return True

    def _handle(self, client: socket.socket, reader: BinaryIO, request: _Request) -> bool:
        """Answer one request; False when the connection must end."""
        faults = self.faults
        identity = self._identity(request)
        fault = (
            "reset_before" if self.down else self._forced_fault(request) or faults.pick(identity)
        )
        if self._wait_if_held(request):
            self._record(request, "held", 0, 0, 0)
            _reset(client, reader)
            return False
        expect = request.header("expect").lower() == "100-continue"
        if fault == "reset_before":
            self._record(request, fault, 0, 0, 0)
            _reset(client, reader)
            return False
        if fault == "error":
            return self._error(client, reader, request, f"{faults.seed}|status|{identity}", expect)
        if expect:
            client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        body, length = self._body(reader, request)
        try:
            if fault == "slow":
                time.sleep(faults.slow_seconds)
            return self._forward(client, reader, request, body, length, fault, faults)
        finally:
            body.close()

    def _error(
        self,
        client: socket.socket,
        reader: BinaryIO,
        request: _Request,
        identity: str,
        expect: bool,
    ) -> bool:
        status, reason, code, message = random.Random(identity).choice(_ERRORS)
        if not expect:  # the body is on its way: read it so the connection stays usable
            body, length = self._body(reader, request)
            body.close()
        else:
            length = 0  # botocore sends no body after a final answer to Expect
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message>"
            f"<RequestId>faultproxy</RequestId></Error>"
        ).encode()
        payload = b"" if request.method == "HEAD" else xml
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            "Content-Type: application/xml\r\n"
            f"Content-Length: {len(payload)}\r\n"
            f"Connection: {'close' if expect else 'keep-alive'}\r\n\r\n"
        ).encode()
        client.sendall(head + payload)
        self._record(request, "error", status, length, len(payload))
        return not expect

    @staticmethod
    def _body(reader: BinaryIO, request: _Request) -> tuple[_Body, int]:
        """The request body as a file to stream from, and its length.

        A Content-Length body is streamed straight from the client; a chunked one
        (boto3 sends it for aws-chunked uploads) is de-chunked into a spooled
        temporary file so the endpoint gets a plain Content-Length.
        """
        if "chunked" in request.header("transfer-encoding").lower():
            spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115 - caller closes
            while True:
                size = int(reader.readline(MAX_LINE).split(b";")[0].strip(), 16)
                if size == 0:
                    while reader.readline(MAX_LINE) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                _copy(reader, spool, size)
                reader.readline(MAX_LINE)
            length = spool.tell()
            spool.seek(0)
            return spool, length
        length = int(request.header("content-length") or 0)
        return _Limited(reader, length), length

    def _forward(
        self,
        client: socket.socket,
        reader: BinaryIO,
        request: _Request,
        body: _Body,
        length: int,
        fault: str,
        faults: Faults,
    ) -> bool:
        upstream = http.client.HTTPConnection(*self._upstream, timeout=300)
        try:
            upstream.putrequest(
                request.method, request.target, skip_host=True, skip_accept_encoding=True
            )
            for name, value in request.headers:
                if name.lower() not in _HOP:
                    upstream.putheader(name, value)
            if length or request.method in ("PUT", "POST"):
                upstream.putheader("Content-Length", str(length))
            upstream.endheaders()
            sent = 0
            while piece := body.read(PIECE):
                upstream.send(piece)
                sent += len(piece)
            response = upstream.getresponse()
            if fault == "reset_after":
                while response.read(PIECE):
                    pass  # the endpoint has applied the request; the client never hears
                self._record(request, fault, response.status, sent, 0)
                _reset(client, reader)
                return False
            return self._answer(client, request, response, sent, fault, faults)
        finally:
            upstream.close()

    def _answer(
        self,
        client: socket.socket,
        request: _Request,
        response: http.client.HTTPResponse,
        sent: int,
        fault: str,
        faults: Faults,
    ) -> bool:
        headers = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP]
        bodyless = request.method == "HEAD" or response.status in (204, 304)
        keep = request.header("connection").lower() != "close"
        chunked = False
        if bodyless:
            declared = response.getheader("Content-Length")
            if declared is not None:
                headers.append(("Content-Length", declared))
        elif response.length is not None:
            headers.append(("Content-Length", str(response.length)))
        elif response.chunked:
            headers.append(("Transfer-Encoding", "chunked"))
            chunked = True
        else:
            keep = False  # the body ends when the connection does
        truncate = (
            fault == "truncate"
            and not bodyless
            and request.method in faults.truncate_methods
            and bool(response.length)
        )
        if fault == "truncate" and not truncate:
            fault = ""  # nothing to cut: a normal answer
        keep = keep and not truncate
        headers.append(("Connection", "keep-alive" if keep else "close"))
        head = f"HTTP/1.1 {response.status} {response.reason}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers
        )
        client.sendall(head.encode("latin-1") + b"\r\n")
        limit = (response.length or 0) // 2 if truncate else None
        written = 0
        if not bodyless:
            while piece := response.read(PIECE):
                if limit is not None and written + len(piece) >= limit:
                    client.sendall(piece[: limit - written])
                    written = limit
                    break
                client.sendall(b"%x\r\n%b\r\n" % (len(piece), piece) if chunked else piece)
                written += len(piece)
            if chunked:
                client.sendall(b"0\r\n\r\n")
        self._record(request, fault, response.status, sent, written)
        if truncate:
            client.shutdown(socket.SHUT_RDWR)  # FIN after too few bytes
        return keep


class _Limited:
    """The next ``length`` bytes of a stream, as a file (never reads past them)."""

    def __init__(self, reader: BinaryIO, length: int) -> None:
        self._reader = reader
        self._left = length

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        want = self._left if size < 0 else min(size, self._left)
        data = self._reader.read(want)
        if not data:
            raise ConnectionError("the client closed the connection mid-body")
        self._left -= len(data)
        return data

    def close(self) -> None:
        """Read what is left of the body so the connection can carry the next request."""
        while self._left > 0 and self.read(PIECE):
            pass


def _copy(reader: BinaryIO, out: IO[bytes], size: int) -> None:
    while size > 0:
        data = reader.read(min(size, PIECE))
        if not data:
            raise ConnectionError("the client closed the connection mid-chunk")
        out.write(data)
        size -= len(data)
