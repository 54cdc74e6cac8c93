"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21

Tables of DESIGN.md, the FTS5 search table and the root folder row.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from app.catalog.models import SEARCH_TABLE_DDL

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blob",
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("local_state", sa.String(length=16), nullable=False),
        sa.Column("remote_state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("upload_id", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("hash"),
    )
    with op.batch_alter_table("blob", schema=None) as batch_op:
        batch_op.create_index("ix_blob_remote_state", ["remote_state"], unique=False)

    op.create_table(
        "folder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("modified_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("trash_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["parent_id"], ["folder.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["trash_id"], ["trash_entry.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("folder", schema=None) as batch_op:
        batch_op.create_index(
            "ix_folder_live_name",
            ["parent_id", "name_key"],
            unique=True,
            sqlite_where=sa.text("trash_id IS NULL"),
        )
        batch_op.create_index("ix_folder_parent", ["parent_id"], unique=False)
        batch_op.create_index("ix_folder_trash", ["trash_id"], unique=False)

    op.create_table(
        "tag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("color", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name_key"),
    )
    op.create_table(
        "trash_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=False),
        sa.Column("original_parent_id", sa.Integer(), nullable=True),
        sa.Column("original_path", sa.Text(), nullable=False),
        sa.Column("folder_id", sa.Integer(), nullable=True),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["folder_id"], ["folder.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["file_id"], ["file.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["original_parent_id"], ["folder.id"], ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("folder_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("mime", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("is_favorite", sa.Boolean(), nullable=False),
        sa.Column("current_version_id", sa.Integer(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("modified_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("trash_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["folder_id"], ["folder.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["trash_id"], ["trash_entry.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("file", schema=None) as batch_op:
        batch_op.create_index("ix_file_folder", ["folder_id"], unique=False)
        batch_op.create_index(
            "ix_file_live_name",
            ["folder_id", "name_key"],
            unique=True,
            sqlite_where=sa.text("trash_id IS NULL"),
        )
        batch_op.create_index("ix_file_modified", ["modified_at"], unique=False)
        batch_op.create_index("ix_file_trash", ["trash_id"], unique=False)

    op.create_table(
        "file_tag",
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["file.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tag_id"], ["tag.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("file_id", "tag_id"),
    )
    with op.batch_alter_table("file_tag", schema=None) as batch_op:
        batch_op.create_index("ix_file_tag_tag", ["tag_id"], unique=False)

    op.create_table(
        "version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("blob_hash", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("device", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("taken_at", sa.DateTime(), nullable=True),
        sa.Column("index_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["blob_hash"],
            ["blob.hash"],
        ),
        sa.ForeignKeyConstraint(["file_id"], ["file.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("version", schema=None) as batch_op:
        batch_op.create_index("ix_version_blob", ["blob_hash"], unique=False)
        batch_op.create_index(
            "ix_version_file_number", ["file_id", "number"], unique=True
        )

    op.create_table(
        "share",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("object_key", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["file_id"], ["file.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["version_id"], ["version.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("share", schema=None) as batch_op:
        batch_op.create_index("ix_share_file", ["file_id"], unique=False)

    op.execute(SEARCH_TABLE_DDL)
    now = datetime.now(UTC).replace(tzinfo=None)
    folder = sa.table(
        "folder",
        sa.column("id", sa.Integer()),
        sa.column("parent_id", sa.Integer()),
        sa.column("name", sa.Text()),
        sa.column("name_key", sa.Text()),
        sa.column("description", sa.Text()),
        sa.column("created_at", sa.DateTime()),
        sa.column("modified_at", sa.DateTime()),
    )
    op.bulk_insert(
        folder,
        [
            {
                "id": 1,
                "parent_id": None,
                "name": "",
                "name_key": "",
                "description": "",
                "created_at": now,
                "modified_at": now,
            }
        ],
    )


def downgrade() -> None:
    op.execute("DROP TABLE search")
    with op.batch_alter_table("share", schema=None) as batch_op:
        batch_op.drop_index("ix_share_file")

    op.drop_table("share")
    with op.batch_alter_table("version", schema=None) as batch_op:
        batch_op.drop_index("ix_version_file_number")
        batch_op.drop_index("ix_version_blob")

    op.drop_table("version")
    with op.batch_alter_table("file_tag", schema=None) as batch_op:
        batch_op.drop_index("ix_file_tag_tag")

    op.drop_table("file_tag")
    with op.batch_alter_table("file", schema=None) as batch_op:
        batch_op.drop_index("ix_file_trash")
        batch_op.drop_index("ix_file_modified")
        batch_op.drop_index(
            "ix_file_live_name", sqlite_where=sa.text("trash_id IS NULL")
        )
        batch_op.drop_index("ix_file_folder")

    op.drop_table("file")
    op.drop_table("trash_entry")
    op.drop_table("tag")
    with op.batch_alter_table("folder", schema=None) as batch_op:
        batch_op.drop_index("ix_folder_trash")
        batch_op.drop_index("ix_folder_parent")
        batch_op.drop_index(
            "ix_folder_live_name", sqlite_where=sa.text("trash_id IS NULL")
        )

    op.drop_table("folder")
    with op.batch_alter_table("blob", schema=None) as batch_op:
        batch_op.drop_index("ix_blob_remote_state")

    op.drop_table("blob")
