"""Spotify's 2026 refusals over HTTP against the emulator: the allow-list 403 in its current
wordings, the owner's lapsed Premium, a quota ban without Retry-After, a smaller page limit and
short follow pages. Each either sets one link aside or stops all Spotify work cleanly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from release_notifier.clock import utcnow
from release_notifier.db.models import Follow, State
from release_notifier.sandbox.emulator import NOT_ALLOWLISTED_2026
from release_notifier.spotify.budget import ALBUMS_LIMIT, current_pause
from tests.engine.conftest import World


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_a_first_link_refused_in_the_2026_wording_is_set_aside_for_the_next(
    world: World, as_json: bool
) -> None:
    artists = [world.spotify.add_artist(f"Band {n}") for n in range(3)]
    for n, artist in enumerate(artists):
        world.spotify.add_release(artist, f"Record {n}", release_date="2026-11-21")
    world.add_user("first@example.test", artists, account="first")
    world.add_user("second@example.test", artists, account="second")
    world.spotify.refuse_with("first", NOT_ALLOWLISTED_2026[0], as_json=as_json)

    summary = world.run()

    assert summary.artists_checked == 3
    received = [sorted(digest) for digest in world.digest_names("second@example.test")]
    assert received == [["Record 0", "Record 1", "Record 2"]]
    assert any("not on the app's user list" in problem for problem in summary.problems)
    refused = [r for r in world.spotify.requests if r.status == 403]
    assert len(refused) == 1  # the refused link's follow list only: no artist check wasted


def test_a_lapsed_premium_pauses_all_spotify_work_and_tells_the_operator_once(
    world: World,
) -> None:
    world.settings = world.settings.model_copy(update={"operator_email": "ops@example.test"})
    artists = [world.spotify.add_artist(f"Act {n}") for n in range(4)]
    world.add_user("fan@example.test", artists, interval=0)
    world.spotify.owner_premium = False

    first = world.run()

    assert first.paused_until == (utcnow() + timedelta(hours=6)).isoformat(sep=" ")
    assert first.pause_reason is not None and first.pause_reason.startswith("premium")
    assert world.spotify.count() == 1  # one refused call, not one per artist
    told = world.smtp.to("ops@example.test")
    assert len(told) == 1 and "Premium" in str(told[0].message["Subject"])
    assert world.smtp.to("fan@example.test") == []  # subscribers get nothing wrong

    world.days_pass(0.1)
    assert world.run().paused_until is not None and world.spotify.count() == 1
    world.days_pass(0.2)  # the pause is over: tried again, still refused, nobody told twice
    again = world.run()
    assert again.pause_reason is not None and again.pause_reason.startswith("premium")
    assert world.spotify.count() == 2
    assert len(world.smtp.to("ops@example.test")) == 1
    pause = current_pause(world.database)
    assert pause is not None and pause.kind == "premium"


def test_a_quota_ban_without_retry_after_pauses_for_the_long_default(world: World) -> None:
    artists = [world.spotify.add_artist(f"Voice {n}") for n in range(4)]
    world.add_user("hal@example.test", artists, interval=0)
    world.spotify.observe_2026()
    world.spotify.set_quota(2)

    summary = world.run()

    assert summary.paused_until == (utcnow() + timedelta(hours=24)).isoformat(sep=" ")
    banned = len([r for r in world.spotify.requests if r.status == 429])
    assert banned <= world.settings.spotify_concurrency  # only the checks already in flight
    world.days_pass(0.5)
    world.run()
    assert len([r for r in world.spotify.requests if r.status == 429]) == banned  # not again


def test_an_invalid_limit_halves_the_page_and_the_size_that_works_is_kept(world: World) -> None:
    band = world.spotify.add_artist("Many Sides")
    for number in range(12):
        world.spotify.add_release(band, f"Side {number}", release_date=f"2026-11-{number + 1:02d}")
    world.add_user("ida@example.test", [band], interval=0)
    world.spotify.set_albums_limit(5)

    world.run()

    assert len(world.digest_names("ida@example.test")[0]) == 12
    refused = [r for r in world.spotify.requests if r.status == 400]
    assert [r.query["limit"] for r in refused] == ["10"]
    with world.database.session() as session:
        assert session.get(State, ALBUMS_LIMIT).value == "5"
    world.spotify.reset_counts()
    world.run()
    assert {r.query.get("limit") for r in world.spotify.requests if "albums" in r.path} == {"5"}
    assert all(r.status == 200 for r in world.spotify.requests)


def test_short_follow_pages_do_not_end_the_follow_sync(world: World) -> None:
    artists = [world.spotify.add_artist(f"Name {n:03d}") for n in range(120)]
    world.spotify.observe_2026()
    user = world.add_user("jay@example.test", artists)

    world.run()

    with world.database.session() as session:
        followed = session.query(Follow).filter_by(user_id=user).count()
    assert followed == 120
    pages = world.spotify.count(r"^/v1/me/following$")
    assert pages > 3  # shorter pages than the 50 asked for, followed to the end


def shelf(world: World, name: str, albums: int = 12, singles: int = 5) -> tuple[str, list[str]]:
    """An artist with more albums than a page holds, and some singles: ids of the singles."""
    band = world.spotify.add_artist(name)
    for number in range(albums):
        world.spotify.add_release(band, f"LP {number}", release_date=f"{1990 + number}-02-01")
    made = [
        world.spotify.add_release(
            band, f"Old single {number}", group="single", release_date=f"{2005 + number}-06-01"
        )
        for number in range(singles)
    ]
    return band, made


def test_a_new_single_is_found_when_an_old_one_vanished_in_the_same_interval(
    world: World,
) -> None:
    band, singles = shelf(world, "Twelve Albums")
    world.add_user("kim@example.test", [band], interval=2)
    world.run()

    world.spotify.remove_release(singles[0])  # a takedown: `total` stays the same...
    world.spotify.add_release(band, "Fresh Single", group="single", release_date="2026-11-26")
    world.spotify.reset_counts()
    world.days_pass(2)
    world.run()

    assert world.digest_names("kim@example.test")[-1] == ["Fresh Single"]
    assert world.spotify.count(r"/albums$") == 1


def test_a_new_single_is_found_when_an_album_vanished_in_the_same_interval(world: World) -> None:
    band, _ = shelf(world, "Twelve Albums")
    world.add_user("kim@example.test", [band], interval=2)
    world.run()
    with world.spotify.lock:
        oldest = min(
            (r for r in world.spotify.catalogue.releases.values() if r.name.startswith("LP")),
            key=lambda r: r.release_date,
        )
    world.spotify.remove_release(oldest.id)
    world.spotify.add_release(band, "Fresh Single", group="single", release_date="2026-11-26")
    world.days_pass(2)
    world.run()

    assert world.digest_names("kim@example.test")[-1] == ["Fresh Single"]


def test_totals_off_by_one_neither_hide_releases_nor_cost_requests(world: World) -> None:
    band, _ = shelf(world, "Twelve Albums")
    world.spotify.observe_2026(total_off_share=0.5)
    world.add_user("lou@example.test", [band], interval=2)
    world.run()
    world.days_pass(2)
    world.run()  # the page finds its place (the first check only estimated it from totals)
    world.spotify.reset_counts()
    for _ in range(4):  # nothing new: one request a check however wrong the total...
        world.days_pass(2)
        world.run()
    assert world.spotify.count(r"/albums$") == 4 + 1  # ...and the albums' top once a week

    world.spotify.add_release(band, "Honest Single", group="single", release_date="2026-12-04")
    world.days_pass(2)
    world.run()
    world.days_pass(2)
    quiet = world.run()

    assert world.digest_names("lou@example.test")[-1] == ["Honest Single"]
    assert quiet.emails_sent == 0


def test_a_0000_album_a_long_title_and_a_blocked_first_link_in_one_run(world: World) -> None:
    long_title = ("Anthems " * 250).strip() + "!"
    artists = [world.spotify.add_artist(f"Crew {n}") for n in range(3)]
    world.spotify.add_release(artists[0], "Undated", release_date="0000")
    world.spotify.add_release(artists[0], "Dated", release_date="2026-11-20")
    world.spotify.add_release(artists[1], long_title, release_date="2026-11-21")
    world.spotify.add_release(artists[2], "Third", group="single", release_date="2026-11-22")
    world.spotify.observe_2026()
    world.add_user("blocked@example.test", artists, account="blocked")
    world.add_user("open@example.test", artists, account="open")
    world.spotify.refuse_with("blocked", NOT_ALLOWLISTED_2026[1], as_json=True)

    first = world.run()
    world.days_pass(14)
    second = world.run()

    assert [sorted(d) for d in world.digest_names("open@example.test")] == [
        sorted(["Dated", long_title, "Third"])
    ]
    assert world.smtp.to("blocked@example.test") == []
    assert first.artists_checked == 3 and second.emails_sent == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_new_album_is_found_however_wrong_the_totals_of_the_first_check(
    world: World, seed: int
) -> None:
    band, _ = shelf(world, "Ten Albums", albums=10, singles=3)
    world.spotify.observe_2026(total_off_share=1.0, seed=seed)
    world.add_user("mo@example.test", [band], interval=2)
    world.run()

    world.spotify.add_release(band, "Late Album", release_date="2026-11-26")
    world.days_pass(2)
    world.run()

    assert world.digest_names("mo@example.test")[-1] == ["Late Album"]


def test_status_names_the_reason_of_a_premium_stop(world: World) -> None:
    from click.testing import CliRunner

    from release_notifier.cli.engine import status_command

    world.add_user("pia@example.test", [world.spotify.add_artist("Any")])
    world.spotify.owner_premium = False
    world.run()

    result = CliRunner().invoke(status_command, env={"DATABASE_URL": world.database.url})

    assert result.exit_code == 0, result.output
    assert "paused until: 2026-11-25 15:00:00 UTC" in result.output.splitlines()
    assert "pause reason: premium: /me/following: 403 the app owner's Spotify Premium lapsed" in (
        result.output.splitlines()
    )


def test_an_error_reading_one_follow_list_skips_that_user_not_the_run(world: World) -> None:
    band = world.spotify.add_artist("Shared Band")
    world.spotify.add_release(band, "For Everyone", release_date="2026-11-21")
    world.add_user("odd@example.test", [band], account="odd")
    world.add_user("fine@example.test", [band], account="fine")
    # the first follow list read answers 200 with an artist that has no id: a parse error
    world.spotify.fail(r"^/v1/me/following$", 200, body={"artists": {"items": [{"name": "?"}]}})

    summary = world.run()

    assert summary.check_errors == 1
    assert any("follow list not refreshed: KeyError" in p for p in summary.problems)
    assert world.digest_names("fine@example.test") == [["For Everyone"]]
