"""whole names and unknown release dates

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 00:50:00

Spotify serves album titles of 2,000 characters, artist names over 300 and release dates no
calendar holds ("0000"). Names and the written date become Text (PostgreSQL enforced the old
lengths and every run failed on such a title); the day range of a release may be unknown.
On SQLite the releases table is rebuilt (db/migrate.py turns foreign keys off around it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("artists", schema=None) as batch_op:
        batch_op.alter_column(
            "name", existing_type=sa.String(length=300), type_=sa.Text(), existing_nullable=False
        )
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.alter_column(
            "name", existing_type=sa.String(length=500), type_=sa.Text(), existing_nullable=False
        )
        batch_op.alter_column(
            "release_date",
            existing_type=sa.String(length=10),
            type_=sa.Text(),
            existing_nullable=False,
        )
        batch_op.alter_column("date_start", existing_type=sa.Date(), nullable=True)
        batch_op.alter_column("date_end", existing_type=sa.Date(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.alter_column("date_end", existing_type=sa.Date(), nullable=False)
        batch_op.alter_column("date_start", existing_type=sa.Date(), nullable=False)
        batch_op.alter_column(
            "release_date",
            existing_type=sa.Text(),
            type_=sa.String(length=10),
            existing_nullable=False,
        )
        batch_op.alter_column(
            "name", existing_type=sa.Text(), type_=sa.String(length=500), existing_nullable=False
        )
    with op.batch_alter_table("artists", schema=None) as batch_op:
        batch_op.alter_column(
            "name", existing_type=sa.Text(), type_=sa.String(length=300), existing_nullable=False
        )
