"""Tags: the service (create, rename, recolour, delete, tagging files), the filters that use
them (tag sources, combinations, ``tag:`` in search), the search index, and the CLI.

The property test drives a real vault with random tag operations, trashing and
restoring files, next to a plain model, and checks after every step that usage
counts, tag listings, combinations, ``tag:`` searches, the tri-state query and
the search index's tags column all agree with the model.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import text

from app.browse import Source
from app.errors import InvalidName, NameTaken, NotFound
from app.naming import name_key
from app.search import split_tags
from app.tags import PALETTE, InvalidColor, parse_color, tag_problems
from app.vault import Vault
from tests.helpers.cli import Runner

# -- helpers -------------------------------------------------------------------


def _files(vault: Vault, tmp_path: Path, n: int) -> list[int]:
    """Import ``n`` small text files into the vault's top folder; their ids by name."""
    source = tmp_path / f"src-{n}"
    source.mkdir()
    for i in range(n):
        (source / f"file-{i:02}.txt").write_text(f"content number {i}\n", encoding="utf-8")
    vault.import_paths([source], vault.root_id)
    folder = vault.resolve_folder(f"/{source.name}")
    return [r.id for r in vault.list_folder(folder).files]


def _listed(vault: Vault, source: Source) -> set[int]:
    page = vault.browse_page(source, limit=1000)
    assert not page.more
    return {r.id for r in page.rows}


def _indexed_tags(vault: Vault) -> dict[int, str]:
    with vault.reading() as session:
        return {r[0]: r[1] for r in session.execute(text("SELECT rowid, tags FROM search"))}


def _trash_entry(vault: Vault, file_id: int) -> int:
    with vault.reading() as session:
        return int(
            session.execute(
                text("SELECT id FROM trash_entry WHERE file_id = :f"), {"f": file_id}
            ).scalar_one()
        )


# -- the service ---------------------------------------------------------------


def test_names_and_colours() -> None:
    assert tag_problems("Road trip") == []
    assert tag_problems("  ") == ["A tag needs a name."]
    assert "control characters" in tag_problems("a\tb")[0]
    assert "double quote" in tag_problems('say "hi"')[0]
    assert "at most 64" in tag_problems("x" * 65)[0]
    assert tag_problems("x" * 64) == []
    assert parse_color("#0090FF") == "#0090ff"
    assert parse_color("0090ff") == "#0090ff"
    assert parse_color("#abc") == "#aabbcc"
    assert parse_color("Blue") == dict(PALETTE)["blue"]
    assert parse_color("grey") == dict(PALETTE)["gray"]
    for bad in ("", "#12", "#1234567", "puce", "#ggg"):
        with pytest.raises(InvalidColor):
            parse_color(bad)


def test_create_rename_recolor_delete(vault: Vault, tmp_path: Path) -> None:
    ids = _files(vault, tmp_path, 4)
    made = vault.create_tag("  Beach ")
    (beach,) = made.created
    assert vault.tag(beach).name == "Beach"  # trimmed
    assert vault.tag(beach).color == PALETTE[0][1]  # the least used colour, in order
    # New tags take the palette's colours in turn; an explicit one is kept.
    second = vault.create_tag("Alps").created[0]
    assert vault.tag(second).color == PALETTE[1][1]
    third = vault.create_tag("Work", "#123456").created[0]
    assert vault.tag(third).color == "#123456"
    assert vault.next_color() == PALETTE[2][1]

    with pytest.raises(NameTaken):
        vault.create_tag("BEACH")
    with pytest.raises(InvalidName):
        vault.create_tag("")
    with pytest.raises(InvalidColor):
        vault.create_tag("Other", "nope")

    vault.tag_files(ids[:3], add=[beach])
    # Renaming re-indexes every file carrying the tag; a change of case alone is fine.
    changes = vault.rename_tag(beach, "Seaside")
    assert changes.files == frozenset(ids[:3])
    assert vault.search("seaside")[0].matched == ("tags",)
    assert vault.search("beach") == []
    assert vault.rename_tag(beach, "SEASIDE").tags == {beach}
    assert vault.rename_tag(beach, "SEASIDE") == type(changes)()  # nothing to do
    with pytest.raises(NameTaken):
        vault.rename_tag(beach, "alps")
    with pytest.raises(NotFound):
        vault.rename_tag(9999, "x")

    assert vault.recolor_tag(beach, "green").files == frozenset(ids[:3])
    assert vault.tag(beach).color == dict(PALETTE)["green"]
    assert vault.browse_page(Source.tag(beach)).rows[0].tag_colors == (dict(PALETTE)["green"],)

    # Delete counts live files only (the confirmation's number), and takes the tag
    # off files in the Trash too.
    vault.delete_file(ids[0])
    assert vault.tag_usage(beach) == 2
    deleted = vault.delete_tag(beach)
    assert deleted.count == 2
    assert deleted.deleted == (beach,)
    assert deleted.files == frozenset(ids[:3])
    with pytest.raises(NotFound):
        vault.tag(beach)
    with pytest.raises(NotFound):
        vault.browse_page(Source.tag(beach))
    vault.restore(_trash_entry(vault, ids[0]))
    assert vault.file_tags(ids[0]) == []
    assert all(v == "" for v in _indexed_tags(vault).values())


