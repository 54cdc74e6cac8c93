"""Importing from disk: structure, types, conflicts, outside names, and every kind of bad input.

Each bad source gets its own message while the rest of the import goes on, and
nothing is ever half-imported.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from app import importer
from app.browse import Source
from app.errors import NotFound
from app.importer import Conflict, ImportProgress, ImportReport
from app.vault import Vault
from storage.local import LocalBlobStore

CORPUS_JPEG = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "images" / "hopper.jpg"


def make_tree(root: Path, files: dict[str, bytes | str]) -> Path:
    """Create files (and, for names ending in "/", empty folders) under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        path = root / rel
        if rel.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return root


def content(vault: Vault, path: str) -> bytes:
    info = vault.file_info(vault.require_file(path))
    with vault.blobs.open(info.version.blob_hash) as handle:
        return handle.read()


def failures(report: ImportReport) -> dict[str, str]:
    return {Path(p.source).name: p.reason for p in report.failed}


def assert_consistent(vault: Vault) -> None:
    """Nothing half-imported: every row complete, every blob present, no temp files."""
    report = vault.verify()
    assert report.ok, report
    assert report.unreferenced_rows == [], report
    assert report.stray_files == [], report
    assert list(vault.blobs.temp_dir.iterdir()) == []
    with vault.reading() as session:

        def ids(sql: str) -> list[object]:
            return [r[0] for r in session.execute(text(sql))]

        assert (
            ids(
                "SELECT file.id FROM file LEFT JOIN version ON version.id = file.current_version_id"
                " WHERE version.file_id IS NOT file.id"
            )
            == []
        )
        assert (
            ids("SELECT hash FROM version LEFT JOIN blob ON hash = blob_hash WHERE hash IS NULL")
            == []
        )
        assert ids("SELECT id FROM file WHERE id NOT IN (SELECT rowid FROM search)") == []
        assert ids("SELECT rowid FROM search WHERE rowid NOT IN (SELECT id FROM file)") == []
        assert (
            ids(
                "SELECT file.id FROM file JOIN version ON version.id = current_version_id"
                " WHERE file.size != version.size"
            )
            == []
        )


# -- structure -----------------------------------------------------------------


def test_tree_structure_is_preserved(vault: Vault, tmp_path: Path) -> None:
    src = make_tree(
        tmp_path / "Trip",
        {"a.txt": "top", "day1/b.txt": "bee", "day1/night/c.txt": "sea", "empty/": b""},
    )
    seen: list[ImportProgress] = []
    report = vault.import_paths([src], progress=seen.append)
    assert report.ok
    assert (report.imported, report.folders_created, report.bytes) == (3, 4, 9)
    assert content(vault, "/Trip/a.txt") == b"top"
    assert content(vault, "/Trip/day1/b.txt") == b"bee"
    assert content(vault, "/Trip/day1/night/c.txt") == b"sea"
    assert vault.resolve("/Trip/empty")[0] == "folder"
    assert seen and seen[-1].files_done == seen[-1].files_total == 3
    assert seen[-1].bytes_done == seen[-1].bytes_total == 9
    assert sorted(report.file_ids) == sorted(
        vault.require_file(p) for p in ("/Trip/a.txt", "/Trip/day1/b.txt", "/Trip/day1/night/c.txt")
    )
    assert_consistent(vault)


def test_import_into_a_subfolder(vault: Vault, tmp_path: Path) -> None:
    dest = vault.makedirs("/Archive/2024")
    src = make_tree(tmp_path / "scan", {"page1.txt": "1", "more/page2.txt": "2"})
    loose = make_tree(tmp_path / "loose", {"loose.txt": "L"}) / "loose.txt"
    report = vault.import_paths([src, loose], dest)
    assert report.ok and report.imported == 3
    assert content(vault, "/Archive/2024/scan/page1.txt") == b"1"
    assert content(vault, "/Archive/2024/scan/more/page2.txt") == b"2"
    assert content(vault, "/Archive/2024/loose.txt") == b"L"
    assert vault.list_folder(vault.root_id).folders[0].name == "Archive"


def test_reimport_merges_folders_and_skips_identical_files(vault: Vault, tmp_path: Path) -> None:
    src = make_tree(tmp_path / "Docs", {"a.txt": "a", "sub/b.txt": "b"})
    vault.import_paths([src])
    (src / "sub" / "new.txt").write_text("new")
    report = vault.import_paths([src])
    assert (report.imported, report.folders_created) == (1, 0)
    assert sorted(Path(p.source).name for p in report.skipped) == ["a.txt", "b.txt"]
    assert all("identical" in p.reason for p in report.skipped)
    assert [f.name for f in vault.list_folder(vault.resolve_folder("/Docs/sub")).files] == [
        "b.txt",
        "new.txt",
    ]
    assert len(list(vault.blobs.list())) == 3
    assert_consistent(vault)


