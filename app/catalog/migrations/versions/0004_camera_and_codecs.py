"""camera and codecs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21

``version.camera`` (EXIF make and model) and ``version.codecs`` (a media
file's streams, "H.264 video, AAC audio"): facts learned at import and shown
in the preview pane. Versions imported before stay without them (NULL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: no table copy, the indexes on ``version`` stay.
    op.add_column("version", sa.Column("camera", sa.Text(), nullable=True))
    op.add_column("version", sa.Column("codecs", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("version", schema=None) as batch_op:
        batch_op.drop_column("codecs")
        batch_op.drop_column("camera")
