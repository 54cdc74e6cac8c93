"""Blobs as files on this computer: ``<root>/ab/<sha256>``.

Writing is split in two so that import can batch durability:

1. :meth:`LocalBlobStore.stage` copies an outside file into a temp file under
   ``<root>/.tmp/`` while hashing it, in one pass.
2. :meth:`LocalBlobStore.publish` makes a batch of staged files durable
   (data flushed), renames each into place and flushes the directories.

Only after ``publish`` returns may the catalog refer to those hashes. A crash
before that leaves temp files, which :meth:`clean_temp` removes on the next
open; a crash after leaves blobs no row refers to yet, which the next import of
the same content simply reuses (rename over them is harmless: same bytes).
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from storage.blobstore import HASH_RE, Features, blob_key
from storage.durable import flush
from storage.errors import BlobNotFound, SourceError, StoreError, StoreFull

CHUNK = 1 << 20
HEAD = 8192  # bytes kept from the start of each file, for type detection
_SMALL = 1 << 18  # files up to this size are read in one call
_copy_file_range = getattr(os, "copy_file_range", None)  # Linux (Python 3.8+)


@dataclass
class StagedBlob:
    """A copied and hashed file waiting in the temp directory to be published.

    Attributes:
        temp: the temp file's path.
        blob_hash: SHA-256 of the bytes, lower-case hex.
        size: number of bytes.
        head: the first bytes (at most 8 KiB), for type detection.
    """

    temp: Path
    blob_hash: str
    size: int
    head: bytes


def _store_error(exc: OSError, what: str) -> StoreError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StoreFull("the disk holding the vault is full")
    return StoreError(f"could not {what}: {exc.strerror or exc}")


def _source_error(exc: OSError) -> SourceError:
    if isinstance(exc, FileNotFoundError):
        return SourceError("it vanished before it could be read")
    if isinstance(exc, PermissionError):
        return SourceError("permission denied")
    if exc.errno == errno.ELOOP:
        return SourceError("it is a symbolic link that points to itself")
    return SourceError(f"it could not be read: {exc.strerror or exc}")


class LocalBlobStore:
    """Content-addressed files under one directory. Thread-safe: every write has its own temp.

    Attributes:
        root: the directory holding ``ab/<hash>`` files.
        features: local paths, ranged reads.
    """

    features = Features(local_path=True, ranged_reads=True)

    def __init__(self, root: Path) -> None:
        self.root = root
        self.temp_dir = root / ".tmp"
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        self._made_dirs: set[str] = set()  # ab/ directories known to exist

    def path(self, blob_hash: str) -> Path:
        """Where the blob lives (whether or not it is there)."""
        return self.root / blob_key(blob_hash)

    def has(self, blob_hash: str) -> bool:
        """True if the blob file is present."""
        return self.path(blob_hash).is_file()

    def stage(
        self,
        source: Path | str,
        progress: Callable[[int], None] | None = None,
    ) -> StagedBlob:
        """Copy ``source`` into a temp file, hashing it in the same pass.

        Raises :class:`SourceError` when the source is not a regular file, cannot be
        read, vanishes or changes while being read, and :class:`StoreError` (or
        :class:`StoreFull`) when the vault's disk fails. No temp file is left
        behind on failure. ``progress`` gets the bytes copied since its last call.
        """
        try:
            before = os.stat(source)
        except OSError as exc:
            raise _source_error(exc) from exc
        if not stat.S_ISREG(before.st_mode):
            raise SourceError("it is not a regular file (a device, pipe or socket)")
        try:
            # O_NONBLOCK: if a pipe replaced the file since stat(), open must not hang.
            fd = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except OSError as exc:
            raise _source_error(exc) from exc
        temp = self.temp_dir / f"{os.urandom(12).hex()}.part"
        try:
            with open(fd, "rb", buffering=0) as src:
                opened = os.fstat(src.fileno())
                if not stat.S_ISREG(opened.st_mode) or opened.st_ino != before.st_ino:
                    raise SourceError("it was replaced while being read")
                digest, size, head = self._copy(src, temp, opened.st_size, progress)
                after = os.fstat(src.fileno())
            if size != after.st_size or after.st_mtime_ns != opened.st_mtime_ns:
                raise SourceError("it changed while being read; try again once it is complete")
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return StagedBlob(temp=temp, blob_hash=digest, size=size, head=head)

    def _copy(
        self,
        src: io.FileIO,
        temp: Path,
        expected: int,
        progress: Callable[[int], None] | None,
    ) -> tuple[str, int, bytes]:
        hasher = hashlib.sha256()
        try:
            out = open(temp, "x+b", buffering=0)  # noqa: SIM115 - entered below; errors differ
        except OSError as exc:
            raise _store_error(exc, "create a file in the vault") from exc
        with out:
            if expected <= _SMALL:
                try:
                    data = src.read(expected + 1)
                    if len(data) > expected:  # it grew since fstat: take all, stage() objects
                        data += src.read()
                except OSError as exc:
                    raise _source_error(exc) from exc
                hasher.update(data)
                self._write(out, data)
                if progress:
                    progress(len(data))
                return hasher.hexdigest(), len(data), bytes(data[:HEAD])
            buffer = bytearray(CHUNK)
            view = memoryview(buffer)
            size = 0
            head = b""
            # Fast path: the kernel copies (copy_file_range, as cp does: no trip through
            # user space), and each chunk is hashed by reading it back from the temp
            # file while it is still in the page cache — so the hash is always that of
            # the bytes stored. Any error or an early 0 falls back to the loop below
            # from where it stopped, which reports source and vault errors precisely.
            if _copy_file_range is not None:
                src_fd, out_fd = src.fileno(), out.fileno()
                while True:
                    try:
                        n = _copy_file_range(src_fd, out_fd, CHUNK, size, size)
                    except OSError:
                        break
                    if not n:
                        break  # end of file, or a filesystem that copies nothing: check below
                    try:
                        got = os.preadv(out_fd, [view[:n]], size)
                    except OSError as exc:
                        raise _store_error(exc, "read back from the vault") from exc
                    if got != n:
                        raise StoreError("could not read back what was written to the vault")
                    chunk = view[:n]
                    hasher.update(chunk)
                    if not head:
                        head = bytes(chunk[:HEAD])
                    size += n
                    if progress:
                        progress(n)
                src.seek(size)
                out.seek(size)
            while True:
                try:
                    n = src.readinto(buffer)
                except OSError as exc:
                    raise _source_error(exc) from exc
                if not n:
                    break
                chunk = view[:n]
                hasher.update(chunk)
                self._write(out, chunk)
                if not head:
                    head = bytes(chunk[:HEAD])
                size += n
                if progress:
                    progress(n)
            return hasher.hexdigest(), size, head

    @staticmethod
    def _write(out: BinaryIO, data: bytes | memoryview) -> None:
        try:
            view = memoryview(data)
            while view:
                written = out.write(view)
                view = view[written:]
        except OSError as exc:
            raise _store_error(exc, "write to the vault") from exc

    def publish(self, staged: list[StagedBlob]) -> None:
        """Make staged blobs durable and move them into place.

        Idempotent per hash: a blob already present stays, and its temp copy is
        removed. When this returns, every hash in ``staged`` is durably stored.
        """
        if not staged:
            return
        try:
            # Plain string paths: pathlib costs more than the syscalls for small blobs.
            root = str(self.root)
            fresh: dict[str, StagedBlob] = {}  # hash -> the staged copy that is published
            for s in staged:
                if s.blob_hash in fresh:
                    continue
                # Renaming over an existing blob is harmless (same bytes); the check only
                # pays for big blobs, whose flush it saves.
                if s.size >= _SMALL and os.path.exists(
                    os.path.join(root, s.blob_hash[:2], s.blob_hash)
                ):
                    continue
                fresh[s.blob_hash] = s
            flush((s.temp for s in fresh.values()), (), self.root)
            dirs: set[str] = set()
            for s in staged:
                if fresh.get(s.blob_hash) is not s:
                    s.temp.unlink(missing_ok=True)
                    continue
                directory = os.path.join(root, s.blob_hash[:2])
                if directory not in self._made_dirs:
                    os.makedirs(directory, exist_ok=True)
                    self._made_dirs.add(directory)
                os.replace(s.temp, os.path.join(directory, s.blob_hash))
                dirs.add(directory)
            flush((), [*map(Path, dirs), self.root], self.root)
        except OSError as exc:
            self.discard(staged)
            raise _store_error(exc, "store content in the vault") from exc

    def discard(self, staged: list[StagedBlob]) -> None:
        """Remove staged temp files (e.g. after a failed or cancelled batch)."""
        for s in staged:
            s.temp.unlink(missing_ok=True)

    def open(self, blob_hash: str, offset: int = 0, length: int | None = None) -> BinaryIO:
        """A binary reader positioned at ``offset``. ``length`` is advisory for files."""
        try:
            handle = open(self.path(blob_hash), "rb")  # noqa: SIM115 - returned to the caller
        except FileNotFoundError as exc:
            raise BlobNotFound(blob_hash) from exc
        except OSError as exc:
            raise _store_error(exc, "read from the vault") from exc
        if offset:
            handle.seek(offset)
        return handle

    def stat(self, blob_hash: str) -> int:
        """The blob's size; raises :class:`BlobNotFound` when absent."""
        try:
            return self.path(blob_hash).stat().st_size
        except FileNotFoundError as exc:
            raise BlobNotFound(blob_hash) from exc

    def list(self) -> Iterator[str]:
        """Every blob hash present (temp files excluded)."""
        for sub in self.root.iterdir():
            if len(sub.name) == 2 and sub.is_dir():
                for entry in os.scandir(sub):
                    if HASH_RE.match(entry.name):
                        yield entry.name

    def delete(self, blob_hash: str) -> None:
        """Remove the blob file; absent is fine."""
        self.path(blob_hash).unlink(missing_ok=True)

    def hash_of(self, blob_hash: str) -> str:
        """Re-hash the stored file (for verify). Raises :class:`BlobNotFound`."""
        hasher = hashlib.sha256()
        with self.open(blob_hash) as handle:
            while chunk := handle.read(CHUNK):
                hasher.update(chunk)
        return hasher.hexdigest()

    def clean_temp(self) -> int:
        """Remove temp files left by an interrupted write. Returns how many were removed.

        Call only when no other writer is active on this store (on vault open).
        """
        removed = 0
        for entry in self.temp_dir.iterdir():
            entry.unlink(missing_ok=True)
            removed += 1
        return removed
