"""The run lease: one holder at a time; a holder whose renewals stopped vouching for it (a stopped
process, a database that did not answer) knows at once that it may no longer claim or send."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.db.models import State
from release_notifier.jobs.lease import LEASE_KEY, LeaseLost, RunLease


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_holder_whose_last_renewal_is_older_than_the_lease_no_longer_holds_it(
    database: Database,
) -> None:
    clock = Clock()
    lease = RunLease(database, ttl=timedelta(seconds=10), monotonic=clock)
    assert lease.acquire() and lease.held()

    clock.now += 8.9  # within 90% of the lease since it was taken
    assert lease.held()
    clock.now += 0.2  # the process was stopped, or renewals kept failing
    assert not lease.held()
    with pytest.raises(LeaseLost):
        lease.check()

    assert lease.renew()  # the lease had not been taken meanwhile: renewing vouches again
    assert lease.held()


def test_a_lease_taken_by_another_holder_is_lost_at_the_next_renewal(database: Database) -> None:
    first = RunLease(database, ttl=timedelta(seconds=10))
    assert first.acquire()
    with database.session() as session:  # it lapsed (no renewal for the whole lease)
        session.execute(update(State).where(State.key == LEASE_KEY).values(expires_at=utcnow()))
    second = RunLease(database, ttl=timedelta(seconds=10))
    assert second.acquire()

    assert not first.renew() and not first.held()
    assert second.renew() and second.held()
