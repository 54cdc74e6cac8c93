"""Blobs in an S3-compatible bucket: ``<prefix>/blobs/ab/<sha256>``.

Every request goes through :func:`storage.retry.with_retries` (each multipart
part on its own), and every botocore error leaves this module translated by
:func:`translate_error` into a :class:`~storage.errors.StoreError`:
:class:`BlobNotFound` for an absent blob, :class:`RemoteError` (with a ``kind``
and a ``hint``) for everything the service or the network did, and
:class:`ChecksumMismatch` when bytes do not hash to their name.

Uploads are idempotent and resumable (STYLE.md §4):

* ``put`` first asks (HEAD) whether the object is already there with the same
  size (and the same SHA-256, where the service returns one) and then does
  nothing;
* small files go up in one PUT carrying ``x-amz-checksum-sha256``, which a
  conforming service verifies (a mismatch is refused with BadDigest);
* large files go up in 16 MiB parts, each with its own CRC32, up to
  ``part_concurrency`` of them in flight at once (the service works on one
  while the next is read, hashed and sent), and at most ``parts_in_memory``
  parts held for all uploads together. Parts start in order: a part's
  request is not begun before the previous part's has been handed to the
  connection, and once a part fails no later part starts, so an interrupted
  upload holds the first parts plus at most the few that were in flight.
  The upload id is handed to ``on_upload_id`` as soon as it exists so the
  caller can persist it; calling ``put`` again with that ``upload_id`` asks
  the service which parts it holds (``ListParts``) and sends only the missing
  or unusable ones.
* The file is hashed while it is read and must match the blob's name, so a
  file that changed since it was hashed is never stored under the old name,
  even on a service that does not verify checksums.

Downloads land in ``<target>.partial``, are hashed while written, flushed, and
renamed into place only when the hash matches.

Once a first PUT or GET through botocore has shown where requests go, single
PUTs of bodies under 2 MiB and whole-blob GETs skip botocore's request
pipeline (:mod:`storage.s3_direct`): the same requests, signed and sent by
botocore's own parts, for about two thirds of the client's CPU per small file.
"""

from __future__ import annotations

import base64
import builtins
import errno
import hashlib
import io
import os
import re
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import parse_qs, urlsplit

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
    SSLError,
)

from storage.blobstore import HASH_RE, Features, blob_key
from storage.durable import fsync_path
from storage.errors import (
    BlobNotFound,
    ChecksumMismatch,
    RemoteError,
    SourceError,
    StoreError,
    StoreFull,
)
from storage.retry import classify, with_retries
from storage.s3_client import CONTINUE_FROM, Credentials, RemoteSpec, make_client
from storage.s3_direct import DirectRequests

MiB = 1 << 20
MIN_PART = 5 * MiB  # S3's smallest part, except the last
MAX_PARTS = 10_000  # S3's most parts in one upload
CHUNK = MiB
IN_MEMORY = 8 * MiB  # single PUTs up to this size are read into memory once
GET_PIECE = CHUNK  # the most read from a GET's body at once
LIST_PAGE = 1000  # keys per listing page (S3's maximum)
# Each part of a multipart upload carries a CRC32 (as the AWS SDKs' default does):
# it guards the part on the wire at a fraction of the service's cost for a
# SHA-256, while the blob's own SHA-256 is checked here as the file is read.
PART_CHECKSUM = "CRC32"
PART_CHECKSUMS = frozenset({"CRC32", "SHA256"})  # uploads started with SHA-256 still resume

T = TypeVar("T")
Progress = Callable[[int], None]

_NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound"})
_CREDENTIAL_CODES = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
    }
)
_CHECKSUM_CODES = frozenset({"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"})
_MD5_ETAG = re.compile(r'^"?[0-9a-f]{32}"?$')


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def translate_error(exc: BaseException, what: str, *, secrets: tuple[str, ...] = ()) -> RemoteError:
    """The :class:`RemoteError` for a botocore (or connection) error.

    ``what`` says what was being done ("upload ab12…", "list the bucket") and
    starts the message. Any of ``secrets`` that somehow appears in the text is
    masked; credentials are otherwise never part of a message.

    A HEAD request has no error body, so a 403 from ``stat`` cannot tell bad
    credentials from missing permissions: it is reported as "access-denied"
    with a hint covering both. :meth:`S3BlobStore.check` tells them apart.
    """
    retryable = classify(exc) == "retryable"
    kind, hint = "other", ""
    if isinstance(exc, ClientError):
        code, status = _code(exc), _status(exc)
        service_message = str(exc.response.get("Error", {}).get("Message", "") or "")
        detail = f"{code or status}" + (f": {service_message}" if service_message else "")
        if code in _CREDENTIAL_CODES:
            kind = "credentials"
            hint = "Check the access key and secret key (and that they are still active)."
        elif code == "NoSuchBucket":
            kind = "no-bucket"
            hint = "Check the bucket name and region, or create the bucket."
        elif code == "RequestTimeTooSkewed":
            kind = "clock-skew"
            hint = "This computer's clock is off; set it to update automatically."
        elif code in _CHECKSUM_CODES:
            kind = "checksum"
            hint = "The data changed on its way; try again."
        elif code in ("AuthorizationHeaderMalformed", "PermanentRedirect") or status == 301:
            kind = "wrong-region"
            hint = "Check the region set for this bucket."
        elif code == "AccessDenied" or status == 403:
            kind = "access-denied"
            hint = "The key is not allowed to do this: check its permissions (and the keys)."
        elif status == 404 and code in ("404", "NotFound"):
            kind = "no-bucket"
            hint = "Check the bucket name and region."
    elif isinstance(exc, SSLError):
        kind, detail = "tls", str(exc)
        hint = "The server's certificate is not trusted; check the endpoint or the CA bundle."
        retryable = False
    elif isinstance(exc, NoCredentialsError | PartialCredentialsError):
        kind, detail = "credentials", str(exc)
        hint = "Enter an access key and secret key for this bucket."
    elif isinstance(
        exc,
        EndpointConnectionError
        | ConnectTimeoutError
        | ReadTimeoutError
        | ConnectionClosedError
        | ConnectionError,
    ) or (retryable and not isinstance(exc, ClientError)):
        kind, detail = "unreachable", str(exc) or type(exc).__name__
        hint = "Check the network connection and the endpoint address."
    else:
        detail = str(exc) or type(exc).__name__
    message = f"could not {what}: {detail}"
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return RemoteError(message, kind, hint, retryable)


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _sha256_b64_of_hex(blob_hash: str) -> str:
    return _b64(bytes.fromhex(blob_hash))


def _part_checksum(algorithm: str, data: bytes) -> str:
    """``data``'s checksum as S3 writes it for ``algorithm`` (CRC32 or SHA256)."""
    if algorithm == "CRC32":
        return _b64(zlib.crc32(data).to_bytes(4, "big"))
    return _b64(hashlib.sha256(data).digest())


class _RemoteReader(io.RawIOBase):
    """A GET's body as a raw stream whose errors are :class:`RemoteError`."""

    def __init__(self, body: Any, translate: Callable[[BaseException], RemoteError]) -> None:
        self._body = body
        self._translate = translate

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data: bytes = self._body.read(len(view))
        except (BotoCoreError, OSError, ValueError) as exc:
            raise self._translate(exc) from exc
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


@dataclass(frozen=True)
class ListedBlobs:
    """What one listing page showed: the blobs the bucket held from ``start`` to
    ``end`` (both included; ``end`` None: the page was the last one).

    It answers for every hash in that range, and keeps answering while a sync
    goes on through the hashes in order (a sync into an empty bucket lists
    once). It may have aged by then: a blob another computer has added since is
    sent again (the same bytes under the same key, so nothing changes), and one
    removed since is still asked about first, as every blob the page shows.
    """

    start: str
    end: str | None
    held: frozenset[str]

    def covers(self, blob_hash: str) -> bool:
        return self.start <= blob_hash and (self.end is None or blob_hash <= self.end)

    def absent(self, hashes: Sequence[str]) -> set[str]:
        """Of ``hashes``, those the page covers and does not show."""
        return {h for h in hashes if self.covers(h) and h not in self.held}


@dataclass(frozen=True)
class UnfinishedUpload:
    """A multipart upload of a blob, started and neither completed nor aborted.

    Attributes:
        key: the object key it uploads to.
        upload_id: its id.
        initiated: when the service says it started (aware, UTC).
    """

    key: str
    upload_id: str
    initiated: datetime


