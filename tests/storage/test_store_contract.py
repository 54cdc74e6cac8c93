"""One conformance suite for every blob store (STYLE.md §4): local and S3.

Each store gets a small adapter that stores a file and returns its hash, since
the local store writes by stage + publish and the S3 store by ``put``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage.blobstore import BlobStore
from storage.errors import BlobNotFound
from storage.local import LocalBlobStore
from storage.s3 import S3BlobStore
from storage.s3_client import Credentials, RemoteSpec


@dataclass
class Subject:
    store: BlobStore
    put: Callable[[Path], str]  # stores the file, returns its hash


def _local(tmp_path: Path) -> Subject:
    store = LocalBlobStore(tmp_path / "vault")

    def put(path: Path) -> str:
        staged = store.stage(path)
        store.publish([staged])
        return staged.blob_hash

    return Subject(store, put)


def _s3(spec: RemoteSpec, credentials: Credentials) -> Subject:
    store = S3BlobStore(spec, credentials)

    def put(path: Path) -> str:
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        store.put(digest, path, len(data))
        return digest

    return Subject(store, put)


@pytest.fixture(params=["local", "s3"])
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Subject:
    if request.param == "local":
        return _local(tmp_path)
    spec = request.getfixturevalue("spec")
    return _s3(spec, request.getfixturevalue("s3_credentials"))


@pytest.fixture
def write(tmp_path: Path) -> Callable[[bytes], Path]:
    counter = iter(range(1_000_000))

    def write(data: bytes) -> Path:
        path = tmp_path / "src" / f"file{next(counter)}"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        return path

    return write


def test_put_then_read(subject: Subject, write: Callable[[bytes], Path]) -> None:
    data = b"contract bytes\n" * 100
    digest = subject.put(write(data))
    assert digest == hashlib.sha256(data).hexdigest()
    assert subject.store.stat(digest) == len(data)
    with subject.store.open(digest) as handle:
        assert handle.read() == data
    assert list(subject.store.list()) == [digest]


def test_ranged_open(subject: Subject, write: Callable[[bytes], Path]) -> None:
    data = bytes(range(256)) * 4
    digest = subject.put(write(data))
    assert subject.store.features.ranged_reads
    with subject.store.open(digest, offset=10, length=5) as handle:
        assert handle.read(5) == data[10:15]
    with subject.store.open(digest, offset=1000) as handle:
        assert handle.read() == data[1000:]


def test_absent_blob(subject: Subject) -> None:
    absent = "0" * 64
    with pytest.raises(BlobNotFound):
        subject.store.stat(absent)
    with pytest.raises(BlobNotFound):
        subject.store.open(absent)
    assert list(subject.store.list()) == []


def test_delete_is_idempotent(subject: Subject, write: Callable[[bytes], Path]) -> None:
    digest = subject.put(write(b"to be deleted"))
    subject.store.delete(digest)
    with pytest.raises(BlobNotFound):
        subject.store.stat(digest)
    with pytest.raises(BlobNotFound):
        subject.store.open(digest)
    subject.store.delete(digest)  # again: fine
    subject.store.delete("f" * 64)  # never there: fine
    assert list(subject.store.list()) == []


def test_same_content_twice(subject: Subject, write: Callable[[bytes], Path]) -> None:
    first = subject.put(write(b"same"))
    second = subject.put(write(b"same"))
    assert first == second
    assert list(subject.store.list()) == [first]
    with subject.store.open(first) as handle:
        assert handle.read() == b"same"


def test_list_shows_exactly_what_is_there(subject: Subject, write: Callable[[bytes], Path]) -> None:
    hashes = {subject.put(write(f"blob {i}".encode())) for i in range(5)}
    hashes.add(subject.put(write(b"")))  # the empty blob is a blob too
    assert set(subject.store.list()) == hashes
    assert subject.store.stat(hashlib.sha256(b"").hexdigest()) == 0
    gone = sorted(hashes)[0]
    subject.store.delete(gone)
    assert sorted(subject.store.list()) == sorted(hashes - {gone})
