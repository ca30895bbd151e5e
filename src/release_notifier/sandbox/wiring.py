"""Wiring the app to the sandbox: settings that point at the emulator and the mail catcher, and
linked subscribers created directly (as if they had signed up), for the demo, tests and benchmarks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import MultiFernet

from release_notifier.crypto import encrypt_token
from release_notifier.db import Database
from release_notifier.db.models import PushChannel, User
from release_notifier.releases.choices import choose_artist, remember_artist
from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.sandbox.mailcatcher import MailCatcher
from release_notifier.settings import Settings, load_settings


def sandbox_settings(emulator: SpotifyEmulator, mail: MailCatcher, **overrides: Any) -> Settings:
    """Settings whose Spotify is `emulator` and whose SMTP server is `mail` (plain, no login)."""
    wiring: dict[str, Any] = {
        "spotipy_client_id": emulator.client_id,
        "spotipy_client_secret": emulator.client_secret,
        "spotify_api_base_url": emulator.api_base_url,
        "spotify_accounts_base_url": emulator.accounts_base_url,
        "smtp_host": mail.host,
        "smtp_port": mail.port,
        "smtp_security": "none",
        "email_user": "",
        "email_password": "",
    }
    return load_settings(**{**wiring, **overrides})


def add_linked_subscriber(
    database: Database,
    cipher: MultiFernet,
    emulator: SpotifyEmulator,
    email: str,
    follows: list[str],
    *,
    now: datetime,
    account: str | None = None,
    **fields: Any,
) -> int:
    """A confirmed subscriber whose sandbox Spotify account follows `follows`; digest due `now`.

    `account` reuses an existing sandbox account (its follows are left as they are); `fields`
    sets other User columns (digest_interval_days, release_types, ...).
    """
    if account is None:
        account = emulator.add_account(follows=follows)
    refresh = emulator.issue_tokens(account)["refresh_token"]
    with database.session() as session:
        user = User(
            email=email,
            created_at=now,
            confirmed_at=now,
            authorized_at=now,
            next_digest_at=now,
            spotify_account_id=account,
            **fields,
        )
        session.add(user)
        session.flush()
        user.refresh_token_enc = encrypt_token(cipher, user.id, refresh)
        return user.id


def add_chosen_subscriber(
    database: Database,
    emulator: SpotifyEmulator,
    email: str,
    artists: list[str],
    *,
    now: datetime,
    lookback_days: int = 28,
    **fields: Any,
) -> int:
    """A confirmed email-only subscriber (no Spotify account) who chose `artists` (emulator
    artist ids); digest due `now`. `fields` sets other User columns."""
    with emulator.lock:
        names = {artist_id: emulator.catalogue.artists[artist_id].name for artist_id in artists}
    with database.session() as session:
        user = User(
            email=email,
            created_at=now,
            confirmed_at=now,
            next_digest_at=now,
            announce_since=now - timedelta(days=lookback_days),
            **fields,
        )
        session.add(user)
        session.flush()
        for artist_id in artists:
            remember_artist(session, artist_id, names[artist_id], None)
            choose_artist(session, user, artist_id, now, lookback_days)
        return user.id


def add_push_channel(
    database: Database,
    cipher: MultiFernet,
    user_id: int,
    url: str,
    *,
    cadence: str = "instant",
    now: datetime,
    label: str = "JSON · json://127.0.0.1",
) -> int:
    """A push channel for `user_id` to the Apprise `url` (encrypted like the app stores it)."""
    with database.session() as session:
        channel = PushChannel(
            user_id=user_id,
            url_enc=encrypt_token(cipher, user_id, url),
            label=label,
            cadence=cadence,
            created_at=now,
        )
        session.add(channel)
        session.flush()
        return channel.id