class S3BlobStore:
    """Content-addressed blobs in one bucket, under ``spec.prefix``. Thread-safe.

    Attributes:
        spec: where the bucket is.
        features: no local paths; ranged reads.
        client: the boto3 client (from :func:`storage.s3_client.make_client`
            unless one was passed in).
        multipart_threshold: files of at least this many bytes go up in parts.
        part_size: bytes per part (raised when a file would need more than
            10,000 parts). Each part is held in memory from its read until
            its request ends. 16 MiB, as minio-go's and our shares' uploads:
            against moto's server, twice the AWS CLI's 8 MiB cost the service
            ~10% less CPU per byte (fewer parts to store and join) and went
            up ~10% faster; 32 MiB was slower.
        part_concurrency: parts of one upload in flight at once.
        parts_in_memory: parts held at once for all the uploads of this store
            together, from the read of each to the end of its request, so
            memory stays under ``parts_in_memory × part_size`` (128 MiB with
            the defaults) however many files go up at once. It also bounds
            the requests in flight: with the Syncer's 4 workers on big files,
            16 streams made moto's server spend up to 20% more CPU per byte
            than 8. The client's connection pool (``make_client``'s
            ``max_pool``, 16) must have room for them.
    """

    features = Features(local_path=False, ranged_reads=True)

    def __init__(
        self,
        spec: RemoteSpec,
        credentials: Credentials | None,
        *,
        multipart_threshold: int = 64 * MiB,
        part_size: int = 16 * MiB,
        part_concurrency: int = 4,
        parts_in_memory: int = 8,
        client: Any = None,
        attempts: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if part_size < MIN_PART:
            raise ValueError("part_size must be at least 5 MiB (S3's minimum)")
        if multipart_threshold < 1:
            raise ValueError("multipart_threshold must be positive")
        if part_concurrency < 1 or parts_in_memory < 1:
            raise ValueError("part_concurrency and parts_in_memory must be at least 1")
        self.spec = spec
        self.client = client if client is not None else make_client(spec, credentials)
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.part_concurrency = part_concurrency
        self._part_slots = threading.BoundedSemaphore(parts_in_memory)
        self._bucket = spec.bucket
        self._prefix = spec.key("blobs") + "/"
        self._attempts = attempts
        self._sleep = sleep
        self._secrets = (
            (credentials.secret_access_key, credentials.session_token) if credentials else ()
        )
        self._direct = DirectRequests(self.client)
        # (upload id, part number) -> set once that part's request is on its way.
        self._part_gates: dict[tuple[str, int], threading.Event] = {}
        self._gates_lock = threading.Lock()
        # Last, and on the less specific event, so that every other before-send
        # handler (including one that refuses the request) has run first.
        self.client.meta.events.register_last(
            "before-send.s3", self._part_on_its_way, unique_id=f"mv-part-gate-{id(self)}"
        )

    # --- plumbing -------------------------------------------------------

    def key(self, blob_hash: str) -> str:
        """The object key of a blob: ``<prefix>/blobs/ab/<hash>``."""
        return self.spec.key("blobs", blob_key(blob_hash))

    def _translate(self, exc: BaseException, what: str) -> RemoteError:
        return translate_error(exc, what, secrets=self._secrets)

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """``fn()`` with retries; errors translated. ClientErrors a caller must
        inspect (404, NoSuchUpload) are handled by catching before this."""
        try:
            return with_retries(fn, attempts=self._attempts, sleep=self._sleep)
        except (BotoCoreError, ClientError, ConnectionError) as exc:
            raise self._translate(exc, what) from exc

    def _raw(self, fn: Callable[[], T]) -> T:
        """``fn()`` with retries; errors raised untranslated for the caller to sort."""
        return with_retries(fn, attempts=self._attempts, sleep=self._sleep)

    def _head(self, blob_hash: str) -> dict[str, Any] | None:
        """The HEAD response, or None when the object is absent."""
        key = self.key(blob_hash)
        try:
            response: dict[str, Any] = self._raw(
                lambda: self.client.head_object(
                    Bucket=self._bucket, Key=key, ChecksumMode="ENABLED"
                )
            )
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND or _status(exc) == 404:
                return None
            raise self._translate(exc, f"look up {blob_hash[:12]}…") from exc
        except (BotoCoreError, ConnectionError) as exc:
            raise self._translate(exc, f"look up {blob_hash[:12]}…") from exc
        return response

    # --- the BlobStore contract -----------------------------------------

    def stat(self, blob_hash: str) -> int:
        """The blob's size in bytes. Raises :class:`BlobNotFound` when absent.

        Note: a missing bucket also answers HEAD with a bare 404, so it shows
        here as :class:`BlobNotFound`; :meth:`check` reports it properly.
        """
        head = self._head(blob_hash)
        if head is None:
            raise BlobNotFound(blob_hash)
        return int(head["ContentLength"])

    def open(self, blob_hash: str, offset: int = 0, length: int | None = None) -> BinaryIO:
        """A buffered reader of the blob's bytes from ``offset``, at most ``length`` of them.

        Only the requested range is fetched. Raises :class:`BlobNotFound` when
        absent; a range starting at or past the end reads as empty. Errors
        while reading are :class:`RemoteError`. Close it when done.
        """
        key = self.key(blob_hash)
        if offset < 0 or (length is not None and length < 0):
            raise ValueError("offset and length must not be negative")
        if length == 0:
            self.stat(blob_hash)  # absent must still raise
            return io.BytesIO(b"")
        kwargs: dict[str, Any] = {"Bucket": self._bucket, "Key": key}
        if offset or length is not None:
            end = "" if length is None else str(offset + length - 1)
            kwargs["Range"] = f"bytes={offset}-{end}"
        what = f"download {blob_hash[:12]}…"
        try:
            response = self._raw(lambda: self.client.get_object(**kwargs))
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND:
                raise BlobNotFound(blob_hash) from exc
            if _code(exc) == "InvalidRange":
                self.stat(blob_hash)
                return io.BytesIO(b"")
            raise self._translate(exc, what) from exc
        except (BotoCoreError, ConnectionError) as exc:
            raise self._translate(exc, what) from exc
        raw = _RemoteReader(response["Body"], lambda exc: self._translate(exc, what))
        return io.BufferedReader(raw, CHUNK)

    def _hash_of(self, key: str) -> str | None:
        """The blob hash a key names (``<prefix>/blobs/ab/<hash>``), or None for other keys."""
        rest = key[len(self._prefix) :]
        name = rest[3:]
        if key.startswith(self._prefix) and HASH_RE.match(name) and rest == blob_key(name):
            return name
        return None

    def list(self) -> Iterator[str]:
        """Every blob hash under the prefix (other keys are ignored), paginated."""
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": self._bucket, "Prefix": self._prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call("list the bucket", partial(self.client.list_objects_v2, **kwargs))
            for item in page.get("Contents", []):
                name = self._hash_of(str(item["Key"]))
                if name is not None:
                    yield name
            token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
            if not token:
                return

    def delete(self, blob_hash: str) -> None:
        """Remove the blob. Idempotent: deleting an absent blob is not an error."""
        key = self.key(blob_hash)
        try:
            self._raw(lambda: self.client.delete_object(Bucket=self._bucket, Key=key))
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND:
                return
            raise self._translate(exc, f"delete {blob_hash[:12]}…") from exc
        except (BotoCoreError, ConnectionError) as exc:
            raise self._translate(exc, f"delete {blob_hash[:12]}…") from exc

    def check(self) -> None:
        """Raise :class:`RemoteError` unless the bucket can be listed with these credentials.

        One cheap request, for "test connection": unlike HEAD it gets an error
        body, so bad keys ("credentials"), a missing bucket ("no-bucket") and
        missing permissions ("access-denied") are told apart.
        """
        self._call(
            "reach the bucket",
            lambda: self.client.list_objects_v2(
                Bucket=self._bucket, Prefix=self._prefix, MaxKeys=1
            ),
        )

    # --- upload ---------------------------------------------------------

    def _already_there(self, blob_hash: str, size: int) -> bool:
        head = self._head(blob_hash)
        if head is None or int(head["ContentLength"]) != size:
            return False
        checksum = head.get("ChecksumSHA256")
        etag = str(head.get("ETag", ""))
        # A multipart object's checksum is of its parts' checksums ("…-N"), not of the
        # bytes; only a single-part object's can be compared with the hash.
        if checksum and "-" not in etag and "-" not in str(checksum):
            return bool(checksum == _sha256_b64_of_hex(blob_hash))
        return True

    def put(
        self,
        blob_hash: str,
        path: Path,
        size: int,
        *,
        progress: Progress | None = None,
        upload_id: str | None = None,
        on_upload_id: Callable[[str], None] | None = None,
        absent: bool = False,
    ) -> None:
        """Upload the file at ``path`` as blob ``blob_hash`` (``size`` bytes).

        Idempotent: when the object already exists with this size (and, where the
        service returns one, this SHA-256) nothing is sent (and ``upload_id``, if
        given, is aborted). Files under ``multipart_threshold`` go up in one PUT;
        larger ones in parts: ``on_upload_id(id)`` is called as soon as the
        multipart upload exists, and passing that id back as ``upload_id`` after
        an interruption resumes it, sending only parts the service does not
        already hold intact. An ``upload_id`` the service no longer knows starts
        a new upload (and ``on_upload_id`` is called with the new id).

        ``progress(n)`` is called with the bytes confirmed by the service since
        the previous call (parts already there on resume count too); nothing is
        reported when the upload is skipped.

        ``absent`` True says the caller has seen (:meth:`listed_from`) that the
        bucket does not hold the blob: the HEAD before is skipped, and a single
        PUT whose answer echoes the SHA-256 it carried (which the service
        verified against the bytes) needs no HEAD after it either; without the
        echo, or for a multipart upload, the HEAD after is still made.

        Raises :class:`ChecksumMismatch` (nothing stored) when the file's bytes
        do not hash to ``blob_hash`` or its size differs from ``size``,
        :class:`SourceError` when the file cannot be read, :class:`RemoteError`
        for the service's and the network's failures. When this returns, the
        object exists with ``size`` bytes.
        """
        key = self.key(blob_hash)
        if not absent and self._already_there(blob_hash, size):
            if upload_id:
                self._abort_quietly(key, upload_id)
            return
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below; errors are sorted
        except OSError as exc:
            raise SourceError(f"it could not be read: {exc.strerror or exc}") from exc
        echoed = False
        with handle:
            if size < self.multipart_threshold:
                echoed = self._put_single(blob_hash, key, handle, size)
                if progress:
                    progress(size)
            else:
                self._put_multipart(blob_hash, key, handle, size, progress, upload_id, on_upload_id)
        if absent and echoed:
            return
        head = self._head(blob_hash)
        if head is None or int(head["ContentLength"]) != size:
            raise RemoteError(
                f"could not upload {blob_hash[:12]}…: the service reports a different size",
                "other",
                "Try again; if it keeps happening, the service may be misbehaving.",
            )

    @staticmethod
    def _read(handle: BinaryIO, length: int) -> bytes:
        try:
            return handle.read(length)
        except OSError as exc:
            raise SourceError(f"it could not be read: {exc.strerror or exc}") from exc

    def _hash(self, handle: BinaryIO) -> tuple[bytes, int]:
        """SHA-256 digest and size of what ``handle`` holds, read from its position."""
        hasher = hashlib.sha256()
        size = 0
        while chunk := self._read(handle, CHUNK):
            hasher.update(chunk)
            size += len(chunk)
        return hasher.digest(), size

    def _send_put(
        self,
        what: str,
        key: str,
        body: BinaryIO | bytes,
        size: int,
        checksum: str,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One PUT of ``body`` (the whole of a handle, or bytes) with its checksum,
        retried from the start; the service's answer.

        Small bodies without metadata go through :class:`DirectRequests` once
        botocore has shown where requests go; everything else through
        ``put_object``.
        """
        small = body if isinstance(body, bytes) and size < CONTINUE_FROM and not metadata else None

        def send() -> Any:
            if small is not None:
                answer = self._direct.put(key, small, checksum)
                if answer is not None:
                    return answer
            elif not isinstance(body, bytes):
                body.seek(0)
            response = self.client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentLength=size,
                # With the algorithm named, services (moto too) echo the checksum
                # they verified in their answer, which put() then checks.
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=checksum,
                Metadata=metadata or {},
            )
            if small is not None:
                self._direct.learn(key)
            return response

        response: dict[str, Any] = self._call(what, send)
        return response

    def _put_single(self, blob_hash: str, key: str, handle: BinaryIO, size: int) -> bool:
        """One checksummed PUT; True if the answer echoes the checksum sent.

        A file up to :data:`IN_MEMORY` bytes is read once into memory, hashed
        and sent from there; a bigger one is hashed while read, then streamed
        from the file. An echo of another checksum (the service stored other
        bytes) is a :class:`RemoteError`.
        """
        body: BinaryIO | bytes = handle
        if size <= IN_MEMORY:
            data = self._read(handle, size + 1)  # one byte more: a file that grew
            digest, total = hashlib.sha256(data).digest(), len(data)
            body = data
        else:
            digest, total = self._hash(handle)
        if total != size or digest.hex() != blob_hash:
            raise ChecksumMismatch(
                f"the file to upload as {blob_hash[:12]}… no longer has that content"
            )
        checksum = _b64(digest)
        what = f"upload {blob_hash[:12]}…"
        echo = self._send_put(what, key, body, size, checksum).get("ChecksumSHA256")
        if echo and echo != checksum:
            raise RemoteError(
                f"could not {what}: the service reports another checksum",
                "checksum",
                "The data changed on its way; try again.",
                True,
            )
        return bool(echo)

    def listed_from(self, blob_hash: str) -> ListedBlobs | None:
        """One listing page (:data:`LIST_PAGE` keys at most) of the blobs from ``blob_hash`` on.

        Never raises: None when the listing fails, so callers ask per blob as
        usual. One listing costs the service about what a few HEADs do, so it pays
        for itself only when it answers for many blobs at once.
        """
        # Keys sort as their hashes do (``<prefix>/blobs/ab/<hash>``); start just
        # before this one.
        try:
            page = self._call(
                "list the bucket",
                partial(
                    self.client.list_objects_v2,
                    Bucket=self._bucket,
                    Prefix=self._prefix,
                    StartAfter=self.key(blob_hash)[:-1],
                    MaxKeys=LIST_PAGE,
                ),
            )
            listed = [str(item["Key"]) for item in page.get("Contents", [])]
        except (StoreError, KeyError, TypeError):
            return None
        held = frozenset(k.rsplit("/", 1)[-1] for k in listed)
        if not page.get("IsTruncated"):
            return ListedBlobs(blob_hash, None, held)
        if not listed:
            return None
        return ListedBlobs(blob_hash, listed[-1].rsplit("/", 1)[-1], held)

    def _part_size(self, size: int) -> int:
        needed = -(-size // MAX_PARTS)
        return max(self.part_size, -(-needed // MiB) * MiB)

    def _list_parts(self, key: str, upload_id: str) -> tuple[dict[int, dict[str, Any]], str]:
        """The parts the service holds and the upload's checksum algorithm ("" if
        none is given); raises ClientError NoSuchUpload untranslated."""
        parts: dict[int, dict[str, Any]] = {}
        algorithm = ""
        marker = 0
        while True:
            kwargs: dict[str, Any] = {
                "Bucket": self._bucket,
                "Key": key,
                "UploadId": upload_id,
                "PartNumberMarker": marker,
            }
            page = self._raw(partial(self.client.list_parts, **kwargs))
            algorithm = str(page.get("ChecksumAlgorithm") or algorithm).upper()
            for part in page.get("Parts", []):
                parts[int(part["PartNumber"])] = part
                # Some services name the algorithm only on each part's checksum.
                algorithm = algorithm or next(
                    (a for a in PART_CHECKSUMS if part.get(f"Checksum{a}")), ""
                )
            if not page.get("IsTruncated"):
                return parts, algorithm
            marker = int(page["NextPartNumberMarker"])

    @staticmethod
    def _usable(listed: dict[str, Any] | None, data: bytes, algorithm: str, checksum: str) -> bool:
        """True if a part the service already holds has exactly these bytes."""
        if listed is None or int(listed.get("Size", -1)) != len(data):
            return False
        if listed.get(f"Checksum{algorithm}"):
            return bool(listed[f"Checksum{algorithm}"] == checksum)
        etag = str(listed.get("ETag", ""))
        if _MD5_ETAG.match(etag):  # plain MD5 ETag (not SSE-KMS / SSE-C)
            return etag.strip('"') == hashlib.md5(data, usedforsecurity=False).hexdigest()
        return True  # nothing to compare with but the size

    def _put_multipart(
        self,
        blob_hash: str,
        key: str,
        handle: BinaryIO,
        size: int,
        progress: Progress | None,
        upload_id: str | None,
        on_upload_id: Callable[[str], None] | None,
    ) -> None:
        what = f"upload {blob_hash[:12]}…"
        listed: dict[int, dict[str, Any]] = {}
        algorithm = PART_CHECKSUM
        if upload_id:
            try:
                listed, algorithm = self._list_parts(key, upload_id)
            except ClientError as exc:
                if _code(exc) != "NoSuchUpload":
                    raise self._translate(exc, what) from exc
                upload_id = None
            except (BotoCoreError, ConnectionError) as exc:
                raise self._translate(exc, what) from exc
            if not algorithm:  # the service does not say: parts are matched by MD5 ETag
                algorithm = PART_CHECKSUM
            elif upload_id and algorithm not in PART_CHECKSUMS:
                # Not started by this code: parts of another checksum cannot be sent.
                self._abort_quietly(key, upload_id)
                upload_id, listed, algorithm = None, {}, PART_CHECKSUM
        if not upload_id:
            created = self._call(
                what,
                lambda: self.client.create_multipart_upload(
                    Bucket=self._bucket, Key=key, ChecksumAlgorithm=PART_CHECKSUM
                ),
            )
            upload_id = str(created["UploadId"])
            if on_upload_id:
                on_upload_id(upload_id)
        current_id = upload_id
        part_size = self._part_size(size)
        hasher = hashlib.sha256()
        etags: dict[int, tuple[str, str]] = {}  # part number -> (ETag, checksum)
        failed = threading.Event()  # no part starts once one has failed
        window: deque[tuple[int, Future[str | None]]] = deque()
        errors: list[BaseException] = []
        previous = threading.Event()
        previous.set()

        def send(
            number: int, data: bytes, checksum: str, after: threading.Event, gate: threading.Event
        ) -> str | None:
            """Upload one part once the one before it is on its way; its ETag, or None
            when an earlier part failed meanwhile (then nothing is sent). Releases
            the part's slot, taken by the reader."""
            try:
                after.wait()
                if failed.is_set():
                    return None

                def request() -> Any:
                    return self.client.upload_part(
                        Bucket=self._bucket,
                        Key=key,
                        UploadId=current_id,
                        PartNumber=number,
                        Body=data,
                        ContentLength=len(data),
                        **{f"Checksum{algorithm}": checksum},
                    )

                return str(self._call(f"{what} (part {number})", request)["ETag"])
            except BaseException:
                failed.set()
                raise
            finally:
                self._part_slots.release()
                with self._gates_lock:
                    self._part_gates.pop((current_id, number), None)
                gate.set()

        def collect() -> None:
            number, future = window.popleft()
            failure = future.exception()
            if failure is not None:
                errors.append(failure)  # the first one is raised once all are back
                return
            etag = future.result()
            if etag is not None:
                etags[number] = (etag, etags[number][1])
                if progress:
                    progress(sizes[number])

        sizes: dict[int, int] = {}
        pool = ThreadPoolExecutor(self.part_concurrency, thread_name_prefix="s3-part")
        try:
            for number, offset in enumerate(range(0, size, part_size), start=1):
                if failed.is_set():
                    break
                # A slot is taken before the read and handed to the part's task.
                # A part holding one is sent or waits only for the part before
                # it, which holds one too; the first of these waits for nothing,
                # so the slots cannot deadlock.
                self._part_slots.acquire()
                handed = False
                try:
                    data = self._read(handle, min(part_size, size - offset))
                    hasher.update(data)
                    if len(data) != min(part_size, size - offset):
                        break  # shorter than announced: reported below
                    checksum = _part_checksum(algorithm, data)
                    have = listed.get(number)
                    if have is not None and self._usable(have, data, algorithm, checksum):
                        etags[number] = (str(have["ETag"]), checksum)
                        if progress:
                            progress(len(data))
                        continue
                    etags[number] = ("", checksum)
                    sizes[number] = len(data)
                    gate = threading.Event()
                    with self._gates_lock:
                        self._part_gates[(current_id, number)] = gate
                    task = pool.submit(send, number, data, checksum, previous, gate)
                    handed = True
                finally:
                    if not handed:
                        self._part_slots.release()
                window.append((number, task))
                previous = gate
                del data  # the part is held by its task only, until sent
                while len(window) >= self.part_concurrency:
                    collect()
            while window:
                collect()
        except BaseException:
            failed.set()
            raise
        finally:
            # On the way out with an error: wait for the parts in flight (no later
            # part starts now), without reporting them.
            for _, future in window:
                future.exception()
            window.clear()
            pool.shutdown(wait=True)
        if errors:
            raise errors[0]
        parts = [
            {"PartNumber": number, "ETag": etag, f"Checksum{algorithm}": checksum}
            for number, (etag, checksum) in sorted(etags.items())
        ]
        if self._read(handle, 1) or hasher.hexdigest() != blob_hash:
            self._abort_quietly(key, current_id)
            raise ChecksumMismatch(
                f"the file to upload as {blob_hash[:12]}… no longer has that content"
            )
        try:
            self._raw(
                lambda: self.client.complete_multipart_upload(
                    Bucket=self._bucket,
                    Key=key,
                    UploadId=current_id,
                    MultipartUpload={"Parts": parts},
                )
            )
        except ClientError as exc:
            # A retried complete whose first answer was lost finds the upload gone.
            if _code(exc) == "NoSuchUpload" and self._already_there(blob_hash, size):
                return
            raise self._translate(exc, what) from exc
        except (BotoCoreError, ConnectionError) as exc:
            raise self._translate(exc, what) from exc

    def _part_on_its_way(self, request: Any, event_name: str = "", **_: Any) -> None:
        """botocore's before-send hook: opens the gate of the part being sent, if any."""
        if not event_name.endswith(".UploadPart") or not self._part_gates:
            return
        query = parse_qs(urlsplit(request.url).query)
        try:
            gate_key = (query["uploadId"][0], int(query["partNumber"][0]))
        except (KeyError, IndexError, ValueError):
            return
        with self._gates_lock:
            gate = self._part_gates.get(gate_key)
        if gate is not None:
            gate.set()

    def _abort_quietly(self, key: str, upload_id: str) -> None:
        try:
            self._raw(
                lambda: self.client.abort_multipart_upload(
                    Bucket=self._bucket, Key=key, UploadId=upload_id
                )
            )
        except (BotoCoreError, ClientError, ConnectionError):
            pass  # `mediavault cleanup` aborts it later

    def unfinished_uploads(self, started_before: datetime) -> builtins.list[UnfinishedUpload]:
        """Multipart uploads of blob keys started at or before ``started_before`` (aware)
        and neither completed nor aborted, by key. Other keys' uploads are left out."""
        found: builtins.list[UnfinishedUpload] = []
        markers: dict[str, str] = {}
        while True:
            kwargs: dict[str, Any] = {"Bucket": self._bucket, "Prefix": self._prefix, **markers}
            page = self._call(
                "list unfinished uploads", partial(self.client.list_multipart_uploads, **kwargs)
            )
            for upload in page.get("Uploads", []):
                key = str(upload["Key"])
                initiated: datetime = upload["Initiated"]
                if initiated.tzinfo is None:
                    initiated = initiated.replace(tzinfo=UTC)
                if self._hash_of(key) is not None and initiated <= started_before:
                    found.append(UnfinishedUpload(key, str(upload["UploadId"]), initiated))
            if not page.get("IsTruncated"):
                return sorted(found, key=lambda u: (u.key, u.initiated))
            markers = {
                "KeyMarker": str(page.get("NextKeyMarker", "")),
                "UploadIdMarker": str(page.get("NextUploadIdMarker", "")),
            }

    def abort_upload(self, key: str, upload_id: str) -> None:
        """Abort a multipart upload (its parts stop costing storage). Idempotent: one
        already gone counts as done. Raises :class:`RemoteError`."""
        try:
            self._raw(
                lambda: self.client.abort_multipart_upload(
                    Bucket=self._bucket, Key=key, UploadId=upload_id
                )
            )
        except ClientError as exc:
            if _code(exc) != "NoSuchUpload":
                raise self._translate(exc, f"abort the unfinished upload of {key}") from exc
        except (BotoCoreError, ConnectionError) as exc:
            raise self._translate(exc, f"abort the unfinished upload of {key}") from exc

    # --- download -------------------------------------------------------

    def download(
        self,
        blob_hash: str,
        target: Path,
        progress: Progress | None = None,
        *,
        durable: bool = True,
    ) -> None:
        """Fetch the blob into ``target``, verified: it appears only complete and correct.

        The bytes go to ``target.with_suffix(".partial")``, are hashed as they are
        written, flushed to disk, and renamed onto ``target`` if they hash to
        ``blob_hash``; otherwise the partial file is removed and
        :class:`ChecksumMismatch` is raised. A broken connection restarts the
        download (with retries). ``progress(n)`` gets bytes written since its last
        call (a restart reports negative bytes to undo). Raises
        :class:`BlobNotFound`, :class:`RemoteError`, or :class:`StoreError` /
        :class:`StoreFull` when the local disk fails.

        ``durable`` False is for a caller that makes a whole batch durable at
        once (``LocalBlobStore.publish``): ``target`` must then be a temp file of
        the caller's; the bytes are written straight into it, with no flush and
        no rename, and it is removed unless they hash to ``blob_hash``.
        """
        key = self.key(blob_hash)
        partial = target.with_suffix(".partial") if durable else target
        what = f"download {blob_hash[:12]}…"
        written = 0

        def attempt() -> str:
            nonlocal written
            if progress and written:
                progress(-written)
            written = 0
            response = self._direct.get(key)
            if response is None:
                response = self.client.get_object(Bucket=self._bucket, Key=key)
                self._direct.learn(key)
            hasher = hashlib.sha256()
            body = response["Body"]
            # A small blob in one read (each read of botocore's body costs more than
            # hashing and writing a small chunk); a big one in CHUNK pieces.
            size = int(response.get("ContentLength") or 0)
            piece = min(max(size, 1 << 16) + 1, GET_PIECE)
            try:
                with open(partial, "wb", buffering=0) as out:
                    while chunk := body.read(piece):
                        hasher.update(chunk)
                        view = memoryview(chunk)
                        while view:
                            view = view[out.write(view) :]
                        written += len(chunk)
                        if progress:
                            progress(len(chunk))
                    if durable:
                        os.fsync(out.fileno())
            finally:
                body.close()
            return hasher.hexdigest()

        try:
            digest = self._raw(attempt)
        except ClientError as exc:
            partial.unlink(missing_ok=True)
            if _code(exc) in _NOT_FOUND:
                raise BlobNotFound(blob_hash) from exc
            raise self._translate(exc, what) from exc
        except (BotoCoreError, ConnectionError) as exc:
            partial.unlink(missing_ok=True)
            raise self._translate(exc, what) from exc
        except OSError as exc:
            partial.unlink(missing_ok=True)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StoreFull("the disk is full") from exc
            raise StoreError(f"could not write {partial.name}: {exc.strerror or exc}") from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        if digest != blob_hash:
            partial.unlink(missing_ok=True)
            raise ChecksumMismatch(
                f"the downloaded copy of {blob_hash[:12]}… does not match its hash "
                "(the stored object is damaged or was replaced)"
            )
        if not durable:
            return
        try:
            os.replace(partial, target)
            fsync_path(target.parent, directory=True)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise StoreError(f"could not write {target.name}: {exc.strerror or exc}") from exc

    # --- other objects --------------------------------------------------

    def put_file(self, key: str, path: Path, *, metadata: dict[str, str] | None = None) -> None:
        """Upload the file at ``path`` to ``key`` (a full key, e.g. from ``spec.key``) in one PUT.

        For small non-blob objects such as catalog snapshots (at most 5 GiB). The
        request carries the file's SHA-256, which a conforming service verifies;
        retried like every request. Raises :class:`SourceError` when the file
        cannot be read and :class:`RemoteError` for the service's failures.
        """
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below; errors are sorted
        except OSError as exc:
            raise SourceError(f"it could not be read: {exc.strerror or exc}") from exc
        with handle:
            digest, size = self._hash(handle)
            self._send_put(f"upload {key}", key, handle, size, _b64(digest), metadata)
