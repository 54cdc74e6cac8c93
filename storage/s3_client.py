"""The one place a boto3 S3 client is made, for every S3-compatible service.

AWS (empty endpoint), MinIO, Cloudflare R2, DigitalOcean Spaces, Backblaze B2
and Wasabi differ only in what :class:`RemoteSpec` holds. Credentials are
passed in by the caller (from the AWS chain or the OS keyring) and are never
stored here, logged, or put in an error message.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import boto3
import botocore
import botocore.session
from botocore.config import Config
from botocore.utils import parse_timestamp

ADDRESSING_STYLES = ("path", "virtual", "auto")

# A fixed User-Agent: botocore otherwise rebuilds and sanitises its own from some
# thirty parts twice per request, about a tenth of the CPU a small GET costs.
USER_AGENT = (
    f"mediavault Boto3/{boto3.__version__} Botocore/{botocore.__version__}"
    f" Python/{platform.python_version()} {platform.system()}/{platform.release()}"
)


def parse_time(value: Any) -> datetime:
    """The timestamps in S3's answers, with the standard library's parsers.

    ``Last-Modified`` headers (RFC 7231) and ISO 8601 times in listings; anything
    else, or a time without a zone, goes to botocore's own parser (dateutil,
    several times slower: a tenth of a small GET's CPU). Always zone-aware.
    """
    if isinstance(value, str):
        try:
            parsed = (
                datetime.fromisoformat(value)
                if value[:4].isdigit()
                else parsedate_to_datetime(value)
            )
        except (ValueError, TypeError, IndexError):
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    result: datetime = parse_timestamp(value)
    return result


@dataclass(frozen=True)
class RemoteSpec:
    """Where a vault's bucket is. No secrets here: this is safe to save and show.

    Attributes:
        bucket: the bucket's name.
        endpoint_url: the service's URL; "" for AWS S3.
        region: e.g. "us-east-1"; "" lets the service decide.
        prefix: key prefix inside the bucket ("" for the bucket's root), no slashes
            at either end; blobs go under ``<prefix>/blobs/ab/<hash>``.
        addressing_style: "path", "virtual" or "auto".
        verify_tls: False to skip certificate checks (self-signed test servers).
        ca_bundle: a CA bundle file to trust instead of the system's, or "".
        profile: a named profile from the shared AWS files, or "".
    """

    bucket: str
    endpoint_url: str = ""
    region: str = ""
    prefix: str = ""
    addressing_style: str = "auto"
    verify_tls: bool = True
    ca_bundle: str = ""
    profile: str = ""

    def key(self, *parts: str) -> str:
        """An object key under the prefix: ``key("blobs", "ab/abcd…")``."""
        return "/".join(p.strip("/") for p in (self.prefix, *parts) if p.strip("/"))


@dataclass(frozen=True)
class Credentials:
    """An access key pair (and session token). ``repr`` never shows the secret."""

    access_key_id: str
    secret_access_key: str
    session_token: str = ""

    def __repr__(self) -> str:
        return f"Credentials(access_key_id={self.access_key_id!r}, secret_access_key='***')"


def make_client(
    spec: RemoteSpec,
    credentials: Credentials | None = None,
    *,
    max_pool: int = 16,
    connect_timeout: float = 10.0,
    read_timeout: float = 60.0,
) -> Any:
    """A boto3 S3 client for ``spec``.

    ``credentials`` None means the standard AWS chain (environment, shared
    files, ``spec.profile``, instance roles). botocore's own retries are turned
    off: retrying is the store's job, so that every attempt is counted and
    classified in one place. The User-Agent is fixed (:data:`USER_AGENT`) and
    timestamps are parsed by :func:`parse_time`: both cut botocore's CPU per
    request.
    """
    core = botocore.session.get_session()
    # This session's clients only (make_client makes a session per client).
    core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=parse_time)
    session = boto3.session.Session(botocore_session=core, profile_name=spec.profile or None)
    config = Config(
        user_agent=USER_AGENT,
        region_name=spec.region or None,
        signature_version="s3v4",
        # Bodies are guarded by the checksum header each upload carries (SHA-256 for
        # a single PUT, CRC32 per part) and that header is signed, so the payload
        # itself is not hashed again for the signature: botocore does the same over
        # https; over http it would hash every byte once more (a second of CPU per
        # GiB). rclone sends unsigned payloads to every provider but AWS.
        s3={"addressing_style": spec.addressing_style, "payload_signing_enabled": False},
        retries={"total_max_attempts": 1, "mode": "standard"},
        max_pool_connections=max_pool,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        # Checksums only where the operation requires them: several S3-compatible
        # services reject the newer default trailing checksums on every PUT.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    kwargs: dict[str, Any] = {"config": config}
    if spec.endpoint_url:
        kwargs["endpoint_url"] = spec.endpoint_url
    if not spec.verify_tls:
        kwargs["verify"] = False
    elif spec.ca_bundle:
        kwargs["verify"] = spec.ca_bundle
    if credentials is not None:
        kwargs["aws_access_key_id"] = credentials.access_key_id
        kwargs["aws_secret_access_key"] = credentials.secret_access_key
        if credentials.session_token:
            kwargs["aws_session_token"] = credentials.session_token
    client = session.client("s3", **kwargs)
    # Last on the generic event, so it runs after botocore's own add_expect_header.
    client.meta.events.register_last("before-call.s3", _no_continue_for_small_bodies)
    return client


CONTINUE_FROM = 2 * 1024 * 1024  # bodies at least this big wait for "100 Continue"


def _no_continue_for_small_bodies(params: dict[str, Any], **_: Any) -> None:
    """Drop ``Expect: 100-continue`` from requests with small bodies.

    botocore asks for it on every PUT with a body; waiting for the answer costs
    a round trip per request, which for a small file is most of its upload. It
    only saves sending a body the service would refuse, which matters for big
    ones (the Go SDK draws the same line at 2 MiB).
    """
    headers = params.get("headers", {})
    if "Expect" not in headers:
        return
    try:
        length = int(headers.get("Content-Length", CONTINUE_FROM))
    except ValueError:
        return
    if length < CONTINUE_FROM:
        del headers["Expect"]
