"""Which artists each subscriber gets releases from: the one definition every part uses.

A subscriber's artists are the ones they follow on Spotify and have not muted here, together
with the ones they added here (email-only subscribers have only these). The ledger, the check
schedule, first digests and the settings page all read `subscribed_artists()`.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import CompoundSelect, exists, select, union

from release_notifier.db.models import ADD, MUTE, ArtistChoice, Follow


def subscribed_artists(
    *, artist_ids: Collection[str] | None = None, user_ids: Collection[int] | None = None
) -> CompoundSelect[int, str]:
    """(user_id, artist_id) pairs: follows not muted, union artists added; each pair once.

    `artist_ids` / `user_ids` narrow both halves (an artist's check, a page of users)."""
    muted = exists().where(
        ArtistChoice.user_id == Follow.user_id,
        ArtistChoice.artist_id == Follow.artist_id,
        ArtistChoice.kind == MUTE,
    )
    followed = select(Follow.user_id, Follow.artist_id).where(~muted)
    added = select(ArtistChoice.user_id, ArtistChoice.artist_id).where(ArtistChoice.kind == ADD)
    if artist_ids is not None:
        followed = followed.where(Follow.artist_id.in_(artist_ids))
        added = added.where(ArtistChoice.artist_id.in_(artist_ids))
    if user_ids is not None:
        followed = followed.where(Follow.user_id.in_(user_ids))
        added = added.where(ArtistChoice.user_id.in_(user_ids))
    return union(followed, added)
