"""When things are due: follow-list refreshes, artist checks, re-link and expiry notices.

An artist is checked within the 24 hours before each of its followers' next digest (every run for
followers on DIGEST_INTERVAL_DAYS=0), and at once when it has never been checked.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from release_notifier.db import Database
from release_notifier.db.models import Artist, Follow, User
from release_notifier.digests.delivery import interval_days
from release_notifier.notices import queue_notice, token_expires_at
from release_notifier.settings import Settings

CHECK_WINDOW = timedelta(hours=24)


def check_window_start(settings: Settings, user: User, now: datetime) -> datetime:
    """From when an artist this user follows should be freshly checked for their next digest."""
    if user.next_digest_at is None or interval_days(settings, user) == 0:
        return now
    return user.next_digest_at - CHECK_WINDOW


def follow_sync_due(settings: Settings, user: User, now: datetime) -> bool:
    """A follow list is read once per digest cycle, in the day before the digest (or first)."""
    if user.follows_synced_at is None:
        return True
    start = check_window_start(settings, user, now)
    if interval_days(settings, user) == 0:
        return user.follows_synced_at <= now - CHECK_WINDOW
    return now >= start and user.follows_synced_at < start


def artists_due(database: Database, settings: Settings, now: datetime) -> list[tuple[str, bool]]:
    """(artist id, check extra groups?) for every artist due now, most urgent first."""
    with database.session() as session:
        rows = session.execute(
            select(Artist, User)
            .join(Follow, Follow.artist_id == Artist.id)
            .join(User, User.id == Follow.user_id)
            .where(User.confirmed_at.is_not(None), User.unsubscribed_at.is_(None))
        ).all()
    windows: dict[str, datetime] = {}
    extras: dict[str, bool] = {}
    artists: dict[str, Artist] = {}
    for artist, user in rows:
        start = check_window_start(settings, user, now)
        windows[artist.id] = min(start, windows.get(artist.id, start))
        wants_extra = bool(user.wanted_types & {"compilation", "appears_on"})
        extras[artist.id] = extras.get(artist.id, False) or wants_extra
        artists[artist.id] = artist
    due = []
    for artist_id, start in windows.items():
        checked = artists[artist_id].checked_at
        if checked is None or (now >= start and checked <= start):
            due.append((start, checked or datetime.min, artist_id))
    due.sort()
    return [(artist_id, extras[artist_id]) for _, _, artist_id in due]


def queue_account_notices(database: Database, settings: Settings, now: datetime) -> None:
    """One re-link email per broken link; one reminder before the six-month expiry."""
    reminder = timedelta(days=settings.relink_reminder_days)
    with database.session() as session:
        users = session.scalars(
            select(User).where(User.confirmed_at.is_not(None), User.unsubscribed_at.is_(None))
        )
        for user in users:
            if user.needs_relink_since is not None:
                if queue_notice(session, user, "relink", user.needs_relink_since.isoformat()):
                    user.relink_email_sent_at = now
                continue
            expires = token_expires_at(user)
            if (
                expires is not None
                and expires - reminder <= now < expires
                and queue_notice(session, user, "expiry_reminder", expires.isoformat())
            ):
                user.expiry_reminder_sent_at = now
