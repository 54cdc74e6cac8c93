"""The S3 store against a real HTTP endpoint: checksums, skip, multipart, resume,
verified downloads, retries and error translation."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, SSLError

from storage.errors import BlobNotFound, ChecksumMismatch, RemoteError
from storage.retry import classify, with_retries
from storage.s3 import MiB, S3BlobStore, _part_checksum, translate_error
from storage.s3_client import Credentials, RemoteSpec, make_client
from storage.share_objects import ShareBucket
from tests.conftest import spec_for
from tests.helpers.requests_log import RequestLog
from tests.s3server import S3Endpoint, down_url, moto_checks_keys


def _file(tmp_path: Path, data: bytes, name: str = "source.bin") -> tuple[Path, str]:
    path = tmp_path / name
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


@pytest.fixture
def store(spec: RemoteSpec, s3_credentials: Credentials) -> S3BlobStore:
    return S3BlobStore(spec, s3_credentials)


def _multipart_store(spec: RemoteSpec, credentials: Credentials) -> S3BlobStore:
    return S3BlobStore(spec, credentials, multipart_threshold=5 * MiB, part_size=5 * MiB)


def test_single_put_sends_the_checksum(store: S3BlobStore, tmp_path: Path) -> None:
    path, digest = _file(tmp_path, b"checksummed")
    log = RequestLog(store.client)
    store.put(digest, path, path.stat().st_size)
    (put,) = log.headers("PutObject")
    assert put["x-amz-checksum-sha256"] == base64.b64encode(bytes.fromhex(digest)).decode()
    assert "expect" not in put  # a small body is sent without waiting for "100 Continue"
    assert log.ops() == ["HeadObject", "PutObject", "HeadObject"]
    with store.open(digest) as handle:
        assert handle.read() == b"checksummed"


def test_wrong_hash_is_refused_and_nothing_stored(store: S3BlobStore, tmp_path: Path) -> None:
    path, _ = _file(tmp_path, b"what the file holds")
    claimed = hashlib.sha256(b"what the catalog thinks").hexdigest()
    log = RequestLog(store.client)
    with pytest.raises(ChecksumMismatch):
        store.put(claimed, path, path.stat().st_size)
    assert "PutObject" not in log.ops()
    assert list(store.list()) == []


def test_wrong_size_is_refused(store: S3BlobStore, tmp_path: Path) -> None:
    path, digest = _file(tmp_path, b"twelve bytes")
    with pytest.raises(ChecksumMismatch):
        store.put(digest, path, 11)
    assert list(store.list()) == []


def test_upload_is_skipped_when_present(store: S3BlobStore, tmp_path: Path) -> None:
    path, digest = _file(tmp_path, b"already uploaded")
    store.put(digest, path, path.stat().st_size)
    log = RequestLog(store.client)
    seen: list[int] = []
    store.put(digest, path, path.stat().st_size, progress=seen.append)
    assert log.ops() == ["HeadObject"]
    assert seen == []


def test_multipart_round_trip(
    spec: RemoteSpec, s3_credentials: Credentials, tmp_path: Path
) -> None:
    store = _multipart_store(spec, s3_credentials)
    data = os.urandom(11 * MiB + 123)  # the last part under 2 MiB
    path, digest = _file(tmp_path, data)
    log = RequestLog(store.client)
    ids: list[str] = []
    seen: list[int] = []
    store.put(digest, path, len(data), progress=seen.append, on_upload_id=ids.append)
    assert len(ids) == 1
    assert log.parts_sent() == [1, 2, 3]
    sent = log.headers("UploadPart")
    pieces = [data[: 5 * MiB], data[5 * MiB : 10 * MiB], data[10 * MiB :]]
    assert [h["x-amz-checksum-crc32"] for h in sent] == [
        _part_checksum("CRC32", piece) for piece in pieces
    ]
    assert [h.get("expect") for h in sent] == ["100-continue", "100-continue", None]
    assert sum(seen) == len(data)
    assert store.stat(digest) == len(data)
    target = tmp_path / "back.bin"
    store.download(digest, target)
    assert target.read_bytes() == data
    with store.open(digest, offset=5 * MiB - 3, length=6) as handle:
        assert handle.read() == data[5 * MiB - 3 : 5 * MiB + 3]


def test_upload_bodies_carry_a_signed_checksum_instead_of_a_payload_hash(
    spec: RemoteSpec, s3_credentials: Credentials, tmp_path: Path
) -> None:
    """Over plain http too, every body goes with a checksum header the service
    verifies, and that header is part of the signature: the body itself is not
    hashed a second time for the signature."""
    store = _multipart_store(spec, s3_credentials)
    log = RequestLog(store.client)
    for name in ("small.bin", "direct.bin"):  # the second goes direct
        small, small_hash = _file(tmp_path, name.encode(), name)
        store.put(small_hash, small, small.stat().st_size)
    big_data = os.urandom(6 * MiB)
    big, big_hash = _file(tmp_path, big_data, "big.bin")
    store.put(big_hash, big, len(big_data))
    ShareBucket(store).put_file(
        "shares/t/a.bin", io.BytesIO(b"shared"), content_type="text/plain", file_name="a.bin"
    )
    bodies = [(s.op, s.headers) for s in log.sent if s.op in ("PutObject", "UploadPart")]
    assert [op for op, _ in bodies] == [
        "PutObject",
        "PutObject",
        "UploadPart",
        "UploadPart",
        "PutObject",
    ]
    for _, headers in bodies:
        assert headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
        (checksum,) = [name for name in headers if name.startswith("x-amz-checksum-")]
        signed = headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
        assert checksum in signed
    assert store.stat(big_hash) == len(big_data)


def _botocore_calls(client: Any, op: str = "PutObject") -> list[str]:
    """Keys of the ``op`` requests that go through botocore's whole pipeline from now on."""
    keys: list[str] = []
    client.meta.events.register(
        f"before-parameter-build.s3.{op}", lambda params, **_: keys.append(params["Key"])
    )
    return keys


