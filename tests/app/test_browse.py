"""Browsing pages of folders, All files, Favorites, Recent, tags and the Trash.

Files are written straight into the catalog (blob, version and file rows in one
executemany each), so a test can hold thousands of them with chosen sizes,
dates, kinds and blob states; moving them to the Trash goes through the vault.
Orders are checked against Python's own sort of what was inserted, and the
index use by SQLite's EXPLAIN QUERY PLAN of the very statements a page runs.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import event, text

from app.browse import (
    BrowseFilters,
    BrowseRow,
    Cursor,
    FolderNode,
    Page,
    Sort,
    SortKey,
    Source,
    TagCount,
    default_sort,
    sync_word,
)
from app.catalog.db import _alembic_config, create_catalog_engine, upgrade
from app.core import now
from app.errors import NotFound
from app.naming import name_key
from app.vault import Vault

STAMP = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's DateTime stores values in SQLite
OLD = datetime(2020, 5, 17, 8, 30)
KEYS: tuple[SortKey, ...] = ("name", "kind", "size", "modified")
_names = itertools.count()


@dataclass(frozen=True)
class Spec:
    """A file to insert."""

    name: str
    kind: str = "image"
    size: int = 1
    modified: datetime = OLD
    created: datetime = OLD
    favorite: bool = False
    local: str = "present"
    remote: str = "pending"


@dataclass(frozen=True)
class Made:
    """A file inserted: its id and spec."""

    id: int
    folder_id: int
    spec: Spec


def add_files(vault: Vault, folder_id: int, specs: list[Spec]) -> list[Made]:
    """Insert ``specs`` into ``folder_id`` with one blob and version each; in order of ids."""
    with vault.writing() as session:
        conn = session.connection()
        first_file = conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) + 1 FROM file").scalar()
        first_version = conn.exec_driver_sql(
            "SELECT COALESCE(MAX(id), 0) + 1 FROM version"
        ).scalar()
        assert isinstance(first_file, int) and isinstance(first_version, int)
        blobs, files, versions = [], [], []
        for i, spec in enumerate(specs):
            file_id, version_id = first_file + i, first_version + i
            blob_hash = hashlib.sha256(f"{file_id}".encode()).hexdigest()
            created, modified = spec.created.strftime(STAMP), spec.modified.strftime(STAMP)
            blobs.append((blob_hash, spec.size, spec.local, spec.remote, created))
            files.append(
                (
                    file_id,
                    folder_id,
                    spec.name,
                    name_key(spec.name),
                    f"{spec.kind}/x",
                    spec.kind,
                    spec.favorite,
                    version_id,
                    spec.size,
                    created,
                    modified,
                )
            )
            versions.append((version_id, file_id, blob_hash, spec.size, created))
        conn.exec_driver_sql(
            "INSERT INTO blob (hash, size, local_state, remote_state, attempts, created_at)"
            " VALUES (?, ?, ?, ?, 0, ?)",
            blobs,
        )
        conn.exec_driver_sql(
            "INSERT INTO file (id, folder_id, name, name_key, description, mime, kind,"
            " is_favorite, current_version_id, size, created_at, modified_at)"
            " VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?)",
            files,
        )
        conn.exec_driver_sql(
            "INSERT INTO version (id, file_id, number, blob_hash, size, created_at, note,"
            " device, index_note) VALUES (?, ?, 1, ?, ?, ?, '', '', '')",
            versions,
        )
    return [Made(first_file + i, folder_id, spec) for i, spec in enumerate(specs)]


def add_tag(vault: Vault, name: str, file_ids: list[int], color: str = "") -> int:
    """Create a tag on ``file_ids``; returns its id."""
    with vault.writing() as session:
        tag_id = session.execute(
            text("INSERT INTO tag (name, name_key, color) VALUES (:n, :k, :c) RETURNING id"),
            {"n": name, "k": name_key(name), "c": color},
        ).scalar_one()
        for file_id in file_ids:
            session.execute(
                text("INSERT INTO file_tag (file_id, tag_id) VALUES (:f, :t)"),
                {"f": file_id, "t": tag_id},
            )
    return int(tag_id)


def tied_specs(count: int, prefix: str = "") -> list[Spec]:
    """Files with many ties in every sort key, names in mixed case."""
    kinds = ("image", "video", "audio", "document", "other")
    return [
        Spec(
            name=f"{prefix}{'File' if i % 2 else 'file'} {i % 7:02d}-{i}.bin",
            kind=kinds[i % 5],
            size=(i * 37) % 11,
            modified=OLD + timedelta(minutes=(i * 13) % 9),
            favorite=i % 4 == 0,
        )
        for i in range(count)
    ]


def file_key(made: Made, key: SortKey) -> tuple[Any, ...]:
    spec = made.spec
    value: tuple[Any, ...] = {
        "name": (name_key(spec.name),),
        "kind": (spec.kind, name_key(spec.name)),
        "size": (spec.size,),
        "modified": (spec.modified,),
    }[key]
    return (*value, made.id)


def expected_ids(files: list[Made], sort: Sort) -> list[int]:
    ordered = sorted(files, key=lambda m: file_key(m, sort.key))
    if sort.descending:
        ordered.reverse()
    return [m.id for m in ordered]


def walk(
    vault: Vault,
    source: Source,
    sort: Sort | None = None,
    filters: BrowseFilters | None = None,
    limit: int = 97,
) -> list[BrowseRow]:
    """Every row of ``source``, page by page; checks each page's size and cursor."""
    rows: list[BrowseRow] = []
    after: Cursor | None = None
    while True:
        page = vault.browse_page(source, sort, filters, after=after, limit=limit)
        rows += page.rows
        if not page.more:
            assert len(page.rows) <= limit
            return rows
        assert len(page.rows) == limit
        after = page.after


