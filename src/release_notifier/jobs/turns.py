"""Whose turn it is: one run works at a time; the others record their work and, if asked to,
wait for the lease.

`run_once` takes the lease (waiting up to `wait` seconds for an active run to finish), does a
pass, then one more pass for as long as work was asked for during the last one, gives the lease
back and looks once more. Without the lease it records the work for the active run, which does
it before it lets go: nothing asked for is dropped, and nothing waits on a blind retry timer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.db.models import Run as RunRow
from release_notifier.db.session import database_error_text
from release_notifier.jobs.lease import LeaseLost, RunLease
from release_notifier.jobs.run import Run, RunSummary, give_back, lease_time
from release_notifier.jobs.work_requests import (
    newest_request,
    record_work_request,
    requests_after,
    settle_requests,
)
from release_notifier.mail.send import SmtpSender
from release_notifier.settings import Settings

logger = logging.getLogger(__name__)

WAIT_POLL_SECONDS = 0.5  # how often a waiting run looks at the lease (at most)


def run_once(
    settings: Settings,
    database: Database,
    *,
    trigger: str = "cli",
    run_id: int | None = None,
    sender: SmtpSender | None = None,
    sleep: Callable[[float], None] = time.sleep,
    wait: float = 0.0,
) -> RunSummary:
    """Do all due work now (or hand it to the active run); the `runs` row (given or created)
    records its state and counts. `wait`: seconds to wait for an active run to finish first."""
    run_id = _start_run_row(database, trigger, run_id)
    lease = RunLease(database, ttl=lease_time(settings))
    summary = RunSummary()
    try:
        if not _take_turn(settings, database, lease, trigger, run_id, wait, summary):
            summary.skipped = True
            _finish_run_row(database, run_id, "queued", summary)
            return summary
        _fail_abandoned_runs(database, run_id)
        with lease.heartbeat():
            _passes(settings, database, lease, run_id, summary, sender, sleep)
    except LeaseLost as exc:
        logger.warning("run %s: %s", run_id, exc)
        give_back(lease)  # if the row is still ours (renewals only stalled), free it now
        summary.lease_lost = True
        _finish_run_row(database, run_id, "failed", summary)
        return summary
    except Exception:
        give_back(lease)
        _mark_failed(database, run_id)
        raise
    _finish_run_row(database, run_id, "done", summary)
    return summary


def _take_turn(
    settings: Settings,
    database: Database,
    lease: RunLease,
    trigger: str,
    run_id: int,
    wait: float,
    summary: RunSummary,
) -> bool:
    """Take the lease, or record the work for the run that holds it and wait up to `wait`
    seconds for the lease; False when this run does not work."""
    if lease.acquire():
        return True
    record_work_request(database, trigger, run_id)
    began = time.monotonic()
    poll = min(WAIT_POLL_SECONDS, settings.run_lease_seconds / 4)
    while not lease.acquire():
        waited = time.monotonic() - began
        if waited >= wait:
            summary.waited_seconds = round(waited, 1)
            summary.wait_ran_out = wait > 0
            return False
        time.sleep(min(poll, wait - waited))
    summary.waited_seconds = round(time.monotonic() - began, 1)
    _set_run_state(database, run_id, "running")
    return True


def _passes(
    settings: Settings,
    database: Database,
    lease: RunLease,
    run_id: int,
    summary: RunSummary,
    sender: SmtpSender | None,
    sleep: Callable[[float], None],
) -> None:
    """Pass after pass while work was asked for during the last one; then give the lease back
    and look once more (work asked for at that moment is taken up here if the lease is free)."""
    while True:
        mark = newest_request(database)
        one = Run(settings, database, sender=sender, sleep=sleep, lease=lease).work()
        summary.absorb(one)
        settle_requests(database, mark, run_id)
        if requests_after(database, mark):
            continue
        give_back(lease)
        if not requests_after(database, mark) or not lease.acquire():
            return  # nothing new, or the run that took the lease does it


def _start_run_row(database: Database, trigger: str, run_id: int | None) -> int:
    with database.session() as session:
        row = session.get(RunRow, run_id) if run_id is not None else None
        if row is None:
            row = RunRow(trigger=trigger, state="queued", created_at=utcnow())
            session.add(row)
        row.state, row.started_at = "running", utcnow()
        session.flush()
        return row.id


def _set_run_state(database: Database, run_id: int, state: str) -> None:
    with database.session() as session:
        row = session.get(RunRow, run_id)
        if row is not None:
            row.state = state


def _finish_run_row(database: Database, run_id: int, state: str, summary: RunSummary) -> None:
    """The final state and counts; a row handed over (queued) keeps waiting for the pass that
    does its work, which marks it done."""
    with database.session() as session:
        row = session.get(RunRow, run_id)
        if row is None:
            return
        if state == "queued" and row.state != "queued":
            return  # the active run already did the work and marked it done
        row.state, row.summary = state, summary.as_dict()
        if state != "queued":
            row.finished_at = utcnow()


def _mark_failed(database: Database, run_id: int) -> None:
    try:
        with database.session() as session:
            row = session.get(RunRow, run_id)
            if row is not None:
                row.state, row.finished_at, row.summary = "failed", utcnow(), None
    except SQLAlchemyError as exc:  # the database is what failed: keep the first error
        logger.warning("run %s could not be marked failed: %s", run_id, database_error_text(exc))


def _fail_abandoned_runs(database: Database, run_id: int) -> None:
    """Runs still marked running that started no later than this one, which holds the lease,
    were killed: mark them failed so their status stops saying running."""
    with database.session() as session:
        started = session.scalar(select(RunRow.started_at).where(RunRow.id == run_id))
        if started is None:
            return
        session.execute(
            update(RunRow)
            .where(RunRow.state == "running", RunRow.id != run_id, RunRow.started_at <= started)
            .values(state="failed", finished_at=utcnow())
            .execution_options(synchronize_session=False)
        )
