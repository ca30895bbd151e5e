"""artist choices

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 03:50:00

Subscribers may choose artists here: an email-only subscriber (no Spotify account) adds the
artists they want, a linked one adds artists they do not follow on Spotify or mutes followed
ones. One row per (user, artist): kind `add` or `mute`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "artist_choices",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("artist_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artist_id"], ["artists.id"], name=op.f("fk_artist_choices_artist_id_artists")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_artist_choices_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "artist_id", name=op.f("pk_artist_choices")),
    )
    with op.batch_alter_table("artist_choices", schema=None) as batch_op:
        batch_op.create_index("ix_artist_choices_artist_id", ["artist_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("artist_choices", schema=None) as batch_op:
        batch_op.drop_index("ix_artist_choices_artist_id")
    op.drop_table("artist_choices")
