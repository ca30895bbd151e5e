"""The SQLite file full or locked during a run: a clear error, nothing half-written (every change
is one transaction), and the next run recovers with nothing lost or doubled."""

from __future__ import annotations

import resource
import signal
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from release_notifier.db.models import ArtistRelease, Digest, Follow, LedgerEntry, Release
from tests.faults.conftest import Fleet, World, tally, wait_until

ARTISTS = 6


def busy_world(world: World) -> dict[str, set[str]]:
    """Two readers of six artists with two new releases each; SQLite only."""
    if not world.database.is_sqlite:
        pytest.skip("a fault of the SQLite file")
    artists = [world.spotify.add_artist(f"Artist {n}") for n in range(ARTISTS)]
    names = set()
    for n, artist in enumerate(artists):
        for m in range(2):
            name = f"Song {n}.{m} with a title long enough to need new pages {'x' * 200}"
            world.spotify.add_release(artist, name, release_date="2026-11-2" + str(m + 1))
            names.add(name)
    world.add_user("one@example.test", artists)
    world.add_user("two@example.test", artists)
    return {"one@example.test": set(names), "two@example.test": set(names)}


@contextmanager
def sqlite_setting(world: World, pragma: str) -> Iterator[None]:
    """Every new connection of the run gets `pragma` (the pool is emptied first and after)."""

    def apply(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(pragma)

    event.listen(world.database.engine, "connect", apply)
    world.database.engine.dispose()
    try:
        yield
    finally:
        event.remove(world.database.engine, "connect", apply)
        world.database.engine.dispose()


def page_count(world: World) -> int:
    with world.database.engine.connect() as connection:
        return int(connection.exec_driver_sql("PRAGMA page_count").scalar_one())


def assert_nothing_half_written(world: World) -> None:
    """Each stored release is linked to its artist and in every follower's ledger; each claimed
    digest owns its claimed ledger rows."""
    with world.database.session() as session:
        for release in session.scalars(select(Release)):
            links = session.scalars(
                select(ArtistRelease.artist_id).where(ArtistRelease.release_id == release.id)
            ).all()
            assert links, release.id
            followers = set(
                session.scalars(select(Follow.user_id).where(Follow.artist_id.in_(links)))
            )
            in_ledger = set(
                session.scalars(
                    select(LedgerEntry.user_id).where(LedgerEntry.release_id == release.id)
                )
            )
            assert followers <= in_ledger, release.id
        for digest in session.scalars(select(Digest).where(Digest.status == "claimed")):
            rows = session.scalars(select(LedgerEntry).where(LedgerEntry.digest_id == digest.id))
            assert all(row.status == "claimed" for row in rows)


def report(name: str, world: World, expected: dict[str, set[str]]) -> None:
    counted = tally(world.smtp, expected)
    print(f"\ndatabase fault {name!r}: lost={counted.lost} duplicated={counted.duplicated}")
    assert counted.lost == 0
    assert counted.duplicated == 0


def test_a_full_disk_mid_run_is_a_clear_error_and_the_next_run_recovers(world: World) -> None:
    expected = busy_world(world)
    limit = page_count(world) + 2  # room for the run's first rows, not for its releases

    with (
        sqlite_setting(world, f"PRAGMA max_page_count={limit}"),
        pytest.raises(OperationalError, match="database or disk is full"),
    ):
        world.run()

    assert_nothing_half_written(world)
    world.run()
    report("disk full", world, expected)


def test_a_file_locked_for_longer_than_the_busy_timeout_fails_cleanly_and_recovers(
    world: World,
) -> None:
    expected = busy_world(world)
    world.spotify.latency = 0.2  # the checks take a while: the lock lands in the middle
    locked = threading.Event()
    finished = threading.Event()

    def lock_mid_run() -> None:
        wait_until(lambda: world.spotify.count("/albums") >= 1, 30)
        holder = sqlite3.connect(world.database.url.removeprefix("sqlite:///"))
        holder.execute("BEGIN EXCLUSIVE")
        locked.set()
        finished.wait(60)
        holder.rollback()
        holder.close()

    locker = threading.Thread(target=lock_mid_run)
    with sqlite_setting(world, "PRAGMA busy_timeout=300"):
        locker.start()
        try:
            with pytest.raises(OperationalError, match="database is locked"):
                world.run()
        finally:
            finished.set()
            locker.join()
    assert locked.is_set()

    assert_nothing_half_written(world)
    world.spotify.latency = 0.0
    # The failed run could not give its lease back (the file was still locked): the lease
    # lapses after its five minutes, so the scheduler's next run, 15 minutes on, does the work.
    world.days_pass(15 / 1440)
    assert not world.run().skipped
    report("file locked mid-run", world, expected)


def test_a_file_locked_for_a_moment_is_waited_out(world: World) -> None:
    expected = busy_world(world)
    holder = sqlite3.connect(world.database.url.removeprefix("sqlite:///"), check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    threading.Timer(0.5, holder.rollback).start()  # another process finishing its write

    summary = world.run()

    holder.close()
    assert summary.emails_sent == 2
    report("file locked for a moment", world, expected)


def full_disk_run(fleet: Fleet) -> tuple[int, list[str]]:
    """`release-notifier run` allowed to grow its files by three pages only (RLIMIT_FSIZE: the
    kernel refuses the write, as on a full disk); returns its exit code and stderr lines."""
    artists = [fleet.spotify.add_artist(f"Artist {n}") for n in range(10)]
    fleet.add_user("full@example.test", artists)
    for artist in artists:
        for _ in range(3):
            fleet.release(artist)
    size = sum(path.stat().st_size for path in fleet.folder.glob("site.db*")) + 3 * 4096

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a refused write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    result = fleet.run(preexec_fn=limit_file_size)
    return result.returncode, result.stderr.strip().splitlines()


def test_a_full_disk_stops_the_cli_run_naming_the_cause_and_the_next_run_recovers(
    fleet: Fleet,
) -> None:
    code, stderr = full_disk_run(fleet)

    assert code != 0
    assert "disk I/O error" in "\n".join(stderr[-3:])  # the last words name the cause
    recovered = fleet.run()
    assert recovered.returncode == 0, recovered.stderr
    counted = fleet.tally()
    print(
        f"\ndatabase fault 'disk full (CLI)': lost={counted.lost} duplicated={counted.duplicated}"
    )
    assert counted.lost == 0
    assert counted.duplicated == 0


def test_a_full_disk_is_one_line_on_stderr_not_a_traceback(fleet: Fleet) -> None:
    code, stderr = full_disk_run(fleet)

    assert code != 0
    assert not any(line.startswith("Traceback") for line in stderr)
