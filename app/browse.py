"""Browsing: what the main window's middle pane and folder tree show, page by page.

A :class:`Source` says what is listed (a folder, All files, Favorites, Recent,
a tag, the Trash); a :class:`Sort` and :class:`BrowseFilters` say in which
order and which files. :meth:`BrowseOps.browse_page` returns one
:class:`Page` of frozen :class:`BrowseRow` values carrying everything a grid
cell or a list row shows (tags, sync state, the blob to thumbnail), so a view
never queries while painting.

Paging is by keyset, never OFFSET: a :class:`Cursor` holds the last row's sort
values and id (the tie-breaker), and the next page starts strictly after it.
Within a folder every sort order walks a partial index on live files
(migration 0003), so the first screen of a 100,000-file folder costs the same
as any other page; so do All files by name, size or modified date. Sets that
are small next to the vault are found by index and sorted per request:
Favorites, Recent (bounded by time), a tag's files, and the Trash (its
top-level deletions only); so is All files by kind. A combination of tags
(:meth:`Source.tags`, all of them or any of them) is found the same way, on
the ``file_tag`` index by tag.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.catalog.models import KINDS
from app.core import now
from app.errors import NotFound
from app.naming import name_key
from app.search import SearchFilters, SearchOps

SourceKind = Literal["folder", "all", "favorites", "recent", "tag", "shared", "trash", "search"]
TagMatch = Literal["all", "any"]
SortKey = Literal["name", "kind", "size", "modified"]
Item = Literal["folder", "file"]
SortValue = str | int | float

RECENT_DAYS = 30
SEARCH_LIMIT = 500  # a search shows its best this many files, in one page

# One user-facing word per (local_state, remote_state) of a file's current blob.
SYNC_WORDS: dict[tuple[str, str], str] = {
    ("present", "pending"): "Not backed up",
    ("present", "uploading"): "Uploading",
    ("present", "completed"): "Backed up",
    ("present", "failed"): "Upload failed",
    ("evicted", "completed"): "Only in bucket",
}
# Evicted yet not (verified) in the bucket: the content is nowhere the app can reach.
SYNC_MISSING = "Missing"


def sync_word(local_state: str | None, remote_state: str | None) -> str:
    """The word the list's sync column shows for a blob's states ("" without a blob)."""
    if local_state is None or remote_state is None:
        return ""
    return SYNC_WORDS.get((local_state, remote_state), SYNC_MISSING)


@dataclass(frozen=True)
class Source:
    """What the middle pane lists. Build one with the class methods.

    Attributes:
        kind: which source.
        id: the folder id (``folder``) or tag id (``tag``; for a combination of
            tags, the one the user chose last); None otherwise.
        days: for ``recent``, how far back "recently modified or imported" reaches.
        query: for ``search``, what the user typed.
        tag_ids: for a combination of tags (``tag`` with two or more), their ids,
            sorted; empty for a single tag.
        match: for a combination, whether files carry ``all`` of the tags or ``any``.
    """

    kind: SourceKind
    id: int | None = None
    days: int = RECENT_DAYS
    query: str = ""
    tag_ids: tuple[int, ...] = ()
    match: TagMatch = "all"

    @classmethod
    def folder(cls, folder_id: int) -> Source:
        """A live folder: its subfolders first, then its files."""
        return cls("folder", folder_id)

    @classmethod
    def all_files(cls) -> Source:
        """Every live file of the vault."""
        return cls("all")

    @classmethod
    def favorites(cls) -> Source:
        """Every live file marked as a favorite."""
        return cls("favorites")

    @classmethod
    def recent(cls, days: int = RECENT_DAYS) -> Source:
        """Live files modified or imported in the last ``days`` days.

        Newest first by default, by the modified date the list shows: an old
        photo imported today is in Recent, below what was edited lately.
        """
        return cls("recent", days=days)

    @classmethod
    def shared(cls) -> Source:
        """Live files with a download link that still works (not revoked, not expired)."""
        return cls("shared")

    @classmethod
    def tag(cls, tag_id: int) -> Source:
        """Live files carrying a tag."""
        return cls("tag", tag_id)

    @classmethod
    def tags(cls, tag_ids: Sequence[int], match: TagMatch = "all") -> Source:
        """Live files carrying all of ``tag_ids`` (or any of them, ``match="any"``).

        The first id is the one the user chose last (the folder tree's current
        node). One id is :meth:`tag`. Raises ``ValueError`` for no ids.
        """
        ids = list(dict.fromkeys(tag_ids))
        if not ids:
            raise ValueError("a combination of tags needs at least one tag")
        if len(ids) == 1:
            return cls.tag(ids[0])
        return cls("tag", ids[0], tag_ids=tuple(sorted(ids)), match=match)

    @property
    def all_tag_ids(self) -> tuple[int, ...]:
        """The tags a ``tag`` source lists the files of (one or several); () otherwise."""
        if self.kind != "tag":
            return ()
        return self.tag_ids or ((self.id,) if self.id is not None else ())

    @classmethod
    def trash(cls) -> Source:
        """The Trash's top-level entries: each deleted folder or file, once."""
        return cls("trash")

    @classmethod
    def search(cls, query: str, folder_id: int | None = None) -> Source:
        """Live files matching ``query`` (see :meth:`app.search.SearchOps.search`),
        within a folder's subtree when ``folder_id`` is given; best first, in one page."""
        return cls("search", folder_id, query=query)


