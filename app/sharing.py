"""Sharing through the bucket: download links, upload requests (inbox), revoking, and the record of every share.

A download link is a copy of one version's content put at
``<prefix>/shares/<random id>/<file name>`` (with the file's type and a
Content-Disposition carrying its name) plus a pre-signed GET URL for it. The
copy is a server-side copy of the bucket's blob when sync has put it there
(nothing crosses the network), else an upload of the local blob, hashed on the
way and deleted again unless it matches. Revoking deletes the copy, so the link
stops working at once; ``mediavault cleanup`` deletes the copies of expired
links. A folder is shared either as one link per file or as a single zip.

An upload request is a pre-signed POST policy for keys under
``<prefix>/inbox/<random id>/``, with a size limit and an expiry; what arrives
is imported by the next sync (:mod:`app.inbox`).

Every share is a row of the ``share`` table, kept after it expires or is
revoked as an audit trail. No URL is ever stored: the catalog and its
snapshots in the bucket must not carry live links, so a link is signed again
(for the time it has left) whenever it is copied. SigV4 signatures last at
most 7 days, hence the range of :data:`MIN_EXPIRY` to :data:`MAX_EXPIRY`.

Thread affinity: as :class:`app.core.VaultBase`; every call that talks to the
bucket blocks, so the window calls it through ``ui.tasks``.
"""

from __future__ import annotations

import hashlib
import html
import logging
import secrets as secrets_module
import shlex
import tempfile
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.models import Blob, File, Folder, Share, Version
from app.core import now
from app.errors import BlobMissing, NotFound, Refused, StorageError, VaultError
from app.progress import human_size
from app.space import SpaceOps
from storage.errors import BlobNotFound, ChecksumMismatch, RemoteError, SourceError

# storage.share_objects (and so boto3) is imported where the bucket is used:
# the CLI's other commands start without it.
if TYPE_CHECKING:
    from app.inbox import Arrival
    from storage.share_objects import ShareBucket, UploadPolicy

log = logging.getLogger(__name__)

KIND_DOWNLOAD = "download"  # one file's version (file_id and version_id set)
KIND_FOLDER_ZIP = "folder-zip"  # a folder tree as one zip (folder_id set, no file)
KIND_UPLOAD = "upload-request"  # a POST policy; arrivals go to folder_id
LINK_KINDS = (KIND_DOWNLOAD, KIND_FOLDER_ZIP)

# An expired upload request's inbox is still collected this long (a file sent just
# before the end waits for the next sync); then cleanup deletes what is left.
INBOX_GRACE = timedelta(days=30)
MIN_EXPIRY = timedelta(hours=1)
MAX_EXPIRY = timedelta(days=7)
EXPIRY_CHOICES = (
    ("1 hour", timedelta(hours=1)),
    ("6 hours", timedelta(hours=6)),
    ("1 day", timedelta(days=1)),
    ("3 days", timedelta(days=3)),
    ("7 days", timedelta(days=7)),
)
EXPIRY_LIMIT_TEXT = (
    "Links are pre-signed URLs: the bucket checks their signature, and S3 signatures "
    "stay valid for at most 7 days. For longer, share again when a link expires."
)
ZIP_STORED_KINDS = frozenset({"image", "video", "audio"})  # already compressed
ZIP_CHUNK = 1 << 20
_ZIP_EPOCH = datetime(1980, 1, 1)


def _needs_remote(exc: VaultError) -> VaultError:
    from app.credentials import NoRemote

    if isinstance(exc, NoRemote):
        return NoRemote(
            "Sharing needs the vault's bucket: links and upload requests point into it.",
            "Set up the bucket in Settings (Remote), or with `mediavault remote set --bucket NAME`.",
        )
    return exc


def _remote_failure(exc: RemoteError, what: str) -> StorageError:
    return StorageError(f"Cannot {what}: {exc}", exc.hint)


