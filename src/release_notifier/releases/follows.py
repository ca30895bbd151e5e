"""Follow sync: the artists a user follows, read from /me/following (ceil(N/50) requests)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, select

from release_notifier.db import Database
from release_notifier.db.models import Follow, User
from release_notifier.releases.choices import artist_image, muted_artist_ids, remember_artist
from release_notifier.releases.ledger import backfill_follow
from release_notifier.spotify.client import SpotifyClient

logger = logging.getLogger(__name__)


def sync_follows(
    database: Database, client: SpotifyClient, user_id: int, now: datetime, lookback_days: int
) -> tuple[int, int]:
    """Replace the user's follows with Spotify's list; returns (followed, newly followed).

    The whole list is read before anything is written, so a failure midway changes nothing.
    The artists the user added or muted here (artist_choices) are never touched.
    """
    followed = {artist["id"]: artist for artist in client.followed_artists()}
    with database.session() as session:
        user = session.get(User, user_id)
        if user is None:
            return 0, 0
        known = set(session.scalars(select(Follow.artist_id).where(Follow.user_id == user_id)))
        for artist_id, data in followed.items():
            remember_artist(session, artist_id, str(data.get("name") or ""), artist_image(data))
        session.flush()
        added = [artist_id for artist_id in followed if artist_id not in known]
        for artist_id in added:
            session.add(Follow(user_id=user_id, artist_id=artist_id, since=now))
        session.flush()
        if user.confirmed_at is not None:
            muted = muted_artist_ids(session, user_id)
            for artist_id in added:
                if artist_id not in muted:
                    backfill_follow(session, user, artist_id, now, lookback_days)
        gone = known - set(followed)
        if gone:
            session.execute(
                delete(Follow).where(Follow.user_id == user_id, Follow.artist_id.in_(gone))
            )
        user.follows_synced_at = now
    logger.info("user %s follows %d artists (%d new)", user_id, len(followed), len(added))
    return len(followed), len(added)
