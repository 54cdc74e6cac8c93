"""Sync: blobs to the bucket, resumable uploads, offline, and catalog snapshots.

Runs against a real S3 endpoint (moto's server, started once for the module; see
``tests/s3server.py``), a fresh bucket per test. Requests are counted through the
client's event hooks, so "nothing was sent" is checked on the wire.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import secrets
import sqlite3
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from app import sync as sync_module
from app.catalog.models import Blob
from app.cli import main
from app.core import FileLock
from app.remote import RemoteConfig, save_remote
from app.sync import SyncBusy, Syncer, SyncProgress
from app.vault import Vault
from storage import s3 as s3_module
from storage.s3 import S3BlobStore
from storage.s3_client import RemoteSpec
from tests.helpers.buckets import blob_rows, object_keys
from tests.helpers.requests_log import RequestLog
from tests.s3server import down_url

MiB = 1 << 20
BIG = 6 * MiB + 123  # two parts of 5 MiB


pytestmark = pytest.mark.usefixtures("aws_chain")


def _store(spec: RemoteSpec) -> S3BlobStore:
    return S3BlobStore(
        spec, None, multipart_threshold=5 * MiB, part_size=5 * MiB, sleep=lambda _: None
    )


def _import(vault: Vault, tmp_path: Path, small: int = 30, big: bool = True) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(small):
        (src / f"note-{i:02}.txt").write_bytes(f"file {i} {secrets.token_hex(8)}\n".encode())
    if big:
        (src / "movie.bin").write_bytes(os.urandom(BIG))
    report = vault.import_paths([src])
    assert report.ok, report.failed


def test_sync_uploads_every_blob_then_nothing(
    remote_vault: Vault, spec: RemoteSpec, raw: Any, tmp_path: Path
) -> None:
    vault = remote_vault
    _import(vault, tmp_path)
    seen: list[SyncProgress] = []
    report = Syncer(vault, _store(spec), progress=seen.append).run()

    assert report.ok and report.status == "up to date"
    assert report.uploaded == 31 and report.failed == [] and report.already_present == 0
    rows = blob_rows(vault)
    assert len(rows) == 31
    assert all(r.remote_state == "completed" and r.upload_id is None for r in rows)
    keys = object_keys(raw, spec.bucket, "vault/blobs/")
    assert sorted(k.rsplit("/", 1)[1] for k in keys) == [r.hash for r in rows]
    for key in keys:
        body = raw.get_object(Bucket=spec.bucket, Key=key)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == key.rsplit("/", 1)[1]
    assert seen[-1].status == "up to date"
    assert seen[-1].files_done == seen[-1].files_total == 31
    assert seen[-1].bytes_done == seen[-1].bytes_total == sum(r.size for r in rows)

    # The snapshot: a gzip of an SQLite catalog with the same files.
    assert report.snapshot_key is not None
    assert report.snapshot_key.startswith("vault/catalog/catalog-")
    packed = raw.get_object(Bucket=spec.bucket, Key=report.snapshot_key)["Body"].read()
    copy = tmp_path / "restored.sqlite3"
    copy.write_bytes(gzip.decompress(packed))
    with sqlite3.connect(copy) as db:
        assert db.execute("SELECT count(*) FROM file").fetchone()[0] == 31
    db.close()
    assert list(vault.paths.cache.glob(".catalog-*")) == []  # temp files cleaned up

    # A second sync has nothing to upload.
    store = _store(spec)
    requests = RequestLog(store.client)
    again = Syncer(vault, store).run(snapshot=False)
    assert again.ok and again.uploaded == 0 and again.already_present == 0
    assert not {"PutObject", "UploadPart", "HeadObject"} & set(requests.ops())


def test_blobs_pruned_behind_our_back_are_sent_again(
    remote_vault: Vault, spec: RemoteSpec, raw: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit walks the bucket's listing beside the catalog, a page at a time."""
    vault = remote_vault
    _import(vault, tmp_path, small=40, big=False)
    assert Syncer(vault, _store(spec)).run(snapshot=False).ok
    hashes = [r.hash for r in blob_rows(vault)]
    pruned = set(hashes[::7])  # first, last pages and in between
    for blob_hash in pruned:
        raw.delete_object(Bucket=spec.bucket, Key=_store(spec).key(blob_hash))
    monkeypatch.setattr(sync_module, "AUDIT_PAGE", 3)

    store = _store(spec)
    requests = RequestLog(store.client)
    report = Syncer(vault, store).run(snapshot=False)

    assert report.ok and report.lost_remote == len(pruned) == report.uploaded, report
    sent = set(requests.keys("PutObject"))
    assert sent == {store.key(h) for h in pruned}
    keys = {k.rsplit("/", 1)[1] for k in object_keys(raw, spec.bucket, "vault/blobs/")}
    assert keys == set(hashes)

    # Without the audit, the next sync does not list the bucket at all.
    quiet = _store(spec)
    listed = RequestLog(quiet.client)
    assert Syncer(vault, quiet, audit=False).run(snapshot=False).ok
    assert "ListObjectsV2" not in listed.ops()


