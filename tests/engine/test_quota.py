"""Quota-aware checking: the shared request budget, the limiter, and what is checked when."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner

from release_notifier.cli.engine import status_command
from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.db.models import Artist, Follow
from release_notifier.jobs.lease import RunLease
from release_notifier.jobs.run import Run
from release_notifier.jobs.schedule import CHECK_WINDOW, ArtistState, FollowListReads, check_leads
from release_notifier.jobs.work_requests import record_work_request
from release_notifier.spotify.budget import RequestBudget, pause_until
from release_notifier.spotify.errors import BudgetExhausted
from release_notifier.spotify.pacer import Pacer
from tests.engine.conftest import World

ALBUMS = r"/v1/artists/[^/]+/albums"


def with_budget(world: World, budget: int) -> None:
    world.settings = world.settings.model_copy(update={"spotify_daily_request_budget": budget})


def artists_with_new_singles(world: World, count: int) -> list[str]:
    artists = [world.spotify.add_artist(f"Artist {n}") for n in range(count)]
    for n, artist in enumerate(artists):
        world.spotify.add_release(artist, f"Song {n}", group="single", release_date="2026-11-20")
    return artists


def all_names(world: World, address: str) -> list[str]:
    return sorted(name for digest in world.digest_names(address) for name in digest)


def test_the_budget_is_shared_by_two_instances_and_survives_a_restart(world: World) -> None:
    one = RequestBudget(world.database, limit=3)
    two = RequestBudget(world.database, limit=3)
    one.spend("/artists/{id}/albums")
    two.spend("/me/following")

    restarted = Database(world.database.url)
    try:
        after_restart = RequestBudget(restarted, limit=3)
        assert (one.used(), two.used(), after_restart.used()) == (2, 2, 2)
        after_restart.spend("/artists/{id}/albums")
        with pytest.raises(BudgetExhausted) as refused:
            one.spend("/artists/{id}/albums")
        assert refused.value.retry_after == pytest.approx(timedelta(days=1).total_seconds())
        world.days_pass(1.01)
        assert (two.left(), after_restart.left()) == (3, 3)
    finally:
        restarted.dispose()


def test_an_exhausted_budget_ends_the_run_cleanly_and_the_digest_still_goes_out(
    world: World,
) -> None:
    artists = artists_with_new_singles(world, 12)
    world.add_user("nia@example.test", artists)
    with_budget(world, 8)  # one follow-list page and seven artist checks

    first = world.run()

    assert first.paused_until is None and not first.problems
    assert first.emails_sent == 1
    assert (first.artists_checked, first.artists_unchecked) == (7, 5)
    assert "request budget left today: 0; 5 artists wait for later runs" in first.lines()
    assert world.spotify.count() == 8

    world.days_pass(1.01)
    world.run()  # the rest are checked once the day has room again
    world.days_pass(13)
    world.run()

    assert all_names(world, "nia@example.test") == sorted(f"Song {n}" for n in range(12))
    assert all(r.status != 429 for r in world.spotify.requests)


def test_the_limiter_slows_down_after_a_429_instead_of_retrying_into_more(world: World) -> None:
    artists = artists_with_new_singles(world, 8)
    world.add_user("oli@example.test", artists)
    world.spotify.rate_limit(1, retry_after=2)

    summary = world.run()

    limited = [r for r in world.spotify.requests if r.status == 429]
    assert len(limited) == 1
    assert world.waits[0] == pytest.approx(2.0, abs=0.2)  # every thread held for Retry-After
    spacing = world.waits[1:]  # every request after the 429 waited its turn
    assert len(spacing) >= 7 and min(spacing) > 0
    assert summary.artists_checked == 8 and summary.paused_until is None


def test_a_burst_of_429s_seen_by_several_threads_slows_the_pace_once_and_it_recovers(
    world: World,
) -> None:
    artists = artists_with_new_singles(world, 24)
    world.add_user("pax@example.test", artists)
    # three artist checks in flight at once all get a 429 (answered together, Retry-After 1)
    world.spotify.fail(ALBUMS, 429, times=3, headers={"Retry-After": "1"}, delay=0.2)
    run = Run(world.settings, world.database, sleep=world.waits.append)

    summary = run.execute()

    assert sum(1 for r in world.spotify.requests if r.status == 429) == 3
    assert run.pacer.slowdowns == 1  # one burst, one slow-down (not three doublings)
    assert run.pacer.interval < Pacer.MIN_INTERVAL  # each success sped it up again
    assert summary.artists_checked == 24 and summary.paused_until is None


def test_follow_lists_are_refreshed_once_per_digest_interval_not_every_run(world: World) -> None:
    artists = artists_with_new_singles(world, 3)
    world.add_user("pia@example.test", artists, interval=14)

    for _ in range(12):  # a run a day for twelve days
        world.run()
        world.days_pass(1)
    assert world.spotify.count(r"/v1/me/following") == 1

    world.days_pass(1.5)  # inside the day before the next digest
    world.run()
    world.days_pass(0.25)
    world.run()
    assert world.spotify.count(r"/v1/me/following") == 2


def test_steady_state_detection_costs_one_request_per_artist(world: World) -> None:
    artists = [world.spotify.add_artist(f"Catalogue {n}") for n in range(5)]
    for artist in artists:
        for year in range(2000, 2015):  # more than one page of back catalogue
            world.spotify.add_release(artist, f"Old {year}", release_date=f"{year}-03-01")
    world.add_user("quin@example.test", artists, interval=2)
    world.run()
    world.spotify.reset_counts()

    world.days_pass(1.5)
    summary = world.run()

    assert summary.artists_checked == 5
    assert world.spotify.count(ALBUMS) == 5


def test_a_new_release_visible_on_the_detection_page_costs_no_more_requests(
    world: World,
) -> None:
    band = world.spotify.add_artist("Deep Shelf")
    for year in range(2000, 2015):
        world.spotify.add_release(band, f"Old {year}", release_date=f"{year}-03-01")
    world.add_user("rae@example.test", [band], interval=2)
    world.run()
    # fifteen albums fill page 0: the detection page sits on the first single instead
    world.spotify.add_release(band, "New Single", group="single", release_date="2026-11-26")
    world.spotify.reset_counts()

    world.days_pass(1.5)
    world.run()
    world.days_pass(0.5)
    world.run()

    assert world.spotify.count(ALBUMS) == 1
    assert world.digest_names("rae@example.test")[-1] == ["New Single"]


def test_a_new_album_above_the_detection_page_costs_one_more_request(world: World) -> None:
    band = world.spotify.add_artist("Deep Shelf")
    for year in range(2000, 2015):
        world.spotify.add_release(band, f"Old {year}", release_date=f"{year}-03-01")
    world.add_user("rae@example.test", [band], interval=2)
    world.run()
    world.spotify.add_release(band, "New Album", release_date="2026-11-26")
    world.spotify.reset_counts()

    world.days_pass(2)
    world.run()

    assert world.spotify.count(ALBUMS) == 2  # the page moved one down, then the albums' top
    assert world.digest_names("rae@example.test")[-1] == ["New Album"]


def test_recently_active_artists_are_checked_more_often(world: World) -> None:
    active = world.spotify.add_artist("Busy Bee")
    quiet = world.spotify.add_artist("Still Water")
    world.spotify.add_release(active, "Just Out", group="single", release_date="2026-11-24")
    world.spotify.add_release(quiet, "Long Ago", release_date="2019-04-01")
    world.add_user("sam@example.test", [active, quiet], interval=14)
    world.run()
    world.spotify.reset_counts()

    for _ in range(8):  # eight days of runs, long before the next digest's check window
        world.days_pass(1)
        world.run()

    assert world.spotify.count(rf"/v1/artists/{active}/albums") == 1
    assert world.spotify.count(rf"/v1/artists/{quiet}/albums") == 0


def test_status_shows_budget_pause_due_unchecked_and_oldest_check(world: World) -> None:
    artists = artists_with_new_singles(world, 3)
    world.add_user("tia@example.test", artists)
    world.run()
    world.days_pass(0.5)
    with world.database.session() as session:  # a follow not yet checked
        newcomer = world.spotify.add_artist("Newcomer")
        session.add(Artist(id=newcomer, name="Newcomer"))
        session.flush()
        session.add(Follow(user_id=1, artist_id=newcomer, since=utcnow()))
    pause_until(world.database, utcnow() + timedelta(hours=13), "429 QUOTA_EXCEEDED")
    assert RunLease(world.database).acquire()  # a run is at work...
    record_work_request(world.database, "confirm", None)  # ...and a confirmation waits for it

    env = {
        "DATABASE_URL": world.database.url,
        "SPOTIFY_DAILY_REQUEST_BUDGET": "500",
        "DIGEST_INTERVAL_DAYS": "14",
    }
    result = CliRunner().invoke(status_command, env=env)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "requests in the last 24 h: 4 of 500" in lines
    assert "requests left: 496" in lines
    assert "paused until: 2026-11-26 10:00:00 UTC" in lines
    assert "unique artists: 4" in lines
    assert "artists due for a check: 1" in lines
    assert "artists never checked: 1" in lines
    assert "oldest check: 2026-11-25 09:00:00 UTC (12.0 h ago)" in lines
    assert "run at work: yes (lease until 2026-11-25 21:05:00 UTC)" in lines
    assert "work asked for meanwhile: 1" in lines


def test_checks_start_earlier_when_the_budget_cannot_fit_them_into_the_last_day() -> None:
    digest = datetime(2026, 12, 9, 9, 0)
    many = [
        ArtistState(f"a{n:03d}", digest, timedelta(days=14), None, None, False) for n in range(120)
    ]
    few = many[:10]

    roomy = check_leads(few, rate_per_hour=15)
    tight = check_leads(many, rate_per_hour=2)  # 120 checks at 2 an hour: 60 hours of work

    assert set(roomy.values()) == {CHECK_WINDOW}
    assert max(tight.values()) == timedelta(hours=60)
    assert min(tight.values()) == CHECK_WINDOW
    capped = check_leads(many, rate_per_hour=0.25)  # 480 hours of work: more than the interval
    assert max(capped.values()) == timedelta(days=14)


def test_follow_list_pages_read_before_a_digest_push_its_artist_checks_earlier() -> None:
    digest = datetime(2026, 12, 9, 9, 0)
    fortnight = timedelta(days=14)
    states = [ArtistState(f"a{n:02d}", digest, fortnight, None, None, False) for n in range(10)]
    reads = [FollowListReads(digest, fortnight, pages=500)]  # 500 linked subscribers

    free = check_leads(states, rate_per_hour=15)
    behind_the_pages = check_leads(states, rate_per_hour=15, reads=reads)

    assert set(free.values()) == {CHECK_WINDOW}
    # 500 one-request pages at 15 checks of 1.1 requests an hour take 30.3 hours; the ten
    # checks come before them, 4 minutes apart
    hours = sorted(lead.total_seconds() / 3600 for lead in behind_the_pages.values())
    assert hours[0] == pytest.approx(500 / 16.5 + 1 / 15)
    assert hours[-1] == pytest.approx(500 / 16.5 + 10 / 15)
