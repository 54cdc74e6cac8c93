"""Property tests: random sequences of organise, trash and import operations on a real vault.

A Hypothesis state machine drives a real :class:`~app.vault.Vault` in a temp
directory next to a plain Python model of what the vault should hold: nodes
by vault id, each with a name, a parent and (for files) the contents of its
versions, plus the Trash's entries. Every rule first works out from the model
what the vault must do (succeed, or raise ``InvalidName``, ``NameTaken`` or
``Refused``), does it, and applies the same change to the model.

After every step the invariants are checked from the outside, with raw SQL on
the catalog (see :mod:`tests.helpers.catalog`), and the vault's own listing,
Trash, search and verify are compared with the model.

Profiles: ``HYPOTHESIS_PROFILE=ci`` (the default, well under a minute) or
``HYPOTHESIS_PROFILE=dev`` (many more and longer runs, for a local soak).
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from app.errors import InvalidName, NameTaken, Refused, VaultError
from app.importer import Conflict
from app.naming import name_key, numbered
from app.vault import Vault
from tests.helpers.catalog import all_problems

# No "explain" phase: it re-runs the failing case under a line tracer, which for a
# state machine over SQLite takes minutes and adds little to the printed steps.
_PHASES = [p for p in Phase if p is not Phase.explain]
PROFILES = {
    "ci": settings(
        max_examples=30,
        stateful_step_count=25,
        deadline=None,
        phases=_PHASES,
        suppress_health_check=[HealthCheck.too_slow],
    ),
    "dev": settings(
        max_examples=500,
        stateful_step_count=60,
        deadline=None,
        phases=_PHASES,
        suppress_health_check=[HealthCheck.too_slow],
    ),
}
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")

ROOT = 1

# Few names, so that clashes are common: case variants, a composed and a
# decomposed "Ä" (the same name once in NFC), ß and its case fold "ss",
# and names with extensions (which "keep both" numbers before the extension).
VALID_NAMES = ["a", "A", "b", "Ä", "ä", "A\u0308", "ß", "ss", "a.txt", "A.TXT", "b (2)"]
INVALID_NAMES = ["", ".", "..", "a/b", "a\\b", "x:y", "q?", "a.", "a ", "con", "LPT1.txt", "a\tb"]
CONTENTS = [b"alpha\n", b"beta\n", b"", b"\x00\x01\x02binary"]

picks = st.integers(min_value=0, max_value=1 << 16)
names = st.sampled_from(VALID_NAMES)
any_names = st.one_of(names, st.sampled_from(INVALID_NAMES))


def nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


Key = tuple[str, int]  # ("folder", id) or ("file", id): folders and files number apart
ROOT_KEY: Key = ("folder", ROOT)


@dataclass
class Node:
    """A folder or file as the model expects it."""

    name: str
    parent: int | None  # the id of its folder
    versions: list[bytes] = field(default_factory=list)  # files: contents, oldest first
    trash: int | None = None  # the id of the deletion that took it


@dataclass
class Entry:
    """A deletion in the Trash."""

    item: Key
    parent: int  # the folder it was deleted from
    original_path: str  # that folder's path at deletion time


class VaultMachine(RuleBasedStateMachine):
    """A real vault and its model, changed in step."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="mv-props-"))
        self.vault = Vault.open(self.tmp / "vault")
        self.sources = itertools.count()
        self.temp_ids = itertools.count(-1, -1)
        self.nodes: dict[Key, Node] = {ROOT_KEY: Node("", None)}
        self.entries: dict[int, Entry] = {}

    def teardown(self) -> None:
        self.vault.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- the model's view ------------------------------------------------------

    def live(self, kind: str | None = None) -> list[Key]:
        return sorted(k for k, n in self.nodes.items() if n.trash is None and kind in (None, k[0]))

    @staticmethod
    def pick(keys: list[Key], i: int) -> Key:
        return keys[i % len(keys)]

    def children(self, folder: int, live: bool = True) -> list[Key]:
        return sorted(
            k for k, n in self.nodes.items() if n.parent == folder and (not live or n.trash is None)
        )

    def clash(self, folder: int, name: str, itself: Key | None = None) -> Key | None:
        """The live item in ``folder`` named ``name`` ignoring case, other than ``itself``."""
        wanted = name_key(name)
        for k in self.children(folder):
            if k != itself and name_key(self.nodes[k].name) == wanted:
                return k
        return None

    def free_name(self, folder: int, name: str) -> str:
        """The vault's "keep both" rule: ``name``, else ``name (2)``, ``name (3)``…"""
        candidate, n = name, 1
        while self.clash(folder, candidate) is not None:
            n += 1
            candidate = numbered(name, n)
        return candidate

    def parts(self, key: Key) -> tuple[str, ...]:
        out: list[str] = []
        while key != ROOT_KEY:
            node = self.nodes[key]
            out.append(node.name)
            assert node.parent is not None
            key = ("folder", node.parent)
        return tuple(reversed(out))

    def path(self, key: Key) -> str:
        return "/" + "/".join(self.parts(key))

    def inside(self, folder: int, ancestor: int) -> bool:
        """Folder ``folder`` is folder ``ancestor`` or below it."""
        current: int | None = folder
        while current is not None:
            if current == ancestor:
                return True
            current = self.nodes[("folder", current)].parent
        return False

    def subtree(self, top: Key, live: bool) -> list[Key]:
        """``top`` and everything below it (only live items if ``live``), parents first."""
        out, queue = [], [top]
        while queue:
            current = queue.pop(0)
            out.append(current)
            if current[0] == "folder":
                queue.extend(self.children(current[1], live=live))
        return out

    def add(self, kind: str, node: Node) -> int:
        """A node the vault creates but does not name the id of (see :meth:`adopt`)."""
        temp = next(self.temp_ids)
        self.nodes[(kind, temp)] = node
        return temp

    def adopt(self) -> None:
        """Give nodes created by the last step their vault ids, found by their expected paths.

        Parents first, so a child's path is computed from already adopted parents.
        If an expected path is not in the vault, :meth:`model_agrees` reports it;
        here it just stays unadopted.
        """
        for key in sorted((k for k in self.nodes if k[1] < 0), key=lambda k: -k[1]):
            try:
                kind, real = self.vault.resolve(self.path(key))
            except VaultError:
                continue
            assert kind == key[0], f"{self.path(key)} is a {kind}, expected a {key[0]}"
            assert (kind, real) not in self.nodes, f"{self.path(key)} is known as {real}"
            self.nodes[(kind, real)] = self.nodes.pop(key)
            if kind == "folder":
                for other in self.nodes.values():
                    if other.parent == key[1]:
                        other.parent = real

    def expect(self, error: type[VaultError], call, *args) -> None:  # type: ignore[no-untyped-def]
        """Run a vault call that must raise ``error``."""
        event(f"{call.__name__}: {error.__name__}")
        with pytest.raises(error):
            call(*args)

    # -- rules -------------------------------------------------------------------

    def items(self, kind: str | None = None) -> list[Key]:
        """Live items other than the root."""
        return [k for k in self.live(kind) if k != ROOT_KEY]

    @initialize()
    def seed(self) -> None:
        """Start from a small tree, so that even short runs nest, clash and share blobs."""
        a = self.do_mkdir(ROOT, "a")
        b = self.do_mkdir(a, "b")
        self.do_mkdir(ROOT, "ß")
        self.do_import(a, "a.txt", CONTENTS[0], Conflict.KEEP_BOTH)
        self.do_import(b, "ä", CONTENTS[1], Conflict.KEEP_BOTH)
        self.do_import(ROOT, "b", CONTENTS[0], Conflict.KEEP_BOTH)

    @rule(parent=picks, name=any_names)
    def mkdir(self, parent: int, name: str) -> None:
        self.do_mkdir(self.pick(self.live("folder"), parent)[1], name)

    def do_mkdir(self, folder: int, name: str) -> int:
        """Create a folder; returns its id (0 when the vault rightly refused)."""
        if name in INVALID_NAMES:
            self.expect(InvalidName, self.vault.mkdir, folder, name)
            return 0
        if self.clash(folder, nfc(name)) is not None:
            self.expect(NameTaken, self.vault.mkdir, folder, name)
            return 0
        created = self.vault.mkdir(folder, name).created[0]
        assert ("folder", created) not in self.nodes
        self.nodes[("folder", created)] = Node(nfc(name), folder)
        return created

    @rule(name=any_names)
    def root_is_fixed(self, name: str) -> None:
        """The root cannot be renamed, moved, copied or deleted."""
        error = InvalidName if name in INVALID_NAMES else Refused
        self.expect(error, self.vault.rename_folder, ROOT, name)
        for _kind, folder in self.live("folder"):
            self.expect(Refused, self.vault.move_folder, ROOT, folder)
            self.expect(Refused, self.vault.copy_folder, ROOT, folder)
        self.expect(Refused, self.vault.delete_folder, ROOT)

    @precondition(lambda self: self.items())
    @rule(item=picks, name=any_names)
    def rename(self, item: int, name: str) -> None:
        key = self.pick(self.items(), item)
        node = self.nodes[key]
        call = self.vault.rename_folder if key[0] == "folder" else self.vault.rename_file
        if name in INVALID_NAMES:
            self.expect(InvalidName, call, key[1], name)
        elif self.clash(node.parent or ROOT, nfc(name), itself=key) is not None:
            self.expect(NameTaken, call, key[1], name)
        else:
            call(key[1], name)
            node.name = nfc(name)

    @precondition(lambda self: self.items("folder"))
    @rule(source=picks, dest=picks)
    def move_folder(self, source: int, dest: int) -> None:
        folder = self.pick(self.items("folder"), source)[1]
        target = self.pick(self.live("folder"), dest)[1]
        node = self.nodes[("folder", folder)]
        if self.inside(target, folder):
            self.expect(Refused, self.vault.move_folder, folder, target)
        elif node.parent == target:
            self.vault.move_folder(folder, target)  # nothing to do
        elif self.clash(target, node.name) is not None:
            self.expect(NameTaken, self.vault.move_folder, folder, target)
        else:
            self.vault.move_folder(folder, target)
            node.parent = target

    @precondition(lambda self: self.live("file"))
    @rule(source=picks, dest=picks)
    def move_file(self, source: int, dest: int) -> None:
        key = self.pick(self.live("file"), source)
        target = self.pick(self.live("folder"), dest)[1]
        node = self.nodes[key]
        if node.parent == target:
            self.vault.move_file(key[1], target)  # nothing to do
        elif self.clash(target, node.name) is not None:
            self.expect(NameTaken, self.vault.move_file, key[1], target)
        else:
            self.vault.move_file(key[1], target)
            node.parent = target

    @precondition(lambda self: self.live("file"))
    @rule(source=picks, dest=picks)
    def copy_file(self, source: int, dest: int) -> None:
        key = self.pick(self.live("file"), source)
        target = self.pick(self.live("folder"), dest)[1]
        node = self.nodes[key]
        name = self.free_name(target, node.name)
        created = ("file", self.vault.copy_file(key[1], target).created[0])
        assert created not in self.nodes
        # A copy starts a history of its own: one version, the current content.
        self.nodes[created] = Node(name, target, [node.versions[-1]])

    @precondition(lambda self: self.items("folder"))
    @rule(source=picks, dest=picks)
    def copy_folder(self, source: int, dest: int) -> None:
        folder = self.pick(self.items("folder"), source)[1]
        target = self.pick(self.live("folder"), dest)[1]
        if self.inside(target, folder):
            self.expect(Refused, self.vault.copy_folder, folder, target)
            return
        top = ("folder", folder)
        name = self.free_name(target, self.nodes[top].name)
        self.vault.copy_folder(folder, target)
        copies = {folder: self.add("folder", Node(name, target))}
        for key in self.subtree(top, live=True)[1:]:
            node = self.nodes[key]
            parent = copies[node.parent or ROOT]
            if key[0] == "folder":
                copies[key[1]] = self.add("folder", Node(node.name, parent))
            else:
                self.add("file", Node(node.name, parent, [node.versions[-1]]))
        self.adopt()

    @precondition(lambda self: self.items())
    @rule(item=picks)
    def delete(self, item: int) -> None:
        key = self.pick(self.items(), item)
        node = self.nodes[key]
        before = {t.id for t in self.vault.trash_list()}
        if key[0] == "folder":
            self.vault.delete_folder(key[1])
        else:
            self.vault.delete_file(key[1])
        (entry_id,) = {t.id for t in self.vault.trash_list()} - before
        assert entry_id not in self.entries
        parent = node.parent or ROOT
        self.entries[entry_id] = Entry(key, parent, self.path(("folder", parent)))
        for taken in self.subtree(key, live=True):
            self.nodes[taken].trash = entry_id

    @precondition(lambda self: self.entries)
    @rule(which=picks)
    def restore(self, which: int) -> None:
        entry_id = sorted(self.entries)[which % len(self.entries)]
        entry = self.entries.pop(entry_id)
        parent = self.nodes.get(("folder", entry.parent))
        if parent is None or parent.trash is not None:
            event("restore: its folder is gone, recreate the path")
            folder = self.makedirs(entry.original_path)
        else:
            event("restore: back where it was")
            folder = entry.parent
        top = self.nodes[entry.item]
        name = self.free_name(folder, top.name)
        if name != top.name:
            event("restore: name taken, keep both")
        self.vault.restore(entry_id)
        for node in self.nodes.values():
            if node.trash == entry_id:
                node.trash = None
        top.parent, top.name = folder, name
        self.adopt()

    def makedirs(self, path: str) -> int:
        """The vault's rule for restoring into a folder that is gone: recreate its path."""
        current = ROOT
        for part in [p for p in path.split("/") if p]:
            found = self.clash(current, part)
            if found is not None and found[0] == "folder":
                current = found[1]
            else:
                current = self.add("folder", Node(self.free_name(current, part), current))
        return current

    @precondition(lambda self: self.entries)
    @rule(which=picks)
    def purge(self, which: int) -> None:
        entry_id = sorted(self.entries)[which % len(self.entries)]
        self.vault.purge(entry_id)
        gone = self.subtree(self.entries[entry_id].item, live=False)
        if len([k for k in gone if self.nodes[k].trash != entry_id]):
            event("purge: takes earlier deletions along")
        event(f"purge: {len(gone)} items")
        self.forget(gone)

    @rule()
    def empty_trash(self) -> None:
        self.vault.empty_trash()
        self.forget([k for k, n in self.nodes.items() if n.trash is not None])

    def forget(self, gone: list[Key]) -> None:
        """Items deleted forever; deletions of items among them go too (cascade)."""
        for key in gone:
            del self.nodes[key]
        self.entries = {i: e for i, e in self.entries.items() if e.item in self.nodes}

    @rule(
        dest=picks,
        name=names,
        content=st.sampled_from(CONTENTS),
        conflict=st.sampled_from([Conflict.KEEP_BOTH, Conflict.VERSION, Conflict.SKIP]),
    )
    def import_file(self, dest: int, name: str, content: bytes, conflict: Conflict) -> None:
        self.do_import(self.pick(self.live("folder"), dest)[1], name, content, conflict)

    def do_import(self, folder: int, name: str, content: bytes, conflict: Conflict) -> None:
        """Import one file named ``name`` holding ``content`` into ``folder``."""
        source = self.tmp / "sources" / str(next(self.sources)) / name
        source.parent.mkdir(parents=True)
        source.write_bytes(content)
        report = self.vault.import_paths([source], folder, conflict=conflict)
        assert report.failed == [], report.failed
        assert not report.cancelled
        stored = nfc(name)  # names are stored in NFC, whoever typed them (app/naming.py)
        clash = self.clash(folder, stored)
        if clash is not None and clash[0] == "file":
            existing = self.nodes[clash]
            if existing.versions[-1] == content or conflict is Conflict.SKIP:
                event("import: skipped")
                assert (report.imported, report.new_versions) == (0, []), report
                assert len(report.skipped) == 1, report
                return
            if conflict is Conflict.VERSION:
                assert report.imported == 0, report
                assert report.new_versions == [self.path(clash)], report
                assert report.file_ids == [clash[1]], report
                existing.versions.append(content)
                event("import: new version")
                return
        if clash is not None:
            stored = self.free_name(folder, stored)
            event("import: keep both")
        assert report.imported == 1, report
        assert report.new_versions == [] and report.skipped == [], report
        (created,) = (("file", i) for i in report.file_ids)
        assert created not in self.nodes
        self.nodes[created] = Node(stored, folder, [content])

    # -- invariants ----------------------------------------------------------------

    @invariant()
    def catalog_is_sound(self) -> None:
        """No cycle, unique live names, live items reachable, every blob present."""
        problems = all_problems(self.vault.paths.catalog, self.vault.paths.blobs)
        assert problems == [], "\n".join(problems)

    @invariant()
    def blobs_are_exactly_the_referenced_ones(self) -> None:
        report = self.vault.verify()
        assert report.missing == [] and report.corrupted == [], report
        assert report.unreferenced_rows == [], report
        assert report.stray_files == [], report

    @invariant()
    def model_agrees(self) -> None:
        expected = {
            self.parts(k): (k, tuple(self.nodes[k].versions)) for k in self.live() if k != ROOT_KEY
        }
        actual = self.listing()
        diff = {
            "/".join(p): {"vault": actual.get(p), "model": expected.get(p)}
            for p in actual.keys() | expected.keys()
            if actual.get(p) != expected.get(p)
        }
        assert diff == {}, f"the vault and the model differ: {diff}"

    @invariant()
    def trash_agrees(self) -> None:
        actual = {
            (t.id, (t.kind, t.name), t.original_path, t.files) for t in self.vault.trash_list()
        }
        expected = {
            (
                i,
                (e.item[0], self.nodes[e.item].name),
                e.original_path,
                sum(1 for k, n in self.nodes.items() if n.trash == i and k[0] == "file"),
            )
            for i, e in self.entries.items()
        }
        assert actual == expected

    @invariant()
    def every_live_file_is_found_by_its_name(self) -> None:
        for key in self.live("file"):
            name = self.nodes[key].name
            found = {hit.file_id for hit in self.vault.search(f'"{name}"', limit=1000)}
            assert key[1] in found, f'search("{name}") misses {self.path(key)}'

    def listing(self) -> dict[tuple[str, ...], tuple[Key, tuple[bytes, ...]]]:
        """What the vault lists: path → (key, version contents), through its public API."""
        out = {}
        stack: list[tuple[int, tuple[str, ...]]] = [(ROOT, ())]
        while stack:
            folder, parts = stack.pop()
            page = self.vault.list_folder(folder, limit=10_000)
            assert not page.more
            for sub in page.folders:
                out[(*parts, sub.name)] = (("folder", sub.id), ())
                stack.append((sub.id, (*parts, sub.name)))
            for file in page.files:
                contents = []
                for version in self.vault.versions(file.id):
                    with self.vault.blobs.open(version.blob_hash) as handle:
                        contents.append(handle.read())
                out[(*parts, file.name)] = (("file", file.id), tuple(contents))
        return out


