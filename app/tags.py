"""Tags: creating, renaming, recolouring and deleting them, and tagging files.

A tag has a name, unique ignoring case (the catalog's ``tag.name_key`` is
:func:`app.naming.name_key` of it), and a colour ``#rrggbb``; new tags get the
palette's least used colour unless one is given. Every call keeps the search
index's ``tags`` column of the files it touches right, in the same
transaction, and returns a :class:`app.rows.TagChanges`.

Counts are of live files (what the tree shows); a file in the Trash keeps its
tags and gets them back with it when restored.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from app import search_index
from app.core import VaultBase
from app.errors import InvalidName, NameTaken, NotFound, VaultError
from app.naming import name_key, normalize
from app.rows import TagChanges, TagInfo, TagState

MAX_TAG_CHARS = 64

# Finder's and Dolphin's tag colours, and a few more: readable as chips on light
# and dark backgrounds alike.
PALETTE: tuple[tuple[str, str], ...] = (
    ("red", "#e5484d"),
    ("orange", "#f76b15"),
    ("yellow", "#e2a336"),
    ("green", "#30a46c"),
    ("teal", "#12a594"),
    ("blue", "#0090ff"),
    ("purple", "#8e4ec6"),
    ("pink", "#d6409f"),
    ("brown", "#a18072"),
    ("gray", "#8b8d98"),
)
COLOR_NAMES = dict(PALETTE) | {"grey": "#8b8d98"}
_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")


class InvalidColor(VaultError):
    """A colour that is neither ``#rrggbb``, ``#rgb`` nor one of the palette's names."""


def tag_problems(name: str) -> list[str]:
    """Every rule a tag name breaks (after trimming spaces); empty when valid.

    A tag name is not empty, has no control characters and no double quote
    (``tag:"road trip"`` in the search field could not say it), and is at most
    :data:`MAX_TAG_CHARS` characters.
    """
    name = normalize(name.strip())
    found = []
    if not name:
        return ["A tag needs a name."]
    if any(unicodedata.category(c) == "Cc" for c in name):
        found.append("A tag name cannot contain control characters (such as tabs or line breaks).")
    if '"' in name:
        found.append('A tag name cannot contain a double quote (").')
    if len(name) > MAX_TAG_CHARS:
        found.append(
            f"A tag name can be at most {MAX_TAG_CHARS} characters; this one has {len(name)}."
        )
    return found


def validate_tag_name(name: str) -> str:
    """``name`` trimmed and in NFC; :class:`InvalidName` naming the first broken rule."""
    found = tag_problems(name)
    if found:
        raise InvalidName(found[0], "Choose another name for the tag.")
    return normalize(name.strip())


def parse_color(value: str) -> str:
    """``"#RRGGBB"``, ``"#rgb"``, ``"rrggbb"`` or a palette name → ``"#rrggbb"``.

    Raises :class:`InvalidColor`.
    """
    value = value.strip()
    named = COLOR_NAMES.get(value.casefold())
    if named is not None:
        return named
    match = _HEX.fullmatch(value)
    if match is None:
        names = ", ".join(n for n, _c in PALETTE)
        raise InvalidColor(
            f'"{value}" is not a colour.', f"Use #rrggbb (like #0090ff) or one of: {names}."
        )
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


