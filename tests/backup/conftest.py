"""Backup fixtures: a key, settings pointing at temporary folders, a populated SQLite database."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from cryptography.fernet import Fernet

from release_notifier.db import Database, open_database
from release_notifier.db.models import State, User
from release_notifier.settings import Settings, load_settings

MakeSettings = Callable[..., Settings]
SEED_SCHEMA = "CREATE TABLE users (email TEXT PRIMARY KEY, token TEXT NOT NULL, last_ran TEXT)"


@pytest.fixture
def fernet_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def backup_dir(tmp_path: Path) -> Path:
    return tmp_path / "backups"


@pytest.fixture
def make_settings(
    tmp_path: Path, sqlite_url: str, fernet_key: str, backup_dir: Path
) -> MakeSettings:
    """Settings for this test's SQLite file and backup folder, remote destinations off."""

    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": sqlite_url,
            "db_encryption_key": fernet_key,
            "backup_dir": str(backup_dir),
            "backup_s3_url": "",
            "backup_s3_endpoint_url": "",
            "dropbox_app_key": "",
            "dropbox_app_secret": "",
            "dropbox_refresh_token": "",
            "backup_keep": 14,
            "backup_min_interval_minutes": 10.0,
        }
        values.update(overrides)
        return load_settings(**values)

    return make


@pytest.fixture
def settings(make_settings: MakeSettings) -> Settings:
    return make_settings()


def add_users(database: Database, count: int, *, start: int = 0) -> None:
    """`count` users, each with a State row naming it (two tables written together)."""
    with database.session() as session:
        for i in range(start, start + count):
            session.add(User(email=f"user{i}@example.com", created_at=datetime(2026, 1, 1)))
            session.add(State(key=f"user-{i}", value=f"user{i}@example.com"))


@pytest.fixture
def populated(sqlite_url: str, settings: Settings) -> Iterator[Path]:
    """A migrated SQLite database with three users, closed (no WAL), as a path."""
    database = open_database(sqlite_url)
    add_users(database, 3)
    database.dispose()
    assert settings.sqlite_path is not None
    yield settings.sqlite_path


def table_rows(path: Path, table: str) -> list[tuple[object, ...]]:
    """Every row of `table`, in primary-key order, read with plain sqlite3."""
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()


def lose_the_disk(database_file: Path, backup_dir: Path) -> None:
    """What a free host's restart does: the database and the local backups are gone."""
    for path in backup_dir.iterdir():
        path.unlink()
    database_file.unlink()


def make_seed_database(path: Path, rows: list[tuple[str, str, str | None]]) -> Path:
    """A SQLite file in the original app's schema: users(email, token, last_ran)."""
    with closing(sqlite3.connect(path)) as connection:
        connection.execute(SEED_SCHEMA)
        connection.executemany("INSERT INTO users VALUES (?, ?, ?)", rows)
        connection.commit()
    return path


def environment(settings: Settings) -> dict[str, str]:
    """The environment variables that reproduce `settings` for a CLI run."""
    names = [
        "database_url",
        "db_encryption_key",
        "backup_dir",
        "backup_keep",
        "backup_s3_url",
        "backup_s3_endpoint_url",
        "dropbox_app_key",
        "dropbox_app_secret",
        "dropbox_refresh_token",
    ]
    return {name.upper(): str(getattr(settings, name)) for name in names}


@pytest.fixture
def run_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run one of our commands in-process with the environment of some settings."""
    monkeypatch.chdir(tmp_path)  # no stray .env

    def run(command: click.Command, args: list[str], settings: Settings) -> Result:
        return CliRunner().invoke(command, args, env=environment(settings))

    return run
