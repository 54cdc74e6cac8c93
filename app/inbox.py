"""Collecting what arrived through upload requests: the first step of every sync.

For each upload request that is open, or expired less than :data:`app.sharing.INBOX_GRACE` ago
(a file sent just before the end waits for the next sync), the objects under
its ``<prefix>/inbox/<id>/`` are, one by one:

1. refused and deleted when larger than the request allowed (whatever the
   service let through), when they arrived after the request was revoked, or
   after it expired;
2. downloaded into a scratch directory in the cache (stopping as soon as more
   bytes come than allowed, and checked against the service's MD5 ETag of a
   single-part upload);
3. imported into the request's folder by the normal import (naming rules, a
   taken name keeps both), the new version's note saying who sent it and when;
4. deleted from the inbox only then, when the file is durably in the vault.

A failure leaves the object where it is for the next sync. Every arrival (and
refusal) is remembered in the catalog's ``vault_setting`` table under
``inbox.arrivals.<share id>``, so the request lists what it brought in.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.models import File, Share, VaultSetting, Version
from app.core import VaultBase, now
from app.errors import NotFound, VaultError
from app.importer import Conflict, ImportOps
from app.sharing import INBOX_GRACE, KIND_UPLOAD
from storage.errors import BlobNotFound, ChecksumMismatch, RemoteError
from storage.s3 import S3BlobStore
from storage.share_objects import BucketObject, ShareBucket

log = logging.getLogger(__name__)

LATE = timedelta(minutes=5)  # clock slack between this computer and the service
ARRIVALS_KEY = "inbox.arrivals.{}"
MAX_SENDER = 100
_MD5_ETAG = re.compile(r'^"?([0-9a-f]{32})"?$')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Arrival:
    """A file that came through an upload request.

    Attributes:
        share_id: the upload request.
        name: the file's name as sent.
        size: its size in bytes.
        sender: who the sender said they are, or "".
        received_at: when it reached the bucket (naive UTC).
        path: where it is in the vault ("" when refused or already there).
        file_id: the file it became, or None.
        refused: why it was refused and deleted, or "" when imported.
    """

    share_id: int
    name: str
    size: int
    sender: str
    received_at: datetime
    path: str = ""
    file_id: int | None = None
    refused: str = ""

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        data = asdict(self)
        data["received_at"] = self.received_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Arrival:
        """Back from :meth:`to_json`."""
        return cls(
            int(data["share_id"]),
            str(data["name"]),
            int(data["size"]),
            str(data.get("sender", "")),
            datetime.fromisoformat(str(data["received_at"])),
            str(data.get("path", "")),
            int(data["file_id"]) if data.get("file_id") is not None else None,
            str(data.get("refused", "")),
        )


@dataclass
class InboxReport:
    """What one collection did.

    Attributes:
        imported: arrivals now in the vault.
        refused: arrivals refused and deleted (too big, too late).
        errors: ``(object key or request, message)`` for what failed; retried next sync.
    """

    imported: list[Arrival] = field(default_factory=list)
    refused: list[Arrival] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


def arrivals(session: Session, share_id: int) -> list[Arrival]:
    """The arrivals recorded for an upload request, oldest first."""
    stored = session.get(VaultSetting, ARRIVALS_KEY.format(share_id))
    if stored is None:
        return []
    try:
        return [Arrival.from_json(item) for item in json.loads(stored.value)]
    except (ValueError, KeyError, TypeError):
        log.warning("the arrivals of upload request %d are unreadable", share_id)
        return []


def _record(session: Session, arrival: Arrival) -> None:
    key = ARRIVALS_KEY.format(arrival.share_id)
    items = [a.to_json() for a in arrivals(session, arrival.share_id)] + [arrival.to_json()]
    session.merge(VaultSetting(key=key, value=json.dumps(items, ensure_ascii=False)))


def _clean_sender(value: str) -> str:
    return _CONTROL.sub(" ", value).strip()[:MAX_SENDER]


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def received_note(note: str, sender: str, when: datetime) -> str:
    """The version note of an arrival: who sent it, when, through which request."""
    text = "Received through upload request"
    if note:
        text += f" “{note}”"
    text += f" from {sender or 'an unnamed sender'} on {when:%Y-%m-%d %H:%M} UTC"
    return text


@dataclass(frozen=True)
class _Request:
    id: int
    folder_id: int | None
    prefix: str
    note: str
    max_bytes: int
    expires_at: datetime
    revoked_at: datetime | None


def _file_name(key: str, prefix: str) -> str:
    """The name an object was sent under (the last part of its key under the prefix)."""
    rest = key[len(prefix) :] if key.startswith(prefix) else key
    # Control characters (a NUL would not even make a local file name) become "_"; the
    # import maps whatever else breaks the naming rules.
    name = _CONTROL.sub("_", rest.rstrip("/").rsplit("/", 1)[-1])
    if name in ("", ".", ".."):
        return "upload"
    # Room for the scratch directory's own limits; the import maps the rest of the rules.
    while len(name.encode("utf-8")) > 200:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem[:-1]}{dot}{ext}" if dot and len(ext) < 16 and stem else name[:-1]
    return name


def collect_inbox(vault: VaultBase, store: S3BlobStore) -> InboxReport:
    """Import what arrived through the vault's upload requests (see the module docstring).

    Never raises for the bucket's or a file's failure (they are in the report);
    a vault without import (a bare :class:`VaultBase`) collects nothing. Makes
    no request at all while no upload request is open or recently expired.
    Thread: any but the GUI's.
    """
    report = InboxReport()
    if not isinstance(vault, ImportOps):
        return report
    moment = now()
    with vault.reading() as session:
        requests = [
            _Request(
                s.id,
                s.folder_id,
                s.object_key,
                s.note,
                int(s.max_bytes or 0),
                s.expires_at,
                s.revoked_at,
            )
            for s in session.scalars(
                select(Share)
                .where(Share.kind == KIND_UPLOAD, Share.expires_at > moment - INBOX_GRACE)
                .order_by(Share.id)
            )
        ]
    if not requests:
        return report
    bucket = ShareBucket(store)
    for request in requests:
        try:
            waiting = list(bucket.list(request.prefix))
        except RemoteError as exc:
            report.errors.append((request.prefix, str(exc)))
            if exc.kind == "unreachable":
                break
            continue
        for item in waiting:
            try:
                _collect_one(vault, bucket, request, item, report)
            except RemoteError as exc:
                report.errors.append((item.key, str(exc)))
                if exc.kind == "unreachable":
                    return report
    if report.imported or report.refused:
        log.info("inbox: %d files received, %d refused", len(report.imported), len(report.refused))
    return report


def _refuse(
    vault: VaultBase,
    bucket: ShareBucket,
    request: _Request,
    item: BucketObject,
    sender: str,
    reason: str,
    report: InboxReport,
) -> None:
    bucket.delete(item.key)
    arrival = Arrival(
        request.id,
        _file_name(item.key, request.prefix),
        item.size,
        sender,
        _naive(item.modified),
        refused=reason,
    )
    with vault.writing() as session:
        _record(session, arrival)
    report.refused.append(arrival)
    log.warning("inbox: refused %s: %s", item.key, reason)


def _collect_one(
    vault: ImportOps,
    bucket: ShareBucket,
    request: _Request,
    item: BucketObject,
    report: InboxReport,
) -> None:
    received = _naive(item.modified)
    if item.size > request.max_bytes:
        reason = f"larger than the {request.max_bytes} bytes the request allowed"
        _refuse(vault, bucket, request, item, "", reason, report)
        return
    if request.revoked_at is not None and received > request.revoked_at:
        _refuse(vault, bucket, request, item, "", "sent after the request was revoked", report)
        return
    if received > request.expires_at + LATE:
        _refuse(vault, bucket, request, item, "", "sent after the request expired", report)
        return
    head = bucket.head(item.key)
    if head is None:
        return  # collected meanwhile (another computer's sync)
    metadata = {str(k).lower(): str(v) for k, v in (head.get("Metadata") or {}).items()}
    sender = _clean_sender(metadata.get("sender", ""))
    name = _file_name(item.key, request.prefix)
    folder_id = request.folder_id
    if folder_id is not None:
        try:
            with vault.reading() as session:
                vault._folder(session, folder_id)
        except NotFound:
            folder_id = None
    target = folder_id if folder_id is not None else vault.root_id
    cache: Path = vault.paths.cache
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".inbox-", dir=cache) as scratch:
        local = Path(scratch) / name
        try:
            size, md5 = bucket.download(item.key, local, limit=request.max_bytes)
        except BlobNotFound:
            return
        except ChecksumMismatch:
            reason = f"larger than the {request.max_bytes} bytes the request allowed"
            _refuse(vault, bucket, request, item, sender, reason, report)
            return
        except OSError as exc:
            report.errors.append((item.key, f"could not be saved here: {exc.strerror or exc}"))
            return
        etag = _MD5_ETAG.match(str(head.get("ETag", "")))
        if size != int(head.get("ContentLength", size)) or (etag and etag.group(1) != md5):
            report.errors.append((item.key, "the download did not match the uploaded file"))
            return
        try:
            imported = vault.import_paths([local], target, Conflict.KEEP_BOTH, workers=1)
        except VaultError as exc:
            report.errors.append((item.key, exc.message))
            return
    if imported.failed:
        report.errors.append((item.key, "; ".join(p.reason for p in imported.failed)))
        return
    note = received_note(request.note, sender, received)
    file_id = imported.file_ids[0] if imported.file_ids else None
    path = ""
    with vault.writing() as session:
        if file_id is not None:
            file = session.get(File, file_id)
            if file is not None:
                version = session.get(Version, file.current_version_id)
                if version is not None:
                    version.note = note
                path = vault._folder_path(session, file.folder_id).rstrip("/") + "/" + file.name
        arrival = Arrival(request.id, name, size, sender, received, path, file_id)
        _record(session, arrival)
    # Only now, with the file durable in the vault and recorded, does the inbox copy go.
    bucket.delete(item.key)
    report.imported.append(arrival)
    log.info("inbox: received %s into %s", name, path or "the vault (already there)")
