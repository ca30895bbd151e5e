"""Whose turn it is, with real processes: `serve` and `run` together, confirmations during a run,
two `run` processes with a short lease, a run whose lease another run took, and a confirmation
during a quota pause. Nothing asked for is dropped or delayed, nothing is sent twice,
and no test sleeps on the wall clock (the lease is scaled down instead)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import requests
from sqlalchemy import delete, func, select, update

from release_notifier.clock import utcnow
from release_notifier.db.models import State, User, WorkRequest
from release_notifier.jobs.lease import LEASE_KEY
from release_notifier.links import link_url
from release_notifier.settings import Settings, load_settings
from release_notifier.spotify.budget import PAUSED_UNTIL, pause_until
from tests.engine.test_cli import free_port
from tests.faults.conftest import Fleet, wait_until
from tests.security.test_log_secrecy import answers

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass
class Served:
    """`release-notifier serve` (its queue worker runs confirmation-triggered runs)."""

    url: str
    settings: Settings
    process: subprocess.Popen[str]

    def confirm(self, user_id: int, address: str) -> None:
        """Press the button behind the user's confirmation link, as they would."""
        browser = requests.Session()
        url = link_url(self.settings, "confirm", user_id, address=address)
        page = browser.get(url, timeout=10)
        token = CSRF.search(page.text)
        assert token, page.text[:300]
        answer = browser.post(url, data={"csrf_token": token.group(1)}, timeout=10)
        assert answer.status_code == 200, answer.text[:300]


@pytest.fixture
def served(fleet: Fleet) -> Iterator[Served]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    fleet.env.update(
        PUBLIC_BASE_URL=url,
        CRON_SECRET_KEY="turns-cron-key",
        HUEY_SQLITE_PATH=str(fleet.folder / "queue.db"),
        BACKUP_DIR=str(fleet.folder / "backups"),
        SCHEDULER_ENABLED="false",
        DIGEST_INTERVAL_DAYS="14",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "release_notifier", "serve", f"--port={port}"],
        env=fleet.env,
        cwd=fleet.folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    settings = load_settings(**{k.lower(): v for k, v in fleet.env.items() if k != "PATH"})
    try:
        assert wait_until(lambda: answers(url), 30), "serve did not start"
        yield Served(url, settings, process)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def unconfirmed_subscriber(fleet: Fleet, email: str, follows: list[str]) -> int:
    """A linked subscriber who has not pressed the confirmation button yet."""
    user_id = fleet.add_user(email, follows)
    with fleet.database.session() as session:
        session.execute(
            update(User).where(User.id == user_id).values(confirmed_at=None, next_digest_at=None)
        )
    return user_id


def work_requests(fleet: Fleet) -> int:
    with fleet.database.session() as session:
        return session.scalar(select(func.count()).select_from(WorkRequest)) or 0


def initial_digests(fleet: Fleet, address: str) -> int:
    return sum(1 for m in fleet.smtp.to(address) if "first digest" in str(m.message["Subject"]))


def test_three_confirmations_then_run_at_once_leave_three_first_digests_sent_when_run_exits(
    fleet: Fleet, served: Served
) -> None:
    artist = fleet.spotify.add_artist("Turn Taker")
    fleet.release(artist)
    users = [unconfirmed_subscriber(fleet, f"new{n}@example.test", [artist]) for n in range(3)]
    fleet.spotify.latency = 0.2  # the runs the confirmations start overlap with each other

    for n, user_id in enumerate(users):
        served.confirm(user_id, f"new{n}@example.test")
    run = fleet.run(timeout=120)  # at once, as the operator did

    sent = [initial_digests(fleet, f"new{n}@example.test") for n in range(3)]
    print(f"\nturns: 3 confirmations through serve, then run: first digests {sent} at its exit")
    assert run.returncode == 0, run.stderr
    assert sent == [1, 1, 1]
    assert fleet.tally().duplicated == 0


def test_a_confirmation_during_a_run_is_sent_by_that_run_before_it_exits(
    fleet: Fleet, served: Served
) -> None:
    artists = [fleet.spotify.add_artist(f"Busy {n:02d}") for n in range(40)]
    for artist in artists[:3]:
        fleet.release(artist)
    fleet.add_user("early@example.test", artists)
    late = unconfirmed_subscriber(fleet, "late@example.test", artists[:1])
    fleet.spotify.latency = 1.0  # the run stays at work until the confirmation is recorded
    process = fleet.start_run()
    assert wait_until(lambda: fleet.spotify.count() >= 1, 60)  # the run is at work on Spotify

    # serve's confirmation run finds the lease taken: it records the work
    served.confirm(late, "late@example.test")
    assert wait_until(lambda: work_requests(fleet) == 1, 60)
    fleet.spotify.latency = 0.0
    stdout, stderr = process.communicate(timeout=120)

    print(f"\nturns: a confirmation during a run: {stdout.splitlines()[:1]}")
    assert process.returncode == 0, stderr
    assert "passes: 2" in stdout  # one more pass for the work asked for during the run
    assert initial_digests(fleet, "late@example.test") == 1
    assert fleet.tally().lost == 0


