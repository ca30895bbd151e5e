"""Work asked for while another run holds the lease: recorded, never dropped, never retried blind.

The rule that makes it safe without locks: a requester records its request (committed) and
then tries the lease once more; a holder notes the newest request before each pass, does one more
pass while newer ones exist, and after giving the lease back looks once more (taking the lease
again for them if it is free). A request is therefore always seen by a pass that starts after it.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.db.models import Run, WorkRequest


def record_work_request(database: Database, trigger: str, run_id: int | None) -> None:
    """Record that `trigger` asked for work; its `runs` row (if any) waits as queued until a pass
    does the work."""
    with database.session() as session:
        session.add(WorkRequest(trigger=trigger, requested_at=utcnow(), run_id=run_id))
        if run_id is not None:
            session.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(state="queued")
                .execution_options(synchronize_session=False)
            )


def newest_request(database: Database) -> int:
    """The id of the newest request (0 when there is none): a pass started now covers it."""
    with database.session() as session:
        return int(session.scalar(select(func.max(WorkRequest.id))) or 0)


def waiting_requests(database: Database) -> int:
    """Work asked for that no pass has covered yet."""
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(WorkRequest)) or 0)


def requests_after(database: Database, mark: int) -> bool:
    """True when work was asked for after the pass that noted `mark` began."""
    with database.session() as session:
        return (
            session.scalar(select(WorkRequest.id).where(WorkRequest.id > mark).limit(1)) is not None
        )


def settle_requests(database: Database, mark: int, done_by: int) -> None:
    """Requests up to `mark` were covered by run `done_by`: their queued `runs` rows are done
    (the summary names the run that did the work) and the requests are forgotten."""
    with database.session() as session:
        covered = select(WorkRequest.run_id).where(
            WorkRequest.id <= mark, WorkRequest.run_id.is_not(None)
        )
        session.execute(
            update(Run)
            .where(Run.id.in_(covered), Run.state == "queued", Run.id != done_by)
            .values(state="done", finished_at=utcnow(), summary={"done_by_run": done_by})
            .execution_options(synchronize_session=False)
        )
        session.execute(delete(WorkRequest).where(WorkRequest.id <= mark))
