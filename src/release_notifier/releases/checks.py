"""Artist checks: find every recent release of an artist with as few requests as possible.

An artist's first check reads `album,single` page 0 and pages the groups it cannot show inside
the lookback window. Every later check reads one `album,single` page placed around the artist's
first single (albums come first, newest first, then singles): page 0 while every album fits on it
with room for a single, else the two oldest albums and the newest singles. A release is new when
its id was never seen on that artist's pages; a new album above the page moves the first single
down and one page of albums finds it. `total` is never trusted (Spotify's is sometimes off by
one) and a taken-down item only moves the page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from release_notifier.db import Database
from release_notifier.db.models import Artist, ArtistRelease
from release_notifier.db.session import database_error_text
from release_notifier.releases.dates import release_range
from release_notifier.releases.ledger import record_release
from release_notifier.spotify.client import SpotifyClient

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
    singles_total: int | None = None  # `total` of the first single-group page, if fetched
    albums_top_due: bool = False  # read the albums' first page even if their count is the same
    albums_top_checked: bool = False


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


def is_announced(item: dict[str, Any], horizon: datetime) -> bool:
    """A release reaches followers' ledgers when it came out inside the lookback window. One of
    unusable date ("0000") never does: it cannot be placed in the window, and Spotify lists it
    last, beside the oldest albums, where a detection page first meets old ones too."""
    days = release_range(item.get("release_date"), item.get("release_date_precision"))
    return days is not None and days[1] >= horizon.date()


WINDOW_ALBUMS = 2  # albums a detection page keeps before the first single
MAX_WINDOW_PROBES = 6


@dataclass(frozen=True)
class Window:
    """The detection page as this check left it: its total, items and the albums before the
    first single (None while unknown)."""

    total: int
    items: list[dict[str, Any]]
    albums: int | None


ALBUMS_TOP_EVERY = timedelta(days=7)


def albums_top_due(artist: Artist, now: datetime) -> bool:
    """An artist with more albums than a page holds gets its albums' first page read every
    other check, at most weekly: an old album taken down and a new one added between two checks
    leave the count and the detection page as they were."""
    top, checked = artist.albums_top_checked_at, artist.checked_at
    if top is None or checked is None:
        return True
    return top < checked and now - top >= ALBUMS_TOP_EVERY


def top_phase(artist_id: str, result: CheckResult) -> timedelta:
    """Half the artists (by id) count their first check as half a period old as a read of the
    albums' first page: their next read comes a check earlier, so the extra requests spread
    over every round of checks instead of all falling on the same one."""
    if result.first_check and sum(map(ord, artist_id)) % 2:
        return ALBUMS_TOP_EVERY / 2
    return timedelta(0)


def window_offset(albums: int | None, limit: int) -> int:
    """Where the detection page starts: 0 while every album fits on it with room for a single,
    else WINDOW_ALBUMS albums before the first single."""
    if albums is None or albums < limit:
        return 0
    return albums - WINDOW_ALBUMS


def albums_before_singles(
    page: dict[str, Any], items: list[dict[str, Any]], offset: int
) -> int | None:
    """How many albums the artist has, when this page shows where its singles begin (an album
    then a single, a page starting at 0 with a single, or the end of the list); else None."""
    for index, item in enumerate(items):
        if _group_of(item, DETECTION_GROUPS) == "single":
            return offset + index if index > 0 or offset == 0 else None
    if at_list_end(page, items):
        return offset + len(items) if items or offset == 0 else None
    return None


def at_list_end(page: dict[str, Any], items: list[dict[str, Any]]) -> bool:
    """A short page or one without `next` ends the list (`next` alone may lie, 2026)."""
    return len(items) < int(page.get("limit") or len(items) or 1) or not page.get("next")


def next_probe(items: list[dict[str, Any]], offset: int, limit: int) -> int:
    """The next page to look for the first single at: further on when the page held albums
    only, back when it began with a single (albums were taken down)."""
    if items and _group_of(items[0], DETECTION_GROUPS) == "album":
        return offset + max(len(items) - WINDOW_ALBUMS, 1)
    return max(offset - max(limit - WINDOW_ALBUMS, 1), 0)


def unseen_ids(database: Database, artist_id: str, ids: list[str]) -> set[str]:
    """The ids among `ids` never recorded on this artist's pages."""
    if not ids:
        return set()
    with database.session() as session:
        known = set(
            session.scalars(
                select(ArtistRelease.release_id).where(
                    ArtistRelease.artist_id == artist_id, ArtistRelease.release_id.in_(ids)
                )
            )
        )
    return set(ids) - known


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
            albums_before = None if first_check else artist.album_count
            result.albums_top_due = albums_top_due(artist, self.now)
        if first_check:
            window = self._first_check(result, artist_id)
        else:
            window = self._window_check(result, artist_id, albums_before)
        if extra_groups:
            for group in EXTRA_GROUPS:
                self._scan_group(result, artist_id, group)
        self._save(artist_id, window, result, extra_groups)
        return result

    def _first_check(self, result: CheckResult, artist_id: str) -> Window:
        """Page 0 of `album,single`, then whatever it cannot show inside the lookback window."""
        page = self._page(result, artist_id, DETECTION_GROUPS, 0)
        items = page.get("items") or []
        total = int(page.get("total") or len(items))
        result.changed = result.albums_top_checked = True
        self._record(result, artist_id, items, DETECTION_GROUPS)
        if not change_is_visible(StoredPage(None, ""), total, items):
            self._scan_hidden(result, artist_id, items)
        albums = albums_before_singles(page, items, 0)
        if albums is None:  # every item an album: look where the totals say singles begin
            estimate = max(total - (result.singles_total or 0), len(items))
            offset = window_offset(estimate, self.client.albums_limit)
            page, items, albums, _ = self._find_first_single(result, artist_id, offset)
        return Window(total, items, albums)

    def _find_first_single(
        self, result: CheckResult, artist_id: str, offset: int
    ) -> tuple[dict[str, Any], list[dict[str, Any]], int | None, int]:
        """The `album,single` page at `offset`, moved on or back (a few pages at most) until it
        shows where the singles begin (its items, albums before singles, and where it starts);
        items never seen on the way are recorded."""
        page = self._page(result, artist_id, DETECTION_GROUPS, offset)
        items = page.get("items") or []
        albums = albums_before_singles(page, items, offset)
        for _ in range(MAX_WINDOW_PROBES):
            if albums is not None:
                break
            self._record_unseen(result, artist_id, items)
            offset = next_probe(items, offset, self.client.albums_limit)
            page = self._page(result, artist_id, DETECTION_GROUPS, offset)
            items = page.get("items") or []
            albums = albums_before_singles(page, items, offset)
        return page, items, albums, offset

    def _window_check(
        self, result: CheckResult, artist_id: str, albums_before: int | None
    ) -> Window:
        """One `album,single` page around the first single (or page 0 for an artist with fewer
        albums than a page holds): every album and the newest singles, or the two oldest albums
        and the newest singles. New releases show on it as ids never seen for this artist, and
        new albums above it move the first single down; `total` is never trusted."""
        offset = window_offset(albums_before, self.client.albums_limit)
        page, items, albums, offset = self._find_first_single(result, artist_id, offset)
        unseen = self._record_unseen(result, artist_id, items)
        grew = albums is None or albums_before is None or albums > albums_before
        if offset > 0 and (grew or result.albums_top_due):  # new albums come first, above
            self._scan_group(result, artist_id, "album", stop_at_known=True)
            result.albums_top_checked = True
        singles = [item for item in items if _group_of(item, DETECTION_GROUPS) == "single"]
        all_new = singles and all(item["id"] in unseen for item in singles)
        more = not at_list_end(page, items)
        if all_new and more and not _older_than(singles[-1], self.horizon):  # more than it shows
            self._scan_group(result, artist_id, "single", start=len(singles))
        result.changed = bool(unseen) or albums != albums_before
        total = int(page.get("total") or len(items))
        return Window(total, items, albums if albums is not None else albums_before)

    def _record_unseen(
        self, result: CheckResult, artist_id: str, items: list[dict[str, Any]]
    ) -> set[str]:
        """Record the items never seen on this artist's pages; returns their ids."""
        unseen = unseen_ids(self.database, artist_id, [item["id"] for item in items])
        self._record(
            result, artist_id, [item for item in items if item["id"] in unseen], DETECTION_GROUPS
        )
        return unseen

    def _save(
        self, artist_id: str, window: Window, result: CheckResult, extra_groups: bool
    ) -> None:
        with self.database.session() as session:
            artist = session.get(Artist, artist_id)
            if artist is None:
                return
            limit = self.client.albums_limit
            artist.page_total = window.total
            artist.page_ids = ",".join(item["id"] for item in window.items)
            artist.album_count = window.albums
            if result.albums_top_checked or window_offset(window.albums, limit) == 0:
                artist.albums_top_checked_at = self.now - top_phase(artist_id, result)
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

    def _scan_group(
        self,
        result: CheckResult,
        artist_id: str,
        group: str,
        start: int = 0,
        *,
        stop_at_known: bool = False,
    ) -> None:
        """Page one group newest first from `start` until the lookback horizon or its end (the
        page size is the client's, which Spotify may make smaller mid-run); with
        `stop_at_known`, also at the first page holding a release already seen."""
        offset = start
        for _ in range(MAX_PAGES_PER_GROUP):
            page = self._page(result, artist_id, group, offset)
            items = page.get("items") or []
            if group == "single" and offset == 0:
                result.singles_total = int(page.get("total") or len(items))
            if stop_at_known:
                fresh = unseen_ids(self.database, artist_id, [item["id"] for item in items])
                self._record(result, artist_id, [i for i in items if i["id"] in fresh], group)
            else:
                fresh = None
                self._record(result, artist_id, items, group)
            offset += len(items)
            if (
                len(items) < int(page.get("limit") or self.client.albums_limit)
                or not page.get("next")
                or all(_older_than(item, self.horizon) for item in items)
                or (fresh is not None and len(fresh) < len(items))
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
                recent = is_announced(item, self.horizon)
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
