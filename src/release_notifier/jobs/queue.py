"""The task queue: Huey on a SQLite file by default, on Redis when HUEY_REDIS_URL is set.

Three tasks and one periodic tick, bound to one Settings and Database by `build_queue`:
a queued `runs` row (the cron endpoint), a run for some other trigger (a confirmation),
the notices waiting for one user (the confirmation email), and the tick every
SCHEDULER_INTERVAL_MINUTES. The work's own database lease keeps two triggers from running it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from release_notifier.db import Database, create_private_file
from release_notifier.db.models import Run
from release_notifier.settings import Settings

logger = logging.getLogger(__name__)

QUEUE_NAME = "release-notifier"
# An idle worker looks for new tasks at least this often, so a confirmation email never waits long.
IDLE_POLL_SECONDS = 2.0


def make_huey(settings: Settings, *, immediate: bool = False) -> Huey:
    """RedisHuey when HUEY_REDIS_URL is set, else SqliteHuey at HUEY_SQLITE_PATH.

    `immediate` runs each task inline as it is queued (tests and one-off commands).
    """
    if settings.huey_redis_url:
        return RedisHuey(
            QUEUE_NAME, url=settings.huey_redis_url, results=False, immediate=immediate
        )
    path = Path(settings.huey_sqlite_path)
    if not immediate:
        create_private_file(path)  # tasks carry user ids and addresses
    return SqliteHuey(QUEUE_NAME, filename=str(path), results=False, immediate=immediate)


def every_minutes(interval: float) -> Callable[[datetime], bool]:
    """A Huey schedule that fires on every whole `interval`-th minute since the epoch."""
    step = max(1, round(interval))

    def due(moment: datetime) -> bool:
        minute = int(moment.replace(tzinfo=UTC).timestamp() // 60)
        return minute % step == 0

    return due


@dataclass
class Queue:
    """Where the web app and `serve` hand work to the background."""

    huey: Huey
    run_queued_task: Any
    run_work_task: Any
    send_notices_task: Any
    tick_task: Any

    def enqueue_run(self, run_id: int) -> None:
        """Run the work for a `runs` row that is already in state `queued`."""
        self.run_queued_task(run_id)

    def enqueue_work(self, trigger: str) -> None:
        """Run the work soon (e.g. right after a confirmation, for the initial digest)."""
        self.run_work_task(trigger)

    def enqueue_notices(self, user_id: int) -> None:
        """Send the notices queued for this user (e.g. the confirmation email)."""
        self.send_notices_task(user_id)

    def consumer(self, *, workers: int = 2, periodic: bool = True) -> Consumer:
        """A thread consumer for this queue; `periodic` enables the tick."""
        return self.huey.create_consumer(
            workers=workers,
            worker_type="thread",
            periodic=periodic,
            check_worker_health=True,
            max_delay=IDLE_POLL_SECONDS,
        )


def run_work(
    settings: Settings, database: Database, trigger: str, run_id: int | None = None
) -> dict[str, Any] | None:
    """Do what `release-notifier run` does, once, without waiting: work asked for while another
    run is active is recorded for that run, which does it before it finishes. None when it failed
    (logged)."""
    from release_notifier.jobs.turns import run_once

    try:
        summary = run_once(settings, database, trigger=trigger, run_id=run_id)
    except Exception:
        logger.exception("run (%s) failed; its runs row says so", trigger)
        return None
    result: dict[str, Any] = summary.as_dict()
    return result


def send_notices(settings: Settings, database: Database, user_id: int) -> int:
    """Send what is queued for one user (the confirmation email after a signup)."""
    from release_notifier.notices import send_pending_notices

    sent: int = send_pending_notices(settings, database, user_id=user_id)
    return sent


def build_queue(
    settings: Settings,
    database: Database,
    *,
    immediate: bool = False,
) -> Queue:
    """The app's queue with its tasks bound to `settings` and `database`.

    A run asked for (a confirmation, the cron endpoint, the tick) that finds another run at work
    records the work; that run does one more pass for it before it lets go of the lease.
    """
    huey = make_huey(settings, immediate=immediate)

    @huey.task(name="run_queued")
    def run_queued_task(run_id: int) -> None:
        with database.session() as session:
            run = session.get(Run, run_id)
            trigger = run.trigger if run is not None and run.state == "queued" else None
        if trigger is None:
            logger.info("run %s is not queued any more; nothing to do", run_id)
            return
        run_work(settings, database, trigger, run_id)

    @huey.task(name="run_work")
    def run_work_task(trigger: str) -> None:
        run_work(settings, database, trigger)

    @huey.task(name="send_notices", retries=3, retry_delay=60)
    def send_notices_task(user_id: int) -> None:
        send_notices(settings, database, user_id)

    @huey.periodic_task(every_minutes(settings.scheduler_interval_minutes), name="tick")
    def tick_task() -> None:
        run_work(settings, database, "scheduler")

    return Queue(
        huey=huey,
        run_queued_task=run_queued_task,
        run_work_task=run_work_task,
        send_notices_task=send_notices_task,
        tick_task=tick_task,
    )
