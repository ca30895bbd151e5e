"""Commands for backups: `backup`, `restore [FILE | --latest]`, `import-seed PATH`."""

from __future__ import annotations

from pathlib import Path

import click

from release_notifier.backup.create import BackupReport, create_backup
from release_notifier.backup.errors import BackupError, RestoreError, SeedImportError
from release_notifier.backup.restore import RestoreResult, restore_file, restore_latest
from release_notifier.backup.seed_import import import_seed_file
from release_notifier.db import open_database
from release_notifier.settings import load_settings


def human_size(size: int) -> str:
    """1536 -> '1.5 KiB'."""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def echo_report(report: BackupReport) -> None:
    for copy in report.copies:
        click.echo(f"{copy.destination}: {copy.location} ({human_size(copy.size)})")
    for location in report.pruned:
        click.echo(f"removed old backup {location}")
    for failure in report.failures:
        click.echo(f"{failure.destination}: FAILED: {failure.message}", err=True)


@click.command("backup")
def backup_command() -> None:
    """Snapshot the SQLite database, encrypt it and store it at every configured destination.

    Exits non-zero if any destination failed (the others still get their copy).
    """
    settings = load_settings()
    try:
        report = create_backup(settings)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    echo_report(report)
    if not report.ok:
        total = len(report.failures) + len({copy.destination for copy in report.copies})
        raise click.ClickException(f"{len(report.failures)} of {total} destinations failed")


def echo_restored(result: RestoreResult) -> None:
    click.echo(
        f"restored {result.target} from {result.source} "
        f"(sealed at {result.sealed_at:%Y-%m-%d %H:%M:%S} UTC)"
    )
    if result.from_original_app:
        click.echo("(a backup of the original app: its users were imported)")
    if result.previous is not None:
        click.echo(f"the database it replaced is kept as {result.previous}")


@click.command("restore")
@click.argument("file", required=False)
@click.option("--latest", is_flag=True, help="Restore the newest backup from any destination.")
@click.option(
    "--allow-outside",
    is_flag=True,
    help="Accept a FILE outside BACKUP_DIR (refused otherwise).",
)
@click.option(
    "--allow-older",
    is_flag=True,
    help="Accept a backup sealed before the newest backup of the current database.",
)
def restore_command(file: str | None, latest: bool, allow_outside: bool, allow_older: bool) -> None:
    """Replace the SQLite database with a backup: FILE (inside BACKUP_DIR) or --latest.

    Stop the app first. The backup is decrypted, checked and migrated before the swap; if any
    step fails the current database is left exactly as it was.
    """
    if bool(file) == latest:
        raise click.UsageError("give either FILE or --latest")
    settings = load_settings()
    try:
        if latest:
            result = restore_latest(settings, allow_older=allow_older)
        else:
            result = restore_file(
                settings, str(file), allow_outside=allow_outside, allow_older=allow_older
            )
    except RestoreError as exc:
        raise click.ClickException(
            f"restore refused: {exc}; the database was not changed"
        ) from None
    echo_restored(result)


@click.command("import-seed")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def import_seed_command(path: Path) -> None:
    """Import the original app's site.db (or site.db.enc) as confirmed subscribers.

    Tokens are encrypted; each user's last_ran becomes the day before which nothing is
    announced. Users already here are left alone, so running it twice changes nothing.
    """
    settings = load_settings()
    database = open_database(settings.database_url)
    try:
        report = import_seed_file(settings, database, path)
    except SeedImportError as exc:
        raise click.ClickException(f"{exc}; nothing was imported") from None
    finally:
        database.dispose()
    click.echo(
        f"imported {report.imported} users, {report.already_present} already here, "
        f"{report.invalid} rows without a usable address"
    )
    if report.without_token:
        click.echo(
            f"{report.without_token} imported users have no token and must link Spotify again"
        )


commands: list[click.Command] = [backup_command, restore_command, import_seed_command]
