"""A vault's one remote: where its bucket is, saved in the config dir, and a check that it works.

``<config>/remote.json`` holds the :class:`~storage.s3_client.RemoteSpec` fields and
where the keys come from (``"chain"``: the standard AWS chain; ``"keyring"``: the OS
keyring, see :mod:`app.credentials`). It never holds a key. :func:`check_remote` runs
list, put, get and delete against the bucket and says, per step, what went wrong and
what to do about it, without ever repeating the secret key.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ProfileNotFound,
)

from app.errors import StorageError, VaultError
from app.paths import VaultPaths
from storage.durable import fsync_path, write_atomically
from storage.s3 import translate_error
from storage.s3_client import ADDRESSING_STYLES, Credentials, RemoteSpec, make_client

log = logging.getLogger(__name__)

REMOTE_FILE = "remote.json"
CREDENTIAL_SOURCES = ("chain", "keyring")
PROBE_DIR = ".mediavault-probe"
CONNECT_TIMEOUT = 5.0  # seconds, for the check only
READ_TIMEOUT = 10.0

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION_RE = re.compile(r"^[a-z0-9-]{0,40}$")


class InvalidRemote(VaultError):
    """A remote setting that breaks a rule; the message names the rule."""


@dataclass(frozen=True)
class RemoteConfig:
    """A vault's remote: where the bucket is and where its keys come from.

    Attributes:
        spec: the bucket and how to reach it (no secrets).
        credentials: "chain" (environment variables, shared AWS files, ``spec.profile``)
            or "keyring" (the OS keyring, see :mod:`app.credentials`).
    """

    spec: RemoteSpec
    credentials: str = "chain"

    def to_json(self) -> dict[str, Any]:
        """The saved (and shown) form: the spec's fields plus ``credentials``."""
        return {**dataclasses.asdict(self.spec), "credentials": self.credentials}


# -- validation ----------------------------------------------------------------------


def validate_bucket(name: str) -> str:
    """``name`` if it follows the S3 bucket naming rules, else :class:`InvalidRemote`."""
    if not 3 <= len(name) <= 63:
        raise InvalidRemote(
            f"Bucket name {name!r} must be 3 to 63 characters long (it has {len(name)})."
        )
    if not _BUCKET_RE.match(name):
        raise InvalidRemote(
            f"Bucket name {name!r} may use only lowercase letters, digits, dots and hyphens, "
            "and must start and end with a letter or digit."
        )
    if ".." in name or ".-" in name or "-." in name:
        raise InvalidRemote(f"Bucket name {name!r} may not have two dots, '.-' or '-.' in a row.")
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return name
    raise InvalidRemote(f"Bucket name {name!r} may not look like an IP address.")


def validate_endpoint(url: str) -> str:
    """``url`` without a trailing slash if it is an http(s) URL ("" stays "": AWS S3)."""
    url = url.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise InvalidRemote(f"Endpoint {url!r} is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRemote(
            f"Endpoint {url!r} must be an http:// or https:// URL.",
            "For example https://s3.eu-central-1.wasabisys.com or http://localhost:9000.",
        )
    if parts.username or parts.password:
        raise InvalidRemote(
            "The endpoint URL may not contain a user name or password.",
            "Give keys with --keyring or through the AWS credential chain instead.",
        )
    if parts.query or parts.fragment:
        raise InvalidRemote(f"Endpoint {url!r} may not have a query or a fragment.")
    return url.rstrip("/")


