"""What a subscriber's feeds hold: their ledger's live releases, newest first, each once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from release_notifier.db.models import LedgerEntry, Release, User
from release_notifier.releases.view import VIEW_COLUMNS, ReleaseView

IN_FEED = ("pending", "claimed", "announced")  # not back catalogue, twins or unwanted kinds
FEED_LIMIT = 200


@dataclass(frozen=True)
class FeedRelease(ReleaseView):
    """One release as the feeds show it."""

    dedupe_key: str
    first_seen_at: datetime
    added_at: datetime  # when it reached this subscriber's ledger

    @property
    def title(self) -> str:
        """Artist and name with a dash between, as a feed reader or calendar lists it."""
        return f"{self.artists_label} \N{EN DASH} {self.name}" if self.artists else self.name


def feed_releases(session: Session, user: User, limit: int = FEED_LIMIT) -> list[FeedRelease]:
    """The subscriber's releases of the kinds they want, newest release date first (unknown
    dates last), one per dedupe key, at most `limit`."""
    rows = session.execute(
        select(*VIEW_COLUMNS, Release.dedupe_key, Release.first_seen_at, LedgerEntry.created_at)
        .join(Release, Release.id == LedgerEntry.release_id)
        .where(
            LedgerEntry.user_id == user.id,
            LedgerEntry.status.in_(IN_FEED),
            LedgerEntry.group.in_(sorted(user.wanted_types)),
        )
        .order_by(Release.date_start.desc().nulls_last(), Release.first_seen_at.desc(), Release.id)
        .limit(limit * 2)
    )
    releases: list[FeedRelease] = []
    seen: set[str] = set()
    for row in rows:
        release = FeedRelease.from_row(row)
        if release.dedupe_key not in seen:
            seen.add(release.dedupe_key)
            releases.append(release)
    return releases[:limit]


def last_change(releases: list[FeedRelease], user: User) -> datetime:
    """When the feed last changed: the newest of its releases reached the ledger or the
    subscriber last changed what it holds, whichever is later; with neither, signup."""
    changes = [r.added_at for r in releases]
    if user.preferences_changed_at is not None:
        changes.append(user.preferences_changed_at)
    return max(changes, default=user.created_at)
