"""The ``mediavault`` commands for sharing: ``share create|list|link|revoke`` and
``inbox create|list``.

Links are printed (they are what the user asked for) but never logged or
stored: ``share link ID`` signs a share's link again for the time it has left.
"""

from __future__ import annotations

import argparse
from datetime import timedelta
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
    _Parser,
    _when,
    parse_size,
)
from app.errors import NotFound
from app.progress import human_size
from app.sharing import EXPIRY_LIMIT_TEXT, ShareInfo, ShareLink, UploadRequest, parse_expiry
from app.vault import Vault


def _expiry(text: str) -> timedelta:
    try:
        return parse_expiry(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _share_json(share: ShareInfo) -> dict[str, Any]:
    return {
        "id": share.id,
        "kind": share.kind,
        "status": share.status,
        "name": share.name,
        "path": share.path,
        "version": share.version_number,
        "note": share.note,
        "created_at": share.created_at,
        "expires_at": share.expires_at,
        "revoked_at": share.revoked_at,
        "max_bytes": share.max_bytes,
    }


def _what(share: ShareInfo) -> str:
    if share.kind == "folder-zip":
        return f"{share.path or '(folder gone)'} as {share.name}"
    if share.kind == "upload-request":
        return f"upload into {share.path or '(folder gone)'}"
    version = f" (version {share.version_number})" if share.version_number else ""
    return f"{share.path or share.name + ' (gone)'}{version}"


def _share_line(share: ShareInfo) -> str:
    until = "revoked " + _when(share.revoked_at) if share.revoked_at else _when(share.expires_at)
    note = f"  “{share.note}”" if share.note else ""
    return f"{share.id:>5}  {share.status:<8}  {until:<24}  {_what(share)}{note}"


def _print_links(links: list[ShareLink], out: Output) -> None:
    for link in links:
        out.line(
            f"{_what(link.share)}, until {_when(link.share.expires_at)} UTC (share {link.share.id}):"
        )
        out.line(f"  {link.url}")


def cmd_share_create(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Share a file (one version) or a folder (per file, or as one zip) as download links."""
    kind, item_id = vault.resolve(args.path)
    failed: list[tuple[str, str]] = []
    if kind == "file":
        if args.zip:
            raise UsageError("--zip is for folders; a file is shared as itself")
        version_id = None
        if args.version is not None:
            numbers = {v.number: v.id for v in vault.versions(item_id)}
            if args.version not in numbers:
                raise NotFound(
                    f"{vault.path_of('file', item_id)} has no version {args.version}.",
                    f"See `mediavault versions list {args.path}`.",
                )
            version_id = numbers[args.version]
        links = [vault.share_file(item_id, version_id, args.expires, args.note)]
        zipped = False
    else:
        if args.version is not None:
            raise UsageError("--version is for a file, not a folder")
        bar = out.bar("Sharing")
        try:
            result = vault.share_folder(
                item_id,
                args.expires,
                args.note,
                as_zip=args.zip,
                progress=lambda done, total: bar.update(done, total, 0, "files", ""),
            )
        finally:
            bar.finish()
        links, failed, zipped = result.links, result.failed, result.zipped
    out.data(
        {
            "zipped": zipped,
            "links": [{**_share_json(link.share), "url": link.url} for link in links],
            "failed": [{"path": p, "error": e} for p, e in failed],
        }
    )
    if kind == "folder":
        out.line(
            f"Shared {vault.path_of('folder', item_id)} as one zip."
            if zipped
            else f"Shared {_count(len(links), 'file')} of {vault.path_of('folder', item_id)}, "
            "one link each."
        )
    _print_links(links, out)
    for path, error in failed:
        out.note(f"not shared: {path}: {error}")
    return EXIT_OK if not failed else EXIT_FAIL


def cmd_share_list(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """List shares: every active one, or a file's or folder's active and past ones."""
    if args.path:
        kind, item_id = vault.resolve(args.path)
        shares = (
            vault.list_shares(file_id=item_id)
            if kind == "file"
            else vault.list_shares(folder_id=item_id)
        )
    elif args.all:
        shares = vault.list_shares()
    else:
        shares = vault.active_shares()
    out.data([_share_json(s) for s in shares])
    if not out.json:
        if not shares:
            out.line("No shares." if args.path or args.all else "No active shares.")
            return EXIT_OK
        out.line(f"{'ID':>5}  {'STATUS':<8}  {'EXPIRES (UTC)':<24}  WHAT")
        for share in shares:
            out.line(_share_line(share))
    return EXIT_OK


def cmd_share_link(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Print an active share's link again, signed for the time it has left."""
    link = vault.share_link(args.id)
    out.data({**_share_json(link.share), "url": link.url})
    _print_links([link], out)
    return EXIT_OK


def cmd_share_revoke(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Revoke shares: their links stop working at once."""
    revoked = []
    for share_id in args.ids:
        changes = vault.revoke_share(share_id)
        revoked.append({"id": share_id, "changed": bool(changes.shares)})
    out.data({"revoked": revoked})
    for item in revoked:
        out.line(
            f"Revoked share {item['id']}."
            if item["changed"]
            else f"Share {item['id']} was already revoked."
        )
    return EXIT_OK


def _request_json(request: UploadRequest) -> dict[str, Any]:
    return {
        **_share_json(request.share),
        "url": request.url,
        "fields": request.fields,
        "curl": request.curl,
    }


def cmd_inbox_create(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Ask someone for a file: an upload link into a folder, imported by the next sync."""
    folder_id = vault.resolve_folder(args.to)
    request = vault.create_upload_request(folder_id, args.expires, args.max_size, args.note)
    html_path = None
    if args.html:
        html_path = vault.write_upload_form(request, Path(args.html))
    out.data({**_request_json(request), "html": html_path})
    share = request.share
    out.line(
        f"Upload request {share.id} into {share.path}: one file of up to "
        f"{human_size(args.max_size)}, until {_when(share.expires_at)} UTC."
    )
    out.line(f"POST to: {request.url}")
    out.line("With curl (replace FILE and YOUR NAME):")
    out.line(f"  {request.curl}")
    if html_path:
        out.line(f"Form to send: {html_path}")
    out.line("The next `mediavault sync` imports what arrives.")
    return EXIT_OK


def cmd_inbox_list(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """List upload requests and what each brought in."""
    requests = vault.upload_requests(include_past=args.all)
    found = [(r, vault.upload_arrivals(r.id)) for r in requests]
    out.data([{**_share_json(r), "arrivals": arrivals} for r, arrivals in found])
    if not out.json:
        if not found:
            out.line("No upload requests." if args.all else "No open upload requests.")
            return EXIT_OK
        for request, arrivals in found:
            out.line(_share_line(request))
            for a in arrivals:
                who = f" from {a.sender}" if a.sender else ""
                what = f"refused: {a.refused}" if a.refused else (a.path or "already there")
                out.line(
                    f"         {_when(a.received_at)}  {a.name}{who} ({human_size(a.size)}): {what}"
                )
    return EXIT_OK


def register(subs: Any, common: argparse.ArgumentParser) -> None:
    """Add ``share`` and ``inbox`` to the parser's subcommands."""
    share = _command(
        subs,
        "share",
        lambda *_: EXIT_USAGE,
        "Share files and folders as download links from the bucket; list or revoke them.",
        """
        mediavault share create /Photos/Beach.jpg --expires 2d --note "for Ana"
        mediavault share create /Photos/2023 --zip --expires 7d
        mediavault share list
        mediavault share link 12
        mediavault share revoke 12
        """,
        common,
    )
    share_subs = share.add_subparsers(
        dest="share_command", metavar="ACTION", required=True, parser_class=_Parser
    )
    p = _command(
        share_subs,
        "create",
        cmd_share_create,
        "Make a download link for a file (one version) or a folder.",
        """
        mediavault share create /Docs/report.pdf
        mediavault share create /Docs/report.pdf --version 2 --expires 12h
        mediavault share create /Photos/2023 --zip
        mediavault share create /Photos/2023 --per-file --json
        """,
        common,
    )
    p.description = (
        "Make a download link for a file (one version) or a folder.\n\n"
        "The content is copied to <prefix>/shares/<random id>/<name> in the bucket and a\n"
        "link to it is signed. " + EXPIRY_LIMIT_TEXT + "\n"
        "A folder is shared as one link per file (default) or, with --zip, as one zip."
    )
    p.add_argument("path", metavar="PATH", help="a file or folder in the vault")
    p.add_argument("--version", type=int, metavar="N", help="share version N (default: current)")
    p.add_argument(
        "--expires",
        type=_expiry,
        default=timedelta(days=1),
        metavar="TIME",
        help="how long the link works: 1h to 7d, e.g. 1h, 12h, 2d, 7d (1d)",
    )
    p.add_argument("--note", default="", help="a note on whom it is for")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--zip", action="store_true", help="a folder as one zip file")
    how.add_argument(
        "--per-file", action="store_true", help="a folder as one link per file (default)"
    )
    p = _command(
        share_subs,
        "list",
        cmd_share_list,
        "List active shares, or a file's or folder's shares (active and past).",
        "mediavault share list\nmediavault share list /Docs/report.pdf\nmediavault share list --all",
        common,
    )
    p.add_argument("path", nargs="?", metavar="PATH", help="a file or folder in the vault")
    p.add_argument("--all", action="store_true", help="also expired and revoked shares")
    p = _command(
        share_subs,
        "link",
        cmd_share_link,
        "Print an active share's link again (signed for the time it has left).",
        "mediavault share link 12",
        common,
    )
    p.add_argument("id", type=int, metavar="ID", help="the share's id (see `share list`)")
    p = _command(
        share_subs,
        "revoke",
        cmd_share_revoke,
        "Revoke shares: the shared copy is deleted, so the link stops working at once.",
        "mediavault share revoke 12\nmediavault share revoke 12 13",
        common,
    )
    p.add_argument("ids", nargs="+", type=int, metavar="ID", help="share ids (see `share list`)")

    inbox = _command(
        subs,
        "inbox",
        lambda *_: EXIT_USAGE,
        "Upload requests: let someone send you a file, imported by the next sync.",
        """
        mediavault inbox create --to /Inbox --expires 3d --max-size 500M --html send.html
        mediavault inbox list
        """,
        common,
    )
    inbox_subs = inbox.add_subparsers(
        dest="inbox_command", metavar="ACTION", required=True, parser_class=_Parser
    )
    p = _command(
        inbox_subs,
        "create",
        cmd_inbox_create,
        "Make an upload link (a pre-signed POST form) into a folder.",
        """
        mediavault inbox create --to /Inbox
        mediavault inbox create --to /Clients/Acme --expires 7d --max-size 2G --note "scans"
        mediavault inbox create --to /Inbox --html send-me-a-file.html
        """,
        common,
    )
    p.add_argument("--to", required=True, metavar="FOLDER", help="where arrivals are imported")
    p.add_argument(
        "--expires",
        type=_expiry,
        default=timedelta(days=7),
        metavar="TIME",
        help="how long uploads are accepted: 1h to 7d (7d)",
    )
    p.add_argument(
        "--max-size",
        type=parse_size,
        default=1 << 30,
        metavar="SIZE",
        help="the largest file accepted, up to 5G (1G)",
    )
    p.add_argument("--note", default="", help="a note on whom it is for; shown on the form")
    p.add_argument("--html", metavar="FILE", help="also write an upload form page to FILE")
    p = _command(
        inbox_subs,
        "list",
        cmd_inbox_list,
        "List open upload requests and what arrived through each.",
        "mediavault inbox list\nmediavault inbox list --all --json",
        common,
    )
    p.add_argument("--all", action="store_true", help="also expired and revoked requests")
