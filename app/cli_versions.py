"""The ``mediavault versions`` commands: list, add, restore, export, note, rm, prune, policy.

Files are named by vault path like every other command (``/Documents/report.pdf``)
and versions by their number (``mediavault versions list`` shows them).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    Output,
    UsageError,
    _command,
    _count,
    _LazyRemoteStore,
    _Parser,
    _plain,
    _positive,
    _when,
)
from app.progress import human_size
from app.rows import VersionInfo
from app.vault import Vault
from app.versions import (
    KEEP_ALL,
    PruneReport,
    RetentionPolicy,
)


def _version_json(v: VersionInfo, current: bool) -> dict[str, Any]:
    return {**_plain(v), "current": current}


def _location(v: VersionInfo) -> str:
    if v.local_state == "present":
        return "here" + (" + bucket" if v.remote_state == "completed" else "")
    return "bucket only"


def cmd_versions_list(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """List a file's versions, newest first."""
    file_id = vault.require_file(args.path)
    current = vault.current_version_id(file_id)
    versions = sorted(vault.versions(file_id), key=lambda v: v.number, reverse=True)
    path = vault.path_of("file", file_id)
    out.data({"path": path, "versions": [_version_json(v, v.id == current) for v in versions]})
    if not out.json:
        out.line(f"{path}: {_count(len(versions), 'version')}")
        out.line(
            f"  {'NO.':>4}  {'CREATED':<16}  {'SIZE':>9}  {'STORED':<13}  {'DEVICE':<16}  NOTE"
        )
        for v in versions:
            mark = "*" if v.id == current else " "
            out.line(
                f"{mark} {v.number:>4}  {_when(v.created_at):<16}  {human_size(v.size):>9}  "
                f"{_location(v):<13}  {v.device[:16]:<16}  {v.note}"
            )
        out.line("(* is the current version)")
    return EXIT_OK


