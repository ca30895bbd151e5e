"""Is this instance set up for people? `serve` starts without Spotify or mail settings (so an
operator can look at it), but nobody can sign up or get mail until they are set."""

from __future__ import annotations

from dataclasses import dataclass

from release_notifier.settings import Settings

DEFAULT_SMTP_HOST = str(Settings.model_fields["smtp_host"].default)


@dataclass(frozen=True)
class Missing:
    """An empty setting that people need, and what goes wrong without it."""

    variable: str
    effect: str


def missing_settings(settings: Settings) -> list[Missing]:
    """The variables still to set: the Spotify app's id and secret; a mail login when the SMTP
    server is still the default (Gmail, which requires one); a password for a login."""
    missing = [
        Missing(name.upper(), "nobody can link Spotify, so nobody can sign up")
        for name in ("spotipy_client_id", "spotipy_client_secret")
        if not getattr(settings, name)
    ]
    if not settings.email_user and settings.smtp_host == DEFAULT_SMTP_HOST:
        missing.append(Missing("EMAIL_USER", f"{DEFAULT_SMTP_HOST} refuses mail without a login"))
    if (settings.email_user or settings.smtp_host == DEFAULT_SMTP_HOST) and not (
        settings.email_password
    ):
        missing.append(Missing("EMAIL_PASSWORD", "the SMTP login has no password"))
    return missing
