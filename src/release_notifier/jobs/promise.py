"""The promise the request budget can keep: every artist checked at least once before each digest.

Demand: every unique artist of a subscriber who gets digests needs one check per cycle (the
shortest digest interval among its subscribers, at least CHECK_WINDOW), at COST_PER_CHECK
requests; every linked subscriber's follow list is read once per cycle (ceil(follows/50)
pages). Supply: the SUSTAINABLE_SHARE of SPOTIFY_DAILY_REQUEST_BUDGET the planner plans on.
The promise holds when supply covers demand; otherwise `status` states the measured coverage
(artists checked within their last cycle) and what it would take.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.jobs.schedule import (
    CHECK_WINDOW,
    COST_PER_CHECK,
    SUSTAINABLE_SHARE,
    ArtistState,
    artist_states,
    follow_list_reads,
)
from release_notifier.settings import Settings

DAY = CHECK_WINDOW / timedelta(days=1)  # the shortest cycle, in days
EVERY_ARTIST = "every artist checked at least once before each digest"


@dataclass(frozen=True)
class Promise:
    """What the request budget promises for the subscribers' artists; the check counts are per
    `interval_days` (DIGEST_INTERVAL_DAYS, at least a day)."""

    unique_artists: int
    interval_days: float
    checks_allowed: int  # artist checks the budget allows, after reading follow lists
    checks_needed: int  # one per artist and cycle (artists on shorter intervals count more)
    budget: int  # SPOTIFY_DAILY_REQUEST_BUDGET
    budget_needed: int  # the SPOTIFY_DAILY_REQUEST_BUDGET that would keep the promise
    coverage: float  # measured: share of the artists checked within their last cycle

    @property
    def kept(self) -> bool:
        """The budget checks every artist at least once before each digest."""
        return self.checks_needed <= self.checks_allowed

    @property
    def room(self) -> int:
        """Artists (on the default interval) that may still be added with the promise kept."""
        return max(self.checks_allowed - self.checks_needed, 0)

    @property
    def interval_needed(self) -> int:
        """The digest interval, in whole days, at which the budget would cover every artist."""
        per_day = self.checks_allowed / self.interval_days
        if per_day <= 0:
            return 0  # follow lists alone take the budget: no interval helps
        return math.ceil(self.unique_artists / per_day)

    def statement(self) -> str:
        """The promise in one line, for `status`."""
        if self.kept:
            return EVERY_ARTIST
        share = self.checks_allowed / self.checks_needed
        return (
            f"about {share:.0%} of the artists checked before each digest "
            f"(the budget covers {self.checks_allowed} of {self.checks_needed} checks)"
        )

    def what_it_takes(self) -> str:
        """What would keep the promise: a bigger budget, a longer interval or fewer artists."""
        ways = [f"SPOTIFY_DAILY_REQUEST_BUDGET={self.budget_needed} (if Spotify's quota allows)"]
        if self.interval_needed:
            ways.append(f"a digest interval of {self.interval_needed} days")
        ways.append(f"at most {self.checks_allowed} artists")
        return ", or ".join(ways)

    def for_subscriber(self) -> str | None:
        """What a subscriber is told when the promise does not hold (None when it does)."""
        if self.kept:
            return None
        return (
            "This service's Spotify allowance cannot check all of its artists before every "
            "digest: some new releases will come one digest later than usual."
        )


def cycle_days(interval: timedelta) -> float:
    """How often an artist must be checked: its shortest digest interval, at least a day (every
    run digests count as daily)."""
    return max(interval / timedelta(days=1), DAY)


def follow_pages_per_day(database: Database, settings: Settings, now: datetime) -> float:
    """Follow-list pages a day: each linked subscriber's list, read once per their cycle."""
    reads = follow_list_reads(database, settings, now)
    return sum(read.pages / cycle_days(read.interval) for read in reads)


def measured_coverage(states: list[ArtistState], now: datetime) -> float:
    """Share of the artists checked within their last cycle (1.0 with no artists)."""
    if not states:
        return 1.0
    recent = sum(
        1
        for state in states
        if state.checked_at is not None
        and state.checked_at > now - timedelta(days=cycle_days(state.interval))
    )
    return recent / len(states)


def promise_for(
    settings: Settings, cycles: Iterable[float], follow_pages: float, coverage: float
) -> Promise:
    """The promise for artists with these cycles (days) and this many follow pages a day."""
    cycles = list(cycles)
    interval = max(settings.digest_interval_days, DAY)
    budget = settings.spotify_daily_request_budget
    checks_per_day = sum(1 / days for days in cycles)
    spare_per_day = max(budget * SUSTAINABLE_SHARE - follow_pages, 0.0)
    needed_per_day = checks_per_day * COST_PER_CHECK + follow_pages
    return Promise(
        unique_artists=len(cycles),
        interval_days=interval,
        checks_allowed=math.floor(spare_per_day / COST_PER_CHECK * interval + 1e-9),
        checks_needed=math.ceil(checks_per_day * interval - 1e-9),
        budget=budget,
        budget_needed=math.ceil(needed_per_day / SUSTAINABLE_SHARE - 1e-9),
        coverage=coverage,
    )


def current_promise(
    database: Database, settings: Settings, now: datetime, states: list[ArtistState] | None = None
) -> Promise:
    """The promise for the artists subscribers have now (`states`: artist_states, if at hand)."""
    if states is None:
        states = artist_states(database, settings, now)
    return promise_with(database, settings, states, now, {})


def promise_after_adding(
    database: Database,
    settings: Settings,
    extra_artist_ids: Iterable[str],
    *,
    interval_days: float | None = None,
    now: datetime | None = None,
) -> Promise:
    """The promise as it would be with `extra_artist_ids` added for a subscriber on
    `interval_days` (None: DIGEST_INTERVAL_DAYS); artists someone has already count once."""
    now = now or utcnow()
    days = settings.digest_interval_days if interval_days is None else interval_days
    added = cycle_days(timedelta(days=days))
    states = artist_states(database, settings, now)
    return promise_with(database, settings, states, now, dict.fromkeys(extra_artist_ids, added))


def promise_with(
    database: Database,
    settings: Settings,
    states: list[ArtistState],
    now: datetime,
    extra: dict[str, float],
) -> Promise:
    """The promise over `states` plus the `extra` artists (id -> cycle in days)."""
    cycles = {state.artist_id: cycle_days(state.interval) for state in states}
    for artist_id, days in extra.items():
        cycles[artist_id] = min(cycles.get(artist_id, days), days)
    pages = follow_pages_per_day(database, settings, now)
    return promise_for(settings, cycles.values(), pages, measured_coverage(states, now))