def expiry_seconds(expires_in: timedelta) -> int:
    """``expires_in`` in whole seconds, or :class:`Refused` outside 1 hour to 7 days."""
    if not MIN_EXPIRY <= expires_in <= MAX_EXPIRY:
        raise Refused(
            "A link or upload request lasts from 1 hour to 7 days.",
            "Links are pre-signed URLs, and S3 signatures cannot stay valid for more than "
            "7 days; share again when one expires.",
        )
    return int(expires_in.total_seconds())


def parse_expiry(text: str) -> timedelta:
    """``"1h"``, ``"36h"``, ``"2d"``, ``"7d"``, ``"90m"`` → a timedelta (range not checked).

    Raises :class:`ValueError` for anything else.
    """
    value = text.strip().lower()
    units = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    if len(value) < 2 or value[-1] not in units or not value[:-1].isdigit():
        raise ValueError(f"invalid duration {text!r}: use e.g. 1h, 12h, 2d or 7d")
    return timedelta(seconds=int(value[:-1]) * units[value[-1]])


@dataclass(frozen=True)
class ShareInfo:
    """One share as recorded.

    Attributes:
        id: the share's id.
        kind: :data:`KIND_DOWNLOAD`, :data:`KIND_FOLDER_ZIP` or :data:`KIND_UPLOAD`.
        file_id: the file shared (downloads), else None.
        folder_id: the folder shared as a zip, the folder a per-file share came
            from, or where an upload request's arrivals go; None if gone.
        version_id: the version shared (downloads), None if since deleted.
        version_number: its number, or None.
        name: the name the recipient sees (file or zip), or the target folder's name.
        path: the vault path of the file or folder, "" when it is gone.
        object_key: the share object's key (an upload request's key prefix).
        note: the recipient note.
        created_at: when it was made (naive UTC, as the catalog).
        expires_at: when the link or request stops working.
        revoked_at: when it was revoked, or None.
        max_bytes: an upload request's size limit, else None.
        status: "active", "expired" or "revoked", when it was read.
    """

    id: int
    kind: str
    file_id: int | None
    folder_id: int | None
    version_id: int | None
    version_number: int | None
    name: str
    path: str
    object_key: str
    note: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    max_bytes: int | None
    status: str

    @property
    def active(self) -> bool:
        """True if it was neither revoked nor expired when read."""
        return self.status == "active"


@dataclass(frozen=True)
class ShareLink:
    """A share and a freshly signed URL for it (never stored; treat it as a secret).

    Attributes:
        share: the share.
        url: the pre-signed GET URL, valid until ``share.expires_at``.
    """

    share: ShareInfo
    url: str


@dataclass(frozen=True)
class FolderShare:
    """What sharing a folder made.

    Attributes:
        zipped: True for one zip of the folder, False for one link per file.
        links: the links made (one for a zip), with ``share.path`` saying which file.
        failed: ``(vault path, message)`` for each file that could not be shared.
    """

    zipped: bool
    links: list[ShareLink] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class UploadRequest:
    """An upload request and its freshly signed POST policy.

    Attributes:
        share: the request's record.
        url: where to POST.
        fields: the form's fields (the file part must follow them).
        curl: a ready ``curl`` command (with a ``FILE`` placeholder to replace).
    """

    share: ShareInfo
    url: str
    fields: dict[str, str]
    curl: str

    def html(self) -> str:
        """A small, self-contained HTML page with the upload form (no script, no outside file)."""
        return upload_form_html(self)


@dataclass(frozen=True)
class ShareChanges:
    """What a revoke changed, for views to repaint.

    Attributes:
        shares: ids of the shares whose state changed.
        files: files whose shares changed.
        folders: folders whose shares changed.
    """

    shares: frozenset[int] = frozenset()
    files: frozenset[int] = frozenset()
    folders: frozenset[int] = frozenset()


