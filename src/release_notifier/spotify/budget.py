"""The request budget: SPOTIFY_DAILY_REQUEST_BUDGET over a rolling day, shared through the database.

Development-mode apps share an unpublished daily quota per developer account; exceeding it bans
the app for up to a day. Every request is recorded before it is sent, so restarts and several
processes see the same count.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.db.models import SpotifyCall, State
from release_notifier.spotify.errors import BudgetExhausted, PremiumRequired, QuotaExceeded

WINDOW = timedelta(days=1)
PACE_WINDOW = timedelta(hours=1)
PACE_BURST = 3  # an hour may spend up to three hours' share of the day's budget
PACE_FLOOR = 20  # ...and at least this many requests (small budgets are not paced)
PAUSED_UNTIL = "spotify_paused_until"
ALBUMS_LIMIT = "spotify_albums_limit"


class RequestBudget:
    """Counts requests in the last 24 hours and refuses the one that would exceed `limit`."""

    def __init__(
        self, database: Database, limit: int, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.database = database
        self.limit = limit
        self.clock = clock
        self._lock = threading.Lock()

    def used(self, window: timedelta = WINDOW) -> int:
        """Requests recorded in the rolling day (or a shorter `window`)."""
        with self.database.session() as session:
            since = self.clock() - window
            return int(session.scalar(select(func.count()).where(SpotifyCall.at > since)) or 0)

    def left(self) -> int:
        """Requests that may still be sent in the rolling day."""
        return max(self.limit - self.used(), 0)

    def allowance(self) -> int:
        """Requests a run may spend now: what the day has left, paced so no hour takes more than
        PACE_BURST hours' share (a backlog is spread out, and new users always find some)."""
        hourly = max(math.ceil(self.limit * PACE_BURST / 24), min(self.limit, PACE_FLOOR))
        return max(min(self.left(), hourly - self.used(PACE_WINDOW)), 0)

    def oldest_in_window(self) -> datetime | None:
        with self.database.session() as session:
            since = self.clock() - WINDOW
            return session.scalar(select(func.min(SpotifyCall.at)).where(SpotifyCall.at > since))

    def spend(self, endpoint: str) -> None:
        """Record one request, or raise BudgetExhausted with the seconds until one frees up."""
        with self._lock, self.database.session() as session:
            now = self.clock()
            since = now - WINDOW
            used = session.scalar(select(func.count()).where(SpotifyCall.at > since)) or 0
            if used >= self.limit:
                oldest = session.scalar(
                    select(func.min(SpotifyCall.at)).where(SpotifyCall.at > since)
                )
                wait = ((oldest or now) + WINDOW - now).total_seconds()
                raise BudgetExhausted(
                    f"daily request budget of {self.limit} spent", retry_after=max(wait, 1.0)
                )
            session.add(SpotifyCall(at=now, endpoint=endpoint[:64], status=0))

    def prune(self) -> None:
        """Forget requests older than the window."""
        with self.database.session() as session:
            session.execute(delete(SpotifyCall).where(SpotifyCall.at <= self.clock() - WINDOW))


@dataclass(frozen=True)
class Pause:
    """All Spotify work stopped until `until`; `kind` is "premium" or "quota"."""

    until: datetime
    reason: str

    @property
    def kind(self) -> str:
        return self.reason.split(":", 1)[0] if ":" in self.reason else "quota"


def stop_reason(exc: QuotaExceeded) -> str:
    """The recorded reason of an app-wide stop, starting with its kind."""
    return f"{'premium' if isinstance(exc, PremiumRequired) else 'quota'}: {exc}"


def current_pause(database: Database) -> Pause | None:
    """The pause of all Spotify work, if it still lasts."""
    with database.session() as session:
        row = session.get(State, PAUSED_UNTIL)
        if row is None or row.expires_at is None or row.expires_at <= utcnow():
            return None
        return Pause(row.expires_at, row.value or "quota")


def paused_until(database: Database) -> datetime | None:
    """When Spotify work may resume after a quota ban, if it is still in the future."""
    with database.session() as session:
        row = session.get(State, PAUSED_UNTIL)
        if row is None or row.expires_at is None or row.expires_at <= utcnow():
            return None
        return row.expires_at


def pause_until(database: Database, until: datetime, reason: str) -> None:
    """Persist a pause of all Spotify work (kept if a later pause is already recorded)."""
    with database.session() as session:
        row = session.get(State, PAUSED_UNTIL)
        if row is None:
            session.add(State(key=PAUSED_UNTIL, value=reason, expires_at=until))
        elif row.expires_at is None or row.expires_at < until:
            row.value, row.expires_at = reason, until


def remembered_albums_limit(database: Database, default: int) -> int:
    """The artist-albums page size that worked last (after Spotify refused a bigger one)."""
    with database.session() as session:
        row = session.get(State, ALBUMS_LIMIT)
        try:
            return int(row.value) if row is not None and row.value else default
        except ValueError:
            return default


def remember_albums_limit(database: Database, limit: int) -> None:
    """Keep the page size Spotify accepts for every later run."""
    with database.session() as session:
        row = session.get(State, ALBUMS_LIMIT)
        if row is None:
            session.add(State(key=ALBUMS_LIMIT, value=str(limit)))
        else:
            row.value = str(limit)