def test_blob_already_in_bucket_is_not_sent(
    remote_vault: Vault, spec: RemoteSpec, raw: Any, tmp_path: Path
) -> None:
    vault = remote_vault
    _import(vault, tmp_path, small=2, big=False)
    first = blob_rows(vault)[0]
    store = _store(spec)
    store.put(first.hash, vault.blobs.path(first.hash), first.size)
    requests = RequestLog(store.client)

    report = Syncer(vault, store).run(snapshot=False)

    assert report.ok and report.already_present == 1 and report.uploaded == 1
    puts = requests.keys("PutObject")
    assert puts == [store.key(r.hash) for r in blob_rows(vault) if r.hash != first.hash]
    assert all(r.remote_state == "completed" for r in blob_rows(vault))


def test_a_listing_answers_for_the_batches_it_reaches(
    remote_vault: Vault, spec: RemoteSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches go through the hashes in order, and a listing page answers for every
    batch up to its last key: where it stops, a batch lists anew from its first hash.
    What a page shows is asked about (a HEAD), and what it does not show is sent
    without asking."""
    vault = remote_vault
    _import(vault, tmp_path, small=40, big=False)
    monkeypatch.setattr(sync_module, "BATCH", 8)
    monkeypatch.setattr(sync_module, "LIST_FROM", 2)
    monkeypatch.setattr(s3_module, "LIST_PAGE", 5)
    rows = blob_rows(vault)
    store = _store(spec)
    there = rows[20:26]  # another computer sent these already
    for row in there:
        store.put(row.hash, vault.blobs.path(row.hash), row.size)
    requests = RequestLog(store.client)

    report = Syncer(vault, store, audit=False).run(snapshot=False)

    assert report.ok and report.uploaded == 34 and report.already_present == 6, report
    names = requests.ops()
    # The first page (from rows[0]) ends at rows[24]: batches 1-3 of 8 use it; batch 4
    # (rows 24-31) lists from rows[24], a last page that batch 5 uses too.
    assert names.count("ListObjectsV2") == 2
    heads = requests.keys("HeadObject")
    assert sorted(heads) == sorted(store.key(r.hash) for r in there)
    sent = set(requests.keys("PutObject"))
    assert sent == {store.key(r.hash) for r in rows if r not in there}


def _crashed_upload(
    vault: Vault, raw: Any, bucket: str, key: str, blob: Any, algorithm: str
) -> str:
    """A multipart upload holding part 1 of ``blob``, as a crash mid-upload leaves it."""
    part = vault.blobs.path(blob.hash).read_bytes()[: 5 * MiB]
    checksum: dict[str, str] = {}
    created: dict[str, str] = {}
    if algorithm == "SHA256":
        created = {"ChecksumAlgorithm": "SHA256"}
        checksum = {"ChecksumSHA256": base64.b64encode(hashlib.sha256(part).digest()).decode()}
    else:
        created = {"ChecksumAlgorithm": "CRC32"}
        crc = zlib.crc32(part).to_bytes(4, "big")
        checksum = {"ChecksumCRC32": base64.b64encode(crc).decode()}
    upload_id = str(raw.create_multipart_upload(Bucket=bucket, Key=key, **created)["UploadId"])
    raw.upload_part(
        Bucket=bucket,
        Key=key,
        UploadId=upload_id,
        PartNumber=1,
        Body=part,
        **checksum,
    )
    with vault.writing() as session:
        session.execute(
            update(Blob)
            .where(Blob.hash == blob.hash)
            .values(remote_state="uploading", upload_id=upload_id)
        )
    return upload_id


@pytest.mark.parametrize("algorithm", ["SHA256", "CRC32"])
def test_interrupted_multipart_upload_resumes(
    remote_vault: Vault, spec: RemoteSpec, raw: Any, tmp_path: Path, algorithm: str
) -> None:
    """Parts already sent are kept, whichever checksum the upload was started with
    (uploads begun before part checksums became CRC32 used SHA-256)."""
    vault = remote_vault
    _import(vault, tmp_path, small=0, big=True)
    (blob,) = blob_rows(vault)
    store = _store(spec)
    key = store.key(blob.hash)
    _crashed_upload(vault, raw, spec.bucket, key, blob, algorithm)
    requests = RequestLog(store.client)

    report = Syncer(vault, store).run(snapshot=False)

    assert report.ok and report.uploaded == 1
    parts = requests.parts_sent()
    assert parts == [2]
    assert "CreateMultipartUpload" not in requests.ops()
    assert "ListParts" in requests.ops()
    (after,) = blob_rows(vault)
    assert after.remote_state == "completed" and after.upload_id is None
    body = raw.get_object(Bucket=spec.bucket, Key=key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == blob.hash


def test_offline_leaves_blobs_pending(
    remote_vault: Vault, spec: RemoteSpec, tmp_path: Path
) -> None:
    vault = remote_vault
    _import(vault, tmp_path, small=5, big=False)
    seen: list[SyncProgress] = []

    report = Syncer(
        vault, _store(replace(spec, endpoint_url=down_url())), workers=2, progress=seen.append
    ).run()

    assert report.status == "offline" and not report.ok
    assert report.failed == [] and report.snapshot_key is None
    assert all(
        r.remote_state == "pending" and r.attempts == 0 and r.last_error is None
        for r in blob_rows(vault)
    )
    assert seen[-1].status == "offline"


def test_damaged_local_copy_fails_then_is_retried(
    remote_vault: Vault, spec: RemoteSpec, raw: Any, tmp_path: Path
) -> None:
    vault = remote_vault
    _import(vault, tmp_path, small=3, big=False)
    victim = blob_rows(vault)[1]
    path = vault.blobs.path(victim.hash)
    good = path.read_bytes()
    path.chmod(0o644)
    path.write_bytes(good[::-1] + b"x")

    report = Syncer(vault, _store(spec)).run()

    assert report.status == "error" and report.snapshot_key is None
    assert [h for h, _ in report.failed] == [victim.hash]
    assert "damaged" in report.failed[0][1] and "verify" in report.failed[0][1]
    row = next(r for r in blob_rows(vault) if r.hash == victim.hash)
    assert (
        row.remote_state == "failed" and row.attempts == 1 and "damaged" in (row.last_error or "")
    )
    assert object_keys(raw, spec.bucket, "vault/catalog/") == []

    path.write_bytes(good)
    again = Syncer(vault, _store(spec)).run()
    assert again.ok and again.uploaded == 1 and again.snapshot_key is not None
    row = next(r for r in blob_rows(vault) if r.hash == victim.hash)
    assert row.remote_state == "completed" and row.last_error is None


def test_only_the_newest_snapshots_are_kept(
    remote_vault: Vault, spec: RemoteSpec, raw: Any, tmp_path: Path
) -> None:
    vault = remote_vault
    _import(vault, tmp_path, small=1, big=False)
    keys = [
        Syncer(vault, _store(spec), keep_snapshots=2).run(force_snapshot=True).snapshot_key
        for _ in range(3)
    ]
    assert all(keys) and len(set(keys)) == 3
    left = object_keys(raw, spec.bucket, "vault/catalog/")
    assert len(left) == 2 and keys[-1] in left
    # Unchanged catalog, no force: no new snapshot.
    assert Syncer(vault, _store(spec)).run().snapshot_key is None


def test_cli_sync(
    remote_vault: Vault,
    spec: RemoteSpec,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    vault = remote_vault
    _import(vault, tmp_path, small=3, big=False)
    home = str(vault.paths.data)
    vault.close()

    code = main(["--vault", home, "sync", "--workers", "2", "--no-snapshot", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(captured.out)
    assert data["ok"] and data["uploaded"] == 3 and data["snapshot"] is None

    code = main(["--vault", home, "sync"])
    captured = capsys.readouterr()
    assert code == 0 and "Uploaded 0 files" in captured.out
    assert "Catalog snapshot: vault/catalog/" in captured.out


def test_cli_sync_offline_and_without_remote(
    vault: Vault, spec: RemoteSpec, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import(vault, tmp_path, small=1, big=False)
    home = str(vault.paths.data)
    paths = vault.paths
    vault.close()

    assert main(["--vault", home, "sync"]) == 1
    assert "no remote" in capsys.readouterr().err

    save_remote(paths, RemoteConfig(replace(spec, endpoint_url=down_url()), "chain"))
    assert main(["--vault", home, "sync", "--workers", "1"]) == 1
    captured = capsys.readouterr()
    assert "Offline" in captured.err and "Traceback" not in captured.err + captured.out


def test_a_second_sync_is_refused_while_one_runs(remote_vault: Vault, spec: RemoteSpec) -> None:
    held = FileLock(remote_vault.paths.data / ".sync.lock")
    assert held.try_exclusive() is True  # what a running sync holds
    try:
        with pytest.raises(SyncBusy, match="already running"):
            Syncer(remote_vault, _store(spec)).run()
    finally:
        held.close()
    assert Syncer(remote_vault, _store(spec)).run().status != "error"