def file_ids(rows: list[BrowseRow]) -> list[int]:
    return [r.id for r in rows if r.item == "file"]


@contextmanager
def statements(vault: Vault, prefix: str) -> Iterator[list[tuple[str, Any]]]:
    """The SQL (and parameters) run on the vault's engine starting with ``prefix``."""
    seen: list[tuple[str, Any]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool
    ) -> None:
        if statement.startswith(prefix):
            seen.append((statement, parameters))

    event.listen(vault.engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(vault.engine, "before_cursor_execute", capture)


FILE_SELECT = "SELECT file.id, file.name"


def plans(vault: Vault, run: Callable[[], object], prefix: str = FILE_SELECT) -> list[list[str]]:
    """The EXPLAIN QUERY PLAN lines of each statement ``run`` executes starting with ``prefix``."""
    with statements(vault, prefix) as seen:
        run()
    assert seen, "nothing ran"
    with vault.engine.connect() as conn:
        return [
            [r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
            for sql, params in seen
        ]


def assert_index_ordered(plan: list[str], index: str) -> None:
    assert any(re.search(rf"USING (COVERING )?INDEX {index}\b", line) for line in plan), plan
    assert not any("TEMP B-TREE" in line for line in plan), plan


# -- folders -------------------------------------------------------------------


def test_a_folder_lists_subfolders_first_then_files(vault: Vault) -> None:
    photos = vault.mkdir(vault.root_id, "photos").created[0]
    archive = vault.mkdir(vault.root_id, "Archive").created[0]
    made = add_files(vault, vault.root_id, [Spec("b.jpg"), Spec("A.jpg"), Spec("c.jpg")])
    page = vault.browse_page(Source.folder(vault.root_id))
    assert [(r.item, r.name) for r in page.rows] == [
        ("folder", "Archive"),
        ("folder", "photos"),
        ("file", "A.jpg"),
        ("file", "b.jpg"),
        ("file", "c.jpg"),
    ]
    assert [r.id for r in page.rows[:2]] == [archive, photos]
    assert page.after is None and not page.more
    folder_row = page.rows[0]
    assert folder_row.kind == "folder" and folder_row.blob_hash is None and folder_row.sync == ""
    assert folder_row.folder_path == "/"
    file_row = page.rows[2]
    assert file_row.id == made[1].id and file_row.folder_path == "/" and file_row.folder_id == 1
    assert vault.browse_count(Source.folder(vault.root_id)) == 5


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_paging_a_folder_yields_every_row_once_in_order(
    vault: Vault, key: SortKey, descending: bool
) -> None:
    folder = vault.mkdir(vault.root_id, "Big").created[0]
    subs = {name: vault.mkdir(folder, name).created[0] for name in ("b", "A", "c")}
    made = add_files(vault, folder, tied_specs(1203))
    add_files(vault, vault.root_id, tied_specs(50))  # another folder's files stay out
    sort = Sort(key, descending)
    rows = walk(vault, Source.folder(folder), sort)
    if key == "modified":
        stamps = {r.id: r.modified_at for r in vault.list_folder(folder).folders}
        folders = sorted(subs.values(), key=lambda i: (stamps[i], i), reverse=descending)
    else:
        by_name = [subs[n] for n in sorted(subs, key=name_key)]
        folders = by_name[::-1] if key == "name" and descending else by_name
    assert [r.id for r in rows if r.item == "folder"] == folders
    assert [r.item for r in rows[:3]] == ["folder"] * 3
    assert file_ids(rows) == expected_ids(made, sort)
    assert len(rows) == vault.browse_count(Source.folder(folder)) == 1206


def test_a_page_boundary_between_folders_and_files(vault: Vault) -> None:
    for name in ("x", "y"):
        vault.mkdir(vault.root_id, name)
    made = add_files(vault, vault.root_id, [Spec(f"f{i}") for i in range(3)])
    first = vault.browse_page(Source.folder(1), limit=2)
    assert [r.name for r in first.rows] == ["x", "y"] and first.more
    second = vault.browse_page(Source.folder(1), after=first.after, limit=2)
    assert [r.id for r in second.rows] == [made[0].id, made[1].id] and second.more
    third = vault.browse_page(Source.folder(1), after=second.after, limit=2)
    assert [r.id for r in third.rows] == [made[2].id] and not third.more


def test_a_cursor_belongs_to_its_sort(vault: Vault) -> None:
    add_files(vault, 1, [Spec(f"f{i}") for i in range(3)])
    page = vault.browse_page(Source.folder(1), Sort("size"), limit=1)
    with pytest.raises(ValueError, match="another sort"):
        vault.browse_page(Source.folder(1), Sort("name"), after=page.after)
    with pytest.raises(ValueError):
        vault.browse_page(Source.folder(1), limit=0)
    with pytest.raises(ValueError, match="unknown kinds"):
        BrowseFilters(kinds=frozenset({"pictures"}))


def test_a_missing_or_trashed_folder_or_tag_is_not_found(vault: Vault) -> None:
    gone = vault.mkdir(1, "gone").created[0]
    vault.delete_folder(gone)
    for source in (Source.folder(gone), Source.folder(999), Source.tag(999)):
        with pytest.raises(NotFound):
            vault.browse_page(source)
        with pytest.raises(NotFound):
            vault.browse_count(source)
    with pytest.raises(NotFound):
        vault.subfolders(gone)


# -- the other sources ---------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_all_files_and_favorites_page_across_folders(
    vault: Vault, key: SortKey, descending: bool
) -> None:
    a = vault.mkdir(1, "a").created[0]
    b = vault.mkdir(a, "b").created[0]
    # The same names in three folders: ties on name too.
    made = (
        add_files(vault, 1, tied_specs(400))
        + add_files(vault, a, tied_specs(400))
        + add_files(vault, b, tied_specs(300))
    )
    sort = Sort(key, descending)
    rows = walk(vault, Source.all_files(), sort)
    assert [r.item for r in rows] == ["file"] * len(made)
    assert file_ids(rows) == expected_ids(made, sort)
    paths = {a: "/a", b: "/a/b", 1: "/"}
    assert all(r.folder_path == paths[r.folder_id or 0] for r in rows)
    favorites = [m for m in made if m.spec.favorite]
    assert file_ids(walk(vault, Source.favorites(), sort)) == expected_ids(favorites, sort)
    assert vault.browse_count(Source.all_files()) == 1100
    assert vault.browse_count(Source.favorites()) == len(favorites) == 275


def test_recent_holds_files_modified_or_imported_lately_newest_first(vault: Vault) -> None:
    fresh = now() - timedelta(days=2)
    made = add_files(
        vault,
        1,
        [
            Spec("old.txt"),
            Spec("edited.txt", modified=fresh),
            Spec("imported.txt", created=fresh - timedelta(hours=1)),
            Spec("edited-earlier.txt", modified=fresh - timedelta(days=1)),
            Spec("month-old.txt", modified=now() - timedelta(days=31)),
        ],
    )
    assert default_sort(Source.recent()) == Sort("modified", descending=True)
    rows = walk(vault, Source.recent(), limit=2)
    # Newest first by modified date; an old file imported lately is recent too.
    assert [r.name for r in rows] == ["edited.txt", "edited-earlier.txt", "imported.txt"]
    assert [r.name for r in walk(vault, Source.recent(), Sort("name"))] == [
        "edited-earlier.txt",
        "edited.txt",
        "imported.txt",
    ]
    assert vault.browse_count(Source.recent()) == 3
    # Sorted by the date the list shows: the old file imported lately comes last.
    assert [r.name for r in walk(vault, Source.recent(days=40))][-2:] == [
        "month-old.txt",
        "imported.txt",
    ]
    assert made[0].id not in file_ids(walk(vault, Source.recent()))


def test_a_tag_lists_its_files_with_every_row_carrying_its_tags(vault: Vault) -> None:
    sub = vault.mkdir(1, "sub").created[0]
    made = add_files(vault, 1, tied_specs(150)) + add_files(vault, sub, tied_specs(100, "s "))
    tagged = made[::3]
    beach = add_tag(vault, "beach", [m.id for m in tagged], color="#00f")
    add_tag(vault, "Alps", [m.id for m in made[:10]])
    for key in KEYS:
        for descending in (False, True):
            sort = Sort(key, descending)
            rows = walk(vault, Source.tag(beach), sort, limit=13)
            assert file_ids(rows) == expected_ids(tagged, sort)
    assert vault.browse_count(Source.tag(beach)) == len(tagged)
    page = vault.browse_page(Source.tag(beach), Sort("name"), limit=1000)
    by_id = {r.id: r for r in page.rows}
    assert by_id[made[0].id].tags == ("Alps", "beach")  # sorted ignoring case
    assert by_id[made[12].id].tags == ("beach",)
    assert made[1].id not in by_id
    # Every source's rows carry their tags.
    beach_ids, alps_ids = {m.id for m in tagged}, {m.id for m in made[:10]}
    for row in walk(vault, Source.folder(1)):
        if row.item == "file":
            expected = ("Alps",) * (row.id in alps_ids) + ("beach",) * (row.id in beach_ids)
            assert row.tags == expected


def test_filters_by_kind_and_favorites(vault: Vault) -> None:
    made = add_files(vault, 1, tied_specs(600))
    other = vault.mkdir(1, "other").created[0]
    made += add_files(vault, other, tied_specs(100))
    images_videos = BrowseFilters(kinds=frozenset({"image", "video"}))
    favorite_docs = BrowseFilters(kinds=frozenset({"document"}), favorites=True)
    for filters, keep in (
        (images_videos, lambda s: s.kind in {"image", "video"}),
        (favorite_docs, lambda s: s.kind == "document" and s.favorite),
        (BrowseFilters(favorites=True), lambda s: s.favorite),
    ):
        here = [m for m in made if m.folder_id == 1 and keep(m.spec)]
        everywhere = [m for m in made if keep(m.spec)]
        for sort in (Sort("name"), Sort("size", descending=True)):
            rows = walk(vault, Source.folder(1), sort, filters, limit=31)
            # The subfolder stays, so the user can still go down into it.
            assert [r.id for r in rows if r.item == "folder"] == [other]
            assert file_ids(rows) == expected_ids(here, sort)
            assert file_ids(walk(vault, Source.all_files(), sort, filters)) == expected_ids(
                everywhere, sort
            )
        assert vault.browse_count(Source.folder(1), filters) == len(here) + 1
        assert vault.browse_count(Source.all_files(), filters) == len(everywhere)
    assert all(r.kind == "document" for r in walk(vault, Source.favorites(), None, favorite_docs))


# -- the Trash -----------------------------------------------------------------


def test_trashed_files_appear_only_in_the_trash(vault: Vault) -> None:
    fresh = now() - timedelta(hours=1)
    sub = vault.mkdir(1, "Holiday").created[0]
    inside = add_files(
        vault, sub, [Spec("in1.jpg", size=10, favorite=True), Spec("in2.jpg", size=5)]
    )
    loose = add_files(
        vault,
        1,
        [
            Spec("loose.png", size=7, favorite=True, modified=fresh, remote="completed"),
            Spec("kept.png", size=3, favorite=True, modified=fresh),
        ],
    )
    tag = add_tag(vault, "t", [m.id for m in inside + loose])
    vault.delete_file(loose[0].id)
    vault.delete_folder(sub)
    kept = [loose[1].id]
    for source in (
        Source.folder(1),
        Source.all_files(),
        Source.favorites(),
        Source.recent(),
        Source.tag(tag),
    ):
        assert file_ids(walk(vault, source)) == kept, source
        assert [r.item for r in walk(vault, source)] == ["file"], source
        assert vault.browse_count(source) == 1, source
    assert vault.tags_with_counts() == [TagCount(tag, "t", "", 1)]

    rows = walk(vault, Source.trash(), limit=1)
    entries = {e.name: e for e in vault.trash_list()}
    # Newest deletion first; a deleted folder is one row with the size of what it took.
    assert [(r.item, r.name, r.size) for r in rows] == [
        ("folder", "Holiday", 15),
        ("file", "loose.png", 7),
    ]
    assert [r.trash_entry_id for r in rows] == [entries["Holiday"].id, entries["loose.png"].id]
    assert [r.modified_at for r in rows] == [
        entries["Holiday"].deleted_at,
        entries["loose.png"].deleted_at,
    ]
    folder_row, file_row = rows
    assert folder_row.id == sub and folder_row.kind == "folder" and folder_row.folder_path == "/"
    assert file_row.id == loose[0].id and file_row.kind == "image"
    assert file_row.sync == "Backed up" and file_row.blob_hash and file_row.blob_size == 7
    assert file_row.folder_id is None and file_row.folder_path == "/"
    assert file_row.tags == ("t",)
    by_size = walk(vault, Source.trash(), Sort("size"))
    assert [r.name for r in by_size] == ["loose.png", "Holiday"]
    by_name_desc = walk(vault, Source.trash(), Sort("name", descending=True), limit=1)
    assert [r.name for r in by_name_desc] == ["loose.png", "Holiday"]
    assert [r.name for r in walk(vault, Source.trash(), Sort("kind"))] == ["Holiday", "loose.png"]
    videos = BrowseFilters(kinds=frozenset({"video"}))
    assert [r.name for r in walk(vault, Source.trash(), None, videos)] == ["Holiday"]
    assert vault.browse_count(Source.trash()) == 2
    assert vault.browse_count(Source.trash(), videos) == 1


def test_the_trash_pages_through_many_deletions(vault: Vault) -> None:
    made = add_files(vault, 1, [Spec(f"n{i % 10}-{i}", size=i % 3) for i in range(120)])
    for m in made:
        vault.delete_file(m.id)
    for sort in (Sort("size"), Sort("name", descending=True), Sort("modified", True)):
        rows = walk(vault, Source.trash(), sort, limit=11)
        assert sorted(r.id for r in rows) == [m.id for m in made]
        entries = [r.trash_entry_id for r in rows]
        assert len(set(entries)) == 120
    by_size = walk(vault, Source.trash(), Sort("size"), limit=11)
    assert [(r.size, r.trash_entry_id) for r in by_size] == sorted(
        (r.size, r.trash_entry_id or 0) for r in by_size
    )


# -- sync state --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "remote", "word"),
    [
        ("present", "pending", "Not backed up"),
        ("present", "uploading", "Uploading"),
        ("present", "completed", "Backed up"),
        ("present", "failed", "Upload failed"),
        ("evicted", "completed", "Only in bucket"),
        ("evicted", "pending", "Missing"),
        ("evicted", "failed", "Missing"),
    ],
)
def test_sync_state_words(vault: Vault, local: str, remote: str, word: str) -> None:
    (made,) = add_files(vault, 1, [Spec("a.jpg", size=42)])
    with vault.writing() as session:
        session.execute(
            text(
                "UPDATE blob SET local_state = :l, remote_state = :r"
                " WHERE hash = (SELECT blob_hash FROM version WHERE file_id = :f)"
            ),
            {"l": local, "r": remote, "f": made.id},
        )
    (row,) = vault.browse_page(Source.folder(1)).rows
    assert row.sync == word == sync_word(local, remote)
    assert row.blob_hash == hashlib.sha256(f"{made.id}".encode()).hexdigest()
    assert row.blob_size == row.size == 42
    assert row.mime == "image/x" and row.is_favorite is False and row.modified_at == OLD


