"""Signed links in emails. Each purpose has its own salt; only unsubscribe links never expire.

A link carries the user id and the user's `link_version`; bumping the version revokes every
link issued before (used when a user deletes their data and signs up again).
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from release_notifier.settings import Settings

DAY = 86400


class BadLink(Exception):
    """A link that is forged, tampered with, expired or for another purpose."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LinkTarget:
    user_id: int
    version: int


PURPOSES = {  # purpose -> (salt, settings attribute with max age in days, or None: never expires)
    "confirm": ("release-notifier.confirm", "confirm_link_max_age_days"),
    "settings": ("release-notifier.settings", "settings_link_max_age_days"),
    "relink": ("release-notifier.relink", "relink_link_max_age_days"),
    "unsubscribe": ("release-notifier.unsubscribe", None),
}


def _serializer(settings: Settings, purpose: str) -> URLSafeSerializer | URLSafeTimedSerializer:
    settings.require("flask_secret_key")
    salt, max_age_attr = PURPOSES[purpose]
    if max_age_attr is None:
        return URLSafeSerializer(settings.flask_secret_key, salt=salt)
    return URLSafeTimedSerializer(settings.flask_secret_key, salt=salt)


def make_token(settings: Settings, purpose: str, user_id: int, version: int = 1) -> str:
    """A URL-safe signed token naming the user, for one purpose."""
    return str(_serializer(settings, purpose).dumps([user_id, version]))


def read_token(settings: Settings, purpose: str, token: str) -> LinkTarget:
    """The user a token names; BadLink when forged, tampered, expired or malformed."""
    serializer = _serializer(settings, purpose)
    max_age_attr = PURPOSES[purpose][1]
    try:
        if isinstance(serializer, URLSafeTimedSerializer) and max_age_attr:
            payload = serializer.loads(token, max_age=getattr(settings, max_age_attr) * DAY)
        else:
            payload = serializer.loads(token)
    except SignatureExpired:
        raise BadLink("expired") from None
    except BadSignature:
        raise BadLink("invalid") from None
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not all(isinstance(part, int) for part in payload)
    ):
        raise BadLink("invalid")
    return LinkTarget(user_id=payload[0], version=payload[1])


def link_url(settings: Settings, purpose: str, user_id: int, version: int = 1) -> str:
    """The absolute URL under PUBLIC_BASE_URL for a purpose: /confirm/<t>, /settings/<t>, ..."""
    path = {"relink": "auth/relink"}.get(purpose, purpose)
    return f"{settings.public_base_url}/{path}/{make_token(settings, purpose, user_id, version)}"
