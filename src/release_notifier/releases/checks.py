"""Artist checks: find every recent release of an artist with as few requests as possible.

One `album,single` page of 10 tells whether anything changed (its `total` and ids against what is
stored). When the change is fully visible on that page, that is the whole check; otherwise only
the group that can hide recent releases is paged, newest first, from where the page left off,
until a page reaches releases older than the lookback window or runs short.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from release_notifier.db import Database
from release_notifier.db.models import Artist
from release_notifier.db.session import database_error_text
from release_notifier.releases.dates import release_range
from release_notifier.releases.ledger import record_release
from release_notifier.spotify.client import ALBUMS_PAGE_LIMIT, SpotifyClient

logger = logging.getLogger(__name__)

MAIN_GROUPS = ("album", "single")
DETECTION_GROUPS = ",".join(MAIN_GROUPS)
EXTRA_GROUPS = ("compilation", "appears_on")
MAX_PAGES_PER_GROUP = 50


@dataclass
class CheckResult:
    artist_id: str
    requests: int = 0
    new_releases: int = 0  # new to this app and inside the lookback window
    changed: bool = False
    first_check: bool = False


@dataclass(frozen=True)
class StoredPage:
    """The detection page as last seen; `total` is None before the first check."""

    total: int | None
    ids: str

    @property
    def id_set(self) -> set[str]:
        return set(self.ids.split(",")) if self.ids else set()


def _group_of(item: dict[str, Any], queried: str) -> str:
    """The group of an item from a single-group query, or from album_type on a mixed one."""
    if "," not in queried:
        return queried
    kind = str(item.get("album_type") or "album").lower()
    return kind if kind in MAIN_GROUPS else "album"


def _older_than(item: dict[str, Any], horizon: datetime) -> bool:
    """True when the item came out before `horizon`; an unusable date ("0000") counts as old
    for paging (Spotify lists it last)."""
    days = release_range(item.get("release_date"), item.get("release_date_precision"))
    return days is None or days[1] < horizon.date()


def is_announced(item: dict[str, Any], horizon: datetime, first_check: bool) -> bool:
    """A release reaches followers' ledgers when it came out inside the lookback window. One
    of unusable date is announced when it first shows on an artist checked before (it is new
    there); on an artist's first check it is back catalogue like everything else unplaceable."""
    days = release_range(item.get("release_date"), item.get("release_date_precision"))
    if days is None:
        return not first_check
    return days[1] >= horizon.date()


def change_is_visible(stored: StoredPage, total: int, items: list[dict[str, Any]]) -> bool:
    """True when the page shows everything that changed: as many unseen ids as the total grew."""
    if total <= len(items):
        return True
    if stored.total is None:
        return False
    unseen = [item for item in items if item["id"] not in stored.id_set]
    return total - stored.total == len(unseen)


class ArtistChecker:
    """Checks artists with one client, recording releases and ledger entries as it goes."""

    def __init__(
        self, database: Database, client: SpotifyClient, now: datetime, lookback_days: int
    ) -> None:
        self.database = database
        self.client = client
        self.now = now
        self.lookback_days = lookback_days
        self.horizon = now - timedelta(days=lookback_days)

    def check(self, artist_id: str, extra_groups: bool = False) -> CheckResult:
        """Check one artist; extra groups (compilation, appears_on) only when someone wants them."""
        result = CheckResult(artist_id)
        with self.database.session() as session:
            artist = session.get(Artist, artist_id)
            if artist is None:
                return result
            first_check = result.first_check = artist.checked_at is None
            stored = StoredPage(None if first_check else artist.page_total, artist.page_ids or "")

        page = self._page(result, artist_id, DETECTION_GROUPS, 0)
        items = page.get("items") or []
        ids = ",".join(item["id"] for item in items)
        total = int(page.get("total") or len(items))
        result.changed = first_check or total != stored.total or ids != stored.ids
        if result.changed:
            self._record(result, artist_id, items, DETECTION_GROUPS)
            if not change_is_visible(stored, total, items):
                self._scan_hidden(result, artist_id, items)
        if extra_groups:
            for group in EXTRA_GROUPS:
                self._scan_group(result, artist_id, group)
        self._save(artist_id, total, ids, result, extra_groups)
        return result

    def _save(
        self, artist_id: str, total: int, ids: str, result: CheckResult, extra_groups: bool
    ) -> None:
        with self.database.session() as session:
            artist = session.get(Artist, artist_id)
            if artist is None:
                return
            artist.page_total, artist.page_ids = total, ids
            artist.checked_at = self.now
            artist.check_failures = 0
            if extra_groups:
                artist.extra_groups_checked_at = self.now
            if result.new_releases:
                artist.last_new_release_at = self.now

    def _scan_hidden(
        self, result: CheckResult, artist_id: str, items: list[dict[str, Any]]
    ) -> None:
        """Page the groups that can hide recent releases beyond the detection page.

        The page lists albums before singles, newest first: with a single on it, every album is
        on it too and only older singles are hidden; with none, singles are all hidden and older
        albums may be.
        """
        singles = [item for item in items if _group_of(item, DETECTION_GROUPS) == "single"]
        if singles:
            if not _older_than(singles[-1], self.horizon):
                self._scan_group(result, artist_id, "single", start=len(singles))
            return
        if items and not _older_than(items[-1], self.horizon):
            self._scan_group(result, artist_id, "album", start=len(items))
        self._scan_group(result, artist_id, "single")

    def _page(
        self, result: CheckResult, artist_id: str, groups: str, offset: int
    ) -> dict[str, Any]:
        result.requests += 1
        return self.client.artist_albums_page(artist_id, groups, offset=offset)

    def _scan_group(self, result: CheckResult, artist_id: str, group: str, start: int = 0) -> None:
        """Page one group newest first from `start` until the lookback horizon or its end."""
        for number in range(MAX_PAGES_PER_GROUP):
            page = self._page(result, artist_id, group, start + number * ALBUMS_PAGE_LIMIT)
            items = page.get("items") or []
            self._record(result, artist_id, items, group)
            if (
                len(items) < ALBUMS_PAGE_LIMIT
                or not page.get("next")
                or all(_older_than(item, self.horizon) for item in items)
            ):
                return

    def _record(
        self, result: CheckResult, artist_id: str, items: list[dict[str, Any]], queried: str
    ) -> None:
        """Store every release the page shows; only those inside the lookback window reach the
        followers' ledgers (older ones are back catalogue: known, never announced)."""
        if not items:
            return
        with self.database.session() as session:
            for item in items:
                recent = is_announced(item, self.horizon, result.first_check)
                if (
                    record_release(
                        session,
                        item,
                        artist_id,
                        _group_of(item, queried),
                        self.now,
                        self.lookback_days,
                        announce=recent,
                    )
                    and recent
                ):
                    result.new_releases += 1


def error_text(exc: BaseException) -> str:
    """One line naming what went wrong: the driver's words for a database error (never the SQL
    or its parameters), else the exception's type and message."""
    if isinstance(exc, SQLAlchemyError):
        return database_error_text(exc)
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:300]


def note_check_failure(database: Database, artist_id: str, exc: BaseException) -> str:
    """An artist check failed for a reason of its own: count it on the artist (it stays due, so
    the next run tries again) and return the problem line for the run's summary."""
    with database.session() as session:
        artist = session.get(Artist, artist_id)
        if artist is not None:
            artist.check_failures = (artist.check_failures or 0) + 1
    problem = f"artist {artist_id} skipped this run after an error: {error_text(exc)}"
    logger.warning("%s", problem)
    return problem
