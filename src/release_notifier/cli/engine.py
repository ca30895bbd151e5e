"""Commands of the release engine: `db upgrade`, `make-key`."""

from __future__ import annotations

import click
from cryptography.fernet import Fernet

from release_notifier.db import open_database
from release_notifier.settings import load_settings


@click.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration to DATABASE_URL (also done automatically at start)."""
    settings = load_settings()
    database = open_database(settings.database_url)
    database.dispose()
    click.echo("database is at the newest schema")


@click.command("make-key")
def make_key() -> None:
    """Print a new key for DB_ENCRYPTION_KEY (Fernet)."""
    click.echo(Fernet.generate_key().decode())


commands: list[click.Command] = [db_group, make_key]