def test_tag_files_many_at_once(vault: Vault, tmp_path: Path) -> None:
    ids = _files(vault, tmp_path, 5)
    changes = vault.tag_files(ids[:3], add=["Road trip", "2023"], create=True)
    assert len(changes.created) == 2
    assert changes.files == frozenset(ids[:3])
    assert changes.count == 6
    trip = vault.tag_named("road TRIP").id
    year = vault.tag_named("2023").id
    # Adding what is there changes nothing; names resolve ignoring case.
    again = vault.tag_files(ids[:3], add=["ROAD TRIP"])
    assert again.files == frozenset() and again.count == 0
    # A tag both added and removed is added; removing one a file lacks is a no-op.
    mixed = vault.tag_files(ids[2:], add=[year], remove=[year, trip])
    assert mixed.files == frozenset(ids[2:])
    assert {t.name for t in vault.file_tags(ids[2])} == {"2023"}
    assert {t.name for t in vault.file_tags(ids[4])} == {"2023"}
    # Colours for new tags, by the name given.
    vault.tag_files([ids[0]], add=["Family"], create=True, colors={"Family": "#abcdef"})
    assert vault.tag_named("family").color == "#abcdef"

    with pytest.raises(NotFound):
        vault.tag_files(ids, add=["unknown"])  # no create
    with pytest.raises(NotFound):
        vault.tag_files(ids, add=[9999])
    with pytest.raises(NotFound):
        vault.tag_files([9999], add=[trip])
    vault.delete_file(ids[1])
    with pytest.raises(NotFound):
        vault.tag_files([ids[1]], add=[trip])
    # A refused call changed nothing.
    assert vault.tags_with_counts()[-1].name == "Road trip"
    assert vault.tag_usage(trip) == 1


def test_tag_state_for_the_editor(vault: Vault, tmp_path: Path) -> None:
    ids = _files(vault, tmp_path, 4)
    vault.tag_files(ids[:2], add=["both"], create=True)
    vault.tag_files(ids[:1], add=["one"], create=True)
    vault.create_tag("none")
    states = {s.name: s for s in vault.tag_state(ids[:2])}
    assert [s.state for s in (states["both"], states["one"], states["none"])] == [
        "all",
        "some",
        "none",
    ]
    assert (states["one"].files, states["one"].total) == (1, 1)
    assert [s.name for s in vault.tag_state([])] == ["both", "none", "one"]
    assert {s.state for s in vault.tag_state([])} == {"none"}


def test_combinations_of_tags(vault: Vault, tmp_path: Path) -> None:
    ids = _files(vault, tmp_path, 6)
    a = vault.create_tag("a").created[0]
    b = vault.create_tag("b").created[0]
    c = vault.create_tag("c").created[0]
    vault.tag_files(ids[:4], add=[a])
    vault.tag_files(ids[2:5], add=[b])
    vault.tag_files(ids[3:], add=[c])
    assert _listed(vault, Source.tags([a, b])) == set(ids[2:4])
    assert _listed(vault, Source.tags([a, b], "any")) == set(ids[:5])
    assert _listed(vault, Source.tags([a, b, c])) == {ids[3]}
    assert _listed(vault, Source.tags([c, a], "any")) == set(ids)
    assert vault.browse_count(Source.tags([a, b])) == 2
    # One tag is just that tag; the first id is kept (the tree's current node).
    assert Source.tags([b]) == Source.tag(b)
    assert Source.tags([b, a]).id == b
    assert Source.tags([b, a]).tag_ids == (a, b)
    # Paging through a combination with a small page keeps every row once.
    seen: list[int] = []
    after = None
    while True:
        page = vault.browse_page(Source.tags([a, c], "any"), after=after, limit=2)
        seen += [r.id for r in page.rows]
        if page.after is None:
            break
        after = page.after
    assert sorted(seen) == sorted(ids)
    vault.delete_tag(c)
    with pytest.raises(NotFound):
        vault.browse_page(Source.tags([a, c]))