def test_type_is_detected_by_content(vault: Vault, tmp_path: Path) -> None:
    if not CORPUS_JPEG.is_file():
        pytest.skip(f"corpus image not found at {CORPUS_JPEG}")
    fake_pdf = tmp_path / "in" / "invoice.pdf"
    fake_pdf.parent.mkdir()
    shutil.copyfile(CORPUS_JPEG, fake_pdf)
    vault.import_paths([fake_pdf])
    info = vault.file_info(vault.require_file("/invoice.pdf"))
    assert (info.kind, info.mime) == ("image", "image/jpeg")
    assert (info.version.width, info.version.height) == (128, 128)
    assert content(vault, "/invoice.pdf") == CORPUS_JPEG.read_bytes()


def test_modified_time_comes_from_the_source(vault: Vault, tmp_path: Path) -> None:
    path = make_tree(tmp_path / "in", {"old.txt": "x"}) / "old.txt"
    os.utime(path, (1_500_000_000, 1_500_000_000))  # 2017-07-14
    vault.import_paths([path])
    assert vault.file_info(vault.require_file("/old.txt")).modified_at.year == 2017


# -- conflicts -----------------------------------------------------------------


@pytest.fixture
def existing(vault: Vault, tmp_path: Path) -> Path:
    """``/a.txt`` in the vault, and its outside source now holding different bytes."""
    path = make_tree(tmp_path / "in", {"a.txt": "first"}) / "a.txt"
    vault.import_paths([path])
    path.write_text("second, longer")
    return path


def test_conflict_keep_both_is_the_default(vault: Vault, existing: Path) -> None:
    report = vault.import_paths([existing])
    assert report.imported == 1
    [renamed] = report.renamed
    assert renamed.path == "/a (2).txt"
    assert renamed.source == str(existing)
    assert '"a.txt" already exists there (kept both)' in renamed.reason
    assert content(vault, "/a.txt") == b"first"
    assert content(vault, "/a (2).txt") == b"second, longer"
    existing.write_text("third")
    assert vault.import_paths([existing]).renamed[0].path == "/a (3).txt"
    assert_consistent(vault)


def test_conflict_ignores_case(vault: Vault, existing: Path) -> None:
    upper = existing.with_name("A.TXT")
    existing.rename(upper)
    report = vault.import_paths([upper])
    assert report.renamed[0].path == "/A (2).TXT"


def test_conflict_skip(vault: Vault, existing: Path) -> None:
    report = vault.import_paths([existing], conflict=Conflict.SKIP)
    assert report.imported == 0 and report.ok
    [skipped] = report.skipped
    assert skipped.reason == '"a.txt" already exists there'
    assert content(vault, "/a.txt") == b"first"
    assert len(list(vault.blobs.list())) == 1
    assert_consistent(vault)


def test_conflict_version(vault: Vault, existing: Path) -> None:
    file_id = vault.require_file("/a.txt")
    report = vault.import_paths([existing], conflict=Conflict.VERSION)
    assert report.ok and report.imported == 0
    assert report.new_versions == ["/a.txt"]
    assert report.file_ids == [file_id]
    assert [v.number for v in vault.versions(file_id)] == [1, 2]
    assert content(vault, "/a.txt") == b"second, longer"
    assert vault.file_info(file_id).size == len(b"second, longer")
    assert vault.file_info(file_id).versions == 2

    again = vault.import_paths([existing], conflict=Conflict.VERSION)
    assert again.new_versions == []
    assert "identical" in again.skipped[0].reason
    assert [v.number for v in vault.versions(file_id)] == [1, 2]
    assert_consistent(vault)


def test_version_of_content_already_in_the_vault(vault: Vault, tmp_path: Path) -> None:
    """The new version's bytes are already a blob (another file): reuse the row."""
    src = make_tree(tmp_path / "in", {"a.txt": "v1", "b.txt": "v2"})
    vault.import_paths([src / "a.txt", src / "b.txt"])
    (src / "a.txt").write_text("v2")
    report = vault.import_paths([src / "a.txt"], conflict=Conflict.VERSION)
    assert report.new_versions == ["/a.txt"]
    assert len(list(vault.blobs.list())) == 2
    assert_consistent(vault)


def test_folder_clashing_with_a_file(vault: Vault, tmp_path: Path) -> None:
    vault.import_paths([make_tree(tmp_path / "a", {"docs": "a file"}) / "docs"])
    report = vault.import_paths([make_tree(tmp_path / "b" / "docs", {"x.txt": "x"})])
    assert content(vault, "/docs (2)/x.txt") == b"x"
    [renamed] = report.renamed
    assert renamed.path == "/docs (2)"
    assert 'a file named "docs" already exists there' in renamed.reason


