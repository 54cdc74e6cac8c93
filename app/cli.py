"""The ``mediavault`` command line: every vault operation, headless.

``mediavault`` with no command opens the window (Qt is imported only then);
``mediavault <command>`` works on the vault from a terminal or a script.
``--json`` (before or after the command) prints machine-readable output on
stdout, with datetimes in ISO 8601 (naive values are UTC, as in the catalog).

Exit statuses: 0 success, 1 a known failure (:class:`VaultError`, a failed
import item, a verify problem) or an internal error, 2 a usage error, 130
interrupted (Ctrl-C). Known failures print ``mediavault: error: ...`` and a
hint; anything else is a bug, whose traceback goes to
``<vault data>/logs/mediavault.log`` and never to the terminal.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import logging
import os
import posixpath
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn

from app import __version__
from app.errors import NameTaken, NotFound, Refused, VaultError
from app.importer import Conflict, ImportProgress, ImportReport
from app.kinds import KINDS
from app.logs import setup_logging
from app.naming import name_key, validate
from app.paths import vault_paths
from app.progress import ProgressBar, human_size
from app.rows import FileRow, FolderRow
from app.search import SearchFilters
from app.vault import Vault

if TYPE_CHECKING:  # boto3 and keyring load only for `remote` commands
    from app.remote import RemoteConfig
    from storage.s3_client import Credentials

PROG = "mediavault"
PAGE = 500  # files per list_folder call
LS_LIMIT = 1000  # files ``ls`` shows without --all
EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_MULTIPLIERS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


class UsageError(Exception):
    """The command line is well-formed for argparse but makes no sense (exit 2)."""


# -- argument types ------------------------------------------------------------


def parse_size(text: str) -> int:
    """``"10M"`` → 10485760: bytes, or K/M/G/T (binary multiples, optional ``B``/``iB``).

    Raises :class:`argparse.ArgumentTypeError` for anything else.
    """
    match = _SIZE_RE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"invalid size {text!r}: use bytes or a number with K, M, G or T (e.g. 10M, 1.5G)"
        )
    return int(float(match.group(1)) * _MULTIPLIERS[match.group(2).lower()])


def parse_when(text: str) -> datetime:
    """An ISO 8601 date or date-time as the catalog's naive UTC; naive input is taken as UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid date {text!r}: use ISO 8601, e.g. 2023-01-01 or 2023-01-01T12:00"
        ) from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of 0 or more, not {text!r}")
    return value


# -- output helpers --------------------------------------------------------------


def _plain(value: Any) -> Any:
    """``value`` with dataclasses, datetimes, paths, sets and enums made JSON-ready."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def _count(n: int, noun: str) -> str:
    """``_count(1, "file")`` → ``"1 file"``; ``_count(2, "file")`` → ``"2 files"``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def _norm(path: str) -> str:
    """A vault path as shown: ``Photos//2023/`` → ``/Photos/2023``."""
    parts = [p for p in path.replace("\\", "/").split("/") if p]
    return "/" + "/".join(parts)


def _join(folder: str, name: str) -> str:
    return folder.rstrip("/") + "/" + name


