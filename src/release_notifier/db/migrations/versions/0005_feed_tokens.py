"""feed tokens

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 01:50:00

Each subscriber's Atom and iCalendar feeds live at a URL with a random token in it. The token
is made the first time the settings page shows the feeds, so existing rows start empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feed_token", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_users_feed_token", ["feed_token"])


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("uq_users_feed_token", type_="unique")
        batch_op.drop_column("feed_token")
