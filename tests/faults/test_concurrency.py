"""Runs started at the same moment: two `release-notifier run` processes, the cron endpoint and
the scheduler's tick. The database lease lets one work at a time (the others wait or hand their
work over); no digest goes out twice, none is lost."""

from __future__ import annotations

import random
import threading
from collections import Counter

from sqlalchemy import select

from release_notifier.db.models import Run
from release_notifier.jobs.queue import build_queue
from release_notifier.settings import load_settings
from release_notifier.web import create_app
from tests.faults.conftest import Fleet, wait_until

ROUNDS = 3
SEED = 7


def test_two_processes_the_cron_endpoint_and_the_tick_at_once_send_each_release_once(
    fleet: Fleet,
) -> None:
    rng = random.Random(SEED)
    settings = load_settings(
        **{name.lower(): value for name, value in fleet.env.items() if name != "PATH"},
        cron_secret_key="cron-key",
    )
    queue = build_queue(settings, fleet.database, immediate=True)
    app = create_app(settings, fleet.database, queue=queue)
    artists = [fleet.spotify.add_artist(f"Artist {n:02d}") for n in range(8)]
    for n in range(6):
        fleet.add_user(f"listener{n}@example.test", rng.sample(artists, 3))
    fleet.spotify.latency = 0.2  # every run spends a while on Spotify: the triggers overlap

    cron_answers: list[int] = []

    def cron() -> None:
        answer = app.test_client().post(
            "/scheduled/run-releases", headers={"X-API-KEY": "cron-key"}
        )
        cron_answers.append(answer.status_code)

    for _ in range(ROUNDS):
        for artist in rng.sample(artists, 4):
            fleet.release(artist)
        greeted = fleet.smtp.connections
        processes = [fleet.start_run(), fleet.start_run()]
        # Both processes are past start-up (they greet SMTP before any work): fire the others.
        assert wait_until(lambda: fleet.smtp.connections >= greeted + 2, 30)
        threads = [threading.Thread(target=cron), threading.Thread(target=queue.tick_task)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        for process in processes:
            _, stderr = process.communicate(timeout=60)
            assert process.returncode == 0, stderr

    with fleet.database.session() as session:
        states = Counter(run.state for run in session.scalars(select(Run)))
    tally = fleet.tally()
    print(
        f"\nconcurrency: {ROUNDS} rounds of 4 triggers at once, runs {dict(states)}, "
        f"{fleet.released} releases: lost={tally.lost} duplicated={tally.duplicated}"
    )
    assert cron_answers == [202] * ROUNDS
    assert states["done"] == 4 * ROUNDS  # handed-over work was done by the run at work
    assert tally.lost == 0
    assert tally.duplicated == 0
