"""The real engine (`run_once`) against the sandbox: one scheduler run per simulated step."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import time_machine
from cryptography.fernet import Fernet
from sqlalchemy import select

from benchmarks.sandbox import Sandbox, build_sandbox
from benchmarks.scenarios import START, Scenario, World
from benchmarks.score import Outcome, request_rates, score
from release_notifier.db import Database, open_database
from release_notifier.db.models import Artist, Digest, Follow, LedgerEntry, Release
from release_notifier.jobs.turns import run_once
from release_notifier.sandbox.mailcatcher import MailCatcher
from release_notifier.sandbox.wiring import add_linked_subscriber
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


def add_users(database: Database, settings: Settings, sandbox: Sandbox) -> None:
    """Confirmed subscribers linked to the sandbox accounts, first digest due now."""
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


def checked_shares(database: Database, at: datetime, interval: timedelta) -> tuple[float, float]:
    """Share of followed artists checked in the last 24 hours, and within the last interval."""
    with database.session() as session:
        checked = [
            c
            for (c,) in session.execute(
                select(Artist.checked_at).join(Follow, Follow.artist_id == Artist.id)
            )
        ]
    if not checked:
        return 1.0, 1.0
    day = sum(1 for c in checked if c is not None and c >= at - timedelta(hours=24))
    cycle = sum(1 for c in checked if c is not None and c > at - interval)
    return day / len(checked), cycle / len(checked)


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
            add_users(database, settings, sandbox)
            return _loop(scenario, world, sandbox, settings, database, clock)
        finally:
            database.dispose()
            smtp.stop()
            sandbox.stop()


def _loop(
    scenario: Scenario,
    world: World,
    sandbox: Sandbox,
    settings: Settings,
    database: Database,
    clock: time_machine.Traveller,
) -> dict[str, object]:
    step = timedelta(hours=scenario.step_hours)
    interval = timedelta(days=scenario.interval_days)
    now = START
    checks = 0
    runs = 0
    coverage_day: list[float] = []
    coverage_cycle: list[float] = []
    unchecked_at_digest = 0
    while now <= scenario.end:
        clock.move_to(now)
        sandbox.release_due(now)
        summary = run_once(settings, database, sleep=lambda _seconds: None)
        runs += 1
        if now > scenario.start_measuring:
            checks += summary.artists_checked
            if summary.emails_sent or _digest_was_due(now, scenario):
                day, cycle = checked_shares(database, now, interval)
                coverage_day.append(day)
                coverage_cycle.append(cycle)
                unchecked_at_digest = max(unchecked_at_digest, summary.artists_unchecked)
        now += step
    return _measure(
        scenario,
        world,
        sandbox,
        database,
        checks,
        runs,
        (coverage_day, coverage_cycle, unchecked_at_digest),
    )


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
    coverage: tuple[list[float], list[float], int],
) -> dict[str, object]:
    recorded = [r for r in sandbox.emulator.requests if r.path.startswith("/v1/")]
    album_requests = sum(
        1 for r in recorded if r.path.endswith("/albums") and r.at > scenario.start_measuring
    )
    outcome = engine_outcome(database, sandbox)
    coverage_day, coverage_cycle, unchecked = coverage
    return {
        **request_rates(scenario, recorded),
        "requests_per_artist_check": round(album_requests / checks, 3) if checks else None,
        "artist_checks": checks,
        "runs": runs,
        "quota_exceeded": sum(1 for r in recorded if r.status == 429),
        "max_requests_in_24h": busiest_day([r.at for r in recorded]),
        "coverage_24h_min": round(min(coverage_day, default=1.0), 3),
        "coverage_cycle_min": round(min(coverage_cycle, default=1.0), 3),
        "max_unchecked_at_digest": unchecked,
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