def test_a_real_import_lists_as_not_backed_up(vault: Vault, tmp_path: Path) -> None:
    from tests.helpers.vaults import add_file

    file_id = add_file(vault, tmp_path, "note.txt", b"hello")
    (row,) = vault.browse_page(Source.all_files()).rows
    assert (row.id, row.name, row.size, row.blob_size) == (file_id, "note.txt", 5, 5)
    assert row.sync == "Not backed up" and row.kind == "document"
    assert row.blob_hash == hashlib.sha256(b"hello").hexdigest()
    assert sync_word(None, None) == ""


# -- the tree ----------------------------------------------------------------------


def test_subfolders_say_whether_they_have_children(vault: Vault) -> None:
    a = vault.mkdir(1, "a").created[0]
    b = vault.mkdir(1, "B").created[0]
    c = vault.mkdir(1, "c").created[0]
    vault.mkdir(a, "inside a")
    gone = vault.mkdir(b, "trashed")
    vault.delete_folder(gone.created[0])
    vault.delete_folder(c)
    add_files(vault, b, [Spec("files do not count.txt")])
    assert vault.subfolders(1) == [FolderNode(a, "a", True), FolderNode(b, "B", False)]
    assert vault.subfolders(b) == []


def test_tags_with_counts(vault: Vault) -> None:
    made = add_files(vault, 1, [Spec(f"f{i}") for i in range(5)])
    ids = [m.id for m in made]
    zoo = add_tag(vault, "zoo", ids[:3], color="#f00")
    art = add_tag(vault, "Art", ids)
    empty = add_tag(vault, "empty", [])
    assert vault.tags_with_counts() == [
        TagCount(art, "Art", "", 5),
        TagCount(empty, "empty", "", 0),
        TagCount(zoo, "zoo", "#f00", 3),
    ]


