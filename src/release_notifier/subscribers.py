"""Who is who among the users, each rule written once, as an SQL clause and where needed as a
Python predicate of the same rule (tests/engine/test_subscribers.py checks they agree on every
combination of states), and when a subscriber's next digest is due.

- `getting_notifications` / `gets_notifications`: THE subscriber who gets notifications:
  confirmed, not unsubscribed, not paused, no broken Spotify link waiting for a re-link, and a
  channel that works (their email address was not refused for good). A Spotify link is not
  needed: a subscriber may have none (their artists are chosen, not followed). Digests, the
  artists worth checking and the settings page's next-digest date all use this.
- `subscribed` / `is_subscribed`: confirmed and not unsubscribed. Releases reach the ledger of
  every subscribed follower (paused or not: they wait for them) and account emails (re-link,
  expiry) go to them.
- `email_accepted` / `email_is_accepted`: the address was not refused for good; nothing at all
  is emailed to one that was.
- `has_working_link`: a subscribed user whose Spotify token works. Their follow list is read
  and their token may check artists; being paused or having a refused address does not change
  that (their list stays fresh for when they come back). This is about Spotify, not about
  getting notifications.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select

from release_notifier.db import Database
from release_notifier.db.models import User
from release_notifier.settings import Settings

USER_PAGE = 1000  # users loaded at a time for follow-list work


def subscribed() -> ColumnElement[bool]:
    """Confirmed and not unsubscribed."""
    return and_(User.confirmed_at.is_not(None), User.unsubscribed_at.is_(None))


def is_subscribed(user: User) -> bool:
    """`subscribed`, for one loaded user."""
    return user.confirmed_at is not None and user.unsubscribed_at is None


def email_accepted() -> ColumnElement[bool]:
    """The address was not refused for good."""
    return User.mail_rejected_at.is_(None)


def email_is_accepted(user: User) -> bool:
    """`email_accepted`, for one loaded user."""
    return user.mail_rejected_at is None


def getting_notifications() -> ColumnElement[bool]:
    """Subscribed, not paused, no re-link due, and a working channel (email accepted)."""
    return and_(
        subscribed(),
        User.paused.is_(False),
        User.needs_relink_since.is_(None),
        email_accepted(),
    )


def gets_notifications(user: User) -> bool:
    """`getting_notifications`, for one loaded user."""
    return (
        is_subscribed(user)
        and not user.paused
        and user.needs_relink_since is None
        and email_is_accepted(user)
    )


def has_working_link() -> ColumnElement[bool]:
    """Subscribed, a refresh token present and no re-link due."""
    return and_(
        subscribed(),
        User.refresh_token_enc.is_not(None),
        User.needs_relink_since.is_(None),
    )


def digest_interval(settings: Settings, days: float | None) -> float:
    """A subscriber's own digest interval in days, or DIGEST_INTERVAL_DAYS when they chose
    none."""
    return settings.digest_interval_days if days is None else days


def next_send_date(
    now: datetime, *, since: datetime | None = None, interval_days: float = 0.0
) -> datetime:
    """The one rule for a subscriber's next digest date: `interval_days` after `since` (the last
    digest sent or claimed; a planned date with no interval), and never before now: a date that
    passed while nothing could be sent is due at once. With no `since` (a first digest, or one
    that failed for now) it is due now."""
    if since is None:
        return now
    return max(since + timedelta(days=interval_days), now)


def linked_user_pages(database: Database, size: int = USER_PAGE) -> Iterator[list[User]]:
    """Users with a working Spotify link, `size` at a time by id: never all of them in memory
    at once."""
    last = 0
    while True:
        with database.session() as session:
            page = list(
                session.scalars(
                    select(User)
                    .where(has_working_link(), User.id > last)
                    .order_by(User.id)
                    .limit(size)
                )
            )
        if not page:
            return
        yield page
        last = page[-1].id


def count_linked_users(database: Database) -> int:
    """How many users have a working Spotify link."""
    with database.session() as session:
        return session.scalar(select(func.count()).where(has_working_link())) or 0
