"""Cleanup: stale multipart uploads, stuck and failed uploads, unused blobs in the bucket.

Runs against a real S3 endpoint (moto's server, started once for the module; see
``tests/s3server.py``), a fresh bucket per test. What is in the bucket before and
after is read with a plain client, behind the cleaner's back. Ages of uploads are
measured against the time the service itself reports (moto reports a fixed
one), through the cleaner's injectable clock: no test depends on the real time.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from sqlalchemy import select, update

from app.catalog.models import Blob
from app.cleanup import Cleaner, CleanupReport
from app.cli import main
from app.core import FileLock
from app.errors import StorageError
from app.remote import RemoteConfig, save_remote
from app.sync import SyncBusy, Syncer
from app.vault import Vault
from storage.blobstore import blob_key
from storage.s3 import S3BlobStore
from storage.s3_client import RemoteSpec
from tests.helpers.buckets import object_keys
from tests.s3server import down_url

pytestmark = pytest.mark.usefixtures("aws_chain")


def _store(spec: RemoteSpec) -> S3BlobStore:
    return S3BlobStore(spec, None, sleep=lambda _: None)


def _import(vault: Vault, tmp_path: Path, names: list[str], folder: str = "src") -> None:
    src = tmp_path / folder
    src.mkdir()
    for name in names:
        (src / name).write_bytes(f"{name} {secrets.token_hex(8)}\n".encode())
    report = vault.import_paths([src])
    assert report.ok, report.failed


def _hash_of(vault: Vault, path: str) -> str:
    _, file_id = vault.resolve(path)
    versions = vault.versions(file_id)
    return versions[-1].blob_hash


def _blobs(vault: Vault) -> list[tuple[Any, ...]]:
    with vault.reading() as session:
        return [
            (r.hash, r.remote_state, r.attempts, r.last_error, r.upload_id)
            for r in session.scalars(select(Blob).order_by(Blob.hash))
        ]


def _uploads(raw: Any, bucket: str) -> list[tuple[str, str]]:
    page = raw.list_multipart_uploads(Bucket=bucket)
    return sorted((u["Key"], u["UploadId"]) for u in page.get("Uploads", []))


def _put_blob(raw: Any, spec: RemoteSpec, data: bytes) -> str:
    """Put ``data`` in the bucket as a blob no catalog knows; its hash."""
    blob_hash = hashlib.sha256(data).hexdigest()
    raw.put_object(Bucket=spec.bucket, Key=spec.key("blobs", blob_key(blob_hash)), Body=data)
    return blob_hash


def _start_upload(raw: Any, spec: RemoteSpec, key: str) -> tuple[str, datetime]:
    """Start a multipart upload to ``key``: its id and when the service says it started."""
    upload_id = str(raw.create_multipart_upload(Bucket=spec.bucket, Key=key)["UploadId"])
    (initiated,) = [
        u["Initiated"]
        for u in raw.list_multipart_uploads(Bucket=spec.bucket).get("Uploads", [])
        if u["UploadId"] == upload_id
    ]
    return upload_id, initiated


def _set_state(vault: Vault, blob_hash: str, **values: Any) -> None:
    with vault.writing() as session:
        session.execute(update(Blob).where(Blob.hash == blob_hash).values(**values))


def _synced(vault: Vault, spec: RemoteSpec, tmp_path: Path, names: list[str]) -> None:
    _import(vault, tmp_path, names)
    report = Syncer(vault, _store(spec)).run(force_snapshot=True)
    assert report.ok and report.snapshot_key, report


# -- unused blobs ------------------------------------------------------------------


def test_unused_blob_is_deleted_and_nothing_else(
    remote_vault: Vault, spec: RemoteSpec, raw: Any, tmp_path: Path
) -> None:
    vault = remote_vault
    _synced(vault, spec, tmp_path, ["a.txt", "b.txt"])
    orphan = _put_blob(raw, spec, b"nobody uses me")
    stray = hashlib.sha256(b"stray").hexdigest()
    foreign = [
        "vault/blobs/README.txt",  # under the blob prefix, not a blob's name
        f"vault/blobs/zz/{stray}",  # a hash in the wrong directory
        f"vault/blobs/{stray}",  # a hash without its directory
        f"vault/catalog/{stray}",  # beside the snapshots
        f"vault/other/{stray[:2]}/{stray}",
        f"elsewhere/blobs/{blob_key(stray)}",  # outside the prefix
        f"blobs/{blob_key(stray)}",
    ]
    for key in foreign:
        raw.put_object(Bucket=spec.bucket, Key=key, Body=b"not mine")
    before = object_keys(raw, spec.bucket)
    used = [_hash_of(vault, "/src/a.txt"), _hash_of(vault, "/src/b.txt")]

    report = Cleaner(vault, _store(spec)).run()

    assert report.ok and not report.dry_run
    assert [(b.hash, b.key, b.size) for b in report.deleted] == [
        (orphan, spec.key("blobs", blob_key(orphan)), len(b"nobody uses me"))
    ]
    assert report.deleted_bytes == len(b"nobody uses me")
    assert report.snapshots == 1 and report.kept_for_snapshots == 0
    after = object_keys(raw, spec.bucket)
    assert after == [k for k in before if k != spec.key("blobs", blob_key(orphan))]
    for blob_hash in used:
        assert spec.key("blobs", blob_key(blob_hash)) in after
    assert all(k in after for k in foreign)
    # Done: a second run finds nothing.
    assert Cleaner(vault, _store(spec)).run().deleted == []


def test_blob_used_only_by_a_retained_snapshot_is_kept(
    remote_vault: Vault, spec: RemoteSpec, raw: Any, tmp_path: Path
) -> None:
    vault = remote_vault
    _synced(vault, spec, tmp_path, ["old.txt", "keep.txt"])
    old = _hash_of(vault, "/src/old.txt")
    old_key = spec.key("blobs", blob_key(old))
    (first_snapshot,) = object_keys(raw, spec.bucket, "vault/catalog/")
    vault.delete_path("/src/old.txt")
    vault.empty_trash()  # the current catalog forgets the blob
    assert old not in {row[0] for row in _blobs(vault)}
    report = Syncer(vault, _store(spec)).run()  # a newer snapshot without it
    assert report.snapshot_key and report.snapshot_key != first_snapshot

    kept = Cleaner(vault, _store(spec)).run()

    assert kept.ok and kept.deleted == [] and kept.kept_for_snapshots == 1
    assert kept.snapshots == 2
    assert old_key in object_keys(raw, spec.bucket)

    # Once that snapshot is pruned, nothing refers to the blob any more.
    raw.delete_object(Bucket=spec.bucket, Key=first_snapshot)
    gone = Cleaner(vault, _store(spec)).run()
    assert [b.hash for b in gone.deleted] == [old] and gone.kept_for_snapshots == 0
    assert old_key not in object_keys(raw, spec.bucket)
    assert spec.key("blobs", blob_key(_hash_of(vault, "/src/keep.txt"))) in object_keys(
        raw, spec.bucket
    )


def test_blob_of_a_file_in_the_trash_is_kept(
    remote_vault: Vault, spec: RemoteSpec, raw: Any, tmp_path: Path
) -> None:
    vault = remote_vault
    _synced(vault, spec, tmp_path, ["first.txt"])  # a snapshot that does not know it
    _import(vault, tmp_path, ["trashed.txt"], folder="later")
    trashed = _hash_of(vault, "/later/trashed.txt")
    store = _store(spec)
    store.put(trashed, vault.blobs.path(trashed), vault.blobs.path(trashed).stat().st_size)
    vault.delete_path("/later/trashed.txt")

    report = Cleaner(vault, store).run()

    assert report.ok and report.deleted == [] and report.kept_for_snapshots == 0
    assert spec.key("blobs", blob_key(trashed)) in object_keys(raw, spec.bucket)


def test_an_unreadable_snapshot_blocks_every_deletion(
    remote_vault: Vault, spec: RemoteSpec, raw: Any, tmp_path: Path
) -> None:
    vault = remote_vault
    _synced(vault, spec, tmp_path, ["a.txt"])
    orphan = _put_blob(raw, spec, b"orphan")
    damaged = "vault/catalog/catalog-20200101T000000-0badc0de.sqlite3.gz"
    raw.put_object(Bucket=spec.bucket, Key=damaged, Body=gzip.compress(b"not sqlite") + b"x")
    before = object_keys(raw, spec.bucket)

    report = Cleaner(vault, _store(spec)).run()

    assert not report.ok and report.deleted == []
    assert damaged in report.blocked
    assert object_keys(raw, spec.bucket) == before
    assert spec.key("blobs", blob_key(orphan)) in before
    assert list(vault.paths.cache.glob(".cleanup-*")) == []  # scratch copies removed


def test_no_snapshot_in_the_bucket_blocks_deletion(
    remote_vault: Vault, spec: RemoteSpec, raw: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    orphan = _put_blob(raw, spec, b"whose is this?")

    report = Cleaner(remote_vault, _store(spec)).run()

    assert not report.ok and report.deleted == [] and "no catalog snapshot" in report.blocked
    assert spec.key("blobs", blob_key(orphan)) in object_keys(raw, spec.bucket)

    assert main(["--vault", str(remote_vault.paths.data), "cleanup"]) == 1
    captured = capsys.readouterr()
    assert "No unused file was deleted" in captured.out
    assert "warning: nothing was deleted from the bucket" in captured.err
    assert spec.key("blobs", blob_key(orphan)) in object_keys(raw, spec.bucket)


def test_a_failing_delete_is_reported(
    remote_vault: Vault, spec: RemoteSpec, raw: Any, tmp_path: Path
) -> None:
    vault = remote_vault
    _synced(vault, spec, tmp_path, ["a.txt"])
    orphan = _put_blob(raw, spec, b"orphan")
    stuck = _hash_of(vault, "/src/a.txt")
    _set_state(vault, stuck, remote_state="uploading")
    store = _store(spec)

    def drop(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url=spec.endpoint_url)

    # The connection drops when the deleting starts (after everything was read).
    store.client.meta.events.register("before-send.s3.DeleteObject", drop)
    report = Cleaner(vault, store).run()

    assert not report.ok and report.deleted == []
    ((_, message),) = report.errors
    assert f"could not delete {orphan[:12]}" in message and "network" in message
    assert spec.key("blobs", blob_key(orphan)) in object_keys(raw, spec.bucket)
    assert report.reset == [stuck] and _blobs(vault)[0][1] == "pending"


# -- uploads -----------------------------------------------------------------------


def test_stale_multipart_uploads_are_aborted_fresh_ones_kept(
    remote_vault: Vault, spec: RemoteSpec, raw: Any, tmp_path: Path
) -> None:
    vault = remote_vault
    _import(vault, tmp_path, ["big.bin"])
    blob_hash = _hash_of(vault, "/src/big.bin")
    key = spec.key("blobs", blob_key(blob_hash))
    upload_id, initiated = _start_upload(raw, spec, key)
    foreign_id, _ = _start_upload(raw, spec, "vault/blobs/not-a-blob.iso")
    _set_state(vault, blob_hash, upload_id=upload_id)

    # An hour old: kept with the default 24 hours.
    an_hour_later = initiated + timedelta(hours=1)
    fresh = Cleaner(vault, _store(spec), clock=lambda: an_hour_later).run()
    assert fresh.ok and fresh.aborted == []
    assert (key, upload_id) in _uploads(raw, spec.bucket)

    # A second old, with --hours 0: aborted; the catalog forgets the id.
    a_second_later = initiated + timedelta(seconds=1)
    report = Cleaner(vault, _store(spec), clock=lambda: a_second_later).run(older_than=timedelta(0))
    assert report.ok
    assert [(u.key, u.upload_id) for u in report.aborted] == [(key, upload_id)]
    assert _uploads(raw, spec.bucket) == [("vault/blobs/not-a-blob.iso", foreign_id)]
    assert _blobs(vault)[0][4] is None  # upload_id
    assert _blobs(vault)[0][1] == "pending"


def test_uploads_left_uploading_go_back_to_pending(
    remote_vault: Vault, spec: RemoteSpec, tmp_path: Path
) -> None:
    vault = remote_vault
    _import(vault, tmp_path, ["a.txt", "b.txt"])
    stuck = _hash_of(vault, "/src/a.txt")
    _set_state(vault, stuck, remote_state="uploading", upload_id="resume-me")

    report = Cleaner(vault, _store(spec)).run()

    assert report.ok and report.reset == [stuck]
    row = next(r for r in _blobs(vault) if r[0] == stuck)
    assert row[1] == "pending" and row[4] == "resume-me"  # resumes at the next sync


def test_dry_run_changes_nothing(
    remote_vault: Vault, spec: RemoteSpec, raw: Any, tmp_path: Path
) -> None:
    vault = remote_vault
    _synced(vault, spec, tmp_path, ["a.txt", "b.txt", "c.txt"])
    orphan = _put_blob(raw, spec, b"orphan")
    stuck, failed = _hash_of(vault, "/src/a.txt"), _hash_of(vault, "/src/b.txt")
    _set_state(vault, stuck, remote_state="uploading", upload_id="u-1")
    _set_state(vault, failed, remote_state="failed", attempts=3, last_error="AccessDenied")
    upload_id, initiated = _start_upload(raw, spec, spec.key("blobs", blob_key(orphan)))
    objects, uploads, rows = (
        object_keys(raw, spec.bucket),
        _uploads(raw, spec.bucket),
        _blobs(vault),
    )

    report = Cleaner(vault, _store(spec), clock=lambda: initiated + timedelta(days=2)).run(
        dry_run=True, retry_failed=True
    )

    assert report.dry_run and report.ok
    assert [b.hash for b in report.deleted] == [orphan]
    assert [u.upload_id for u in report.aborted] == [upload_id]
    assert report.reset == [stuck]
    assert [(f.hash, f.attempts, f.last_error) for f in report.failed] == [
        (failed, 3, "AccessDenied")
    ]
    assert not report.retried
    assert object_keys(raw, spec.bucket) == objects
    assert _uploads(raw, spec.bucket) == uploads
    assert _blobs(vault) == rows


def test_failed_uploads_are_listed_and_retried(
    remote_vault: Vault, spec: RemoteSpec, tmp_path: Path
) -> None:
    vault = remote_vault
    _import(vault, tmp_path, ["a.txt", "b.txt"])
    failed = _hash_of(vault, "/src/b.txt")
    _set_state(vault, failed, remote_state="failed", attempts=2, last_error="AccessDenied")

    listed_only = Cleaner(vault, _store(spec)).run()
    assert listed_only.failed == [] and not listed_only.retried  # not asked for
    assert next(r for r in _blobs(vault) if r[0] == failed)[1] == "failed"

    report = Cleaner(vault, _store(spec)).run(retry_failed=True)

    (item,) = report.failed
    assert (item.hash, item.attempts, item.last_error) == (failed, 2, "AccessDenied")
    assert item.paths == ("/src/b.txt",)
    assert report.retried
    row = next(r for r in _blobs(vault) if r[0] == failed)
    assert row[1:4] == ("pending", 0, None)


# -- refusals and errors -------------------------------------------------------------


def test_refused_while_a_sync_runs(remote_vault: Vault, spec: RemoteSpec, raw: Any) -> None:
    orphan = _put_blob(raw, spec, b"orphan")
    held = FileLock(remote_vault.paths.data / ".sync.lock")
    assert held.try_exclusive() is True  # what a running sync holds
    try:
        with pytest.raises(SyncBusy, match="sync of this vault is running"):
            Cleaner(remote_vault, _store(spec)).run()
    finally:
        held.close()
    assert spec.key("blobs", blob_key(orphan)) in object_keys(raw, spec.bucket)


def test_unreachable_endpoint_changes_nothing(
    remote_vault: Vault, spec: RemoteSpec, tmp_path: Path
) -> None:
    vault = remote_vault
    _import(vault, tmp_path, ["a.txt"])
    stuck = _hash_of(vault, "/src/a.txt")
    _set_state(vault, stuck, remote_state="uploading")
    rows = _blobs(vault)

    with pytest.raises(StorageError) as caught:
        Cleaner(vault, _store(replace(spec, endpoint_url=down_url()))).run()

    assert "could not list unfinished uploads" in caught.value.message
    assert "network" in caught.value.hint
    assert _blobs(vault) == rows


# -- the command line ----------------------------------------------------------------


def test_cli_help_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cleanup", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--hours", "--dry-run", "--status", "--verbose", "--json", "examples:"):
        assert option in text
    assert "mediavault cleanup --dry-run" in text
    assert "next sync" in text  # what --status failed does


def test_cli_cleanup_text_json_and_dry_run(
    remote_vault: Vault,
    spec: RemoteSpec,
    raw: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    vault = remote_vault
    _synced(vault, spec, tmp_path, ["a.txt", "b.txt"])
    orphan = _put_blob(raw, spec, b"orphan!")
    orphan_key = spec.key("blobs", blob_key(orphan))
    failed = _hash_of(vault, "/src/b.txt")
    _set_state(vault, failed, remote_state="failed", attempts=4, last_error="boom: AccessDenied")
    home = str(vault.paths.data)
    vault.close()

    code = main(["--vault", home, "cleanup", "--dry-run", "--verbose", "--status", "failed"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Would delete 1 unused file (7 B)" in captured.out
    assert orphan_key in captured.out  # --verbose lists it
    assert failed[:12] in captured.out and "4 attempts" in captured.out
    assert "/src/b.txt" in captured.out and "boom: AccessDenied" in captured.out
    assert "Dry run: nothing was changed." in captured.out
    assert orphan_key in object_keys(raw, spec.bucket)

    code = main(["--vault", home, "cleanup"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Deleted 1 unused file (7 B)" in captured.out
    assert orphan_key not in captured.out  # counts only without --verbose
    assert orphan_key not in object_keys(raw, spec.bucket)

    code = main(["--vault", home, "cleanup", "--status", "failed", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(captured.out)
    assert data["ok"] and not data["dry_run"] and data["hours"] == 24
    assert data["deleted"] == [] and data["deleted_bytes"] == 0
    assert [(f["hash"], f["attempts"], f["paths"]) for f in data["failed"]] == [
        (failed, 4, ["/src/b.txt"])
    ]
    assert data["retried_failed"] is True and data["snapshots"] == 1
    with Vault.open(home) as reopened:
        assert next(r for r in _blobs(reopened) if r[0] == failed)[1] == "pending"


def test_cli_cleanup_refusals(
    vault: Vault, spec: RemoteSpec, raw: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import(vault, tmp_path, ["a.txt"])
    stuck = _hash_of(vault, "/src/a.txt")
    _set_state(vault, stuck, remote_state="uploading")
    home, paths = str(vault.paths.data), vault.paths
    rows = _blobs(vault)

    assert main(["--vault", home, "cleanup"]) == 1
    assert "no remote" in capsys.readouterr().err

    save_remote(paths, RemoteConfig(replace(spec, endpoint_url=down_url()), "chain"))
    assert main(["--vault", home, "cleanup", "--json"]) == 1
    captured = capsys.readouterr()
    assert "error: Cannot clean up the bucket: could not list unfinished uploads" in captured.err
    assert "hint: Check the network connection" in captured.err
    assert "Traceback" not in captured.err + captured.out and captured.out == ""
    assert _blobs(vault) == rows

    save_remote(paths, RemoteConfig(spec, "chain"))
    held = FileLock(paths.data / ".sync.lock")
    assert held.try_exclusive() is True
    try:
        assert main(["--vault", home, "cleanup"]) == 1
    finally:
        held.close()
    captured = capsys.readouterr()
    assert "sync of this vault is running" in captured.err and "Traceback" not in captured.err
    assert _blobs(vault) == rows

    assert main(["--vault", home, "cleanup", "--status", "pending"]) == 2
    assert main(["--vault", home, "cleanup", "--hours", "-1"]) == 2


def test_report_ok_reflects_errors() -> None:
    report = CleanupReport(dry_run=False, older_than=timedelta(hours=24))
    assert report.ok
    report.errors.append(("cleanup", "could not delete"))
    assert not report.ok


# -- shares (app/sharing.py) -----------------------------------------------------


def test_cli_cleanup_deletes_expired_share_objects_only(
    remote_vault: Vault,
    spec: RemoteSpec,
    raw: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from app.catalog.models import Share
    from app.core import now

    vault = remote_vault
    _synced(vault, spec, tmp_path, ["a.txt", "b.txt"])
    expired = vault.share_file(vault.resolve("/src/a.txt")[1])
    active = vault.share_file(vault.resolve("/src/b.txt")[1])
    request = vault.create_upload_request(vault.resolve_folder("/src"), timedelta(hours=1), 10)
    raw.put_object(Bucket=spec.bucket, Key=request.share.object_key + "x.txt", Body=b"late")
    with vault.writing() as session:
        session.execute(
            update(Share)
            .where(Share.id == expired.share.id)
            .values(expires_at=now() - timedelta(minutes=1))
        )
        # Long past the inbox's grace period: what is left there goes too.
        session.execute(
            update(Share)
            .where(Share.id == request.share.id)
            .values(expires_at=now() - timedelta(days=31))
        )
    home = str(vault.paths.data)
    shares_before = object_keys(raw, spec.bucket, "vault/shares/")

    code = main(["--vault", home, "cleanup", "--dry-run", "--verbose"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Would delete 1 expired share link and 1 file left in expired upload requests." in (
        captured.out
    )
    assert expired.share.object_key in captured.out
    assert object_keys(raw, spec.bucket, "vault/shares/") == shares_before

    code = main(["--vault", home, "cleanup", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(captured.out)
    assert data["shares_deleted"] == [expired.share.object_key]
    assert data["inbox_deleted"] == [request.share.object_key + "x.txt"]
    assert object_keys(raw, spec.bucket, "vault/shares/") == [active.share.object_key]
    assert object_keys(raw, spec.bucket, "vault/inbox/") == []
    # The blobs and the record stay; a second run has nothing left to do.
    assert len(object_keys(raw, spec.bucket, "vault/blobs/")) == 2
    assert vault.share(expired.share.id).status == "expired"
    assert main(["--vault", home, "cleanup", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["shares_deleted"] == [] and data["inbox_deleted"] == []