TestVaultMachine = VaultMachine.TestCase
TestVaultMachine.settings = PROFILES[PROFILE]


# -- regressions found by the machine, as plain examples --------------------------------


def test_import_with_skip_leaves_no_stray_blob(vault: Vault, tmp_path: Path) -> None:
    """A file skipped because its name is taken must not leave its content behind."""
    source = tmp_path / "a.txt"
    source.write_bytes(b"first")
    vault.import_paths([source])
    source.write_bytes(b"second")
    report = vault.import_paths([source], conflict=Conflict.SKIP)
    assert len(report.skipped) == 1
    verified = vault.verify()
    assert verified.stray_files == [], "the skipped file's blob was published anyway"


def test_imported_names_are_stored_in_nfc(vault: Vault, tmp_path: Path) -> None:
    """A decomposed name from disk (as macOS writes them) is stored composed, like mkdir's."""
    decomposed = "A\u0308rger.txt"
    source = tmp_path / decomposed
    source.write_bytes(b"x")
    vault.import_paths([source])
    folder = tmp_path / "Fo\u0308lder"
    folder.mkdir()
    (folder / "inner.txt").write_bytes(b"y")
    vault.import_paths([folder])
    listing = vault.list_folder(vault.root_id)
    names = [f.name for f in listing.folders] + [f.name for f in listing.files]
    assert sorted(names) == sorted(["\u00c4rger.txt", "F\u00f6lder"])
