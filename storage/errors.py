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
