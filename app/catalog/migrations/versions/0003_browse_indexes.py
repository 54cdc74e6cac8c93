"""browse indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

Indexes that let the middle pane page through a folder (or the whole vault)
in any sort order straight from an index, never sorting a 100,000-file folder
in a temp B-tree. Every one is partial on live files (``trash_id IS NULL``),
and SQLite appends the rowid (``file.id``) to each, so ``(folder_id, size)``
serves ``ORDER BY size, id`` and keyset cursors on ``(size, id)``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LIVE = sa.text("trash_id IS NULL")
# Only favorites are in it, so it costs nothing on import of other files.
LIVE_FAVORITE = sa.text("trash_id IS NULL AND is_favorite = 1")


def upgrade() -> None:
    # Plain CREATE INDEX (no batch mode): no table copy, the other indexes stay.
    op.create_index("ix_file_live_size", "file", ["folder_id", "size"], sqlite_where=LIVE)
    op.create_index(
        "ix_file_live_modified", "file", ["folder_id", "modified_at"], sqlite_where=LIVE
    )
    op.create_index(
        "ix_file_live_kind", "file", ["folder_id", "kind", "name_key"], sqlite_where=LIVE
    )
    # All files by name and by size; Recent (imported lately) with ix_file_modified.
    op.create_index("ix_file_live_all_name", "file", ["name_key"], sqlite_where=LIVE)
    op.create_index("ix_file_live_all_size", "file", ["size"], sqlite_where=LIVE)
    op.create_index("ix_file_live_created", "file", ["created_at"], sqlite_where=LIVE)
    op.create_index(
        "ix_file_favorite_name", "file", ["name_key"], sqlite_where=LIVE_FAVORITE
    )


def downgrade() -> None:
    for name in (
        "ix_file_favorite_name",
        "ix_file_live_created",
        "ix_file_live_all_size",
        "ix_file_live_all_name",
        "ix_file_live_kind",
        "ix_file_live_modified",
        "ix_file_live_size",
    ):
        op.drop_index(name, table_name="file")
