"""Database: models, engine and session, Alembic migrations."""

from release_notifier.db.session import Database, open_database

__all__ = ["Database", "open_database"]
