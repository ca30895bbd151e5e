"""preferences changed at

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 04:10:00

When a subscriber last changed a preference that changes what their feeds hold (the kinds of
release, an artist muted or removed). The feeds' Last-Modified is the newer of this and their
newest release, so a reader polling with only If-Modified-Since sees the change. Empty for
everyone until they next change one: the feeds then fall back as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preferences_changed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("preferences_changed_at")
