"""Commands of the release engine: `run`, `status`, `db upgrade`, `make-key`."""

from __future__ import annotations

import logging
from datetime import datetime

import click
from cryptography.fernet import Fernet

from release_notifier.clock import utcnow
from release_notifier.db import open_database
from release_notifier.jobs.lease import lease_expiry
from release_notifier.jobs.promise import Promise, current_promise
from release_notifier.jobs.run import RunSummary
from release_notifier.jobs.schedule import artist_states, plan_checks
from release_notifier.jobs.turns import run_once
from release_notifier.jobs.work_requests import waiting_requests
from release_notifier.mail.send import MailError, check_smtp
from release_notifier.settings import ConfigError, Settings, load_settings
from release_notifier.spotify.budget import RequestBudget, current_pause


def settings_for_work() -> Settings:
    """Settings with everything a run needs, or a ConfigError naming what is missing."""
    settings = load_settings()
    settings.require("spotipy_client_id", "spotipy_client_secret", "db_encryption_key")
    settings.require("flask_secret_key")
    settings.token_cipher  # noqa: B018 - parses DB_ENCRYPTION_KEY now, not mid-run
    return settings


def require_smtp(settings: Settings) -> None:
    """The mail server must answer before any work starts; its failure is the one error line."""
    mail_logger = logging.getLogger("release_notifier.mail.send")
    level = mail_logger.level
    mail_logger.setLevel(logging.ERROR)
    try:
        check_smtp(settings)
    except MailError as exc:
        raise ConfigError(f"SMTP_HOST: {exc}") from None
    finally:
        mail_logger.setLevel(level)


# Exit codes of `run` (1: an error, 2: a configuration error, as for every command).
EXIT_DONE = 0
EXIT_BUSY = 3  # --no-wait and another run was at work: the work is recorded for it
EXIT_WAIT_RAN_OUT = 4  # waited --wait seconds; the work is recorded for the active run
EXIT_LEASE_LOST = 5  # another run took over the lease mid-way: this one stopped at once
DEFAULT_WAIT_SECONDS = 600.0


def exit_code(summary: RunSummary) -> int:
    """0 when the due work was done; otherwise the documented reason why not."""
    if summary.lease_lost:
        return EXIT_LEASE_LOST
    if summary.skipped:
        return EXIT_WAIT_RAN_OUT if summary.wait_ran_out else EXIT_BUSY
    return EXIT_DONE


@click.command("run")
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=DEFAULT_WAIT_SECONDS,
    show_default=True,
    metavar="SECONDS",
    help="Wait this long for a run already at work to finish, then do this run's pass.",
)
@click.option(
    "--no-wait",
    is_flag=True,
    help="Do not wait: if another run is at work, record the work for it and exit 3.",
)
def run_command(wait: float, no_wait: bool) -> int:
    """Do all due work now: refresh follows, check artists, send due digests; print a summary.

    Exit codes: 0 the due work was done, 1 error, 2 configuration error, 3 another run is at work
    (--no-wait), 4 the wait ran out, 5 another run took over the lease mid-way.
    """
    settings = settings_for_work()
    require_smtp(settings)
    database = open_database(settings.database_url)
    try:
        summary = run_once(settings, database, trigger="cli", wait=0.0 if no_wait else wait)
    finally:
        database.dispose()
    for line in summary.lines():
        click.echo(line)
    return exit_code(summary)


@click.command("status")
def status_command() -> None:
    """Show the Spotify request budget, any quota pause, the promise the budget keeps, how fresh
    the artist checks are, and whether a run is at work."""
    settings = load_settings()
    database = open_database(settings.database_url)
    try:
        now = utcnow()
        budget = RequestBudget(database, settings.spotify_daily_request_budget)
        used = budget.used()
        pause = current_pause(database)
        states = artist_states(database, settings, now)
        due = plan_checks(database, settings, now)
        promise = current_promise(database, settings, now, states)
        lease_until = lease_expiry(database)
        asked = waiting_requests(database)
    finally:
        database.dispose()
    checked = [s.checked_at for s in states if s.checked_at is not None]
    oldest = min(checked) if checked else None
    click.echo(f"requests in the last 24 h: {used} of {settings.spotify_daily_request_budget}")
    click.echo(f"requests left: {max(settings.spotify_daily_request_budget - used, 0)}")
    click.echo(
        f"paused until: {pause.until.isoformat(sep=' ') + ' UTC' if pause else 'not paused'}"
    )
    if pause is not None:
        click.echo(f"pause reason: {pause.reason}")
    for line in promise_lines(promise):
        click.echo(line)
    click.echo(f"artists due for a check: {len(due)}")
    click.echo(f"artists never checked: {len(states) - len(checked)}")
    click.echo(f"oldest check: {_age(oldest, now)}")
    at_work = f"yes (lease until {lease_until:%Y-%m-%d %H:%M:%S} UTC)" if lease_until else "no"
    click.echo(f"run at work: {at_work}")
    click.echo(f"work asked for meanwhile: {asked}")


def promise_lines(promise: Promise) -> list[str]:
    """The promise in `status`: unique artists, checks the budget allows per interval, what it
    keeps, and a warning line with what it would take when it cannot keep every artist."""
    lines = [
        f"unique artists: {promise.unique_artists}",
        f"artist checks per {promise.interval_days:g}-day interval: {promise.checks_allowed} "
        f"allowed by the budget, {promise.checks_needed} needed",
        f"promise: {promise.statement()}",
        f"checked within their last interval: {promise.coverage:.0%} of the artists",
    ]
    if promise.kept:
        lines.append(f"room for: {promise.room} more artists")
    else:
        lines.append(
            "warning: the request budget cannot check every artist before each digest; "
            f"it would take {promise.what_it_takes()}"
        )
    return lines


def _age(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "-"
    hours = (now - moment).total_seconds() / 3600
    return f"{moment.isoformat(sep=' ')} UTC ({hours:.1f} h ago)"


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


commands: list[click.Command] = [run_command, status_command, db_group, make_key]
