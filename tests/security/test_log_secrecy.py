"""Every log line of a full signup-to-digest journey, at DEBUG, from `serve` and `run` as real
processes: no refresh or access token, OAuth code or state, signed link, secret or full email
address appears in them."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from sqlalchemy import update

from release_notifier.clock import utcnow
from release_notifier.db import open_database
from release_notifier.db.models import Artist, User
from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.sandbox.mailcatcher import CaughtMessage, MailCatcher
from tests.engine.test_cli import free_port
from tests.faults.conftest import fleet_environment, wait_until

ADDRESS = "secret.keeper@example.com"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass
class Served:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[str]
    folder: Path

    def stop(self) -> str:
        """Ctrl-C, as an operator would; returns everything it logged."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            _, stderr = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, stderr = self.process.communicate()
        return stderr


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Served, SpotifyEmulator, MailCatcher]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with SpotifyEmulator() as spotify, MailCatcher() as smtp:
        env = fleet_environment(
            spotify,
            smtp,
            tmp_path,
            CRON_SECRET_KEY="cron-secret-for-log-test",
            FLASK_SECRET_KEY="flask-secret-for-log-test",
            PUBLIC_BASE_URL=url,
            HUEY_SQLITE_PATH=str(tmp_path / "queue.db"),
            BACKUP_DIR=str(tmp_path / "backups"),
            SCHEDULER_ENABLED="false",
            DIGEST_INTERVAL_DAYS="14",
        )
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "release_notifier",
                "--log-level=DEBUG",
                "serve",
                f"--port={port}",
            ],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        server = Served(url, env, process, tmp_path)
        try:
            yield server, spotify, smtp
        finally:
            server.stop()


def answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def form_token(page: requests.Response) -> str:
    match = CSRF.search(page.text)
    assert match, page.text[:500]
    return match.group(1)


def link_in(caught: CaughtMessage, base: str, kind: str) -> str:
    text = caught.message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(rf"{re.escape(base)}/{kind}/[^\s]+", text)
    assert match, text
    return match.group(0)


def run_state(status_url: str, headers: dict[str, str]) -> str:
    return str(requests.get(status_url, headers=headers, timeout=10).json()["state"])


def due_now(database_url: str) -> None:
    """The subscriber's next digest is due now (as if two weeks had passed)."""
    database = open_database(database_url)
    try:
        with database.session() as session:
            session.execute(update(User).values(next_digest_at=utcnow()))
            session.execute(update(Artist).values(checked_at=utcnow() - timedelta(days=14)))
    finally:
        database.dispose()


def test_logs_of_a_whole_signup_to_digest_journey_hold_no_secret_and_no_address(
    served: tuple[Served, SpotifyEmulator, MailCatcher],
) -> None:
    server, spotify, smtp = served
    artist = spotify.add_artist("Quiet Signal")
    spotify.add_release(artist, "Late Bloom", release_date="2026-11-20")
    account = spotify.add_account("keeper", follows=[artist])
    assert wait_until(lambda: answers(server.url), 30), "serve did not start"
    browser = requests.Session()

    # Sign up, agree at (emulated) Spotify, come back through the callback.
    started = browser.post(
        f"{server.url}/signup",
        data={"email": ADDRESS, "csrf_token": form_token(browser.get(f"{server.url}/"))},
        allow_redirects=False,
    )
    assert started.status_code == 303, started.text[:500]
    consent = dict(parse_qsl(urlsplit(started.headers["Location"]).query))
    agreed = requests.post(
        f"{spotify.accounts_base_url}/authorize",
        data={**consent, "user_id": account, "action": "agree"},
        allow_redirects=False,
        timeout=10,
    )
    callback = agreed.headers["Location"]
    returned = dict(parse_qsl(urlsplit(callback).query))
    assert browser.get(callback).status_code == 200
    assert wait_until(lambda: len(smtp.to(ADDRESS)) == 1, 30), "no confirmation email"

    # Confirm from the email; the initial digest follows from the queue.
    confirm_url = link_in(smtp.to(ADDRESS)[0], server.url, "confirm")
    page = browser.get(confirm_url)
    confirmed = browser.post(confirm_url, data={"csrf_token": form_token(page)})
    assert confirmed.status_code == 200
    assert wait_until(lambda: len(smtp.to(ADDRESS)) == 2, 60), "no initial digest"
    digest = smtp.to(ADDRESS)[1]
    links = [link_in(digest, server.url, kind) for kind in ("settings", "unsubscribe")]
    browser.get(links[0])

    # The cron endpoint, with the key and with a wrong one; then a run from the command line.
    cron = {"X-API-KEY": server.env["CRON_SECRET_KEY"]}
    queued = requests.post(f"{server.url}/scheduled/run-releases", headers=cron, timeout=10)
    assert queued.status_code == 202
    status_url = server.url + queued.json()["status_url"]
    assert wait_until(lambda: run_state(status_url, cron) in ("done", "skipped"), 30)
    wrong = {"X-API-KEY": "not-the-key"}
    assert requests.post(f"{server.url}/scheduled/run-releases", headers=wrong).status_code == 401
    spotify.add_release(artist, "Second Bloom", release_date="2026-11-24")
    due_now(server.env["DATABASE_URL"])
    run = subprocess.run(
        [sys.executable, "-m", "release_notifier", "--log-level", "DEBUG", "run"],
        env=server.env,
        cwd=server.folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "digests sent: 1" in run.stdout
    logs = server.stop() + run.stderr + run.stdout

    secrets = {
        "email address": [ADDRESS],
        "OAuth code": [returned["code"], *spotify.grants.codes],
        "OAuth state": [returned["state"]],
        "refresh token": list(spotify.grants.refresh_tokens),
        "access token": list(spotify.grants.access_tokens),
        "signed link": [confirm_url.rsplit("/", 1)[1], *(u.rsplit("/", 1)[1] for u in links)],
        "client secret": [spotify.client_secret],
        "FLASK_SECRET_KEY": [server.env["FLASK_SECRET_KEY"]],
        "CRON_SECRET_KEY": [server.env["CRON_SECRET_KEY"]],
        "DB_ENCRYPTION_KEY": [server.env["DB_ENCRYPTION_KEY"]],
    }
    assert spotify.grants.refresh_tokens and spotify.grants.access_tokens
    leaked = {
        kind: [value[:12] + "…" for value in values if value and value in logs]
        for kind, values in secrets.items()
    }
    lines = logs.count("\n")
    print(f"\nlog secrecy: {lines} log lines at DEBUG, {sum(map(len, secrets.values()))} secrets")
    assert lines > 20  # the logs really were captured
    assert {kind: found for kind, found in leaked.items() if found} == {}