# -- indexes -----------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_every_folder_sort_walks_an_index(vault: Vault, key: SortKey, descending: bool) -> None:
    made = add_files(vault, 1, tied_specs(300))
    add_files(vault, vault.mkdir(1, "other").created[0], tied_specs(300))
    sort = Sort(key, descending)
    index = {
        "name": "ix_file_live_name",
        "kind": "ix_file_live_kind",
        "size": "ix_file_live_size",
        "modified": "ix_file_live_modified",
    }[key]
    first = vault.browse_page(Source.folder(1), sort, limit=50)
    for after in (None, first.after):  # the first page and one from a cursor
        for plan in plans(
            vault, partial(vault.browse_page, Source.folder(1), sort, after=after, limit=50)
        ):
            assert_index_ordered(plan, index)
            # The cursor seeks into the index instead of reading from its start.
            assert after is None or any(f"{index} (folder_id=? AND " in p for p in plan), plan
    assert file_ids(walk(vault, Source.folder(1), sort)) == expected_ids(made, sort)


@pytest.mark.parametrize(
    ("key", "index"),
    [("name", "ix_file_live_all_name"), ("size", "ix_file_live_all_size")],
)
def test_all_files_by_name_or_size_walk_an_index(vault: Vault, key: SortKey, index: str) -> None:
    add_files(vault, 1, tied_specs(200))
    for descending in (False, True):
        sort = Sort(key, descending)
        first = vault.browse_page(Source.all_files(), sort, limit=20)
        for after in (None, first.after):
            for plan in plans(
                vault, partial(vault.browse_page, Source.all_files(), sort, after=after)
            ):
                assert_index_ordered(plan, index)
    for plan in plans(vault, lambda: vault.browse_page(Source.all_files(), Sort("modified", True))):
        assert_index_ordered(plan, "ix_file_modified")


