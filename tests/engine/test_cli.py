"""The `release-notifier run` command as a user runs it: a subprocess with environment variables."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from release_notifier.clock import utcnow
from release_notifier.crypto import encrypt_token
from release_notifier.db import open_database
from release_notifier.db.models import User, WorkRequest
from release_notifier.jobs.lease import RunLease
from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.sandbox.mailcatcher import MailCatcher


def cli(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "release_notifier", *args],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def environment(emulator: SpotifyEmulator, smtp: MailCatcher, tmp_path: Path) -> dict[str, str]:
    return {
        "SPOTIPY_CLIENT_ID": emulator.client_id,
        "SPOTIPY_CLIENT_SECRET": emulator.client_secret,
        "SPOTIFY_API_BASE_URL": emulator.api_base_url,
        "SPOTIFY_ACCOUNTS_BASE_URL": emulator.accounts_base_url,
        "DB_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "FLASK_SECRET_KEY": "cli-test-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'site.db'}",
        "SMTP_HOST": smtp.host,
        "SMTP_PORT": str(smtp.port),
        "SMTP_SECURITY": "none",
        "MAIL_FROM": "digests@notifier.test",
    }


def test_run_prints_a_summary_and_sends_the_digest(
    environment: dict[str, str], emulator: SpotifyEmulator, smtp: MailCatcher, tmp_path: Path
) -> None:
    artist = emulator.add_artist("Quiet Signal")
    emulator.add_release(
        artist, "Late Bloom", release_date=(date.today() - timedelta(days=3)).isoformat()
    )
    account = emulator.add_account(follows=[artist])
    refresh = emulator.issue_tokens(account)["refresh_token"]
    database = open_database(environment["DATABASE_URL"])
    cipher = Fernet(environment["DB_ENCRYPTION_KEY"].encode())
    from cryptography.fernet import MultiFernet

    with database.session() as session:
        user = User(
            email="ana@example.test",
            created_at=utcnow(),
            confirmed_at=utcnow(),
            authorized_at=utcnow(),
            next_digest_at=utcnow(),
            spotify_account_id=account,
        )
        session.add(user)
        session.flush()
        user.refresh_token_enc = encrypt_token(MultiFernet([cipher]), user.id, refresh)
    database.dispose()

    result = cli(environment, "run", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "artists checked: 1" in result.stdout
    assert "digests sent: 1" in result.stdout
    assert len(smtp.to("ana@example.test")) == 1
    assert refresh not in result.stderr and "ana@example.test" not in result.stderr


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"SPOTIPY_CLIENT_ID": ""}, "SPOTIPY_CLIENT_ID"),
        ({"DB_ENCRYPTION_KEY": "not-a-fernet-key"}, "DB_ENCRYPTION_KEY"),
        ({"SMTP_PORT": "unreachable"}, "SMTP_PORT"),
        ({"SMTP_PORT": "closed"}, "SMTP_HOST"),
    ],
)
def test_bad_configuration_is_one_line_naming_the_problem(
    environment: dict[str, str], tmp_path: Path, change: dict[str, str], named: str
) -> None:
    env = {**environment, **change}
    if env.get("SMTP_PORT") == "closed":
        env["SMTP_PORT"] = str(free_port())

    result = cli(env, "run", cwd=tmp_path)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0]
    assert not (tmp_path / "site.db").exists()  # nothing was touched


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["--no-wait"], 3, "another run is in progress: nothing done here"),
        (["--wait", "0.3"], 4, "another run is in progress (the wait ran out)"),
    ],
)
def test_run_while_another_is_at_work_records_the_work_and_exits_with_its_code(
    environment: dict[str, str], tmp_path: Path, args: list[str], code: int, said: str
) -> None:
    database = open_database(environment["DATABASE_URL"])
    other = RunLease(database)  # a live run (this process) holds the lease
    assert other.acquire()
    database.dispose()

    result = cli(environment, "run", *args, cwd=tmp_path)

    assert result.returncode == code, result.stderr
    assert said in result.stdout
    database = open_database(environment["DATABASE_URL"])
    try:
        with database.session() as session:
            asked = session.scalars(select(WorkRequest.trigger)).all()
    finally:
        database.dispose()
    assert asked == ["cli"]  # the active run does it before it lets go of the lease


def test_run_refuses_a_negative_wait(environment: dict[str, str], tmp_path: Path) -> None:
    result = cli(environment, "run", "--wait", "-1", cwd=tmp_path)

    assert result.returncode == 2
    assert "--wait" in result.stderr
    assert not (tmp_path / "site.db").exists()
