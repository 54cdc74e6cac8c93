"""The blob-store contract shared by the local store and (later) the S3 store.

A blob is immutable and named by the lower-case hex SHA-256 of its bytes, laid
out as ``ab/abcdef…``. Stores are small: put, open (optionally a range), stat,
list, delete. What a store can do beyond that is in its :class:`Features`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

HASH_RE = re.compile(r"^[0-9a-f]{64}$")


def blob_key(blob_hash: str) -> str:
    """``"abcd…"`` → ``"ab/abcd…"``, the layout used locally and in buckets."""
    if not HASH_RE.match(blob_hash):
        raise ValueError(f"not a SHA-256 hex digest: {blob_hash!r}")
    return f"{blob_hash[:2]}/{blob_hash}"


@dataclass(frozen=True)
class Features:
    """What a store can do beyond the basic contract.

    Attributes:
        local_path: blobs are files on this computer that can be opened by path.
        ranged_reads: ``open`` honours ``offset``/``length`` without reading the rest.
    """

    local_path: bool = False
    ranged_reads: bool = True


class BlobStore(Protocol):
    """The operations every store offers. All are safe to call from any thread."""

    features: Features

    def open(self, blob_hash: str, offset: int = 0, length: int | None = None) -> BinaryIO:
        """A reader of the blob's bytes. Raises ``BlobNotFound`` when absent."""
        ...

    def stat(self, blob_hash: str) -> int:
        """The blob's size in bytes. Raises ``BlobNotFound`` when absent."""
        ...

    def list(self) -> Iterator[str]:
        """Every blob hash in the store, in no particular order."""
        ...

    def delete(self, blob_hash: str) -> None:
        """Remove the blob. Idempotent: deleting an absent blob is not an error."""
        ...
