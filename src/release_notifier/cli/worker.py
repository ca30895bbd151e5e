"""`worker`: the queue consumer alone; `consume` also runs it for `serve` and `demo`."""

from __future__ import annotations

import logging

import click

from release_notifier.cli.engine import settings_for_work
from release_notifier.db import open_database
from release_notifier.jobs.queue import Queue, build_queue

logger = logging.getLogger(__name__)


def consume(queue: Queue, *, banner: list[str], workers: int, periodic: bool) -> None:
    """Print `banner`, then consume until Ctrl-C or SIGTERM (running tasks finish first).

    A Ctrl-C that lands before the consumer has taken over the signals is a clean stop too.
    """
    try:
        for line in banner:
            click.echo(line)
        queue.consumer(workers=workers, periodic=periodic).run()
    except KeyboardInterrupt:
        logger.info("stopped before the queue consumer had started")


@click.command("worker")
@click.option(
    "--threads",
    default=2,
    show_default=True,
    type=click.IntRange(1, 16),
    help="Tasks worked on at once.",
)
def worker_command(threads: int) -> None:
    """Work the queue without the web app (runs, confirmation emails, the periodic tick).

    For hosts that only do background work: with HUEY_REDIS_URL several hosts share one queue
    (the run's database lease still lets one run at a time). Ctrl-C finishes running tasks.
    """
    settings = settings_for_work()
    database = open_database(settings.database_url)
    queue = build_queue(settings, database)
    where = "Redis (HUEY_REDIS_URL)" if settings.huey_redis_url else settings.huey_sqlite_path
    tick = "on" if settings.scheduler_enabled else "off (SCHEDULER_ENABLED=false)"
    banner = f"worker: {threads} threads on the queue in {where}; periodic tick {tick}"
    try:
        consume(queue, banner=[banner], workers=threads, periodic=settings.scheduler_enabled)
    finally:
        database.dispose()
