"""Sample contexts for every email kind, as the callers will pass them (values preformatted)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

BASE = "http://127.0.0.1:5000"
HOSTILE = "<script>alert(1)</script>"


def release(**overrides: Any) -> dict[str, Any]:
    """One release row of a digest; override any field."""
    values: dict[str, Any] = {
        "name": "Fossora",
        "type_label": "Album",
        "date_label": "30 September 2026",
        "spotify_url": "https://open.spotify.com/album/fossora",
        "image_url": "https://i.scdn.co/image/fossora300",
        "artists_label": "Björk",
    }
    values.update(overrides)
    return values


def digest(**overrides: Any) -> dict[str, Any]:
    """A regular digest for Ana: one artist with one release out, and one coming soon."""
    values: dict[str, Any] = {
        "kind": "regular",
        "email_only": False,
        "release_count": 1,
        "upcoming_count": 1,
        "lookback_days": 28,
        "period_start": "18 November 2026",
        "artists": [
            {
                "name": "Björk",
                "spotify_url": "https://open.spotify.com/artist/bjork",
                "releases": [release()],
            }
        ],
        "upcoming": [
            release(
                name="Atopos",
                type_label="Single/EP",
                date_label="12 December 2026",
                spotify_url="https://open.spotify.com/album/atopos",
                image_url=None,
            )
        ],
        "settings_url": f"{BASE}/settings/tok-settings",
        "unsubscribe_url": f"{BASE}/unsubscribe/tok-unsub",
    }
    values.update(overrides)
    return values


def confirm() -> dict[str, Any]:
    return {"confirm_url": f"{BASE}/confirm/tok-confirm"}


def relink() -> dict[str, Any]:
    return {
        "relink_url": f"{BASE}/relink/tok-relink",
        "settings_url": f"{BASE}/settings/tok-settings",
        "unsubscribe_url": f"{BASE}/unsubscribe/tok-unsub",
    }


def expiry_reminder(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "relink_url": f"{BASE}/relink/tok-relink",
        "expires_on_label": "3 January 2027",
        "settings_url": f"{BASE}/settings/tok-settings",
        "unsubscribe_url": f"{BASE}/unsubscribe/tok-unsub",
    }
    values.update(overrides)
    return values


def settings_link(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "settings_url": f"{BASE}/settings/tok-settings",
        "unsubscribe_url": f"{BASE}/unsubscribe/tok-unsub",
        "unsubscribed": False,
        "relink_url": "",
    }
    values.update(overrides)
    return values


def spotify_stopped() -> dict[str, Any]:
    from release_notifier.operator import stopped_context

    return stopped_context("premium", datetime(2026, 12, 2, 6, 0), retry_hours=6)


def channel_off() -> dict[str, Any]:
    return {
        "channel_label": "ntfy · ntfy.example.com",
        "reason": "the service answered 410: the address or its access is gone",
        "settings_url": f"{BASE}/settings/tok-settings",
        "unsubscribe_url": f"{BASE}/unsubscribe/tok-unsub",
    }


CONTEXTS = {
    "digest": digest,
    "confirm": confirm,
    "relink": relink,
    "expiry_reminder": expiry_reminder,
    "settings_link": settings_link,
    "spotify_stopped": spotify_stopped,
    "channel_off": channel_off,
}
# A link each kind must carry in both parts.
KEY_LINKS = {
    "digest": "https://open.spotify.com/album/fossora",
    "confirm": f"{BASE}/confirm/tok-confirm",
    "relink": f"{BASE}/relink/tok-relink",
    "expiry_reminder": f"{BASE}/relink/tok-relink",
    "settings_link": f"{BASE}/settings/tok-settings",
    "spotify_stopped": "https://developer.spotify.com/dashboard",
    "channel_off": f"{BASE}/settings/tok-settings",
}