def test_small_puts_after_the_first_go_direct_with_the_same_request(
    spec: RemoteSpec, s3_credentials: Credentials, raw_client: Any, tmp_path: Path
) -> None:
    """botocore sends a store's first small PUT; the next ones skip its pipeline but
    carry the same headers, signed the same way, and arrive whole and checksummed."""
    store = S3BlobStore(spec, s3_credentials)
    log = RequestLog(store.client)
    through_botocore = _botocore_calls(store.client)
    files = [_file(tmp_path, f"file {i} ".encode() * (i + 1), f"f{i}.txt") for i in range(4)]
    for path, digest in files:
        store.put(digest, path, path.stat().st_size)

    assert log.keys("PutObject") == [store.key(digest) for _, digest in files]
    assert through_botocore == [store.key(files[0][1])]
    first, *direct = log.headers("PutObject")
    pipeline_only = {"amz-sdk-invocation-id", "amz-sdk-request"}
    for headers in direct:
        assert set(headers) == set(first) - pipeline_only
        assert headers["user-agent"] == first["user-agent"]
        assert headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
        signed = headers["authorization"].split("SignedHeaders=")[1].split(",")[0]
        assert signed == first["authorization"].split("SignedHeaders=")[1].split(",")[0]
    for path, digest in files:
        answer = raw_client.get_object(Bucket=spec.bucket, Key=store.key(digest))
        assert answer["Body"].read() == path.read_bytes()
        head = raw_client.head_object(
            Bucket=spec.bucket, Key=store.key(digest), ChecksumMode="ENABLED"
        )
        assert head["ChecksumSHA256"] == base64.b64encode(bytes.fromhex(digest)).decode()