# -- outside names -------------------------------------------------------------


def test_outside_names_that_break_rules_are_mapped_and_reported(
    vault: Vault, tmp_path: Path
) -> None:
    src = make_tree(
        tmp_path / "odd",
        {
            "bad:name.txt": "colon",
            "trailing.": "dot",
            "CON.txt": "device",
            "tab\there.txt": "tab",
            "dir|x/inside.txt": "in",
            "ok.txt": "fine",
        },
    )
    report = vault.import_paths([src])
    assert report.ok and report.imported == 6
    by_path = {r.path: r for r in report.renamed}
    assert set(by_path) == {
        "/odd/bad_name.txt",
        "/odd/trailing",
        "/odd/CON_.txt",
        "/odd/tab_here.txt",
        "/odd/dir_x",
    }
    assert by_path["/odd/bad_name.txt"].source == str(src / "bad:name.txt")
    assert "cannot contain :" in by_path["/odd/bad_name.txt"].reason
    assert "end with a dot" in by_path["/odd/trailing"].reason
    assert "reserved device name" in by_path["/odd/CON_.txt"].reason
    assert "control characters" in by_path["/odd/tab_here.txt"].reason
    assert "cannot contain |" in by_path["/odd/dir_x"].reason
    assert all(r.reason.endswith("It was renamed.") for r in report.renamed)
    assert content(vault, "/odd/dir_x/inside.txt") == b"in"
    assert content(vault, "/odd/bad_name.txt") == b"colon"
    assert_consistent(vault)


def test_two_outside_names_mapping_to_the_same_name(vault: Vault, tmp_path: Path) -> None:
    src = make_tree(tmp_path / "in", {"a:b.txt": "colon", "a?b.txt": "question"})
    report = vault.import_paths([src])
    assert report.imported == 2
    assert {content(vault, "/in/a_b.txt"), content(vault, "/in/a_b (2).txt")} == {
        b"colon",
        b"question",
    }
    assert {r.path for r in report.renamed} == {"/in/a_b.txt", "/in/a_b (2).txt"}


# -- bad input -----------------------------------------------------------------


def test_bad_sources_each_get_a_message_and_the_rest_goes_on(vault: Vault, tmp_path: Path) -> None:
    src = make_tree(tmp_path / "mixed", {"good1.txt": "one", "sub/good2.txt": "two"})
    (src / "dangling").symlink_to(tmp_path / "nowhere")
    (src / "self").symlink_to(src / "self")
    (src / "sub" / "up").symlink_to(src)  # a folder link back to an ancestor
    os.mkfifo(src / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(src / "sock"))
    missing = tmp_path / "missing.txt"
    try:
        report = vault.import_paths([src, missing])
    finally:
        sock.close()
    assert report.imported == 2
    assert content(vault, "/mixed/good1.txt") == b"one"
    assert content(vault, "/mixed/sub/good2.txt") == b"two"
    reasons = failures(report)
    assert reasons == {
        "missing.txt": "it is missing",
        "dangling": "it is a symbolic link that points to nothing",
        "self": reasons["self"],
        "up": "it is a symbolic link loop (it leads back to a folder above it)",
        "fifo": "it is not a regular file (a device, pipe or socket)",
        "sock": "it is not a regular file (a device, pipe or socket)",
    }
    assert "symbolic links" in reasons["self"]  # ELOOP: "Too many levels of symbolic links"
    assert not report.ok
    for name in ("dangling", "self", "up", "fifo", "sock"):
        with pytest.raises(NotFound):
            vault.resolve(f"/mixed/{name}")
    assert_consistent(vault)


def test_symlinks_to_files_and_folders_outside_are_followed(vault: Vault, tmp_path: Path) -> None:
    outside = make_tree(tmp_path / "outside", {"real.txt": "real", "dir/x.txt": "x"})
    src = make_tree(tmp_path / "links", {})
    (src / "file-link.txt").symlink_to(outside / "real.txt")
    (src / "dir-link").symlink_to(outside / "dir")
    report = vault.import_paths([src])
    assert report.ok and report.imported == 2
    assert content(vault, "/links/file-link.txt") == b"real"
    assert content(vault, "/links/dir-link/x.txt") == b"x"


