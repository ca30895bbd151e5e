"""Sending due digests through a channel: first those a crashed or lapsed run left claimed, then
the due ones a batch at a time, each batch claimed before any of it is sent, over the workers'
threads at once. After MAX_FAILURES temporary failures in a row no more are claimed and the rest
wait for the next run (those claimed stay claimed and are resent)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime

from release_notifier.channels import Channel, Delivery, Failure
from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.digests.delivery import (
    BATCH,
    ClaimedDigest,
    claim_digests,
    claimed_digest_ids,
    deliver_digest,
    due_user_ids,
    prepare_digests,
)
from release_notifier.settings import Settings

logger = logging.getLogger(__name__)

MAX_FAILURES = 3
STOPPED = "mail server kept failing: the rest wait for next run"


class DigestSending:
    """One run's digests. `keep_going` raises (the run lease was lost) when nothing more may be
    claimed or sent; `is_gone(claimant)` says whether another run's process is gone."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        channel: Channel,
        workers: Executor,
        now: datetime,
        *,
        claimant: str | None,
        checks_done: bool,
        keep_going: Callable[[], None],
        is_gone: Callable[[str], bool],
        problems: list[str],
    ) -> None:
        self.settings = settings
        self.database = database
        self.channel = channel
        self.workers = workers
        self.now = now
        self.claimant = claimant
        self.checks_done = checks_done
        self.keep_going = keep_going
        self.is_gone = is_gone
        self.problems = problems
        self.sent = 0
        self.failures = 0  # temporary failures in a row

    def run(self) -> None:
        """Resend the leftovers this run may send, then claim and send the due digests."""
        leftover = claimed_digest_ids(self.database, self.claimant, utcnow(), self.is_gone)
        for first in range(0, len(leftover), BATCH):
            if not self.send(leftover[first : first + BATCH]):
                return
        due = due_user_ids(self.database, self.now, self.checks_done)
        for first in range(0, len(due), BATCH):
            if self.failures >= MAX_FAILURES:  # claim no more than can go out
                self.problems.append(STOPPED)
                return
            self.keep_going()
            claimed = claim_digests(
                self.database,
                self.settings,
                due[first : first + BATCH],
                self.now,
                self.claimant,
                checks_done=self.checks_done,
            )
            if not self.send(claimed):
                return

    def send(self, digest_ids: list[int]) -> bool:
        """Send claimed digests; False once the channel kept failing (the rest wait)."""

        def deliver(digest: ClaimedDigest) -> Delivery:
            self.keep_going()
            return deliver_digest(self.database, self.channel, digest, self.now)

        prepared = prepare_digests(
            self.database, self.settings, digest_ids, self.now, self.claimant
        )
        futures = [self.workers.submit(deliver, digest) for digest in prepared]
        stopped = False
        try:
            for future in futures:
                if self.failures >= MAX_FAILURES and not stopped:
                    stopped = True
                    self.problems.append(STOPPED)
                    for waiting in futures:
                        waiting.cancel()  # those already sending finish and are counted
                if not future.cancelled():
                    self.count(future.result())
        finally:
            for waiting in futures:
                waiting.cancel()
        return not stopped

    def count(self, delivery: Delivery) -> None:
        """Count a sent digest, or note why it was not sent."""
        if delivery.sent:
            self.sent += 1
            self.failures = 0
        elif delivery.failure is Failure.PERMANENT:
            self.problems.append(f"address refused for good: {delivery.reason}")
        elif delivery.failure is Failure.REFUSED:
            self.problems.append(
                f"digest refused, its releases wait for the next digest: {delivery.reason}"
            )
        else:
            self.failures += 1
            self.problems.append(f"digest not sent, retried next run: {delivery.reason}")
