"""Artists a subscriber chooses here: added (announced whether or not they follow them on
Spotify) or muted (followed on Spotify, not announced). Spotify itself is never changed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from release_notifier.db.models import (
    ADD,
    MUTE,
    Artist,
    ArtistChoice,
    ArtistRelease,
    Follow,
    LedgerEntry,
    User,
)
from release_notifier.db.upsert import insert_missing
from release_notifier.releases.ledger import PENDING, backfill_follow
from release_notifier.releases.subscriptions import subscribed_artists

logger = logging.getLogger(__name__)


class Choice(Enum):
    """What choosing an artist did."""

    ADDED = "added"  # now announced to this subscriber
    UNMUTED = "unmuted"  # a muted follow is announced again
    ALREADY = "already"  # followed on Spotify or added before: nothing changed


@dataclass(frozen=True)
class SubscribedArtist:
    """One artist as the settings page lists it."""

    id: str
    name: str
    image_url: str | None
    followed: bool  # on the subscriber's Spotify follow list
    choice: str | None  # ADD, MUTE or None

    @property
    def muted(self) -> bool:
        return self.choice == MUTE


def artist_image(artist: dict[str, Any]) -> str | None:
    """The smallest image of a Spotify artist object (the last one Spotify lists)."""
    images = artist.get("images") or []
    return images[-1].get("url") if images else None


def remember_artist(session: Session, artist_id: str, name: str, image_url: str | None) -> None:
    """Store or refresh an artist's name and image (an empty name or no image keeps the old)."""
    row = session.get(Artist, artist_id)
    if row is None:
        insert_missing(session, Artist, id=artist_id, name=name, image_url=image_url)
    else:
        row.name = name or row.name
        row.image_url = image_url or row.image_url


def chosen_count(session: Session, user_id: int) -> int:
    """How many artists the subscriber added here (the CHOSEN_ARTISTS_LIMIT counts these)."""
    count = session.scalar(
        select(func.count())
        .select_from(ArtistChoice)
        .where(ArtistChoice.user_id == user_id, ArtistChoice.kind == ADD)
    )
    return int(count or 0)


def muted_artist_ids(session: Session, user_id: int) -> set[str]:
    return set(
        session.scalars(
            select(ArtistChoice.artist_id).where(
                ArtistChoice.user_id == user_id, ArtistChoice.kind == MUTE
            )
        )
    )


def follows_artist(session: Session, user_id: int, artist_id: str) -> bool:
    return session.get(Follow, (user_id, artist_id)) is not None


def choose_artist(
    session: Session, user: User, artist_id: str, now: datetime, lookback_days: int
) -> Choice:
    """Announce this artist to the subscriber: unmute it, or add it unless they follow it on
    Spotify already. The artist must be stored (`remember_artist`). Its known releases inside
    the subscriber's window become pending, as for a new follow."""
    choice = session.get(ArtistChoice, (user.id, artist_id))
    if choice is not None and choice.kind == ADD:
        return Choice.ALREADY
    if choice is not None:
        session.delete(choice)
        outcome = Choice.UNMUTED
    elif follows_artist(session, user.id, artist_id):
        return Choice.ALREADY
    else:
        session.add(ArtistChoice(user_id=user.id, artist_id=artist_id, kind=ADD, created_at=now))
        outcome = Choice.ADDED
    session.flush()
    if user.confirmed_at is not None:
        backfill_follow(session, user, artist_id, now, lookback_days)
    logger.info("user %s %s an artist", user.id, outcome.value)
    return outcome


def drop_artist(session: Session, user: User, artist_id: str, now: datetime) -> bool:
    """Stop announcing this artist to the subscriber: an added one is removed, a followed one
    muted (Spotify is not touched). Its pending releases leave the ledger unless another of the
    subscriber's artists has them. False when the subscriber did not get this artist."""
    choice = session.get(ArtistChoice, (user.id, artist_id))
    followed = follows_artist(session, user.id, artist_id)
    if choice is not None and choice.kind == MUTE:
        return False
    if choice is None and not followed:
        return False
    if choice is not None:
        session.delete(choice)
    if followed:
        session.add(ArtistChoice(user_id=user.id, artist_id=artist_id, kind=MUTE, created_at=now))
    session.flush()
    drop_pending_of(session, user.id, artist_id)
    user.preferences_changed_at = now  # its releases left the feeds: their Last-Modified moves
    logger.info("user %s %s an artist", user.id, "muted" if followed else "removed")
    return True


def drop_pending_of(session: Session, user_id: int, artist_id: str) -> None:
    """Pending releases of this artist that none of the user's artists still has leave the
    ledger (never announced; a later choose brings the recent ones back)."""
    pairs = subscribed_artists(user_ids=[user_id]).subquery()
    still_had = select(ArtistRelease.release_id).join(
        pairs, pairs.c.artist_id == ArtistRelease.artist_id
    )
    of_artist = select(ArtistRelease.release_id).where(ArtistRelease.artist_id == artist_id)
    session.execute(
        delete(LedgerEntry)
        .where(
            LedgerEntry.user_id == user_id,
            LedgerEntry.status == PENDING,
            LedgerEntry.release_id.in_(of_artist),
            LedgerEntry.release_id.not_in(still_had),
        )
        .execution_options(synchronize_session=False)
    )


def subscriber_artists(session: Session, user_id: int) -> list[SubscribedArtist]:
    """The subscriber's followed and chosen artists, muted ones included, by name."""
    followed = set(session.scalars(select(Follow.artist_id).where(Follow.user_id == user_id)))
    choices = {
        choice.artist_id: choice.kind
        for choice in session.scalars(select(ArtistChoice).where(ArtistChoice.user_id == user_id))
    }
    artists = session.scalars(select(Artist).where(Artist.id.in_(followed | set(choices))))
    listed = [
        SubscribedArtist(a.id, a.name, a.image_url, a.id in followed, choices.get(a.id))
        for a in artists
    ]
    return sorted(listed, key=lambda a: (a.name.casefold(), a.id))


def add_chosen(session: Session, user_id: int, artist_ids: list[str], now: datetime) -> None:
    """Record a new subscriber's chosen artists (before confirmation: nothing is pending yet)."""
    for artist_id in artist_ids:
        insert_missing(
            session, ArtistChoice, user_id=user_id, artist_id=artist_id, kind=ADD, created_at=now
        )


def backfill_chosen(session: Session, user: User, now: datetime, lookback_days: int) -> None:
    """On confirmation: the known releases of the artists the subscriber added, inside their
    window, become pending (their follows get the same when the list is first read)."""
    added = session.scalars(
        select(ArtistChoice.artist_id).where(
            ArtistChoice.user_id == user.id, ArtistChoice.kind == ADD
        )
    )
    for artist_id in list(added):
        backfill_follow(session, user, artist_id, now, lookback_days)
