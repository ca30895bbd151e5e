"""Feed tokens: random, unguessable, one per subscriber, replaced on request."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from release_notifier.db.models import User

TOKEN_BYTES = 24  # 192 random bits: 32 URL-safe characters
MAX_TOKEN_LENGTH = 64


def new_feed_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def ensure_feed_token(user: User) -> str:
    """The subscriber's feed token, made the first time their feeds are asked for."""
    if user.feed_token is None:
        user.feed_token = new_feed_token()
    return user.feed_token


def rotate_feed_token(user: User) -> str:
    """A new feed token: the old feed URLs stop working at once."""
    user.feed_token = new_feed_token()
    return user.feed_token


def user_for_feed(session: Session, token: str) -> User | None:
    """The subscriber a feed token belongs to; None for an unknown, rotated or malformed one."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return session.scalar(select(User).where(User.feed_token == token))


def feed_urls(public_base_url: str, token: str) -> dict[str, str]:
    """The absolute URLs of a subscriber's feeds: {"atom": .., "ical": ..}."""
    return {
        "atom": f"{public_base_url}/feeds/{token}.atom",
        "ical": f"{public_base_url}/feeds/{token}.ics",
    }
