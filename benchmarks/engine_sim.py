"""The real engine (`run_once`) against the sandbox: one scheduler run per simulated step."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import time_machine
from cryptography.fernet import Fernet
from sqlalchemy import select

from benchmarks.sandbox import Sandbox, build_sandbox
from benchmarks.scenarios import START, Scenario, World
from benchmarks.score import Outcome, hours, request_rates, score
from release_notifier.db import Database, open_database
from release_notifier.db.models import Digest, LedgerEntry, Release
from release_notifier.jobs.promise import current_promise, measured_coverage
from release_notifier.jobs.schedule import artist_states
from release_notifier.jobs.turns import run_once
from release_notifier.sandbox.mailcatcher import MailCatcher
from release_notifier.sandbox.wiring import add_chosen_subscriber, add_linked_subscriber
from release_notifier.settings import Settings, load_settings


def engine_settings(scenario: Scenario, sandbox: Sandbox, url: str, smtp: MailCatcher) -> Settings:
    emulator = sandbox.emulator
    return load_settings(
        spotipy_client_id=emulator.client_id,
        spotipy_client_secret=emulator.client_secret,
        spotify_api_base_url=emulator.api_base_url,
        spotify_accounts_base_url=emulator.accounts_base_url,
        spotify_daily_request_budget=scenario.budget,
        db_encryption_key=Fernet.generate_key().decode(),
        flask_secret_key="benchmark",
        database_url=url,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_security="none",
        email_user="",
        mail_from="digests@notifier.test",
        digest_interval_days=scenario.interval_days,
        initial_lookback_days=28,
    )


def add_users(database: Database, settings: Settings, sandbox: Sandbox, world: World) -> None:
    """Confirmed subscribers, first digest due now: linked to the sandbox accounts, or (no
    accounts: an email-only scenario) with their artists chosen here."""
    for n, account in enumerate(sandbox.accounts):
        add_linked_subscriber(
            database,
            settings.token_cipher,
            sandbox.emulator,
            f"listener{n}@bench.test",
            [],
            now=START,
            account=account,
        )
    if sandbox.accounts:
        return
    for n, artists in enumerate(world.follows):
        ids = [sandbox.artist_ids[artist] for artist in artists]
        add_chosen_subscriber(database, sandbox.emulator, f"listener{n}@bench.test", ids, now=START)


def check_freshness(
    database: Database, settings: Settings, at: datetime
) -> tuple[float, float, float | None]:
    """Over the subscribers' unique artists: the share checked in the last 24 hours, the share
    checked within their last interval (the promise's measured coverage), and the oldest check's
    age in hours (None while an artist was never checked)."""
    states = artist_states(database, settings, at)
    if not states:
        return 1.0, 1.0, 0.0
    checked = [s.checked_at for s in states if s.checked_at is not None]
    day = sum(1 for c in checked if c >= at - timedelta(hours=24)) / len(states)
    oldest = hours(at - min(checked)) if len(checked) == len(states) else None
    return day, measured_coverage(states, at), oldest


def scratch_dir() -> str | None:
    """Databases go to memory-backed /dev/shm when there is one: disk syncs are not measured."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() else None


def simulate_engine(scenario: Scenario, world: World) -> dict[str, object]:
    """Run the engine every step_hours for the scenario's days; returns its measurements."""
    with (
        tempfile.TemporaryDirectory(dir=scratch_dir()) as folder,
        time_machine.travel(START, tick=False) as clock,
    ):
        sandbox = build_sandbox(scenario, world)
        smtp = MailCatcher().start()
        database = open_database(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            settings = engine_settings(scenario, sandbox, database.url, smtp)
            add_users(database, settings, sandbox, world)
            return _loop(scenario, world, sandbox, settings, database, clock)
        finally:
            database.dispose()
            smtp.stop()
            sandbox.stop()


@dataclass
class Freshness:
    """How fresh the checks were at each digest after the first interval."""

    day: list[float] = field(default_factory=list)  # share checked in the last 24 hours
    cycle: list[float] = field(default_factory=list)  # share checked within the interval
    oldest_hours: float | None = 0.0  # the oldest check's age (None: one never checked)
    unchecked: int = 0  # the most artists a digest run left due

    def add(self, database: Database, settings: Settings, at: datetime, unchecked: int) -> None:
        day, cycle, oldest = check_freshness(database, settings, at)
        self.day.append(day)
        self.cycle.append(cycle)
        if oldest is None or self.oldest_hours is None:
            self.oldest_hours = None
        else:
            self.oldest_hours = max(self.oldest_hours, oldest)
        self.unchecked = max(self.unchecked, unchecked)

    def measured(self) -> dict[str, object]:
        return {
            "coverage_24h_min": round(min(self.day, default=1.0), 3),
            "coverage_cycle_min": round(min(self.cycle, default=1.0), 3),
            "oldest_check_at_digest_hours": self.oldest_hours,
            "max_unchecked_at_digest": self.unchecked,
        }


def _loop(
    scenario: Scenario,
    world: World,
    sandbox: Sandbox,
    settings: Settings,
    database: Database,
    clock: time_machine.Traveller,
) -> dict[str, object]:
    step = timedelta(hours=scenario.step_hours)
    now = START
    checks = 0
    runs = 0
    freshness = Freshness()
    while now <= scenario.end:
        clock.move_to(now)
        sandbox.release_due(now)
        summary = run_once(settings, database, sleep=lambda _seconds: None)
        runs += 1
        if now > scenario.start_measuring:
            checks += summary.artists_checked
            if summary.emails_sent or _digest_was_due(now, scenario):
                freshness.add(database, settings, now, summary.artists_unchecked)
        now += step
    promise = current_promise(database, settings, now - step)
    return {
        **_measure(scenario, world, sandbox, database, checks, runs),
        **freshness.measured(),
        "promise": {
            "statement": promise.statement(),
            "kept": promise.kept,
            "unique_artists": promise.unique_artists,
            "checks_allowed_per_interval": promise.checks_allowed,
            "checks_needed_per_interval": promise.checks_needed,
            "budget_needed": promise.budget_needed,
        },
    }


def _digest_was_due(now: datetime, scenario: Scenario) -> bool:
    elapsed = (now - START).total_seconds()
    period = scenario.interval_days * 86400
    return elapsed % period < scenario.step_hours * 3600


def _measure(
    scenario: Scenario,
    world: World,
    sandbox: Sandbox,
    database: Database,
    checks: int,
    runs: int,
) -> dict[str, object]:
    recorded = [r for r in sandbox.emulator.requests if r.path.startswith("/v1/")]
    album_requests = sum(
        1 for r in recorded if r.path.endswith("/albums") and r.at > scenario.start_measuring
    )
    outcome = engine_outcome(database, sandbox)
    return {
        **request_rates(scenario, recorded),
        "requests_per_artist_check": round(album_requests / checks, 3) if checks else None,
        "artist_checks": checks,
        "runs": runs,
        "quota_exceeded": sum(1 for r in recorded if r.status == 429),
        "max_requests_in_24h": busiest_day([r.at for r in recorded]),
        **score(scenario, world, sandbox.appeared, outcome),
    }


def busiest_day(moments: list[datetime]) -> int:
    """The most requests inside any rolling 24 hours (the budget's window)."""
    moments = sorted(moments)
    busiest, first = 0, 0
    for last, moment in enumerate(moments):
        while moments[first] <= moment - timedelta(days=1):
            first += 1
        busiest = max(busiest, last - first + 1)
    return busiest


def engine_outcome(database: Database, sandbox: Sandbox) -> Outcome:
    """What the engine announced to whom, and when it first saw each new release."""
    outcome = Outcome()
    with database.session() as session:
        rows = session.execute(
            select(LedgerEntry.user_id, LedgerEntry.release_id, Digest.sent_at)
            .join(Digest, Digest.id == LedgerEntry.digest_id)
            .where(LedgerEntry.status == "announced")
        )
        for user_id, release_id, sent_at in rows:
            key = sandbox.album_keys.get(release_id)
            if key is None:
                outcome.spurious += 1
            elif sent_at is not None:
                outcome.deliveries.append((user_id - 1, key, sent_at))
        for release_id, first_seen in session.execute(select(Release.id, Release.first_seen_at)):
            key = sandbox.album_keys.get(release_id)
            if key is not None:
                seen = outcome.detected.get(key)
                outcome.detected[key] = first_seen if seen is None else min(seen, first_seen)
    return outcome
