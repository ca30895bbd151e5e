"""Configuration errors name the variable; migrations build every table on each backend."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import inspect

from release_notifier.crypto import TokenDecryptError, decrypt_token, encrypt_token
from release_notifier.db import Database
from release_notifier.db.models import Base
from release_notifier.settings import ConfigError, load_settings


def test_malformed_fernet_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_ENCRYPTION_KEY", "not-a-key")
    with pytest.raises(ConfigError, match=r"^DB_ENCRYPTION_KEY: is not a valid Fernet key"):
        load_settings()


def test_malformed_number_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_INTERVAL_DAYS", "fortnightly")
    with pytest.raises(ConfigError, match=r"^DIGEST_INTERVAL_DAYS:"):
        load_settings()


def test_localhost_redirect_uri_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTIPY_REDIRECT_URI", "http://localhost:5000/auth/callback")
    with pytest.raises(ConfigError, match=r"^SPOTIPY_REDIRECT_URI: .*127.0.0.1"):
        load_settings()


@pytest.mark.parametrize(
    "uri", ["http://notifier.example.com/auth/callback", "http://192.168.1.20:5000/auth/callback"]
)
def test_a_non_loopback_http_redirect_uri_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, uri: str
) -> None:
    monkeypatch.setenv("SPOTIPY_REDIRECT_URI", uri)
    settings = load_settings()  # the sandbox demo may serve on any host: refused where it matters
    with pytest.raises(ConfigError, match=r"^SPOTIPY_REDIRECT_URI: the redirect URI .* https://"):
        settings.require_registrable_redirect_uri()


@pytest.mark.parametrize(
    "uri",
    [
        "https://notifier.example.com/auth/callback",
        "http://127.0.0.1:5000/auth/callback",
        "http://[::1]:5000/auth/callback",
    ],
)
def test_https_and_loopback_literal_redirect_uris_are_accepted(
    monkeypatch: pytest.MonkeyPatch, uri: str
) -> None:
    monkeypatch.setenv("SPOTIPY_REDIRECT_URI", uri)
    load_settings().require_registrable_redirect_uri()


def test_a_redirect_uri_derived_from_an_http_public_url_names_public_base_url() -> None:
    settings = load_settings(public_base_url="http://notifier.example.com")
    with pytest.raises(ConfigError, match=r"^PUBLIC_BASE_URL: the redirect URI http://notifier"):
        settings.require_registrable_redirect_uri()


def test_require_names_the_missing_variable() -> None:
    settings = load_settings(spotipy_client_id="")
    with pytest.raises(ConfigError, match=r"^SPOTIPY_CLIENT_ID is not set$"):
        settings.require("spotipy_client_id")


@pytest.mark.parametrize("name", ["", "   ", "Two\nlines", "<b>Tunes</b>"])
def test_a_blank_or_markup_site_name_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("SITE_NAME", name)
    with pytest.raises(ConfigError, match=r"^SITE_NAME: "):
        load_settings()


def test_the_sender_carries_the_site_name_unless_mail_from_names_itself() -> None:
    named = load_settings(site_name="Tuesday Tunes", mail_from="", email_user="me@example.org")
    assert named.sender == "Tuesday Tunes <me@example.org>"
    own = load_settings(site_name="Tuesday Tunes", mail_from="Ana's Radar <radar@example.org>")
    assert own.sender == "Ana's Radar <radar@example.org>"


def test_fractional_interval_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_INTERVAL_DAYS", "0.5")
    assert load_settings().digest_interval_days == 0.5


def test_migrations_create_every_model_table(database: Database) -> None:
    tables = set(inspect(database.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_db_upgrade_command_creates_the_database(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'site.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "release_notifier", "db", "upgrade"],
        env={"DATABASE_URL": url, "PATH": ""},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "new" / "site.db").exists()


def test_bad_key_exits_nonzero_with_one_line(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "release_notifier", "db", "upgrade"],
        env={"DB_ENCRYPTION_KEY": "short", "PATH": ""},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "DB_ENCRYPTION_KEY" in result.stderr


def test_token_is_bound_to_its_user() -> None:
    settings = load_settings(db_encryption_key=Fernet.generate_key().decode())
    blob = encrypt_token(settings.token_cipher, 7, "refresh-abc")
    assert decrypt_token(settings.token_cipher, 7, blob) == "refresh-abc"
    with pytest.raises(TokenDecryptError):
        decrypt_token(settings.token_cipher, 8, blob)
