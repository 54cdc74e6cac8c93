"""Searching the vault: words, "phrases" and prefix* over names, descriptions, tags and text.

The user's query is never passed to FTS5 as syntax: it is split into words,
quoted phrases and prefixes, each quoted for FTS5, and ANDed. ``tag:name``
(``tag:"road trip"`` for a name with spaces) keeps the files carrying that
tag, ignoring case; several keep the files carrying all of them. Results are
ranked by bm25 with names weighing most; which fields matched, and a snippet,
are computed only for the rows returned.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.core import VaultBase
from app.errors import VaultError
from app.naming import name_key

COLUMNS = ("name", "description", "tags", "content")
# bm25 weights per column: a hit in the name matters most, then tags, description, text.
WEIGHTS = (10.0, 4.0, 6.0, 1.0)
# Above this many matching rows, only the newest this many are ranked (see search()).
CANDIDATES = 3000
# Rows beyond ``limit`` taken from FTS5 alone, in case some of the best are in the Trash.
TRASH_ROOM = 20
_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')
_TAG_TERM = re.compile(r'(?<!\S)tag:(?:"([^"]*)"?|(\S*))', re.IGNORECASE)
_MARK_OPEN, _MARK_CLOSE = "\x02", "\x03"


@dataclass(frozen=True)
class SearchFilters:
    """Narrowing a search. Every field is optional; sizes in bytes, dates in UTC."""

    kind: str | None = None
    favorites: bool = False
    tag: str | None = None
    folder_id: int | None = None  # this folder and everything below it
    min_size: int | None = None
    max_size: int | None = None
    modified_after: datetime | None = None
    modified_before: datetime | None = None


@dataclass(frozen=True)
class SearchHit:
    """One file found, with where the match came from.

    Attributes:
        matched: the fields that matched, among "name", "description", "tags", "content".
        snippet: a short excerpt around the match in the best matching field other
            than the name, with hits between ``[`` and ``]``; "" for name-only hits.
    """

    file_id: int
    name: str
    path: str
    kind: str
    size: int
    modified_at: datetime
    is_favorite: bool
    matched: tuple[str, ...]
    snippet: str


def split_tags(query: str) -> tuple[str, tuple[str, ...]]:
    """``'beach tag:"road trip" tag:2023'`` → ``("beach", ("road trip", "2023"))``.

    The ``tag:`` terms are taken out of what is searched as words; an empty
    ``tag:`` is dropped.
    """
    names = []
    for quoted, plain in _TAG_TERM.findall(query):
        name = (quoted or plain).strip()
        if name:
            names.append(name)
    rest = _TAG_TERM.sub(" ", query)
    return " ".join(rest.split()), tuple(dict.fromkeys(names))


def fts_query(query: str) -> str:
    """Turn what a user typed into a safe FTS5 expression ("" if it has no words).

    ``tax 2023`` → both words; ``"annual report"`` → the phrase; ``quart*`` → prefix.
    """
    terms = []
    for phrase, word in _TOKEN.findall(query):
        if phrase:
            if phrase.strip():
                terms.append('"' + phrase.replace('"', '""') + '"')
            continue
        prefix = word.endswith("*")
        word = word.rstrip("*").replace('"', "")
        if not re.search(r"\w", word):
            continue
        terms.append('"' + word + '"' + ("*" if prefix else ""))
    return " ".join(terms)


def _datetime(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


class SearchOps(VaultBase):
    """Mixin: search."""

    def search(
        self,
        query: str,
        filters: SearchFilters | None = None,
        limit: int = 100,
    ) -> list[SearchHit]:
        """Live files matching ``query`` and ``filters``, best first.

        An empty query lists the files matching the filters, newest first.
        ``tag:name`` terms in ``query`` keep the files carrying those tags; a
        name no tag has finds nothing (the user may still be typing it).
        Raises :class:`VaultError` only for an unusable filter (an unknown tag
        in ``filters``).
        """
        filters = filters or SearchFilters()
        words, tag_names = split_tags(query)
        expression = fts_query(words)
        with self.reading() as session:
            where, params = self._filter_sql(session, filters)
            for i, tag in enumerate(tag_names):
                tag_id = session.execute(
                    text("SELECT id FROM tag WHERE name_key = :k"), {"k": name_key(tag)}
                ).scalar()
                if tag_id is None:
                    return []
                where += (
                    " AND EXISTS (SELECT 1 FROM file_tag WHERE file_tag.file_id = file.id"
                    f" AND file_tag.tag_id = :qtag{i})"
                )
                params[f"qtag{i}"] = tag_id
            if expression:
                params.update(q=expression, limit=limit)
                plain = filters == SearchFilters() and not tag_names
                ids = self._ranked(session, where, params, limit, plain)
            else:
                params.update(limit=limit)
                rows = session.execute(
                    text(
                        f"SELECT file.id FROM file WHERE {where}"
                        " ORDER BY file.modified_at DESC LIMIT :limit"
                    ),
                    params,
                ).all()
                ids = [r[0] for r in rows]
            return self._hits(session, ids, expression)

    def _ranked(
        self, session: Session, where: str, params: dict[str, object], limit: int, plain: bool
    ) -> list[int]:
        """The ids of the ``limit`` best live matches passing ``where``, best first.

        bm25 costs about 2 µs per matching row: a word in a third of a million
        names would take most of a second to rank. When more than CANDIDATES rows
        match, the newest CANDIDATES of them are ranked (an unranked walk finds
        where they start), and everything only if that window holds fewer than
        ``limit`` rows passing the filters. Without filters beyond the Trash, FTS5
        ranks alone and only its best rows, with room for some in the Trash, meet
        the file table (joining first doubled the cost); if too many of them are
        in the Trash, the joined ranking runs instead.
        """
        weights = ", ".join(str(w) for w in WEIGHTS)
        boundary = session.execute(
            text(
                "SELECT rowid FROM search WHERE search MATCH :q"
                " ORDER BY rowid DESC LIMIT 1 OFFSET :skip"
            ),
            {"q": params["q"], "skip": CANDIDATES - 1},
        ).scalar()
        windows = ["", " AND search.rowid >= :boundary"] if boundary is not None else [""]
        ids: list[int] = []
        for window in reversed(windows):  # the bounded window first, if any
            bound = {**params, "boundary": boundary}
            if plain:
                over = limit + TRASH_ROOM
                top = list(
                    session.execute(
                        text(
                            f"SELECT rowid FROM search WHERE search MATCH :q{window}"
                            f" ORDER BY bm25(search, {weights}) LIMIT :over"
                        ),
                        {**bound, "over": over},
                    ).scalars()
                )
                live = set(
                    session.execute(
                        text(
                            "SELECT id FROM file WHERE trash_id IS NULL"
                            " AND id IN (SELECT value FROM json_each(:ids))"
                        ),
                        {"ids": json.dumps(top)},
                    ).scalars()
                )
                ids = [i for i in top if i in live][:limit]
                if len(ids) == limit:
                    return ids
                if len(top) < over:  # every match in this window was seen
                    continue
            ids = list(
                session.execute(
                    text(
                        f"SELECT file.id FROM search JOIN file ON file.id = search.rowid"
                        f" WHERE search MATCH :q AND {where}{window}"
                        f" ORDER BY bm25(search, {weights}) LIMIT :limit"
                    ),
                    bound,
                ).scalars()
            )
            if len(ids) == limit:
                return ids
        return ids

    def _filter_sql(self, session: Session, f: SearchFilters) -> tuple[str, dict[str, object]]:
        clauses = ["file.trash_id IS NULL"]
        params: dict[str, object] = {}
        if f.kind:
            clauses.append("file.kind = :kind")
            params["kind"] = f.kind
        if f.favorites:
            clauses.append("file.is_favorite = 1")
        if f.tag:
            tag_id = session.execute(
                text("SELECT id FROM tag WHERE name_key = :k"), {"k": name_key(f.tag)}
            ).scalar()
            if tag_id is None:
                raise VaultError(f'There is no tag named "{f.tag}".')
            clauses.append(
                "EXISTS (SELECT 1 FROM file_tag WHERE file_tag.file_id = file.id"
                " AND file_tag.tag_id = :tag_id)"
            )
            params["tag_id"] = tag_id
        if f.folder_id is not None and f.folder_id != self.root_id:
            clauses.append(
                "file.folder_id IN (WITH RECURSIVE sub(id) AS (SELECT :folder UNION ALL"
                " SELECT folder.id FROM folder JOIN sub ON folder.parent_id = sub.id"
                " WHERE folder.trash_id IS NULL) SELECT id FROM sub)"
            )
            params["folder"] = f.folder_id
        for column, op, value in (
            ("size", ">=", f.min_size),
            ("size", "<=", f.max_size),
            ("modified_at", ">=", f.modified_after),
            ("modified_at", "<", f.modified_before),
        ):
            if value is not None:
                key = f"p{len(params)}"
                clauses.append(f"file.{column} {op} :{key}")
                params[key] = value
        return " AND ".join(clauses), params

    def _hits(self, session: Session, ids: list[int], expression: str) -> list[SearchHit]:
        if not ids:
            return []
        marks = {}
        if expression:
            highlights = ", ".join(
                f"highlight(search, {i}, '{_MARK_OPEN}', '{_MARK_CLOSE}')"
                for i in range(len(COLUMNS))
            )
            snippets = ", ".join(
                f"snippet(search, {i}, '[', ']', '…', 12)" for i in range(1, len(COLUMNS))
            )
            for row in session.execute(
                text(
                    f"SELECT rowid, {highlights}, {snippets} FROM search"
                    " WHERE search MATCH :q AND rowid IN (SELECT value FROM json_each(:ids))"
                ),
                {"q": expression, "ids": str(ids)},
            ):
                matched = tuple(
                    c for c, h in zip(COLUMNS, row[1:5], strict=True) if h and _MARK_OPEN in h
                )
                snippet = next(
                    (s for c, s in zip(COLUMNS[1:], row[5:], strict=True) if c in matched and s),
                    "",
                )
                marks[row[0]] = (matched, snippet)
        rows = session.execute(
            text(
                "SELECT id, name, folder_id, kind, size, modified_at, is_favorite FROM file"
                " WHERE id IN (SELECT value FROM json_each(:ids))"
            ),
            {"ids": str(ids)},
        ).all()
        by_id = {r[0]: r for r in rows}
        paths = self._folder_paths(session, {r[2] for r in rows})
        hits = []
        for file_id in ids:
            r = by_id[file_id]
            matched, snippet = marks.get(file_id, ((), ""))
            hits.append(
                SearchHit(
                    file_id=file_id,
                    name=r[1],
                    path=paths[r[2]].rstrip("/") + "/" + r[1],
                    kind=r[3],
                    size=r[4],
                    modified_at=_datetime(r[5]),
                    is_favorite=bool(r[6]),
                    matched=matched,
                    snippet=snippet,
                )
            )
        return hits

    @staticmethod
    def _folder_paths(session: Session, folder_ids: set[int]) -> dict[int, str]:
        """The vault paths of many folders in one query (as ``_folder_path`` gives each)."""
        names: dict[int, list[str]] = {f: [] for f in folder_ids}
        for start, name in session.execute(
            text(
                "WITH RECURSIVE up(start, id, name, depth) AS ("
                " SELECT id, parent_id, name, 0 FROM folder"
                " WHERE id IN (SELECT value FROM json_each(:ids))"
                " UNION ALL SELECT up.start, f.parent_id, f.name, up.depth + 1"
                " FROM folder f JOIN up ON f.id = up.id)"
                " SELECT start, name FROM up ORDER BY start, depth DESC"
            ),
            {"ids": str(sorted(folder_ids))},
        ):
            names[start].append(name)
        return {f: "/" + "/".join(n for n in parts if n) for f, parts in names.items()}
