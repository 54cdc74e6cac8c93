"""One window per vault: a second start hands its files to the first and leaves.

The first window of a vault holds ``<data>/.window.lock`` exclusively and
listens on a local socket named after the vault's data directory. A later
start (a click on the launcher, files dropped on it, ``mediavault photo.jpg``)
finds the lock taken, connects, sends one JSON line — the files to import,
as absolute paths — and waits for ``ok``; the first window comes to the front
and imports them. The lock, not the socket, decides who is first, so two
starts at the same moment cannot both open the window; a crashed window's
lock dies with its process, and its stale socket file is replaced.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from app.core import FileLock
from app.paths import VaultPaths

log = logging.getLogger(__name__)

LOCK_FILE = ".window.lock"
MAX_MESSAGE = 1 << 20  # a megabyte of paths is plenty; anything longer is not ours


def server_name(paths: VaultPaths) -> str:
    """The local socket's name: per user and per vault, short enough for any platform."""
    digest = hashlib.sha256(str(paths.data.resolve()).encode("utf-8")).hexdigest()[:16]
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "")
    return f"mediavault-{user}-{digest}"


class InstanceGuard(QObject):
    """The first window's lock and socket; a later start's way to reach it.

    Signals:
        files_received(list): absolute paths another start asked to import
            (possibly empty: it only wants the window in front).
    """

    files_received = Signal(list)

    def __init__(self, paths: VaultPaths, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = server_name(paths)
        paths.data.mkdir(parents=True, exist_ok=True)
        self._lock: FileLock | None = FileLock(paths.data / LOCK_FILE)
        self._server: QLocalServer | None = None

    def acquire(self) -> bool:
        """True when this is the vault's first window (and now listens for the others)."""
        assert self._lock is not None
        first = self._lock.try_exclusive()
        if first is False:
            self._lock.close()
            self._lock = None
            return False
        if first is None and self._answering():
            return False  # no advisory locks here: a window that answers is first
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        QLocalServer.removeServer(self.name)  # a crashed window's socket file
        if not server.listen(self.name):
            log.warning("cannot listen on %s: %s", self.name, server.errorString())
        server.newConnection.connect(self._on_connection)
        self._server = server
        return True

    def _answering(self) -> bool:
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        answering = socket.waitForConnected(500)
        socket.abort()
        return answering

    def forward(self, files: list[str], timeout: float = 10.0) -> bool:
        """Send ``files`` to the first window; True once it confirmed.

        Retries while the first window is still starting (it holds the lock a
        moment before it listens).
        """
        message = json.dumps({"files": [os.path.abspath(f) for f in files]}) + "\n"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            socket = QLocalSocket()
            socket.connectToServer(self.name)
            if socket.waitForConnected(1000):
                socket.write(message.encode("utf-8"))
                socket.flush()
                answer = b""
                while socket.waitForReadyRead(int(max(deadline - time.monotonic(), 0.1) * 1000)):
                    answer += bytes(socket.readAll().data())
                    if b"\n" in answer:
                        break
                socket.disconnectFromServer()
                if answer.startswith(b"ok"):
                    return True
            time.sleep(0.2)
        return False

    def _on_connection(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.setParent(self)
            buffer = bytearray()

            def ready(socket: QLocalSocket = socket, buffer: bytearray = buffer) -> None:
                buffer.extend(bytes(socket.readAll().data()))
                if len(buffer) > MAX_MESSAGE:
                    socket.abort()
                    return
                if b"\n" not in buffer:
                    return
                line = bytes(buffer).split(b"\n", 1)[0]
                try:
                    files = json.loads(line.decode("utf-8"))["files"]
                    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
                        raise ValueError("files is not a list of paths")
                except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
                    log.warning("ignored a message from another start: %s", exc)
                    socket.abort()
                    return
                socket.write(b"ok\n")
                socket.flush()
                socket.disconnectFromServer()
                self.files_received.emit([f for f in files if Path(f).is_absolute()])

            socket.readyRead.connect(ready)
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                ready()

    def release(self) -> None:
        """Stop listening and let the next start be first."""
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None