def curl_command(url: str, fields: dict[str, str]) -> str:
    """A ``curl`` command that posts ``FILE`` with ``fields`` (sender: ``YOUR NAME``)."""
    parts = ["curl", "--fail", "--show-error"]
    for name, value in fields.items():
        shown = "YOUR NAME" if name == "x-amz-meta-sender" else value
        parts += ["-F", shlex.quote(f"{name}={shown}")]
    parts += ["-F", "file=@FILE", shlex.quote(url)]
    return " ".join(parts)


def upload_form_html(request: UploadRequest) -> str:
    """The upload form of ``request`` as a page to send to whoever uploads."""
    share = request.share
    limit = human_size(share.max_bytes or 0)
    until = share.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    inputs = "\n".join(
        f'    <input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in request.fields.items()
        if k != "x-amz-meta-sender"
    )
    note = f"<p>{html.escape(share.note)}</p>" if share.note else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <title>Send a file</title>
  <style>
    body {{ font: 16px system-ui, sans-serif; max-width: 34em; margin: 3em auto; padding: 0 1em; }}
    label {{ display: block; margin: 1em 0 .3em; }}
    input[type=text] {{ width: 100%; padding: .4em; box-sizing: border-box; }}
    button {{ margin-top: 1.5em; padding: .5em 1.5em; font-size: 1em; }}
    .small {{ color: #555; font-size: .9em; }}
  </style>
</head>
<body>
  <h1>Send a file</h1>
  {note}
  <p class="small">One file of up to {html.escape(limit)}, until {html.escape(until)}.</p>
  <form action="{html.escape(request.url)}" method="post" enctype="multipart/form-data">
{inputs}
    <label for="sender">Your name (optional)</label>
    <input type="text" id="sender" name="x-amz-meta-sender" maxlength="100">
    <label for="file">File</label>
    <input type="file" id="file" name="file" required>
    <button type="submit">Send</button>
  </form>
  <p class="small">After sending, the page shows a short technical confirmation.</p>
</body>
</html>
"""


def _status(share: Share, moment: datetime) -> str:
    if share.revoked_at is not None:
        return "revoked"
    return "active" if share.expires_at > moment else "expired"


class _Damaged(StorageError):
    """A file's bytes did not match its checksum after going into a zip: the zip is void."""


class ShareOps(SpaceOps):
    """Mixin: sharing (download links, folder shares, upload requests, revoking)."""

    # -- the bucket ---------------------------------------------------------------

    def _share_bucket(self) -> ShareBucket:
        """The vault's bucket for sharing; :class:`NoRemote` (with a hint) when none is set."""
        from app.credentials import open_remote

        try:
            store, keys = open_remote(self.paths)
        except VaultError as exc:
            raise _needs_remote(exc) from None
        secrets = (keys.secret_access_key, keys.session_token) if keys else ()
        from storage.share_objects import ShareBucket

        return ShareBucket(store, secrets)

    # -- reading ----------------------------------------------------------------------

    def _share_info(self, session: Session, share: Share, moment: datetime) -> ShareInfo:
        number = None
        if share.version_id is not None:
            number = session.scalar(select(Version.number).where(Version.id == share.version_id))
        path, name = "", unquote(share.object_key.rstrip("/").rsplit("/", 1)[-1])
        if share.file_id is not None:
            file = session.get(File, share.file_id)
            if file is not None:
                path = self._folder_path(session, file.folder_id).rstrip("/") + "/" + file.name
        elif share.folder_id is not None:
            folder = session.get(Folder, share.folder_id)
            if folder is not None:
                path = self._folder_path(session, folder.id)
                if share.kind == KIND_UPLOAD:
                    name = folder.name or "/"
        return ShareInfo(
            share.id,
            share.kind,
            share.file_id,
            share.folder_id,
            share.version_id,
            number,
            name,
            path,
            share.object_key,
            share.note,
            share.created_at,
            share.expires_at,
            share.revoked_at,
            share.max_bytes,
            _status(share, moment),
        )

    def _share_row(self, session: Session, share_id: int) -> Share:
        share = session.get(Share, share_id)
        if share is None:
            raise NotFound("That share no longer exists.")
        return share

    def share(self, share_id: int) -> ShareInfo:
        """One share as recorded; :class:`NotFound` if there is no such share."""
        with self.reading() as session:
            return self._share_info(session, self._share_row(session, share_id), now())

    def list_shares(
        self, file_id: int | None = None, folder_id: int | None = None
    ) -> list[ShareInfo]:
        """Shares, active and past, newest first: of one file, of one folder (its zips,
        per-file links and upload requests), or all of them when neither is given."""
        moment = now()
        query = select(Share).order_by(Share.created_at.desc(), Share.id.desc())
        if file_id is not None:
            query = query.where(Share.file_id == file_id)
        if folder_id is not None:
            query = query.where(Share.folder_id == folder_id)
        with self.reading() as session:
            return [self._share_info(session, s, moment) for s in session.scalars(query)]

    def active_shares(self, kinds: tuple[str, ...] | None = None) -> list[ShareInfo]:
        """Every share neither revoked nor expired (of ``kinds``, default all), soonest
        expiry first: the "Shared" view."""
        moment = now()
        query = (
            select(Share)
            .where(Share.revoked_at.is_(None), Share.expires_at > moment)
            .order_by(Share.expires_at, Share.id)
        )
        if kinds is not None:
            query = query.where(Share.kind.in_(kinds))
        with self.reading() as session:
            return [self._share_info(session, s, moment) for s in session.scalars(query)]

    # -- download links --------------------------------------------------------------

    def share_file(
        self,
        file_id: int,
        version_id: int | None = None,
        expires_in: timedelta = timedelta(days=1),
        note: str = "",
        *,
        folder_id: int | None = None,
        bucket: ShareBucket | None = None,
    ) -> ShareLink:
        """Share one version of a file (default: the current one) as a download link.

        ``expires_in`` is 1 hour to 7 days (:class:`Refused` otherwise);
        ``folder_id`` records the folder a per-file folder share came from.
        Raises :class:`NoRemote` without a bucket, :class:`NotFound` for a file
        gone or in the Trash or a version not its own, :class:`BlobMissing` when
        the content is neither verified here nor in the bucket, and
        :class:`StorageError` when the bucket fails. Blocks on the network.
        """
        seconds = expiry_seconds(expires_in)
        with self.reading() as session:
            file = self._file(session, file_id)
            chosen = version_id if version_id is not None else file.current_version_id
            version = session.get(Version, chosen) if chosen is not None else None
            if version is None or version.file_id != file_id:
                raise NotFound(f'"{file.name}" has no such version.')
            blob = session.get(Blob, version.blob_hash)
            if blob is None:
                raise BlobMissing(f"The content of {file.name} is not in the catalog.")
            name, mime, vid = file.name, file.mime or "application/octet-stream", version.id
            blob_hash, remote_state = blob.hash, blob.remote_state
        bucket = bucket if bucket is not None else self._share_bucket()
        key = bucket.share_key(secrets_module.token_urlsafe(18), name)
        self._put_share_content(bucket, key, blob_hash, remote_state, name, mime)
        info = self._record(
            KIND_DOWNLOAD,
            key,
            seconds,
            note,
            file_id=file_id,
            folder_id=folder_id,
            version_id=vid,
            bucket=bucket,
        )
        log.info("shared file %d (version %d) as share %d", file_id, vid, info.id)
        return ShareLink(info, self._sign(bucket, key, seconds))

    def _put_share_content(
        self,
        bucket: ShareBucket,
        key: str,
        blob_hash: str,
        remote_state: str,
        name: str,
        mime: str,
    ) -> None:
        """Put a blob's content at ``key``: copied in the bucket when sync put it there
        (verified then), else uploaded from this computer, hashed on the way."""
        if remote_state == "completed":
            try:
                bucket.copy_blob(blob_hash, key, content_type=mime, file_name=name)
                return
            except BlobNotFound:
                log.warning("share: the bucket lacks %s; uploading it instead", blob_hash[:12])
            except RemoteError as exc:
                raise _remote_failure(exc, f"share {name}") from exc
        try:
            handle = self.blobs.open(blob_hash)
        except BlobNotFound:
            raise BlobMissing(
                f"The content of {name} is neither on this computer nor in the bucket yet.",
                "Run `mediavault verify`; another device may still have it.",
            ) from None
        except OSError as exc:
            raise StorageError(f"Cannot read {name}: {exc}") from exc
        with handle:
            try:
                bucket.put_file(key, handle, content_type=mime, file_name=name, sha256=blob_hash)
            except ChecksumMismatch:
                raise BlobMissing(
                    f"The stored content of {name} is damaged (checksum mismatch); "
                    "it was not shared.",
                    "Run `mediavault verify`; a synced copy can be fetched again.",
                ) from None
            except SourceError as exc:
                raise StorageError(f"Cannot read {name}: {exc}") from exc
            except RemoteError as exc:
                raise _remote_failure(exc, f"share {name}") from exc

    @staticmethod
    def _sign(bucket: ShareBucket, key: str, seconds: int) -> str:
        try:
            return bucket.presign_get(key, max(1, seconds))
        except RemoteError as exc:
            raise _remote_failure(exc, "sign the link") from exc

    @staticmethod
    def _delete_quietly(bucket: ShareBucket, key: str) -> None:
        try:
            bucket.delete(key)
        except RemoteError as exc:
            log.warning("could not delete the unrecorded share object %s: %s", key, exc)

    def share_link(self, share_id: int) -> ShareLink:
        """The link of an active download or zip share, signed again for the time it has left.

        Raises :class:`Refused` when it was revoked or has expired, or is an
        upload request (see :meth:`upload_request`).
        """
        moment = now()
        with self.reading() as session:
            row = self._share_row(session, share_id)
            info = self._share_info(session, row, moment)
        if info.kind not in LINK_KINDS:
            raise Refused("That share is an upload request, not a link.")
        self._refuse_inactive(info, moment)
        seconds = int((info.expires_at - moment).total_seconds())
        return ShareLink(info, self._sign(self._share_bucket(), info.object_key, seconds))

    @staticmethod
    def _refuse_inactive(info: ShareInfo, moment: datetime) -> None:
        if info.revoked_at is not None:
            raise Refused("That share was revoked.", "Share again for a new link.")
        if info.expires_at <= moment:
            raise Refused(
                f"That share expired on {info.expires_at:%Y-%m-%d %H:%M} UTC.",
                "Share again for a new link.",
            )

    def revoke_share(self, share_id: int) -> ShareChanges:
        """Stop a share now: its object is deleted (the link fails at once), then it is
        marked revoked. An upload request cannot be withdrawn from the service before
        it expires, so what arrives after the revoke is discarded by the next sync.

        Idempotent: revoking a revoked share changes nothing. Raises
        :class:`NotFound`, :class:`NoRemote` and :class:`StorageError`.
        """
        with self.reading() as session:
            row = self._share_row(session, share_id)
            kind, key, revoked = row.kind, row.object_key, row.revoked_at
            file_id, folder_id = row.file_id, row.folder_id
        if revoked is not None:
            return ShareChanges()
        if kind in LINK_KINDS:
            bucket = self._share_bucket()
            try:
                bucket.delete(key)  # first: the link stops working before the record says so
            except RemoteError as exc:
                raise _remote_failure(exc, "revoke the link") from exc
        with self.writing() as session:
            self._share_row(session, share_id).revoked_at = now()
        log.info("revoked share %d", share_id)
        return ShareChanges(
            frozenset({share_id}),
            frozenset({file_id}) if file_id is not None else frozenset(),
            frozenset({folder_id}) if folder_id is not None else frozenset(),
        )

    # -- folders ----------------------------------------------------------------------

    def _folder_files(self, folder_id: int) -> tuple[str, list[tuple[int, str]]]:
        """A live folder's name and its live files below it, as ``(file id, relative path)``."""
        with self.reading() as session:
            top = self._folder(session, folder_id)
            files: list[tuple[int, str]] = []
            stack = [(top.id, "")]
            while stack:
                current, where = stack.pop()
                for fid, name in session.execute(
                    select(File.id, File.name)
                    .where(File.folder_id == current, File.trash_id.is_(None))
                    .order_by(File.name_key)
                ):
                    files.append((fid, where + name))
                for sub_id, sub_name in session.execute(
                    select(Folder.id, Folder.name)
                    .where(Folder.parent_id == current, Folder.trash_id.is_(None))
                    .order_by(Folder.name_key.desc())
                ):
                    stack.append((sub_id, f"{where}{sub_name}/"))
            return top.name, files

    def share_folder(
        self,
        folder_id: int,
        expires_in: timedelta = timedelta(days=1),
        note: str = "",
        *,
        as_zip: bool = False,
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> FolderShare:
        """Share a folder tree: one link per file, or (``as_zip``) one zip of it all.

        Per file: a file that cannot be shared is in ``failed``, the rest go on.
        As a zip: the tree (paths relative to the folder) is written into a temp
        file in the cache from the local blobs, fetching evicted ones from the
        bucket and checking every file's SHA-256; then uploaded. ``progress(done,
        total)`` counts files; ``cancel`` stops between files (:class:`Refused`,
        nothing shared for a zip). Raises :class:`Refused` for a folder with no
        file, and what :meth:`share_file` raises.
        """
        seconds = expiry_seconds(expires_in)
        folder_name, files = self._folder_files(folder_id)
        if not files:
            raise Refused(f'"{folder_name or "/"}" has no file to share.')
        bucket = self._share_bucket()
        if not as_zip:
            result = FolderShare(zipped=False)
            for done, (fid, relative) in enumerate(files, 1):
                if cancel is not None and cancel.is_set():
                    break
                try:
                    link = self.share_file(
                        fid, None, expires_in, note, folder_id=folder_id, bucket=bucket
                    )
                    result.links.append(link)
                except VaultError as exc:
                    result.failed.append((relative, str(exc)))
                if progress:
                    progress(done, len(files))
            return result
        return self._share_zip(
            bucket, folder_id, folder_name, files, seconds, note, progress, cancel
        )

    def _share_zip(
        self,
        bucket: ShareBucket,
        folder_id: int,
        folder_name: str,
        files: list[tuple[int, str]],
        seconds: int,
        note: str,
        progress: Callable[[int, int], None] | None,
        cancel: threading.Event | None,
    ) -> FolderShare:
        zip_name = f"{folder_name or 'Media Vault'}.zip"
        result = FolderShare(zipped=True)
        cache = self.paths.cache
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".share-", dir=cache) as scratch:
            archive = Path(scratch) / "share.zip"
            written = self._write_zip(bucket, archive, files, result, progress, cancel)
            if not written:
                raise Refused(
                    f'No file of "{folder_name or "/"}" could be put in the zip.',
                    "; ".join(f"{p}: {m}" for p, m in result.failed[:3]),
                )
            key = bucket.share_key(secrets_module.token_urlsafe(18), zip_name)
            try:
                bucket.put_path(key, archive, content_type="application/zip", file_name=zip_name)
            except RemoteError as exc:
                raise _remote_failure(exc, f"share {zip_name}") from exc
            except SourceError as exc:
                raise StorageError(f"Cannot read the zip of {folder_name}: {exc}") from exc
        info = self._record(KIND_FOLDER_ZIP, key, seconds, note, folder_id=folder_id, bucket=bucket)
        log.info("shared folder %d as a zip of %d files (share %d)", folder_id, written, info.id)
        result.links.append(ShareLink(info, self._sign(bucket, key, seconds)))
        return result

    def _write_zip(
        self,
        bucket: ShareBucket,
        archive: Path,
        files: list[tuple[int, str]],
        result: FolderShare,
        progress: Callable[[int, int], None] | None,
        cancel: threading.Event | None,
    ) -> int:
        """Write ``files`` into ``archive``; returns how many went in (failures in ``result``)."""
        written = 0
        try:
            with zipfile.ZipFile(archive, "w", allowZip64=True) as zf:
                for done, (fid, relative) in enumerate(files, 1):
                    if cancel is not None and cancel.is_set():
                        raise Refused("Sharing the folder was cancelled; nothing was shared.")
                    try:
                        self._zip_one(bucket, zf, fid, relative)
                        written += 1
                    except _Damaged:
                        raise
                    except VaultError as exc:
                        result.failed.append((relative, str(exc)))
                    if progress:
                        progress(done, len(files))
        except OSError as exc:
            raise StorageError(f"Cannot write the zip: {exc.strerror or exc}.") from exc
        return written

    def _zip_one(
        self, bucket: ShareBucket, zf: zipfile.ZipFile, file_id: int, arcname: str
    ) -> None:
        with self.reading() as session:
            file = self._file(session, file_id)
            version = session.get(Version, file.current_version_id)
            if version is None:
                raise NotFound(f'"{file.name}" has no content.')
            blob_hash, size, kind = version.blob_hash, version.size, file.kind
            stamp = max(file.modified_at, _ZIP_EPOCH)
        path = self.fetch(blob_hash, store=bucket.store, name=arcname)
        info = zipfile.ZipInfo(arcname, stamp.timetuple()[:6])
        info.compress_type = (
            zipfile.ZIP_STORED if kind in ZIP_STORED_KINDS else zipfile.ZIP_DEFLATED
        )
        info.file_size = size
        hasher = hashlib.sha256()
        with open(path, "rb") as src, zf.open(info, "w", force_zip64=size >= 1 << 31) as out:
            while chunk := src.read(ZIP_CHUNK):
                hasher.update(chunk)
                out.write(chunk)
        if hasher.hexdigest() != blob_hash:
            # The entry is already in the zip: the whole share must not go out.
            raise _Damaged(
                f"The stored content of {arcname} is damaged (checksum mismatch); "
                "the folder was not shared.",
                "Run `mediavault verify`; a synced copy can be fetched again.",
            )

    # -- upload requests -----------------------------------------------------------

    def create_upload_request(
        self,
        folder_id: int,
        expires_in: timedelta = timedelta(days=7),
        max_bytes: int = 1 << 30,
        note: str = "",
    ) -> UploadRequest:
        """Ask someone for a file: a pre-signed POST policy for one file of at most
        ``max_bytes`` (1 byte to 5 GiB) under ``<prefix>/inbox/<random id>/``,
        valid for ``expires_in`` (1 hour to 7 days). The next sync imports what
        arrives into ``folder_id``.

        Raises :class:`Refused` for a size or duration out of range,
        :class:`NotFound`, :class:`NoRemote` and :class:`StorageError`.
        """
        seconds = expiry_seconds(expires_in)
        from storage.share_objects import MAX_POST_BYTES

        if not 1 <= max_bytes <= MAX_POST_BYTES:
            raise Refused("An upload request accepts files of 1 byte to 5 GiB.")
        with self.reading() as session:
            self._folder(session, folder_id)
        bucket = self._share_bucket()
        prefix = bucket.inbox_prefix(secrets_module.token_urlsafe(18))
        policy = self._sign_post(bucket, prefix, max_bytes, seconds)
        info = self._record(
            KIND_UPLOAD, prefix, seconds, note, folder_id=folder_id, max_bytes=max_bytes
        )
        log.info("upload request %d into folder %d", info.id, folder_id)
        return UploadRequest(
            info, policy.url, policy.fields, curl_command(policy.url, policy.fields)
        )

    def _record(
        self,
        kind: str,
        object_key: str,
        seconds: int,
        note: str,
        *,
        file_id: int | None = None,
        folder_id: int | None = None,
        version_id: int | None = None,
        max_bytes: int | None = None,
        bucket: ShareBucket | None = None,
    ) -> ShareInfo:
        """Write a share's row (it expires ``seconds`` from now); its info.

        With ``bucket``, the object at ``object_key`` is deleted again if the row
        cannot be written: no copy in the bucket without a record of it.
        """
        created = now()
        try:
            with self.writing() as session:
                row = Share(
                    file_id=file_id,
                    folder_id=folder_id,
                    version_id=version_id,
                    kind=kind,
                    object_key=object_key,
                    note=note,
                    created_at=created,
                    expires_at=created + timedelta(seconds=seconds),
                    max_bytes=max_bytes,
                )
                session.add(row)
                session.flush()
                return self._share_info(session, row, created)
        except BaseException:
            if bucket is not None:
                self._delete_quietly(bucket, object_key)
            raise

    @staticmethod
    def _sign_post(bucket: ShareBucket, prefix: str, max_bytes: int, seconds: int) -> UploadPolicy:
        try:
            return bucket.presign_post(prefix, max_bytes, max(1, seconds))
        except RemoteError as exc:
            raise _remote_failure(exc, "sign the upload request") from exc

    def upload_request(self, share_id: int) -> UploadRequest:
        """An active upload request's policy, signed again for the time it has left.

        Raises :class:`Refused` when it was revoked or has expired, or is not an
        upload request.
        """
        moment = now()
        with self.reading() as session:
            info = self._share_info(session, self._share_row(session, share_id), moment)
        if info.kind != KIND_UPLOAD:
            raise Refused("That share is a link, not an upload request.")
        self._refuse_inactive(info, moment)
        seconds = int((info.expires_at - moment).total_seconds())
        policy = self._sign_post(
            self._share_bucket(), info.object_key, info.max_bytes or 1, seconds
        )
        return UploadRequest(
            info, policy.url, policy.fields, curl_command(policy.url, policy.fields)
        )

    def upload_requests(self, include_past: bool = True) -> list[ShareInfo]:
        """Upload requests, newest first (only active ones unless ``include_past``)."""
        moment = now()
        query = (
            select(Share)
            .where(Share.kind == KIND_UPLOAD)
            .order_by(Share.created_at.desc(), Share.id.desc())
        )
        if not include_past:
            query = query.where(Share.revoked_at.is_(None), Share.expires_at > moment)
        with self.reading() as session:
            return [self._share_info(session, s, moment) for s in session.scalars(query)]

    def upload_arrivals(self, share_id: int) -> list[Arrival]:
        """What an upload request brought in (and what it refused), oldest first."""
        from app.inbox import arrivals

        with self.reading() as session:
            self._share_row(session, share_id)
            return arrivals(session, share_id)

    def write_upload_form(self, request: UploadRequest, target: Path) -> Path:
        """Write ``request``'s HTML form to ``target`` (replacing it); returns the path.

        Raises :class:`StorageError` when it cannot be written.
        """
        try:
            target.write_text(request.html(), encoding="utf-8")
        except OSError as exc:
            raise StorageError(f"Cannot write {target}: {exc.strerror or exc}.") from exc
        return target

    def shares_touching(self, file_ids: list[int]) -> dict[int, int]:
        """How many active link shares each of ``file_ids`` has (for badges); absent = 0."""
        moment = now()
        with self.reading() as session:
            counts: dict[int, int] = {}
            for fid in session.scalars(
                select(Share.file_id).where(
                    Share.file_id.in_(file_ids),
                    Share.revoked_at.is_(None),
                    Share.expires_at > moment,
                    Share.kind == KIND_DOWNLOAD,
                )
            ):
                if fid is not None:
                    counts[fid] = counts.get(fid, 0) + 1
            return counts
