"""Signed links in emails. Each purpose has its own salt; only unsubscribe links never expire.

A link carries the user id and the user's `link_version`; bumping the version revokes every
link issued before (when a user deletes their data and signs up again, or when an unconfirmed
subscription moves to another address). A confirm link also carries a keyed tag of the address it
was mailed to, so it confirms that address and no other.
"""

from __future__ import annotations

import hashlib
import hmac
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
    address_tag: str | None = None  # confirm links: address_tag() of the address mailed to


PURPOSES = {  # purpose -> (salt, settings attribute with max age in days, or None: never expires)
    "confirm": ("release-notifier.confirm", "confirm_link_max_age_days"),
    "settings": ("release-notifier.settings", "settings_link_max_age_days"),
    "relink": ("release-notifier.relink", "relink_link_max_age_days"),
    "unsubscribe": ("release-notifier.unsubscribe", None),
}
ADDRESS_BOUND = frozenset({"confirm"})  # purposes whose links name the address mailed to


def address_tag(settings: Settings, address: str) -> str:
    """A short keyed digest of an address: the link proves where it went without showing it."""
    message = f"release-notifier.address:{address}".encode()
    return hmac.new(settings.flask_secret_key.encode(), message, hashlib.sha256).hexdigest()[:20]


def _serializer(settings: Settings, purpose: str) -> URLSafeSerializer | URLSafeTimedSerializer:
    settings.require("flask_secret_key")
    salt, max_age_attr = PURPOSES[purpose]
    if max_age_attr is None:
        return URLSafeSerializer(settings.flask_secret_key, salt=salt)
    return URLSafeTimedSerializer(settings.flask_secret_key, salt=salt)


def make_token(
    settings: Settings, purpose: str, user_id: int, version: int = 1, *, address: str | None = None
) -> str:
    """A URL-safe signed token naming the user, for one purpose (and the address, for confirm)."""
    payload: list[int | str] = [user_id, version]
    if purpose in ADDRESS_BOUND:
        if address is None:
            raise ValueError(f"a {purpose} link must name the address it is mailed to")
        payload.append(address_tag(settings, address))
    return str(_serializer(settings, purpose).dumps(payload))


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
    return _target(purpose, payload)


def _target(purpose: str, payload: object) -> LinkTarget:
    """The payload's parts, checked for shape: [id, version] (+ address tag when bound)."""
    bound = purpose in ADDRESS_BOUND
    if not isinstance(payload, list) or len(payload) != (3 if bound else 2):
        raise BadLink("invalid")
    if not all(isinstance(part, int) for part in payload[:2]):
        raise BadLink("invalid")
    if bound and not isinstance(payload[2], str):
        raise BadLink("invalid")
    return LinkTarget(payload[0], payload[1], payload[2] if bound else None)


def link_url(
    settings: Settings, purpose: str, user_id: int, version: int = 1, *, address: str | None = None
) -> str:
    """The absolute URL under PUBLIC_BASE_URL for a purpose: /confirm/<t>, /settings/<t>, ..."""
    path = {"relink": "auth/relink"}.get(purpose, purpose)
    token = make_token(settings, purpose, user_id, version, address=address)
    return f"{settings.public_base_url}/{path}/{token}"