@pytest.mark.parametrize(
    "source",
    [Source.favorites(), Source.recent(), Source.tag(1)],
    ids=["favorites", "recent", "tag"],
)
def test_small_sources_never_scan_the_file_table(vault: Vault, source: Source) -> None:
    made = add_files(vault, 1, tied_specs(200))
    assert add_tag(vault, "t", [m.id for m in made[:5]]) == 1
    for key in KEYS:
        for plan in plans(vault, partial(vault.browse_page, source, Sort(key))):
            file_lines = [p for p in plan if " file " in f"{p} "]
            # Files are found by an index (or by id), never by reading the whole table.
            assert file_lines and all(
                "SEARCH file" in p or "INDEX ix_file_favorite_name" in p for p in file_lines
            ), plan


@pytest.mark.slow
def test_a_folder_of_100000_files_opens_from_the_index(vault: Vault) -> None:
    big = vault.mkdir(1, "Big").created[0]
    count = 100_000
    specs = [
        Spec(f"IMG_{i:06d}.jpg", size=(i * 7919) % 100_003, modified=OLD + timedelta(seconds=i))
        for i in range(count)
    ]
    made = add_files(vault, big, specs)
    add_files(vault, 1, tied_specs(10))
    assert vault.browse_count(Source.folder(big)) == count
    (count_plan,) = plans(
        vault, lambda: vault.browse_count(Source.folder(big)), "SELECT (SELECT COUNT(*)"
    )
    assert any("SEARCH file USING" in p and "INDEX ix_file_live_" in p for p in count_plan)
    assert not any("SCAN file" in p for p in count_plan), count_plan

    page = vault.browse_page(Source.folder(big), limit=200)
    assert [r.id for r in page.rows] == [m.id for m in made[:200]]
    indexes: dict[SortKey, str] = {
        "name": "ix_file_live_name",
        "size": "ix_file_live_size",
        "modified": "ix_file_live_modified",
        "kind": "ix_file_live_kind",
    }
    for key, index in indexes.items():
        sort = Sort(key, descending=True)
        for plan in plans(vault, partial(vault.browse_page, Source.folder(big), sort)):
            assert_index_ordered(plan, index)
    by_size = vault.browse_page(Source.folder(big), Sort("size", True), limit=100)
    top = sorted(made, key=lambda m: (m.spec.size, m.id), reverse=True)[:100]
    assert [r.id for r in by_size.rows] == [m.id for m in top]
    # A page deep in the folder, from its cursor.
    deep = Cursor(Sort(), "file", (name_key("IMG_054321.jpg"),), made[54321].id)
    (first,) = vault.browse_page(Source.folder(big), after=deep, limit=1).rows
    assert first.name == "IMG_054322.jpg"


