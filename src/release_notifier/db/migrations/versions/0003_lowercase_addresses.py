"""addresses in lower case

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 01:00:00

Signup and import now store addresses in lower case, so `Casey@example.com` and
`casey@example.com` are one subscription. Existing rows are folded the same way (in Python, so
non-ASCII letters fold alike on SQLite and PostgreSQL). Where several subscriptions fold to one
address, one mailbox was getting every digest more than once: the subscription kept is the one
still receiving digests (confirmed, subscribed, mail not rejected), then any confirmed one, then
the oldest; the others are deleted with their follows, ledger, digests and notices. Not
reversible: the downgrade leaves the addresses as they are.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

logger = logging.getLogger(__name__)

users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("email", sa.String),
    sa.column("confirmed_at", sa.DateTime),
    sa.column("unsubscribed_at", sa.DateTime),
    sa.column("mail_rejected_at", sa.DateTime),
)
pending_signups = sa.table("pending_signups", sa.column("state"), sa.column("email", sa.String))
USER_TABLES = [
    sa.table(name, sa.column("user_id", sa.Integer))
    for name in ("ledger", "notices", "digests", "follows", "pending_signups")
]


def keep_order(row: Any) -> tuple[int, int, int]:
    """Live subscriptions first, then confirmed ones, then the oldest."""
    live = row.confirmed_at is not None and row.unsubscribed_at is None
    live = live and row.mail_rejected_at is None
    return (0 if live else 1, 0 if row.confirmed_at is not None else 1, row.id)


def upgrade() -> None:
    connection = op.get_bind()
    by_address: dict[str, list[Any]] = defaultdict(list)
    for row in connection.execute(sa.select(users)):
        by_address[row.email.lower()].append(row)
    merged = 0
    for address, rows in by_address.items():
        keep, *drop = sorted(rows, key=keep_order)
        for row in drop:
            for table in USER_TABLES:
                connection.execute(sa.delete(table).where(table.c.user_id == row.id))
            connection.execute(sa.delete(users).where(users.c.id == row.id))
            merged += 1
        if keep.email != address:
            connection.execute(sa.update(users).where(users.c.id == keep.id).values(email=address))
    for row in connection.execute(
        sa.select(pending_signups).where(pending_signups.c.email.isnot(None))
    ):
        if row.email != row.email.lower():
            connection.execute(
                sa.update(pending_signups)
                .where(pending_signups.c.state == row.state)
                .values(email=row.email.lower())
            )
    if merged:
        logger.warning("%d subscriptions merged into another spelling of their address", merged)


def downgrade() -> None:
    """Lower case is a valid spelling of every address: nothing to undo."""
