"""SIGKILL `release-notifier run` at random moments: no release is ever lost, and a release is
sent twice only when the kill lands between the SMTP server's acceptance and the commit."""

from __future__ import annotations

import random
from collections import Counter

from sqlalchemy import select

from release_notifier.db.models import Run
from tests.faults.conftest import Fleet, wait_until

SEED = 20261125
KILLS = 30
USERS = 8
ARTISTS = 12
PHASE_TIMEOUT = 20.0


def kill_at_random_moment(fleet: Fleet, rng: random.Random, phase: str) -> str:
    """Start a run and SIGKILL it in `phase`; returns where the kill landed."""
    process = fleet.start_run()
    exited = lambda: process.poll() is not None  # noqa: E731
    if phase == "spotify":
        target = fleet.spotify.count() + rng.randint(1, ARTISTS)
        wait_until(lambda: exited() or fleet.spotify.count() >= target, PHASE_TIMEOUT)
    elif phase == "mail":
        target = len(fleet.smtp.messages) + rng.randint(1, 3)
        wait_until(lambda: exited() or len(fleet.smtp.messages) >= target, PHASE_TIMEOUT)
        wait_until(exited, rng.choice((0.0, rng.uniform(0.0, 0.05))))
    else:  # anywhere once the run has started: migrations, lease, follow sync, checks, mail
        greeted = fleet.smtp.connections
        wait_until(lambda: exited() or fleet.smtp.connections > greeted, PHASE_TIMEOUT)
        wait_until(exited, rng.uniform(0.0, 0.8))
    if process.poll() is not None:
        process.communicate()
        return "finished before the kill"
    process.kill()
    process.communicate()
    return f"killed in {phase}"


def test_thirty_kills_at_random_moments_lose_no_release_and_send_none_twice(
    fleet: Fleet,
) -> None:
    rng = random.Random(SEED)
    fleet.spotify.latency = 0.02  # each Spotify request takes a while: kills land mid-check
    artists = [fleet.spotify.add_artist(f"Artist {n:02d}") for n in range(ARTISTS)]
    for n in range(USERS):
        fleet.add_user(f"listener{n}@example.test", rng.sample(artists, 4))
    for artist in artists:
        fleet.release(artist, days_ago=rng.randint(1, 20))

    landed: Counter[str] = Counter()
    for kill in range(KILLS):
        phase = rng.choice(("anywhere", "spotify", "mail"))
        if kill and (phase == "mail" or rng.random() < 0.5):
            for artist in rng.sample(artists, rng.randint(1, 3)):
                fleet.release(artist, group=rng.choice(("album", "single")))
        landed[kill_at_random_moment(fleet, rng, phase)] += 1

    fleet.spotify.latency = 0.0
    final = fleet.run()
    tally = fleet.tally()

    print(
        f"\ncrash: {KILLS} SIGKILLs ({dict(landed)}), {fleet.released} releases, "
        f"{len(fleet.smtp.messages)} digests caught: lost={tally.lost} "
        f"duplicated={tally.duplicated} (kills between SMTP acceptance and commit: "
        f"{tally.resent_messages})"
    )
    assert final.returncode == 0, final.stderr
    assert "digests sent:" in final.stdout
    assert tally.lost == 0
    # A release reaches a user in one digest only; a double is that same digest resent.
    assert tally.duplicates_outside_resends == 0
    assert landed["finished before the kill"] < KILLS // 2, landed
    assert runs_left_running(fleet) == 0  # killed runs are not reported as running forever


def runs_left_running(fleet: Fleet) -> int:
    with fleet.database.session() as session:
        return len(session.scalars(select(Run).where(Run.state == "running")).all())
