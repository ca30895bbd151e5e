"""Alembic, driven from code: `release-notifier db upgrade` and the upgrade at start."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from release_notifier.db.session import Database

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = database.engine
    return config


def upgrade_database(database: Database, revision: str = "head") -> None:
    """Bring the schema to `revision` (newest by default); a no-op when it is already there.

    On SQLite, foreign keys are off while migrations run (a table rebuilt in batch mode is
    dropped and renamed under its children) and checked before the upgrade commits; after an
    upgrade the file is vacuumed when pages were left free.
    """
    with database.engine.connect() as connection:
        if database.is_sqlite:
            _set_foreign_keys(connection, on=False)
        try:
            with connection.begin():
                before = MigrationContext.configure(connection).get_current_revision()
                config = alembic_config(database)
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                after = MigrationContext.configure(connection).get_current_revision()
                if database.is_sqlite:
                    _require_foreign_keys_hold(connection)
        finally:
            if database.is_sqlite:
                _set_foreign_keys(connection, on=True)
        if database.is_sqlite and after != before:
            _vacuum_if_needed(connection)


def _vacuum_if_needed(connection: Connection) -> None:
    """A table rebuilt by a migration leaves its old pages free in the file; give them back
    (a full disk must then mean a full disk, and the file is no bigger than its data)."""
    if connection.exec_driver_sql("PRAGMA freelist_count").scalar_one():
        connection.exec_driver_sql("VACUUM")
        connection.commit()


def _set_foreign_keys(connection: Connection, *, on: bool) -> None:
    """PRAGMA foreign_keys only takes effect outside a transaction."""
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    connection.commit()


def _require_foreign_keys_hold(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"migration left {len(broken)} rows pointing at nothing: rolled back")
