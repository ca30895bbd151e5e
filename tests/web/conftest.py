"""The web app against a real database, the Spotify emulator over HTTP and a real SMTP server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from release_notifier.db import Database
from release_notifier.db.models import Notice, PendingSignup, Run, User
from release_notifier.jobs.queue import build_queue
from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.sandbox.mailcatcher import MailCatcher
from release_notifier.settings import Settings, load_settings
from release_notifier.web import create_app

PUBLIC_URL = "http://127.0.0.1:5000"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
LINK = re.compile(r"http://127\.0\.0\.1:5000(/[^\s\"<>]+)")


def web_settings_for(
    emulator: SpotifyEmulator, smtp: MailCatcher, tmp_path: Path, **overrides: object
) -> Settings:
    values: dict[str, object] = {
        "spotipy_client_id": emulator.client_id,
        "spotipy_client_secret": emulator.client_secret,
        "spotipy_redirect_uri": f"{PUBLIC_URL}/auth/callback",
        "spotify_api_base_url": emulator.api_base_url,
        "spotify_accounts_base_url": emulator.accounts_base_url,
        "flask_secret_key": "test-secret-key-for-flask-sessions-and-links",
        "cron_secret_key": "test-cron-key",
        "db_encryption_key": Fernet.generate_key().decode(),
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_security": "none",
        "email_user": "",
        "email_password": "",
        "mail_from": "digests@example.com",
        "public_base_url": PUBLIC_URL,
        "huey_sqlite_path": str(tmp_path / "queue.db"),
        "backup_dir": str(tmp_path / "backups"),
        "spotify_max_wait_seconds": 0,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def web_settings(emulator: SpotifyEmulator, smtp: MailCatcher, tmp_path: Path) -> Settings:
    return web_settings_for(emulator, smtp, tmp_path)


@pytest.fixture
def app(web_settings: Settings, database: Database) -> Flask:
    """The app with a queue that runs each task as it is queued."""
    settings = web_settings.model_copy(update={"database_url": database.url})
    return create_app(settings, database, queue=build_queue(settings, database, immediate=True))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token(client: FlaskClient, path: str = "/") -> str:
    page = client.get(path)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def links_in(message: object) -> list[str]:
    """The app's paths linked from a caught message's plain-text part."""
    body = message.message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    return LINK.findall(body.get_content())


@dataclass
class Counts:
    users: int
    notices: int
    pending: int
    runs: int


def counts(database: Database) -> Counts:
    with database.session() as session:
        return Counts(
            users=session.scalar(select(func.count()).select_from(User)) or 0,
            notices=session.scalar(select(func.count()).select_from(Notice)) or 0,
            pending=session.scalar(select(func.count()).select_from(PendingSignup)) or 0,
            runs=session.scalar(select(func.count()).select_from(Run)) or 0,
        )


@dataclass
class SignupFlow:
    """Drives a signup like a browser: our form, the emulator's consent page, our callback."""

    client: FlaskClient
    emulator: SpotifyEmulator

    def submit(self, email: str) -> TestResponse:
        token = csrf_token(self.client)
        return self.client.post("/signup", data={"email": email, "csrf_token": token})

    def consent(self, authorize_location: str, user_id: str, action: str = "agree") -> str:
        """Answer the emulator's consent page; returns our callback path with its query."""
        params = dict(parse_qsl(urlsplit(authorize_location).query))
        page = requests.get(authorize_location, timeout=10)
        assert page.status_code == 200, page.text
        answer = requests.post(
            f"{self.emulator.accounts_base_url}/authorize",
            data={**params, "user_id": user_id, "action": action},
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 302, answer.text
        callback = urlsplit(answer.headers["Location"])
        return f"{callback.path}?{callback.query}"

    def sign_up(self, email: str, user_id: str, action: str = "agree") -> TestResponse:
        started = self.submit(email)
        assert started.status_code == 303, started.get_data(as_text=True)
        callback = self.consent(started.headers["Location"], user_id, action)
        return self.client.get(callback, follow_redirects=True)


@pytest.fixture
def flow(client: FlaskClient, emulator: SpotifyEmulator) -> SignupFlow:
    return SignupFlow(client, emulator)


@pytest.fixture
def listener(emulator: SpotifyEmulator) -> Iterator[str]:
    """An allow-listed Spotify account that follows one artist with a recent single."""
    artist = emulator.add_artist("Nova Reed")
    emulator.add_release(artist, "Glasshouse", group="single", release_date=recent_date())
    yield emulator.add_account("ana", display_name="Ana", follows=[artist])


def recent_date() -> str:
    from datetime import timedelta

    from release_notifier.clock import utcnow

    return (utcnow() - timedelta(days=3)).date().isoformat()


@pytest.fixture
def ana(flow: SignupFlow, listener: str, database: Database) -> User:
    """Ana, signed up through the whole flow (not yet confirmed)."""
    assert flow.sign_up("ana@example.com", listener).status_code == 200
    with database.session() as session:
        return session.scalars(select(User).where(User.email == "ana@example.com")).one()


def signed_path(app: Flask, purpose: str, user: User, version: int | None = None) -> str:
    """The path of a signed link for `user` (e.g. /settings/<token>)."""
    from release_notifier.links import link_url

    settings = app.extensions["release_notifier"].settings
    version = user.link_version if version is None else version
    url = link_url(settings, purpose, user.id, version, address=user.email)
    return url.removeprefix(PUBLIC_URL)


def reload(database: Database, user: User) -> User | None:
    with database.session() as session:
        return session.get(User, user.id)
