"""keep on device

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

``file.keep_on_device``: a pin. Freeing up space never evicts the content of
a pinned live file, and pinning an evicted file fetches its content back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite allows NOT NULL with a default): no table copy,
    # so the partial indexes on ``file`` stay as they are.
    op.add_column(
        "file",
        sa.Column("keep_on_device", sa.Boolean(), nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    with op.batch_alter_table("file", schema=None) as batch_op:
        batch_op.drop_column("keep_on_device")