# -- the schema ----------------------------------------------------------------------


BROWSE_INDEXES = {
    "ix_file_live_size",
    "ix_file_live_modified",
    "ix_file_live_kind",
    "ix_file_live_all_name",
    "ix_file_live_all_size",
    "ix_file_live_created",
    "ix_file_favorite_name",
}


def test_an_older_catalog_gets_the_browse_indexes_on_open(tmp_path: Path) -> None:
    home = tmp_path / "v"
    home.mkdir()
    engine = create_catalog_engine(home / "catalog.sqlite3")
    try:
        command.upgrade(_alembic_config(engine), "0002")
        with engine.begin() as conn:
            names = set(
                conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")
                .scalars()
                .all()
            )
        assert not names & BROWSE_INDEXES
    finally:
        engine.dispose()
    with Vault.open(home) as vault:
        add_files(vault, 1, [Spec("a"), Spec("b", favorite=True)])
        assert upgrade(vault.engine) is False
        with vault.reading() as session:
            rows = session.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
            ).all()
        sql = {r[0]: r[1] for r in rows}
        assert set(sql) >= BROWSE_INDEXES
        assert all("trash_id IS NULL" in sql[name] for name in BROWSE_INDEXES)
        assert [r.name for r in walk(vault, Source.favorites())] == ["b"]


