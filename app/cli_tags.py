"""The ``mediavault tag`` commands: tag files, list, rename, recolour and delete tags."""

from __future__ import annotations

import argparse
from typing import Any

from app.cli import EXIT_OK, EXIT_USAGE, Output, _command, _count, _Parser
from app.rows import TagInfo
from app.vault import Vault


def _tag_json(tag: TagInfo, files: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"id": tag.id, "name": tag.name, "color": tag.color}
    if files is not None:
        data["files"] = files
    return data


def cmd_tag_add(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Put a tag on files, creating the tag if it is new."""
    ids = [vault.require_file(p) for p in args.paths]
    colors = {args.tag: args.color} if args.color else None
    changes = vault.tag_files(ids, add=[args.tag], create=True, colors=colors)
    tag = vault.tag_named(args.tag)
    paths = [vault.path_of("file", i) for i in ids]
    out.data({"tag": _tag_json(tag), "files": paths, "changed": len(changes.files)})
    if changes.created:
        out.line(f"Created tag {tag.name} ({tag.color})")
    elif args.color:
        out.note(f"{tag.name} keeps its colour {tag.color} (change it with: tag color).")
    out.line(f"Tagged {_count(len(changes.files), 'file')} with {tag.name}")
    if len(changes.files) < len(ids):
        out.note(f"{_count(len(ids) - len(changes.files), 'file')} had it already.")
    return EXIT_OK


def cmd_tag_rm(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Take a tag off files (the tag stays, see ``tag delete``)."""
    tag = vault.tag_named(args.tag)
    ids = [vault.require_file(p) for p in args.paths]
    changes = vault.tag_files(ids, remove=[tag.id])
    paths = [vault.path_of("file", i) for i in ids]
    out.data({"tag": _tag_json(tag), "files": paths, "changed": len(changes.files)})
    out.line(f"Removed {tag.name} from {_count(len(changes.files), 'file')}")
    return EXIT_OK


def cmd_tag_list(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Every tag with its colour and how many files carry it, or one file's tags."""
    if args.path:
        file_id = vault.require_file(args.path)
        tags = vault.file_tags(file_id)
        out.data([_tag_json(t) for t in tags])
        for t in tags:
            out.line(f"{t.color or '-':<8} {t.name}")
        if not tags:
            out.note(f"{vault.path_of('file', file_id)} has no tags.")
        return EXIT_OK
    counts = vault.tags_with_counts()
    out.data([_tag_json(TagInfo(t.id, t.name, t.color), t.files) for t in counts])
    width = max((len(f"{t.files:,}") for t in counts), default=1)
    for c in counts:
        out.line(f"{c.files:>{width},}  {c.color or '-':<8} {c.name}")
    if not counts:
        out.note("No tags yet. Add one with: mediavault tag add NAME PATH…")
    return EXIT_OK


def cmd_tag_rename(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Rename a tag."""
    tag = vault.tag_named(args.tag)
    changes = vault.rename_tag(tag.id, args.name)
    renamed = vault.tag(tag.id)
    out.data({"tag": _tag_json(renamed), "old_name": tag.name, "files": len(changes.files)})
    out.line(f"Renamed tag {tag.name} to {renamed.name}")
    return EXIT_OK


def cmd_tag_color(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Give a tag another colour."""
    tag = vault.tag_named(args.tag)
    vault.recolor_tag(tag.id, args.color)
    changed = vault.tag(tag.id)
    out.data({"tag": _tag_json(changed), "old_color": tag.color})
    out.line(f"Tag {changed.name} is now {changed.color}")
    return EXIT_OK


def cmd_tag_delete(vault: Vault, args: argparse.Namespace, out: Output) -> int:
    """Delete a tag, taking it off every file."""
    tag = vault.tag_named(args.tag)
    changes = vault.delete_tag(tag.id)
    out.data({"tag": _tag_json(tag), "files": changes.count})
    out.line(f"Deleted tag {tag.name} (it was on {_count(changes.count, 'file')})")
    return EXIT_OK


def register(subs: Any, common: argparse.ArgumentParser) -> None:
    """Add this module's commands to the parser's subcommands."""
    tag = _command(
        subs,
        "tag",
        lambda *_: EXIT_USAGE,
        "Tag files, and list, rename, recolour or delete tags.",
        """
        mediavault tag add Beach /Photos/2023/IMG_0001.jpg /Photos/2023/IMG_0002.jpg
        mediavault tag add "Road trip" /Photos/route.jpg --color orange
        mediavault tag rm Beach /Photos/2023/IMG_0002.jpg
        mediavault tag list
        mediavault tag list /Photos/2023/IMG_0001.jpg
        mediavault tag rename Beach Seaside
        mediavault tag color Seaside "#0090ff"
        mediavault tag delete Seaside
        mediavault search 'tag:"Road trip"'
        """,
        common,
    )
    tag_subs = tag.add_subparsers(
        dest="tag_command", metavar="ACTION", required=True, parser_class=_Parser
    )
    p = _command(
        tag_subs,
        "add",
        cmd_tag_add,
        "Put a tag on files; a new name creates the tag.",
        'mediavault tag add Beach /Photos/a.jpg /Photos/b.jpg\nmediavault tag add "Road trip" '
        "/Photos/route.jpg --color orange",
        common,
    )
    p.add_argument("tag", metavar="TAG", help="the tag's name (ignoring case)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files in the vault")
    p.add_argument(
        "--color",
        metavar="COLOR",
        help="for a new tag: #rrggbb or red, orange, yellow, green, teal, blue, purple, "
        "pink, brown, gray (default: the least used)",
    )
    p = _command(
        tag_subs,
        "rm",
        cmd_tag_rm,
        "Take a tag off files (the tag itself stays).",
        "mediavault tag rm Beach /Photos/b.jpg",
        common,
    )
    p.add_argument("tag", metavar="TAG")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p = _command(
        tag_subs,
        "list",
        cmd_tag_list,
        "List the tags with their colours and how many files carry them, or a file's tags.",
        "mediavault tag list\nmediavault tag list /Photos/a.jpg --json",
        common,
    )
    p.add_argument("path", nargs="?", metavar="PATH", help="a file: list its tags")
    p = _command(
        tag_subs,
        "rename",
        cmd_tag_rename,
        "Rename a tag.",
        "mediavault tag rename Beach Seaside",
        common,
    )
    p.add_argument("tag", metavar="TAG")
    p.add_argument("name", metavar="NEW_NAME")
    p = _command(
        tag_subs,
        "color",
        cmd_tag_color,
        "Give a tag another colour.",
        'mediavault tag color Beach blue\nmediavault tag color Beach "#0090ff"',
        common,
    )
    p.add_argument("tag", metavar="TAG")
    p.add_argument("color", metavar="COLOR", help="#rrggbb, #rgb or a colour's name")
    p = _command(
        tag_subs,
        "delete",
        cmd_tag_delete,
        "Delete a tag, taking it off every file that carries it.",
        "mediavault tag delete Seaside",
        common,
    )
    p.add_argument("tag", metavar="TAG")
