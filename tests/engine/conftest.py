"""The engine's world: Spotify emulator, real SMTP server, a database, settings for all."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import time_machine
from cryptography.fernet import Fernet

from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.db.models import LedgerEntry
from release_notifier.jobs.run import RunSummary
from release_notifier.jobs.turns import run_once
from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.sandbox.mailcatcher import MailCatcher
from release_notifier.sandbox.wiring import add_linked_subscriber, sandbox_settings
from release_notifier.settings import Settings

START = datetime(2026, 11, 25, 9, 0, 0)


@dataclass
class World:
    settings: Settings
    database: Database
    spotify: SpotifyEmulator
    smtp: MailCatcher
    clock: time_machine.Coordinates
    waits: list[float]

    def run(self) -> RunSummary:
        return run_once(self.settings, self.database, sleep=self.waits.append)

    def add_user(
        self,
        email: str,
        follows: list[str],
        *,
        interval: float | None = None,
        types: str = "album,single",
        account: str | None = None,
    ) -> int:
        """A confirmed subscriber whose Spotify account follows `follows`; digest due now."""
        return add_linked_subscriber(
            self.database,
            self.settings.token_cipher,
            self.spotify,
            email,
            follows,
            now=utcnow(),
            account=self.spotify.add_account(account, follows=follows),
            digest_interval_days=interval,
            release_types=types,
        )

    def days_pass(self, days: float) -> None:
        self.clock.shift(timedelta(days=days))

    def digest_names(self, address: str) -> list[list[str]]:
        """Release names in each digest `address` received, from the text part."""
        digests = []
        for caught in self.smtp.to(address):
            text = caught.message.get_body(preferencelist=("plain",)).get_content()
            digests.append([line[2:] for line in text.splitlines() if line.startswith("* ")])
        return digests

    def ledger(self, user_id: int) -> dict[str, str]:
        with self.database.session() as session:
            rows = session.query(LedgerEntry).filter_by(user_id=user_id)
            return {row.release_id: row.status for row in rows}


@pytest.fixture
def world(database: Database, smtp: MailCatcher) -> Iterator[World]:
    with time_machine.travel(START, tick=False) as clock:
        emulator = SpotifyEmulator().start()
        try:
            settings = sandbox_settings(
                emulator,
                smtp,
                db_encryption_key=Fernet.generate_key().decode(),
                flask_secret_key="test-secret",
                database_url=database.url,
                mail_from="digests@notifier.test",
                public_base_url="http://127.0.0.1:5000",
                digest_interval_days=14,
                initial_lookback_days=28,
            )
            yield World(settings, database, emulator, smtp, clock, [])
        finally:
            emulator.stop()
