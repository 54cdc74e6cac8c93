"""Upload requests: the pre-signed POST policy, and the next sync importing what arrived.

Uploads are plain HTTP multipart/form-data POSTs built with the standard
library, as a browser sends the HTML form. moto's server does not enforce a
POST policy's conditions (``content-length-range``, expiry, the key prefix:
``moto/s3/responses.py`` stores whatever is posted), so an oversize upload
reaches the bucket there; the test checks that the inbox refuses it anyway,
which is what protects the vault on any service.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
import uuid
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

import app.sharing
from app.catalog.models import Share
from app.cleanup import Cleaner
from app.core import now
from app.errors import NotFound, Refused
from app.inbox import collect_inbox
from app.sharing import KIND_UPLOAD
from app.sync import Syncer
from app.vault import Vault
from storage.s3_client import RemoteSpec
from tests.helpers.buckets import object_keys
from tests.helpers.vaults import add_file

pytestmark = pytest.mark.usefixtures("aws_chain")


def post_form(url: str, fields: dict[str, str], name: str, data: bytes) -> int:
    """POST ``fields`` then the file part, as multipart/form-data; the HTTP status."""
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for key, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    request = urllib.request.Request(
        url,
        data=b"".join(parts),
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_an_upload_is_imported_by_the_next_sync(
    remote_vault: Vault, tmp_path: Path, raw: Any, spec: RemoteSpec
) -> None:
    folder = remote_vault.makedirs("/Inbox/From Ana")
    request = remote_vault.create_upload_request(
        folder, timedelta(days=2), max_bytes=1 << 20, note="holiday photos"
    )
    share = request.share
    assert share.kind == KIND_UPLOAD and share.max_bytes == 1 << 20
    assert share.object_key.startswith("vault/inbox/") and share.object_key.endswith("/")
    assert request.fields["key"] == share.object_key + "${filename}"
    policy = json.loads(base64.b64decode(request.fields["policy"]))
    assert ["content-length-range", 1, 1 << 20] in policy["conditions"]
    assert ["starts-with", "$key", share.object_key] in policy["conditions"]
    assert "curl" in request.curl and "file=@FILE" in request.curl

    fields = {**request.fields, "x-amz-meta-sender": "Ana Lima"}
    data = b"\x89PNG fake but bytes\n" * 100
    assert post_form(request.url, fields, "beach.png", data) in (200, 201, 204)
    assert object_keys(raw, spec.bucket, share.object_key) == [share.object_key + "beach.png"]

    report = Syncer.for_vault(remote_vault).run()
    assert report.inbox_received == 1 and report.inbox_refused == 0 and not report.inbox_errors
    kind, file_id = remote_vault.resolve("/Inbox/From Ana/beach.png")
    assert kind == "file"
    out = tmp_path / "out"
    assert remote_vault.export_file(file_id, out).read_bytes() == data
    note = remote_vault.versions(file_id)[-1].note
    assert note.startswith("Received through upload request “holiday photos” from Ana Lima on ")
    assert object_keys(raw, spec.bucket, share.object_key) == []  # collected
    arrivals = remote_vault.upload_arrivals(share.id)
    assert [(a.name, a.sender, a.path, a.file_id) for a in arrivals] == [
        ("beach.png", "Ana Lima", "/Inbox/From Ana/beach.png", file_id)
    ]
    # The imported blob went up in the same sync.
    assert remote_vault.file_info(file_id).version.remote_state == "completed"


def test_a_taken_name_keeps_both(remote_vault: Vault, tmp_path: Path) -> None:
    folder = remote_vault.makedirs("/Drop")
    add_file(remote_vault, tmp_path, "report.pdf", b"mine", folder)
    request = remote_vault.create_upload_request(folder, timedelta(hours=1), 1000)
    assert post_form(request.url, dict(request.fields), "report.pdf", b"theirs") < 300
    assert Syncer.for_vault(remote_vault).run().inbox_received == 1
    _, theirs = remote_vault.resolve("/Drop/report (2).pdf")
    assert remote_vault.export_file(theirs, tmp_path / "x").read_bytes() == b"theirs"
    assert "an unnamed sender" in remote_vault.versions(theirs)[-1].note


def test_an_oversize_upload_is_refused(
    remote_vault: Vault, tmp_path: Path, raw: Any, spec: RemoteSpec
) -> None:
    folder = remote_vault.makedirs("/Drop")
    request = remote_vault.create_upload_request(folder, timedelta(hours=1), max_bytes=100)
    status = post_form(request.url, dict(request.fields), "big.bin", b"x" * 101)
    if status >= 300:
        # A service that enforces the policy refuses it itself (AWS: EntityTooLarge).
        assert status in (400, 403)
        return
    # moto stores it anyway: the inbox refuses it and deletes it.
    report = collect_inbox(remote_vault, remote_vault._share_bucket().store)
    assert [a.name for a in report.refused] == ["big.bin"] and not report.imported
    assert "100 bytes" in report.refused[0].refused
    with pytest.raises(NotFound):
        remote_vault.resolve("/Drop/big.bin")
    assert object_keys(raw, spec.bucket, request.share.object_key) == []
    assert remote_vault.upload_arrivals(request.share.id)[0].refused


def test_arrivals_after_revoke_are_discarded(
    remote_vault: Vault, raw: Any, spec: RemoteSpec
) -> None:
    folder = remote_vault.makedirs("/Drop")
    request = remote_vault.create_upload_request(folder, timedelta(hours=1), 1000)
    assert post_form(request.url, dict(request.fields), "early.txt", b"early") < 300
    # Revoked "before" the upload arrived: move the revoke time back.
    remote_vault.revoke_share(request.share.id)
    with remote_vault.writing() as session:
        session.execute(
            update(Share)
            .where(Share.id == request.share.id)
            .values(revoked_at=now() - timedelta(minutes=10))
        )
    report = Syncer.for_vault(remote_vault).run()
    assert report.inbox_refused == 1 and report.inbox_received == 0
    assert object_keys(raw, spec.bucket, "vault/inbox/") == []
    with pytest.raises(Refused, match="revoked"):
        remote_vault.upload_request(request.share.id)


def test_an_upload_request_is_signed_again_and_written_as_html(
    remote_vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = remote_vault.makedirs("/Drop")
    request = remote_vault.create_upload_request(folder, timedelta(days=1), 5 << 20, "scans")
    page = remote_vault.write_upload_form(request, tmp_path / "send.html")
    text = page.read_text(encoding="utf-8")
    assert f'action="{request.url}"' in text
    assert 'name="x-amz-meta-sender"' in text and 'type="file" id="file" name="file"' in text
    assert text.index('name="policy"') < text.index('name="file"')  # file part last
    assert "up to 5.0 MB" in text
    start = now()
    monkeypatch.setattr(app.sharing, "now", lambda: start + timedelta(hours=2))
    again = remote_vault.upload_request(request.share.id)
    assert again.fields["key"] == request.fields["key"]
    monkeypatch.setattr(app.sharing, "now", lambda: start + timedelta(days=2))
    with pytest.raises(Refused, match="expired"):
        remote_vault.upload_request(request.share.id)
    assert remote_vault.upload_requests(include_past=False) == []
    assert [r.id for r in remote_vault.upload_requests()] == [request.share.id]


def test_refusals_of_out_of_range_requests(remote_vault: Vault) -> None:
    folder = remote_vault.makedirs("/Drop")
    with pytest.raises(Refused, match="5 GiB"):
        remote_vault.create_upload_request(folder, timedelta(hours=1), 6 << 30)
    with pytest.raises(Refused, match="1 hour to 7 days"):
        remote_vault.create_upload_request(folder, timedelta(days=8), 10)


def test_no_request_means_no_bucket_request(vault: Vault) -> None:
    class Exploding:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"the bucket was used: {name}")

    assert collect_inbox(vault, Exploding()).imported == []  # type: ignore[arg-type]


def test_cleanup_deletes_leftovers_of_long_expired_requests(
    remote_vault: Vault, raw: Any, spec: RemoteSpec
) -> None:
    folder = remote_vault.makedirs("/Drop")
    request = remote_vault.create_upload_request(folder, timedelta(hours=1), 1000)
    Syncer.for_vault(remote_vault).run()
    assert post_form(request.url, dict(request.fields), "late.txt", b"late") < 300
    moment = now() + timedelta(days=40)
    report = Cleaner.for_vault(remote_vault, clock=lambda: moment.replace(tzinfo=UTC)).run()
    assert report.inbox_deleted == [request.share.object_key + "late.txt"]
    assert object_keys(raw, spec.bucket, "vault/inbox/") == []


def test_names_sent_are_made_safe() -> None:
    from app.inbox import _file_name

    prefix = "vault/inbox/abc/"
    assert _file_name(prefix + "photo.jpg", prefix) == "photo.jpg"
    assert _file_name(prefix + "a/b/../c.txt", prefix) == "c.txt"
    assert _file_name(prefix + "..", prefix) == "upload"
    assert _file_name(prefix, prefix) == "upload"
    assert _file_name(prefix + "bad\x00name\n.txt", prefix) == "bad_name_.txt"
    long = _file_name(prefix + "x" * 300 + ".jpeg", prefix)
    assert long.endswith(".jpeg") and len(long.encode()) <= 200