def test_overlapping_runs_with_a_short_lease_send_no_digest_twice(fleet: Fleet) -> None:
    fleet.env["RUN_LEASE_SECONDS"] = "2"
    artists = [fleet.spotify.add_artist(f"Lapse {n:02d}") for n in range(8)]
    for n, artist in enumerate(artists):
        fleet.add_user(f"listener{n:02d}@example.test", [artist, artists[(n + 1) % 8]])
        fleet.release(artist)
    fleet.spotify.latency = 0.3  # the Spotify phase lasts longer than the lease

    processes = [fleet.start_run(), fleet.start_run()]
    outputs = [process.communicate(timeout=120) for process in processes]

    assert [process.returncode for process in processes] == [0, 0], outputs
    assert sum("waited" in stdout for stdout, _ in outputs) == 1  # the second waited its turn
    ids = Counter(str(m.message["Message-ID"]) for m in fleet.smtp.messages)
    print(
        f"\nturns: two runs at once, lease 2 s: {len(fleet.smtp.messages)} messages, "
        f"{len(ids)} Message-IDs, lost {fleet.tally().lost}"
    )
    assert len(ids) == 8 and max(ids.values()) == 1  # 0 duplicated Message-IDs
    assert fleet.tally().lost == 0


def test_a_run_whose_lease_was_taken_stops_at_once_and_sends_nothing(fleet: Fleet) -> None:
    fleet.env["RUN_LEASE_SECONDS"] = "2"
    artists = [fleet.spotify.add_artist(f"Taken {n:02d}") for n in range(40)]
    for n, artist in enumerate(artists[:8]):
        fleet.add_user(f"taken{n}@example.test", [artist])
        fleet.release(artist)
    fleet.add_user("everything@example.test", artists)
    fleet.spotify.latency = 1.0  # a long Spotify phase
    process = fleet.start_run()
    assert wait_until(lambda: fleet.spotify.count() >= 1, 60)

    with fleet.database.session() as session:  # another run takes the lease (as after a lapse)
        session.execute(
            update(State).where(State.key == LEASE_KEY).values(value="elsewhere|1|other")
        )
    stdout, _ = process.communicate(timeout=60)

    print(f"\nturns: lease taken: exit {process.returncode}, {len(fleet.smtp.messages)} sent")
    assert process.returncode == 5, stdout
    assert "lost the run lease" in stdout
    assert fleet.smtp.messages == []  # it claimed and sent nothing after losing the lease
    with fleet.database.session() as session:
        session.execute(delete(State).where(State.key == LEASE_KEY))  # the other run ends
    fleet.spotify.latency = 0.0
    assert fleet.run(timeout=120).returncode == 0
    tally = fleet.tally()
    assert (tally.lost, tally.duplicated, tally.resent_messages) == (0, 0, 0)


def test_a_confirmation_during_a_quota_pause_gets_its_first_digest_after_the_pause(
    fleet: Fleet,
) -> None:
    fleet.env["DIGEST_INTERVAL_DAYS"] = "14"
    artist = fleet.spotify.add_artist("Paused Band")
    fleet.release(artist)
    pause_until(fleet.database, utcnow() + timedelta(hours=20), "QUOTA_EXCEEDED")
    user = fleet.add_user("paused@example.test", [artist])  # confirms during the pause
    with fleet.database.session() as session:
        due = session.scalar(select(User.next_digest_at).where(User.id == user))

    during = fleet.run()
    with fleet.database.session() as session:
        still_due = session.scalar(select(User.next_digest_at).where(User.id == user))
        session.execute(  # the pause is over (as if 20 hours had passed)
            update(State).where(State.key == PAUSED_UNTIL).values(expires_at=utcnow())
        )
    after = fleet.run()

    print(f"\nturns: quota pause: next digest kept {still_due == due}")
    assert (during.returncode, after.returncode) == (0, 0), during.stderr + after.stderr
    assert "spotify paused until" in during.stdout
    assert still_due == due  # not pushed two weeks back by the run that could not read Spotify
    assert initial_digests(fleet, "paused@example.test") == 1
    assert fleet.tally().lost == 0