def test_a_direct_put_fails_as_botocore_would(
    spec: RemoteSpec, s3_credentials: Credentials, raw_client: Any, tmp_path: Path
) -> None:
    """An error answer to a direct PUT is botocore's own exception, so it is retried
    or reported the same way: here, the bucket deleted behind the store's back."""
    store = S3BlobStore(spec, s3_credentials, attempts=1)
    path, digest = _file(tmp_path, b"first")
    store.put(digest, path, path.stat().st_size)
    raw_client.delete_object(Bucket=spec.bucket, Key=store.key(digest))
    raw_client.delete_bucket(Bucket=spec.bucket)
    through_botocore = _botocore_calls(store.client)
    try:
        later, later_digest = _file(tmp_path, b"second", "later.bin")
        with pytest.raises(RemoteError) as info:
            store.put(later_digest, later, later.stat().st_size, absent=True)
        assert info.value.kind == "no-bucket" and "NoSuchBucket" in str(info.value)
        assert isinstance(info.value.__cause__, store.client.exceptions.NoSuchBucket)
        assert through_botocore == []
    finally:
        raw_client.create_bucket(Bucket=spec.bucket)  # for the fixture's cleanup


class _Answer:
    """A raw HTTP body for a canned botocore answer."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        yield self.body


def test_a_redirected_direct_put_is_sent_again_by_botocore(
    store: S3BlobStore, tmp_path: Path
) -> None:
    """A service that answers a direct PUT with a redirect (a bucket in another
    region) gets it again from botocore, which follows redirects; the next PUTs go
    direct again to where botocore's went."""
    log = RequestLog(store.client)
    through_botocore = _botocore_calls(store.client)
    redirected: list[str] = []

    def redirect_once(request: Any, **_: Any) -> AWSResponse | None:
        if redirected or "amz-sdk-invocation-id" in request.headers:
            return None  # only the first direct request
        redirected.append(request.url)
        body = (
            b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>PermanentRedirect</Code>"
            b"<Message>Use the bucket's own endpoint.</Message></Error>"
        )
        return AWSResponse(request.url, 301, {"x-amz-bucket-region": "us-east-1"}, _Answer(body))

    store.client.meta.events.register("before-send.s3.PutObject", redirect_once)
    files = [_file(tmp_path, f"moved {i}".encode(), f"m{i}.txt") for i in range(4)]
    for path, digest in files:
        store.put(digest, path, path.stat().st_size)
        assert store.stat(digest) == path.stat().st_size

    keys = [store.key(digest) for _, digest in files]
    assert len(redirected) == 1
    assert log.keys("PutObject") == [keys[0], keys[1], keys[1], keys[2], keys[3]]
    assert through_botocore == [keys[0], keys[1]]


def test_downloads_after_the_first_go_direct(
    spec: RemoteSpec, s3_credentials: Credentials, tmp_path: Path
) -> None:
    """A store that has not sent anything yet (a restore on a new computer) has
    botocore fetch its first blob; the next GETs skip its pipeline, and what they
    bring is verified as before: a missing blob is BlobNotFound."""
    files = [_file(tmp_path, os.urandom(1000 * (i + 1)), f"g{i}.bin") for i in range(3)]
    for path, digest in files:
        S3BlobStore(spec, s3_credentials).put(digest, path, path.stat().st_size)
    store = S3BlobStore(spec, s3_credentials)
    log = RequestLog(store.client)
    through_botocore = _botocore_calls(store.client, "GetObject")
    for path, digest in files:
        target = tmp_path / f"{digest}.out"
        store.download(digest, target)
        assert target.read_bytes() == path.read_bytes()
    with pytest.raises(BlobNotFound):
        store.download("0" * 64, tmp_path / "missing.out")
    assert not (tmp_path / "missing.partial").exists()

    keys = [store.key(digest) for _, digest in files]
    assert log.keys("GetObject") == [*keys, store.key("0" * 64)]
    assert through_botocore == keys[:1]


class _Cut:
    """A raw HTTP body that ends early: ``give`` bytes of ``data``, then nothing."""

    def __init__(self, data: bytes, give: int) -> None:
        self.rest = data[:give]

    def read(self, amt: int | None = None, **_: Any) -> bytes:
        piece, self.rest = self.rest[: amt or None], self.rest[amt or len(self.rest) :]
        return piece

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        yield self.read()

    def close(self) -> None:
        self.rest = b""


