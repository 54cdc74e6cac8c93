"""A remote's access keys in the OS keyring (macOS Keychain, Windows Credential Locker,
Secret Service on Linux), never in the catalog, the settings or the log.

One keyring entry per remote: service ``mediavault``, user name
``<endpoint>/<bucket>`` (``s3.amazonaws.com`` for AWS), password a small JSON
document with the key id, the secret and an optional session token. Remotes whose
keys come from the AWS chain (``credentials == "chain"``) have no entry: boto3
finds their keys itself.
"""

from __future__ import annotations

import json
import logging

import keyring
import keyring.backends.fail
import keyring.errors

from app.errors import VaultError
from app.paths import VaultPaths
from app.remote import RemoteConfig, load_remote
from storage.s3 import S3BlobStore
from storage.s3_client import Credentials

log = logging.getLogger(__name__)

SERVICE = "mediavault"
_CHAIN_HINT = (
    "Use the AWS credential chain instead: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
    "or put the keys in ~/.aws/credentials and pass --profile NAME (without --keyring)."
)


class KeyringUnavailable(VaultError):
    """No usable OS keyring (a headless Linux box without Secret Service, for instance)."""


def keyring_user(config: RemoteConfig) -> str:
    """The keyring user name of ``config``'s keys: ``<endpoint>/<bucket>``."""
    endpoint = config.spec.endpoint_url or "s3.amazonaws.com"
    return f"{endpoint}/{config.spec.bucket}"


def _backend() -> keyring.backend.KeyringBackend:
    """The keyring backend, or :class:`KeyringUnavailable` if there is no usable one."""
    try:
        backend = keyring.get_keyring()
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(f"The OS keyring cannot be used: {exc}.", _CHAIN_HINT) from None
    if isinstance(backend, keyring.backends.fail.Keyring):
        raise KeyringUnavailable("There is no OS keyring on this computer.", _CHAIN_HINT)
    return backend


def _failed(action: str, exc: Exception) -> KeyringUnavailable:
    # Keyring errors describe the backend, never the password; still, only the type goes out.
    log.warning("keyring %s failed: %s", action, type(exc).__name__)
    return KeyringUnavailable(
        f"The OS keyring refused to {action} the keys ({type(exc).__name__}).",
        "Unlock the keyring and try again. " + _CHAIN_HINT,
    )


def store_keys(config: RemoteConfig, credentials: Credentials) -> None:
    """Save ``credentials`` for ``config`` in the OS keyring (replacing any there)."""
    if not credentials.access_key_id or not credentials.secret_access_key:
        raise VaultError("Both an access key id and a secret access key are needed.")
    backend = _backend()
    secret = json.dumps(
        {
            "access_key_id": credentials.access_key_id,
            "secret_access_key": credentials.secret_access_key,
            "session_token": credentials.session_token,
        }
    )
    try:
        backend.set_password(SERVICE, keyring_user(config), secret)
    except (keyring.errors.KeyringError, OSError) as exc:
        raise _failed("store", exc) from None
    log.info("keys stored in the keyring for %s", keyring_user(config))


def load_keys(config: RemoteConfig) -> Credentials | None:
    """The keys of ``config``: None for the AWS chain, else those in the keyring.

    Keys missing from the keyring are a :class:`VaultError` with a hint.
    """
    if config.credentials != "keyring":
        return None
    backend = _backend()
    user = keyring_user(config)
    try:
        stored = backend.get_password(SERVICE, user)
    except (keyring.errors.KeyringError, OSError) as exc:
        raise _failed("read", exc) from None
    if stored is None:
        raise VaultError(
            f"The OS keyring has no keys for {user}.",
            "Store them again with `mediavault remote set --keyring --access-key-id ID ...`.",
        )
    try:
        fields = json.loads(stored)
        return Credentials(
            str(fields["access_key_id"]),
            str(fields["secret_access_key"]),
            str(fields.get("session_token") or ""),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        # No detail: the exception text could quote the stored secret.
        raise VaultError(
            f"The keyring entry for {user} is damaged.",
            "Store the keys again with `mediavault remote set --keyring`.",
        ) from None


def forget_keys(config: RemoteConfig) -> bool:
    """Delete ``config``'s keys from the keyring; False if there were none (or it uses the chain)."""
    if config.credentials != "keyring":
        return False
    backend = _backend()
    try:
        backend.delete_password(SERVICE, keyring_user(config))
    except keyring.errors.PasswordDeleteError:
        return False
    except (keyring.errors.KeyringError, OSError) as exc:
        raise _failed("delete", exc) from None
    log.info("keys forgotten for %s", keyring_user(config))
    return True


class NoRemote(VaultError):
    """The vault has no remote bucket set."""


def open_remote(paths: VaultPaths) -> tuple[S3BlobStore, Credentials | None]:
    """The vault's bucket as a store, and the keys it was made with (None: the AWS chain).

    Raises :class:`NoRemote` when no remote is set, and :class:`VaultError` when
    the remote settings or the keyring cannot be read.
    """
    config = load_remote(paths)
    if config is None:
        raise NoRemote(
            "This vault has no remote bucket.",
            "Set one in the window's Settings (Remote) or with `mediavault remote set --bucket NAME`.",
        )
    keys = load_keys(config)
    return S3BlobStore(config.spec, keys), keys
