"""Push channels under faults, through real `release-notifier run` processes, the SMTP server and
a local HTTP receiver for Apprise's JSON webhook: a receiver that is down, one that refuses for
good, and SIGKILLs during pushes. Nothing is lost; a release comes twice only as the same push
resent after a kill between the receiver's acceptance and the commit."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from cryptography.fernet import Fernet, MultiFernet

from release_notifier.clock import utcnow
from release_notifier.sandbox.pushcatcher import PushCatcher
from release_notifier.sandbox.wiring import add_push_channel
from tests.faults.conftest import Fleet, wait_until

SEED = 20261202
KILLS = 12
PHASE_TIMEOUT = 20.0


@dataclass
class PushTally:
    lost: int
    duplicated: int
    resent: int  # identical pushes received more than once (a kill before the commit)
    duplicates_outside_resends: int  # a release in two different pushes: never allowed


def subscribe_with_channel(
    fleet: Fleet, pushes: PushCatcher, email: str, follows: list[str]
) -> str:
    """A subscriber with email and one "as soon as found" push channel; returns the path its
    pushes arrive on."""
    user_id = fleet.add_user(email, follows)
    cipher = MultiFernet([Fernet(fleet.env["DB_ENCRYPTION_KEY"].encode())])
    path = f"/push/{user_id}"
    url = f"json://{pushes.host}:{pushes.port}{path}"
    add_push_channel(fleet.database, cipher, user_id, url, cadence="instant", now=utcnow())
    return path


def release_names(message: str) -> list[str]:
    return [line.split(" \u2013 ", 1)[1] for line in message.splitlines() if " \u2013 " in line]


def push_tally(pushes: PushCatcher, expected: dict[str, set[str]]) -> PushTally:
    """`expected`: push path -> release names its subscriber must get."""
    lost = duplicated = outside = 0
    bodies = Counter((push.path, push.message) for push in pushes.pushes)
    for path, wanted in expected.items():
        received: Counter[str] = Counter()
        carried_by: dict[str, set[str]] = {}
        for push in pushes.pushes:
            if push.path != path:
                continue
            for name in release_names(push.message):
                received[name] += 1
                carried_by.setdefault(name, set()).add(push.message)
        lost += len(wanted - set(received))
        duplicated += sum(seen - 1 for seen in received.values())
        outside += sum(len(messages) - 1 for messages in carried_by.values())
    resent = sum(1 for seen in bodies.values() if seen > 1)
    return PushTally(lost, duplicated, resent, outside)


def expected_pushes(fleet: Fleet, paths: dict[str, str]) -> dict[str, set[str]]:
    return {paths[address]: names for address, names in fleet.expected.items()}


def test_email_and_an_instant_push_channel_each_get_every_release_once(
    fleet: Fleet, pushes: PushCatcher
) -> None:
    artists = [fleet.spotify.add_artist(f"Artist {n}") for n in range(3)]
    paths = {
        "ana@example.test": subscribe_with_channel(fleet, pushes, "ana@example.test", artists),
        "bo@example.test": subscribe_with_channel(fleet, pushes, "bo@example.test", artists[:1]),
    }
    for round_ in range(3):
        for artist in artists:
            fleet.release(artist, days_ago=round_)
        result = fleet.run()
        assert result.returncode == 0, result.stderr
        assert "pushes sent:" in result.stdout

    tally = fleet.tally()
    assert (tally.lost, tally.duplicated) == (0, 0)
    pushed = push_tally(pushes, expected_pushes(fleet, paths))
    assert (pushed.lost, pushed.duplicated) == (0, 0)
    assert len(pushes.pushes) == 6  # one push per subscriber per run that found something


def test_a_receiver_that_is_down_gets_everything_once_it_is_back(
    fleet: Fleet, pushes: PushCatcher
) -> None:
    artist = fleet.spotify.add_artist("Nova Reed")
    paths = {
        "ana@example.test": subscribe_with_channel(fleet, pushes, "ana@example.test", [artist])
    }
    fleet.release(artist)
    pushes.stop()
    down = fleet.run()
    assert down.returncode == 0, down.stderr
    assert "could not connect to the service" in down.stdout
    fleet.release(artist)
    assert fleet.run().returncode == 0
    pushes.start()  # the same port
    assert fleet.run().returncode == 0

    assert fleet.tally().lost == 0
    pushed = push_tally(pushes, expected_pushes(fleet, paths))
    assert (pushed.lost, pushed.duplicated) == (0, 0)


def test_a_receiver_that_refuses_for_good_is_switched_off_and_the_subscriber_emailed(
    fleet: Fleet, pushes: PushCatcher
) -> None:
    artist = fleet.spotify.add_artist("Nova Reed")
    subscribe_with_channel(fleet, pushes, "ana@example.test", [artist])
    fleet.release(artist)
    pushes.answer(404)
    result = fleet.run()
    assert result.returncode == 0, result.stderr
    subjects = [str(m.message["Subject"]) for m in fleet.smtp.to("ana@example.test")]
    assert subjects.count("Your push channel JSON · json://127.0.0.1 was switched off") == 1

    pushes.answer(200)
    fleet.release(artist)
    assert fleet.run().returncode == 0
    assert pushes.attempts == 1 and pushes.pushes == []  # never tried again
    assert fleet.tally().lost == 0  # email carried on


def kill_during_a_push(fleet: Fleet, pushes: PushCatcher, rng: random.Random) -> str:
    process = fleet.start_run()
    exited = lambda: process.poll() is not None  # noqa: E731
    target = pushes.attempts + 1
    wait_until(lambda: exited() or pushes.attempts >= target, PHASE_TIMEOUT)
    wait_until(exited, rng.choice((0.0, rng.uniform(0.0, 0.25))))
    if process.poll() is not None:
        process.communicate()
        return "finished before the kill"
    process.kill()
    process.communicate()
    return "killed in the push phase"


def test_sigkills_during_pushes_lose_no_release(fleet: Fleet, pushes: PushCatcher) -> None:
    rng = random.Random(SEED)
    pushes.delay = 0.03  # the receiver takes a moment: kills land during and after pushes
    artists = [fleet.spotify.add_artist(f"Artist {n:02d}") for n in range(6)]
    paths = {
        f"listener{n}@example.test": subscribe_with_channel(
            fleet, pushes, f"listener{n}@example.test", rng.sample(artists, 3)
        )
        for n in range(4)
    }
    landed: Counter[str] = Counter()
    for _ in range(KILLS):
        for artist in rng.sample(artists, rng.randint(1, 3)):
            fleet.release(artist, group=rng.choice(("album", "single")))
        landed[kill_during_a_push(fleet, pushes, rng)] += 1

    pushes.delay = 0.0
    final = fleet.run()
    pushed = push_tally(pushes, expected_pushes(fleet, paths))
    print(
        f"\npush crash: {KILLS} SIGKILLs ({dict(landed)}), {fleet.released} releases, "
        f"{len(pushes.pushes)} pushes caught: lost={pushed.lost} duplicated={pushed.duplicated} "
        f"(pushes resent after a kill between acceptance and commit: {pushed.resent})"
    )
    assert final.returncode == 0, final.stderr
    assert pushed.lost == 0
    assert pushed.duplicates_outside_resends == 0
    assert fleet.tally().lost == 0
    assert landed["killed in the push phase"] >= KILLS // 2, landed