def test_a_direct_download_cut_short_is_retried(
    spec: RemoteSpec, s3_credentials: Credentials, tmp_path: Path
) -> None:
    """A direct GET whose body ends before its Content-Length is retried from the
    start, as botocore's is, and only the whole blob lands."""
    sleeps: list[float] = []
    store = S3BlobStore(spec, s3_credentials, sleep=sleeps.append)
    data = os.urandom(70_000)
    path, digest = _file(tmp_path, data)
    store.put(digest, path, len(data))
    store.download(digest, tmp_path / "first.out")  # through botocore
    cut: list[str] = []

    def cut_once(request: Any, **_: Any) -> AWSResponse | None:
        if cut:
            return None
        cut.append(request.url)
        headers = {"Content-Length": str(len(data))}
        return AWSResponse(request.url, 200, headers, _Cut(data, 1000))

    store.client.meta.events.register("before-send.s3.GetObject", cut_once)
    through_botocore = _botocore_calls(store.client, "GetObject")
    seen: list[int] = []
    store.download(digest, tmp_path / "second.out", seen.append)
    assert (tmp_path / "second.out").read_bytes() == data
    assert len(cut) == 1 and len(sleeps) == 1 and through_botocore == []
    assert sum(seen) == len(data)


def test_a_direct_download_without_a_length_arrives_whole(
    spec: RemoteSpec, s3_credentials: Credentials, tmp_path: Path
) -> None:
    """A chunked answer (no Content-Length) is read to its end and then checked
    against the blob's hash, as botocore's would be."""
    store = S3BlobStore(spec, s3_credentials)
    data = os.urandom(70_000)
    path, digest = _file(tmp_path, data)
    store.put(digest, path, len(data))

    def chunked(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, {}, _Cut(data, len(data)))

    store.client.meta.events.register("before-send.s3.GetObject", chunked)
    through_botocore = _botocore_calls(store.client, "GetObject")
    store.download(digest, tmp_path / "whole.out")
    assert (tmp_path / "whole.out").read_bytes() == data
    assert through_botocore == []


@pytest.mark.parametrize("budget", [1, 2])
def test_uploads_together_hold_at_most_their_part_budget(
    spec: RemoteSpec, s3_credentials: Credentials, tmp_path: Path, budget: int
) -> None:
    """Three files going up at once, each allowed 3 parts in flight, share a budget
    of ``budget`` parts in memory: never more parts are sent at once, none waits
    on another forever, and every object arrives whole."""
    store = S3BlobStore(
        spec,
        s3_credentials,
        multipart_threshold=5 * MiB,
        part_size=5 * MiB,
        part_concurrency=3,
        parts_in_memory=budget,
    )
    lock = threading.Lock()
    sending = [0, 0]  # now, most

    def before(**_: Any) -> None:
        with lock:
            sending[0] += 1
            sending[1] = max(sending)

    def after(**_: Any) -> None:
        with lock:
            sending[0] -= 1

    store.client.meta.events.register("before-send.s3.UploadPart", before)
    store.client.meta.events.register("needs-retry.s3.UploadPart", after)
    files = [_file(tmp_path, os.urandom(16 * MiB + n), f"f{n}.bin") for n in range(3)]
    with ThreadPoolExecutor(3) as pool:
        done = [pool.submit(store.put, digest, path, path.stat().st_size) for path, digest in files]
        for future in done:
            future.result(timeout=120)
    assert 1 <= sending[1] <= budget
    for n, (path, digest) in enumerate(files):
        target = tmp_path / f"back{n}.bin"
        store.download(digest, target)
        assert target.read_bytes() == path.read_bytes()


def test_multipart_resume_sends_only_missing_parts(
    spec: RemoteSpec, s3_credentials: Credentials, tmp_path: Path
) -> None:
    data = os.urandom(12 * MiB)
    path, digest = _file(tmp_path, data)

    first = _multipart_store(spec, s3_credentials)

    def crash_on_part_two(request: Any, **_: Any) -> None:
        if "partNumber=2" in request.url:
            raise RuntimeError("the app was killed")

    first.client.meta.events.register("before-send.s3.UploadPart", crash_on_part_two)
    ids: list[str] = []
    with pytest.raises(RuntimeError, match="killed"):
        first.put(digest, path, len(data), on_upload_id=ids.append)
    (upload_id,) = ids  # what the catalog would have persisted

    second = _multipart_store(spec, s3_credentials)  # a new process, as it were
    log = RequestLog(second.client)
    more_ids: list[str] = []
    seen: list[int] = []
    second.put(
        digest,
        path,
        len(data),
        upload_id=upload_id,
        on_upload_id=more_ids.append,
        progress=seen.append,
    )
    assert more_ids == []  # the same upload went on
    assert "ListParts" in log.ops() and "CreateMultipartUpload" not in log.ops()
    assert log.parts_sent() == [2, 3]  # part 1 was not sent again
    assert sum(seen) == len(data)
    target = tmp_path / "back.bin"
    second.download(digest, target)
    assert target.read_bytes() == data


