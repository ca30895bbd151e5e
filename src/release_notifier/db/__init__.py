"""Database: models, engine and session, Alembic migrations."""

from release_notifier.db.session import Database, create_private_file, open_database

__all__ = ["Database", "create_private_file", "open_database"]
