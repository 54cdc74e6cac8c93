"""The local blob store: stage → publish → open/stat/list/delete, dedupe, temp cleanup."""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import pytest

from storage.blobstore import blob_key
from storage.errors import BlobNotFound, SourceError, StoreError
from storage.local import HEAD, LocalBlobStore


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


def _source(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / "src" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path


def _temps(store: LocalBlobStore) -> list[Path]:
    return list(store.temp_dir.iterdir())


def test_stage_then_publish_then_read(tmp_path: Path, store: LocalBlobStore) -> None:
    data = b"hello blob\n" * 10
    digest = hashlib.sha256(data).hexdigest()
    staged = store.stage(_source(tmp_path, "a.txt", data))
    assert staged.blob_hash == digest
    assert staged.size == len(data)
    assert staged.head == data
    assert staged.temp.parent == store.temp_dir and staged.temp.read_bytes() == data
    assert not store.has(digest), "not visible before publish"
    with pytest.raises(BlobNotFound):
        store.stat(digest)

    store.publish([staged])
    assert store.has(digest)
    assert store.path(digest) == store.root / digest[:2] / digest
    assert not staged.temp.exists()
    assert _temps(store) == []
    assert store.stat(digest) == len(data)
    with store.open(digest) as handle:
        assert handle.read() == data
    with store.open(digest, offset=6) as handle:
        assert handle.read(4) == b"blob"
    assert list(store.list()) == [digest]
    assert store.hash_of(digest) == digest


def test_large_file_is_hashed_in_chunks(tmp_path: Path, store: LocalBlobStore) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    seen: list[int] = []
    staged = store.stage(_source(tmp_path, "big.bin", data), progress=seen.append)
    assert staged.blob_hash == hashlib.sha256(data).hexdigest()
    assert staged.size == len(data) == sum(seen)
    assert len(seen) > 1
    assert staged.head == data[:HEAD]
    store.publish([staged])
    assert store.path(staged.blob_hash).read_bytes() == data


def test_empty_file(tmp_path: Path, store: LocalBlobStore) -> None:
    staged = store.stage(_source(tmp_path, "empty", b""))
    assert staged.blob_hash == hashlib.sha256(b"").hexdigest()
    assert staged.size == 0 and staged.head == b""
    store.publish([staged])
    assert store.stat(staged.blob_hash) == 0


def test_same_content_is_stored_once(tmp_path: Path, store: LocalBlobStore) -> None:
    data = b"same bytes"
    first = store.stage(_source(tmp_path, "a", data))
    second = store.stage(_source(tmp_path, "b", data))
    assert first.temp != second.temp
    store.publish([first, second])  # both in one batch
    third = store.stage(_source(tmp_path, "c", data))
    store.publish([third])  # and again later
    assert list(store.list()) == [first.blob_hash]
    assert [p.name for p in store.path(first.blob_hash).parent.iterdir()] == [first.blob_hash]
    assert _temps(store) == []
    assert store.path(first.blob_hash).read_bytes() == data


def test_delete_is_idempotent(tmp_path: Path, store: LocalBlobStore) -> None:
    staged = store.stage(_source(tmp_path, "a", b"x"))
    store.publish([staged])
    store.delete(staged.blob_hash)
    assert not store.has(staged.blob_hash)
    store.delete(staged.blob_hash)  # absent is fine
    store.delete("0" * 64)
    with pytest.raises(BlobNotFound):
        store.stat(staged.blob_hash)
    with pytest.raises(BlobNotFound):
        store.open(staged.blob_hash)
    with pytest.raises(BlobNotFound):
        store.hash_of(staged.blob_hash)
    assert list(store.list()) == []


def test_list_ignores_temp_and_foreign_files(tmp_path: Path, store: LocalBlobStore) -> None:
    staged = store.stage(_source(tmp_path, "a", b"listed"))
    store.publish([staged])
    pending = store.stage(_source(tmp_path, "b", b"still staged"))
    (store.root / "README").write_text("not a blob")
    (store.root / staged.blob_hash[:2] / "junk.txt").write_text("not a blob")
    assert list(store.list()) == [staged.blob_hash]
    store.discard([pending])
    assert not pending.temp.exists()


def test_bad_hashes_are_refused() -> None:
    assert blob_key("ab" + "0" * 62) == "ab/ab" + "0" * 62
    for bad in ("", "../../etc/passwd", "AB" + "0" * 62, "0" * 63, "g" * 64):
        with pytest.raises(ValueError):
            blob_key(bad)


def test_clean_temp_removes_leftovers(tmp_path: Path, store: LocalBlobStore) -> None:
    leftover = store.stage(_source(tmp_path, "a", b"interrupted"))
    (store.temp_dir / "crash.part").write_bytes(b"half")
    assert store.clean_temp() == 2
    assert _temps(store) == []
    assert not leftover.temp.exists()
    assert list(store.list()) == []
    assert store.clean_temp() == 0


def test_missing_source(tmp_path: Path, store: LocalBlobStore) -> None:
    with pytest.raises(SourceError, match="vanished"):
        store.stage(tmp_path / "nope")
    assert _temps(store) == []


def test_special_files_are_refused(tmp_path: Path, store: LocalBlobStore) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(SourceError, match="not a regular file"):
        store.stage(fifo)  # must not block on the pipe
    with pytest.raises(SourceError, match="not a regular file"):
        store.stage(tmp_path)  # a directory
    sock_path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        with pytest.raises(SourceError, match="not a regular file"):
            store.stage(sock_path)
    assert _temps(store) == []


def test_symlink_loop_source(tmp_path: Path, store: LocalBlobStore) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(SourceError, match="points to itself"):
        store.stage(loop)


def test_unreadable_source(tmp_path: Path, store: LocalBlobStore) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads files regardless of their permission bits")
    path = _source(tmp_path, "secret", b"x")
    path.chmod(0)
    try:
        with pytest.raises(SourceError, match="permission denied"):
            store.stage(path)
    finally:
        path.chmod(0o600)
    assert _temps(store) == []


def test_publish_failure_discards_the_batch(tmp_path: Path, store: LocalBlobStore) -> None:
    staged = store.stage(_source(tmp_path, "a", b"cannot land"))
    # A file where the blob's prefix directory must go makes the rename fail.
    (store.root / staged.blob_hash[:2]).write_text("in the way")
    with pytest.raises(StoreError, match="could not store content in the vault"):
        store.publish([staged])
    assert not staged.temp.exists()
    assert not store.has(staged.blob_hash)


def test_publish_of_nothing_is_a_no_op(store: LocalBlobStore) -> None:
    store.publish([])
    assert list(store.list()) == []
