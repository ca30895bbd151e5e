"""The Spotify side of a run: refresh the follow lists that are due (each with its subscriber's
token), then check each due artist once, concurrently, with the app's own token (with the first
working subscriber's when Spotify refuses that).

Spotify is the scarce resource: a quota ban stops all of it at once and records until when (the
digests still go out with what was already checked, and the next run resumes). One user's or
one artist's error is counted and skipped, never the run's. What is due is the schedule's call
(`jobs.schedule`), handed in as two functions.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from release_notifier.db import Database
from release_notifier.db.models import User
from release_notifier.db.session import database_unusable
from release_notifier.releases.checks import ArtistChecker, error_text, note_check_failure
from release_notifier.releases.follows import sync_follows
from release_notifier.settings import Settings
from release_notifier.spotify.budget import current_pause, pause_until, stop_reason
from release_notifier.spotify.client import SpotifyClient
from release_notifier.spotify.errors import (
    AppTokenRefused,
    BudgetExhausted,
    InvalidGrant,
    NotAllowlisted,
    QuotaExceeded,
    SpotifyError,
    SpotifyUnavailable,
    Unauthorized,
)
from release_notifier.spotify.user_clients import RunClients

logger = logging.getLogger(__name__)

DueArtists = Callable[[], list[tuple[str, bool]]]  # (artist id, check extra groups?), urgent first


@dataclass
class SweepCounts:
    """What the sweep did; the run copies these into its summary."""

    follows_refreshed: int = 0
    artists_checked: int = 0
    artists_unchecked: int = 0
    check_errors: int = 0  # artists (or follow lists) skipped after an error of their own
    releases_found: int = 0
    paused_until: str | None = None
    pause_reason: str | None = None  # "premium: ..." or "quota: ..."
    budget_left: int | None = None
    checks_done: bool = True  # False when a quota ban or pause kept the artist checks back


class Sweep:
    """One run's Spotify work. `keep_going` raises (the run lease was lost) when no more work
    may be done; problems are noted in the run's `problems` list."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        clients: RunClients,
        now: datetime,
        *,
        artists_due: DueArtists,
        follow_sync_due: Callable[[User], bool],
        keep_going: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.database = database
        self.clients = clients
        self.now = now
        self.artists_due = artists_due
        self.follow_sync_due = follow_sync_due
        self.keep_going = keep_going
        self.problems = clients.problems
        self.counts = SweepCounts()

    def run(self, user_pages: Iterable[list[User]]) -> SweepCounts:
        """Refresh due follow lists, then check due artists; stop everything on a quota ban or
        while Spotify work is paused."""
        pause = current_pause(self.database)
        if pause is not None:
            self.counts.paused_until = pause.until.isoformat(sep=" ")
            self.counts.pause_reason = pause.reason
            self.counts.checks_done = False
            self.count_unchecked()
            return self.counts
        try:
            healthy = [user_id for page in user_pages for user_id in self.sync_follow_lists(page)]
            self.check_artists(healthy)
        except BudgetExhausted:
            self.count_unchecked()
        except QuotaExceeded as exc:
            self.pause(exc)
            self.counts.checks_done = False
            self.count_unchecked()
        self.counts.budget_left = self.clients.budget.left()
        return self.counts

    def pause(self, exc: QuotaExceeded) -> None:
        """Record the ban: no Spotify work from any process until it is over."""
        until = self.now + timedelta(seconds=exc.retry_after)
        pause_until(self.database, until, stop_reason(exc))
        self.counts.paused_until = until.isoformat(sep=" ")
        self.counts.pause_reason = stop_reason(exc)
        logger.warning("spotify work paused until %s: %s", until.isoformat(), exc)

    def count_unchecked(self) -> None:
        """Spotify work stopped early: the artists still due wait for a later run."""
        self.counts.artists_unchecked = len(self.artists_due())

    def sync_follow_lists(self, users: list[User]) -> list[int]:
        """Refresh follow lists that are due; returns the ids of the users whose tokens still
        work."""
        healthy: list[int] = []
        for user in users:
            self.keep_going()
            if not self.follow_sync_due(user):
                healthy.append(user.id)
                continue
            client = self.clients.client_for(user)
            if client is None:
                continue
            try:
                sync_follows(
                    self.database, client, user.id, self.now, self.settings.initial_lookback_days
                )
                self.counts.follows_refreshed += 1
                healthy.append(user.id)
            except InvalidGrant:
                self.clients.discard_link(user.id, self.now)
            except NotAllowlisted:
                self.problems.append(
                    f"user {user.id}: Spotify account not on the app's user list (dashboard)"
                )
            except QuotaExceeded:
                raise
            except SpotifyError as exc:
                self.problems.append(f"user {user.id}: follow list not refreshed: {exc}")
                healthy.append(user.id)
            except Exception as exc:  # one user's data or a bug: skip it, never the run
                if database_unusable(exc):
                    raise
                self.counts.check_errors += 1
                problem = f"user {user.id}: follow list not refreshed: {error_text(exc)}"
                logger.warning("%s", problem)
                self.problems.append(problem)
                healthy.append(user.id)
        return healthy

    def check_artists(self, user_ids: list[int]) -> None:
        """Check each due artist once, concurrently, with the app's own token; when Spotify
        refuses that, with the first working user's token."""
        due = self.artists_due()
        if not due:
            return
        done: set[str] = set()
        try:
            self.clients.app.prepare()  # a refused or unreachable token endpoint shows here, once
            self.counts.artists_unchecked = len(self._check_with(self.clients.app, due, done))
            return
        except (AppTokenRefused, Unauthorized, SpotifyUnavailable) as exc:
            logger.warning("app token unusable, checking artists with a linked user's: %s", exc)
            self.problems.append(f"the app's Spotify token was refused: {exc}")
        for user_id in user_ids:
            with self.database.session() as session:
                user = session.get(User, user_id)
            client = self.clients.client_for(user) if user is not None else None
            if client is None:
                continue
            try:
                remaining = self._check_with(client, [d for d in due if d[0] not in done], done)
            except InvalidGrant:
                self.clients.discard_link(user_id, self.now)
                continue
            except (NotAllowlisted, Unauthorized) as exc:
                # This user's link cannot read Spotify: the next user's may, so carry on.
                self.problems.append(f"user {user_id}: artists not checked with: {exc}")
                continue
            self.counts.artists_unchecked = len(remaining)
            return
        self.counts.artists_unchecked = len(due) - len(done)
        self.problems.append("no working Spotify link to check artists with")
        self.counts.checks_done = False  # first digests wait for their artists' checks

    def _check_with(
        self, client: SpotifyClient, due: list[tuple[str, bool]], done: set[str]
    ) -> list[str]:
        """Check artists in a small pool, most urgent first, while the run's allowance of the
        request budget lasts; a quota ban, a link that cannot read Spotify or a lost lease stops
        the rest. Artists checked are added to `done`."""
        allowance = self.clients.budget.allowance()
        claims = itertools.count()  # next() is atomic: safe across the pool's threads
        spent_before = client.requests_made  # the client may have read follow lists already
        checker = ArtistChecker(
            self.database, client, self.now, self.settings.initial_lookback_days
        )
        stop: list[BaseException] = []

        def one(item: tuple[str, bool]) -> None:
            artist_id, extra = item
            # each check claims its first request up front, so the pool cannot overshoot
            spent = client.requests_made - spent_before
            if stop or next(claims) >= allowance or spent >= allowance:
                return
            try:
                self.keep_going()
            except Exception as exc:  # the run may do no more (its lease was lost)
                stop.append(exc)
                return
            try:
                result = checker.check(artist_id, extra_groups=extra)
            except (
                QuotaExceeded,
                InvalidGrant,
                NotAllowlisted,
                Unauthorized,
                AppTokenRefused,
            ) as exc:
                stop.append(exc)
                return
            except SpotifyError as exc:
                self.problems.append(f"artist {artist_id} skipped this run: {exc}")
                return
            except Exception as exc:  # one artist's data or a bug: skip it, never the run
                if database_unusable(exc):
                    stop.append(exc)
                    return
                self.counts.check_errors += 1
                self.problems.append(note_check_failure(self.database, artist_id, exc))
                return
            done.add(artist_id)
            self.counts.artists_checked += 1
            self.counts.releases_found += result.new_releases

        with ThreadPoolExecutor(max_workers=self.settings.spotify_concurrency) as pool:
            list(pool.map(one, due))
        if stop:
            raise stop[0]
        return [artist_id for artist_id, _ in due if artist_id not in done]
