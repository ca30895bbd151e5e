"""Artist checks: find every release of an artist with as few requests as possible.

One `album,single` page of 10 tells whether anything changed (its `total` and ids against what is
stored); only then are the groups paged, newest first, until a page reaches releases older than
the lookback window or runs short.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from release_notifier.db import Database
from release_notifier.db.models import Artist
from release_notifier.releases.dates import release_range
from release_notifier.releases.ledger import record_release
from release_notifier.spotify.client import ALBUMS_PAGE_LIMIT, SpotifyClient

logger = logging.getLogger(__name__)

MAIN_GROUPS = ("album", "single")
EXTRA_GROUPS = ("compilation", "appears_on")
MAX_PAGES_PER_GROUP = 50


@dataclass
class CheckResult:
    artist_id: str
    requests: int = 0
    new_releases: int = 0
    changed: bool = False


def _group_of(item: dict[str, Any], queried: str) -> str:
    """The group of an item from a single-group query, or from album_type on a mixed one."""
    if "," not in queried:
        return queried
    kind = str(item.get("album_type") or "album").lower()
    return kind if kind in MAIN_GROUPS else "album"


def _older_than(item: dict[str, Any], horizon: datetime) -> bool:
    _, end = release_range(item["release_date"], item.get("release_date_precision"))
    return end < horizon.date()


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
            stored_total, stored_ids = artist.page_total, artist.page_ids
            first_check = artist.checked_at is None

        page = self._page(result, artist_id, ",".join(MAIN_GROUPS), 0)
        items = page.get("items") or []
        ids = ",".join(item["id"] for item in items)
        total = int(page.get("total") or len(items))
        result.changed = first_check or total != stored_total or ids != stored_ids
        if result.changed:
            self._record(result, artist_id, items, ",".join(MAIN_GROUPS))
            if total > len(items):
                for group in MAIN_GROUPS:
                    self._scan_group(result, artist_id, group)
        if extra_groups:
            for group in EXTRA_GROUPS:
                self._scan_group(result, artist_id, group)

        with self.database.session() as session:
            artist = session.get(Artist, artist_id)
            if artist is not None:
                artist.page_total, artist.page_ids = total, ids
                artist.checked_at = self.now
                artist.check_failures = 0
                if extra_groups:
                    artist.extra_groups_checked_at = self.now
                if result.new_releases:
                    artist.last_new_release_at = self.now
        return result

    def _page(
        self, result: CheckResult, artist_id: str, groups: str, offset: int
    ) -> dict[str, Any]:
        result.requests += 1
        return self.client.artist_albums_page(artist_id, groups, offset=offset)

    def _scan_group(self, result: CheckResult, artist_id: str, group: str) -> None:
        """Page one group newest first until it reaches the lookback horizon or ends."""
        for number in range(MAX_PAGES_PER_GROUP):
            page = self._page(result, artist_id, group, number * ALBUMS_PAGE_LIMIT)
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
        with self.database.session() as session:
            for item in items:
                if record_release(
                    session,
                    item,
                    artist_id,
                    _group_of(item, queried),
                    self.now,
                    self.lookback_days,
                ):
                    result.new_releases += 1
