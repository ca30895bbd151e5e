"""Follow sync: the artists a user follows, read from /me/following (ceil(N/50) requests)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from release_notifier.db import Database
from release_notifier.db.models import Artist, Follow, User
from release_notifier.releases.ledger import backfill_follow
from release_notifier.spotify.client import SpotifyClient

logger = logging.getLogger(__name__)


def _image(artist: dict[str, Any]) -> str | None:
    images = artist.get("images") or []
    return images[-1]["url"] if images else None


def sync_follows(
    database: Database, client: SpotifyClient, user_id: int, now: datetime, lookback_days: int
) -> tuple[int, int]:
    """Replace the user's follows with Spotify's list; returns (followed, newly followed).

    The whole list is read before anything is written, so a failure midway changes nothing.
    """
    followed = {artist["id"]: artist for artist in client.followed_artists()}
    with database.session() as session:
        user = session.get(User, user_id)
        if user is None:
            return 0, 0
        known = set(session.scalars(select(Follow.artist_id).where(Follow.user_id == user_id)))
        for artist_id, data in followed.items():
            artist = session.get(Artist, artist_id)
            if artist is None:
                session.add(
                    Artist(id=artist_id, name=data.get("name") or "", image_url=_image(data))
                )
            else:
                artist.name = data.get("name") or artist.name
                artist.image_url = _image(data) or artist.image_url
        session.flush()
        added = [artist_id for artist_id in followed if artist_id not in known]
        for artist_id in added:
            session.add(Follow(user_id=user_id, artist_id=artist_id, since=now))
        session.flush()
        if user.confirmed_at is not None:
            for artist_id in added:
                backfill_follow(session, user, artist_id, now, lookback_days)
        gone = known - set(followed)
        if gone:
            session.execute(
                delete(Follow).where(Follow.user_id == user_id, Follow.artist_id.in_(gone))
            )
        user.follows_synced_at = now
    logger.info("user %s follows %d artists (%d new)", user_id, len(followed), len(added))
    return len(followed), len(added)
