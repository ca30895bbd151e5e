"""Engine and sessions for SQLite (default) or PostgreSQL, from DATABASE_URL."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL for concurrent readers, foreign keys on, and wait for locks instead of failing."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def database_error_text(exc: BaseException) -> str:
    """The driver's own message on one line, never the SQL or its parameters (which may hold
    addresses); the exception's type name when there is no driver message."""
    text = str(getattr(exc, "orig", None) or type(exc).__name__)
    return " ".join(text.split())[:300]


def database_unusable(exc: BaseException) -> bool:
    """The database itself failed (cannot connect, disk full, locked too long): the run must
    stop. Other errors (a value a column refuses, a bug) concern one item and are skipped."""
    return isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def create_private_file(path: Path) -> Path:
    """Create `path` empty, readable and writable by its owner only (0600), with its folder;
    an existing file is left as it is. SQLite gives its -wal and -shm files the same mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return path


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files are created private (with their folder) and get sane
    pragmas."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:" and not path.startswith("file:"):
            create_private_file(Path(path))
        engine = create_engine(url, connect_args={"timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """An engine and its sessions; `session()` is a unit of work: commit, or roll back."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back when it raises."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str, *, upgrade: bool = True) -> Database:
    """Open DATABASE_URL and, unless told not to, migrate it to the newest schema."""
    database = Database(url)
    if upgrade:
        from release_notifier.db.migrate import upgrade_database

        upgrade_database(database)
    return database
