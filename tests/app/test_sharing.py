"""Sharing: download links, revoking, expiry, folder shares and the share records.

Against the suite's real S3 endpoint (moto's server over HTTP, or the one named
in the environment): links are fetched with ``urllib``, a plain HTTP client
that knows nothing of boto3, exactly as a recipient's browser would.

moto's server checks neither a pre-signed URL's expiry nor a POST policy's
conditions (``moto/s3/responses.py`` never reads ``X-Amz-Expires`` or the
policy); the expiry tests therefore move the vault's clock and let cleanup
delete the expired link's object, and the real-expiry test runs only against
another endpoint.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
import urllib.error
import urllib.request
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import select, update

import app.sharing
from app.catalog.models import Blob, Share
from app.cleanup import Cleaner
from app.core import now
from app.credentials import NoRemote
from app.errors import BlobMissing, NotFound, Refused
from app.sharing import KIND_DOWNLOAD, KIND_FOLDER_ZIP, parse_expiry
from app.sync import Syncer
from app.vault import Vault
from storage.s3_client import RemoteSpec
from storage.share_objects import ShareBucket, content_disposition
from tests.helpers.buckets import object_keys
from tests.helpers.cli import Runner
from tests.helpers.vaults import add_file

pytestmark = pytest.mark.usefixtures("aws_chain")

PHOTO = bytes(range(256)) * 300  # not text: no charset games on the way


def fetch(url: str) -> tuple[bytes, dict[str, str]]:
    """GET ``url`` with the standard library: body and headers (lower-case names)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(), {k.lower(): v for k, v in response.headers.items()}


def fetch_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_share_link_serves_the_exact_bytes_name_and_type(
    remote_vault: Vault, tmp_path: Path
) -> None:
    file_id = add_file(remote_vault, tmp_path, "Été à Paris.png", PHOTO)
    link = remote_vault.share_file(file_id, expires_in=timedelta(hours=2), note="for Ana")
    body, headers = fetch(link.url)
    assert body == PHOTO
    assert headers["content-type"] == remote_vault.file_info(file_id).mime
    disposition = headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Ete a Paris.png"')
    assert "filename*=UTF-8''" + "%C3%89t%C3%A9%20%C3%A0%20Paris.png" in disposition
    share = link.share
    assert (share.kind, share.file_id, share.note, share.status) == (
        KIND_DOWNLOAD,
        file_id,
        "for Ana",
        "active",
    )
    assert share.version_number == 1 and share.path == "/Été à Paris.png"
    assert share.object_key.startswith("vault/shares/") and share.object_key.endswith(
        "/Été à Paris.png"
    )
    assert (
        timedelta(hours=2) - timedelta(seconds=5) < share.expires_at - now() <= timedelta(hours=2)
    )
    query = parse_qs(urlsplit(link.url).query)
    assert query["X-Amz-Expires"] == ["7200"]


def test_revoke_stops_the_link_at_once(
    remote_vault: Vault, tmp_path: Path, raw: Any, spec: RemoteSpec
) -> None:
    file_id = add_file(remote_vault, tmp_path, "a.bin", PHOTO)
    link = remote_vault.share_file(file_id)
    assert fetch_status(link.url) == 200
    changes = remote_vault.revoke_share(link.share.id)
    assert changes.shares == {link.share.id} and changes.files == {file_id}
    assert fetch_status(link.url) in (403, 404)
    assert object_keys(raw, spec.bucket, "vault/shares/") == []
    revoked = remote_vault.share(link.share.id)
    assert revoked.status == "revoked" and revoked.revoked_at is not None
    assert remote_vault.revoke_share(link.share.id).shares == frozenset()  # idempotent
    with pytest.raises(Refused, match="revoked"):
        remote_vault.share_link(link.share.id)


def test_copy_link_again_signs_for_the_time_left(
    remote_vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file_id = add_file(remote_vault, tmp_path, "a.bin", PHOTO)
    link = remote_vault.share_file(file_id, expires_in=timedelta(hours=3))
    start = now()
    monkeypatch.setattr(app.sharing, "now", lambda: start + timedelta(hours=1))
    again = remote_vault.share_link(link.share.id)
    seconds = int(parse_qs(urlsplit(again.url).query)["X-Amz-Expires"][0])
    assert 2 * 3600 - 10 <= seconds <= 2 * 3600
    assert fetch(again.url)[0] == PHOTO
    # The catalog never holds a link (its snapshots travel to the bucket).
    with remote_vault.reading() as session:
        for row in session.scalars(select(Share)):
            assert "X-Amz-Signature" not in row.object_key and "http" not in row.object_key


def test_expired_link_is_refused_and_cleanup_deletes_its_object(
    remote_vault: Vault, tmp_path: Path, raw: Any, spec: RemoteSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    file_id = add_file(remote_vault, tmp_path, "a.bin", PHOTO)
    link = remote_vault.share_file(file_id, expires_in=timedelta(hours=1))
    keep = remote_vault.share_file(file_id, expires_in=timedelta(days=2))
    Syncer.for_vault(remote_vault).run()  # cleanup needs a snapshot in the bucket
    later = now() + timedelta(hours=1, minutes=1)
    monkeypatch.setattr(app.sharing, "now", lambda: later)
    with pytest.raises(Refused, match="expired"):
        remote_vault.share_link(link.share.id)
    assert [s.id for s in remote_vault.active_shares()] == [keep.share.id]
    assert remote_vault.share(link.share.id).status == "expired"
    from datetime import UTC

    cleaner = Cleaner.for_vault(remote_vault, clock=lambda: later.replace(tzinfo=UTC))
    dry = cleaner.run(dry_run=True)
    assert dry.shares_deleted == [link.share.object_key]
    assert fetch_status(link.url) == 200  # a dry run changes nothing
    report = cleaner.run()
    assert report.shares_deleted == [link.share.object_key] and report.ok
    assert fetch_status(link.url) in (403, 404)
    assert fetch(keep.url)[0] == PHOTO  # the active one stays
    assert object_keys(raw, spec.bucket, "vault/shares/") == [keep.share.object_key]


@pytest.mark.skipif(
    not os.environ.get("MEDIAVAULT_TEST_S3_ENDPOINT"),
    reason="moto's server does not check a pre-signed URL's expiry",
)
def test_a_short_signature_really_expires(remote_vault: Vault, tmp_path: Path) -> None:
    file_id = add_file(remote_vault, tmp_path, "a.bin", PHOTO)
    link = remote_vault.share_file(file_id, expires_in=timedelta(hours=1))
    bucket = remote_vault._share_bucket()
    short = bucket.presign_get(link.share.object_key, 2)
    assert fetch(short)[0] == PHOTO
    time.sleep(4)
    assert fetch_status(short) == 403


def test_expiry_range_is_one_hour_to_seven_days(remote_vault: Vault, tmp_path: Path) -> None:
    file_id = add_file(remote_vault, tmp_path, "a.bin", PHOTO)
    for wrong in (timedelta(minutes=59), timedelta(days=7, seconds=1)):
        with pytest.raises(Refused, match="1 hour to 7 days") as caught:
            remote_vault.share_file(file_id, expires_in=wrong)
        assert "7 days" in caught.value.hint
    link = remote_vault.share_file(file_id, expires_in=timedelta(days=7))
    assert parse_qs(urlsplit(link.url).query)["X-Amz-Expires"] == ["604800"]
    assert parse_expiry("36h") == timedelta(hours=36)
    assert parse_expiry("7d") == timedelta(days=7)
    with pytest.raises(ValueError):
        parse_expiry("soon")


def test_no_remote_says_how_to_set_one_up(vault: Vault, tmp_path: Path) -> None:
    file_id = add_file(vault, tmp_path, "a.bin", PHOTO)
    with pytest.raises(NoRemote) as caught:
        vault.share_file(file_id)
    assert "Settings" in caught.value.hint and "mediavault remote set" in caught.value.hint
    assert vault.list_shares(file_id) == []


def test_an_older_version_and_a_synced_evicted_blob(remote_vault: Vault, tmp_path: Path) -> None:
    file_id = add_file(remote_vault, tmp_path, "doc.bin", b"first content\n" * 100)
    second = tmp_path / "second.bin"
    second.write_bytes(b"second content\n" * 100)
    assert remote_vault.add_version(file_id, second).ok
    versions = {v.number: v for v in remote_vault.versions(file_id)}
    Syncer.for_vault(remote_vault).run()
    # Evicted here: the share is a server-side copy of the bucket's blob.
    first_hash = versions[1].blob_hash
    remote_vault.blobs.delete(first_hash)
    with remote_vault.writing() as session:
        session.execute(update(Blob).where(Blob.hash == first_hash).values(local_state="evicted"))
    link = remote_vault.share_file(file_id, version_id=versions[1].id)
    assert fetch(link.url)[0] == b"first content\n" * 100
    assert link.share.version_number == 1
    current = remote_vault.share_file(file_id)
    assert fetch(current.url)[0] == b"second content\n" * 100
    assert [s.id for s in remote_vault.list_shares(file_id)] == [current.share.id, link.share.id]


def test_a_damaged_local_blob_is_never_shared(
    remote_vault: Vault, tmp_path: Path, raw: Any, spec: RemoteSpec
) -> None:
    file_id = add_file(remote_vault, tmp_path, "a.bin", PHOTO)
    blob_hash = remote_vault.file_info(file_id).version.blob_hash
    path = remote_vault.blobs.path(blob_hash)
    path.chmod(0o644)
    path.write_bytes(b"tampered" + PHOTO[8:])
    with pytest.raises(BlobMissing, match="damaged"):
        remote_vault.share_file(file_id)
    assert object_keys(raw, spec.bucket, "vault/shares/") == []
    assert remote_vault.list_shares(file_id) == []


def test_missing_file_and_foreign_version(remote_vault: Vault, tmp_path: Path) -> None:
    a = add_file(remote_vault, tmp_path, "a.bin", b"a")
    b = add_file(remote_vault, tmp_path, "b.bin", b"b")
    with pytest.raises(NotFound):
        remote_vault.share_file(a, version_id=remote_vault.versions(b)[0].id)
    with pytest.raises(NotFound):
        remote_vault.share_file(9999)
    with pytest.raises(NotFound):
        remote_vault.revoke_share(9999)


def test_folder_as_one_link_per_file(remote_vault: Vault, tmp_path: Path) -> None:
    folder = remote_vault.makedirs("/Trip/Day 1")
    top = remote_vault.resolve_folder("/Trip")
    add_file(remote_vault, tmp_path, "a.bin", b"alpha", top)
    add_file(remote_vault, tmp_path, "b.bin", b"beta", folder)
    result = remote_vault.share_folder(top, timedelta(hours=5), "trip", as_zip=False)
    assert not result.zipped and not result.failed
    assert sorted(link.share.path for link in result.links) == ["/Trip/Day 1/b.bin", "/Trip/a.bin"]
    bodies = {link.share.path: fetch(link.url)[0] for link in result.links}
    assert bodies == {"/Trip/a.bin": b"alpha", "/Trip/Day 1/b.bin": b"beta"}
    assert {s.folder_id for s in remote_vault.list_shares(folder_id=top)} == {top}


def test_folder_as_one_zip(remote_vault: Vault, tmp_path: Path) -> None:
    folder = remote_vault.makedirs("/Trip/Day 1")
    top = remote_vault.resolve_folder("/Trip")
    add_file(remote_vault, tmp_path, "a.txt", b"alpha\n" * 50, top)
    big_id = add_file(remote_vault, tmp_path, "b.bin", PHOTO, folder)
    Syncer.for_vault(remote_vault).run()
    # One of them only in the bucket: the zip fetches it (verified) first.
    big = remote_vault.file_info(big_id).version.blob_hash
    remote_vault.blobs.delete(big)
    with remote_vault.writing() as session:
        session.execute(update(Blob).where(Blob.hash == big).values(local_state="evicted"))
    seen: list[tuple[int, int]] = []
    result = remote_vault.share_folder(
        top, as_zip=True, progress=lambda done, total: seen.append((done, total))
    )
    assert result.zipped and len(result.links) == 1 and not result.failed
    assert seen[-1] == (2, 2)
    link = result.links[0]
    assert link.share.kind == KIND_FOLDER_ZIP and link.share.name == "Trip.zip"
    assert link.share.file_id is None and link.share.folder_id == top
    body, headers = fetch(link.url)
    assert headers["content-type"] == "application/zip"
    assert 'filename="Trip.zip"' in headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        assert sorted(zf.namelist()) == ["Day 1/b.bin", "a.txt"]
        assert zf.read("Day 1/b.bin") == PHOTO
        assert hashlib.sha256(zf.read("a.txt")).digest() == hashlib.sha256(b"alpha\n" * 50).digest()
    assert not list(remote_vault.paths.cache.glob(".share-*"))  # scratch removed
    with pytest.raises(Refused, match="no file"):
        remote_vault.share_folder(remote_vault.makedirs("/Empty"), as_zip=True)


def test_active_shares_and_the_record(remote_vault: Vault, tmp_path: Path) -> None:
    a = add_file(remote_vault, tmp_path, "a.bin", b"a")
    b = add_file(remote_vault, tmp_path, "b.bin", b"b")
    first = remote_vault.share_file(a, expires_in=timedelta(days=3))
    second = remote_vault.share_file(b, expires_in=timedelta(hours=1))
    third = remote_vault.share_file(a, expires_in=timedelta(days=1))
    remote_vault.revoke_share(third.share.id)
    active = remote_vault.active_shares()
    assert [s.id for s in active] == [second.share.id, first.share.id]  # soonest expiry first
    history = remote_vault.list_shares(a)
    assert [(s.id, s.status) for s in history] == [
        (third.share.id, "revoked"),
        (first.share.id, "active"),
    ]
    assert remote_vault.shares_touching([a, b, 999]) == {a: 1, b: 1}


def test_content_disposition_fallbacks() -> None:
    assert content_disposition('a"b\\c.txt') == (
        "attachment; filename=\"a_b_c.txt\"; filename*=UTF-8''a%22b%5Cc.txt"
    )
    assert content_disposition("日本.pdf").startswith('attachment; filename=".pdf"')
    assert content_disposition("日本").startswith('attachment; filename="download"')
    assert unquote(content_disposition("Ünïcödé.jpg").split("''")[1]) == "Ünïcödé.jpg"


def test_share_bucket_refuses_an_overlong_signature(remote_vault: Vault) -> None:
    bucket: ShareBucket = remote_vault._share_bucket()
    with pytest.raises(ValueError):
        bucket.presign_get("vault/shares/x/y", 7 * 24 * 3600 + 1)


# -- the command line -----------------------------------------------------------


def test_cli_share_create_list_link_revoke(
    remote_vault: Vault, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = Runner(remote_vault.paths.data, capsys)
    file_id = add_file(remote_vault, tmp_path, "report.pdf", PHOTO)
    made = run.json("share", "create", "/report.pdf", "--expires", "12h", "--note", "for Bo")
    (link,) = made["links"]
    assert link["path"] == "/report.pdf" and link["note"] == "for Bo" and link["version"] == 1
    assert fetch(link["url"])[0] == PHOTO
    text = run.ok("share", "list")
    assert f"{link['id']:>5}  active" in text and "/report.pdf (version 1)" in text
    assert "“for Bo”" in text
    again = run.json("share", "link", str(link["id"]))
    assert fetch(again["url"])[0] == PHOTO
    assert "Revoked share" in run.ok("share", "revoke", str(link["id"]))
    assert fetch_status(link["url"]) in (403, 404)
    assert run.ok("share", "list") == "No active shares.\n"
    history = run.json("share", "list", "/report.pdf")
    assert [(s["id"], s["status"]) for s in history] == [(link["id"], "revoked")]
    run("share", "link", str(link["id"]))
    assert run.code == 1 and "revoked" in run.err and "Traceback" not in run.err
    run("share", "create", "/report.pdf", "--expires", "8d")
    assert run.code == 1 and "1 hour to 7 days" in run.err and "hint:" in run.err
    run("share", "create", "/report.pdf", "--expires", "soon")
    assert run.code == 2 and "invalid duration" in run.err
    run("share", "create", "/report.pdf", "--version", "5")
    assert run.code == 1 and "no version 5" in run.err
    assert remote_vault.list_shares(file_id)[0].id == link["id"]


def test_cli_share_a_folder_as_zip(
    remote_vault: Vault, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = Runner(remote_vault.paths.data, capsys)
    top = remote_vault.makedirs("/Album")
    add_file(remote_vault, tmp_path, "a.bin", b"alpha", top)
    out = run.ok("share", "create", "/Album", "--zip", "--expires", "1h")
    assert "Shared /Album as one zip." in out
    url = out.strip().splitlines()[-1].strip()
    with zipfile.ZipFile(io.BytesIO(fetch(url)[0])) as zf:
        assert zf.read("a.bin") == b"alpha"
    run("share", "create", "/Album/a.bin", "--zip")
    assert run.code == 2 and "--zip is for folders" in run.err


def test_cli_without_a_remote(
    vault: Vault, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_file(vault, tmp_path, "a.bin", b"a")
    run = Runner(vault.paths.data, capsys)
    run("share", "create", "/a.bin")
    assert run.code == 1 and "needs the vault's bucket" in run.err
    assert "mediavault remote set" in run.err


def test_cli_inbox_create_and_list(
    remote_vault: Vault, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.app.test_inbox import post_form

    run = Runner(remote_vault.paths.data, capsys)
    remote_vault.makedirs("/Inbox")
    page = tmp_path / "form.html"
    made = run.json(
        "inbox",
        "create",
        "--to",
        "/Inbox",
        "--max-size",
        "1M",
        "--note",
        "scans",
        "--html",
        str(page),
    )
    assert made["max_bytes"] == 1 << 20 and made["path"] == "/Inbox" and page.is_file()
    assert made["curl"].startswith("curl ") and made["url"] in made["curl"]
    text = run.ok("inbox", "create", "--to", "/Inbox", "--expires", "1h")
    assert "With curl" in text and "The next `mediavault sync` imports what arrives." in text
    fields = {**made["fields"], "x-amz-meta-sender": "Bo"}
    assert post_form(made["url"], fields, "scan.pdf", b"%PDF-1.4 not really\n") < 300
    synced = run.ok("sync")
    assert "Received 1 file through upload requests." in synced
    listing = run.ok("inbox", "list")
    assert "scan.pdf from Bo" in listing and "/Inbox/scan.pdf" in listing
    data = run.json("inbox", "list", "--all")
    assert [a["name"] for r in data for a in r["arrivals"]] == ["scan.pdf"]
    run("inbox", "create", "--to", "/Nowhere")
    assert run.code == 1 and "Nowhere" in run.err