@dataclass(frozen=True)
class Sort:
    """An order: by name (ignoring case), kind (then name), size or modified date.

    Ties are broken by id in the same direction, so every order is total and
    stable across pages. In the Trash, "modified" means when it was deleted.
    """

    key: SortKey = "name"
    descending: bool = False


def default_sort(source: Source) -> Sort:
    """The order a source opens in: newest first for Recent and the Trash, else by name."""
    if source.kind in ("recent", "trash"):
        return Sort("modified", descending=True)
    return Sort()


@dataclass(frozen=True)
class BrowseFilters:
    """Narrowing the files listed; subfolders (and deleted folders) are always shown.

    Attributes:
        kinds: the file kinds to keep (``image``, ``video``, ``audio``,
            ``document``, ``other``); empty keeps every kind.
        favorites: only favorites.
    """

    kinds: frozenset[str] = field(default_factory=frozenset)
    favorites: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown kinds: {sorted(unknown)}")


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: pass it as ``after`` to get the next one.

    Opaque to callers. It is bound to the sort it was made with; using it with
    another raises ``ValueError``.
    """

    sort: Sort
    section: Item  # subfolders come before files in a folder source
    values: tuple[SortValue, ...]
    id: int


@dataclass(frozen=True)
class BrowseRow:
    """One folder or file as the grid and the list show it.

    Attributes:
        item: ``"folder"`` or ``"file"``.
        id: the folder's or file's id.
        kind: the file kind, or ``"folder"``.
        size: the file's current size; for a deleted folder, of the files it took along.
        modified_at: last change (naive UTC); in the Trash, when it was deleted.
        tags: the file's tag names, sorted ignoring case.
        tag_colors: the colour (``#rrggbb``) of each of ``tags``, in the same order.
        sync: the backup state in one word (see :data:`SYNC_WORDS`); "" for folders.
        blob_hash: the current version's blob, to ask for a thumbnail; None for folders.
        blob_size: that blob's size in bytes (0 for folders).
        folder_id: the folder holding it (for a Trash row, None: see ``folder_path``).
        folder_path: the vault path of that folder; in the Trash, where it was deleted from.
        trash_entry_id: in the Trash, the deletion to restore or purge; None elsewhere.
        kept: the file is kept on this device (never evicted to free up space).
        matched: in search results, the fields that matched ("name", "description",
            "tags", "content"); empty elsewhere.
        snippet: in search results, an excerpt around the match, hits in ``[`` ``]``.
    """

    item: Item
    id: int
    name: str
    kind: str
    mime: str
    size: int
    modified_at: datetime
    is_favorite: bool
    tags: tuple[str, ...]
    sync: str
    blob_hash: str | None
    blob_size: int
    folder_id: int | None
    folder_path: str
    trash_entry_id: int | None = None
    kept: bool = False
    matched: tuple[str, ...] = ()
    snippet: str = ""
    tag_colors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page:
    """One page of a source.

    Attributes:
        rows: the rows, in order.
        after: the cursor for the next page; None when this page is the last.
    """

    rows: tuple[BrowseRow, ...]
    after: Cursor | None

    @property
    def more(self) -> bool:
        """There are rows after this page."""
        return self.after is not None


@dataclass(frozen=True)
class FolderNode:
    """A folder as the tree shows it; ``has_children`` says whether to draw an expander."""

    id: int
    name: str
    has_children: bool


@dataclass(frozen=True)
class TagCount:
    """A tag under the tree's Tags node, with how many live files carry it."""

    id: int
    name: str
    color: str
    files: int


# Sort expressions of a file query, before the id tie-breaker. Kind sorts by name within.
_FILE_SORT: dict[SortKey, tuple[str, ...]] = {
    "name": ("file.name_key",),
    "kind": ("file.kind", "file.name_key"),
    "size": ("file.size",),
    "modified": ("file.modified_at",),
}

_FILE_COLUMNS = (
    "file.id, file.name, file.kind, file.mime, file.size, file.modified_at,"
    " file.is_favorite, file.folder_id, version.blob_hash, blob.size,"
    " blob.local_state, blob.remote_state, file.keep_on_device"
)
_FILE_JOINS = (
    " LEFT JOIN version ON version.id = file.current_version_id"
    " LEFT JOIN blob ON blob.hash = version.blob_hash"
)


def _datetime(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _sort_value(row: BrowseRow, key: SortKey) -> tuple[SortValue, ...]:
    """A row's sort values as the catalog's indexes order them (names ignoring case)."""
    if key == "name":
        return (name_key(row.name),)
    if key == "kind":
        return (row.kind, name_key(row.name))
    if key == "size":
        return (row.size,)
    return (row.modified_at.isoformat(),)


def _keyset(
    exprs: tuple[str, ...], sort: Sort, after: Cursor | None, params: dict[str, object]
) -> tuple[str, str]:
    """The ``AND (…) > (…)`` clause after ``after`` (or "") and the ORDER BY list.

    A row value comparison lets SQLite seek the index straight to the cursor.
    """
    direction = " DESC" if sort.descending else ""
    order = ", ".join(e + direction for e in exprs)
    if after is None:
        return "", order
    names = []
    for i, value in enumerate((*after.values, after.id)):
        params[f"k{i}"] = value
        names.append(f":k{i}")
    op = "<" if sort.descending else ">"
    return f" AND ({', '.join(exprs)}) {op} ({', '.join(names)})", order


def _bind_list(prefix: str, values: frozenset[str], params: dict[str, object]) -> str:
    names = []
    for i, value in enumerate(sorted(values)):
        params[f"{prefix}{i}"] = value
        names.append(f":{prefix}{i}")
    return ", ".join(names)


class BrowseOps(SearchOps):
    """Mixin: pages of folders, All files, Favorites, Recent, tags, the Trash and searches; the tree.

    Thread affinity: like every vault call, each opens and closes its own
    session and returns frozen values, so it may run on a worker thread.
    """

    def browse_page(
        self,
        source: Source,
        sort: Sort | None = None,
        filters: BrowseFilters | None = None,
        after: Cursor | None = None,
        limit: int = 200,
    ) -> Page:
        """The ``limit`` rows of ``source`` after ``after`` (from the start if None).

        Subfolders of a folder come first (in the same order for name and
        modified, by name otherwise), then files. Trashed items appear only in
        the Trash source. Raises :class:`NotFound` for a folder or tag that no
        longer exists, ``ValueError`` for a cursor made with another sort.
        """
        sort = sort or default_sort(source)
        filters = filters or BrowseFilters()
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if source.kind == "search":
            return Page(self._search_rows(source, sort, filters), None)
        if after is not None and after.sort != sort:
            raise ValueError("the cursor belongs to another sort order")
        with self.reading() as session:
            self._check_source(session, source)
            if source.kind == "trash":
                raws = self._trash_rows(session, sort, filters, after, limit + 1)
            else:
                raws = []
                if source.kind == "folder" and (after is None or after.section == "folder"):
                    raws = self._folder_rows(session, source, sort, after, limit + 1)
                    after = None  # the files, if reached, start from their beginning
                if len(raws) <= limit:
                    raws += self._file_rows(
                        session, source, sort, filters, after, limit + 1 - len(raws)
                    )
            more = len(raws) > limit
            raws = raws[:limit]
            rows = self._finish(session, raws)
        cursor = None
        if more:
            last = raws[-1]
            cursor = Cursor(sort, last.item, last.keys, last.key_id)
        return Page(tuple(rows), cursor)

    def _search_rows(
        self, source: Source, sort: Sort, filters: BrowseFilters
    ) -> tuple[BrowseRow, ...]:
        """The best :data:`SEARCH_LIMIT` matches as rows, best first unless sorted.

        The order is relevance for the default sort; a chosen column sorts the
        (bounded) results here, with the same ties as a folder listing.
        """
        one_kind = next(iter(filters.kinds)) if len(filters.kinds) == 1 else None
        hits = self.search(
            source.query,
            SearchFilters(kind=one_kind, favorites=filters.favorites, folder_id=source.id),
            limit=SEARCH_LIMIT,
        )
        marks = {h.file_id: h for h in hits}
        with self.reading() as session:
            sql = (
                f"SELECT {_FILE_COLUMNS} FROM file{_FILE_JOINS}"
                " WHERE file.id IN (SELECT value FROM json_each(:ids))"
            )
            raws = {
                r[0]: _file_raw(r)
                for r in session.execute(text(sql), {"ids": json.dumps(list(marks))})
                if not filters.kinds or r[2] in filters.kinds
            }
            rows = self._finish(session, [raws[h.file_id] for h in hits if h.file_id in raws])
        rows = [replace(r, matched=marks[r.id].matched, snippet=marks[r.id].snippet) for r in rows]
        if sort != Sort():
            rows.sort(key=lambda r: r.id, reverse=sort.descending)
            rows.sort(key=lambda r: _sort_value(r, sort.key), reverse=sort.descending)
        return tuple(rows)

    def sync_words(self, file_ids: list[int]) -> dict[int, str]:
        """The backup word of each file's current content, for refreshing rows already shown.

        One query by primary key; unknown ids are left out.
        """
        if not file_ids:
            return {}
        with self.reading() as session:
            rows = session.execute(
                text(
                    "SELECT f.id, b.local_state, b.remote_state FROM file f"
                    " JOIN version v ON v.id = f.current_version_id"
                    " JOIN blob b ON b.hash = v.blob_hash"
                    " WHERE f.id IN (SELECT value FROM json_each(:ids))"
                ),
                {"ids": json.dumps(file_ids)},
            ).all()
        return {r[0]: sync_word(r[1], r[2]) for r in rows}

    def browse_count(self, source: Source, filters: BrowseFilters | None = None) -> int:
        """How many rows ``source`` lists with ``filters`` (subfolders included).

        One COUNT over the same index a page uses. Raises :class:`NotFound`.
        """
        filters = filters or BrowseFilters()
        if source.kind == "search":
            return len(self._search_rows(source, Sort(), filters))
        with self.reading() as session:
            self._check_source(session, source)
            if source.kind == "trash":
                where, params = self._trash_where(filters)
                return int(
                    session.execute(
                        text(f"SELECT COUNT(*) FROM trash_entry t{_TRASH_JOINS} WHERE {where}"),
                        params,
                    ).scalar_one()
                )
            where, params = self._file_where(source, filters)
            sql = f"SELECT (SELECT COUNT(*) FROM {self._file_table(source, filters)} WHERE {where})"
            if source.kind == "folder":  # one statement, subfolders included
                sql += (
                    " + (SELECT COUNT(*) FROM folder"
                    " WHERE parent_id = :folder AND trash_id IS NULL)"
                )
            return int(session.execute(text(sql), params).scalar_one())

    def subfolders(self, folder_id: int) -> list[FolderNode]:
        """The live subfolders of a live folder by name, each saying if it has any itself.

        One query (an EXISTS per row on the parent index). Raises :class:`NotFound`.
        """
        with self.reading() as session:
            self._folder(session, folder_id)
            rows = session.execute(
                text(
                    "SELECT f.id, f.name, EXISTS (SELECT 1 FROM folder c"
                    " WHERE c.parent_id = f.id AND c.trash_id IS NULL)"
                    " FROM folder f WHERE f.parent_id = :p AND f.trash_id IS NULL"
                    " ORDER BY f.name_key"
                ),
                {"p": folder_id},
            ).all()
        return [FolderNode(r[0], r[1], bool(r[2])) for r in rows]

    def folder_trail(self, folder_id: int) -> list[FolderNode]:
        """The folders from the vault's top down to ``folder_id`` (both included),
        for a breadcrumb. One recursive query. Raises :class:`NotFound`."""
        with self.reading() as session:
            self._folder(session, folder_id)
            rows = session.execute(
                text(
                    "WITH RECURSIVE up(id, parent_id, name, depth) AS ("
                    " SELECT id, parent_id, name, 0 FROM folder WHERE id = :f"
                    " UNION ALL SELECT folder.id, folder.parent_id, folder.name, up.depth + 1"
                    " FROM folder JOIN up ON folder.id = up.parent_id)"
                    " SELECT id, name FROM up ORDER BY depth DESC"
                ),
                {"f": folder_id},
            ).all()
        return [FolderNode(r[0], r[1], True) for r in rows]

    def tags_with_counts(self) -> list[TagCount]:
        """Every tag by name (ignoring case), with how many live files carry it (0 included)."""
        with self.reading() as session:
            rows = session.execute(
                text(
                    "SELECT tag.id, tag.name, tag.color, (SELECT COUNT(*) FROM file_tag"
                    " JOIN file ON file.id = file_tag.file_id"
                    " WHERE file_tag.tag_id = tag.id AND file.trash_id IS NULL)"
                    " FROM tag ORDER BY tag.name_key"
                )
            ).all()
        return [TagCount(r[0], r[1], r[2], r[3]) for r in rows]

    # -- queries ---------------------------------------------------------------

    def _check_source(self, session: Session, source: Source) -> None:
        if source.kind == "folder":
            if source.id is None:
                raise ValueError("a folder source needs a folder id")
            self._folder(session, source.id)
        elif source.kind == "tag":
            ids = source.all_tag_ids
            found = session.execute(
                text("SELECT COUNT(*) FROM tag WHERE id IN (SELECT value FROM json_each(:ids))"),
                {"ids": json.dumps(ids)},
            ).scalar_one()
            if not ids or found != len(ids):
                raise NotFound("That tag no longer exists.")

    def _file_where(self, source: Source, filters: BrowseFilters) -> tuple[str, dict[str, object]]:
        # likely(): most files are live, and saying so keeps SQLite from reading
        # every live row through ix_file_trash instead of walking a sort index
        # (it still sees the term, so the partial indexes on live files apply).
        # Literal ``is_favorite = 1`` (not a parameter): a partial index is used
        # only when the query's terms imply its WHERE as written.
        clauses = ["likely(file.trash_id IS NULL)"]
        params: dict[str, object] = {}
        if source.kind == "folder":
            clauses.append("file.folder_id = :folder")
            params["folder"] = source.id
        elif source.kind == "recent":
            # A union of two index range searches, then sorted: Recent is bounded
            # by time, and one OR made SQLite walk a whole sort index instead.
            clauses.append(
                "file.id IN (SELECT id FROM file WHERE modified_at >= :since UNION"
                " SELECT id FROM file WHERE likely(trash_id IS NULL) AND created_at >= :since)"
            )
            # Bound as stored (SQLAlchemy's DateTime text), since text() has no types.
            since = now() - timedelta(days=source.days)
            params["since"] = since.strftime("%Y-%m-%d %H:%M:%S.%f")
        elif source.kind == "shared":
            clauses.append(
                "file.id IN (SELECT file_id FROM share WHERE file_id IS NOT NULL"
                " AND revoked_at IS NULL AND expires_at > :now)"
            )
            params["now"] = now().strftime("%Y-%m-%d %H:%M:%S.%f")
        elif source.kind == "tag" and len(source.all_tag_ids) > 1:
            # Both on ix_file_tag_tag; "all of" counts each file's matching tags
            # (file_tag's key makes every (file, tag) pair unique).
            ids = source.all_tag_ids
            names = []
            for i, tag_id in enumerate(ids):
                params[f"tag{i}"] = tag_id
                names.append(f":tag{i}")
            among = f"SELECT file_id FROM file_tag WHERE file_tag.tag_id IN ({', '.join(names)})"
            if source.match == "all":
                among += f" GROUP BY file_id HAVING COUNT(*) = {len(ids)}"
            clauses.append(f"file.id IN ({among})")
        elif source.kind == "tag":
            clauses.append("file.id IN (SELECT file_id FROM file_tag WHERE file_tag.tag_id = :tag)")
            params["tag"] = source.id
        if filters.kinds:
            clauses.append(f"file.kind IN ({_bind_list('kind', filters.kinds, params)})")
        if source.kind == "favorites" or filters.favorites:
            clauses.append("file.is_favorite = 1")
        return " AND ".join(clauses), params

    @staticmethod
    def _file_table(source: Source, filters: BrowseFilters) -> str:
        """``file``, pinned to the favorites index where favorites of the whole vault are asked.

        Without the pin SQLite may read every live file to find a few favorites.
        """
        if source.kind == "favorites" or (source.kind == "all" and filters.favorites):
            return "file INDEXED BY ix_file_favorite_name"
        return "file"

    def _file_rows(
        self,
        session: Session,
        source: Source,
        sort: Sort,
        filters: BrowseFilters,
        after: Cursor | None,
        limit: int,
    ) -> list[_Raw]:
        where, params = self._file_where(source, filters)
        exprs = _FILE_SORT[sort.key]
        keyset, order = _keyset((*exprs, "file.id"), sort, after, params)
        params["limit"] = limit
        table = self._file_table(source, filters)
        sql = (
            f"SELECT {_FILE_COLUMNS}, {', '.join(exprs)} FROM {table}{_FILE_JOINS}"
            f" WHERE {where}{keyset} ORDER BY {order} LIMIT :limit"
        )
        n = len(exprs)
        return [_file_raw(r, tuple(r[13 : 13 + n])) for r in session.execute(text(sql), params)]

    def _folder_rows(
        self, session: Session, source: Source, sort: Sort, after: Cursor | None, limit: int
    ) -> list[_Raw]:
        if sort.key == "modified":
            exprs: tuple[str, ...] = ("folder.modified_at",)
            folder_sort = sort
        else:  # folders have no kind or size of their own: by name
            exprs = ("folder.name_key",)
            folder_sort = sort if sort.key == "name" else Sort()
        params: dict[str, object] = {"parent": source.id, "limit": limit}
        keyset, order = _keyset((*exprs, "folder.id"), folder_sort, after, params)
        sql = (
            f"SELECT folder.id, folder.name, folder.modified_at, {exprs[0]} FROM folder"
            f" WHERE folder.parent_id = :parent AND folder.trash_id IS NULL{keyset}"
            f" ORDER BY {order} LIMIT :limit"
        )
        return [
            _Raw(
                item="folder",
                id=r[0],
                name=r[1],
                kind="folder",
                modified_at=_datetime(r[2]),
                folder_id=source.id,
                keys=(r[3],),
                key_id=r[0],
            )
            for r in session.execute(text(sql), params)
        ]

    @staticmethod
    def _trash_where(filters: BrowseFilters) -> tuple[str, dict[str, object]]:
        clauses = ["1"]
        params: dict[str, object] = {}
        if filters.kinds:
            kinds = _bind_list("kind", filters.kinds, params)
            clauses.append(f"(t.folder_id IS NOT NULL OR fi.kind IN ({kinds}))")
        if filters.favorites:
            clauses.append("(t.folder_id IS NOT NULL OR fi.is_favorite = 1)")
        return " AND ".join(clauses), params

    def _trash_rows(
        self,
        session: Session,
        sort: Sort,
        filters: BrowseFilters,
        after: Cursor | None,
        limit: int,
    ) -> list[_Raw]:
        # Few rows (top-level deletions), so sorted per request from a subquery
        # whose columns name the sort values.
        where, params = self._trash_where(filters)
        exprs = {
            "name": ("name_key",),
            "kind": ("kind", "name_key"),
            "size": ("size",),
            "modified": ("deleted_at",),
        }[sort.key]
        keyset, order = _keyset((*exprs, "entry"), sort, after, params)
        params["limit"] = limit
        inner = (
            "SELECT t.id AS entry, t.folder_id AS folder_id, t.file_id AS file_id,"
            " COALESCE(fo.name, fi.name) AS name,"
            " COALESCE(fo.name_key, fi.name_key) AS name_key,"
            " COALESCE(fi.kind, 'folder') AS kind, COALESCE(fi.mime, '') AS mime,"
            " CASE WHEN t.folder_id IS NOT NULL THEN (SELECT COALESCE(SUM(size), 0)"
            " FROM file WHERE file.trash_id = t.id) ELSE fi.size END AS size,"
            " t.deleted_at AS deleted_at, COALESCE(fi.is_favorite, 0) AS is_favorite,"
            " t.original_path AS original_path, v.blob_hash AS blob_hash,"
            " b.size AS blob_size, b.local_state AS local_state,"
            " b.remote_state AS remote_state"
            f" FROM trash_entry t{_TRASH_JOINS}"
            " LEFT JOIN version v ON v.id = fi.current_version_id"
            " LEFT JOIN blob b ON b.hash = v.blob_hash"
            f" WHERE {where}"
        )
        sql = (
            f"SELECT entry, folder_id, file_id, name, kind, mime, size, deleted_at,"
            f" is_favorite, original_path, blob_hash, blob_size, local_state, remote_state,"
            f" {', '.join(exprs)} FROM ({inner}) WHERE 1{keyset}"
            f" ORDER BY {order} LIMIT :limit"
        )
        n = len(exprs)
        return [
            _Raw(
                item="folder" if r[1] is not None else "file",
                id=r[1] if r[1] is not None else r[2],
                name=r[3],
                kind=r[4],
                mime=r[5],
                size=r[6],
                modified_at=_datetime(r[7]),
                is_favorite=bool(r[8]),
                folder_path=r[9],
                blob_hash=r[10],
                blob_size=r[11] or 0,
                sync=sync_word(r[12], r[13]),
                trash_entry_id=r[0],
                keys=tuple(r[14 : 14 + n]),
                key_id=r[0],
            )
            for r in session.execute(text(sql), params)
        ]

    @staticmethod
    def _finish(session: Session, raws: list[_Raw]) -> list[BrowseRow]:
        """Attach tags and folder paths to a page's rows (two queries for the page)."""
        file_ids = [r.id for r in raws if r.item == "file"]
        tags: dict[int, list[tuple[str, str, str]]] = {}
        if file_ids:
            for file_id, name, key, color in session.execute(
                text(
                    "SELECT file_tag.file_id, tag.name, tag.name_key, tag.color FROM file_tag"
                    " JOIN tag ON tag.id = file_tag.tag_id"
                    " WHERE file_tag.file_id IN (SELECT value FROM json_each(:ids))"
                ),
                {"ids": json.dumps(file_ids)},
            ):
                tags.setdefault(file_id, []).append((key, name, color))
        for found in tags.values():
            found.sort()
        folder_ids = {r.folder_id for r in raws if r.folder_id is not None}
        paths = SearchOps._folder_paths(session, folder_ids) if folder_ids else {}
        return [
            BrowseRow(
                item=r.item,
                id=r.id,
                name=r.name,
                kind=r.kind,
                mime=r.mime,
                size=r.size,
                modified_at=r.modified_at,
                is_favorite=r.is_favorite,
                tags=tuple(n for _k, n, _c in tags.get(r.id, [])) if r.item == "file" else (),
                tag_colors=tuple(c for _k, _n, c in tags.get(r.id, [])) if r.item == "file" else (),
                sync=r.sync,
                blob_hash=r.blob_hash,
                blob_size=r.blob_size,
                folder_id=r.folder_id,
                folder_path=paths[r.folder_id] if r.folder_id is not None else r.folder_path,
                trash_entry_id=r.trash_entry_id,
                kept=r.kept,
            )
            for r in raws
        ]


def _file_raw(r: Any, keys: tuple[SortValue, ...] = ()) -> _Raw:
    """A file row as :data:`_FILE_COLUMNS` selects it (then its sort ``keys``)."""
    return _Raw(
        item="file",
        id=r[0],
        name=r[1],
        kind=r[2],
        mime=r[3],
        size=r[4],
        modified_at=_datetime(r[5]),
        is_favorite=bool(r[6]),
        folder_id=r[7],
        blob_hash=r[8],
        blob_size=r[9] or 0,
        sync=sync_word(r[10], r[11]),
        kept=bool(r[12]),
        keys=keys,
        key_id=r[0],
    )


_TRASH_JOINS = " LEFT JOIN folder fo ON fo.id = t.folder_id LEFT JOIN file fi ON fi.id = t.file_id"


@dataclass
class _Raw:
    """A row as queried, before tags and paths are attached; ``keys`` feed the cursor."""

    item: Item
    id: int
    name: str
    kind: str
    modified_at: datetime
    keys: tuple[SortValue, ...]
    key_id: int
    mime: str = ""
    size: int = 0
    is_favorite: bool = False
    folder_id: int | None = None
    folder_path: str = ""
    blob_hash: str | None = None
    blob_size: int = 0
    sync: str = ""
    trash_entry_id: int | None = None
    kept: bool = False
