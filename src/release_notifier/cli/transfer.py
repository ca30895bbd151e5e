"""`copy-database`: move an instance from SQLite to PostgreSQL (or any empty database)."""

from __future__ import annotations

import click

from release_notifier.db.transfer import TransferError, copy_database, shown
from release_notifier.settings import load_settings


@click.command("copy-database")
@click.option(
    "--to",
    "target_url",
    required=True,
    metavar="URL",
    help="The empty database to fill, e.g. postgresql+psycopg://notifier@127.0.0.1/notifier.",
)
@click.option(
    "--from",
    "source_url",
    default=None,
    metavar="URL",
    help="The database to copy. Default: DATABASE_URL.",
)
def copy_database_command(target_url: str, source_url: str | None) -> None:
    """Copy every row into an empty database, then check the copy row for row.

    Stop the app first. Nothing in the source changes except its schema, which is brought up
    to date first; on any error the target is left without rows.
    """
    source_url = source_url or load_settings().database_url
    try:
        report = copy_database(source_url, target_url)
    except TransferError as exc:
        raise click.ClickException(str(exc)) from None
    for table in report.tables:
        click.echo(f"  {table.name}: {table.rows} rows")
    click.echo(
        f"copied {report.rows} rows in {len(report.tables)} tables from {shown(source_url)} "
        f"to {shown(target_url)}; every row checked"
    )
    click.echo(f"now set DATABASE_URL={shown(target_url)} and start the app")


commands: list[click.Command] = [copy_database_command]
