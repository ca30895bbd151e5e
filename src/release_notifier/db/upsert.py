"""Insert-if-absent that is safe when two threads or processes insert the same key at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from release_notifier.db.models import Base


def insert_missing(session: Session, model: type[Base], **values: Any) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when this call created the row."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    key = next(iter(model.__table__.primary_key))
    statement = insert(model).values(**values).on_conflict_do_nothing().returning(key)
    # RETURNING, not rowcount: psycopg 3 reports -1 for ON CONFLICT inserts.
    return session.execute(statement).first() is not None


def insert_all_missing(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING for many rows at once: rows already there are kept."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(model).on_conflict_do_nothing(), rows)