def test_upload_of_another_part_checksum_starts_over(
    spec: RemoteSpec, s3_credentials: Credentials, tmp_path: Path, raw_client: Any
) -> None:
    """Parts of an upload that names a checksum this store does not send cannot be
    added to: it is aborted and a new one begun."""
    store = _multipart_store(spec, s3_credentials)
    data = os.urandom(6 * MiB)
    path, digest = _file(tmp_path, data)
    key = store.key(digest)
    old = raw_client.create_multipart_upload(
        Bucket=spec.bucket, Key=key, ChecksumAlgorithm="CRC32C"
    )["UploadId"]

    def as_aws_answers(parsed: dict[str, Any], **_: Any) -> None:
        parsed["ChecksumAlgorithm"] = "CRC32C"  # moto's ListParts leaves it out

    store.client.meta.events.register("after-call.s3.ListParts", as_aws_answers)
    log = RequestLog(store.client)
    ids: list[str] = []
    store.put(digest, path, len(data), upload_id=old, on_upload_id=ids.append)
    assert len(ids) == 1 and ids[0] != old
    assert log.ops()[:4] == [
        "HeadObject",
        "ListParts",
        "AbortMultipartUpload",
        "CreateMultipartUpload",
    ]
    assert log.parts_sent() == [1, 2]
    uploads = raw_client.list_multipart_uploads(Bucket=spec.bucket).get("Uploads", [])
    assert old not in [u["UploadId"] for u in uploads]
    assert store.stat(digest) == len(data)


def test_unknown_upload_id_starts_over(
    spec: RemoteSpec, s3_credentials: Credentials, tmp_path: Path
) -> None:
    store = _multipart_store(spec, s3_credentials)
    data = os.urandom(6 * MiB)
    path, digest = _file(tmp_path, data)
    log = RequestLog(store.client)
    ids: list[str] = []
    store.put(digest, path, len(data), upload_id="no-such-upload-id", on_upload_id=ids.append)
    assert len(ids) == 1 and ids[0] != "no-such-upload-id"
    assert log.ops()[:3] == ["HeadObject", "ListParts", "CreateMultipartUpload"]
    assert log.parts_sent() == [1, 2]
    assert store.stat(digest) == len(data)


def test_multipart_of_a_changed_file_is_aborted(
    spec: RemoteSpec, s3_credentials: Credentials, tmp_path: Path, raw_client: Any
) -> None:
    store = _multipart_store(spec, s3_credentials)
    data = os.urandom(6 * MiB)
    path, _ = _file(tmp_path, data)
    claimed = hashlib.sha256(b"other").hexdigest()
    with pytest.raises(ChecksumMismatch):
        store.put(claimed, path, len(data))
    assert list(store.list()) == []
    assert raw_client.list_multipart_uploads(Bucket=spec.bucket).get("Uploads", []) == []


def test_unfinished_uploads_are_listed_and_aborted(
    store: S3BlobStore, spec: RemoteSpec, raw_client: Any
) -> None:
    key = store.key("a" * 64)
    upload_id = raw_client.create_multipart_upload(Bucket=spec.bucket, Key=key)["UploadId"]
    raw_client.create_multipart_upload(Bucket=spec.bucket, Key="vault/blobs/not-a-blob")
    started = raw_client.list_multipart_uploads(Bucket=spec.bucket)["Uploads"][0]["Initiated"]
    # (moto reports a fixed start time: ask relative to it, as a real service needs too)
    assert store.unfinished_uploads(started - timedelta(seconds=1)) == []
    [found] = store.unfinished_uploads(started + timedelta(seconds=1))
    assert (found.key, found.upload_id) == (key, upload_id)

    store.abort_upload(key, upload_id)
    store.abort_upload(key, upload_id)  # already gone: done, not an error
    left = raw_client.list_multipart_uploads(Bucket=spec.bucket).get("Uploads", [])
    assert [u["Key"] for u in left] == ["vault/blobs/not-a-blob"]


