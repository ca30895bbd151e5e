"""The ledger: which release each user has been told about, keyed by Spotify album id.

A release enters a user's ledger as `pending` when its latest possible date is inside the user's
window (after `announce_since` and within INITIAL_LOOKBACK_DAYS of now); otherwise it is recorded
as `back_catalogue` and never announced. Digests move pending entries to announced exactly once.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from release_notifier.db.models import ArtistRelease, LedgerEntry, Release, User
from release_notifier.db.upsert import insert_missing
from release_notifier.releases.dates import release_range
from release_notifier.releases.dedupe import dedupe_key
from release_notifier.releases.subscriptions import subscribed_artists
from release_notifier.subscribers import subscribed

PENDING = "pending"
BACK_CATALOGUE = "back_catalogue"


def announce_cutoff(user: User, now: datetime, lookback_days: int) -> date:
    """Releases ending before this day are back catalogue for this user."""
    cutoff = now - timedelta(days=lookback_days)
    if user.announce_since is not None and user.announce_since > cutoff:
        cutoff = user.announce_since
    return cutoff.date()


def release_from_item(item: dict[str, Any], now: datetime) -> Release:
    """A Release row from a Spotify simplified album object. Names are kept whole; a date no
    calendar holds ("0000") is stored as written with an unknown day range."""
    release_date = str(item.get("release_date") or "")
    precision = str(item.get("release_date_precision") or "day")[:8]
    days = release_range(release_date, item.get("release_date_precision"))
    artists = [{"id": a.get("id") or "", "name": a.get("name") or ""} for a in item["artists"]]
    images = item.get("images") or []
    image = min(images, key=lambda i: abs((i.get("width") or 300) - 300)) if images else None
    name = str(item.get("name") or "")
    return Release(
        id=item["id"],
        name=name,
        album_type=str(item.get("album_type") or "album").lower()[:32],
        release_date=release_date,
        release_date_precision=precision,
        date_start=days[0] if days else None,
        date_end=days[1] if days else None,
        total_tracks=int(item.get("total_tracks") or 0),
        image_url=image["url"] if image else None,
        spotify_url=(item.get("external_urls") or {}).get("spotify")
        or f"https://open.spotify.com/album/{item['id']}",
        artists=artists,
        dedupe_key=dedupe_key(
            name, [a["id"] for a in artists], release_date, int(item.get("total_tracks") or 0)
        ),
        first_seen_at=now,
    )


def record_release(
    session: Session,
    item: dict[str, Any],
    artist_id: str,
    group: str,
    now: datetime,
    lookback_days: int,
    *,
    announce: bool = True,
) -> bool:
    """Store a release seen on an artist's page and add it to the ledgers of the subscribers who
    get that artist (followed and not muted, or added: `subscribed_artists`).

    With `announce` False (back catalogue) the release is only recorded: it can never be
    pending for anyone, so no ledger rows are written for it.

    Returns True when the release itself was new to this app. Safe when two artist checks
    record the same collaboration at once.
    """
    fresh = release_from_item(item, now)
    columns = {c.key: getattr(fresh, c.key) for c in Release.__table__.columns}
    is_new = insert_missing(session, Release, **columns)
    linked = insert_missing(
        session, ArtistRelease, artist_id=artist_id, release_id=fresh.id, group=group
    )
    if linked and announce:
        release = session.get(Release, fresh.id)
        assert release is not None
        pairs = subscribed_artists(artist_ids=[artist_id]).subquery()
        followers = session.scalars(
            select(User)
            .join(pairs, pairs.c.user_id == User.id)
            .where(subscribed())  # paused or not: their releases wait for them
        )
        for user in followers:
            add_entry(session, user, release, group, artist_id, now, lookback_days)
    return is_new


def add_entry(
    session: Session,
    user: User,
    release: Release,
    group: str,
    artist_id: str,
    now: datetime,
    lookback_days: int,
) -> None:
    """Put a release in one user's ledger once (a collaboration reached twice stays one entry).

    A release of unknown date reaches a ledger only when the check found it new (see checks.py),
    so it is pending."""
    cutoff = announce_cutoff(user, now, lookback_days)
    recent = release.date_end is None or release.date_end >= cutoff
    insert_missing(
        session,
        LedgerEntry,
        user_id=user.id,
        release_id=release.id,
        status=PENDING if recent else BACK_CATALOGUE,
        group=group,
        via_artist_id=artist_id,
        created_at=now,
    )


def backfill_follow(
    session: Session, user: User, artist_id: str, now: datetime, lookback_days: int
) -> None:
    """A new follow: the artist's known releases inside the user's window become pending."""
    rows = session.execute(
        select(Release, ArtistRelease.group)
        .join(ArtistRelease, ArtistRelease.release_id == Release.id)
        .where(
            ArtistRelease.artist_id == artist_id,
            Release.date_end >= announce_cutoff(user, now, lookback_days),
        )
    )
    for release, group in rows:
        add_entry(session, user, release, group, artist_id, now, lookback_days)