def normalize_prefix(prefix: str) -> str:
    """``"/media//vault/"`` → ``"media/vault"``; :class:`InvalidRemote` for ``..`` or ``\\``."""
    if "\\" in prefix:
        raise InvalidRemote(
            f"Prefix {prefix!r} may not contain backslashes.", "Separate parts with '/'."
        )
    parts = [p for p in prefix.strip().split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise InvalidRemote(f"Prefix {prefix!r} may not contain '.' or '..' parts.")
    if any(ord(c) < 32 or ord(c) == 127 for c in prefix):
        raise InvalidRemote(f"Prefix {prefix!r} may not contain control characters.")
    return "/".join(parts)


def remote_config(
    bucket: str,
    *,
    endpoint_url: str = "",
    region: str = "",
    prefix: str = "",
    addressing_style: str = "auto",
    verify_tls: bool = True,
    ca_bundle: str = "",
    profile: str = "",
    credentials: str = "chain",
) -> RemoteConfig:
    """A validated, normalised :class:`RemoteConfig`; :class:`InvalidRemote` says what is wrong.

    ``ca_bundle`` is made absolute and must be an existing file.
    """
    region = region.strip()
    if not _REGION_RE.match(region):
        raise InvalidRemote(f"Region {region!r} is not a region name such as 'us-east-1'.")
    if addressing_style not in ADDRESSING_STYLES:
        raise InvalidRemote(
            f"Addressing style {addressing_style!r} is not one of {', '.join(ADDRESSING_STYLES)}."
        )
    if credentials not in CREDENTIAL_SOURCES:
        raise InvalidRemote(
            f"Credential source {credentials!r} is not one of {', '.join(CREDENTIAL_SOURCES)}."
        )
    if ca_bundle:
        path = Path(ca_bundle).expanduser().absolute()
        if not path.is_file():
            raise InvalidRemote(f"CA bundle {path} does not exist or is not a file.")
        if not verify_tls:
            raise InvalidRemote(
                "A CA bundle and --no-verify-tls contradict each other.", "Choose one."
            )
        ca_bundle = str(path)
    if credentials == "keyring" and profile:
        raise InvalidRemote(
            "A profile names keys in the shared AWS files; it makes no sense with the keyring.",
            "Drop --profile or --keyring.",
        )
    spec = RemoteSpec(
        bucket=validate_bucket(bucket),
        endpoint_url=validate_endpoint(endpoint_url),
        region=region,
        prefix=normalize_prefix(prefix),
        addressing_style=addressing_style,
        verify_tls=verify_tls,
        ca_bundle=ca_bundle,
        profile=profile.strip(),
    )
    return RemoteConfig(spec, credentials)


# -- saving ----------------------------------------------------------------------------


def remote_file(paths: VaultPaths) -> Path:
    """Where the remote of the vault at ``paths`` is saved."""
    return paths.config / REMOTE_FILE


def load_remote(paths: VaultPaths) -> RemoteConfig | None:
    """The vault's remote, or None if none is set. A damaged file is a :class:`VaultError`."""
    path = remote_file(paths)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StorageError(
            f"Cannot read the remote settings in {path}: {exc}.",
            "Set the remote again with `mediavault remote set`.",
        ) from None
    fields = {f.name for f in dataclasses.fields(RemoteSpec)}
    if not isinstance(raw, dict) or not isinstance(raw.get("bucket"), str):
        raise StorageError(
            f"The remote settings in {path} are damaged.",
            "Set the remote again with `mediavault remote set`.",
        )
    try:
        return remote_config(
            raw["bucket"],
            **{k: v for k, v in raw.items() if k in fields and k != "bucket"},
            credentials=raw.get("credentials", "chain"),
        )
    except (TypeError, AttributeError):
        raise StorageError(
            f"The remote settings in {path} are damaged.",
            "Set the remote again with `mediavault remote set`.",
        ) from None


def save_remote(paths: VaultPaths, config: RemoteConfig) -> None:
    """Save ``config`` as the vault's remote, atomically (temp file, fsync, rename)."""
    path = remote_file(paths)
    text = json.dumps(config.to_json(), indent=2, sort_keys=True) + "\n"
    try:
        write_atomically(path, text)
    except OSError as exc:
        raise StorageError(f"Cannot save the remote settings in {path}: {exc}.") from None
    log.info("remote set: bucket %s at %s", config.spec.bucket, config.spec.endpoint_url or "AWS")


def remove_remote(paths: VaultPaths) -> bool:
    """Forget the vault's remote; False if none was set. Keys are :mod:`app.credentials`' job."""
    path = remote_file(paths)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StorageError(f"Cannot remove {path}: {exc}.") from None
    fsync_path(path.parent, directory=True)
    log.info("remote removed")
    return True


# -- checking ------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """One step of :func:`check_remote`.

    Attributes:
        step: "list", "put", "get" or "delete".
        ok: whether it worked.
        reason: "" when ok, else one of "unreachable", "tls", "credentials", "no-bucket",
            "wrong-region", "clock-skew", "access-denied", "mismatch", "error".
        message: what happened, for people ("" when ok).
        hint: what to do about it, or "".
        seconds: how long the step took.
    """

    step: str
    ok: bool
    reason: str = ""
    message: str = ""
    hint: str = ""
    seconds: float = 0.0


# Reasons after which the next steps can only fail the same way.
FATAL_REASONS = frozenset(
    {"unreachable", "tls", "credentials", "no-bucket", "wrong-region", "clock-skew"}
)


def classify(exc: BaseException, step: str, spec: RemoteSpec) -> tuple[str, str, str]:
    """``(reason, message, hint)`` for an exception from ``step``. Never quotes a secret.

    The reason is the store's own classification (:func:`storage.s3.translate_error`),
    so the check and sync agree; this adds the wording for each step. Server
    messages are not repeated: only error codes and our own words.
    """
    if isinstance(exc, ProfileNotFound):
        return (
            "credentials",
            f"The AWS profile {spec.profile!r} does not exist.",
            "Check the profile name in ~/.aws/credentials and ~/.aws/config.",
        )
    if not isinstance(exc, BotoCoreError | ClientError):
        raise exc
    kind = translate_error(exc, step).kind
    where = spec.endpoint_url or "AWS S3"
    bucket = spec.bucket
    code = ""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", "")) or str(
            exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
        )
    if kind == "tls":
        return (
            "tls",
            f"The TLS connection to {where} failed (certificate or protocol).",
            "If the server uses a self-signed certificate, pass --ca-bundle FILE "
            "(or --no-verify-tls for a test server); check that the endpoint speaks https.",
        )
    if kind == "unreachable":
        return (
            "unreachable",
            f"Cannot connect to {where}, or it did not answer in time.",
            "Check the endpoint URL, the network and that the service is running.",
        )
    if kind == "credentials" and not code:
        return (
            "credentials",
            "No access keys were found.",
            "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, use ~/.aws/credentials with "
            "--profile, or store keys with `mediavault remote set --keyring`.",
        )
    if kind == "credentials":
        return (
            "credentials",
            f"{where} rejected the access keys ({code}).",
            "Check the access key id and secret, and that they belong to this service.",
        )
    if kind == "no-bucket":
        return (
            "no-bucket",
            f"The bucket {bucket!r} does not exist at {where}.",
            "Create it in the service's console, or fix the bucket name.",
        )
    if kind == "clock-skew":
        return (
            "clock-skew",
            "This computer's clock differs too much from the server's.",
            "Set the clock automatically (NTP) and try again.",
        )
    if kind == "wrong-region":
        return (
            "wrong-region",
            f"The bucket {bucket!r} is in another region ({code}).",
            "Set the bucket's region with --region.",
        )
    if kind == "access-denied":
        return (
            "access-denied",
            f"Access denied: the keys may not {_VERBS[step]} in {bucket!r} ({code or 403}).",
            f"Give the keys the {_PERMISSIONS[step]} permission on the bucket"
            + (f" and prefix {spec.prefix!r}." if spec.prefix else "."),
        )
    return (
        "error",
        f"{step} failed: {code or type(exc).__name__}.",
        "See the service's documentation for this error code." if code else "",
    )


_VERBS = {
    "list": "list objects",
    "put": "upload objects",
    "get": "download objects",
    "delete": "delete objects",
}
_PERMISSIONS = {
    "list": "s3:ListBucket",
    "put": "s3:PutObject",
    "get": "s3:GetObject",
    "delete": "s3:DeleteObject",
}


def _scrub(text: str, credentials: Credentials | None) -> str:
    if credentials is not None and credentials.secret_access_key:
        text = text.replace(credentials.secret_access_key, "***")
        if credentials.session_token:
            text = text.replace(credentials.session_token, "***")
    return text


def check_remote(config: RemoteConfig, credentials: Credentials | None) -> list[CheckResult]:
    """List, put a probe object, get it back, delete it: one :class:`CheckResult` per step run.

    ``credentials`` None means the AWS chain. Stops after a step that failed for a reason
    that dooms the rest (:data:`FATAL_REASONS`), and after a failed put (there is nothing
    to get or delete). The probe goes to ``<prefix>/.mediavault-probe/<random>``.
    """
    spec = config.spec
    results: list[CheckResult] = []
    key = spec.key(PROBE_DIR, secrets.token_hex(8))
    body = b"Media Vault connection probe " + secrets.token_bytes(24)
    client: Any = None

    def run(step: str, action: Callable[[], None]) -> bool:
        nonlocal client
        start = time.monotonic()
        try:
            if client is None:
                client = make_client(
                    spec,
                    credentials,
                    max_pool=1,
                    connect_timeout=CONNECT_TIMEOUT,
                    read_timeout=READ_TIMEOUT,
                )
            action()
        except _Mismatch:
            result = CheckResult(
                step,
                False,
                "mismatch",
                "The probe object came back with different bytes.",
                "Something between here and the service alters data; check proxies.",
                time.monotonic() - start,
            )
        except (BotoCoreError, ClientError) as exc:
            reason, message, hint = classify(exc, step, spec)
            result = CheckResult(
                step,
                False,
                reason,
                _scrub(message, credentials),
                _scrub(hint, credentials),
                time.monotonic() - start,
            )
        else:
            result = CheckResult(step, True, seconds=time.monotonic() - start)
        log.info(
            "remote check %s: %s%s",
            step,
            "ok" if result.ok else "failed",
            f" ({result.reason}: {result.message})" if not result.ok else "",
        )
        results.append(result)
        return result.ok

    def do_list() -> None:
        prefix = spec.prefix + "/" if spec.prefix else ""
        client.list_objects_v2(Bucket=spec.bucket, Prefix=prefix, MaxKeys=1)

    def do_put() -> None:
        client.put_object(Bucket=spec.bucket, Key=key, Body=body)

    def do_get() -> None:
        got = client.get_object(Bucket=spec.bucket, Key=key)["Body"].read()
        if got != body:
            raise _Mismatch

    def do_delete() -> None:
        client.delete_object(Bucket=spec.bucket, Key=key)

    if not run("list", do_list) and results[-1].reason in FATAL_REASONS:
        return results
    if not run("put", do_put):
        return results
    if not run("get", do_get) and results[-1].reason in FATAL_REASONS:
        return results
    run("delete", do_delete)
    return results


class _Mismatch(Exception):
    """The probe read back differs from what was written."""