def test_download_rejects_a_tampered_object(
    store: S3BlobStore, spec: RemoteSpec, raw_client: Any, tmp_path: Path
) -> None:
    path, digest = _file(tmp_path, b"the original")
    store.put(digest, path, path.stat().st_size)
    raw_client.put_object(Bucket=spec.bucket, Key=store.key(digest), Body=b"the forgery!")
    target = tmp_path / "out" / "copy.bin"
    target.parent.mkdir()
    with pytest.raises(ChecksumMismatch):
        store.download(digest, target)
    assert list(target.parent.iterdir()) == []


def test_download_not_durable_writes_the_target_itself_and_only_when_verified(
    store: S3BlobStore, spec: RemoteSpec, raw_client: Any, tmp_path: Path
) -> None:
    """``durable=False`` (batched fetches): no .partial, no rename; a forgery leaves nothing."""
    path, digest = _file(tmp_path, b"batched bytes")
    store.put(digest, path, path.stat().st_size)
    out = tmp_path / "out"
    out.mkdir()
    store.download(digest, out / "a.fetch", durable=False)
    assert [p.name for p in out.iterdir()] == ["a.fetch"]
    assert (out / "a.fetch").read_bytes() == b"batched bytes"

    raw_client.put_object(Bucket=spec.bucket, Key=store.key(digest), Body=b"forged bytes!")
    with pytest.raises(ChecksumMismatch):
        store.download(digest, out / "b.fetch", durable=False)
    assert [p.name for p in out.iterdir()] == ["a.fetch"]


def test_small_put_reads_the_file_into_memory_and_still_refuses_a_changed_one(
    store: S3BlobStore, tmp_path: Path
) -> None:
    """A small single PUT sends the bytes it hashed (one read of the file); a file whose
    bytes no longer match its name, or that grew, is never sent."""
    log = RequestLog(store.client)
    path, digest = _file(tmp_path, b"x" * 100_000)
    path.write_bytes(b"y" * 100_000)  # same size, other bytes
    with pytest.raises(ChecksumMismatch):
        store.put(digest, path, 100_000, absent=True)
    path.write_bytes(b"x" * 100_001)  # grew by a byte
    with pytest.raises(ChecksumMismatch):
        store.put(digest, path, 100_000, absent=True)
    assert "PutObject" not in log.ops()
    path.write_bytes(b"x" * 100_000)
    store.put(digest, path, 100_000, absent=True)
    assert log.ops() == ["PutObject"]
    assert store.open(digest).read() == b"x" * 100_000


def test_timestamps_are_parsed_zone_aware(store: S3BlobStore, tmp_path: Path) -> None:
    """``parse_time`` (the clients' timestamp parser) reads headers and listings alike."""
    from storage.s3_client import parse_time

    for text in ("Sat, 21 Nov 2026 10:00:00 GMT", "2026-11-21T10:00:00.000Z"):
        parsed = parse_time(text)
        assert parsed.utcoffset() == timedelta(0) and (parsed.hour, parsed.day) == (10, 21)
    path, digest = _file(tmp_path, b"when")
    store.put(digest, path, 4)
    head = store.client.head_object(Bucket=store.spec.bucket, Key=store.key(digest))
    listed = store.client.list_objects_v2(Bucket=store.spec.bucket)["Contents"][0]
    assert head["LastModified"].utcoffset() == listed["LastModified"].utcoffset() == timedelta(0)


def test_download_of_absent_blob(store: S3BlobStore, tmp_path: Path) -> None:
    with pytest.raises(BlobNotFound):
        store.download("0" * 64, tmp_path / "x")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("direct", [False, True])
