"""The queue: which Huey it builds, when the tick fires, and two triggers at once doing the work
once (the run's database lease does the excluding; this checks the whole path through Huey)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

from huey import RedisHuey, SqliteHuey
from huey.signals import SIGNAL_COMPLETE, SIGNAL_ERROR
from sqlalchemy import func, select

from release_notifier import accounts
from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.db.models import PendingSignup, Run, WorkRequest
from release_notifier.jobs.queue import build_queue, every_minutes, make_huey
from release_notifier.jobs.run import RunSummary
from release_notifier.jobs.turns import run_once
from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.sandbox.mailcatcher import MailCatcher
from release_notifier.sandbox.wiring import add_linked_subscriber
from release_notifier.settings import Settings
from tests.faults.conftest import wait_until
from tests.web.conftest import web_settings_for


def test_the_queue_is_a_sqlite_file_by_default(web_settings: Settings) -> None:
    huey = make_huey(web_settings)
    assert isinstance(huey, SqliteHuey)
    assert huey.storage.filename == web_settings.huey_sqlite_path


def test_the_queue_is_redis_when_huey_redis_url_is_set(web_settings: Settings) -> None:
    settings = web_settings.model_copy(update={"huey_redis_url": "redis://127.0.0.1:6390/0"})
    assert isinstance(make_huey(settings), RedisHuey)


def test_the_tick_fires_on_every_whole_interval() -> None:
    due = every_minutes(15)
    start = datetime(2026, 11, 25, 16, 0)
    fired = [m for m in range(60) if due(start + timedelta(minutes=m))]
    assert fired == [0, 15, 30, 45]
    assert every_minutes(0.2)(start + timedelta(minutes=7))  # under a minute: every minute


def linked_confirmed_user(
    database: Database, settings: Settings, emulator: SpotifyEmulator
) -> None:
    artist = emulator.add_artist("Nova Reed")
    released = (utcnow() - timedelta(days=2)).date().isoformat()
    emulator.add_release(artist, "Glasshouse", group="single", release_date=released)
    spotify_user = emulator.add_account("ana", display_name="Ana", follows=[artist])
    tokens = emulator.issue_tokens(spotify_user)
    now = utcnow()
    with database.session() as session:
        pending = PendingSignup(state="s", email="ana@example.com", created_at=now)
        result = accounts.link_spotify_account(
            session,
            settings,
            pending=pending,
            account_id=emulator.catalogue.accounts[spotify_user].account_id,
            display_name="Ana",
            refresh_token=tokens["refresh_token"],
            now=now,
        )
        accounts.confirm_user(result.user, now)


def test_a_cron_run_and_a_tick_at_once_do_the_work_once(
    database: Database, emulator: SpotifyEmulator, smtp: MailCatcher, tmp_path: Path
) -> None:
    settings = web_settings_for(emulator, smtp, tmp_path, database_url=database.url)
    linked_confirmed_user(database, settings, emulator)
    emulator.latency = 0.2  # each Spotify answer takes a while, so the two runs overlap
    queue = build_queue(settings, database)
    finished = threading.Semaphore(0)

    @queue.huey.signal(SIGNAL_COMPLETE, SIGNAL_ERROR)
    def count_finished(signal: str, task: object, *_: object) -> None:
        finished.release()

    with database.session() as session:
        cron_run = Run(trigger="cron", state="queued", created_at=utcnow())
        session.add(cron_run)
    queue.enqueue_run(cron_run.id)
    queue.tick_task()
    consumer = queue.consumer(workers=2, periodic=False)
    consumer._set_signal_handlers = lambda: None  # the test's process keeps its own signals
    consumer.start()
    try:
        assert finished.acquire(timeout=60) and finished.acquire(timeout=60)
    finally:
        consumer.stop(graceful=True)

    with database.session() as session:
        states = sorted((run.trigger, run.state) for run in session.scalars(select(Run)))
    assert sorted(state for _, state in states) == ["done", "done"]  # one did both
    assert {trigger for trigger, _ in states} == {"cron", "scheduler"}
    digests = [
        m for m in smtp.to("ana@example.com") if "Glasshouse" in m.raw.decode(errors="replace")
    ]
    assert len(digests) == 1


def test_a_confirmation_while_a_run_is_at_work_is_done_by_that_run_before_it_ends(
    database: Database, emulator: SpotifyEmulator, smtp: MailCatcher, tmp_path: Path
) -> None:
    settings = web_settings_for(emulator, smtp, tmp_path, database_url=database.url)
    early = emulator.add_artist("Early Bird")
    add_linked_subscriber(
        database, settings.token_cipher, emulator, "eli@example.com", [early], now=utcnow()
    )
    emulator.latency = 0.3  # the active run spends a while on Spotify
    queue = build_queue(settings, database, immediate=True)
    active: list[RunSummary] = []
    worker = threading.Thread(
        target=lambda: active.append(run_once(settings, database, trigger="scheduler"))
    )
    worker.start()
    assert wait_until(lambda: emulator.count() >= 1, 30)  # the run is at work on Spotify

    linked_confirmed_user(database, settings, emulator)
    queue.enqueue_work("confirm")  # runs inline: finds the lease taken, records the work
    with database.session() as session:
        asked = session.scalar(select(Run).where(Run.trigger == "confirm"))
        assert asked is not None and asked.state == "queued"
    worker.join(timeout=60)

    assert len(smtp.to("ana@example.com")) == 1  # sent before the active run ended
    with database.session() as session:
        states = {run.trigger: run.state for run in session.scalars(select(Run))}
        left = session.scalar(select(func.count()).select_from(WorkRequest))
    assert states == {"scheduler": "done", "confirm": "done"}
    assert left == 0
    assert active[0].passes >= 2  # one more pass for the work asked for during the run
