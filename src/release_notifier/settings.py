"""The only module that reads the environment (and `.env`).

Names kept from the original app (`SPOTIPY_*`, `FLASK_SECRET_KEY`, `CRON_SECRET_KEY`,
`DB_ENCRYPTION_KEY`, `EMAIL_USER`, `EMAIL_PASSWORD`) so its users can move over unchanged.
"""

from __future__ import annotations

import ipaddress
import re
from email.utils import formataddr, parseaddr
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, MultiFernet
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Push services a subscriber may use unless CHANNEL_SCHEMES says otherwise (Apprise's schemes).
DEFAULT_CHANNEL_SCHEMES = (
    "ntfy,ntfys,tgram,discord,matrix,matrixs,slack,gotify,gotifys,pover,json,jsons"
)
SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]{0,31}$")


class ConfigError(Exception):
    """A missing or malformed setting; the message names the variable and fits on one line."""


def _fernet_keys(value: str) -> list[Fernet]:
    """Parse a comma-separated list of Fernet keys, newest first."""
    keys = [part.strip() for part in value.split(",") if part.strip()]
    if not keys:
        raise ValueError("is empty")
    fernets = []
    for key in keys:
        try:
            fernets.append(Fernet(key.encode()))
        except (ValueError, TypeError):
            raise ValueError(
                "is not a valid Fernet key (32 url-safe base64 bytes; make one with "
                "`release-notifier make-key`)"
            ) from None
    return fernets


def is_loopback_literal(host: str | None) -> bool:
    """127.0.0.1 (any 127.x) or ::1 written as an IP address, never a name like localhost."""
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redirect_uri_problem(uri: str) -> str | None:
    """Why Spotify would refuse to register `uri` as a redirect URI, or None: it takes https,
    or http only on a loopback IP literal (never `localhost`)."""
    parts = urlsplit(uri)
    if parts.hostname == "localhost":
        return "uses localhost, which Spotify rejects; use http://127.0.0.1:PORT/..."
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and is_loopback_literal(parts.hostname):
        return None
    return (
        "must be https://..., or http:// on a loopback IP literal (127.0.0.1 or [::1]) only: "
        "Spotify refuses to register any other http:// redirect URI"
    )


