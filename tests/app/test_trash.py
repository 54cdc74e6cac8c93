"""The Trash: deleting, listing, restoring to the original place, deleting forever."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from app.errors import NotFound
from app.vault import Vault
from tests.helpers.vaults import add_file


def rows(vault: Vault, sql: str) -> list[tuple[object, ...]]:
    with vault.reading() as session:
        return [tuple(r) for r in session.execute(text(sql))]


def blob_of(vault: Vault, file_id: int) -> str:
    return vault.file_info(file_id).version.blob_hash


def assert_clean(vault: Vault) -> None:
    """No orphan rows, no unreferenced blobs, no stray blob files."""
    report = vault.verify()
    assert report.ok, report
    assert report.unreferenced_rows == [] and report.stray_files == [], report
    assert rows(vault, "SELECT id FROM file WHERE folder_id NOT IN (SELECT id FROM folder)") == []
    assert rows(vault, "SELECT id FROM version WHERE file_id NOT IN (SELECT id FROM file)") == []
    assert rows(vault, "SELECT rowid FROM search WHERE rowid NOT IN (SELECT id FROM file)") == []
    assert rows(vault, "SELECT id FROM file WHERE id NOT IN (SELECT rowid FROM search)") == []


def test_delete_file_lists_it_with_its_original_path(vault: Vault, tmp_path: Path) -> None:
    folder = vault.makedirs("/Docs/2024")
    file_id = add_file(vault, tmp_path, "tax.pdf", b"%PDF-nope", folder)
    changes = vault.delete_file(file_id)
    assert changes.trash and folder in changes.folders
    assert vault.list_folder(folder).files == []
    with pytest.raises(NotFound):
        vault.resolve("/Docs/2024/tax.pdf")
    [item] = vault.trash_list()
    assert (item.kind, item.name, item.original_path) == ("file", "tax.pdf", "/Docs/2024")
    assert item.size == 9 and item.files == 1
    assert vault.file_info(file_id).in_trash
    assert vault.search("tax") == []


def test_delete_folder_takes_its_contents(vault: Vault, tmp_path: Path) -> None:
    album = vault.makedirs("/Photos/Album")
    sub = vault.mkdir(album, "Sub").created[0]
    add_file(vault, tmp_path, "a.txt", b"aaa", album)
    add_file(vault, tmp_path, "b.txt", b"bb", sub)
    vault.delete_path("/Photos/Album")
    [item] = vault.trash_list()
    assert (item.kind, item.name, item.original_path) == ("folder", "Album", "/Photos")
    assert (item.files, item.size) == (2, 5)
    assert vault.list_folder(vault.resolve_folder("/Photos")).folders == []
    assert vault.search("a") == [] and vault.search("b") == []


def test_trash_list_is_newest_first(vault: Vault, tmp_path: Path) -> None:
    first = add_file(vault, tmp_path, "first.txt", b"1")
    second = add_file(vault, tmp_path, "second.txt", b"2")
    vault.delete_file(first)
    vault.delete_file(second)
    assert [i.name for i in vault.trash_list()] == ["second.txt", "first.txt"]


def test_restore_to_the_original_folder(vault: Vault, tmp_path: Path) -> None:
    folder = vault.makedirs("/Docs")
    file_id = add_file(vault, tmp_path, "letter.txt", b"Dear reader", folder)
    vault.delete_file(file_id)
    [item] = vault.trash_list()
    vault.restore(item.id)
    assert vault.resolve("/Docs/letter.txt") == ("file", file_id)
    assert vault.trash_list() == []
    assert [h.file_id for h in vault.search("letter")] == [file_id]
    with pytest.raises(NotFound, match="no longer in the Trash"):
        vault.restore(item.id)


def test_restore_a_folder_tree(vault: Vault, tmp_path: Path) -> None:
    album = vault.makedirs("/Photos/Album")
    add_file(vault, tmp_path, "deep.txt", b"deep", vault.mkdir(album, "Sub").created[0])
    vault.delete_folder(album)
    vault.restore(vault.trash_list()[0].id)
    assert vault.resolve("/Photos/Album/Sub/deep.txt")[0] == "file"
    assert_clean(vault)


def test_restore_when_the_original_folder_is_itself_in_the_trash(
    vault: Vault, tmp_path: Path
) -> None:
    b = vault.makedirs("/A/B")
    file_id = add_file(vault, tmp_path, "f.txt", b"content of f", b)
    vault.delete_file(file_id)
    vault.delete_path("/A")
    file_entry = next(i for i in vault.trash_list() if i.kind == "file")
    vault.restore(file_entry.id)
    # The path is recreated with new folders.
    assert vault.resolve("/A/B/f.txt") == ("file", file_id)
    assert vault.resolve_folder("/A/B") != b
    # Deleting the old /A forever leaves the restored file alone.
    folder_entry = vault.trash_list()[0]
    vault.purge(folder_entry.id)
    assert vault.trash_list() == []
    assert vault.resolve("/A/B/f.txt") == ("file", file_id)
    assert vault.blobs.has(blob_of(vault, file_id))
    assert_clean(vault)


def test_restore_when_the_original_folder_was_deleted_forever(vault: Vault, tmp_path: Path) -> None:
    """The parent's row is gone (``original_parent_id`` became NULL): recreate it by path.

    Through the API, purging X also purges what was trashed from inside it (see
    test_nested_deletions_go_together), so the trashed file's row is first parked
    outside X directly in SQL; restore must rely on the entry's path alone.
    """
    x = vault.makedirs("/Projects/X")
    file_id = add_file(vault, tmp_path, "plan.txt", b"plan", x)
    vault.delete_file(file_id)
    vault.delete_folder(x)
    [x_entry] = [i for i in vault.trash_list() if i.kind == "folder"]
    with vault.writing() as session:
        session.execute(text("UPDATE file SET folder_id = 1 WHERE id = :f"), {"f": file_id})
    vault.purge(x_entry.id)
    assert rows(vault, "SELECT original_parent_id, original_path FROM trash_entry") == [
        (None, "/Projects/X")
    ]
    vault.restore(vault.trash_list()[0].id)
    assert vault.resolve("/Projects/X/plan.txt") == ("file", file_id)
    assert_clean(vault)


def test_restore_keeps_both_when_the_name_was_taken(vault: Vault, tmp_path: Path) -> None:
    old = add_file(vault, tmp_path, "photo.jpg", b"old photo")
    vault.delete_file(old)
    new = add_file(vault, tmp_path, "PHOTO.jpg", b"new photo")
    vault.restore(vault.trash_list()[0].id)
    assert vault.file_info(new).name == "PHOTO.jpg"
    assert vault.file_info(old).name == "photo (2).jpg"
    assert [h.file_id for h in vault.search('"photo (2)"')] == [old]

    folder = vault.mkdir(vault.root_id, "Album").created[0]
    vault.delete_folder(folder)
    vault.mkdir(vault.root_id, "album")
    vault.restore(vault.trash_list()[0].id)
    assert vault.path_of("folder", folder) == "/Album (2)"


def test_purge_deletes_rows_and_the_unshared_blob(vault: Vault, tmp_path: Path) -> None:
    file_id = add_file(vault, tmp_path, "only.txt", b"only copy")
    blob = blob_of(vault, file_id)
    vault.delete_file(file_id)
    assert vault.blobs.has(blob), "the Trash keeps the content"
    vault.purge(vault.trash_list()[0].id)
    assert not vault.blobs.has(blob)
    assert rows(vault, "SELECT COUNT(*) FROM file") == [(0,)]
    assert rows(vault, "SELECT COUNT(*) FROM version") == [(0,)]
    assert rows(vault, "SELECT COUNT(*) FROM blob") == [(0,)]
    assert rows(vault, "SELECT COUNT(*) FROM trash_entry") == [(0,)]
    with pytest.raises(NotFound):
        vault.file_info(file_id)
    assert_clean(vault)


def test_purge_keeps_a_blob_another_file_uses(vault: Vault, tmp_path: Path) -> None:
    file_id = add_file(vault, tmp_path, "orig.txt", b"shared content")
    copy_id = vault.copy_file(file_id, vault.root_id).created[0]
    blob = blob_of(vault, file_id)
    vault.delete_file(file_id)
    vault.purge(vault.trash_list()[0].id)
    assert vault.blobs.has(blob)
    assert rows(vault, "SELECT hash FROM blob") == [(blob,)]
    assert blob_of(vault, copy_id) == blob
    assert_clean(vault)
    # The same content imported again elsewhere keeps it alive too.
    again = add_file(vault, tmp_path, "again.txt", b"shared content")
    vault.delete_file(copy_id)
    vault.purge(vault.trash_list()[0].id)
    assert vault.blobs.has(blob_of(vault, again))
    assert_clean(vault)


def test_purge_keeps_a_blob_an_older_version_uses(vault: Vault, tmp_path: Path) -> None:
    from app.importer import Conflict

    src = tmp_path / "hist" / "doc.txt"
    src.parent.mkdir()
    src.write_bytes(b"version one")
    vault.import_paths([src])
    first_blob = blob_of(vault, vault.require_file("/doc.txt"))
    other = add_file(vault, tmp_path, "other.txt", b"version one")  # shares v1's blob
    src.write_bytes(b"version two")
    vault.import_paths([src], conflict=Conflict.VERSION)
    vault.delete_file(other)
    vault.purge(vault.trash_list()[0].id)
    assert vault.blobs.has(first_blob)  # still version 1 of doc.txt
    assert_clean(vault)


def test_empty_trash(vault: Vault, tmp_path: Path) -> None:
    keep = add_file(vault, tmp_path, "keep.txt", b"keep")
    a = add_file(vault, tmp_path, "a.txt", b"a")
    folder = vault.mkdir(vault.root_id, "F").created[0]
    b = add_file(vault, tmp_path, "b.txt", b"b", folder)
    hashes = [blob_of(vault, a), blob_of(vault, b)]
    vault.delete_file(a)
    vault.delete_folder(folder)
    vault.empty_trash()
    assert vault.trash_list() == []
    assert not any(vault.blobs.has(h) for h in hashes)
    assert list(vault.blobs.list()) == [blob_of(vault, keep)]
    assert rows(vault, "SELECT id FROM folder") == [(1,)]
    assert_clean(vault)
    vault.empty_trash()  # an empty Trash is fine


def test_nested_deletions_go_together(vault: Vault, tmp_path: Path) -> None:
    x = vault.mkdir(vault.root_id, "X").created[0]
    inner = add_file(vault, tmp_path, "inner.txt", b"deleted before its folder", x)
    other = add_file(vault, tmp_path, "other.txt", b"deleted with its folder", x)
    blobs = [blob_of(vault, inner), blob_of(vault, other)]
    vault.delete_file(inner)
    vault.delete_folder(x)
    items = vault.trash_list()
    assert [(i.kind, i.name, i.files) for i in items] == [
        ("folder", "X", 1),
        ("file", "inner.txt", 1),
    ]
    vault.purge(items[0].id)
    assert vault.trash_list() == []  # the earlier entry inside X went along
    assert not any(vault.blobs.has(h) for h in blobs)
    assert rows(vault, "SELECT COUNT(*) FROM file") == [(0,)]
    assert_clean(vault)


def test_restoring_a_folder_leaves_earlier_deletions_in_the_trash(
    vault: Vault, tmp_path: Path
) -> None:
    x = vault.mkdir(vault.root_id, "X").created[0]
    inner = add_file(vault, tmp_path, "inner.txt", b"i", x)
    add_file(vault, tmp_path, "other.txt", b"o", x)
    vault.delete_file(inner)
    vault.delete_folder(x)
    vault.restore(next(i.id for i in vault.trash_list() if i.kind == "folder"))
    assert [f.name for f in vault.list_folder(x).files] == ["other.txt"]
    [left] = vault.trash_list()
    assert left.name == "inner.txt"
    vault.restore(left.id)
    assert vault.resolve("/X/inner.txt") == ("file", inner)
    assert_clean(vault)
