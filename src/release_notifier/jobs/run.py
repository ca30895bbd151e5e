"""The run: follow sync -> artist checks -> due digests -> notices, under one database lease.

Spotify is the scarce resource: a quota ban stops all Spotify work at once and records until
when; the digests still go out with what was already checked, and the next run resumes.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import SQLAlchemyError

from release_notifier.channels import Channel, Delivery, Failure
from release_notifier.channels.email import EmailChannel
from release_notifier.clock import utcnow
from release_notifier.crypto import TokenDecryptError, decrypt_token, encrypt_token
from release_notifier.db import Database
from release_notifier.db.models import User
from release_notifier.db.session import database_error_text, database_unusable
from release_notifier.digests.delivery import BATCH as DIGEST_BATCH
from release_notifier.digests.delivery import (
    ClaimedDigest,
    claim_digests,
    claimed_digest_ids,
    deliver_digest,
    due_user_ids,
    prepare_digests,
)
from release_notifier.jobs.lease import LeaseLost, RunLease, holder_is_dead
from release_notifier.jobs.schedule import artists_due, follow_sync_due, queue_account_notices
from release_notifier.mail.send import SenderPool, SmtpSender
from release_notifier.notices import send_pending_notices
from release_notifier.operator import tell_operator
from release_notifier.releases.checks import ArtistChecker, error_text, note_check_failure
from release_notifier.releases.follows import sync_follows
from release_notifier.settings import Settings
from release_notifier.spotify.app_token import app_client
from release_notifier.spotify.budget import (
    RequestBudget,
    current_pause,
    pause_until,
    remember_albums_limit,
    remembered_albums_limit,
    stop_reason,
)
from release_notifier.spotify.client import ALBUMS_PAGE_LIMIT, Pacer, SpotifyClient
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
from release_notifier.spotify.oauth import TokenSet

logger = logging.getLogger(__name__)

MAX_MAIL_FAILURES = 3
USER_PAGE = 1000  # users loaded at a time for follow-list work
MAIL_STOPPED = "mail server kept failing: the rest wait for next run"


LATEST = frozenset({"users", "artists_unchecked", "budget_left"})  # states, not counts


@dataclass
class RunSummary:
    """What a run did; printed by `release-notifier run` and stored on the `runs` row."""

    users: int = 0
    follows_refreshed: int = 0
    artists_checked: int = 0
    artists_unchecked: int = 0
    check_errors: int = 0  # artists (or follow lists) skipped after an error of their own
    requests: int = 0
    releases_found: int = 0
    emails_sent: int = 0
    notices_sent: int = 0
    problems: list[str] = field(default_factory=list)
    paused_until: str | None = None
    pause_reason: str | None = None  # "premium: ..." or "quota: ..."
    budget_left: int | None = None
    skipped: bool = False  # another run held the lease: the work was recorded for it
    waited_seconds: float = 0.0  # how long this run waited for another to finish first
    wait_ran_out: bool = False
    passes: int = 0  # more than one: work was asked for during the run
    lease_lost: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def absorb(self, later: RunSummary) -> None:
        """Add a follow-up pass to this summary: every count is summed; the state at the end
        (users, artists left unchecked, budget, pause) is the later pass's."""
        for item in fields(self):
            mine, theirs = getattr(self, item.name), getattr(later, item.name)
            if item.name in LATEST or isinstance(theirs, bool) or item.name == "waited_seconds":
                continue
            if isinstance(theirs, int | list):
                setattr(self, item.name, mine + theirs)
        self.users = later.users
        self.artists_unchecked = later.artists_unchecked
        self.budget_left = later.budget_left
        self.paused_until = later.paused_until or self.paused_until
        self.pause_reason = later.pause_reason or self.pause_reason

    def turn_lines(self) -> list[str]:
        """How this run shared its turn with others (waiting, handing over, follow-ups)."""
        lines = []
        if self.waited_seconds:
            lines.append(f"waited {self.waited_seconds:.0f} s for another run to finish")
        if self.skipped:
            ran_out = " (the wait ran out)" if self.wait_ran_out else ""
            lines.append(
                f"another run is in progress{ran_out}: nothing done here; the work is recorded "
                "and that run does it before it finishes"
            )
        if self.passes > 1:
            lines.append(f"passes: {self.passes} (work was asked for during the run)")
        if self.lease_lost:
            lines.append("problem: lost the run lease (another run took over): stopped at once")
        return lines

    def lines(self) -> list[str]:
        if self.skipped:
            return self.turn_lines()
        lines = [
            *self.turn_lines(),
            f"users: {self.users}",
            f"follow lists refreshed: {self.follows_refreshed}",
            f"artists checked: {self.artists_checked} (left unchecked: {self.artists_unchecked})",
            f"spotify requests: {self.requests}",
            f"new releases found: {self.releases_found}",
            f"digests sent: {self.emails_sent}",
            f"other emails sent: {self.notices_sent}",
        ]
        if self.artists_unchecked and self.budget_left is not None:
            lines.append(
                f"request budget left today: {self.budget_left}; "
                f"{self.artists_unchecked} artists wait for later runs"
            )
        if self.check_errors:
            lines.append(f"skipped after an error of their own: {self.check_errors}")
        if self.paused_until:
            lines.append(
                f"spotify paused until {self.paused_until} UTC ({self.pause_reason or 'quota'}); "
                "work resumes then"
            )
        lines += [f"problem: {problem}" for problem in self.problems]
        return lines


