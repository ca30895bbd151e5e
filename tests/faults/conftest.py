"""A fleet for fault tests: `release-notifier run` as real subprocesses against an emulator and a
mail catcher that live in the test process (so they outlive every killed run), on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, MultiFernet

from release_notifier.clock import utcnow
from release_notifier.db import Database, open_database
from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.sandbox.mailcatcher import CaughtMessage, MailCatcher
from release_notifier.sandbox.wiring import add_linked_subscriber
from tests.engine.conftest import World, world

__all__ = ["Fleet", "Tally", "World", "tally", "wait_until", "world"]

POLL = 0.002  # seconds between looks at observable state


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll `condition` until it holds or `timeout` passes; True when it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(POLL)
    return condition()


def release_names(caught: CaughtMessage) -> list[str]:
    """Release names listed in a digest's plain-text part."""
    text = caught.message.get_body(preferencelist=("plain",)).get_content()
    return [line[2:] for line in text.splitlines() if line.startswith("* ")]


@dataclass
class Tally:
    """Releases each user should have had against what their inbox holds."""

    lost: int
    duplicated: int
    resent_messages: int  # digests received more than once (same Message-ID)
    duplicates_outside_resends: int  # a release in two different digests: never allowed


@dataclass
class Fleet:
    """The outside world of the app (Spotify, SMTP, a SQLite file) plus its environment."""

    env: dict[str, str]
    database: Database
    spotify: SpotifyEmulator
    smtp: MailCatcher
    folder: Path
    followers: dict[str, list[str]] = field(default_factory=dict)  # artist -> user addresses
    expected: dict[str, set[str]] = field(default_factory=dict)  # address -> release names
    released: int = 0

    def add_user(self, email: str, follows: list[str]) -> int:
        """A confirmed, linked subscriber whose digest is due now."""
        cipher = MultiFernet([Fernet(self.env["DB_ENCRYPTION_KEY"].encode())])
        user_id = add_linked_subscriber(
            self.database, cipher, self.spotify, email, follows, now=utcnow()
        )
        self.expected.setdefault(email, set())
        for artist in follows:
            self.followers.setdefault(artist, []).append(email)
        return user_id

    def release(self, artist: str, *, days_ago: int = 1, group: str = "album") -> str:
        """A new, recent release by `artist`; every follower must get it exactly once."""
        self.released += 1
        name = f"Release {self.released:03d}"
        when = (utcnow() - timedelta(days=days_ago)).date().isoformat()
        self.spotify.add_release(artist, name, release_date=when, group=group)
        for address in self.followers.get(artist, []):
            self.expected[address].add(name)
        return name

    def start_run(self, preexec_fn: Callable[[], None] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "release_notifier", "run"],
            env=self.env,
            cwd=self.folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=preexec_fn,
        )

    def run(
        self, timeout: float = 60, preexec_fn: Callable[[], None] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """One complete `release-notifier run`."""
        process = self.start_run(preexec_fn)
        stdout, stderr = process.communicate(timeout=timeout)
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    def tally(self) -> Tally:
        return tally(self.smtp, self.expected)


def tally(smtp: MailCatcher, expected: dict[str, set[str]]) -> Tally:
    """Lost and duplicated (user, release) pairs over every message `smtp` caught so far."""
    lost = duplicated = outside = 0
    ids = Counter(str(m.message["Message-ID"]) for m in smtp.messages)
    for address, wanted in expected.items():
        received: Counter[str] = Counter()
        digests: dict[str, set[str]] = {}
        for caught in smtp.to(address):
            for name in release_names(caught):
                received[name] += 1
                digests.setdefault(name, set()).add(str(caught.message["Message-ID"]))
        lost += len(wanted - set(received))
        duplicated += sum(seen - 1 for seen in received.values())
        outside += sum(len(message_ids) - 1 for message_ids in digests.values())
    resent = sum(1 for seen in ids.values() if seen > 1)
    return Tally(lost, duplicated, resent, outside)


def fleet_environment(
    spotify: SpotifyEmulator, smtp: MailCatcher, folder: Path, **extra: str
) -> dict[str, str]:
    """Everything `release-notifier run` reads, pointing at the emulator and the catcher."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "SPOTIPY_CLIENT_ID": spotify.client_id,
        "SPOTIPY_CLIENT_SECRET": spotify.client_secret,
        "SPOTIFY_API_BASE_URL": spotify.api_base_url,
        "SPOTIFY_ACCOUNTS_BASE_URL": spotify.accounts_base_url,
        "SPOTIFY_DAILY_REQUEST_BUDGET": "100000",
        "SPOTIFY_MAX_WAIT_SECONDS": "0",
        "DB_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "FLASK_SECRET_KEY": "fault-test-secret",
        "DATABASE_URL": f"sqlite:///{folder / 'site.db'}",
        "SMTP_HOST": smtp.host,
        "SMTP_PORT": str(smtp.port),
        "SMTP_SECURITY": "none",
        "SMTP_TIMEOUT_SECONDS": "5",
        "MAIL_FROM": "digests@notifier.test",
        "DIGEST_INTERVAL_DAYS": "0",  # every run is a digest run: many chances to crash
        "INITIAL_LOOKBACK_DAYS": "28",
        **extra,
    }


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    with SpotifyEmulator(user_cap=None) as spotify, MailCatcher() as smtp:
        env = fleet_environment(spotify, smtp, tmp_path)
        database = open_database(env["DATABASE_URL"])
        try:
            yield Fleet(env, database, spotify, smtp, tmp_path)
        finally:
            database.dispose()