def test_store_retries_a_dropped_connection(
    spec: RemoteSpec, s3_credentials: Credentials, tmp_path: Path, direct: bool
) -> None:
    """botocore's PUT and a direct one (after a first through botocore) alike."""
    sleeps: list[float] = []
    store = S3BlobStore(spec, s3_credentials, sleep=sleeps.append)
    if direct:
        first, first_digest = _file(tmp_path, b"through botocore", "first.bin")
        store.put(first_digest, first, first.stat().st_size)
    failures = iter([ConnectionResetError("reset by peer")])

    def flaky(**_: Any) -> None:
        exc = next(failures, None)
        if exc is not None:
            raise exc

    store.client.meta.events.register("before-send.s3.PutObject", flaky)
    through_botocore = _botocore_calls(store.client)
    path, digest = _file(tmp_path, b"second time lucky")
    store.put(digest, path, path.stat().st_size)
    assert len(sleeps) == 1
    assert through_botocore == ([] if direct else [store.key(digest)] * 2)
    assert store.stat(digest) == path.stat().st_size


# --- retry ---------------------------------------------------------------


def _client_error(status: int, code: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "PutObject",
    )


def test_with_retries_retries_5xx_then_succeeds() -> None:
    calls: list[int] = []
    sleeps: list[float] = []
    retried: list[int] = []

    def fn() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _client_error(503, "ServiceUnavailable")
        return "ok"

    result = with_retries(
        fn, base=0.5, cap=0.75, sleep=sleeps.append, on_retry=lambda n, e, d: retried.append(n)
    )
    assert result == "ok" and len(calls) == 3
    assert retried == [1, 2]
    assert all(0 <= s <= 0.75 for s in sleeps) and len(sleeps) == 2


def test_with_retries_does_not_retry_403() -> None:
    calls: list[int] = []

    def fn() -> None:
        calls.append(1)
        raise _client_error(403, "AccessDenied")

    with pytest.raises(ClientError):
        with_retries(fn, sleep=lambda _: pytest.fail("must not sleep"))
    assert calls == [1]


def test_with_retries_gives_up_after_the_budget() -> None:
    calls: list[int] = []

    def fn() -> None:
        calls.append(1)
        raise _client_error(500, "InternalError")

    with pytest.raises(ClientError):
        with_retries(fn, attempts=3, sleep=lambda _: None)
    assert len(calls) == 3


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (500, "InternalError", "retryable"),
        (503, "SlowDown", "retryable"),
        (429, "TooManyRequests", "retryable"),
        (400, "RequestTimeout", "retryable"),
        (400, "BadDigest", "permanent"),
        (403, "RequestTimeTooSkewed", "permanent"),
        (403, "SignatureDoesNotMatch", "permanent"),
        (404, "NoSuchBucket", "permanent"),
    ],
)
def test_classify_client_errors(status: int, code: str, kind: str) -> None:
    assert classify(_client_error(status, code)) == kind


def test_classify_other_errors() -> None:
    assert classify(ConnectionResetError()) == "retryable"
    assert classify(ValueError("bug")) == "permanent"


# --- errors --------------------------------------------------------------


@pytest.fixture
def moto_auth(s3: S3Endpoint, spec: RemoteSpec) -> Iterator[None]:
    """Make moto check credentials for the test (a real endpoint always does).

    Depends on ``spec`` so that the bucket is made before and deleted after.
    """
    with moto_checks_keys(s3):
        yield


def test_wrong_credentials(spec: RemoteSpec, moto_auth: None, tmp_path: Path) -> None:
    secret = "s3cr3t-that-must-not-leak"
    store = S3BlobStore(spec, Credentials("AKIAWRONGWRONGWRONG", secret))
    with pytest.raises(RemoteError) as info:
        store.check()
    assert info.value.kind == "credentials"
    assert info.value.hint
    assert secret not in str(info.value)
    with pytest.raises(RemoteError) as info:
        list(store.list())
    assert info.value.kind == "credentials" and secret not in str(info.value)
    path, digest = _file(tmp_path, b"x")
    with pytest.raises(RemoteError) as info:
        store.put(digest, path, 1)  # its HEAD gets a bare 403
    assert info.value.kind in ("credentials", "access-denied")
    assert secret not in str(info.value)