def test_page_and_rows_are_frozen(vault: Vault) -> None:
    add_files(vault, 1, [Spec("a")])
    page = vault.browse_page(Source.all_files())
    assert isinstance(page, Page)
    with pytest.raises(AttributeError):
        page.rows[0].name = "b"  # type: ignore[misc]


def test_sync_words_for_rows_already_shown(vault: Vault, tmp_path: Path) -> None:
    src = tmp_path / "words"
    src.mkdir()
    for name in ("a.txt", "b.txt"):
        (src / name).write_text(name, encoding="utf-8")
    assert vault.import_paths([src]).ok
    a, b = vault.require_file("/words/a.txt"), vault.require_file("/words/b.txt")
    assert vault.sync_words([a, b, 999_999]) == {a: "Not backed up", b: "Not backed up"}
    with vault.writing() as session:
        session.execute(text("UPDATE blob SET remote_state = 'completed'"))
    assert vault.sync_words([a]) == {a: "Backed up"}
    assert vault.sync_words([]) == {}


def test_search_lists_matches_as_rows_with_where_they_matched(vault: Vault, tmp_path: Path) -> None:
    src = tmp_path / "in"
    (src / "trips").mkdir(parents=True)
    (src / "trips" / "beach sunset.txt").write_text("a walk on the sand")
    (src / "notes.txt").write_text("we watched the sunset from the pier, then went home")
    (src / "other.txt").write_text("nothing to see")
    (src / "big sunset.txt").write_text("x" * 5000)
    assert vault.import_paths([src]).ok

    page = vault.browse_page(Source.search("sunset"))
    assert page.after is None and not page.more
    assert [r.name for r in page.rows][:2] in (
        ["beach sunset.txt", "big sunset.txt"],
        ["big sunset.txt", "beach sunset.txt"],
    )  # name hits rank first
    by_name = {r.name: r for r in page.rows}
    assert set(by_name) == {"beach sunset.txt", "notes.txt", "big sunset.txt"}
    assert by_name["notes.txt"].matched == ("content",)
    assert "[sunset]" in by_name["notes.txt"].snippet
    assert "name" in by_name["beach sunset.txt"].matched
    assert by_name["beach sunset.txt"].folder_path.endswith("/trips")
    assert by_name["notes.txt"].sync == "Not backed up" and by_name["notes.txt"].blob_hash

    by_size = vault.browse_page(Source.search("sunset"), Sort("size", descending=True))
    assert by_size.rows[0].name == "big sunset.txt"
    sizes = [r.size for r in by_size.rows]
    assert sizes == sorted(sizes, reverse=True)
    assert vault.browse_count(Source.search("sunset")) == 3

    trips = vault.resolve_folder("/in/trips")
    scoped = vault.browse_page(Source.search("sunset", trips))
    assert [r.name for r in scoped.rows] == ["beach sunset.txt"]
    none = vault.browse_page(
        Source.search("sunset"), filters=BrowseFilters(kinds=frozenset({"image"}))
    )
    assert none.rows == ()