class Settings(BaseSettings):
    """Every setting the service reads, with its default. See docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # Spotify (names from the original)
    spotipy_client_id: str = ""
    spotipy_client_secret: str = ""
    spotipy_redirect_uri: str = ""
    spotify_api_base_url: str = "https://api.spotify.com/v1"
    spotify_accounts_base_url: str = "https://accounts.spotify.com"
    spotify_market: str = "US"
    spotify_timeout_seconds: float = Field(default=10.0, gt=0)
    spotify_daily_request_budget: int = Field(default=500, ge=1)
    spotify_max_wait_seconds: float = Field(default=60.0, ge=0)
    spotify_concurrency: int = Field(default=4, ge=1, le=16)
    spotify_quota_pause_hours: float = Field(default=24.0, gt=0, le=168)
    spotify_premium_retry_hours: float = Field(default=6.0, gt=0, le=168)
    operator_email: str = ""

    # Secrets (names from the original)
    flask_secret_key: str = ""
    cron_secret_key: str = ""
    db_encryption_key: str = ""

    # Storage
    database_url: str = "sqlite:///instance/site.db"

    # Mail (EMAIL_USER / EMAIL_PASSWORD from the original)
    email_user: str = ""
    email_password: str = ""
    smtp_host: str = "smtp.gmail.com"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_timeout_seconds: float = Field(default=20.0, gt=0)
    smtp_connections: int = Field(default=2, ge=1, le=20)
    mail_from: str = ""

    # Product
    site_name: str = Field(default="Release Notifier", min_length=1, max_length=60)
    public_base_url: str = "http://127.0.0.1:8000"
    digest_interval_days: float = Field(default=14.0, ge=0)
    initial_lookback_days: int = Field(default=28, ge=0, le=3650)
    relink_reminder_days: int = Field(default=14, ge=0)
    settings_link_max_age_days: int = Field(default=90, ge=1)
    relink_link_max_age_days: int = Field(default=30, ge=1)
    confirm_link_max_age_days: int = Field(default=7, ge=1)
    chosen_artists_limit: int = Field(default=100, ge=1, le=1000)

    # Running by itself
    scheduler_enabled: bool = True
    scheduler_interval_minutes: float = Field(default=15.0, gt=0)
    run_lease_seconds: float = Field(default=300.0, ge=1, le=86400)
    huey_redis_url: str = ""
    huey_sqlite_path: str = "instance/queue.db"
    trust_proxy_headers: bool = False
    max_content_length: int = Field(default=64 * 1024, ge=1024)
    log_level: str = "INFO"

    # Push channels (Apprise)
    channels_enabled: bool = True
    channel_schemes: str = DEFAULT_CHANNEL_SCHEMES
    channel_allow_local_hosts: bool = False
    channel_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    # Backups (DROPBOX_* from the original)
    backup_dir: str = "instance/backups"
    backup_keep: int = Field(default=14, ge=1)
    backup_min_interval_minutes: float = Field(default=10.0, ge=0)
    backup_s3_url: str = ""
    backup_s3_endpoint_url: str = ""
    dropbox_app_key: str = ""
    dropbox_app_secret: str = ""
    dropbox_refresh_token: str = ""

    @field_validator("db_encryption_key")
    @classmethod
    def _check_fernet(cls, value: str) -> str:
        if value:
            _fernet_keys(value)
        return value

    @field_validator("operator_email")
    @classmethod
    def _check_operator_email(cls, value: str) -> str:
        value = value.strip()
        if value and ("@" not in value or any(c.isspace() or c in "<>,;" for c in value)):
            raise ValueError("must be one email address, like ops@example.com")
        return value

    @field_validator("channel_schemes")
    @classmethod
    def _check_channel_schemes(cls, value: str) -> str:
        schemes = [part.strip().lower() for part in value.split(",") if part.strip()]
        if schemes == ["*"]:
            return "*"
        bad = [scheme for scheme in schemes if not SCHEME.match(scheme)]
        if bad:
            raise ValueError(
                f"{bad[0]!r} is not a URL scheme; list schemes like ntfy,tgram,jsons (or *)"
            )
        return ",".join(schemes)

    @field_validator("site_name")
    @classmethod
    def _check_site_name(cls, value: str) -> str:
        name = value.strip()
        if not name or any(char in name for char in "\r\n<>"):
            raise ValueError("must be one line of text, without < or >")
        return name

    @field_validator("public_base_url", "spotify_api_base_url", "spotify_accounts_base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("spotipy_redirect_uri")
    @classmethod
    def _check_redirect_uri(cls, value: str) -> str:
        if value and urlsplit(value).hostname == "localhost":
            raise ValueError("uses localhost, which Spotify rejects; use http://127.0.0.1:PORT/...")
        return value

    # Derived values ----------------------------------------------------------------------

    @property
    def redirect_uri(self) -> str:
        """SPOTIPY_REDIRECT_URI, or the app's own /auth/callback under PUBLIC_BASE_URL."""
        return self.spotipy_redirect_uri or f"{self.public_base_url}/auth/callback"

    @property
    def sender(self) -> str:
        """The From address: MAIL_FROM, else EMAIL_USER, else a placeholder on the public host;
        named SITE_NAME unless MAIL_FROM gives a name of its own."""
        address = self.mail_from or self.email_user
        if not address:
            host = self.public_base_url.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0]
            address = f"release-notifier@{host if '.' in host else 'localhost.localdomain'}"
        name, bare = parseaddr(address)
        return address if name else formataddr((self.site_name, bare or address))

    @cached_property
    def token_cipher(self) -> MultiFernet:
        """MultiFernet over DB_ENCRYPTION_KEY: the first key encrypts, every key decrypts."""
        self.require("db_encryption_key")
        return MultiFernet(_fernet_keys(self.db_encryption_key))

    @property
    def channel_scheme_set(self) -> frozenset[str] | None:
        """The Apprise schemes subscribers may use (CHANNEL_SCHEMES); None: every one."""
        if self.channel_schemes == "*":
            return None
        return frozenset(self.channel_schemes.split(",")) - {""}

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file behind DATABASE_URL, or None for other databases."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            return Path(self.database_url[len(prefix) :])
        return None

    def require_registrable_redirect_uri(self) -> None:
        """Raise ConfigError when Spotify would refuse the redirect URI in use, naming
        SPOTIPY_REDIRECT_URI or, when that is empty, PUBLIC_BASE_URL (which it derives from)."""
        problem = redirect_uri_problem(self.redirect_uri)
        if problem:
            name = "SPOTIPY_REDIRECT_URI" if self.spotipy_redirect_uri else "PUBLIC_BASE_URL"
            raise ConfigError(f"{name}: the redirect URI {self.redirect_uri} {problem}")

    def require(self, *names: str) -> None:
        """Raise ConfigError naming the first of `names` that is empty."""
        for name in names:
            if not getattr(self, name):
                raise ConfigError(f"{name.upper()} is not set")


def load_settings(**overrides: object) -> Settings:
    """Read the environment (and `.env`), turning validation errors into one-line ConfigErrors."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "configuration"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{name}: {message}") from None