def test_tag_terms_in_search(vault: Vault, tmp_path: Path) -> None:
    assert split_tags('beach tag:"road trip" TAG:2023 x') == ("beach x", ("road trip", "2023"))
    assert split_tags("tag: tag:a tag:a") == ("", ("a",))
    assert split_tags("hashtag:x") == ("hashtag:x", ())
    ids = _files(vault, tmp_path, 4)
    vault.tag_files(ids[:2], add=["Road trip"], create=True)
    vault.tag_files(ids[1:], add=["2023"], create=True)
    found = {h.file_id for h in vault.search('tag:"road TRIP"')}
    assert found == set(ids[:2])
    assert {h.file_id for h in vault.search('tag:"Road trip" tag:2023')} == {ids[1]}
    assert {h.file_id for h in vault.search("tag:2023 number")} == set(ids[1:])
    assert vault.search("tag:unknown") == []  # still typing: no error, no results
    # The window's search source goes through the same parsing.
    rows = vault.browse_page(Source.search('tag:"road trip"')).rows
    assert {r.id for r in rows} == set(ids[:2])
    assert rows[0].tags and rows[0].tag_colors


# -- random operations keep everything consistent --------------------------------

TAG_NAMES = ["Beach", "beach", "Road trip", "ROAD TRIP", "ß", "ss", "2023", "Ä", "A\u0308"]
BAD_NAMES = ["", "  ", 'a"b', "a\tb", "x" * 65]
COLORS = ["#ff0000", "#00FF00", "blue", "#abc", "nope"]
FILES = 6
_PHASES = [p for p in Phase if p is not Phase.explain]
PROFILE = settings(
    max_examples=int(os.environ.get("TAG_EXAMPLES", "25")),
    stateful_step_count=20,
    deadline=None,
    phases=_PHASES,
    suppress_health_check=[HealthCheck.too_slow],
)


def _key(name: str) -> str:
    return name_key(unicodedata.normalize("NFC", name.strip()))