def test_the_trail_of_a_folder_runs_from_the_top(vault: Vault) -> None:
    leaf = vault.makedirs("/Photos/2024/Summer")
    trail = vault.folder_trail(leaf)
    assert [n.name for n in trail][1:] == ["Photos", "2024", "Summer"]
    assert trail[0].id == vault.root_id and trail[-1].id == leaf
    assert [n.id for n in vault.folder_trail(vault.root_id)] == [vault.root_id]
    vault.delete_folder(vault.resolve_folder("/Photos"))
    with pytest.raises(NotFound):
        vault.folder_trail(leaf)


def test_file_info_keeps_tag_names_whole(vault: Vault, tmp_path: Path) -> None:
    from tests.helpers.vaults import add_file

    file_id = add_file(vault, tmp_path, "beach.jpg", b"\xff\xd8 not really")
    add_tag(vault, "Summer 2023", [file_id])
    add_tag(vault, "family", [file_id])
    assert vault.file_info(file_id).tags == ["family", "Summer 2023"]


def test_rows_say_which_files_are_kept_on_this_device(vault: Vault, tmp_path: Path) -> None:
    from tests.helpers.vaults import add_file

    kept = add_file(vault, tmp_path, "kept.txt", b"kept")
    loose = add_file(vault, tmp_path, "loose.txt", b"loose")
    vault.keep_on_device([kept], True)
    rows = {r.id: r for r in vault.browse_page(Source.all_files()).rows}
    assert rows[kept].kept and not rows[loose].kept
    assert vault.browse_page(Source.search("kept")).rows[0].kept
