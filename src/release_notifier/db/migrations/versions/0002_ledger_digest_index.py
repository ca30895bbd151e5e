"""ledger entries by digest

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 19:05:00

Settling a sent digest finds its entries by digest id; without this index every settlement
scanned the whole ledger.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_digest_id", ["digest_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_digest_id")
