"""Organising: mkdir, rename, move, copy, favorites, descriptions — and what is refused."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from sqlalchemy import text

from app.errors import InvalidName, NameTaken, NotFound, Refused
from app.vault import Vault
from tests.helpers.vaults import add_file


def count(vault: Vault, table: str) -> int:
    with vault.reading() as session:
        return int(session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def names(vault: Vault, folder_id: int) -> list[str]:
    listing = vault.list_folder(folder_id)
    return [f.name for f in listing.folders] + [f.name for f in listing.files]


# -- folders -------------------------------------------------------------------


def test_mkdir_and_resolve(vault: Vault) -> None:
    photos = vault.mkdir(vault.root_id, "Photos").created[0]
    year = vault.mkdir(photos, "2023").created[0]
    assert vault.resolve("/Photos/2023") == ("folder", year)
    assert vault.resolve("/photos/2023/") == ("folder", year)  # case-insensitive lookup
    assert vault.path_of("folder", year) == "/Photos/2023"
    assert names(vault, vault.root_id) == ["Photos"]
    assert vault.makedirs("/Photos/2023/Summer/Beach") == vault.resolve_folder(
        "/Photos/2023/Summer/Beach"
    )
    assert vault.makedirs("/Photos") == photos  # existing folders are reused


def test_new_folder_takes_the_first_free_name(vault: Vault) -> None:
    ids = [vault.new_folder(vault.root_id).created[0] for _ in range(3)]
    assert [vault.path_of("folder", i) for i in ids] == [
        "/New folder",
        "/New folder (2)",
        "/New folder (3)",
    ]
    vault.rename_folder(ids[0], "Kept")
    assert vault.path_of("folder", vault.new_folder(vault.root_id).created[0]) == "/New folder"


def test_mkdir_refuses_invalid_names_with_the_rule(vault: Vault) -> None:
    with pytest.raises(InvalidName, match="cannot contain :"):
        vault.mkdir(vault.root_id, "a:b")
    with pytest.raises(InvalidName, match="reserved device name"):
        vault.mkdir(vault.root_id, "aux")
    with pytest.raises(InvalidName, match="end with a dot"):
        vault.mkdir(vault.root_id, "x.")
    with pytest.raises(NotFound):
        vault.mkdir(999, "orphan")
    assert names(vault, vault.root_id) == []


def test_sibling_names_are_unique_ignoring_case_across_folders_and_files(
    vault: Vault, tmp_path: Path
) -> None:
    vault.mkdir(vault.root_id, "Report")
    with pytest.raises(NameTaken) as info:
        vault.mkdir(vault.root_id, "REPORT")
    assert 'already a folder named "Report" in /' in info.value.message
    file_id = add_file(vault, tmp_path, "notes.txt", b"n")
    with pytest.raises(NameTaken, match=r'already a file named "notes\.txt" in /'):
        vault.mkdir(vault.root_id, "Notes.TXT")
    other = vault.mkdir(vault.root_id, "other").created[0]
    with pytest.raises(NameTaken, match='folder named "Report"'):
        vault.rename_folder(other, "report")
    with pytest.raises(NameTaken, match='folder named "Report"'):
        vault.rename_file(file_id, "rEpOrT")
    assert names(vault, vault.root_id) == ["other", "Report", "notes.txt"]


def test_nfd_and_nfc_names_clash(vault: Vault) -> None:
    vault.mkdir(vault.root_id, "Café")
    with pytest.raises(NameTaken):
        vault.mkdir(vault.root_id, unicodedata.normalize("NFD", "CAFÉ"))
    nfd_id = vault.mkdir(vault.root_id, unicodedata.normalize("NFD", "Thé")).created[0]
    assert vault.resolve("/Thé") == ("folder", nfd_id)
    assert vault.path_of("folder", nfd_id) == "/Thé"  # stored in NFC


def test_same_name_in_different_folders_is_fine(vault: Vault) -> None:
    a = vault.mkdir(vault.root_id, "a").created[0]
    b = vault.mkdir(vault.root_id, "b").created[0]
    vault.mkdir(a, "same")
    vault.mkdir(b, "same")
    assert vault.resolve_folder("/a/same") != vault.resolve_folder("/b/same")


def test_rename_folder_including_case_only(vault: Vault) -> None:
    folder = vault.mkdir(vault.root_id, "holiday").created[0]
    vault.rename_folder(folder, "Holiday")
    assert names(vault, vault.root_id) == ["Holiday"]
    vault.rename_folder(folder, "Trips")
    assert vault.path_of("folder", folder) == "/Trips"
    with pytest.raises(NotFound):
        vault.resolve("/Holiday")
    with pytest.raises(InvalidName):
        vault.rename_folder(folder, "a/b")


def test_root_cannot_be_renamed_moved_or_deleted(vault: Vault) -> None:
    other = vault.mkdir(vault.root_id, "other").created[0]
    with pytest.raises(Refused, match="top of the vault cannot be renamed"):
        vault.rename_folder(vault.root_id, "Root")
    with pytest.raises(Refused, match="top of the vault cannot be moved"):
        vault.move_folder(vault.root_id, other)
    with pytest.raises(Refused, match="top of the vault cannot be deleted"):
        vault.delete_folder(vault.root_id)
    with pytest.raises(Refused):
        vault.copy_folder(vault.root_id, other)
    assert vault.path_of("folder", vault.root_id) == "/"


def test_move_folder(vault: Vault, tmp_path: Path) -> None:
    a = vault.mkdir(vault.root_id, "a").created[0]
    b = vault.mkdir(vault.root_id, "b").created[0]
    inner = vault.mkdir(a, "inner").created[0]
    file_id = add_file(vault, tmp_path, "deep.txt", b"deep", inner)
    changes = vault.move_folder(inner, b)
    assert changes.tree and {a, b} <= changes.folders
    assert vault.path_of("folder", inner) == "/b/inner"
    assert vault.path_of("file", file_id) == "/b/inner/deep.txt"
    assert names(vault, a) == []
    assert vault.move_folder(inner, b).folders == frozenset()  # same place: nothing to do


def test_move_folder_into_itself_or_a_descendant_is_refused(vault: Vault) -> None:
    a = vault.mkdir(vault.root_id, "a").created[0]
    child = vault.mkdir(a, "child").created[0]
    grandchild = vault.mkdir(child, "grandchild").created[0]
    for target in (a, child, grandchild):
        with pytest.raises(Refused) as info:
            vault.move_folder(a, target)
        assert 'Cannot move "a" into itself or one of its own subfolders' in info.value.message
    assert vault.path_of("folder", grandchild) == "/a/child/grandchild"
    with pytest.raises(Refused, match="into itself"):
        vault.copy_folder(a, grandchild)


def test_move_folder_onto_a_taken_name(vault: Vault) -> None:
    a = vault.mkdir(vault.root_id, "a").created[0]
    vault.mkdir(a, "Dup")
    dup = vault.mkdir(vault.root_id, "dup").created[0]
    with pytest.raises(NameTaken, match='folder named "Dup" in /a'):
        vault.move_folder(dup, a)
    assert vault.path_of("folder", dup) == "/dup"


# -- files ---------------------------------------------------------------------


def test_rename_file_including_case_only(vault: Vault, tmp_path: Path) -> None:
    file_id = add_file(vault, tmp_path, "img.JPG", b"jpeg?")
    vault.rename_file(file_id, "img.jpg")
    assert names(vault, vault.root_id) == ["img.jpg"]
    vault.rename_file(file_id, "beach.jpg")
    assert vault.resolve("/beach.jpg") == ("file", file_id)
    assert [h.file_id for h in vault.search("beach")] == [file_id]
    assert vault.search("img") == []
    with pytest.raises(InvalidName, match="end with a space"):
        vault.rename_file(file_id, "beach.jpg ")


def test_move_file(vault: Vault, tmp_path: Path) -> None:
    file_id = add_file(vault, tmp_path, "a.txt", b"a")
    target = vault.mkdir(vault.root_id, "target").created[0]
    blobs = count(vault, "blob")
    vault.move_file(file_id, target)
    assert vault.path_of("file", file_id) == "/target/a.txt"
    assert count(vault, "blob") == blobs
    add_file(vault, tmp_path, "A.TXT", b"other")
    with pytest.raises(NameTaken, match=r'file named "a\.txt" in /target'):
        vault.move_file(vault.require_file("/A.TXT"), target)
    with pytest.raises(NotFound):
        vault.move_file(file_id, 12345)


def test_copy_file_shares_the_blob_and_keeps_both(vault: Vault, tmp_path: Path) -> None:
    file_id = add_file(vault, tmp_path, "x.ext", b"shared bytes")
    blobs_before = count(vault, "blob")
    files_before = count(vault, "file")
    on_disk = sorted(vault.blobs.list())

    copy_id = vault.copy_file(file_id, vault.root_id).created[0]
    assert names(vault, vault.root_id) == ["x (2).ext", "x.ext"]
    assert count(vault, "blob") == blobs_before
    assert count(vault, "file") == files_before + 1
    assert sorted(vault.blobs.list()) == on_disk
    original, copy = vault.file_info(file_id), vault.file_info(copy_id)
    assert copy.version.blob_hash == original.version.blob_hash
    assert copy.name == "x (2).ext" and copy.size == original.size

    third = vault.copy_file(copy_id, vault.root_id).created[0]
    assert vault.file_info(third).name == "x (3).ext"

    elsewhere = vault.mkdir(vault.root_id, "elsewhere").created[0]
    moved = vault.copy_file(file_id, elsewhere).created[0]
    assert vault.path_of("file", moved) == "/elsewhere/x.ext"


def test_copy_file_copies_description_not_favorite(vault: Vault, tmp_path: Path) -> None:
    file_id = add_file(vault, tmp_path, "p.txt", b"p")
    vault.describe_file(file_id, "sunset over the harbour")
    vault.set_favorite([file_id], True)
    copy_id = vault.copy_file(file_id, vault.root_id).created[0]
    info = vault.file_info(copy_id)
    assert info.description == "sunset over the harbour"
    assert not info.is_favorite
    assert {h.file_id for h in vault.search("harbour")} == {file_id, copy_id}


def test_copy_folder_is_recursive_and_shares_blobs(vault: Vault, tmp_path: Path) -> None:
    album = vault.mkdir(vault.root_id, "Album").created[0]
    sub = vault.mkdir(album, "Sub").created[0]
    vault.mkdir(sub, "Empty")
    add_file(vault, tmp_path, "one.txt", b"1", album)
    add_file(vault, tmp_path, "two.txt", b"2", sub)
    blobs = count(vault, "blob")

    dest = vault.mkdir(vault.root_id, "Dest").created[0]
    top = vault.copy_folder(album, dest).created[0]
    assert vault.path_of("folder", top) == "/Dest/Album"
    assert vault.resolve("/Dest/Album/one.txt")[0] == "file"
    assert vault.resolve("/Dest/Album/Sub/two.txt")[0] == "file"
    assert vault.resolve("/Dest/Album/Sub/Empty")[0] == "folder"
    assert count(vault, "blob") == blobs
    assert count(vault, "file") == 4

    again = vault.copy_folder(album, vault.root_id).created[0]
    assert vault.path_of("folder", again) == "/Album (2)"
    assert vault.resolve("/Album (2)/Sub/two.txt")[0] == "file"
    # The copies are independent: renaming one leaves the original alone.
    vault.rename_file(vault.require_file("/Album (2)/one.txt"), "uno.txt")
    assert vault.resolve("/Album/one.txt")[0] == "file"


def test_copy_folder_leaves_out_trashed_items(vault: Vault, tmp_path: Path) -> None:
    album = vault.mkdir(vault.root_id, "Album").created[0]
    gone = add_file(vault, tmp_path, "gone.txt", b"g", album)
    add_file(vault, tmp_path, "kept.txt", b"k", album)
    vault.delete_file(gone)
    top = vault.copy_folder(album, vault.root_id).created[0]
    assert names(vault, top) == ["kept.txt"]


def test_favorites(vault: Vault, tmp_path: Path) -> None:
    a = add_file(vault, tmp_path, "a.txt", b"a")
    b = add_file(vault, tmp_path, "b.txt", b"b")
    vault.set_favorite([a, b], True)
    assert all(f.is_favorite for f in vault.list_folder(vault.root_id).files)
    vault.set_favorite([b], False)
    assert {f.name: f.is_favorite for f in vault.list_folder(vault.root_id).files} == {
        "a.txt": True,
        "b.txt": False,
    }
    with pytest.raises(NotFound):
        vault.set_favorite([a, 999], False)
    assert vault.file_info(a).is_favorite  # all or nothing


def test_descriptions_are_searchable(vault: Vault, tmp_path: Path) -> None:
    file_id = add_file(vault, tmp_path, "IMG_0001.jpg", b"not really a jpeg")
    vault.describe_file(file_id, "Grandmother's ninetieth birthday")
    hits = vault.search("ninetieth")
    assert [h.file_id for h in hits] == [file_id]
    assert hits[0].matched == ("description",)
    vault.describe_file(file_id, "")
    assert vault.search("ninetieth") == []
    folder = vault.mkdir(vault.root_id, "f").created[0]
    vault.describe_folder(folder, "scans")
    assert vault.folder_info(folder).description == "scans"


def test_operations_on_trashed_items_are_not_found(vault: Vault, tmp_path: Path) -> None:
    file_id = add_file(vault, tmp_path, "a.txt", b"a")
    folder = vault.mkdir(vault.root_id, "f").created[0]
    vault.delete_file(file_id)
    vault.delete_folder(folder)
    with pytest.raises(NotFound):
        vault.rename_file(file_id, "b.txt")
    with pytest.raises(NotFound):
        vault.copy_file(file_id, vault.root_id)
    with pytest.raises(NotFound):
        vault.mkdir(folder, "inside")
    # Their names are free again.
    vault.mkdir(vault.root_id, "F")
    add_file(vault, tmp_path, "A.txt", b"new")
