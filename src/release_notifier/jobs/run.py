"""The run: follow sync -> artist checks -> due digests -> pushes -> notices, under one database
lease.

Each step lives with its domain (`releases.sweep` for Spotify, `digests.sending` through the
channel layer for digests, `pushes.delivery` for push channels, `notices` and `operator` for the
other emails); this module keeps
only their order, the lease every step must still hold, and the run's summary.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from release_notifier.channels.email import email_channel
from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.db.session import database_error_text
from release_notifier.digests.sending import DigestSending
from release_notifier.jobs.lease import RunLease, holder_is_dead
from release_notifier.jobs.schedule import artists_due, follow_sync_due, queue_account_notices
from release_notifier.mail.send import SmtpSender
from release_notifier.notices import send_pending_notices
from release_notifier.operator import tell_operator
from release_notifier.pushes.delivery import PushRun
from release_notifier.releases.sweep import Sweep, SweepCounts
from release_notifier.settings import Settings
from release_notifier.spotify.budget import RequestBudget
from release_notifier.spotify.pacer import Pacer
from release_notifier.spotify.user_clients import RunClients
from release_notifier.subscribers import count_linked_users, linked_user_pages

logger = logging.getLogger(__name__)

MERGE = "merge"  # field metadata: how a follow-up pass's value joins the run's (absorb)
SUM, LATEST, LATEST_KNOWN, FIRST = "sum", "latest", "latest known", "first"


def merged(how: str, default: Any) -> Any:
    """A summary field that is not a plain count: how `absorb` joins a later pass's value."""
    return field(default=default, metadata={MERGE: how})


@dataclass
class RunSummary:
    """What a run did; printed by `release-notifier run` and stored on the `runs` row. Counts are
    summed over a run's passes; fields marked with `merged` are states (see `absorb`)."""

    users: int = merged(LATEST, 0)
    follows_refreshed: int = 0
    artists_checked: int = 0
    artists_unchecked: int = merged(LATEST, 0)
    check_errors: int = 0  # artists (or follow lists) skipped after an error of their own
    requests: int = 0
    releases_found: int = 0
    emails_sent: int = 0
    pushes_sent: int = 0  # pushes the services accepted (each carries up to 10 releases)
    notices_sent: int = 0
    problems: list[str] = field(default_factory=list)
    paused_until: str | None = merged(LATEST_KNOWN, None)
    pause_reason: str | None = merged(LATEST_KNOWN, None)  # "premium: ..." or "quota: ..."
    budget_left: int | None = merged(LATEST, None)
    # another run held the lease: the work was recorded for it
    skipped: bool = merged(FIRST, False)
    waited_seconds: float = merged(FIRST, 0.0)  # how long this run waited for another first
    wait_ran_out: bool = merged(FIRST, False)
    passes: int = 0  # more than one: work was asked for during the run
    lease_lost: bool = merged(FIRST, False)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def absorb(self, later: RunSummary) -> None:
        """Add a follow-up pass to this summary: counts (and problems) are summed; a `LATEST`
        state is the later pass's, a `LATEST_KNOWN` one too unless it has none; `FIRST` ones
        (how the run took its turn) stay this run's."""
        for item in fields(self):
            how = item.metadata.get(MERGE, SUM)
            mine, theirs = getattr(self, item.name), getattr(later, item.name)
            if how == SUM:
                setattr(self, item.name, mine + theirs)
            elif how == LATEST or (how == LATEST_KNOWN and theirs is not None):
                setattr(self, item.name, theirs)

    def take(self, counts: SweepCounts) -> None:
        """The Spotify sweep's counts and end state (the fields both have)."""
        mine = {item.name for item in fields(self)}
        for item in fields(counts):
            if item.name in mine:
                setattr(self, item.name, getattr(counts, item.name))

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
            f"pushes sent: {self.pushes_sent}",
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
        self.now = utcnow()
        self.summary = RunSummary()
        self.budget = RequestBudget(database, settings.spotify_daily_request_budget)
        self.clients = RunClients(
            settings, database, self.budget, sleep=sleep, problems=self.summary.problems
        )
        self.checks_done = True  # False when a quota ban or pause kept the artist checks back

    @property
    def pacer(self) -> Pacer:
        """The pace every Spotify request of this run keeps."""
        return self.clients.pacer

    @property
    def claimant(self) -> str | None:
        """Who this run's digest claims name: its lease holder."""
        return self.lease.holder if self.lease is not None else None

    def keep_lease(self) -> None:
        """Raise LeaseLost once the run lease is no longer held: nothing more is claimed or
        sent."""
        if self.lease is not None:
            self.lease.check()

    def spotify_work(self) -> None:
        """Refresh due follow lists and check due artists (releases.sweep)."""
        sweep = Sweep(
            self.settings,
            self.database,
            self.clients,
            self.now,
            artists_due=lambda: artists_due(self.database, self.settings, self.now),
            follow_sync_due=lambda user: follow_sync_due(self.settings, user, self.now),
            keep_going=self.keep_lease,
        )
        counts = sweep.run(linked_user_pages(self.database))
        self.checks_done = counts.checks_done
        self.summary.take(counts)

    def mail_work(self, sender: SmtpSender) -> None:
        """Send the due digests (and those a crashed run left claimed) through the email
        channel, over SMTP_CONNECTIONS connections at once; nothing once the lease is lost."""
        with (
            email_channel(self.settings, sender) as email,
            ThreadPoolExecutor(email.connections, thread_name_prefix="smtp") as workers,
        ):
            sending = DigestSending(
                self.settings,
                self.database,
                email,
                workers,
                self.now,
                claimant=self.claimant,
                checks_done=self.checks_done,
                keep_going=self.keep_lease,
                is_gone=holder_is_dead,
                problems=self.summary.problems,
            )
            try:
                sending.run()
            finally:
                self.summary.emails_sent += sending.sent

    def push_work(self) -> None:
        """Push channels' releases, after the digests: a "with my digest" channel gets what the
        digests of this run announced."""
        pushed = PushRun(
            self.database,
            self.settings,
            self.claimant,
            keep_lease=self.keep_lease,
            is_gone=holder_is_dead,
        ).execute()
        self.summary.pushes_sent += pushed.sent
        self.summary.problems += pushed.problems

    def work(self) -> RunSummary:
        """One pass of the work, under a lease the caller holds and keeps alive."""
        sender = self.sender or SmtpSender.from_settings(self.settings)
        self.summary.passes = 1
        try:
            self.summary.users = count_linked_users(self.database)
            self.spotify_work()
            self.summary.requests = self.clients.requests_made
            self.keep_lease()
            queue_account_notices(self.database, self.settings, self.now)
            self.mail_work(sender)
            self.keep_lease()
            self.push_work()
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
