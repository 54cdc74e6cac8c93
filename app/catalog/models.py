"""The catalog's tables as SQLAlchemy 2 typed models.

The schema itself is created and upgraded by the Alembic migrations in
``app/catalog/migrations``; these classes describe it for queries. Hot paths
(bulk import, listing) use the same ``Table`` objects through SQLAlchemy Core.

Trash: deleting a folder or file creates one :class:`TrashEntry` and stamps
its ``id`` on every folder and file it takes along (``trash_id``), so "live"
is simply ``trash_id IS NULL`` and a restore or purge touches exactly the rows
of that one deletion.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

LIVE = text("trash_id IS NULL")
LIVE_FAVORITE = text("trash_id IS NULL AND is_favorite = 1")

KINDS = ("image", "video", "audio", "document", "other")
LOCAL_STATES = ("present", "evicted")
REMOTE_STATES = ("pending", "uploading", "completed", "failed")


class Base(DeclarativeBase):
    """Declarative base of the catalog."""


class TrashEntry(Base):
    """One deletion: a folder or a file moved to the Trash, with where it came from."""

    __tablename__ = "trash_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deleted_at: Mapped[datetime] = mapped_column(DateTime)
    # use_alter: folder and trash_entry refer to each other; SQLite takes both inline.
    original_parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("folder.id", ondelete="SET NULL", use_alter=True)
    )
    # The path of the parent at deletion time, to recreate it if it is gone by restore.
    original_path: Mapped[str] = mapped_column(Text)
    # The item that was deleted (exactly one is set). Purging an enclosing folder
    # takes earlier deletions inside it along.
    folder_id: Mapped[int | None] = mapped_column(
        ForeignKey("folder.id", ondelete="CASCADE", use_alter=True)
    )
    file_id: Mapped[int | None] = mapped_column(
        ForeignKey("file.id", ondelete="CASCADE", use_alter=True)
    )


class Folder(Base):
    """A folder. The root is a real row with ``parent_id`` NULL and an empty name."""

    __tablename__ = "folder"
    __table_args__ = (
        Index(
            "ix_folder_live_name",
            "parent_id",
            "name_key",
            unique=True,
            sqlite_where=LIVE,
        ),
        Index("ix_folder_parent", "parent_id"),
        Index("ix_folder_trash", "trash_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("folder.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    name_key: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    modified_at: Mapped[datetime] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    trash_id: Mapped[int | None] = mapped_column(ForeignKey("trash_entry.id", ondelete="SET NULL"))


class File(Base):
    """A file: a name in a folder whose content is its current version's blob."""

    __tablename__ = "file"
    __table_args__ = (
        Index("ix_file_live_name", "folder_id", "name_key", unique=True, sqlite_where=LIVE),
        Index("ix_file_folder", "folder_id"),
        Index("ix_file_trash", "trash_id"),
        Index("ix_file_modified", "modified_at"),
        # Browsing in any sort order straight from an index (migration 0003).
        Index("ix_file_live_size", "folder_id", "size", sqlite_where=LIVE),
        Index("ix_file_live_modified", "folder_id", "modified_at", sqlite_where=LIVE),
        Index("ix_file_live_kind", "folder_id", "kind", "name_key", sqlite_where=LIVE),
        Index("ix_file_live_all_name", "name_key", sqlite_where=LIVE),
        Index("ix_file_live_all_size", "size", sqlite_where=LIVE),
        Index("ix_file_live_created", "created_at", sqlite_where=LIVE),
        Index("ix_file_favorite_name", "name_key", sqlite_where=LIVE_FAVORITE),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    folder_id: Mapped[int] = mapped_column(ForeignKey("folder.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    name_key: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    mime: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    is_favorite: Mapped[bool] = mapped_column(Boolean, default=False)
    # Pinned: its current content stays on this computer (never evicted to free space).
    keep_on_device: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("0"))
    # No FK constraint: version rows reference file rows, and SQLite cannot add the
    # cycle's second half later; the services keep it pointing at one of its versions.
    current_version_id: Mapped[int | None] = mapped_column(Integer)
    # The current version's size, kept here so a 100,000-file folder lists and sorts
    # by size without a join; set wherever current_version_id changes.
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    modified_at: Mapped[datetime] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    trash_id: Mapped[int | None] = mapped_column(ForeignKey("trash_entry.id", ondelete="SET NULL"))


class Blob(Base):
    """Content addressed by its SHA-256, with its local and remote state."""

    __tablename__ = "blob"
    __table_args__ = (Index("ix_blob_remote_state", "remote_state"),)

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    local_state: Mapped[str] = mapped_column(String(16), default="present")
    remote_state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    upload_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Version(Base):
    """One content of a file, numbered from 1, with the media facts known about it."""

    __tablename__ = "version"
    __table_args__ = (
        Index("ix_version_file_number", "file_id", "number", unique=True),
        Index("ix_version_blob", "blob_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("file.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    blob_hash: Mapped[str] = mapped_column(ForeignKey("blob.hash"))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    device: Mapped[str] = mapped_column(Text, default="")
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    pages: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime)
    camera: Mapped[str | None] = mapped_column(Text)  # "Apple iPhone 12"
    codecs: Mapped[str | None] = mapped_column(Text)  # "H.264 video, AAC audio"
    # Why the content is not searchable, when it is not (e.g. "the PDF parser timed out").
    index_note: Mapped[str] = mapped_column(Text, default="")


class Tag(Base):
    """A tag, unique by name ignoring case."""

    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_key: Mapped[str] = mapped_column(Text, unique=True)
    color: Mapped[str] = mapped_column(String(16), default="")


class VaultSetting(Base):
    """A per-vault setting that travels with the catalog: ``key`` → JSON text."""

    __tablename__ = "vault_setting"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class FileTag(Base):
    """A tag on a file."""

    __tablename__ = "file_tag"
    __table_args__ = (Index("ix_file_tag_tag", "tag_id"),)

    file_id: Mapped[int] = mapped_column(
        ForeignKey("file.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True)


class Share(Base):
    """A share link or upload request: kept after expiry or revocation as an audit trail.

    A file's link has ``file_id`` (and the version shared); a folder shared as
    a whole, or an upload request, has ``folder_id`` (the folder shared, or
    where arrivals go) and no file. ``max_bytes`` limits an upload request.
    """

    __tablename__ = "share"
    __table_args__ = (Index("ix_share_file", "file_id"), Index("ix_share_expires", "expires_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("file.id", ondelete="CASCADE"))
    folder_id: Mapped[int | None] = mapped_column(
        ForeignKey("folder.id", name="fk_share_folder", ondelete="SET NULL")
    )
    max_bytes: Mapped[int | None] = mapped_column(BigInteger)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("version.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    object_key: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


# The FTS5 table (created by the migration, not mapped): rowid = file.id.
# ``name`` holds the name plus its parts split at case and digit changes.
SEARCH_TABLE_DDL = (
    "CREATE VIRTUAL TABLE search USING fts5("
    "name, description, tags, content, "
    "tokenize = \"unicode61 remove_diacritics 2\", prefix = '2 3 4 5')"
)
