"""Importing files and folder trees from disk into the vault.

The pipeline, in dependency order (see DESIGN "Blobs"):

1. walk the sources, noting folders and regular files, and reporting what
   cannot be imported (loops, special files, unreadable folders);
2. stage each file on a small thread pool: one pass copies and hashes it into
   the vault's temp directory, then its type is detected from its first bytes
   and its text and facts are extracted (in a sandboxed worker process);
3. commit in batches: under the catalog's write lock, publish the staged blobs
   durably (one filesystem flush per batch, not per file), then insert the
   folder, blob, file, version and search rows, and commit.

A crash anywhere leaves either nothing of a file or all of it. Re-running an
import skips files already present with the same name and content.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import stat
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import kinds, search_index
from app.catalog.models import Base, File, Folder, Version
from app.core import now
from app.errors import NotFound
from app.extract import Extractor, Facts
from app.naming import name_key, normalize, numbered, problems, sanitize
from app.organize import OrganizeOps
from app.processes import die_with_parent
from app.rows import Changes
from storage.errors import SourceError, StoreError
from storage.local import LocalBlobStore, StagedBlob

BATCH_FILES = 1000
BATCH_BYTES = 256 << 20
BATCH_SECONDS = 1.0
# Core tables for the bulk inserts: ORM bulk inserts cost more than the rows.
_BLOB_TABLE = Base.metadata.tables["blob"]
_FILE_TABLE = Base.metadata.tables["file"]
_VERSION_TABLE = Base.metadata.tables["version"]
CHUNK_FILES = 32  # files staged by one pool task
CHUNK_BYTES = 8 << 20
# Pool tasks staged ahead of the committer, which bounds temp space. Processes stage
# on through a commit in parallel; threads compete with it for the GIL, and more of
# them ahead measured slower.
IN_FLIGHT_PROCESSES = 32
IN_FLIGHT_THREADS = 8
PROCESS_MIN_FILES = 1000  # staging processes pay off from about this many files...
PROCESS_MAX_AVERAGE = 1 << 20  # ...when they are small on average (bytes)


class Conflict(Enum):
    """What to do when an imported file's name is taken by a different file."""

    KEEP_BOTH = "keep-both"  # add it as "name (2).ext"
    SKIP = "skip"  # leave the existing file alone
    VERSION = "version"  # add it as a new version of the existing file


@dataclass(frozen=True)
class Problem:
    """A source that was not imported, and why."""

    source: str
    reason: str


@dataclass(frozen=True)
class Renamed:
    """A file or folder stored under another name than it had outside, and why."""

    source: str
    path: str
    reason: str


@dataclass
class ImportReport:
    """What an import did.

    Attributes:
        imported: files added (renamed ones included).
        new_versions: vault paths of files that got a new version.
        renamed: items stored under another name.
        skipped: files left out on purpose (identical copy present, or --skip).
        failed: sources that could not be imported, each with its reason.
        folders_created: folders added.
        bytes: bytes read from the sources for added content.
        file_ids: ids of files added or given a new version.
        cancelled: the import was stopped before the end.
    """

    imported: int = 0
    new_versions: list[str] = field(default_factory=list)
    renamed: list[Renamed] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    failed: list[Problem] = field(default_factory=list)
    folders_created: int = 0
    bytes: int = 0
    file_ids: list[int] = field(default_factory=list)
    cancelled: bool = False
    changes: Changes = field(default_factory=Changes)

    @property
    def ok(self) -> bool:
        """Nothing failed and nothing was cancelled."""
        return not self.failed and not self.cancelled


@dataclass(frozen=True)
class ImportProgress:
    """Progress of an import, for a progress bar."""

    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    current: str


@dataclass(frozen=True)
class _Entry:
    """A source found by the walk: a folder (``size`` -1) or a regular file."""

    source: str
    parts: tuple[str, ...]  # outside names of the folders between the target and it
    name: str
    size: int
    mtime: float

    @property
    def is_dir(self) -> bool:
        return self.size < 0