def cmd_versions_add(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Add a file from disk as the new current version of a vault file."""
    file_id = vault.require_file(args.path)
    report = vault.add_version(file_id, Path(args.source))
    path = vault.path_of("file", file_id)
    if report.failed:
        reason = report.failed[0].reason
        out.data({"path": path, "added": False, "reason": reason})
        out.note(f"Not added: {args.source}: {reason}")
        return EXIT_FAIL
    if report.skipped:
        out.data({"path": path, "added": False, "reason": report.skipped[0].reason})
        out.line(f"Nothing added: {path} already has this content as its current version.")
        return EXIT_OK
    info = vault.file_info(file_id).version
    out.data({"path": path, "added": True, "version": _version_json(info, True)})
    out.line(f"Added version {info.number} of {path} ({human_size(info.size)})")
    return EXIT_OK


def cmd_versions_restore(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Make an old version current again (as a new version)."""
    file_id = vault.require_file(args.path)
    change = vault.restore_version(file_id, vault.version_id(file_id, args.number))
    path = vault.path_of("file", file_id)
    out.data(
        {
            "path": path,
            "restored": args.number,
            "version": change.number,
            "pruned": list(change.pruned),
        }
    )
    out.line(f"Restored version {args.number} of {path} as version {change.number}")
    if change.pruned:
        numbers = ", ".join(str(n) for n in change.pruned)
        out.line(f"The retention policy removed {_count(len(change.pruned), 'version')}: {numbers}")
    return EXIT_OK


def cmd_versions_export(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Write one version to disk as "name (vN).ext"."""
    file_id = vault.require_file(args.path)
    target = vault.export_version(
        vault.version_id(file_id, args.number), Path(args.to), store=_LazyRemoteStore(vault)
    )
    size = target.stat().st_size
    out.data({"written": target, "bytes": size})
    out.line(f"Exported version {args.number} to {target} ({human_size(size)})")
    return EXIT_OK


def cmd_versions_note(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Set or clear a version's change note."""
    file_id = vault.require_file(args.path)
    vault.set_version_note(vault.version_id(file_id, args.number), args.text)
    path = vault.path_of("file", file_id)
    out.data({"path": path, "version": args.number, "note": " ".join(args.text.split())})
    out.line(f"{'Noted' if args.text.strip() else 'Cleared the note of'} version {args.number}")
    return EXIT_OK


def cmd_versions_rm(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Delete old versions of a file for good."""
    file_id = vault.require_file(args.path)
    ids = [vault.version_id(file_id, n) for n in args.numbers]  # all exist before any goes
    freed = 0
    for version_id in ids:
        freed += vault.delete_version(version_id).freed_bytes
    path = vault.path_of("file", file_id)
    out.data({"path": path, "deleted": args.numbers, "freed_bytes": freed})
    numbers = ", ".join(str(n) for n in args.numbers)
    out.line(
        f"Deleted {_count(len(args.numbers), 'version')} of {path} ({numbers}); "
        f"{human_size(freed)} freed"
    )
    return EXIT_OK


def _prune_json(report: PruneReport) -> dict[str, Any]:
    return {
        "policy": report.policy.to_json(),
        "dry_run": report.dry_run,
        "versions_removed": report.versions_removed,
        "freed_bytes": report.freed_bytes,
        "kept_for_shares": report.kept_for_shares,
        "files": [
            {"id": f.file_id, "path": f.path, "removed": list(f.removed), "bytes": f.bytes}
            for f in report.files
        ],
    }


def cmd_versions_prune(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Apply the retention policy."""
    file_ids = [vault.require_file(p) for p in args.paths] if args.paths else None
    report = vault.prune(dry_run=args.dry_run, file_ids=file_ids)
    out.data(_prune_json(report))
    if out.json:
        return EXIT_OK
    out.line(f"Policy: {report.policy.describe()}.")
    if report.policy.mode == KEEP_ALL:
        out.line("Nothing to remove. Choose a policy with `mediavault versions policy`.")
        return EXIT_OK
    verb = "Would remove" if report.dry_run else "Removed"
    out.line(
        f"{verb} {_count(report.versions_removed, 'version')} of "
        f"{_count(len(report.files), 'file')}; {human_size(report.freed_bytes)} "
        f"{'would be ' if report.dry_run else ''}freed"
    )
    for f in report.files:
        numbers = ", ".join(str(n) for n in f.removed)
        out.line(f"  {f.path}: {numbers} ({human_size(f.bytes)})")
    if report.kept_for_shares:
        out.line(f"Kept {_count(report.kept_for_shares, 'version')} that active shares use.")
    if not report.dry_run and report.freed_bytes:
        out.line("The bucket's copies go at the next `mediavault cleanup`.")
    return EXIT_OK


def cmd_versions_policy(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Show or set the retention policy."""
    chosen = [args.keep_all, args.keep_last is not None, args.days is not None]
    if sum(chosen) > 1:
        raise UsageError("choose one of --keep-all, --keep-last or --days/--weeks")
    if args.weeks is not None and args.days is None:
        raise UsageError("--weeks goes with --days (e.g. --days 7 --weeks 4)")
    policy: RetentionPolicy | None = None
    if args.keep_all:
        policy = RetentionPolicy.keep_all()
    elif args.keep_last is not None:
        policy = RetentionPolicy.last(args.keep_last)
    elif args.days is not None:
        policy = RetentionPolicy.by_age(args.days, args.weeks or 0)
    policy = vault.set_retention(policy) if policy is not None else vault.get_retention()
    out.data({**policy.to_json(), "description": policy.describe(), "changed": bool(any(chosen))})
    out.line(f"{policy.describe()}.")
    if any(chosen) and policy.mode != KEEP_ALL:
        out.line(
            "It applies to a file when it gets a new version; "
            "`mediavault versions prune` applies it to every file now."
        )
    return EXIT_OK


def _at_least_one(text: str) -> int:
    value = _positive(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of 1 or more, not {text!r}")
    return value


def register(subs: Any, common: argparse.ArgumentParser) -> None:
    """Add this module's commands to the parser's subcommands."""
    versions = _command(
        subs,
        "versions",
        lambda *_: EXIT_USAGE,
        "List, restore, export or delete the versions of a file, and keep old ones in check.",
        """
        mediavault versions list /Documents/report.pdf
        mediavault versions add /Documents/report.pdf ~/Desktop/report-final.pdf
        mediavault versions restore /Documents/report.pdf 3
        mediavault versions export /Documents/report.pdf 3 --to ~/Desktop
        mediavault versions note /Documents/report.pdf 3 "Sent to the printer"
        mediavault versions rm /Documents/report.pdf 1 2
        mediavault versions policy --keep-last 10
        mediavault versions prune --dry-run
        """,
        common,
    )
    actions = versions.add_subparsers(
        dest="versions_command", metavar="ACTION", required=True, parser_class=_Parser
    )
    p = _command(
        actions,
        "list",
        cmd_versions_list,
        "List a file's versions, newest first (* marks the current one).",
        "mediavault versions list /Documents/report.pdf\n"
        "mediavault versions list /Documents/report.pdf --json",
        common,
    )
    p.add_argument("path", metavar="PATH", help="a file in the vault")
    p = _command(
        actions,
        "add",
        cmd_versions_add,
        "Add a file from disk as the new current version of a file in the vault.",
        "mediavault versions add /Documents/report.pdf ~/Desktop/report-final.pdf",
        common,
    )
    p.add_argument("path", metavar="PATH", help="a file in the vault")
    p.add_argument("source", metavar="SOURCE", help="the new content, a file on disk")
    p = _command(
        actions,
        "restore",
        cmd_versions_restore,
        "Make an old version current again; it is added as a new version, nothing is lost.",
        "mediavault versions restore /Documents/report.pdf 3",
        common,
    )
    p.add_argument("path", metavar="PATH", help="a file in the vault")
    p.add_argument("number", type=_at_least_one, metavar="N", help="the version's number")
    p = _command(
        actions,
        "export",
        cmd_versions_export,
        'Copy one version to disk as "name (vN).ext", byte for byte (names taken keep both).',
        "mediavault versions export /Documents/report.pdf 3 --to ~/Desktop",
        common,
    )
    p.add_argument("path", metavar="PATH", help="a file in the vault")
    p.add_argument("number", type=_at_least_one, metavar="N", help="the version's number")
    p.add_argument("--to", required=True, metavar="DIR", help="the folder on disk to write into")
    p = _command(
        actions,
        "note",
        cmd_versions_note,
        "Set the change note of a version (an empty note clears it).",
        'mediavault versions note /Documents/report.pdf 3 "Sent to the printer"',
        common,
    )
    p.add_argument("path", metavar="PATH", help="a file in the vault")
    p.add_argument("number", type=_at_least_one, metavar="N", help="the version's number")
    p.add_argument("text", metavar="TEXT", help='the note ("" clears it)')
    p = _command(
        actions,
        "rm",
        cmd_versions_rm,
        "Delete old versions of a file for good (never the current one).",
        "mediavault versions rm /Documents/report.pdf 1\n"
        "mediavault versions rm /Documents/report.pdf 1 2 3",
        common,
    )
    p.add_argument("path", metavar="PATH", help="a file in the vault")
    p.add_argument("numbers", nargs="+", type=_at_least_one, metavar="N", help="version numbers")
    p = _command(
        actions,
        "prune",
        cmd_versions_prune,
        "Apply the retention policy: remove the old versions it does not keep.",
        "mediavault versions prune --dry-run\nmediavault versions prune /Documents/report.pdf",
        common,
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="only these files (default: all)")
    p.add_argument("--dry-run", action="store_true", help="only say what would be removed")
    p = _command(
        actions,
        "policy",
        cmd_versions_policy,
        "Show or set how many old versions the vault keeps. The current version, and "
        "versions an active share uses, are always kept.",
        """
        mediavault versions policy
        mediavault versions policy --keep-all
        mediavault versions policy --keep-last 10
        mediavault versions policy --days 7 --weeks 4
        """,
        common,
    )
    p.add_argument("--keep-all", action="store_true", help="keep every version (the default)")
    p.add_argument(
        "--keep-last", type=_at_least_one, metavar="N", help="keep the last N versions of a file"
    )
    p.add_argument(
        "--days", type=_positive, metavar="D", help="keep every version for D days, then…"
    )
    p.add_argument(
        "--weeks", type=_positive, metavar="W", help="…one per day for W weeks (with --days)"
    )
