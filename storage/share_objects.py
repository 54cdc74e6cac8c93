"""The bucket side of sharing: share objects, pre-signed links and upload policies.

A share is a plain object under ``<prefix>/shares/<id>/<name>``, apart from the
content-addressed blobs, so that deleting it (revoking) kills the link at once
without touching the vault's own copy; an upload request is a pre-signed POST
policy for keys under ``<prefix>/inbox/<id>/``. Nothing here knows the catalog:
callers pass keys, names and types, and get plain values back.

Every request goes through :func:`storage.retry.with_retries`, and botocore's
errors leave as :class:`~storage.errors.RemoteError` from
:func:`storage.s3.translate_error` (never with a secret in the message). A
pre-signed URL is computed locally (no request) and carries a signature, so
callers must never log or store it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import quote

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from storage.errors import BlobNotFound, ChecksumMismatch, RemoteError, SourceError
from storage.retry import with_retries
from storage.s3 import S3BlobStore, translate_error

T = TypeVar("T")

SHARES = "shares"
INBOX = "inbox"
# SigV4 signatures cannot be valid for longer than this (AWS and the services that
# copy its signing rules refuse an X-Amz-Expires above 604800 seconds).
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
# One POST upload is a single PUT on the service's side: 5 GiB at most.
MAX_POST_BYTES = 5 << 30
CHUNK = 1 << 20
# s3transfer's managed upload/copy: multipart from 64 MiB, in 16 MiB parts.
_TRANSFER = TransferConfig(
    multipart_threshold=64 << 20, multipart_chunksize=16 << 20, max_concurrency=4
)
_UNSAFE_ASCII = re.compile(r'[^\x20-\x7e]|["\\]')


def content_disposition(name: str) -> str:
    """``attachment`` with ``name`` for every browser (RFC 6266 with RFC 5987/8187).

    ``filename`` is an ASCII fallback (accents dropped, other characters as
    ``_``, no quote or backslash); ``filename*`` carries the exact UTF-8 name,
    percent-encoded, for the browsers that read it (all current ones).
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = _UNSAFE_ASCII.sub("_", folded).strip() or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@dataclass(frozen=True)
class BucketObject:
    """An object found under a share or inbox prefix.

    Attributes:
        key: its full key.
        size: its size in bytes.
        modified: when the service stored it (aware, UTC).
    """

    key: str
    size: int
    modified: datetime


@dataclass(frozen=True)
class UploadPolicy:
    """A pre-signed POST policy: the form's action URL and its hidden fields.

    Attributes:
        url: where the form is posted.
        fields: the form fields, in order; the file part must come after them.
        prefix: the key prefix every upload must start with.
        max_bytes: the largest file the policy accepts.
    """

    url: str
    fields: dict[str, str]
    prefix: str
    max_bytes: int


