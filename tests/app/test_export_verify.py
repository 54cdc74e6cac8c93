"""Export writes back exactly what was imported; verify finds missing and damaged blobs."""

from __future__ import annotations

import filecmp
import os
from pathlib import Path

import pytest

from app.errors import BlobMissing, NotFound
from app.importer import Conflict
from app.vault import Vault


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """An outside tree with text, binary, empty and nested files, already imported."""
    root = tmp_path / "Album"
    files = {
        "cover.bin": os.urandom(300_000),
        "notes.txt": b"Day one: rain.\n",
        "empty.dat": b"",
        "days/monday.txt": b"monday",
        "days/deeper/tuesday.bin": os.urandom(2 << 20),
        "nothing-here/": b"",
    }
    for rel, data in files.items():
        path = root / rel
        if rel.endswith("/"):
            path.mkdir(parents=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def same_tree(a: Path, b: Path) -> None:
    """Byte-identical trees: same folders, same files, same bytes."""
    left = sorted(p.relative_to(a) for p in a.rglob("*"))
    right = sorted(p.relative_to(b) for p in b.rglob("*"))
    assert left == right
    for rel in left:
        if (a / rel).is_file():
            assert filecmp.cmp(a / rel, b / rel, shallow=False), rel


def no_partial_files(directory: Path) -> None:
    leftovers = [p.name for p in directory.rglob("*") if p.name.endswith(".part")]
    assert leftovers == []


def corrupt(vault: Vault, blob_hash: str) -> None:
    path = vault.blobs.path(blob_hash)
    path.chmod(0o644)  # in case blobs are ever stored read-only
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_export_file_is_byte_identical(vault: Vault, source: Path, tmp_path: Path) -> None:
    vault.import_paths([source])
    for rel in ("cover.bin", "notes.txt", "empty.dat", "days/deeper/tuesday.bin"):
        file_id = vault.require_file(f"/Album/{rel}")
        written = vault.export_file(file_id, tmp_path / "out")
        assert written == tmp_path / "out" / Path(rel).name
        assert written.read_bytes() == (source / rel).read_bytes()
    no_partial_files(tmp_path / "out")


def test_export_a_specific_version(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "in" / "draft.txt"
    path.parent.mkdir()
    path.write_bytes(b"first draft")
    vault.import_paths([path])
    path.write_bytes(b"second draft, better")
    vault.import_paths([path], conflict=Conflict.VERSION)
    file_id = vault.require_file("/draft.txt")
    assert vault.export_file(file_id, tmp_path / "v1", version=1).read_bytes() == b"first draft"
    assert vault.export_file(file_id, tmp_path / "v2", version=2).read_bytes() == (
        b"second draft, better"
    )
    assert vault.export_file(file_id, tmp_path / "cur").read_bytes() == b"second draft, better"
    with pytest.raises(NotFound, match="no version 3"):
        vault.export_file(file_id, tmp_path / "v3", version=3)


def test_export_folder_tree_is_byte_identical(vault: Vault, source: Path, tmp_path: Path) -> None:
    vault.import_paths([source])
    seen: list[tuple[int, int]] = []
    report = vault.export_folder(
        vault.resolve_folder("/Album"), tmp_path / "out", progress=lambda i, n: seen.append((i, n))
    )
    assert report.failed == []
    assert len(report.written) == 5
    assert report.bytes == sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
    assert seen[-1] == (5, 5)
    same_tree(source, tmp_path / "out" / "Album")


def test_export_of_the_root_writes_its_contents(vault: Vault, source: Path, tmp_path: Path) -> None:
    vault.import_paths([source])
    report = vault.export_folder(vault.root_id, tmp_path / "out")
    assert report.failed == []
    same_tree(source, tmp_path / "out" / "Album")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["Album"]


def test_export_clash_in_destination_keeps_both(vault: Vault, source: Path, tmp_path: Path) -> None:
    vault.import_paths([source])
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine, do not touch")
    file_id = vault.require_file("/Album/notes.txt")
    written = vault.export_file(file_id, out)
    assert written.name == "notes (2).txt"
    assert (out / "notes.txt").read_text() == "mine, do not touch"
    assert vault.export_file(file_id, out).name == "notes (3).txt"
    # A whole folder exported twice: the files inside keep both, nothing is overwritten.
    vault.export_folder(vault.resolve_folder("/Album/days"), out)
    report = vault.export_folder(vault.resolve_folder("/Album/days"), out)
    assert sorted(p.name for p in report.written) == ["monday (2).txt", "tuesday (2).bin"]
    assert (out / "days" / "monday (2).txt").read_bytes() == b"monday"


def test_verify_of_a_healthy_vault(vault: Vault, source: Path) -> None:
    vault.import_paths([source])
    report = vault.verify()
    assert report.ok
    assert report.checked == 5
    assert report.missing == report.corrupted == report.affected_files == []


def test_verify_detects_a_corrupted_blob(vault: Vault, source: Path) -> None:
    vault.import_paths([source])
    file_id = vault.require_file("/Album/cover.bin")
    copy_id = vault.copy_file(file_id, vault.resolve_folder("/Album/days")).created[0]
    blob = vault.file_info(file_id).version.blob_hash
    corrupt(vault, blob)
    report = vault.verify()
    assert not report.ok
    assert report.corrupted == [blob]
    assert report.missing == []
    # Every file sharing the blob is affected, named by its vault path.
    assert report.affected_files == ["/Album/cover.bin", "/Album/days/cover.bin"]
    assert vault.path_of("file", copy_id) == "/Album/days/cover.bin"


def test_verify_detects_a_missing_blob(vault: Vault, source: Path) -> None:
    vault.import_paths([source])
    blob = vault.file_info(vault.require_file("/Album/days/monday.txt")).version.blob_hash
    vault.blobs.path(blob).unlink()
    report = vault.verify()
    assert not report.ok
    assert report.missing == [blob]
    assert report.corrupted == []
    assert report.affected_files == ["/Album/days/monday.txt"]


def test_verify_reports_stray_files(vault: Vault, source: Path) -> None:
    vault.import_paths([source])
    stray = "ab" + "c" * 62
    (vault.blobs.root / "ab").mkdir(exist_ok=True)
    (vault.blobs.root / "ab" / stray).write_bytes(b"nobody's")
    report = vault.verify()
    assert report.ok  # nothing the catalog needs is damaged
    assert report.stray_files == [stray]


def test_export_of_a_corrupted_blob_fails_cleanly(
    vault: Vault, source: Path, tmp_path: Path
) -> None:
    vault.import_paths([source])
    file_id = vault.require_file("/Album/days/deeper/tuesday.bin")
    corrupt(vault, vault.file_info(file_id).version.blob_hash)
    out = tmp_path / "out"
    with pytest.raises(BlobMissing, match="damaged"):
        vault.export_file(file_id, out)
    assert list(out.iterdir()) == []  # no partial file, no temp file

    report = vault.export_folder(vault.resolve_folder("/Album"), tmp_path / "tree")
    assert [Path(p).name for p, _reason in report.failed] == ["tuesday.bin"]
    assert "damaged" in report.failed[0][1]
    assert len(report.written) == 4
    assert not (tmp_path / "tree" / "Album" / "days" / "deeper" / "tuesday.bin").exists()
    no_partial_files(tmp_path / "tree")


def test_export_of_a_missing_blob(vault: Vault, source: Path, tmp_path: Path) -> None:
    vault.import_paths([source])
    file_id = vault.require_file("/Album/notes.txt")
    vault.blobs.path(vault.file_info(file_id).version.blob_hash).unlink()
    with pytest.raises(BlobMissing, match="not on this computer"):
        vault.export_file(file_id, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_export_into_an_unusable_destination(vault: Vault, source: Path, tmp_path: Path) -> None:
    from app.errors import StorageError

    vault.import_paths([source])
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="Cannot create"):
        vault.export_file(vault.require_file("/Album/notes.txt"), blocker / "sub")


def test_drag_links_carry_names_and_content(vault: Vault, source: Path) -> None:
    """A drag out links each file's content under its name; the next drag's links
    replace the previous ones, and a file whose content is gone is left out."""
    vault.import_paths([source])
    picked = []
    for rel in ("cover.bin", "days/monday.txt"):
        info = vault.file_info(vault.require_file(f"/Album/{rel}"))
        picked.append((info.id, info.name, info.version.blob_hash, source / rel))

    links = vault.drag_links([(i, n, h) for i, n, h, _ in picked])

    assert [link.name for link in links] == ["cover.bin", "monday.txt"]
    for link, (_, _, _, original) in zip(links, picked, strict=True):
        assert link.read_bytes() == original.read_bytes()
        assert link.is_relative_to(vault.paths.cache)

    file_id, name, blob_hash, _ = picked[1]
    gone = "0" * 64  # no such blob: nothing to link
    again = vault.drag_links([(file_id, name, blob_hash), (999, "ghost.txt", gone)])
    assert [link.name for link in again] == ["monday.txt"]
    assert not links[0].exists()  # the previous drag's link is gone
