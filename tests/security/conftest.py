"""The web app's fixtures (real database, emulator over HTTP, real SMTP server) shared with the
web tests, plus a snapshot of every table to show that a refused request changed nothing.

These tests are about the HTTP layer and run on SQLite only: a PostgreSQL schema per case costs
1.5 s, times 150 cases. The database behaviour under faults runs on both (tests/faults/).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from release_notifier.db import Database
from release_notifier.db.models import Base
from tests.web.conftest import ana, app, client, flow, listener, web_settings

__all__ = ["ana", "app", "client", "database_url", "flow", "listener", "snapshot", "web_settings"]


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """SQLite only, overriding the two-backend parameter of tests/fixtures/db.py."""
    return sqlite_url


def snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    with database.engine.connect() as connection:
        return {
            table.name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }
