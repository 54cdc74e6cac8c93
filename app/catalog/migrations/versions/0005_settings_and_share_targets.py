"""vault settings and share targets

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21

``vault_setting``: per-vault settings that travel with the catalog (and so with
its snapshots in the bucket), e.g. the version retention policy, as
``key`` → JSON text.

``share``: an upload request has no file, and a folder can be shared as a
whole, so ``file_id`` may be NULL and ``folder_id`` names the folder
(the request's destination, or the folder shared); ``max_bytes`` is an upload
request's size limit.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vault_setting",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    # SQLite cannot relax NOT NULL in place: batch mode copies the table.
    with op.batch_alter_table("share", schema=None) as batch_op:
        batch_op.alter_column("file_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(
            sa.Column(
                "folder_id",
                sa.Integer(),
                sa.ForeignKey("folder.id", name="fk_share_folder", ondelete="SET NULL"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("max_bytes", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_share_expires", ["expires_at"])


def downgrade() -> None:
    with op.batch_alter_table("share", schema=None) as batch_op:
        batch_op.drop_index("ix_share_expires")
        batch_op.drop_column("max_bytes")
        batch_op.drop_column("folder_id")
    op.drop_table("vault_setting")