class TagMachine(RuleBasedStateMachine):
    """A real vault with a few files, and the tags it should hold."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="mv-tags-"))
        self.vault = Vault.open(self.tmp / "vault")
        self.tags: dict[int, tuple[str, str]] = {}  # id -> (name, colour)
        self.carried: dict[int, set[int]] = {}  # file id -> tag ids
        self.trashed: set[int] = set()
        self.file_ids: list[int] = []

    def teardown(self) -> None:
        self.vault.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    @initialize()
    def files(self) -> None:
        self.file_ids = _files(self.vault, self.tmp, FILES)
        self.carried = {f: set() for f in self.file_ids}

    def _by_key(self, name: str) -> int | None:
        return next((t for t, (n, _c) in self.tags.items() if _key(n) == _key(name)), None)

    def _pick_tag(self, i: int) -> int | None:
        ids = sorted(self.tags)
        return ids[i % len(ids)] if ids else None

    def _live(self) -> list[int]:
        return [f for f in self.file_ids if f not in self.trashed]

    # -- rules -------------------------------------------------------------------

    @rule(name=st.sampled_from(TAG_NAMES + BAD_NAMES), color=st.sampled_from(COLORS))
    def create(self, name: str, color: str) -> None:
        if tag_problems(name):
            with pytest.raises(InvalidName):
                self.vault.create_tag(name, color)
        elif color == "nope":
            with pytest.raises(InvalidColor):
                self.vault.create_tag(name, color)
        elif self._by_key(name) is not None:
            with pytest.raises(NameTaken):
                self.vault.create_tag(name, color)
        else:
            (tag_id,) = self.vault.create_tag(name, color).created
            self.tags[tag_id] = (unicodedata.normalize("NFC", name.strip()), parse_color(color))

    @rule(i=st.integers(0, 20), name=st.sampled_from(TAG_NAMES + BAD_NAMES))
    def rename(self, i: int, name: str) -> None:
        tag_id = self._pick_tag(i)
        if tag_id is None:
            return
        other = self._by_key(name)
        if tag_problems(name):
            with pytest.raises(InvalidName):
                self.vault.rename_tag(tag_id, name)
        elif other is not None and other != tag_id:
            with pytest.raises(NameTaken):
                self.vault.rename_tag(tag_id, name)
        else:
            self.vault.rename_tag(tag_id, name)
            self.tags[tag_id] = (unicodedata.normalize("NFC", name.strip()), self.tags[tag_id][1])

    @rule(i=st.integers(0, 20), color=st.sampled_from(COLORS))
    def recolor(self, i: int, color: str) -> None:
        tag_id = self._pick_tag(i)
        if tag_id is None:
            return
        if color == "nope":
            with pytest.raises(InvalidColor):
                self.vault.recolor_tag(tag_id, color)
            return
        self.vault.recolor_tag(tag_id, color)
        self.tags[tag_id] = (self.tags[tag_id][0], parse_color(color))

    @rule(i=st.integers(0, 20))
    def delete(self, i: int) -> None:
        tag_id = self._pick_tag(i)
        if tag_id is None:
            return
        live = sum(1 for f in self._live() if tag_id in self.carried[f])
        assert self.vault.tag_usage(tag_id) == live
        assert self.vault.delete_tag(tag_id).count == live
        del self.tags[tag_id]
        for tags in self.carried.values():
            tags.discard(tag_id)

    @rule(
        picks=st.sets(st.integers(0, FILES - 1), min_size=1),
        add=st.lists(st.integers(0, 20), max_size=2),
        remove=st.lists(st.integers(0, 20), max_size=2),
        new=st.lists(st.sampled_from(TAG_NAMES), max_size=1),
    )
    def tag_files(self, picks: set[int], add: list[int], remove: list[int], new: list[str]) -> None:
        files = sorted(self.file_ids[p] for p in picks)
        adding = [t for t in (self._pick_tag(i) for i in add) if t is not None]
        removing = {t for t in (self._pick_tag(i) for i in remove) if t is not None}
        if any(f in self.trashed for f in files):
            with pytest.raises(NotFound):
                self.vault.tag_files(files, add=adding, remove=removing)
            return
        changes = self.vault.tag_files(files, add=[*adding, *new], remove=removing, create=True)
        created = dict(zip(new, changes.created, strict=False))
        for name in new:
            known = self._by_key(name)
            if known is None:
                tag_id = created[name]
                nfc = unicodedata.normalize("NFC", name.strip())
                self.tags[tag_id] = (nfc, self.vault.tag(tag_id).color)
                known = tag_id
            adding.append(known)
        for f in files:
            self.carried[f] |= set(adding)
            self.carried[f] -= removing - set(adding)

    @rule(i=st.integers(0, FILES - 1))
    def trash_or_restore(self, i: int) -> None:
        file_id = self.file_ids[i]
        if file_id in self.trashed:
            self.vault.restore(_trash_entry(self.vault, file_id))
            self.trashed.discard(file_id)
        else:
            self.vault.delete_file(file_id)
            self.trashed.add(file_id)

    # -- invariants --------------------------------------------------------------

    def _expected(self, tag_id: int) -> set[int]:
        return {f for f in self._live() if tag_id in self.carried[f]}

    @invariant()
    def counts_and_listings_agree(self) -> None:
        counts = self.vault.tags_with_counts()
        expected = sorted(self.tags.items(), key=lambda kv: name_key(kv[1][0]))
        assert [(c.id, c.name, c.color) for c in counts] == [(t, n, c) for t, (n, c) in expected]
        for count in counts:
            files = self._expected(count.id)
            assert count.files == len(files)
            assert _listed(self.vault, Source.tag(count.id)) == files
            assert self.vault.browse_count(Source.tag(count.id)) == len(files)
            hits = self.vault.search(f'tag:"{count.name}"', limit=1000)
            assert {h.file_id for h in hits} == files

    @invariant()
    def combinations_agree(self) -> None:
        ids = sorted(self.tags)[:3]
        if len(ids) < 2:
            return
        sets = [self._expected(t) for t in ids]
        assert _listed(self.vault, Source.tags(ids, "all")) == set.intersection(*sets)
        assert _listed(self.vault, Source.tags(ids, "any")) == set.union(*sets)
        query = " ".join(f'tag:"{self.tags[t][0]}"' for t in ids)
        assert {h.file_id for h in self.vault.search(query, limit=1000)} == set.intersection(*sets)

    @invariant()
    def rows_index_and_editor_agree(self) -> None:
        if not self.file_ids:
            return
        indexed = _indexed_tags(self.vault)
        for f in self.file_ids:
            names = sorted((self.tags[t][0] for t in self.carried[f]), key=name_key)
            assert [t.name for t in self.vault.file_tags(f)] == names
            assert indexed[f] == " ".join(names)
        rows = self.vault.browse_page(Source.folder(self.vault.root_id), limit=1000).rows
        for row in rows:
            if row.item == "file":
                tags = sorted(self.carried[row.id], key=lambda t: name_key(self.tags[t][0]))
                assert row.tags == tuple(self.tags[t][0] for t in tags)
                assert row.tag_colors == tuple(self.tags[t][1] for t in tags)
        selection = self._live()[:3]
        for state in self.vault.tag_state(selection):
            n = sum(1 for f in selection if state.id in self.carried[f])
            assert state.files == n
            assert state.state == ("none" if n == 0 else "all" if n == len(selection) else "some")


TagMachine.TestCase.settings = PROFILE
TestTagMachine = TagMachine.TestCase


# -- the command line ------------------------------------------------------------


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Runner:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("a.jpg", "b.jpg", "c.txt"):
        (source / name).write_bytes(name.encode())
    runner = Runner(tmp_path / "v", capsys)
    runner.ok("import", str(source), "--to", "/In", "--mkdir")
    return runner


def test_cli_add_list_rm(run: Runner) -> None:
    out = run.ok("tag", "add", "Road trip", "/In/src/a.jpg", "/In/src/b.jpg", "--color", "orange")
    assert "Created tag Road trip" in out and "Tagged 2 files with Road trip" in out
    run.ok("tag", "add", "road TRIP", "/In/src/a.jpg", "--color", "blue")
    assert "1 file had it already." in run.err
    assert "keeps its colour" in run.err
    run.ok("tag", "add", "Beach", "/In/src/a.jpg")
    listed = run.json("tag", "list")
    assert [(t["name"], t["files"]) for t in listed] == [("Beach", 1), ("Road trip", 2)]
    assert listed[1]["color"] == dict(PALETTE)["orange"]
    text_out = run.ok("tag", "list")
    assert "2  " + dict(PALETTE)["orange"] in text_out
    of_file = run.json("tag", "list", "/In/src/a.jpg")
    assert [t["name"] for t in of_file] == ["Beach", "Road trip"]
    run.ok("tag", "list", "/In/src/c.txt")
    assert "has no tags" in run.err

    removed = run.json("tag", "rm", "road trip", "/In/src/a.jpg")
    assert removed["changed"] == 1
    hits = run.json("search", 'tag:"Road trip"')
    assert [h["path"] for h in hits] == ["/In/src/b.jpg"]
    assert [h["path"] for h in run.json("search", "", "--tag", "beach")] == ["/In/src/a.jpg"]


def test_cli_rename_color_delete(run: Runner) -> None:
    run.ok("tag", "add", "Beach", "/In/src/a.jpg", "/In/src/b.jpg")
    assert "Renamed tag Beach to Seaside" in run.ok("tag", "rename", "beach", "Seaside")
    data = run.json("tag", "color", "seaside", "#ABC")
    assert data["tag"]["color"] == "#aabbcc"
    deleted = run.json("tag", "delete", "Seaside")
    assert deleted["files"] == 2
    assert run.json("tag", "list") == []
    assert "No tags yet" in run.err


def test_cli_errors_are_messages(run: Runner) -> None:
    for args, words in (
        (("tag", "rm", "nope", "/In/src/a.jpg"), 'There is no tag named "nope".'),
        (("tag", "add", 'a"b', "/In/src/a.jpg"), "double quote"),
        (("tag", "add", "x", "/In/src/missing.jpg"), "There is no"),
        (("tag", "add", "x", "/In/src"), "is a folder"),
        (("tag", "color", "nope", "red"), "no tag named"),
    ):
        run(*args)
        assert run.code == 1, args
        assert words in run.err and "Traceback" not in run.err
    run.ok("tag", "add", "x", "/In/src/a.jpg")
    run("tag", "color", "x", "puce")
    assert run.code == 1 and "not a colour" in run.err
    run.ok("tag", "add", "y", "/In/src/a.jpg")
    run("tag", "rename", "y", "X")
    assert run.code == 1 and "already a tag" in run.err
    run("tag")
    assert run.code == 2
    assert [t["name"] for t in run.json("tag", "list", "/In/src/a.jpg")] == ["x", "y"]
