"""Errors raised by blob stores. ``app`` translates them into messages for the user."""

from __future__ import annotations


class StoreError(Exception):
    """The store itself failed: disk full, permission denied on the vault, I/O error."""


class StoreFull(StoreError):
    """No space left where the store writes."""


class BlobNotFound(StoreError):
    """The blob is not in this store."""


class SourceError(Exception):
    """The outside file being stored cannot be read as it was: the reason is the message."""


class RemoteError(StoreError):
    """The remote service (S3 or compatible) failed or refused a request.

    Attributes:
        kind: what went wrong, for the app to pick a message and an action:
            "unreachable" (no connection or timeouts), "tls" (certificate or TLS
            handshake), "credentials" (unknown key, bad signature, expired token),
            "no-bucket", "access-denied", "clock-skew" (the computer's clock is
            off), "checksum" (the service received other bytes than were sent),
            or "other".
        hint: a short suggestion for the user, "" if there is none.
        retryable: True if trying again later may succeed (see ``storage.retry``).
    """

    def __init__(self, message: str, kind: str, hint: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.hint = hint
        self.retryable = retryable


class ChecksumMismatch(StoreError):
    """Bytes do not hash to the blob's name: a download was corrupted or tampered with,
    or a file to upload no longer has the content it was stored under."""