class TagOps(VaultBase):
    """Mixin: tags.

    Thread affinity: like every vault call, each opens and closes its own
    session and returns frozen values, so it may run on a worker thread.
    """

    # -- queries ---------------------------------------------------------------

    def tag(self, tag_id: int) -> TagInfo:
        """One tag; :class:`NotFound` if it was deleted."""
        with self.reading() as session:
            return self._tag_row(session, tag_id)

    def tag_named(self, name: str) -> TagInfo:
        """The tag called ``name`` (ignoring case); :class:`NotFound` if there is none."""
        with self.reading() as session:
            found = self._tag_by_key(session, name_key(name.strip()))
        if found is None:
            raise NotFound(f'There is no tag named "{name.strip()}".', "See: mediavault tag list")
        return found

    def tag_usage(self, tag_id: int) -> int:
        """How many live files carry the tag (what Delete… asks to confirm); :class:`NotFound`."""
        with self.reading() as session:
            self._tag_row(session, tag_id)
            return self._usage(session, tag_id)

    def file_tags(self, file_id: int) -> list[TagInfo]:
        """A file's tags by name (ignoring case), with their colours; :class:`NotFound`.

        A file in the Trash still has its tags.
        """
        with self.reading() as session:
            self._file(session, file_id, live=False)
            rows = session.execute(
                text(
                    "SELECT tag.id, tag.name, tag.color FROM file_tag"
                    " JOIN tag ON tag.id = file_tag.tag_id"
                    " WHERE file_tag.file_id = :f ORDER BY tag.name_key"
                ),
                {"f": file_id},
            ).all()
        return [TagInfo(r[0], r[1], r[2]) for r in rows]

    def tags_of_files(self, file_ids: Sequence[int]) -> dict[int, list[TagInfo]]:
        """The tags of many files at once (each list by name ignoring case), in one query.

        Files without tags, or that do not exist, are left out.
        """
        found: dict[int, list[TagInfo]] = {}
        with self.reading() as session:
            for file_id, tag_id, name, color in session.execute(
                text(
                    "SELECT file_tag.file_id, tag.id, tag.name, tag.color FROM file_tag"
                    " JOIN tag ON tag.id = file_tag.tag_id"
                    " WHERE file_tag.file_id IN (SELECT value FROM json_each(:ids))"
                    " ORDER BY file_tag.file_id, tag.name_key"
                ),
                {"ids": json.dumps(sorted(set(file_ids)))},
            ):
                found.setdefault(file_id, []).append(TagInfo(tag_id, name, color))
        return found

    def tag_state(self, file_ids: Sequence[int]) -> list[TagState]:
        """Every tag by name, saying whether all, some or none of ``file_ids`` carry it.

        For the tag editor's tri-state checkboxes. Ids of files that no longer
        exist count as files without tags. Two queries, whatever the selection.
        """
        selected = sorted(set(file_ids))
        with self.reading() as session:
            carried: dict[int, int] = dict(
                session.execute(
                    text(
                        "SELECT tag_id, COUNT(*) FROM file_tag"
                        " WHERE file_id IN (SELECT value FROM json_each(:ids)) GROUP BY tag_id"
                    ),
                    {"ids": json.dumps(selected)},
                ).all()
            )
            rows = session.execute(
                text(
                    "SELECT tag.id, tag.name, tag.color, (SELECT COUNT(*) FROM file_tag"
                    " JOIN file ON file.id = file_tag.file_id"
                    " WHERE file_tag.tag_id = tag.id AND file.trash_id IS NULL)"
                    " FROM tag ORDER BY tag.name_key"
                )
            ).all()
        states = []
        for tag_id, name, color, total in rows:
            n = int(carried.get(tag_id, 0))
            state = "none" if n == 0 else "all" if n == len(selected) else "some"
            states.append(TagState(tag_id, name, color, n, int(total), state))
        return states

    def next_color(self) -> str:
        """The colour a new tag gets: the palette's least used one, in palette order."""
        with self.reading() as session:
            return self._next_color(session)

    # -- changes ---------------------------------------------------------------

    def create_tag(self, name: str, color: str | None = None) -> TagChanges:
        """Create a tag. ``color`` None picks :meth:`next_color`.

        Raises :class:`InvalidName`, :class:`NameTaken` (another tag has this
        name, ignoring case) or :class:`InvalidColor`.
        """
        name = validate_tag_name(name)
        chosen = parse_color(color) if color is not None else None
        with self.writing() as session:
            if self._tag_by_key(session, name_key(name)) is not None:
                raise NameTaken(
                    f'There is already a tag named "{name}".', "Use it, or choose another name."
                )
            tag_id = self._insert_tag(session, name, chosen or self._next_color(session))
        return TagChanges(tags=frozenset({tag_id}), created=(tag_id,))

    def rename_tag(self, tag_id: int, name: str) -> TagChanges:
        """Rename a tag (a change of case alone is allowed); its files are re-indexed.

        Raises :class:`NotFound`, :class:`InvalidName` or :class:`NameTaken`.
        """
        name = validate_tag_name(name)
        with self.writing() as session:
            tag = self._tag_row(session, tag_id)
            other = self._tag_by_key(session, name_key(name))
            if other is not None and other.id != tag_id:
                raise NameTaken(
                    f'There is already a tag named "{other.name}".',
                    "Choose another name, or delete one of the two tags.",
                )
            if name == tag.name:
                return TagChanges()
            session.execute(
                text("UPDATE tag SET name = :n, name_key = :k WHERE id = :t"),
                {"n": name, "k": name_key(name), "t": tag_id},
            )
            files = self._files_of(session, tag_id)
            search_index.refresh_tags(session, files)
        return TagChanges(files=frozenset(files), tags=frozenset({tag_id}))

    def recolor_tag(self, tag_id: int, color: str) -> TagChanges:
        """Give a tag another colour. Raises :class:`NotFound` or :class:`InvalidColor`."""
        color = parse_color(color)
        with self.writing() as session:
            tag = self._tag_row(session, tag_id)
            if tag.color == color:
                return TagChanges()
            session.execute(
                text("UPDATE tag SET color = :c WHERE id = :t"), {"c": color, "t": tag_id}
            )
            files = self._files_of(session, tag_id)
        return TagChanges(files=frozenset(files), tags=frozenset({tag_id}))

    def delete_tag(self, tag_id: int) -> TagChanges:
        """Delete a tag, taking it off every file (those in the Trash too).

        ``count`` in the result is how many live files carried it, the number
        :meth:`tag_usage` gave for the confirmation. Raises :class:`NotFound`.
        """
        with self.writing() as session:
            self._tag_row(session, tag_id)
            count = self._usage(session, tag_id)
            files = self._files_of(session, tag_id)
            session.execute(text("DELETE FROM file_tag WHERE tag_id = :t"), {"t": tag_id})
            session.execute(text("DELETE FROM tag WHERE id = :t"), {"t": tag_id})
            search_index.refresh_tags(session, files)
        return TagChanges(
            files=frozenset(files), tags=frozenset({tag_id}), deleted=(tag_id,), count=count
        )

    def tag_files(
        self,
        file_ids: Sequence[int],
        add: Iterable[int | str] = (),
        remove: Iterable[int | str] = (),
        *,
        create: bool = False,
        colors: Mapping[str, str] | None = None,
    ) -> TagChanges:
        """Add tags to and remove tags from live files, in one transaction.

        Tags are given by id or by name (ignoring case). With ``create``, a name
        no tag has yet makes a new tag, coloured from ``colors`` (by the name as
        given) or the palette. A tag both added and removed is added. Adding a
        tag a file has, or removing one it has not, changes nothing.

        Raises :class:`NotFound` (a file not live, an unknown tag id, or an
        unknown name without ``create``), :class:`InvalidName` or
        :class:`InvalidColor`.
        """
        files = sorted(set(file_ids))
        colors = colors or {}
        with self.writing() as session:
            live = set(
                session.execute(
                    text(
                        "SELECT id FROM file WHERE trash_id IS NULL"
                        " AND id IN (SELECT value FROM json_each(:ids))"
                    ),
                    {"ids": json.dumps(files)},
                ).scalars()
            )
            if len(live) != len(files):
                raise NotFound(
                    "A file to tag no longer exists or is in the Trash.",
                    "Refresh the view and try again.",
                )
            created: list[int] = []
            adding = {self._tag_ref(session, ref, create, colors, created): None for ref in add}
            removing = {self._tag_ref(session, ref, False, {}, created) for ref in remove}
            removing -= adding.keys()
            before = {
                (int(r[0]), int(r[1]))
                for r in session.execute(
                    text(
                        "SELECT file_id, tag_id FROM file_tag"
                        " WHERE file_id IN (SELECT value FROM json_each(:ids))"
                    ),
                    {"ids": json.dumps(files)},
                )
            }
            new_pairs = [{"f": f, "t": t} for t in adding for f in files if (f, t) not in before]
            gone_pairs = [{"f": f, "t": t} for t in removing for f in files if (f, t) in before]
            if new_pairs:
                session.execute(
                    text("INSERT INTO file_tag (file_id, tag_id) VALUES (:f, :t)"), new_pairs
                )
            if gone_pairs:
                session.execute(
                    text("DELETE FROM file_tag WHERE file_id = :f AND tag_id = :t"), gone_pairs
                )
            changed = {p["f"] for p in new_pairs} | {p["f"] for p in gone_pairs}
            search_index.refresh_tags(session, changed)
            touched = {p["t"] for p in new_pairs} | {p["t"] for p in gone_pairs} | set(created)
        return TagChanges(
            files=frozenset(changed),
            tags=frozenset(touched),
            created=tuple(created),
            count=len(new_pairs) + len(gone_pairs),
        )

    # -- helpers ---------------------------------------------------------------

    def _tag_row(self, session: Session, tag_id: int) -> TagInfo:
        row = session.execute(
            text("SELECT id, name, color FROM tag WHERE id = :t"), {"t": tag_id}
        ).first()
        if row is None:
            raise NotFound("That tag no longer exists.")
        return TagInfo(row[0], row[1], row[2])

    @staticmethod
    def _tag_by_key(session: Session, key: str) -> TagInfo | None:
        row = session.execute(
            text("SELECT id, name, color FROM tag WHERE name_key = :k"), {"k": key}
        ).first()
        return TagInfo(row[0], row[1], row[2]) if row is not None else None

    @staticmethod
    def _usage(session: Session, tag_id: int) -> int:
        return int(
            session.execute(
                text(
                    "SELECT COUNT(*) FROM file_tag JOIN file ON file.id = file_tag.file_id"
                    " WHERE file_tag.tag_id = :t AND file.trash_id IS NULL"
                ),
                {"t": tag_id},
            ).scalar_one()
        )

    @staticmethod
    def _files_of(session: Session, tag_id: int) -> list[int]:
        """Every file carrying the tag, in the Trash too (their index rows hold its name)."""
        return list(
            session.execute(
                text("SELECT file_id FROM file_tag WHERE tag_id = :t"), {"t": tag_id}
            ).scalars()
        )

    @staticmethod
    def _next_color(session: Session) -> str:
        used = {
            str(r[0]): int(r[1])
            for r in session.execute(text("SELECT lower(color), COUNT(*) FROM tag GROUP BY 1"))
        }
        return min((c for _n, c in PALETTE), key=lambda c: used.get(c, 0))

    @staticmethod
    def _insert_tag(session: Session, name: str, color: str) -> int:
        return int(
            session.execute(
                text("INSERT INTO tag (name, name_key, color) VALUES (:n, :k, :c) RETURNING id"),
                {"n": name, "k": name_key(name), "c": color},
            ).scalar_one()
        )

    def _tag_ref(
        self,
        session: Session,
        ref: int | str,
        create: bool,
        colors: Mapping[str, str],
        created: list[int],
    ) -> int:
        """The id of a tag given by id or name, made when ``create`` allows (noted in ``created``)."""
        if isinstance(ref, int):
            return self._tag_row(session, ref).id
        name = validate_tag_name(ref)
        found = self._tag_by_key(session, name_key(name))
        if found is not None:
            return found.id
        if not create:
            raise NotFound(f'There is no tag named "{name}".', "See: mediavault tag list")
        color = colors.get(ref) or colors.get(name)
        tag_id = self._insert_tag(
            session, name, parse_color(color) if color else self._next_color(session)
        )
        created.append(tag_id)
        return tag_id
