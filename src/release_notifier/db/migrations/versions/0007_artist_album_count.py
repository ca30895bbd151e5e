"""artist album count

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 01:10:00

An artist's check reads one `album,single` page placed around its first single, so new singles
show even for an artist with ten or more albums; the album count places that page, and the
albums' first page is read every other check (at most weekly) for such an artist.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("artists", schema=None) as batch_op:
        batch_op.add_column(sa.Column("album_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("albums_top_checked_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("artists", schema=None) as batch_op:
        batch_op.drop_column("albums_top_checked_at")
        batch_op.drop_column("album_count")