def test_missing_bucket(s3: S3Endpoint, s3_credentials: Credentials, tmp_path: Path) -> None:
    store = S3BlobStore(spec_for(s3, "mv-test-no-such-bucket"), s3_credentials)
    for action in (store.check, lambda: list(store.list())):
        with pytest.raises(RemoteError) as info:
            action()
        assert info.value.kind == "no-bucket"
        assert s3_credentials.secret_access_key not in str(info.value)
    path, digest = _file(tmp_path, b"nowhere to go")
    with pytest.raises(RemoteError) as info:
        store.put(digest, path, path.stat().st_size)
    assert info.value.kind == "no-bucket"


def test_endpoint_down(tmp_path: Path) -> None:
    secret = "another-secret-value"
    spec = RemoteSpec(
        bucket="mv-test-down",
        endpoint_url=down_url(),
        region="us-east-1",
        addressing_style="path",
    )
    credentials = Credentials("AKIAEXAMPLE", secret)
    client = make_client(spec, credentials, connect_timeout=1, read_timeout=1)
    sleeps: list[float] = []
    store = S3BlobStore(spec, credentials, client=client, attempts=2, sleep=sleeps.append)
    with pytest.raises(RemoteError) as info:
        store.check()
    assert info.value.kind == "unreachable" and info.value.retryable
    assert len(sleeps) == 1  # retried once, then gave up
    assert secret not in str(info.value) and secret not in info.value.hint
    path, digest = _file(tmp_path, b"offline")
    with pytest.raises(RemoteError) as info:
        store.put(digest, path, path.stat().st_size)
    assert info.value.kind == "unreachable"


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (_client_error(403, "RequestTimeTooSkewed"), "clock-skew"),
        (_client_error(400, "BadDigest"), "checksum"),
        (_client_error(403, "AccessDenied"), "access-denied"),
        (_client_error(403, "SignatureDoesNotMatch"), "credentials"),
        (_client_error(404, "NoSuchBucket"), "no-bucket"),
        (_client_error(503, "SlowDown"), "other"),
        (SSLError(endpoint_url="https://example.invalid", error="bad cert"), "tls"),
        (ConnectionResetError("reset"), "unreachable"),
    ],
)
def test_translate_error_kinds(error: BaseException, kind: str) -> None:
    translated = translate_error(error, "do it", secrets=("hunter2",))
    assert translated.kind == kind
    assert str(translated).startswith("could not do it: ")


def test_translate_error_masks_secrets() -> None:
    error = _client_error(400, "Weird")
    error.response["Error"]["Message"] = "echoing hunter2 back"
    assert "hunter2" not in str(translate_error(error, "do it", secrets=("hunter2",)))


def test_listed_part_must_match_to_be_reused() -> None:
    data = b"part bytes"
    md5 = '"' + hashlib.md5(data).hexdigest() + '"'
    usable = S3BlobStore._usable
    for algorithm in ("SHA256", "CRC32"):
        checksum = _part_checksum(algorithm, data)
        field = f"Checksum{algorithm}"
        assert usable({"Size": len(data), "ETag": md5}, data, algorithm, checksum)
        assert usable({"Size": len(data), "ETag": "x", field: checksum}, data, algorithm, checksum)
        assert not usable({"Size": len(data) - 1, "ETag": md5}, data, algorithm, checksum)
        wrong_md5 = '"' + "0" * 32 + '"'
        assert not usable({"Size": len(data), "ETag": wrong_md5}, data, algorithm, checksum)
        assert not usable(
            {"Size": len(data), "ETag": md5, field: "AAAA"}, data, algorithm, checksum
        )
        assert not usable(None, data, algorithm, checksum)
    assert (
        _part_checksum("SHA256", data) == base64.b64encode(hashlib.sha256(data).digest()).decode()
    )
    assert (
        _part_checksum("CRC32", b"123456789")
        == base64.b64encode(bytes.fromhex("cbf43926")).decode()
    )
