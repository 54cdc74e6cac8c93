"""Versions: restore, export, notes, delete, and retention (pure rule, vault, bucket, CLI).

Version histories are made through the real import path (``add_version``);
their times are then set in the catalog so that retention by age can be
checked against a fixed "now". The bucket tests talk HTTP to the suite's S3
endpoint (``tests/s3server.py``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from app.catalog.models import Blob, Share, VaultSetting, Version
from app.cleanup import Cleaner
from app.core import now
from app.credentials import open_remote
from app.errors import NotFound, Refused
from app.sync import Syncer
from app.vault import Vault
from app.versions import (
    RETENTION_KEY,
    InvalidPolicy,
    RetentionPolicy,
    Stamp,
    versioned_name,
    versions_to_keep,
)
from storage.blobstore import blob_key
from storage.s3 import S3BlobStore
from storage.s3_client import RemoteSpec
from tests.helpers.buckets import object_keys
from tests.helpers.cli import Runner

NOW = datetime(2026, 6, 15, 12, 0, 0)


# -- helpers -------------------------------------------------------------------------


def _history(vault: Vault, tmp_path: Path, contents: list[bytes], name: str = "report.txt") -> int:
    """A file whose versions have ``contents`` in order (the last is current); its id."""
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    first = src / name
    first.write_bytes(contents[0])
    report = vault.import_paths([first])
    assert report.ok, report.failed
    file_id = report.file_ids[0]
    for i, data in enumerate(contents[1:], 2):
        step = src / f"step{i}"
        step.write_bytes(data)
        added = vault.add_version(file_id, step)
        assert added.ok and added.new_versions, (added.failed, added.skipped)
    return file_id


def _numbers(vault: Vault, file_id: int) -> list[int]:
    return [v.number for v in vault.versions(file_id)]


def _set_times(vault: Vault, file_id: int, times: dict[int, datetime]) -> None:
    with vault.writing() as session:
        for number, moment in times.items():
            session.execute(
                update(Version)
                .where(Version.file_id == file_id, Version.number == number)
                .values(created_at=moment)
            )


def _blob_hashes(vault: Vault) -> set[str]:
    with vault.reading() as session:
        return set(session.scalars(select(Blob.hash)))


def _share(
    vault: Vault,
    file_id: int,
    version_id: int | None,
    *,
    expires: timedelta = timedelta(days=1),
    revoked: bool = False,
) -> None:
    """An audit row as the sharing service records it (the bucket is not needed here)."""
    stamp = now()
    with vault.writing() as session:
        session.add(
            Share(
                file_id=file_id,
                version_id=version_id,
                kind="download",
                object_key=f"vault/shares/x{file_id}/report.txt",
                note="",
                created_at=stamp,
                expires_at=stamp + expires,
                revoked_at=stamp if revoked else None,
            )
        )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the pure rule ------------------------------------------------------------------------


def _stamps(ages_hours: list[int]) -> list[Stamp]:
    return [Stamp(i, NOW - timedelta(hours=h)) for i, h in enumerate(ages_hours, 1)]


def test_keep_all_keeps_everything() -> None:
    stamps = _stamps([1000, 500, 1])
    assert versions_to_keep(stamps, 3, RetentionPolicy.keep_all(), NOW) == {1, 2, 3}


def test_keep_last_keeps_the_highest_numbers_and_the_current() -> None:
    stamps = _stamps([50, 40, 30, 20, 10])
    assert versions_to_keep(stamps, 5, RetentionPolicy.last(2), NOW) == {4, 5}
    # A restored file's current version need not be the highest number.
    assert versions_to_keep(stamps, 1, RetentionPolicy.last(2), NOW) == {1, 4, 5}
    assert versions_to_keep(stamps, 5, RetentionPolicy.last(1), NOW, protected={2}) == {2, 5}


def test_keep_by_age_keeps_recent_then_one_per_day() -> None:
    # Ages in hours: two in the last day, then two on day 3, one on day 9, one on day 40.
    stamps = _stamps([40 * 24 + 1, 9 * 24 + 5, 3 * 24 + 10, 3 * 24 + 2, 5, 1])
    kept = versions_to_keep(stamps, 6, RetentionPolicy.by_age(days=2, weeks=2), NOW)
    # Day 3: only the newer of 3 and 4 (age 3d2h is newer than 3d10h); day 9 kept;
    # day 40 is past 2 + 14 days.
    assert kept == {2, 4, 5, 6}
    only_recent = versions_to_keep(stamps, 6, RetentionPolicy.by_age(days=1, weeks=0), NOW)
    assert only_recent == {5, 6}
    assert versions_to_keep(stamps, 6, RetentionPolicy.by_age(0, 0), NOW) == {6}


@st.composite
def _histories(draw: st.DrawFn) -> tuple[list[Stamp], int, set[int]]:
    ages = draw(st.lists(st.integers(-48, 24 * 120), min_size=1, max_size=30))
    stamps = [Stamp(i, NOW - timedelta(hours=h)) for i, h in enumerate(ages, 1)]
    current = draw(st.sampled_from([s.number for s in stamps]))
    protected = draw(st.sets(st.sampled_from([s.number for s in stamps]), max_size=3))
    return stamps, current, protected


_policies = st.one_of(
    st.just(RetentionPolicy.keep_all()),
    st.builds(RetentionPolicy.last, st.integers(1, 12)),
    st.builds(RetentionPolicy.by_age, st.integers(0, 20), st.integers(0, 10)),
)


@settings(max_examples=300, deadline=None)
@given(history=_histories(), policy=_policies)
def test_retention_rule_properties(
    history: tuple[list[Stamp], int, set[int]], policy: RetentionPolicy
) -> None:
    stamps, current, protected = history
    numbers = {s.number for s in stamps}
    kept = versions_to_keep(stamps, current, policy, NOW, protected)
    assert kept <= numbers
    assert current in kept and protected <= kept
    # Applying the rule again to what is left removes nothing more.
    left = [s for s in stamps if s.number in kept]
    assert versions_to_keep(left, current, policy, NOW, protected) == kept
    free = kept - {current} - protected
    if policy.mode == "all":
        assert kept == numbers
    elif policy.mode == "last":
        newest = set(sorted(numbers, reverse=True)[: policy.keep_last])
        assert kept == newest | {current} | protected
    else:
        ages = {s.number: (NOW - s.created_at) / timedelta(days=1) for s in stamps}
        horizon = policy.days + 7 * policy.weeks
        # Everything younger than D days is kept; nothing older than the horizon is.
        assert {n for n, a in ages.items() if a < policy.days} <= kept
        assert all(ages[n] < horizon for n in free)
        # Between the two: exactly one per day that has versions, the newest.
        for day in range(policy.days, horizon):
            that_day = [s for s in stamps if int(ages[s.number] // 1) == day]
            if that_day:
                newest_of_day = max(that_day, key=lambda s: (s.created_at, s.number))
                assert newest_of_day.number in kept
                assert len({s.number for s in that_day} & free) <= 1


def test_policy_validation_and_words() -> None:
    for bad in (
        RetentionPolicy.last(0),
        RetentionPolicy.by_age(-1, 2),
        RetentionPolicy.by_age(3, -1),
        RetentionPolicy.by_age(100_000, 0),
        RetentionPolicy("sometimes"),
    ):
        with pytest.raises(InvalidPolicy):
            bad.validated()
    assert RetentionPolicy.last(5).describe() == "Keep the last 5 versions of each file"
    assert RetentionPolicy.by_age(7, 4).describe() == (
        "Keep every version for 7 days, then one per day for 4 weeks"
    )
    policy = RetentionPolicy.by_age(3, 1)
    assert RetentionPolicy.from_json(json.loads(json.dumps(policy.to_json()))) == policy


def test_versioned_name() -> None:
    assert versioned_name("report.pdf", 3) == "report (v3).pdf"
    assert versioned_name("archive.tar.gz", 2) == "archive.tar (v2).gz"
    assert versioned_name("README", 1) == "README (v1)"


# -- restore, export, note, delete ------------------------------------------------------


def test_restore_makes_old_content_current_as_a_new_version(vault: Vault, tmp_path: Path) -> None:
    file_id = _history(vault, tmp_path, [b"alpha original text\n", b"bravo rewritten text\n"])
    first = vault.versions(file_id)[0]
    before = _blob_hashes(vault)
    change = vault.restore_version(file_id, first.id)
    assert change.number == 3 and change.changes.files == frozenset({file_id})
    info = vault.file_info(file_id)
    assert info.version.number == 3 and info.version.id == change.version_id
    assert info.version.blob_hash == first.blob_hash
    assert info.version.note == "Restored from version 1"
    assert info.size == first.size and info.kind == "document"
    assert _blob_hashes(vault) == before  # the same blob: no bytes copied
    assert _numbers(vault, file_id) == [1, 2, 3]
    # The search index follows the current content.
    assert [h.file_id for h in vault.search("alpha")] == [file_id]
    assert vault.search("bravo") == []
    # Byte for byte: the current content is version 1's.
    out = vault.export_file(file_id, tmp_path / "out")
    assert out.read_bytes() == b"alpha original text\n"
    with pytest.raises(Refused, match="already the current"):
        vault.restore_version(file_id, change.version_id)
    with pytest.raises(Refused, match="same content"):
        vault.restore_version(file_id, first.id)  # version 3 has it already


def test_restore_refuses_another_files_version(vault: Vault, tmp_path: Path) -> None:
    a = _history(vault, tmp_path, [b"a1", b"a2"], name="a.txt")
    b = _history(vault, tmp_path, [b"b1", b"b2"], name="b.txt")
    with pytest.raises(NotFound):
        vault.restore_version(a, vault.versions(b)[0].id)


def test_export_version_is_byte_identical_with_a_version_suffix(
    vault: Vault, tmp_path: Path
) -> None:
    contents = [b"first\n", b"second version\n", b"third and current\n"]
    file_id = _history(vault, tmp_path, contents, name="report.pdf.txt")
    out = tmp_path / "out"
    for version, data in zip(vault.versions(file_id), contents, strict=True):
        path = vault.export_version(version.id, out)
        assert path.name == f"report.pdf (v{version.number}).txt"
        assert path.read_bytes() == data and _sha(path) == version.blob_hash
    again = vault.export_version(vault.versions(file_id)[0].id, out)
    assert again.name == "report.pdf (v1) (2).txt"  # never overwrites
    assert (out / "report.pdf (v1).txt").read_bytes() == contents[0]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["report.pdf (v1).txt", "report.pdf (v2).txt", "report.pdf (v3).txt", again.name]
    )


def test_edit_note(vault: Vault, tmp_path: Path) -> None:
    file_id = _history(vault, tmp_path, [b"1", b"2"])
    version = vault.versions(file_id)[0]
    change = vault.set_version_note(version.id, "  Sent to\nthe printer ")
    assert change.number == 1
    assert vault.version_info(version.id).note == "Sent to the printer"
    vault.set_version_note(version.id, "")
    assert vault.version_info(version.id).note == ""
    with pytest.raises(Refused):
        vault.set_version_note(version.id, "x" * 1001)


def test_delete_version_refuses_the_current_and_frees_unused_content(
    vault: Vault, tmp_path: Path
) -> None:
    file_id = _history(vault, tmp_path, [b"one", b"two", b"three"])
    v1, v2, v3 = vault.versions(file_id)
    with pytest.raises(Refused, match="current version"):
        vault.delete_version(v3.id)
    change = vault.delete_version(v1.id)
    assert change.freed_bytes == 3 and _numbers(vault, file_id) == [2, 3]
    assert v1.blob_hash not in _blob_hashes(vault)
    assert not vault.blobs.path(v1.blob_hash).exists()
    # Content another file still uses stays.
    copy_id = vault.copy_file(file_id, vault.root_id).created[0]
    assert vault.versions(copy_id)[0].blob_hash == v3.blob_hash
    vault.restore_version(file_id, v2.id)  # v4 = v2's content; v3 is now old
    change = vault.delete_version(v3.id)
    assert change.freed_bytes == 0
    assert vault.blobs.path(v3.blob_hash).is_file()
    with pytest.raises(NotFound):
        vault.delete_version(v3.id)


# -- retention in the vault -------------------------------------------------------------


def test_retention_policy_is_stored_in_the_catalog(vault: Vault) -> None:
    assert vault.get_retention() == RetentionPolicy.keep_all()
    vault.set_retention(RetentionPolicy.last(4))
    assert vault.get_retention() == RetentionPolicy.last(4)
    with pytest.raises(InvalidPolicy):
        vault.set_retention(RetentionPolicy.last(0))
    assert vault.get_retention() == RetentionPolicy.last(4)
    with vault.writing() as session:  # damaged: reads as keep all, never deletes
        session.merge(VaultSetting(key=RETENTION_KEY, value='{"mode": "last", "keep_last": -3}'))
    assert vault.get_retention() == RetentionPolicy.keep_all()


def test_prune_keep_last(vault: Vault, tmp_path: Path) -> None:
    contents = [f"content {i}\n".encode() for i in range(1, 7)]
    file_id = _history(vault, tmp_path, contents)
    other = _history(vault, tmp_path, [b"x1", b"x2"], name="other.txt")
    hashes = {v.number: v.blob_hash for v in vault.versions(file_id)}
    vault.set_retention(RetentionPolicy.last(2))
    dry = vault.prune(dry_run=True)
    assert _numbers(vault, file_id) == [1, 2, 3, 4, 5, 6]  # nothing changed
    report = vault.prune()
    assert [(f.path, f.removed) for f in report.files] == [("/report.txt", (1, 2, 3, 4))]
    assert [(f.path, f.removed) for f in dry.files] == [("/report.txt", (1, 2, 3, 4))]
    assert report.freed_bytes == dry.freed_bytes == sum(len(c) for c in contents[:4])
    assert _numbers(vault, file_id) == [5, 6] and _numbers(vault, other) == [1, 2]
    left = _blob_hashes(vault)
    for number, blob_hash in hashes.items():
        assert (blob_hash in left) == (number >= 5)
        assert vault.blobs.path(blob_hash).exists() == (number >= 5)
    assert vault.prune().files == ()  # idempotent


def test_prune_by_age(vault: Vault, tmp_path: Path) -> None:
    file_id = _history(vault, tmp_path, [f"v{i}".encode() for i in range(1, 7)])
    ages = {1: 60, 2: 10.5, 3: 10.2, 4: 4, 5: 0.5, 6: 0.1}  # days
    _set_times(vault, file_id, {n: NOW - timedelta(days=d) for n, d in ages.items()})
    policy = RetentionPolicy.by_age(days=5, weeks=1)
    report = vault.prune(policy=policy, at=NOW)
    assert report.files[0].removed == (1, 2)  # 60 days is past 5 + 7; day 10 keeps its newest
    assert _numbers(vault, file_id) == [3, 4, 5, 6]


def test_retention_applies_after_a_new_version(vault: Vault, tmp_path: Path) -> None:
    file_id = _history(vault, tmp_path, [b"1", b"2", b"3"])
    assert _numbers(vault, file_id) == [1, 2, 3]  # keep all: nothing goes
    vault.set_retention(RetentionPolicy.last(2))
    assert _numbers(vault, file_id) == [1, 2, 3]  # setting it removes nothing yet
    (tmp_path / "four").write_bytes(b"4")
    vault.add_version(file_id, tmp_path / "four")
    assert _numbers(vault, file_id) == [3, 4]
    # An import with the "new version" rule too.
    (tmp_path / "imp").mkdir()
    (tmp_path / "imp" / "report.txt").write_bytes(b"5")
    from app.importer import Conflict

    vault.import_paths([tmp_path / "imp" / "report.txt"], conflict=Conflict.VERSION)
    assert _numbers(vault, file_id) == [4, 5]
    # And a restore: version 4's content comes back as 6; the last two are 5 and 6.
    change = vault.restore_version(file_id, vault.version_id(file_id, 4))
    assert change.pruned == (4,) and _numbers(vault, file_id) == [5, 6]
    assert vault.export_file(file_id, tmp_path / "o").read_bytes() == b"4"


def test_shared_versions_survive_pruning(vault: Vault, tmp_path: Path) -> None:
    file_id = _history(vault, tmp_path, [b"a", b"b", b"c", b"d"])
    v1, v2, v3, _v4 = vault.versions(file_id)
    _share(vault, file_id, v2.id)
    _share(vault, file_id, v1.id, revoked=True)
    _share(vault, file_id, v3.id, expires=timedelta(hours=-1))
    report = vault.prune(policy=RetentionPolicy.last(1))
    assert report.files[0].removed == (1, 3) and report.kept_for_shares == 1
    assert _numbers(vault, file_id) == [2, 4]
    assert v2.blob_hash in _blob_hashes(vault) and vault.blobs.path(v2.blob_hash).is_file()
    with pytest.raises(Refused, match="shared"):
        vault.delete_version(v2.id)


def test_a_share_without_a_version_keeps_all_of_its_files_versions(
    vault: Vault, tmp_path: Path
) -> None:
    file_id = _history(vault, tmp_path, [b"a", b"b", b"c"])
    _share(vault, file_id, None)
    assert vault.prune(policy=RetentionPolicy.last(1)).files == ()
    assert _numbers(vault, file_id) == [1, 2, 3]


def test_prune_matches_the_rule_on_random_histories(vault: Vault, tmp_path: Path) -> None:
    """Dry runs over random times and policies agree with :func:`versions_to_keep`."""
    file_id = _history(vault, tmp_path, [f"v{i}".encode() for i in range(1, 9)])
    current = vault.file_info(file_id).version.number

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        ages=st.lists(st.integers(0, 24 * 60), min_size=8, max_size=8),
        policy=_policies,
    )
    def check(ages: list[int], policy: RetentionPolicy) -> None:
        times = {n: NOW - timedelta(hours=h) for n, h in enumerate(ages, 1)}
        _set_times(vault, file_id, times)
        report = vault.prune(dry_run=True, policy=policy, at=NOW)
        stamps = [Stamp(n, t) for n, t in times.items()]
        expected = sorted(set(times) - versions_to_keep(stamps, current, policy, NOW))
        removed = list(report.files[0].removed) if report.files else []
        assert removed == expected
        assert report.freed_bytes == 2 * len(expected)  # every content is distinct here

    check()
    assert _numbers(vault, file_id) == list(range(1, 9))  # dry runs changed nothing


# -- the bucket -------------------------------------------------------------------------------


@pytest.mark.slow
def test_pruned_content_stays_in_the_bucket_while_a_snapshot_uses_it(
    remote_vault: Vault, spec: RemoteSpec, raw: Any, tmp_path: Path
) -> None:
    vault = remote_vault
    file_id = _history(vault, tmp_path, [b"old content\n", b"new content\n"])
    old, _new = vault.versions(file_id)
    store = S3BlobStore(spec, None, sleep=lambda _: None)
    assert Syncer(vault, store).run(force_snapshot=True).ok
    old_key = spec.key("blobs", blob_key(old.blob_hash))
    assert old_key in object_keys(raw, spec.bucket)

    report = vault.prune(policy=RetentionPolicy.last(1))
    assert report.files[0].removed == (1,)
    assert old.blob_hash not in _blob_hashes(vault)
    assert Syncer(vault, store).run(force_snapshot=True).ok  # a snapshot without it

    cleaned = Cleaner(vault, store).run()
    assert cleaned.ok and cleaned.deleted == []
    assert cleaned.kept_for_snapshots == 1  # the first snapshot still names it
    assert old_key in object_keys(raw, spec.bucket)


@pytest.mark.slow
def test_export_of_an_evicted_version_fetches_and_checks_it(
    remote_vault: Vault, tmp_path: Path
) -> None:
    vault = remote_vault
    file_id = _history(vault, tmp_path, [b"evicted once\n", b"current\n"])
    old = vault.versions(file_id)[0]
    store, _keys = open_remote(vault.paths)
    assert Syncer(vault, store).run().ok
    vault.free_up_space(store, file_ids=[file_id])
    assert vault.version_info(old.id).local_state == "evicted"
    path = vault.export_version(old.id, tmp_path / "out", store=store)
    assert path.read_bytes() == b"evicted once\n"
    assert vault.version_info(old.id).local_state == "present"


# -- the command line -----------------------------------------------------------------------------


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Runner:
    return Runner(tmp_path / "v", capsys)


def test_cli_versions(run: Runner, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "notes.txt").write_bytes(b"one\n")
    (src / "two").write_bytes(b"two\n")
    (src / "three").write_bytes(b"three\n")
    run.json("import", str(src / "notes.txt"))
    added = run.json("versions", "add", "/notes.txt", str(src / "two"))
    assert added["added"] and added["version"]["number"] == 2
    run.json("versions", "add", "/notes.txt", str(src / "three"))

    listed = run.json("versions", "list", "/notes.txt")
    assert [v["number"] for v in listed["versions"]] == [3, 2, 1]
    assert [v["current"] for v in listed["versions"]] == [True, False, False]
    run("versions", "list", "/notes.txt")
    assert run.code == 0 and "* " in run.out and "Imported as a new version" in run.out

    restored = run.json("versions", "restore", "/notes.txt", "1")
    assert restored["version"] == 4
    exported = run.json("versions", "export", "/notes.txt", "2", "--to", str(tmp_path / "out"))
    assert Path(exported["written"]).name == "notes (v2).txt"
    assert Path(exported["written"]).read_bytes() == b"two\n"

    run.json("versions", "note", "/notes.txt", "2", "Draft for Anna")
    listed = run.json("versions", "list", "/notes.txt")
    assert {v["number"]: v["note"] for v in listed["versions"]}[2] == "Draft for Anna"

    run("versions", "rm", "/notes.txt", "4")
    assert run.code == 1 and "current version" in run.err and "hint:" in run.err
    assert "Traceback" not in run.err
    run("versions", "rm", "/notes.txt", "9")
    assert run.code == 1 and "no version 9" in run.err
    removed = run.json("versions", "rm", "/notes.txt", "2")
    assert removed["deleted"] == [2] and removed["freed_bytes"] == 4

    assert run.json("versions", "policy")["mode"] == "all"
    run("versions", "policy", "--keep-last", "1", "--days", "3")
    assert run.code == 2
    run("versions", "policy", "--keep-last", "0")
    assert run.code == 2
    assert run.json("versions", "policy", "--keep-last", "1")["keep_last"] == 1
    dry = run.json("versions", "prune", "--dry-run")
    assert dry["dry_run"] and dry["files"][0]["removed"] == [1, 3]
    assert [v["number"] for v in run.json("versions", "list", "/notes.txt")["versions"]] == [
        4,
        3,
        1,
    ]
    run("versions", "prune")
    assert run.code == 0 and "Removed 2 versions of 1 file" in run.out
    assert [v["number"] for v in run.json("versions", "list", "/notes.txt")["versions"]] == [4]
    assert run.json("versions", "policy", "--days", "7", "--weeks", "4")["mode"] == "age"
    run("versions", "list", "/nothing.txt")
    assert run.code == 1 and "Traceback" not in run.err