@dataclass
class _Staged:
    entry: _Entry
    blob: StagedBlob
    kind: str
    mime: str
    facts: Facts


@dataclass
class _Child:
    kind: str  # "folder" or "file"
    id: int
    name: str
    blob_hash: str | None = None


def _bulk_insert(
    session: Session, table: Table, rows: list[dict[str, Any]], or_ignore: bool = False
) -> None:
    """INSERT many rows with one driver ``executemany``.

    SQLAlchemy's own executemany builds parameters per row at a cost that exceeds
    the insert's; each value still goes through its column type's bind processor,
    so what is stored is exactly what the ORM would store.
    """
    if not rows:
        return
    columns = list(rows[0])
    dialect = session.get_bind().dialect
    converted = [
        (i, proc)
        for i, c in enumerate(columns)
        if (proc := table.c[c].type.bind_processor(dialect)) is not None
    ]
    params = []
    for row in rows:
        values = [row[c] for c in columns]
        for i, proc in converted:
            if values[i] is not None:
                values[i] = proc(values[i])
        params.append(tuple(values))
    verb = "INSERT OR IGNORE" if or_ignore else "INSERT"
    sql = (
        f"{verb} INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    session.connection().exec_driver_sql(sql, params)


def _stage_one(store: LocalBlobStore, extractor: Extractor, entry: _Entry) -> _Staged | Problem:
    """Copy, hash, detect and extract one file. Touches no catalog (runs off the main thread)."""
    try:
        blob = store.stage(entry.source)
    except SourceError as exc:
        return Problem(entry.source, str(exc))
    except StoreError as exc:
        return Problem(entry.source, f"not imported: {exc}")
    kind, mime = kinds.detect(entry.name, blob.head)
    return _Staged(entry, blob, kind, mime, extractor.extract(blob.temp, kind, mime))


_stager: tuple[LocalBlobStore, Extractor] | None = None  # set in a staging process


def _init_stager(blob_root: str, parent: int) -> None:
    """Runs once in each staging process."""
    global _stager
    die_with_parent(parent)
    _stager = (LocalBlobStore(Path(blob_root)), Extractor(workers=1))


def _stage_in_process(chunk: list[_Entry]) -> list[_Staged | Problem]:
    assert _stager is not None, "not a staging process"
    store, extractor = _stager
    return [_stage_one(store, extractor, entry) for entry in chunk]


def _mtime(timestamp: float) -> datetime:
    try:
        return datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return now()


def _walk(sources: list[Path], report: ImportReport) -> list[_Entry]:
    """Every folder and regular file under ``sources``, parents before children.

    Symbolic links are followed (their targets are imported); a link back to a
    folder above it is reported as a loop. Paths stay strings: pathlib costs more
    than the stat itself per file.
    """
    entries: list[_Entry] = []

    def visit(path: str, parts: tuple[str, ...], seen: frozenset[tuple[int, int]]) -> None:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            what = "a symbolic link that points to nothing" if os.path.islink(path) else "missing"
            report.failed.append(Problem(path, f"it is {what}"))
            return
        except PermissionError:
            report.failed.append(Problem(path, "permission denied"))
            return
        except OSError as exc:
            report.failed.append(Problem(path, f"it cannot be read: {exc.strerror or exc}"))
            return
        name = os.path.basename(path) or path
        if stat.S_ISREG(st.st_mode):
            entries.append(_Entry(path, parts, name, st.st_size, st.st_mtime))
            return
        if not stat.S_ISDIR(st.st_mode):
            report.failed.append(
                Problem(path, "it is not a regular file (a device, pipe or socket)")
            )
            return
        key = (st.st_dev, st.st_ino)
        if key in seen:
            report.failed.append(
                Problem(path, "it is a symbolic link loop (it leads back to a folder above it)")
            )
            return
        entries.append(_Entry(path, parts, name, -1, st.st_mtime))
        try:
            with os.scandir(path) as listing:
                children = sorted(child.path for child in listing)
        except PermissionError:
            report.failed.append(Problem(path, "permission denied: its contents were not read"))
            return
        except OSError as exc:
            report.failed.append(
                Problem(path, f"its contents cannot be read: {exc.strerror or exc}")
            )
            return
        inside = (*parts, name)
        below = seen | {key}
        for child in children:
            visit(child, inside, below)

    for source in sources:
        visit(os.path.abspath(os.path.expanduser(source)), (), frozenset())
    return entries


class ImportOps(OrganizeOps):
    """Mixin: importing from disk."""

    def import_paths(
        self,
        sources: list[Path] | list[str],
        folder_id: int | None = None,
        conflict: Conflict = Conflict.KEEP_BOTH,
        progress: Callable[[ImportProgress], None] | None = None,
        cancel: threading.Event | None = None,
        workers: int = 2,
    ) -> ImportReport:
        """Import files and folder trees into ``folder_id`` (the root by default).

        Folders keep their structure and merge into existing folders of the same
        name. Never raises for a bad source: each problem is in the report. Raises
        :class:`NotFound` if the target folder is gone. Thread: any but the GUI's.

        Imports of many small files stage them in worker processes started with
        "spawn": a script calling this must guard its top level with
        ``if __name__ == "__main__":``, as multiprocessing requires.
        """
        target = self.root_id if folder_id is None else folder_id
        with self.reading() as session:
            self._folder(session, target)
        report = ImportReport()
        entries = _walk([Path(s) for s in sources], report)
        job = _ImportJob(self, target, conflict, report, entries, progress, cancel)
        with Extractor(workers=max(1, workers - 1)) as extractor:
            job.run(extractor, workers)
        self._retain_new_versions(report)
        return report

    def add_version(
        self,
        file_id: int,
        source: Path | str,
        progress: Callable[[ImportProgress], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> ImportReport:
        """Import the file at ``source`` as the new current version of file ``file_id``,
        whatever its outside name (a file dropped onto another, "Upload new version…").

        Never raises for a bad source (it is in the report). Raises :class:`NotFound`
        if the file is gone or in the Trash. Thread: any but the GUI's.
        """
        with self.reading() as session:
            file = self._file(session, file_id)
            folder_id, name = file.folder_id, file.name
        report = ImportReport()
        entries = _walk([Path(source)], report)
        if any(e.is_dir for e in entries):
            report.failed.append(Problem(str(source), "a folder cannot be a version of a file"))
            return report
        # Under the file's own name, so the import's VERSION rule finds it.
        entries = [replace(e, name=name) for e in entries]
        job = _ImportJob(self, folder_id, Conflict.VERSION, report, entries, progress, cancel)
        with Extractor(workers=1) as extractor:
            job.run(extractor, 1)
        self._retain_new_versions(report)
        return report

    # -- version retention (app/versions.py) ------------------------------------

    def _retain_new_versions(self, report: ImportReport) -> None:
        """Apply the vault's version retention to the files that just got a new version,
        as Nextcloud's versions app does. Never raises for a known problem."""
        from app.versions import VersionOps

        if not report.new_versions or not isinstance(self, VersionOps):
            return
        file_ids = []
        for path in report.new_versions:
            try:
                file_ids.append(self.resolve(path)[1])
            except NotFound:
                continue  # moved or deleted meanwhile: the next prune sees it
        self.apply_retention(file_ids)


class _ImportJob:
    """One run of :meth:`ImportOps.import_paths`; holds its caches and counters."""

    def __init__(
        self,
        vault: ImportOps,
        target: int,
        conflict: Conflict,
        report: ImportReport,
        entries: list[_Entry],
        progress: Callable[[ImportProgress], None] | None,
        cancel: threading.Event | None,
    ) -> None:
        self.vault = vault
        self.target = target
        self.conflict = conflict
        self.report = report
        self.entries = entries
        self.progress = progress
        self.cancel = cancel or threading.Event()
        self.files_total = sum(1 for e in entries if not e.is_dir)
        self.bytes_total = sum(e.size for e in entries if not e.is_dir)
        self.files_done = 0
        self.bytes_done = 0
        self.last_progress = 0.0
        self.device = socket.gethostname()
        # Folder ids by outside path parts, and the names in each folder we touched.
        self.folders: dict[tuple[str, ...], int] = {(): target}
        self.children: dict[int, dict[str, _Child]] = {}
        self.touched_folders: set[int] = set()
        self.tree_changed = False

    # -- staging (worker threads) -------------------------------------------

    def _stage(self, entry: _Entry, extractor: Extractor) -> _Staged | Problem:
        """Stage one file on a pool thread, unless the import was cancelled meanwhile."""
        if self.cancel.is_set():
            return Problem(entry.source, "cancelled")
        return _stage_one(self.vault.blobs, extractor, entry)

    def _stage_chunk(self, chunk: list[_Entry], extractor: Extractor) -> list[_Staged | Problem]:
        return [self._stage(entry, extractor) for entry in chunk]

    @staticmethod
    def _results(
        future: Future[list[_Staged | Problem]], chunk: list[_Entry]
    ) -> list[_Staged | Problem]:
        try:
            return future.result()
        except BrokenProcessPool:
            # A staging process died (killed, out of memory): its files are reported,
            # and whatever it had staged is temp files the next open removes.
            return [Problem(e.source, "the import worker stopped unexpectedly") for e in chunk]

    def _units(self) -> Iterator[_Entry | list[_Entry]]:
        """Folders one by one, files in chunks: one pool task per small file costs more
        in hand-offs than staging it."""
        chunk: list[_Entry] = []
        chunk_bytes = 0
        for entry in self.entries:
            if entry.is_dir:
                if chunk:
                    yield chunk
                    chunk, chunk_bytes = [], 0
                yield entry
                continue
            chunk.append(entry)
            chunk_bytes += entry.size
            if len(chunk) >= CHUNK_FILES or chunk_bytes >= CHUNK_BYTES:
                yield chunk
                chunk, chunk_bytes = [], 0
        if chunk:
            yield chunk

    def _pool(self, extractor: Extractor, workers: int) -> tuple[Executor, Callable[..., Any], int]:
        """Where to stage, how, and how many tasks ahead: processes for many small
        files, threads otherwise.

        Many small files are bound by Python's per-file work, which threads share
        under one GIL; big files are bound by the disk and hashing, which release
        it, so threads serve them without the start-up cost of processes.
        """
        small = self.bytes_total <= self.files_total * PROCESS_MAX_AVERAGE
        if self.files_total >= PROCESS_MIN_FILES and small:
            pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_stager,
                initargs=(str(self.vault.blobs.root), os.getpid()),
            )
            return pool, _stage_in_process, IN_FLIGHT_PROCESSES
        threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="import")
        return threads, partial(self._stage_chunk, extractor=extractor), IN_FLIGHT_THREADS

    def run(self, extractor: Extractor, workers: int) -> None:
        batch: list[_Entry | _Staged] = []
        batch_bytes = 0
        started = time.monotonic()
        pending: deque[tuple[Future[list[_Staged | Problem]], list[_Entry]] | _Entry] = deque()
        units = self._units()
        pool, stage, in_flight = self._pool(extractor, workers)
        with pool:
            try:
                while True:
                    while len(pending) < in_flight and (unit := next(units, None)) is not None:
                        pending.append(
                            unit if isinstance(unit, _Entry) else (pool.submit(stage, unit), unit)
                        )
                    if not pending:
                        break
                    head = pending.popleft()
                    results = [head] if isinstance(head, _Entry) else self._results(*head)
                    for result in results:
                        if isinstance(result, Problem):
                            if result.reason != "cancelled":
                                self.report.failed.append(result)
                            self._advance(0, result.source)
                            continue
                        batch.append(result)
                        if isinstance(result, _Staged):
                            batch_bytes += result.blob.size
                    if (
                        len(batch) >= BATCH_FILES
                        or batch_bytes >= BATCH_BYTES
                        or time.monotonic() - started >= BATCH_SECONDS
                    ):
                        self._commit(batch)
                        batch, batch_bytes, started = [], 0, time.monotonic()
                    if self.cancel.is_set():
                        break
                if batch and not self.cancel.is_set():
                    self._commit(batch)
                    batch = []
            finally:
                self.report.cancelled = self.cancel.is_set()
                self.cancel.set()  # queued stagings on threads return at once
                for item in pending:
                    if not isinstance(item, _Entry):
                        item[0].cancel()  # not started yet: never will
                leftovers = [r.blob for r in batch if isinstance(r, _Staged)]
                for item in pending:
                    if not isinstance(item, _Entry) and not item[0].cancelled():
                        leftovers += [
                            r.blob for r in self._results(*item) if isinstance(r, _Staged)
                        ]
                self.vault.blobs.discard(leftovers)
        self.report.changes = Changes(
            folders=frozenset(self.touched_folders),
            files=frozenset(self.report.file_ids),
            tree=self.tree_changed,
            created=tuple(self.report.file_ids),
        )

    def _advance(self, size: int, current: str, force: bool = False) -> None:
        self.files_done += 1
        self.bytes_done += size
        if self.progress is None:
            return
        clock = time.monotonic()
        if force or clock - self.last_progress >= 0.1 or self.files_done == self.files_total:
            self.last_progress = clock
            self.progress(
                ImportProgress(
                    self.files_done, self.files_total, self.bytes_done, self.bytes_total, current
                )
            )

    # -- committing (this thread) ---------------------------------------------

    def _commit(self, batch: list[_Entry | _Staged]) -> None:
        saved = self._save_report()
        try:
            with self.vault.writing() as session:
                done = self._commit_in(session, batch)
            for size, source in done:
                self._advance(size, source)
        except StoreError as exc:
            self._restore_report(saved)
            # The blobs could not be made durable: nothing of this batch is in the catalog.
            self.children.clear()
            for item in batch:
                if isinstance(item, _Staged):
                    self.report.failed.append(Problem(item.entry.source, f"not imported: {exc}"))
            self._forget_batch(batch)
        except IntegrityError:
            # Another writer took a name meanwhile: redo this batch one item at a time
            # against fresh names.
            self._restore_report(saved)
            self._forget_batch(batch)
            for item in batch:
                with self.vault.writing() as session:
                    done = self._commit_in(session, [item])
                for size, source in done:
                    self._advance(size, source)

    def _forget_batch(self, batch: list[_Entry | _Staged]) -> None:
        self.children.clear()
        self.folders = {(): self.target}

    def _save_report(self) -> tuple[int, ...]:
        r = self.report
        return (
            r.imported,
            len(r.new_versions),
            len(r.renamed),
            len(r.skipped),
            len(r.failed),
            r.folders_created,
            r.bytes,
            len(r.file_ids),
        )

    def _restore_report(self, saved: tuple[int, ...]) -> None:
        r = self.report
        r.imported, nv, rn, sk, fa, r.folders_created, r.bytes, fi = saved
        del r.new_versions[nv:], r.renamed[rn:], r.skipped[sk:], r.failed[fa:], r.file_ids[fi:]

    def _commit_in(self, session: Session, batch: list[_Entry | _Staged]) -> list[tuple[int, str]]:
        """Publish and insert one batch; returns (bytes, source) of each file handled."""
        used: list[StagedBlob] = []
        unused: list[StagedBlob] = []
        stamp = now()
        next_file = (session.scalar(select(func.max(File.id))) or 0) + 1
        next_version = (session.scalar(select(func.max(Version.id))) or 0) + 1
        blobs: dict[str, dict[str, object]] = {}
        files: list[dict[str, object]] = []
        versions: list[dict[str, object]] = []
        index: list[dict[str, object]] = []
        done: list[tuple[int, str]] = []
        for item in batch:
            if isinstance(item, _Entry):
                self._folder_for(session, (*item.parts, item.name), item)
                continue
            entry = item.entry
            folder_id = self._folder_for(session, entry.parts)
            names = self._names(session, folder_id)
            name, reason = self._outside_name(entry.name)
            clash = names.get(name_key(name))
            existing_file: _Child | None = None
            if clash is not None and clash.kind == "file":
                if clash.blob_hash == item.blob.blob_hash:
                    self.report.skipped.append(
                        Problem(entry.source, "an identical file is already there")
                    )
                    done.append((0, entry.source))
                    unused.append(item.blob)
                    continue
                if self.conflict is Conflict.SKIP:
                    self.report.skipped.append(
                        Problem(entry.source, f'"{clash.name}" already exists there')
                    )
                    done.append((0, entry.source))
                    unused.append(item.blob)
                    continue
                if self.conflict is Conflict.VERSION:
                    existing_file = clash
            if clash is not None and existing_file is None:
                name = self._free(names, name)
                reason = reason or f'"{clash.name}" already exists there (kept both)'
            used.append(item.blob)
            blobs.setdefault(
                item.blob.blob_hash,
                {
                    "hash": item.blob.blob_hash,
                    "size": item.blob.size,
                    "local_state": "present",
                    "remote_state": "pending",
                    "attempts": 0,
                    "created_at": stamp,
                },
            )
            facts = item.facts
            version = {
                "id": next_version,
                "number": 1,
                "blob_hash": item.blob.blob_hash,
                "size": item.blob.size,
                "created_at": stamp,
                "note": "",
                "device": self.device,
                "width": facts.width,
                "height": facts.height,
                "duration": facts.duration,
                "pages": facts.pages,
                "taken_at": facts.taken_at,
                "camera": facts.camera,
                "codecs": facts.codecs,
                "index_note": facts.note,
            }
            if existing_file is not None:
                # The version refers to its blob row, so that row must exist first.
                _bulk_insert(session, _BLOB_TABLE, [blobs[item.blob.blob_hash]], or_ignore=True)
                self._add_version(session, existing_file, item, version, stamp)
                existing_file.blob_hash = item.blob.blob_hash
                self.report.new_versions.append(
                    self._vault_path(session, folder_id, existing_file.name)
                )
                self.report.file_ids.append(existing_file.id)
            else:
                files.append(
                    {
                        "id": next_file,
                        "folder_id": folder_id,
                        "name": name,
                        "name_key": name_key(name),
                        "description": "",
                        "mime": item.mime,
                        "kind": item.kind,
                        "is_favorite": False,
                        "current_version_id": next_version,
                        "size": item.blob.size,
                        "created_at": stamp,
                        "modified_at": _mtime(entry.mtime),
                    }
                )
                version["file_id"] = next_file
                versions.append(version)
                index.append({"id": next_file, "name": name, "content": facts.text})
                names[name_key(name)] = _Child("file", next_file, name, item.blob.blob_hash)
                if reason:
                    self.report.renamed.append(
                        Renamed(entry.source, self._vault_path(session, folder_id, name), reason)
                    )
                self.report.imported += 1
                self.report.file_ids.append(next_file)
                next_file += 1
            self.report.bytes += item.blob.size
            self.touched_folders.add(folder_id)
            next_version += 1
            done.append((item.blob.size, entry.source))
        # Publish only what this transaction refers to, before it commits: the content
        # of a skipped file must not stay behind as a blob nothing refers to.
        try:
            self.vault.blobs.publish(used)
        except StoreError:
            self.vault.blobs.discard(unused)
            raise
        if blobs:
            # A blob row may exist already (same content elsewhere): keep it as it is.
            _bulk_insert(session, _BLOB_TABLE, list(blobs.values()), or_ignore=True)
        if files:
            _bulk_insert(session, _FILE_TABLE, files)
            _bulk_insert(session, _VERSION_TABLE, versions)
            search_index.add_many(session, index)
        if self.touched_folders:
            session.execute(
                update(Folder).where(Folder.id.in_(self.touched_folders)).values(modified_at=stamp)
            )
        session.flush()
        self.vault.blobs.discard(unused)  # not before: a retried batch may need them
        return done

    def _add_version(
        self,
        session: Session,
        existing: _Child,
        item: _Staged,
        version: dict[str, object],
        stamp: datetime,
    ) -> None:
        number = (
            session.scalar(select(func.max(Version.number)).where(Version.file_id == existing.id))
            or 0
        )
        version.update(file_id=existing.id, number=number + 1, note="Imported as a new version")
        _bulk_insert(session, _VERSION_TABLE, [version])
        session.execute(
            update(File)
            .where(File.id == existing.id)
            .values(
                current_version_id=version["id"],
                size=item.blob.size,
                mime=item.mime,
                kind=item.kind,
                modified_at=_mtime(item.entry.mtime),
            )
        )
        search_index.set_content(session, existing.id, item.facts.text)

    def _outside_name(self, name: str) -> tuple[str, str]:
        """A valid name for an outside one, and why it had to change ("" if it did not).

        Names are stored in NFC like every name in the vault; macOS hands out NFD,
        which is the same text and needs no report.
        """
        name = normalize(name)
        found = problems(name)
        if not found:
            return name, ""
        return sanitize(name), f"{found[0]} It was renamed."

    @staticmethod
    def _free(names: dict[str, _Child], name: str) -> str:
        n = 1
        candidate = name
        while name_key(candidate) in names:
            n += 1
            candidate = numbered(name, n)
        return candidate

    def _names(self, session: Session, folder_id: int) -> dict[str, _Child]:
        names = self.children.get(folder_id)
        if names is None:
            names = {}
            for row in session.execute(
                text(
                    "SELECT 'folder', id, name, NULL FROM folder"
                    " WHERE parent_id = :f AND trash_id IS NULL"
                    " UNION ALL SELECT 'file', file.id, file.name, version.blob_hash FROM file"
                    " JOIN version ON version.id = file.current_version_id"
                    " WHERE file.folder_id = :f AND file.trash_id IS NULL"
                ),
                {"f": folder_id},
            ):
                names[name_key(row[2])] = _Child(row[0], row[1], row[2], row[3])
            self.children[folder_id] = names
        return names

    def _folder_for(
        self, session: Session, parts: tuple[str, ...], entry: _Entry | None = None
    ) -> int:
        """The folder for outside path ``parts`` below the target, created if needed."""
        known = self.folders.get(parts)
        if known is not None:
            return known
        parent = self._folder_for(session, parts[:-1])
        names = self._names(session, parent)
        name, reason = self._outside_name(parts[-1])
        clash = names.get(name_key(name))
        if clash is not None and clash.kind == "folder":
            self.folders[parts] = clash.id  # merge into the existing folder
            return clash.id
        if clash is not None:
            name = self._free(names, name)
            reason = reason or f'a file named "{clash.name}" already exists there'
        folder_id = self.vault._create_folder(session, parent, name)
        names[name_key(name)] = _Child("folder", folder_id, name)
        self.folders[parts] = folder_id
        self.touched_folders.add(parent)
        self.tree_changed = True
        self.report.folders_created += 1
        if reason:
            source = entry.source if entry else "/".join(parts)
            self.report.renamed.append(
                Renamed(source, self._vault_path(session, folder_id, None), reason)
            )
        return folder_id

    def _vault_path(self, session: Session, folder_id: int, name: str | None) -> str:
        base = self.vault._folder_path(session, folder_id)
        return base if name is None else base.rstrip("/") + "/" + name


__all__ = ["Conflict", "ImportOps", "ImportProgress", "ImportReport", "NotFound"]