def test_permission_denied_for_real(vault: Vault, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: permission bits do not stop root from reading")
    src = make_tree(tmp_path / "perm", {"ok.txt": "ok", "secret.txt": "s", "closed/x.txt": "x"})
    (src / "secret.txt").chmod(0)
    (src / "closed").chmod(0)
    try:
        report = vault.import_paths([src])
    finally:
        (src / "secret.txt").chmod(0o600)
        (src / "closed").chmod(0o700)
    assert report.imported == 1
    reasons = failures(report)
    assert reasons["secret.txt"] == "permission denied"
    assert reasons["closed"].startswith("permission denied")
    assert_consistent(vault)


def test_permission_denied_when_opening(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Works as root too: the open itself is refused, as for a file locked by another OS."""
    src = make_tree(tmp_path / "perm", {"ok.txt": "ok", "secret.txt": "s"})
    victim = str(src / "secret.txt")
    real_open = os.open

    def refusing_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if os.fspath(path) == victim:  # type: ignore[arg-type]
            raise PermissionError(errno.EACCES, "Permission denied", victim)
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refusing_open)
    report = vault.import_paths([src])
    monkeypatch.undo()
    assert report.imported == 1
    assert failures(report) == {"secret.txt": "permission denied"}
    assert_consistent(vault)


def test_a_file_that_changes_while_being_read(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = make_tree(tmp_path / "live", {"growing.log": "line 1\n" * 100, "calm.txt": "calm"})
    growing = src / "growing.log"
    inode = growing.stat().st_ino
    real_copy = LocalBlobStore._copy

    def copy_then_append(self, source, temp, expected, progress):  # type: ignore[no-untyped-def]
        result = real_copy(self, source, temp, expected, progress)
        if os.fstat(source.fileno()).st_ino == inode:
            with growing.open("ab") as out:  # another program writes meanwhile
                out.write(b"line 101\n")
        return result

    monkeypatch.setattr(LocalBlobStore, "_copy", copy_then_append)
    report = vault.import_paths([src])
    assert report.imported == 1
    reason = failures(report)["growing.log"]
    assert "changed while being read" in reason
    with pytest.raises(NotFound, match=r"growing\.log"):
        vault.require_file("/live/growing.log")
    assert content(vault, "/live/calm.txt") == b"calm"
    assert len(list(vault.blobs.list())) == 1
    assert_consistent(vault)


def test_a_file_that_vanishes_between_walk_and_copy(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = make_tree(tmp_path / "vanish", {"stays.txt": "stays", "goes.txt": "goes"})
    real_walk = importer._walk

    def walk_then_delete(sources, report):  # type: ignore[no-untyped-def]
        entries = real_walk(sources, report)
        (src / "goes.txt").unlink()
        return entries

    monkeypatch.setattr(importer, "_walk", walk_then_delete)
    report = vault.import_paths([src])
    assert report.imported == 1
    assert failures(report) == {"goes.txt": "it vanished before it could be read"}
    assert content(vault, "/vanish/stays.txt") == b"stays"
    assert_consistent(vault)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs, when this test run may mount one (root, and mount allowed)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill up needs root")
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_full_disk(small_disk: Path, tmp_path: Path) -> None:
    src = make_tree(
        tmp_path / "big",
        {
            "a-big.bin": os.urandom(4 << 20),
            "b-small.txt": "small one",
            "c-small.txt": "small two",
        },
    )
    with Vault.open(small_disk / "vault") as vault:
        report = vault.import_paths([src], workers=1)
        assert report.imported == 2
        reasons = failures(report)
        assert list(reasons) == ["a-big.bin"]
        assert "the disk holding the vault is full" in reasons["a-big.bin"]
        assert content(vault, "/big/b-small.txt") == b"small one"
        assert content(vault, "/big/c-small.txt") == b"small two"
        with pytest.raises(NotFound, match=r"a-big\.bin"):
            vault.require_file("/big/a-big.bin")
        assert_consistent(vault)


def test_a_file_of_another_name_becomes_a_new_version(vault: Vault, tmp_path: Path) -> None:
    first = tmp_path / "report.txt"
    first.write_text("draft")
    (file_id,) = vault.import_paths([first]).file_ids
    other = tmp_path / "report final (copy).txt"
    other.write_text("final text")

    report = vault.add_version(file_id, other)

    assert report.ok and report.file_ids == [file_id] and report.imported == 0
    info = vault.file_info(file_id)
    assert info.name == "report.txt" and info.versions == 2 and info.size == len("final text")
    assert [v.number for v in vault.versions(file_id)] == [1, 2]
    assert vault.browse_count(Source.folder(vault.root_id)) == 1


def test_a_folder_or_a_missing_file_is_not_a_version(vault: Vault, tmp_path: Path) -> None:
    first = tmp_path / "a.txt"
    first.write_text("a")
    (file_id,) = vault.import_paths([first]).file_ids
    (tmp_path / "dir").mkdir()
    assert "folder" in vault.add_version(file_id, tmp_path / "dir").failed[0].reason
    assert vault.add_version(file_id, tmp_path / "gone.txt").failed
    assert vault.file_info(file_id).versions == 1