class _HashingReader:
    """A file reader that hashes what it hands out (s3transfer reads a file object in order)."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self.sha256.update(data)
        return data


class ShareBucket:
    """Share and inbox objects in a vault's bucket. Thread-safe (one boto3 client).

    Attributes:
        store: the vault's blob store, whose client, bucket and prefix are used.
    """

    def __init__(self, store: S3BlobStore, secrets: tuple[str, ...] = ()) -> None:
        """``secrets`` are masked out of any error message (the store's keys)."""
        self.store = store
        self._bucket = store.spec.bucket
        self._secrets = secrets

    # -- plumbing ----------------------------------------------------------------

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return with_retries(fn)
        except (BotoCoreError, ClientError, ConnectionError) as exc:
            raise translate_error(exc, what, secrets=self._secrets) from exc

    def share_key(self, token: str, name: str) -> str:
        """The key of a share object: ``<prefix>/shares/<token>/<name>``."""
        return self.store.spec.key(SHARES, token, name)

    def inbox_prefix(self, token: str) -> str:
        """The key prefix of an upload request, with its trailing slash."""
        return self.store.spec.key(INBOX, token) + "/"

    # -- share objects ------------------------------------------------------------

    def put_file(
        self,
        key: str,
        handle: BinaryIO,
        *,
        content_type: str,
        file_name: str,
        sha256: str | None = None,
    ) -> None:
        """Upload ``handle``'s bytes to ``key`` as a download named ``file_name``.

        Large files go up in parts (s3transfer's managed upload). With
        ``sha256``, the bytes read must hash to it; otherwise the object is
        deleted again and :class:`ChecksumMismatch` raised, so a damaged local
        copy is never left to be shared. Raises :class:`RemoteError`, and
        :class:`SourceError` when ``handle`` cannot be read.
        """
        reader = _HashingReader(handle)
        extra = {
            "ContentType": content_type,
            "ContentDisposition": content_disposition(file_name),
            # Every PUT and part carries a checksum the service verifies: payloads
            # are not signed (see make_client).
            "ChecksumAlgorithm": "CRC32",
        }

        def upload() -> None:
            self.store.client.upload_fileobj(
                reader, self._bucket, key, ExtraArgs=extra, Config=_TRANSFER
            )

        try:
            # No retries around a stream that has been read: s3transfer retries parts itself.
            upload()
        except OSError as exc:
            raise SourceError(f"it could not be read: {exc.strerror or exc}") from exc
        except (BotoCoreError, ClientError) as exc:
            raise translate_error(exc, f"upload {key}", secrets=self._secrets) from exc
        if sha256 is not None and reader.sha256.hexdigest() != sha256:
            self.delete(key)
            raise ChecksumMismatch(f"the content shared as {key} does not match its checksum")

    def put_path(self, key: str, path: Path, *, content_type: str, file_name: str) -> None:
        """Upload the file at ``path`` to ``key`` as a download named ``file_name``."""
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise SourceError(f"it could not be read: {exc.strerror or exc}") from exc
        with handle:
            self.put_file(key, handle, content_type=content_type, file_name=file_name)

    def copy_blob(self, blob_hash: str, key: str, *, content_type: str, file_name: str) -> None:
        """Copy the bucket's blob ``blob_hash`` to ``key`` on the service's side, as a
        download named ``file_name`` (managed copy: in parts above 64 MiB).

        Raises :class:`BlobNotFound` when the bucket has no such blob, and
        :class:`RemoteError` for everything else.
        """
        source = {"Bucket": self._bucket, "Key": self.store.key(blob_hash)}
        extra = {
            "ContentType": content_type,
            "ContentDisposition": content_disposition(file_name),
            "MetadataDirective": "REPLACE",
        }
        try:
            with_retries(
                partial(
                    self.store.client.copy,
                    source,
                    self._bucket,
                    key,
                    ExtraArgs=extra,
                    Config=_TRANSFER,
                )
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                raise BlobNotFound(blob_hash) from exc
            raise translate_error(exc, f"copy {blob_hash[:12]}…", secrets=self._secrets) from exc
        except (BotoCoreError, ConnectionError) as exc:
            raise translate_error(exc, f"copy {blob_hash[:12]}…", secrets=self._secrets) from exc

    def presign_get(self, key: str, seconds: int) -> str:
        """A GET URL for ``key`` valid for ``seconds`` (1 to 7 days' worth); no request made.

        Raises :class:`ValueError` outside that range (SigV4's limit).
        """
        if not 1 <= seconds <= MAX_PRESIGN_SECONDS:
            raise ValueError("a pre-signed URL lasts 1 second to 7 days")
        url: str = self._call(
            "sign the link",
            lambda: self.store.client.generate_presigned_url(
                "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=seconds
            ),
        )
        return url

    def delete(self, key: str) -> None:
        """Delete ``key``. Idempotent: an absent object is not an error."""
        try:
            with_retries(lambda: self.store.client.delete_object(Bucket=self._bucket, Key=key))
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in ("404", "NoSuchKey"):
                return
            raise translate_error(exc, f"delete {key}", secrets=self._secrets) from exc
        except (BotoCoreError, ConnectionError) as exc:
            raise translate_error(exc, f"delete {key}", secrets=self._secrets) from exc

    def list(self, prefix: str) -> Iterator[BucketObject]:
        """Every object whose key starts with ``prefix`` (a full key prefix), paginated."""
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": self._bucket, "Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call(
                f"list {prefix}", partial(self.store.client.list_objects_v2, **kwargs)
            )
            for item in page.get("Contents", []):
                yield BucketObject(str(item["Key"]), int(item["Size"]), item["LastModified"])
            token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
            if not token:
                return

    def list_shares(self) -> Iterator[BucketObject]:
        """Every share object of the vault."""
        return self.list(self.store.spec.key(SHARES) + "/")

    def list_inbox(self) -> Iterator[BucketObject]:
        """Every object uploaded through any upload request, not yet collected."""
        return self.list(self.store.spec.key(INBOX) + "/")

    # -- upload requests -------------------------------------------------------------

    def presign_post(self, prefix: str, max_bytes: int, seconds: int) -> UploadPolicy:
        """A POST policy for one file of 1 to ``max_bytes`` bytes under ``prefix``.

        The key is ``<prefix>${filename}`` (the service puts the uploaded file's
        own name there); the form may add an ``x-amz-meta-sender`` field (any
        text) saying who sends it. Raises :class:`ValueError` for a size or a
        duration out of range.
        """
        if not 1 <= max_bytes <= MAX_POST_BYTES:
            raise ValueError("an upload may be 1 byte to 5 GiB")
        if not 1 <= seconds <= MAX_PRESIGN_SECONDS:
            raise ValueError("an upload policy lasts 1 second to 7 days")
        fields = {"x-amz-meta-sender": "", "success_action_status": "201"}
        conditions: list[Any] = [
            ["content-length-range", 1, max_bytes],
            ["starts-with", "$x-amz-meta-sender", ""],
            {"success_action_status": "201"},
        ]
        post: dict[str, Any] = self._call(
            "sign the upload request",
            lambda: self.store.client.generate_presigned_post(
                self._bucket,
                prefix + "${filename}",
                Fields=fields,
                Conditions=conditions,
                ExpiresIn=seconds,
            ),
        )
        return UploadPolicy(
            str(post["url"]),
            {str(k): str(v) for k, v in post["fields"].items()},
            prefix,
            max_bytes,
        )

    def head(self, key: str) -> dict[str, Any] | None:
        """The object's HEAD answer (``ContentLength``, ``Metadata``, ``ETag``…), None if absent."""
        try:
            response: dict[str, Any] = with_retries(
                lambda: self.store.client.head_object(Bucket=self._bucket, Key=key)
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if code in ("404", "NoSuchKey", "NotFound") or status == 404:
                return None
            raise translate_error(exc, f"look up {key}", secrets=self._secrets) from exc
        except (BotoCoreError, ConnectionError) as exc:
            raise translate_error(exc, f"look up {key}", secrets=self._secrets) from exc
        return response

    def download(self, key: str, target: Path, *, limit: int) -> tuple[int, str]:
        """Write the object at ``key`` into the new file ``target``; ``(size, md5 hex)``.

        Stops with :class:`ChecksumMismatch` as soon as more than ``limit`` bytes
        arrive (the object grew past what its upload request allowed). Raises
        :class:`BlobNotFound` when absent, :class:`RemoteError`, or
        :class:`OSError` when ``target`` cannot be written. ``target`` is removed
        on every failure.
        """

        def attempt() -> tuple[int, str]:
            response = self.store.client.get_object(Bucket=self._bucket, Key=key)
            body = response["Body"]
            md5 = hashlib.md5(usedforsecurity=False)
            size = 0
            try:
                with open(target, "wb") as out:
                    while chunk := body.read(CHUNK):
                        size += len(chunk)
                        if size > limit:
                            raise ChecksumMismatch(f"{key} is larger than {limit} bytes")
                        md5.update(chunk)
                        out.write(chunk)
                    out.flush()
            finally:
                body.close()
            return size, md5.hexdigest()

        try:
            return with_retries(attempt)
        except ClientError as exc:
            target.unlink(missing_ok=True)
            if str(exc.response.get("Error", {}).get("Code", "")) in ("404", "NoSuchKey"):
                raise BlobNotFound(key) from exc
            raise translate_error(exc, f"download {key}", secrets=self._secrets) from exc
        except (BotoCoreError, ConnectionError) as exc:
            target.unlink(missing_ok=True)
            raise translate_error(exc, f"download {key}", secrets=self._secrets) from exc
        except BaseException:
            target.unlink(missing_ok=True)
            raise


__all__ = [
    "MAX_POST_BYTES",
    "MAX_PRESIGN_SECONDS",
    "BucketObject",
    "RemoteError",
    "ShareBucket",
    "UploadPolicy",
    "content_disposition",
]