class Output:
    """Where a command writes: plain lines for people, or one JSON document.

    Attributes:
        json: print JSON instead of text.
        progress: draw progress bars on stderr.
    """

    def __init__(self, as_json: bool, progress: bool) -> None:
        self.json = as_json
        self.progress = progress

    def line(self, text: str = "") -> None:
        """Print a line of human-readable output (nothing in JSON mode)."""
        if not self.json:
            print(text)

    def data(self, value: Any) -> None:
        """Print ``value`` as JSON (in JSON mode only)."""
        if self.json:
            json.dump(_plain(value), sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")

    def note(self, text: str) -> None:
        """A remark for people on stderr, in both modes."""
        print(text, file=sys.stderr)

    def bar(self, label: str) -> ProgressBar:
        """A progress bar on stderr, drawn only when enabled."""
        return ProgressBar(label, self.progress)


# -- shared vault helpers ------------------------------------------------------


def _listing(
    vault: Vault, folder_id: int, limit: int | None = None
) -> Iterator[FolderRow | FileRow]:
    """Subfolders, then files of a folder, paging with the keyset cursor."""
    after: str | None = None
    shown = 0
    while True:
        page = vault.list_folder(folder_id, limit=PAGE, after=after)
        yield from page.folders
        for row in page.files:
            if limit is not None and shown >= limit:
                return
            shown += 1
            yield row
        if not page.more:
            return
        after = page.after


def _split_dest(dest: str) -> tuple[str, str]:
    """``/a/b/c`` → ``("/a/b", "c")``."""
    path = _norm(dest)
    parent, name = posixpath.split(path)
    if not name:
        raise Refused(f"{_norm(dest)} does not name a new folder or file.")
    return parent, name


def _resolve_dest(vault: Vault, dest: str, sources: int) -> tuple[int, str | None]:
    """Where ``mv``/``cp`` put things: (folder id, new name or None to keep names).

    An existing folder takes the sources in; otherwise, with one source, a
    path whose parent exists names the new item.
    """
    try:
        kind, item_id = vault.resolve(dest)
    except NotFound:
        if sources != 1:
            raise NotFound(
                f"There is no folder {_norm(dest)} to move or copy into.",
                "Create it first with `mediavault mkdir -p`.",
            ) from None
        parent, name = _split_dest(dest)
        return vault.resolve_folder(parent), validate(name)
    if kind == "file":
        raise NameTaken(
            f"{_norm(dest)} already exists.",
            "Move or rename that file first, or pick another name.",
        )
    return item_id, None


def _rename(vault: Vault, kind: str, item_id: int, name: str) -> None:
    if kind == "folder":
        vault.rename_folder(item_id, name)
    else:
        vault.rename_file(item_id, name)


def _move(vault: Vault, kind: str, item_id: int, folder_id: int) -> None:
    if kind == "folder":
        vault.move_folder(item_id, folder_id)
    else:
        vault.move_file(item_id, folder_id)


def _name_of(path: str) -> str:
    return posixpath.basename(_norm(path))


# -- commands ------------------------------------------------------------------


def cmd_import(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Import files and folders from disk."""
    folder_id = vault.makedirs(args.to) if args.mkdir else vault.resolve_folder(args.to)
    target = vault.path_of("folder", folder_id)
    bar = out.bar("Importing")
    cancel = threading.Event()

    def on_progress(p: ImportProgress) -> None:
        bar.update(p.files_done, p.files_total, p.bytes_done, "files", p.current)

    with _CancelOnSigint(cancel):
        try:
            report = vault.import_paths(
                args.sources,
                folder_id,
                Conflict(args.on_conflict),
                progress=on_progress,
                cancel=cancel,
            )
        finally:
            bar.finish()
    if out.json:
        out.data({"folder": target, "ok": report.ok, **_plain(_import_json(report))})
    else:
        _print_import(report, target, out)
    if report.cancelled:
        out.note("Import cancelled; the files listed above are in the vault.")
        return EXIT_INTERRUPTED
    return EXIT_OK if report.ok else EXIT_FAIL


def _import_json(report: ImportReport) -> dict[str, Any]:
    return {
        "imported": report.imported,
        "bytes": report.bytes,
        "folders_created": report.folders_created,
        "new_versions": report.new_versions,
        "renamed": report.renamed,
        "skipped": report.skipped,
        "failed": report.failed,
        "file_ids": report.file_ids,
        "cancelled": report.cancelled,
    }


def _print_import(report: ImportReport, target: str, out: Output) -> None:
    summary = (
        f"Imported {_count(report.imported, 'file')} ({human_size(report.bytes)}) into {target}; "
        f"{len(report.renamed)} renamed, {len(report.skipped)} skipped, "
        f"{len(report.failed)} failed"
    )
    if report.new_versions:
        summary += f", {len(report.new_versions)} new versions"
    out.line(summary)
    if report.new_versions:
        out.line("New versions:")
        for path in report.new_versions:
            out.line(f"  {path}")
    if report.renamed:
        out.line("Renamed:")
        for r in report.renamed:
            out.line(f"  {r.source} → {r.path}: {r.reason}")
    if report.skipped:
        out.line("Skipped:")
        for p in report.skipped:
            out.line(f"  {p.source}: {p.reason}")
    if report.failed:
        out.line("Failed:")
        for p in report.failed:
            out.line(f"  {p.source}: {p.reason}")


class _CancelOnSigint:
    """While active, the first Ctrl-C sets ``cancel`` (a clean stop); a second one interrupts.

    A clean stop lets the import commit what it staged and discard the rest,
    rather than unwinding from the middle of a batch. Outside the main thread
    (signal handlers cannot be set there), or when the process was started to
    ignore Ctrl-C (``nohup``, a script's background job), it does nothing.
    """

    def __init__(self, cancel: threading.Event) -> None:
        self.cancel = cancel
        self.previous: Any = None
        self.installed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.cancel.is_set():
            raise KeyboardInterrupt
        self.cancel.set()
        print(f"\n{PROG}: stopping… (Ctrl-C again to abort)", file=sys.stderr)

    def __enter__(self) -> _CancelOnSigint:
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            return self
        try:
            self.previous = signal.signal(signal.SIGINT, self._handle)
            self.installed = True
        except ValueError:
            pass
        return self

    def __exit__(self, *exc: object) -> None:
        if self.installed:
            signal.signal(signal.SIGINT, self.previous)


def _row_json(row: FolderRow | FileRow, folder: str) -> dict[str, Any]:
    if isinstance(row, FolderRow):
        return {
            "type": "folder",
            "id": row.id,
            "name": row.name,
            "path": _join(folder, row.name),
            "modified_at": row.modified_at,
        }
    return {
        "type": "file",
        "id": row.id,
        "name": row.name,
        "path": _join(folder, row.name),
        "kind": row.kind,
        "mime": row.mime,
        "size": row.size,
        "modified_at": row.modified_at,
        "favorite": row.is_favorite,
    }


def _row_line(row: FolderRow | FileRow, long: bool) -> str:
    if isinstance(row, FolderRow):
        name = row.name + "/"
        return f"{'folder':<9} {'-':>9}  {_when(row.modified_at)}  {name}" if long else name
    star = " *" if row.is_favorite else ""
    if not long:
        return row.name
    return f"{row.kind:<9} {human_size(row.size):>9}  {_when(row.modified_at)}  {row.name}{star}"


def cmd_ls(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """List a folder, or show one file."""
    kind, item_id = vault.resolve(args.path)
    if kind == "file":
        info = vault.file_info(item_id)
        folder = posixpath.dirname(info.path)
        rows: list[FolderRow | FileRow] = [
            FileRow(
                info.id,
                info.name,
                info.kind,
                info.mime,
                info.size,
                info.modified_at,
                info.is_favorite,
            )
        ]
    else:
        folder = vault.path_of("folder", item_id)
        rows = list(_listing(vault, item_id, None if args.all else LS_LIMIT + 1))
    more = not args.all and sum(isinstance(r, FileRow) for r in rows) > LS_LIMIT
    if more:
        rows = rows[:-1]
    out.data([_row_json(r, folder) for r in rows])
    for row in rows:
        out.line(_row_line(row, args.long))
    if more:
        out.note(f"(only the first {LS_LIMIT} files are shown; pass --all for every one)")
    return EXIT_OK


def _tree(vault: Vault, folder_id: int, path: str, depth: int | None) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "folder", "name": posixpath.basename(path) or "/", "path": path}
    if depth is not None and depth <= 0:
        return node
    children: list[dict[str, Any]] = []
    for row in _listing(vault, folder_id):
        child_path = _join(path, row.name)
        if isinstance(row, FolderRow):
            below = None if depth is None else depth - 1
            children.append(_tree(vault, row.id, child_path, below))
        else:
            children.append(
                {"type": "file", "name": row.name, "path": child_path, "size": row.size}
            )
    node["children"] = children
    return node


def _tree_lines(node: dict[str, Any], prefix: str = "") -> Iterator[str]:
    children = node.get("children", [])
    for i, child in enumerate(children):
        last = i == len(children) - 1
        label = child["name"] + ("/" if child["type"] == "folder" else "")
        yield f"{prefix}{'└── ' if last else '├── '}{label}"
        if child["type"] == "folder":
            yield from _tree_lines(child, prefix + ("    " if last else "│   "))


def cmd_tree(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Show a folder tree."""
    folder_id = vault.resolve_folder(args.path)
    root = _tree(vault, folder_id, vault.path_of("folder", folder_id), args.depth)
    out.data(root)
    out.line(root["path"])
    for text in _tree_lines(root):
        out.line(text)
    return EXIT_OK


def cmd_mkdir(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Create folders."""
    created = []
    for path in args.paths:
        if args.parents:
            folder_id = vault.makedirs(path)
        else:
            parent, name = _split_dest(path)
            folder_id = vault.mkdir(vault.resolve_folder(parent), name).created[0]
        created.append(vault.path_of("folder", folder_id))
    out.data({"created": created})
    for path in created:
        out.line(f"Created {path}/")
    return EXIT_OK


def _relocate(vault: Vault, kind: str, item_id: int, folder_id: int, name: str | None) -> None:
    """Move an item into ``folder_id``, renaming it to ``name`` on the way if given."""
    if name is None:
        _move(vault, kind, item_id, folder_id)
        return
    if kind == "folder":
        parent_id = vault.folder_info(item_id).parent_id
    else:
        parent_id = vault.file_info(item_id).folder_id
    if parent_id == folder_id:
        _rename(vault, kind, item_id, name)
        return
    try:
        _move(vault, kind, item_id, folder_id)
    except NameTaken:
        # Its current name is taken in the target (the new one is free there):
        # rename first, in its own folder, then move.
        _rename(vault, kind, item_id, name)
        _move(vault, kind, item_id, folder_id)
        return
    _rename(vault, kind, item_id, name)


def cmd_mv(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Move (and possibly rename) folders and files."""
    folder_id, new_name = _resolve_dest(vault, args.dest, len(args.sources))
    moved = []
    for source in args.sources:
        kind, item_id = vault.resolve(source)
        before = vault.path_of(kind, item_id)
        _relocate(vault, kind, item_id, folder_id, new_name)
        moved.append({"from": before, "to": vault.path_of(kind, item_id)})
    out.data({"moved": moved})
    for m in moved:
        out.line(f"Moved {m['from']} → {m['to']}")
    return EXIT_OK


def cmd_cp(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Copy folders and files (no bytes are copied: copies share content)."""
    folder_id, new_name = _resolve_dest(vault, args.dest, len(args.sources))
    copied = []
    for source in args.sources:
        kind, item_id = vault.resolve(source)
        before = vault.path_of(kind, item_id)
        if kind == "folder":
            created = vault.copy_folder(item_id, folder_id).created[0]
        else:
            created = vault.copy_file(item_id, folder_id).created[0]
        if new_name is not None:
            _rename(vault, kind, created, new_name)
        copied.append({"from": before, "to": vault.path_of(kind, created)})
    out.data({"copied": copied})
    for c in copied:
        out.line(f"Copied {c['from']} → {c['to']}")
    return EXIT_OK


def cmd_rename(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Rename a folder or file in place."""
    kind, item_id = vault.resolve(args.path)
    before = vault.path_of(kind, item_id)
    _rename(vault, kind, item_id, args.name)
    after = vault.path_of(kind, item_id)
    out.data({"from": before, "to": after})
    out.line(f"Renamed {before} → {after}")
    return EXIT_OK


def cmd_rm(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Move folders and files to the Trash."""
    trashed = []
    for path in args.paths:
        kind, item_id = vault.resolve(path)
        shown = vault.path_of(kind, item_id)
        vault.delete_path(path)
        trashed.append(shown)
    out.data({"trashed": trashed})
    for path in trashed:
        out.line(f"Moved to Trash: {path}")
    return EXIT_OK


def cmd_trash_list(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """List the Trash."""
    items = vault.trash_list()
    out.data([{**_plain(i), "path": _join(i.original_path, i.name)} for i in items])
    if not out.json:
        if not items:
            out.line("The Trash is empty.")
            return EXIT_OK
        out.line(f"{'ID':>5}  {'KIND':<6}  {'DELETED':<16}  {'SIZE':>9}  ORIGINAL PATH")
        for i in items:
            label = _join(i.original_path, i.name) + ("/" if i.kind == "folder" else "")
            out.line(
                f"{i.id:>5}  {i.kind:<6}  {_when(i.deleted_at):<16}  "
                f"{human_size(i.size):>9}  {label}"
            )
    return EXIT_OK


def _trash_entry_id(vault: Vault, ref: str) -> int:
    """A Trash entry id from ``ref``: an id, or an original path (the newest deletion wins)."""
    if ref.isdigit():
        return int(ref)
    parent, name = _split_dest(ref)
    for item in vault.trash_list():  # newest first
        if name_key(item.name) == name_key(name) and name_key(
            _norm(item.original_path)
        ) == name_key(parent):
            return item.id
    raise NotFound(
        f"Nothing deleted from {_norm(ref)} is in the Trash.",
        "See `mediavault trash list` for what is there, with ids.",
    )


def cmd_trash_restore(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Restore deletions."""
    restored = []
    for ref in args.items:
        entry_id = _trash_entry_id(vault, ref)
        kind = next((i.kind for i in vault.trash_list() if i.id == entry_id), "file")
        changes = vault.restore(entry_id)
        restored.append({"id": entry_id, "path": vault.path_of(kind, changes.created[0])})
    out.data({"restored": restored})
    for r in restored:
        out.line(f"Restored {r['path']}")
    return EXIT_OK


def cmd_trash_purge(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Delete Trash entries forever."""
    for entry_id in args.ids:
        vault.purge(entry_id)
    out.data({"purged": args.ids})
    for entry_id in args.ids:
        out.line(f"Deleted forever: Trash item {entry_id}")
    return EXIT_OK


def cmd_trash_empty(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Empty the Trash."""
    count = len(vault.trash_list())
    if count and not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("emptying the Trash deletes forever; pass --yes to confirm")
        answer = input(f"Delete {_count(count, 'item')} in the Trash forever? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            out.note("Nothing deleted.")
            return EXIT_FAIL
    vault.empty_trash()
    out.data({"purged": count})
    out.line(f"Emptied the Trash ({_count(count, 'item')} deleted forever).")
    return EXIT_OK


def cmd_fav(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Mark or unmark files as favorites."""
    ids = [vault.require_file(p) for p in args.paths]
    vault.set_favorite(ids, not args.off)
    paths = [vault.path_of("file", i) for i in ids]
    out.data({"favorite": not args.off, "files": paths})
    for path in paths:
        out.line(f"{'Unmarked' if args.off else 'Marked'} as favorite: {path}")
    return EXIT_OK


def cmd_describe(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Set a description."""
    kind, item_id = vault.resolve(args.path)
    if kind == "folder":
        vault.describe_folder(item_id, args.text)
    else:
        vault.describe_file(item_id, args.text)
    path = vault.path_of(kind, item_id)
    out.data({"path": path, "description": args.text})
    out.line(f"Described {path}")
    return EXIT_OK


class _LazyRemoteStore:
    """The vault's bucket, connected only when evicted content is first fetched.

    Keeps boto3 out of exports that need only local content. Thread-safe.
    """

    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        self._lock = threading.Lock()
        self._store: Any = None

    def _get(self) -> Any:
        with self._lock:
            if self._store is None:
                from app.credentials import NoRemote, open_remote
                from app.errors import BlobMissing
                from app.space import NO_REMOTE_HINT

                try:
                    self._store = open_remote(self._vault.paths)[0]
                except NoRemote:
                    raise BlobMissing(
                        "Some content is in the bucket only, and this vault has no remote.",
                        NO_REMOTE_HINT,
                    ) from None
            return self._store

    def stat(self, blob_hash: str) -> int:
        return int(self._get().stat(blob_hash))

    def download(
        self, blob_hash: str, target: Path, progress: Callable[[int], None] | None = None
    ) -> None:
        self._get().download(blob_hash, target, progress)


def cmd_free_space(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Remove local copies the bucket holds; they download again when needed."""
    from app.space import SpaceReport

    budget = parse_size(args.budget) if args.budget is not None else None
    targets = [vault.resolve(p) for p in args.paths]
    files = [item_id for kind, item_id in targets if kind == "file"]
    scopes: list[dict[str, Any]] = [{"folder_id": i} for kind, i in targets if kind == "folder"]
    if files:
        scopes.append({"file_ids": files})
    if not targets:
        scopes.append({})  # the whole vault
    store = _LazyRemoteStore(vault)
    total = SpaceReport()
    for scope in scopes:
        part = vault.free_up_space(store, budget_bytes=budget, **scope)
        for name in (
            "evicted",
            "freed_bytes",
            "kept_not_uploaded",
            "kept_pinned",
            "kept_unconfirmed",
        ):
            setattr(total, name, getattr(total, name) + getattr(part, name))
        total.local_bytes, total.error = part.local_bytes, part.error
        if part.error:
            break
    out.data(
        {
            "ok": not total.error,
            "evicted": total.evicted,
            "freed_bytes": total.freed_bytes,
            "kept_not_uploaded": total.kept_not_uploaded,
            "kept_pinned": total.kept_pinned,
            "kept_unconfirmed": total.kept_unconfirmed,
            "local_bytes": total.local_bytes,
            "error": total.error,
        }
    )
    out.line(
        f"Freed {human_size(total.freed_bytes)} from {_count(total.evicted, 'file')}: "
        "in the bucket only now, downloaded again when opened or exported."
    )
    if total.kept_not_uploaded:
        out.line(f"Kept {total.kept_not_uploaded}: not uploaded yet (run `{PROG} sync`).")
    if total.kept_pinned:
        out.line(f"Kept {total.kept_pinned}: kept on this device (`{PROG} keep --off` frees them).")
    if total.kept_unconfirmed:
        out.line(
            f"Kept {total.kept_unconfirmed}: the bucket does not have them; "
            f"`{PROG} sync` sends them again."
        )
    out.line(f"Content on this computer: {human_size(total.local_bytes)}.")
    if total.error:
        out.note(f"Stopped early: {total.error}")
        return EXIT_FAIL
    return EXIT_OK


def cmd_keep(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Keep files on this device (fetching them now), or let free-space remove them again."""
    ids = [vault.require_file(p) for p in args.paths]
    fetched = vault.keep_on_device(ids, not args.off, _LazyRemoteStore(vault))
    paths = [vault.path_of("file", i) for i in ids]
    out.data({"keep_on_device": not args.off, "files": paths, "downloaded": fetched})
    for path in paths:
        out.line(f"{'No longer kept' if args.off else 'Kept'} on this device: {path}")
    if fetched:
        out.line(f"Downloaded {_count(fetched, 'file')} from the bucket.")
    return EXIT_OK


def cmd_export(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Export folders and files to disk."""
    if vault.remote_store is None:
        vault.remote_store = _LazyRemoteStore(vault)
    targets = [vault.resolve(p) for p in args.paths]
    if args.version is not None and (len(targets) != 1 or targets[0][0] != "file"):
        raise UsageError("--version works with exactly one file")
    written: list[Path] = []
    failed: list[dict[str, str]] = []
    total = 0
    for kind, item_id in targets:
        if kind == "file":
            target = vault.export_file(item_id, Path(args.to), args.version)
            written.append(target)
            total += target.stat().st_size
            continue
        bar = out.bar("Exporting")
        try:
            report = vault.export_folder(
                item_id, Path(args.to), progress=functools.partial(bar.update, unit="files")
            )
        finally:
            bar.finish()
        written += report.written
        total += report.bytes
        failed += [{"path": p, "reason": r} for p, r in report.failed]
    out.data({"written": written, "bytes": total, "failed": failed})
    out.line(f"Exported {_count(len(written), 'file')} ({human_size(total)}) to {args.to}")
    for item in failed:
        out.line(f"  failed: {item['path']}: {item['reason']}")
    return EXIT_FAIL if failed else EXIT_OK


def cmd_search(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Search names, descriptions, tags and contents."""
    filters = SearchFilters(
        kind=args.kind,
        favorites=args.favorites,
        tag=args.tag,
        folder_id=vault.resolve_folder(args.folder) if args.folder else None,
        min_size=args.min_size,
        max_size=args.max_size,
        modified_after=args.after,
        modified_before=args.before,
    )
    hits = vault.search(args.query, filters, limit=args.limit)
    out.data(
        [
            {
                "id": h.file_id,
                "path": h.path,
                "name": h.name,
                "kind": h.kind,
                "size": h.size,
                "modified_at": h.modified_at,
                "favorite": h.is_favorite,
                "matched": list(h.matched),
                "snippet": h.snippet,
            }
            for h in hits
        ]
    )
    for h in hits:
        out.line(f"{h.path}  ({h.kind}, {human_size(h.size)})")
        others = [m for m in h.matched if m != "name"]
        if others:
            line = f"    matched: {', '.join(others)}"
            out.line(line + (f" — {h.snippet}" if h.snippet else ""))
    if not hits:
        out.note("No files found.")
    return EXIT_OK


def _fields(out: Output, rows: list[tuple[str, object]]) -> None:
    for label, value in rows:
        out.line(f"{label + ':':<13} {value}")


def cmd_info(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Show everything known about a folder or file."""
    kind, item_id = vault.resolve(args.path)
    if kind == "folder":
        folder = vault.folder_info(item_id)
        data: dict[str, Any] = {"type": "folder", **_plain(folder)}
        out.data(data)
        _fields(
            out,
            [
                ("Path", folder.path),
                ("Folders", folder.folders),
                ("Files", folder.files),
                ("Created", _when(folder.created_at)),
                ("Modified", _when(folder.modified_at)),
                ("Description", folder.description or "-"),
            ],
        )
        return EXIT_OK
    info = vault.file_info(item_id)
    v = info.version
    data = {
        "type": "file",
        "id": info.id,
        "path": info.path,
        "name": info.name,
        "kind": info.kind,
        "mime": info.mime,
        "size": info.size,
        "hash": v.blob_hash,
        "versions": info.versions,
        "version": v.number,
        "created_at": info.created_at,
        "modified_at": info.modified_at,
        "favorite": info.is_favorite,
        "description": info.description,
        "tags": info.tags,
        "width": v.width,
        "height": v.height,
        "duration": v.duration,
        "pages": v.pages,
        "taken_at": v.taken_at,
        "camera": v.camera,
        "codecs": v.codecs,
        "index_note": v.index_note,
        "local_state": v.local_state,
        "remote_state": v.remote_state,
        "in_trash": info.in_trash,
    }
    out.data(data)
    if out.json:
        return EXIT_OK
    rows: list[tuple[str, object]] = [
        ("Path", info.path),
        ("Kind", info.kind),
        ("MIME type", info.mime),
        ("Size", f"{human_size(info.size)} ({info.size:,} bytes)"),
        ("SHA-256", v.blob_hash),
        ("Versions", f"{info.versions} (current: {v.number})"),
        ("Created", _when(info.created_at)),
        ("Modified", _when(info.modified_at)),
        ("Favorite", "yes" if info.is_favorite else "no"),
        ("Tags", ", ".join(info.tags) or "-"),
        ("Description", info.description or "-"),
    ]
    if v.width and v.height:
        rows.append(("Dimensions", f"{v.width} × {v.height}"))
    if v.duration is not None:
        rows.append(("Duration", f"{v.duration:.1f} s"))
    if v.pages is not None:
        rows.append(("Pages", v.pages))
    if v.taken_at is not None:
        rows.append(("Taken", _when(v.taken_at)))
    if v.camera:
        rows.append(("Camera", v.camera))
    if v.codecs:
        rows.append(("Codecs", v.codecs))
    if v.index_note:
        rows.append(("Index note", v.index_note))
    rows += [("Local copy", v.local_state), ("Remote copy", v.remote_state)]
    _fields(out, rows)
    return EXIT_OK


def cmd_verify(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Check every local blob against its hash."""
    bar = out.bar("Verifying")
    try:
        report = vault.verify(progress=lambda i, n: bar.update(i, n, unit="blobs"))
    finally:
        bar.finish()
    out.data({"ok": report.ok, **_plain(report)})
    out.line(f"Checked {_count(report.checked, 'blob')} ({human_size(report.bytes)}).")
    for title, items in (
        ("Missing blobs", report.missing),
        ("Corrupted blobs", report.corrupted),
        ("Affected files", report.affected_files),
        ("Stray files in the blob directory", report.stray_files),
        ("Unreferenced blob rows", report.unreferenced_rows),
    ):
        if items:
            out.line(f"{title}:")
            for item in items:
                out.line(f"  {item}")
    out.line("Everything is intact." if report.ok else "Problems found.")
    return EXIT_OK if report.ok else EXIT_FAIL


def cmd_thumbnails(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Make the missing thumbnails of the vault or a folder, in parallel."""
    from app.settings import load_preferences
    from app.thumbnails import build_thumbnails, disk_size

    if (
        args.workers < 1
        or args.scale <= 0
        or (args.size is not None and not 16 <= args.size <= 1024)
    ):
        raise UsageError("--size is 16 to 1024, --scale above 0 and --workers at least 1")
    folder_id = vault.resolve_folder(args.path) if args.path else None
    size = disk_size(
        round((args.size or load_preferences(vault.paths).thumbnail_size) * args.scale)
    )
    bar = out.bar("Thumbnails")
    try:
        report = build_thumbnails(
            vault,
            size,
            folder_id,
            workers=args.workers,
            progress=lambda i, n: bar.update(i, n, unit="files"),
        )
    finally:
        bar.finish()
    out.data(
        {
            "size": size,
            "made": report.made,
            "cached": report.cached,
            "not_local": report.not_local,
            "pictureless": report.pictureless,
            "failed": [{"path": p, "reason": r} for p, r in report.failed],
        }
    )
    out.line(
        f"Made {_count(report.made, 'thumbnail')} of {size} px ({report.cached} already there)."
    )
    if report.pictureless:
        out.line(
            f"{_count(report.pictureless, 'file')} with nothing to show (audio without cover art)."
        )
    if report.not_local:
        out.line(
            f"{_count(report.not_local, 'file')} only in the bucket: "
            "their thumbnails come once they are on this computer."
        )
    if report.failed:
        out.line("Could not make a thumbnail of:")
        for path, reason in report.failed:
            out.line(f"  {path}: {reason}")
    return EXIT_OK


# -- remote ----------------------------------------------------------------------

SECRET_ENV = "MEDIAVAULT_SECRET_ACCESS_KEY"


def _read_secret() -> str:
    """The secret access key from ``$MEDIAVAULT_SECRET_ACCESS_KEY`` or, on a terminal, a prompt.

    Never from the command line: other users can read a process's arguments.
    """
    secret = os.environ.get(SECRET_ENV, "")
    if secret:
        return secret
    if sys.stdin.isatty():
        import getpass

        secret = getpass.getpass("Secret access key: ")
        if secret:
            return secret
    raise UsageError(
        f"--keyring needs the secret access key in ${SECRET_ENV}, or typed at a prompt "
        "on a terminal (never on the command line)"
    )


def _remote_show_data(config: RemoteConfig) -> dict[str, Any]:
    """What ``remote show`` prints: settings and where the keys come from, never a secret."""
    from app import credentials

    data: dict[str, Any] = {"remote": config.to_json()}
    if config.credentials == "chain":
        profile = config.spec.profile
        data["keys_from"] = (
            f"AWS credential chain, profile {profile!r}"
            if profile
            else "AWS credential chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
            "~/.aws/credentials, instance role)"
        )
        return data
    data["keys_from"] = f"OS keyring ({credentials.SERVICE} / {credentials.keyring_user(config)})"
    try:
        keys = credentials.load_keys(config)
    except VaultError as exc:
        data["keyring_problem"] = exc.message
    else:
        key_id = keys.access_key_id if keys else ""
        data["access_key_id"] = "*" * max(len(key_id) - 4, 0) + key_id[-4:]
    return data


def cmd_remote_set(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Set (or replace) the vault's remote."""
    from app.settings import apply_remote

    if args.keyring and not args.access_key_id:
        raise UsageError("--keyring needs --access-key-id ID")
    config = _bucket_config(args)
    secret = _read_secret() if args.keyring else ""
    for warning in apply_remote(vault.paths, config, args.access_key_id or "", secret):
        out.note(f"warning: {warning}")
    data = _remote_show_data(config)
    out.data(data)
    _print_remote(data, out)
    out.line(f"Check it with `{PROG} remote test`.")
    return EXIT_OK


def _print_remote(data: dict[str, Any], out: Output) -> None:
    remote = data["remote"]
    rows: list[tuple[str, object]] = [
        ("Bucket", remote["bucket"]),
        ("Endpoint", remote["endpoint_url"] or "AWS S3"),
        ("Region", remote["region"] or "-"),
        ("Prefix", remote["prefix"] or "-"),
        ("Addressing", remote["addressing_style"]),
        ("Verify TLS", "yes" if remote["verify_tls"] else "no"),
    ]
    if remote["ca_bundle"]:
        rows.append(("CA bundle", remote["ca_bundle"]))
    rows.append(("Keys from", data["keys_from"]))
    if "access_key_id" in data:
        rows.append(("Access key", data["access_key_id"]))
    if "keyring_problem" in data:
        rows.append(("Keyring", data["keyring_problem"]))
    _fields(out, rows)


def cmd_remote_show(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Show the vault's remote and where its keys come from."""
    from app.remote import load_remote

    config = load_remote(vault.paths)
    if config is None:
        out.data({"remote": None})
        out.line(f"No remote is set. Set one with `{PROG} remote set --bucket NAME`.")
        return EXIT_OK
    data = _remote_show_data(config)
    out.data(data)
    _print_remote(data, out)
    return EXIT_OK


def cmd_remote_test(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Try list, put, get and delete on the remote's bucket."""
    from app import credentials
    from app.remote import check_remote, load_remote

    config = load_remote(vault.paths)
    if config is None:
        raise NotFound("This vault has no remote.", f"Set one with `{PROG} remote set`.")
    results = check_remote(config, credentials.load_keys(config))
    ok = all(r.ok for r in results)
    out.data({"ok": ok, "steps": results})
    for r in results:
        if r.ok:
            out.line(f"✓ {r.step:<6} {r.seconds:.2f} s")
        else:
            out.line(f"✗ {r.step:<6} {r.reason}: {r.message}")
            if r.hint:
                out.line(f"         hint: {r.hint}")
    out.line("The remote works." if ok else "The remote does not work.")
    return EXIT_OK if ok else EXIT_FAIL


def cmd_remote_unset(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Forget the vault's remote and its keyring keys."""
    from app.settings import unset_remote

    removed, forgot, warnings = unset_remote(vault.paths)
    for warning in warnings:
        out.note(f"warning: {warning}")
    out.data({"removed": removed, "keys_forgotten": forgot})
    out.line("Remote removed." if removed else "No remote was set.")
    return EXIT_OK


# -- sync ------------------------------------------------------------------------


def cmd_sync(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Upload new files to the remote bucket, then a snapshot of the catalog."""
    from app.sync import Syncer, SyncProgress

    bar = out.bar("Syncing")
    cancel = threading.Event()

    def on_progress(p: SyncProgress) -> None:
        detail = f"{human_size(p.rate_bytes_per_s)}/s"
        if p.eta_seconds is not None and p.files_done < p.files_total:
            detail += f", {int(p.eta_seconds)} s left"
        bar.update(p.files_done, p.files_total, p.bytes_done, "files", detail)

    syncer = Syncer.for_vault(vault, workers=args.workers, progress=on_progress, cancel=cancel)
    with _CancelOnSigint(cancel):
        try:
            report = syncer.run(snapshot=not args.no_snapshot)
        finally:
            bar.finish()
    out.data(
        {
            "ok": report.ok,
            "status": report.status,
            "uploaded": report.uploaded,
            "uploaded_bytes": report.uploaded_bytes,
            "already_present": report.already_present,
            "skipped": report.skipped,
            "lost_remote": report.lost_remote,
            "failed": [{"hash": h, "error": e} for h, e in report.failed],
            "snapshot": report.snapshot_key,
            "snapshot_error": report.snapshot_error,
            "inbox_received": report.inbox_received,
            "inbox_refused": report.inbox_refused,
            "inbox_errors": [{"key": k, "error": e} for k, e in report.inbox_errors],
        }
    )
    if report.inbox_received or report.inbox_refused:
        refused = report.inbox_refused
        out.line(
            f"Received {_count(report.inbox_received, 'file')} through upload requests"
            + (f"; refused {refused} (too big or too late)." if refused else ".")
        )
    for key, error in report.inbox_errors:
        out.note(f"warning: upload request arrival {key} waits for the next sync: {error}")
    out.line(
        f"Uploaded {_count(report.uploaded, 'file')} ({human_size(report.uploaded_bytes)}); "
        f"{report.already_present} already in the bucket, {len(report.failed)} failed."
    )
    for blob_hash, error in report.failed:
        out.line(f"  {blob_hash[:12]}…: {error}")
    if report.lost_remote:
        out.line(
            f"{_count(report.lost_remote, 'file')} marked as uploaded were missing from the "
            "bucket; those still on this computer were sent again."
        )
    if report.skipped:
        out.line(f"{_count(report.skipped, 'file')} not uploaded: no local copy.")
    if report.snapshot_key:
        out.line(f"Catalog snapshot: {report.snapshot_key}")
    if report.snapshot_error:
        out.line(f"No catalog snapshot: {report.snapshot_error}")
    if report.status == "offline":
        out.note("Offline: the bucket cannot be reached; the rest waits for the next sync.")
    if report.status == "cancelled":
        out.note("Sync stopped; the rest waits for the next sync.")
        return EXIT_INTERRUPTED
    if report.ok:
        out.line("Everything is up to date.")
    return EXIT_OK if report.ok else EXIT_FAIL


# -- cleanup ---------------------------------------------------------------------


def cmd_cleanup(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Abort stale uploads, reset stuck ones and delete blobs nothing refers to from the bucket."""
    from datetime import timedelta

    from app.cleanup import Cleaner

    retry_failed = args.status == "failed"
    report = Cleaner.for_vault(vault).run(
        older_than=timedelta(hours=args.hours), dry_run=args.dry_run, retry_failed=retry_failed
    )
    out.data(
        {
            "ok": report.ok,
            "dry_run": report.dry_run,
            "hours": args.hours,
            "aborted_uploads": [
                {"key": u.key, "upload_id": u.upload_id, "initiated": u.initiated}
                for u in report.aborted
            ],
            "reset_uploading": report.reset,
            "failed": report.failed if retry_failed else None,
            "retried_failed": report.retried,
            "deleted": [{"hash": b.hash, "key": b.key, "size": b.size} for b in report.deleted],
            "deleted_bytes": report.deleted_bytes,
            "kept_for_snapshots": report.kept_for_snapshots,
            "snapshots": report.snapshots,
            "blocked": report.blocked,
            "errors": [{"step": what, "error": error} for what, error in report.errors],
            "shares_deleted": report.shares_deleted,
            "inbox_deleted": report.inbox_deleted,
        }
    )
    dry = report.dry_run
    out.line(
        f"{'Would abort' if dry else 'Aborted'} "
        f"{_count(len(report.aborted), 'unfinished upload')} older than {args.hours} h."
    )
    if args.verbose:
        for u in report.aborted:
            out.line(f"  {u.key} (started {_when(u.initiated)} UTC)")
    out.line(
        f"{'Would reset' if dry else 'Reset'} {_count(len(report.reset), 'upload')} "
        "a crash left half-done; the next sync resumes them."
    )
    if args.verbose:
        for blob_hash in report.reset:
            out.line(f"  {blob_hash}")
    if retry_failed:
        out.line(f"{_count(len(report.failed), 'failed upload')}" + (":" if report.failed else "."))
        for f in report.failed:
            where = ", ".join(f.paths) if f.paths else "no file uses it"
            out.line(
                f"  {f.hash[:12]}… {human_size(f.size)}, {_count(f.attempts, 'attempt')}: {where}"
            )
            out.line(f"    {f.last_error or 'no error recorded'}")
        if report.failed:
            out.line(
                "Back to pending: the next sync tries them again."
                if report.retried
                else "Without --dry-run they would be put back to pending."
            )
    if report.blocked:
        out.line("No unused file was deleted from the bucket.")
        out.note(f"warning: nothing was deleted from the bucket: {report.blocked}")
    else:
        out.line(
            f"{'Would delete' if dry else 'Deleted'} "
            f"{_count(len(report.deleted), 'unused file')} ({human_size(report.deleted_bytes)}) "
            f"from the bucket; {report.kept_for_snapshots} kept for older catalog snapshots "
            f"({_count(report.snapshots, 'snapshot')} checked)."
        )
    if args.verbose:
        for b in report.deleted:
            out.line(f"  {b.key} ({human_size(b.size)})")
    if report.shares_deleted or report.inbox_deleted:
        out.line(
            f"{'Would delete' if dry else 'Deleted'} "
            f"{_count(len(report.shares_deleted), 'expired share link')}"
            f" and {_count(len(report.inbox_deleted), 'file')} left in expired upload requests."
        )
    if args.verbose:
        for key in report.shares_deleted + report.inbox_deleted:
            out.line(f"  {key}")
    for _, error in report.errors:
        out.note(f"error: {error}")
    if report.dry_run:
        out.line("Dry run: nothing was changed.")
    return EXIT_OK if report.ok else EXIT_FAIL


# -- restore ---------------------------------------------------------------------


def cmd_restore(home: str | None, args: argparse.Namespace, out: Output) -> int:
    """Rebuild the vault in an empty directory from its bucket's newest catalog snapshot.

    Called without an open vault (``opens_vault=False``): the directory must stay empty
    until the snapshot is in place.
    """
    from app.restore import RestoreProgress, restore_vault

    config = _bucket_config(args)
    keys = _keyring_keys(args, config)
    bar = out.bar("Downloading")

    def on_progress(p: RestoreProgress) -> None:
        bar.update(p.files_done, p.files_total, p.bytes_done, "files")

    try:
        report = restore_vault(
            Path(home) if home else None,
            config,
            keys,
            fetch_all=args.all,
            progress=on_progress,
            workers=args.workers,
        )
    finally:
        bar.finish()
    out.data(
        {
            "ok": report.ok,
            "vault": report.data_dir,
            "snapshot": report.snapshot_key,
            "files": report.files,
            "blobs": report.blobs,
            "blob_bytes": report.blob_bytes,
            "not_in_bucket": report.not_in_bucket,
            "fetched": report.fetched,
            "fetched_bytes": report.fetched_bytes,
            "failed": [{"hash": h, "error": e} for h, e in report.failed],
        }
    )
    out.line(f"Restored the vault in {report.data_dir} from {report.snapshot_key}.")
    out.line(
        f"{_count(report.files, 'file')}; {_count(report.blobs, 'content blob')} "
        f"({human_size(report.blob_bytes)}) in the bucket."
    )
    if args.all:
        out.line(
            f"Downloaded {_count(report.fetched, 'file')} ({human_size(report.fetched_bytes)}), "
            f"{len(report.failed)} failed."
        )
        for blob_hash, error in report.failed:
            out.line(f"  {blob_hash[:12]}…: {error}")
    else:
        out.line("Content is downloaded when a file is opened or exported.")
    if report.not_in_bucket:
        out.note(
            f"warning: {_count(report.not_in_bucket, 'content blob')} had not been uploaded "
            "when the snapshot was made and cannot be restored from the bucket."
        )
    return EXIT_OK if report.ok else EXIT_FAIL


# -- parser ----------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """Usage errors in the ``mediavault: error:`` form, exit 2, without the full usage."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{PROG}: error: {message}\n")


def _common() -> argparse.ArgumentParser:
    """Options every command also accepts after its name (``ls / --json``)."""
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: absent after the command, they must not reset a value given before it.
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print machine-readable JSON on stdout",
    )
    common.add_argument(
        "--progress",
        action="store_true",
        default=argparse.SUPPRESS,
        help="draw progress bars even when stderr is not a terminal",
    )
    common.add_argument("--vault", metavar="DIR", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return common


def _command(
    subs: Any,
    name: str,
    func: Callable[..., int],
    help_text: str,
    examples: str,
    common: argparse.ArgumentParser,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subs.add_parser(
        name,
        help=help_text,
        description=help_text,
        parents=[common],
        epilog="examples:\n" + "\n".join(f"  {e.strip()}" for e in examples.strip().splitlines()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=func)
    return parser


def _add_bucket_arguments(p: argparse.ArgumentParser) -> None:
    """Where the bucket is: shared by ``remote set`` and ``restore``."""
    p.add_argument("--bucket", required=True, metavar="NAME", help="the bucket's name")
    p.add_argument("--endpoint", default="", metavar="URL", help="the service's URL (AWS: none)")
    p.add_argument("--region", default="", metavar="R", help="e.g. us-east-1")
    p.add_argument("--prefix", default="", metavar="P", help="the vault's key prefix in the bucket")
    p.add_argument(
        "--addressing",
        default="auto",
        metavar="path|virtual|auto",
        help="bucket addressing style (default: auto)",
    )
    p.add_argument(
        "--no-verify-tls", action="store_true", help="skip certificate checks (test servers only)"
    )
    p.add_argument("--ca-bundle", default="", metavar="FILE", help="trust this CA bundle")
    p.add_argument("--profile", default="", metavar="NAME", help="profile in ~/.aws/credentials")
    p.add_argument(
        "--keyring",
        action="store_true",
        help=f"keys in the OS keyring (a new secret from ${SECRET_ENV} or a prompt)",
    )
    p.add_argument(
        "--access-key-id", default="", metavar="ID", help="with --keyring: store new keys"
    )


def _bucket_config(args: argparse.Namespace) -> RemoteConfig:
    """The remote described by :func:`_add_bucket_arguments`'s options."""
    from app.remote import remote_config

    if args.access_key_id and not args.keyring:
        raise UsageError("--access-key-id needs --keyring (otherwise the AWS chain gives keys)")
    return remote_config(
        args.bucket,
        endpoint_url=args.endpoint,
        region=args.region,
        prefix=args.prefix,
        addressing_style=args.addressing,
        verify_tls=not args.no_verify_tls,
        ca_bundle=args.ca_bundle,
        profile=args.profile,
        credentials="keyring" if args.keyring else "chain",
    )


def _keyring_keys(args: argparse.Namespace, config: RemoteConfig) -> Credentials | None:
    """With --keyring: the keys, stored first if --access-key-id gives new ones."""
    from app import credentials
    from storage.s3_client import Credentials

    if not args.keyring:
        return None
    if args.access_key_id:
        keys = Credentials(args.access_key_id, _read_secret())
        credentials.store_keys(config, keys)
        return keys
    return credentials.load_keys(config)


def build_parser() -> argparse.ArgumentParser:
    """The ``mediavault`` argument parser, with every command."""
    parser = _Parser(
        prog=PROG,
        description="Media Vault: your photos, videos, music and documents in one catalog. "
        "Without a command, opens the window.",
        epilog="Paths inside the vault look like /Photos/2023/IMG_0001.jpg. "
        f"Run `{PROG} COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--vault",
        metavar="DIR",
        help="use the vault in DIR (default: $MEDIAVAULT_HOME or the usual place)",
    )
    parser.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="add Media Vault to this user's application menu (Linux desktops) and exit",
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")
    parser.add_argument(
        "--progress",
        action="store_true",
        help="draw progress bars even when stderr is not a terminal",
    )
    common = _common()
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = _command(
        subs,
        "import",
        cmd_import,
        "Copy files and folders from disk into the vault.",
        """
        mediavault import ~/Pictures/Holiday --to /Photos
        mediavault import a.pdf b.pdf --to /Documents/Tax --mkdir
        mediavault import ~/Music --on-conflict version
        """,
        common,
    )
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="files or folders on disk")
    p.add_argument(
        "--to", default="/", metavar="FOLDER", help="vault folder to import into (default /)"
    )
    p.add_argument(
        "--on-conflict",
        default=Conflict.KEEP_BOTH.value,
        choices=[c.value for c in Conflict],
        help="when a different file has the name: keep both (default), skip, or add a version",
    )
    p.add_argument("--mkdir", action="store_true", help="create the --to folder if it is missing")

    p = _command(
        subs,
        "ls",
        cmd_ls,
        "List a folder, or show one file.",
        """
        mediavault ls /Photos
        mediavault ls -l /Photos/2023 --all
        mediavault ls /Photos --json
        """,
        common,
    )
    p.add_argument("path", nargs="?", default="/", metavar="PATH")
    p.add_argument("-l", "--long", action="store_true", help="show kind, size and modified date")
    p.add_argument(
        "--all", action="store_true", help=f"list every file, not just the first {LS_LIMIT}"
    )

    p = _command(
        subs,
        "tree",
        cmd_tree,
        "Show a folder and everything below it as a tree.",
        """
        mediavault tree
        mediavault tree /Photos --depth 2
        """,
        common,
    )
    p.add_argument("path", nargs="?", default="/", metavar="PATH")
    p.add_argument("--depth", type=_positive, metavar="N", help="show at most N levels")

    p = _command(
        subs,
        "mkdir",
        cmd_mkdir,
        "Create folders.",
        """
        mediavault mkdir /Photos
        mediavault mkdir -p /Photos/2023/Summer
        """,
        common,
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("-p", "--parents", action="store_true", help="create missing parent folders too")

    p = _command(
        subs,
        "mv",
        cmd_mv,
        "Move folders and files into a folder, or move and rename one.",
        """
        mediavault mv /Inbox/a.jpg /Inbox/b.jpg /Photos
        mediavault mv /Inbox/a.jpg /Photos/beach.jpg
        mediavault mv /Old /Archive/Old-2019
        """,
        common,
    )
    p.add_argument("sources", nargs="+", metavar="SRC")
    p.add_argument("dest", metavar="DEST", help="an existing folder, or a new path for one SRC")

    p = _command(
        subs,
        "cp",
        cmd_cp,
        "Copy folders and files (copies share content: no bytes are copied).",
        """
        mediavault cp /Photos/a.jpg /Backup
        mediavault cp /Photos/a.jpg /Photos/a-edited.jpg
        mediavault cp /Photos/2023 /Archive
        """,
        common,
    )
    p.add_argument("sources", nargs="+", metavar="SRC")
    p.add_argument("dest", metavar="DEST", help="an existing folder, or a new path for one SRC")

    p = _command(
        subs,
        "rename",
        cmd_rename,
        "Rename a folder or file where it is.",
        """
        mediavault rename /Photos/IMG_0001.jpg beach.jpg
        mediavault rename /Photos/2023 "Summer 2023"
        """,
        common,
    )
    p.add_argument("path", metavar="PATH")
    p.add_argument("name", metavar="NEWNAME")

    p = _command(
        subs,
        "rm",
        cmd_rm,
        "Move folders and files to the Trash.",
        """
        mediavault rm /Photos/blurry.jpg
        mediavault rm /Old /Inbox/tmp.txt
        """,
        common,
    )
    p.add_argument("paths", nargs="+", metavar="PATH")

    trash = _command(
        subs,
        "trash",
        lambda *_: EXIT_USAGE,
        "List, restore or delete forever what is in the Trash.",
        """
        mediavault trash list
        mediavault trash restore 12
        mediavault trash restore /Photos/blurry.jpg
        mediavault trash purge 12 13
        mediavault trash empty --yes
        """,
        common,
    )
    trash_subs = trash.add_subparsers(
        dest="trash_command", metavar="ACTION", required=True, parser_class=_Parser
    )
    _command(
        trash_subs,
        "list",
        cmd_trash_list,
        "List the Trash, newest first.",
        "mediavault trash list\nmediavault trash list --json",
        common,
    )
    p = _command(
        trash_subs,
        "restore",
        cmd_trash_restore,
        "Put deleted items back where they were.",
        "mediavault trash restore 12\nmediavault trash restore /Photos/blurry.jpg",
        common,
    )
    p.add_argument(
        "items",
        nargs="+",
        metavar="ID|PATH",
        help="a Trash id, or the path it had (the newest deletion from there wins)",
    )
    p = _command(
        trash_subs,
        "purge",
        cmd_trash_purge,
        "Delete Trash items forever.",
        "mediavault trash purge 12\nmediavault trash purge 12 13 14",
        common,
    )
    p.add_argument("ids", nargs="+", type=int, metavar="ID")
    p = _command(
        trash_subs,
        "empty",
        cmd_trash_empty,
        "Delete everything in the Trash forever.",
        "mediavault trash empty\nmediavault trash empty --yes",
        common,
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    p = _command(
        subs,
        "fav",
        cmd_fav,
        "Mark files as favorites (or unmark them with --off).",
        "mediavault fav /Photos/beach.jpg\nmediavault fav /Photos/a.jpg /Photos/b.jpg --off",
        common,
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--off", action="store_true", help="unmark instead")

    p = _command(
        subs,
        "describe",
        cmd_describe,
        "Set the description of a folder or file (searchable).",
        'mediavault describe /Photos/beach.jpg "Sunset at Biarritz"\n'
        'mediavault describe /Photos/2023 ""',
        common,
    )
    p.add_argument("path", metavar="PATH")
    p.add_argument("text", metavar="TEXT", help='the description ("" clears it)')

    p = _command(
        subs,
        "export",
        cmd_export,
        "Copy folders and files out of the vault to disk, byte for byte.",
        """
        mediavault export /Photos/beach.jpg --to ~/Desktop
        mediavault export /Photos/2023 --to /media/usb
        mediavault export /Documents/cv.docx --to . --version 2
        """,
        common,
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument(
        "--to", required=True, metavar="DIR", help="directory on disk (created if missing)"
    )
    p.add_argument("--version", type=int, metavar="N", help="export version N of a single file")

    p = _command(
        subs,
        "free-space",
        cmd_free_space,
        "Remove local copies of files the bucket holds (they download again when opened).",
        """
        mediavault free-space /Videos/2019
        mediavault free-space --budget 20G
        mediavault free-space /Photos/raw.cr2 /Photos/raw2.cr2
        """,
        common,
    )
    p.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or folders (default: the whole vault)"
    )
    p.add_argument(
        "--budget",
        metavar="SIZE",
        help="stop once the content on this computer is at most SIZE (older versions "
        "and files not changed for longest go first)",
    )

    p = _command(
        subs,
        "keep",
        cmd_keep,
        "Keep files on this computer, downloading them now if needed (--off to undo).",
        "mediavault keep /Documents/passport.pdf\nmediavault keep /Documents/passport.pdf --off",
        common,
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--off", action="store_true", help="let free-space remove them again")

    p = _command(
        subs,
        "search",
        cmd_search,
        "Find files by name, description, tags and contents.",
        """
        mediavault search invoice --kind document --after 2023-01-01
        mediavault search '"annual report"' --in /Work
        mediavault search '' --favorites --min-size 10M
        """,
        common,
    )
    p.add_argument(
        "query", metavar="QUERY", help='words, "a phrase" or prefix*; "" lists by filters'
    )
    p.add_argument("--kind", choices=KINDS, help="only files of this kind")
    p.add_argument("--favorites", action="store_true", help="only favorites")
    p.add_argument("--tag", metavar="T", help="only files with this tag")
    p.add_argument("--in", dest="folder", metavar="FOLDER", help="only in this folder and below")
    p.add_argument("--min-size", type=parse_size, metavar="SIZE", help="e.g. 500K, 10M, 1.5G")
    p.add_argument("--max-size", type=parse_size, metavar="SIZE")
    p.add_argument(
        "--after", type=parse_when, metavar="DATE", help="modified on or after (ISO date)"
    )
    p.add_argument("--before", type=parse_when, metavar="DATE", help="modified before (ISO date)")
    p.add_argument(
        "--limit", type=_positive, default=100, metavar="N", help="at most N results (100)"
    )

    p = _command(
        subs,
        "info",
        cmd_info,
        "Show everything known about a folder or file.",
        "mediavault info /Photos/beach.jpg\nmediavault info /Photos --json",
        common,
    )
    p.add_argument("path", metavar="PATH")

    _command(
        subs,
        "verify",
        cmd_verify,
        "Check that every stored file is present and undamaged.",
        "mediavault verify\nmediavault verify --json",
        common,
    )

    p = _command(
        subs,
        "thumbnails",
        cmd_thumbnails,
        "Make the missing thumbnails (the window makes them as you browse, too).",
        """
        mediavault thumbnails
        mediavault thumbnails /Photos --size 256 --scale 2
        """,
        common,
    )
    p.add_argument("path", nargs="?", metavar="FOLDER", help="only this folder and below")
    p.add_argument(
        "--size", type=int, metavar="PX", help="thumbnail size (default: the grid's, from Settings)"
    )
    p.add_argument(
        "--scale", type=float, default=1.0, metavar="N", help="screen scaling, e.g. 2 for 200%%"
    )
    p.add_argument(
        "--workers", type=int, default=2, metavar="N", help="files decoded at once (default 2)"
    )

    remote = _command(
        subs,
        "remote",
        lambda *_: EXIT_USAGE,
        "Set, show, test or remove the bucket the vault syncs to.",
        """
        mediavault remote set --bucket my-vault --endpoint https://s3.example.com --keyring --access-key-id AKIA...
        mediavault remote set --bucket my-vault --region eu-west-1 --profile backup
        mediavault remote show
        mediavault remote test
        mediavault remote unset
        """,
        common,
    )
    remote_subs = remote.add_subparsers(
        dest="remote_command", metavar="ACTION", required=True, parser_class=_Parser
    )
    p = _command(
        remote_subs,
        "set",
        cmd_remote_set,
        "Set (or replace) the vault's remote bucket.",
        """
        mediavault remote set --bucket my-vault --region eu-west-1
        MEDIAVAULT_SECRET_ACCESS_KEY=... mediavault remote set --bucket media --endpoint http://nas:9000 --keyring --access-key-id minio
        """,
        common,
    )
    _add_bucket_arguments(p)
    _command(
        remote_subs,
        "show",
        cmd_remote_show,
        "Show the remote and where its keys come from (never the secret).",
        "mediavault remote show\nmediavault remote show --json",
        common,
    )
    _command(
        remote_subs,
        "test",
        cmd_remote_test,
        "Check the remote: list, upload, download and delete a probe object.",
        "mediavault remote test\nmediavault remote test --json",
        common,
    )
    _command(
        remote_subs,
        "unset",
        cmd_remote_unset,
        "Forget the remote and its keys in the keyring (the bucket is not touched).",
        "mediavault remote unset",
        common,
    )

    p = _command(
        subs,
        "sync",
        cmd_sync,
        "Upload new files to the remote bucket, then a snapshot of the catalog.",
        """
        mediavault sync
        mediavault sync --workers 8
        mediavault sync --no-snapshot --json
        """,
        common,
    )
    p.add_argument(
        "--workers", type=_positive, default=4, metavar="N", help="upload N files at once (4)"
    )
    p.add_argument(
        "--no-snapshot", action="store_true", help="do not upload a snapshot of the catalog"
    )

    p = _command(
        subs,
        "cleanup",
        cmd_cleanup,
        "Tidy the bucket: abort stale uploads, reset stuck ones, delete unused files.",
        """
        mediavault cleanup --dry-run --verbose
        mediavault cleanup
        mediavault cleanup --hours 0
        mediavault cleanup --status failed
        mediavault cleanup --json
        """,
        common,
    )
    p.description = (
        "Tidy the bucket: abort stale uploads, reset stuck ones, delete unused files.\n\n"
        "A file is deleted from the bucket only when no version in the catalog (Trash\n"
        "included) and none in any catalog snapshot in the bucket uses it; if a snapshot\n"
        "cannot be read, nothing is deleted. Never runs beside a sync."
    )
    p.add_argument(
        "--hours",
        type=_positive,
        default=24,
        metavar="N",
        help="abort unfinished uploads started N or more hours ago (24)",
    )
    p.add_argument("--dry-run", action="store_true", help="show what would be done; change nothing")
    p.add_argument(
        "--status",
        choices=("failed",),
        help="failed: also list uploads that failed (attempts, last error, files) and put "
        "them back to pending so the next sync tries them afresh",
    )
    p.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="list each aborted upload, reset upload and deleted file (default: counts)",
    )

    p = _command(
        subs,
        "restore",
        cmd_restore,  # runs without an open vault (opens_vault=False)
        "Rebuild the vault in an empty directory from its bucket (newest catalog snapshot).",
        """
        mediavault --vault ~/MediaVault restore --bucket my-vault --region eu-west-1
        mediavault restore --bucket media --endpoint http://nas:9000 --prefix vault --all
        """,
        common,
    )
    p.set_defaults(opens_vault=False)
    _add_bucket_arguments(p)
    p.add_argument(
        "--all", action="store_true", help="download every file now (default: on demand)"
    )
    p.add_argument(
        "--workers", type=_positive, default=4, metavar="N", help="download N files at once (4)"
    )
    # Commands kept in modules of their own (they import this one's helpers).
    from app import cli_sharing, cli_tags, cli_versions

    for module in (cli_versions, cli_tags, cli_sharing):
        module.register(subs, common)
    return parser


# -- entry point -----------------------------------------------------------------


def _window_files(
    parser: argparse.ArgumentParser, argv: list[str]
) -> tuple[str | None, list[str]] | None:
    """``mediavault [--vault DIR] FILE…`` (a launcher's ``%F``): the vault and the files
    for the window to import; None for anything else (commands, options, typos).

    Only when every argument after the options is an existing file or folder and
    the first is not a command's name, so a mistyped command still gets its usage
    error.
    """
    home: str | None = None
    rest = list(argv)
    if rest[:1] == ["--vault"] and len(rest) >= 2:
        home, rest = rest[1], rest[2:]
    elif rest[:1] and rest[0].startswith("--vault="):
        home, rest = rest[0].split("=", 1)[1], rest[1:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    elif not rest or rest[0].startswith("-"):
        return None
    commands: set[str] = set()
    for action in parser._actions:  # argparse keeps the subcommands here, nowhere public
        if isinstance(action, argparse._SubParsersAction):
            commands.update(action.choices)
    if not rest or rest[0] in commands or not all(os.path.exists(f) for f in rest):
        return None
    return home, rest


def _smoke_args(argv: list[str]) -> tuple[str | None, list[str]] | None:
    """``mediavault [--vault DIR] --smoke-test [FILE…]``: the vault and files, else None.

    Not in ``--help``: it is for checking a build (``.ci/run``), not for users.
    """
    home: str | None = None
    rest = list(argv)
    if rest[:1] == ["--vault"] and len(rest) >= 2:
        home, rest = rest[1], rest[2:]
    elif rest[:1] and rest[0].startswith("--vault="):
        home, rest = rest[0].split("=", 1)[1], rest[1:]
    if rest[:1] != ["--smoke-test"]:
        return None
    return home, rest[1:]


def _install_desktop_entry() -> int:
    from app.desktop import describe, install_desktop_entry

    print(describe(install_desktop_entry()))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run ``mediavault`` with ``argv`` (default: the process's); returns the exit status.

    Never raises (``SystemExit`` from ``--help`` and usage errors included):
    the status is returned, so tests and ``python -m app`` treat it alike.
    """
    parser = build_parser()
    args_list = list(sys.argv[1:] if argv is None else argv)
    smoke = _smoke_args(args_list)
    if smoke is not None:
        from ui.app import run_smoke_test  # the application end to end (ui/smoke.py)

        return run_smoke_test(Path(smoke[0]) if smoke[0] else None, smoke[1])
    window_files = _window_files(parser, args_list)
    if window_files is not None:
        home_, files = window_files
        from ui.app import run as run_window  # Qt is loaded only for the window

        return run_window(Path(home_) if home_ else None, files=files)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    home: str | None = args.vault
    if args.command is None and not args.install_desktop_entry:
        from ui.app import run  # Qt is loaded only for the window

        return run(Path(home) if home else None)
    log_path = setup_logging(vault_paths(home))
    out = Output(args.json, args.progress or sys.stderr.isatty())
    try:
        if args.install_desktop_entry:
            return _install_desktop_entry()
        if not getattr(args, "opens_vault", True):
            status_: int = args.func(home, args, out)
            return status_
        vault = Vault.open(home)
        try:
            status: int = args.func(vault, args, out)
            return status
        finally:
            vault.close()
    except VaultError as exc:
        print(f"{PROG}: error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return EXIT_FAIL
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``mediavault ls | head``): not worth a word. Point stdout
        # at /dev/null so that the interpreter's final flush does not complain either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAIL
    except Exception as exc:  # anything else is a bug: log it, never dump it on the terminal
        logging.getLogger(PROG).exception("internal error in %s %s", PROG, __version__)
        details = f" (details in {log_path})" if log_path else ""
        # First line only: database errors carry their SQL, which belongs in the log.
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"{PROG}: internal error: {type(exc).__name__}: {message}{details}", file=sys.stderr)
        return EXIT_FAIL
