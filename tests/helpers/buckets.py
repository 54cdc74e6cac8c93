"""Looking at a vault's blob rows and at its bucket directly, behind the syncer's back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.catalog.models import Blob
from app.core import VaultBase


def blob_rows(vault: VaultBase) -> list[Blob]:
    """Every blob row, by hash, detached from its session (safe to read after)."""
    with vault.reading() as session:
        rows = list(session.scalars(select(Blob).order_by(Blob.hash)))
        session.expunge_all()
        return rows


def object_keys(raw: Any, bucket: str, prefix: str = "") -> list[str]:
    """The keys under ``prefix``, sorted, listed with a plain client."""
    pages = raw.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))