def linked_user() -> tuple[ColumnElement[bool], ...]:
    """A user whose Spotify link works: confirmed, subscribed, token present, no re-link due."""
    return (
        User.confirmed_at.is_not(None),
        User.unsubscribed_at.is_(None),
        User.refresh_token_enc.is_not(None),
        User.needs_relink_since.is_(None),
    )


class Run:
    """One pass of the work; `execute()` returns its summary."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        *,
        sender: SmtpSender | None = None,
        sleep: Callable[[float], None] = time.sleep,
        lease: RunLease | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.sender = sender
        self.lease = lease  # None: the caller vouches that this run may work
        self.sleep = sleep
        self.now = utcnow()
        self.summary = RunSummary()
        self.budget = RequestBudget(database, settings.spotify_daily_request_budget)
        self.pacer = Pacer(sleep=sleep)
        self.clients: dict[int, SpotifyClient] = {}  # by user id: each reads its follow list
        self.app = app_client(  # the app's own token: every artist check
            settings,
            database,
            budget=self.budget,
            pacer=self.pacer,
            sleep=sleep,
            albums_limit=remembered_albums_limit(database, ALBUMS_PAGE_LIMIT),
            on_albums_limit=lambda limit: remember_albums_limit(database, limit),
        )
        self.mail_failures = 0  # temporary SMTP failures in a row
        self.checks_done = True  # False when a quota ban or pause kept the artist checks back

    @property
    def claimant(self) -> str | None:
        """Who this run's digest claims name: its lease holder."""
        return self.lease.holder if self.lease is not None else None

    def keep_lease(self) -> None:
        """Raise LeaseLost once the run lease is no longer held: nothing more is claimed or
        sent."""
        if self.lease is not None:
            self.lease.check()

    # Spotify ------------------------------------------------------------------------------

    def client_for(self, user: User) -> SpotifyClient | None:
        """The run's one client acting as `user` (one token refresh per run), or None."""
        if user.id not in self.clients:
            client = self._new_client(user)
            if client is None:
                return None
            self.clients[user.id] = client
        return self.clients[user.id]

    def _new_client(self, user: User) -> SpotifyClient | None:
        """A client that persists a rotated refresh token; None without a readable token."""
        if user.refresh_token_enc is None:
            return None
        try:
            refresh = decrypt_token(self.settings.token_cipher, user.id, user.refresh_token_enc)
        except TokenDecryptError as exc:
            self.summary.problems.append(f"user {user.id}: {exc}")
            return None
        user_id = user.id

        def keep_rotated(tokens: TokenSet) -> None:
            if tokens.refresh_token and tokens.refresh_token != refresh:
                with self.database.session() as session:
                    row = session.get(User, user_id)
                    if row is not None:
                        row.refresh_token_enc = encrypt_token(
                            self.settings.token_cipher, user_id, tokens.refresh_token
                        )

        return SpotifyClient(
            self.settings,
            refresh_token=refresh,
            on_refresh=keep_rotated,
            budget=self.budget,
            pacer=self.pacer,
            sleep=self.sleep,
            albums_limit=remembered_albums_limit(self.database, ALBUMS_PAGE_LIMIT),
            on_albums_limit=lambda limit: remember_albums_limit(self.database, limit),
        )

    def linked_user_pages(self, size: int = USER_PAGE) -> Iterator[list[User]]:
        """Users whose Spotify link works (confirmed, subscribed, token present, no re-link
        due), `size` at a time by id: never all of them in memory at once."""
        last = 0
        while True:
            with self.database.session() as session:
                page = list(
                    session.scalars(
                        select(User)
                        .where(*linked_user(), User.id > last)
                        .order_by(User.id)
                        .limit(size)
                    )
                )
            if not page:
                return
            yield page
            last = page[-1].id

    def user(self, user_id: int) -> User | None:
        with self.database.session() as session:
            return session.get(User, user_id)

    def count_linked_users(self) -> int:
        with self.database.session() as session:
            return session.scalar(select(func.count()).where(*linked_user())) or 0

    def mark_needs_relink(self, user_id: int) -> None:
        """invalid_grant: the token is discarded and never retried; the user gets one email."""
        self.clients.pop(user_id, None)
        with self.database.session() as session:
            user = session.get(User, user_id)
            if user is not None and user.needs_relink_since is None:
                user.needs_relink_since = self.now
                user.refresh_token_enc = None
        self.summary.problems.append(f"user {user_id}: Spotify link expired or revoked")

    def pause(self, exc: QuotaExceeded) -> None:
        until = self.now + timedelta(seconds=exc.retry_after)
        pause_until(self.database, until, stop_reason(exc))
        self.summary.paused_until = until.isoformat(sep=" ")
        self.summary.pause_reason = stop_reason(exc)
        logger.warning("spotify work paused until %s: %s", until.isoformat(), exc)

    def spotify_work(self) -> None:
        """Refresh due follow lists, then check due artists; stop everything on a quota ban."""
        pause = current_pause(self.database)
        if pause is not None:
            self.summary.paused_until = pause.until.isoformat(sep=" ")
            self.summary.pause_reason = pause.reason
            self.checks_done = False
            self.count_unchecked()
            return
        try:
            healthy = [
                user_id
                for page in self.linked_user_pages()
                for user_id in self.sync_follow_lists(page)
            ]
            self.check_artists(healthy)
        except BudgetExhausted:
            self.count_unchecked()
        except QuotaExceeded as exc:
            self.pause(exc)
            self.checks_done = False
            self.count_unchecked()
        self.summary.budget_left = self.budget.left()

    def count_unchecked(self) -> None:
        """Spotify work stopped early: the artists still due wait for a later run."""
        self.summary.artists_unchecked = len(artists_due(self.database, self.settings, self.now))

    def sync_follow_lists(self, users: list[User]) -> list[int]:
        """Refresh follow lists that are due; returns the ids of the users whose tokens still
        work."""
        healthy: list[int] = []
        for user in users:
            self.keep_lease()
            if not follow_sync_due(self.settings, user, self.now):
                healthy.append(user.id)
                continue
            client = self.client_for(user)
            if client is None:
                continue
            try:
                sync_follows(
                    self.database, client, user.id, self.now, self.settings.initial_lookback_days
                )
                self.summary.follows_refreshed += 1
                healthy.append(user.id)
            except InvalidGrant:
                self.mark_needs_relink(user.id)
            except NotAllowlisted:
                self.summary.problems.append(
                    f"user {user.id}: Spotify account not on the app's user list (dashboard)"
                )
            except QuotaExceeded:
                raise
            except SpotifyError as exc:
                self.summary.problems.append(f"user {user.id}: follow list not refreshed: {exc}")
                healthy.append(user.id)
            except Exception as exc:  # one user's data or a bug: skip it, never the run
                if database_unusable(exc):
                    raise
                self.summary.check_errors += 1
                problem = f"user {user.id}: follow list not refreshed: {error_text(exc)}"
                logger.warning("%s", problem)
                self.summary.problems.append(problem)
                healthy.append(user.id)
        return healthy

    def check_artists(self, user_ids: list[int]) -> None:
        """Check each due artist once, concurrently, with the app's own token; when Spotify
        refuses that, with the first working user's token."""
        due = artists_due(self.database, self.settings, self.now)
        if not due:
            return
        done: set[str] = set()
        try:
            self.app.prepare()  # a refused or unreachable token endpoint shows here, once
            self.summary.artists_unchecked = len(self._check_with(self.app, due, done))
            return
        except (AppTokenRefused, Unauthorized, SpotifyUnavailable) as exc:
            logger.warning("app token unusable, checking artists with a linked user's: %s", exc)
            self.summary.problems.append(f"the app's Spotify token was refused: {exc}")
        for user_id in user_ids:
            user = self.user(user_id)
            if user is None:
                continue
            client = self.client_for(user)
            if client is None:
                continue
            try:
                remaining = self._check_with(client, [d for d in due if d[0] not in done], done)
            except InvalidGrant:
                self.mark_needs_relink(user.id)
                continue
            except (NotAllowlisted, Unauthorized) as exc:
                # This user's link cannot read Spotify: the next user's may, so carry on.
                self.summary.problems.append(f"user {user.id}: artists not checked with: {exc}")
                continue
            self.summary.artists_unchecked = len(remaining)
            return
        self.summary.artists_unchecked = len(due) - len(done)
        self.summary.problems.append("no working Spotify link to check artists with")
        self.checks_done = False  # first digests wait for their artists' checks

    def _check_with(
        self, client: SpotifyClient, due: list[tuple[str, bool]], done: set[str]
    ) -> list[str]:
        """Check artists in a small pool, most urgent first, while the run's allowance of the
        request budget lasts; a quota ban or a link that cannot read Spotify stops the rest.
        Artists checked are added to `done`."""
        allowance = self.budget.allowance()
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
            if self.lease is not None and not self.lease.held():
                stop.append(LeaseLost("the run lease was lost during the artist checks"))
                return
            try:
                result = checker.check(artist_id, extra_groups=extra)
            except (
                QuotaExceeded,
                InvalidGrant,
                NotAllowlisted,
                Unauthorized,
                AppTokenRefused,
                LeaseLost,
            ) as exc:
                stop.append(exc)
                return
            except SpotifyError as exc:
                self.summary.problems.append(f"artist {artist_id} skipped this run: {exc}")
                return
            except Exception as exc:  # one artist's data or a bug: skip it, never the run
                if database_unusable(exc):
                    stop.append(exc)
                    return
                self.summary.check_errors += 1
                self.summary.problems.append(note_check_failure(self.database, artist_id, exc))
                return
            done.add(artist_id)
            self.summary.artists_checked += 1
            self.summary.releases_found += result.new_releases

        with ThreadPoolExecutor(max_workers=self.settings.spotify_concurrency) as pool:
            list(pool.map(one, due))
        if stop:
            raise stop[0]
        return [artist_id for artist_id, _ in due if artist_id not in done]

    # Mail ---------------------------------------------------------------------------------

    def mail_work(self, sender: SmtpSender) -> None:
        """Resend digests a crashed run left claimed, then claim and send the due digests a
        batch at a time through the email channel over SMTP_CONNECTIONS connections; nothing
        once the lease is lost."""
        self.mail_failures = 0
        senders = SenderPool(sender, self.settings.smtp_connections)
        email = EmailChannel(self.settings, senders)
        try:
            with ThreadPoolExecutor(senders.size, thread_name_prefix="smtp") as workers:
                leftover = claimed_digest_ids(
                    self.database, self.claimant, utcnow(), is_gone=holder_is_dead
                )
                for first in range(0, len(leftover), DIGEST_BATCH):
                    batch = leftover[first : first + DIGEST_BATCH]
                    if not self.send_digests(email, workers, batch):
                        return
                due = due_user_ids(self.database, self.now, self.checks_done)
                for first in range(0, len(due), DIGEST_BATCH):
                    if self.mail_failures >= MAX_MAIL_FAILURES:  # claim no more than can go out
                        self.summary.problems.append(MAIL_STOPPED)
                        return
                    batch = due[first : first + DIGEST_BATCH]
                    self.keep_lease()
                    claimed = claim_digests(
                        self.database,
                        self.settings,
                        batch,
                        self.now,
                        self.claimant,
                        checks_done=self.checks_done,
                    )
                    if not self.send_digests(email, workers, claimed):
                        return
        finally:
            senders.close()

    def send_digests(
        self, channel: Channel, workers: ThreadPoolExecutor, digest_ids: list[int]
    ) -> bool:
        """Send claimed digests; False once the channel kept failing (the rest wait)."""

        def deliver(digest: ClaimedDigest) -> Delivery:
            self.keep_lease()
            return deliver_digest(self.database, channel, digest, self.now)

        prepared = prepare_digests(
            self.database, self.settings, digest_ids, self.now, self.claimant
        )
        futures = [workers.submit(deliver, digest) for digest in prepared]
        stopped = False
        try:
            for future in futures:
                if self.mail_failures >= MAX_MAIL_FAILURES and not stopped:
                    stopped = True
                    self.summary.problems.append(MAIL_STOPPED)
                    for waiting in futures:
                        waiting.cancel()  # those already sending finish and are counted
                if not future.cancelled():
                    self.count_delivery(future.result())
        finally:
            for waiting in futures:
                waiting.cancel()
        return not stopped

    def count_delivery(self, delivery: Delivery) -> None:
        if delivery.sent:
            self.summary.emails_sent += 1
            self.mail_failures = 0
        elif delivery.failure is Failure.PERMANENT:
            self.summary.problems.append(f"address refused for good: {delivery.reason}")
        elif delivery.failure is Failure.REFUSED:
            self.summary.problems.append(
                f"digest refused, its releases wait for the next digest: {delivery.reason}"
            )
        else:
            self.mail_failures += 1
            self.summary.problems.append(f"digest not sent, retried next run: {delivery.reason}")

    def work(self) -> RunSummary:
        """One pass of the work, under a lease the caller holds and keeps alive."""
        sender = self.sender or SmtpSender.from_settings(self.settings)
        self.summary.passes = 1
        try:
            self.summary.users = self.count_linked_users()
            self.spotify_work()
            users_requests = sum(c.requests_made for c in self.clients.values())
            self.summary.requests = users_requests + self.app.requests_made
            self.keep_lease()
            queue_account_notices(self.database, self.settings, self.now)
            self.mail_work(sender)
            self.keep_lease()
            self.summary.notices_sent = send_pending_notices(
                self.settings, self.database, sender=sender
            )
            answered = self.summary.paused_until is None and self.summary.requests > 0
            self.summary.notices_sent += tell_operator(
                self.settings, self.database, sender, spotify_answered=answered
            )
            self.budget.prune()
        finally:
            if self.sender is None:
                sender.close()
        return self.summary

    def execute(self) -> RunSummary:
        """Take the lease, do one pass with its heartbeat, give it back; skipped when another
        run holds it (`jobs/turns.run_once` also waits, records work and does follow-ups)."""
        lease = RunLease(self.database, ttl=lease_time(self.settings))
        if not lease.acquire():
            self.summary.skipped = True
            return self.summary
        self.lease = lease
        try:
            with lease.heartbeat():
                return self.work()
        finally:
            give_back(lease)


def lease_time(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.run_lease_seconds)


def give_back(lease: RunLease) -> None:
    """Release the lease; a database error here is logged, never raised over the run's own."""
    try:
        lease.release()
    except SQLAlchemyError as exc:
        logger.warning(
            "run lease not given back (it lapses by itself): %s", database_error_text(exc)
        )
