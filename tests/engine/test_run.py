"""`release-notifier run` end to end: emulator over HTTP, real SMTP, real database."""

from __future__ import annotations

import pytest

from release_notifier.db.models import Release
from tests.engine.conftest import World


def test_initial_digest_holds_the_past_four_weeks_grouped_by_artist(world: World) -> None:
    spotify = world.spotify
    band = spotify.add_artist("The Lanterns")
    singer = spotify.add_artist("Mira Vale")
    spotify.add_release(band, "Harbour Lights", release_date="2026-11-20")
    spotify.add_release(singer, "Glass Tide", group="single", release_date="2026-11-01")
    spotify.add_release(band, "Old Maps", release_date="2026-09-01")  # older than 28 days
    world.add_user("ana@example.test", [band, singer])

    summary = world.run()

    # grouped by artist in name order: Mira Vale, then The Lanterns
    assert world.digest_names("ana@example.test") == [["Glass Tide", "Harbour Lights"]]
    assert summary.emails_sent == 1
    message = world.smtp.to("ana@example.test")[0].message
    assert message["List-Unsubscribe"].strip().startswith("<http://127.0.0.1:5000/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"] and message["Date"]
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "The Lanterns" in html and "Mira Vale" in html
    assert "https://open.spotify.com/album/" in html


def test_second_run_sends_only_what_is_new_and_third_run_sends_nothing(world: World) -> None:
    band = world.spotify.add_artist("Northbound")
    world.spotify.add_release(band, "First Light", release_date="2026-11-10")
    world.add_user("ben@example.test", [band])
    world.run()

    world.days_pass(7)
    world.spotify.add_release(band, "Second Wind", group="single", release_date="2026-12-01")
    world.days_pass(7)
    world.run()
    world.days_pass(14)
    third = world.run()

    assert world.digest_names("ben@example.test") == [["First Light"], ["Second Wind"]]
    assert third.emails_sent == 0


def test_twins_and_collaborations_appear_once(world: World) -> None:
    spotify = world.spotify
    one = spotify.add_artist("Kite Theory")
    two = spotify.add_artist("Hollow Pines")
    spotify.add_release(
        one, "Static Bloom", release_date="2026-11-18", total_tracks=9, explicit=True
    )
    spotify.add_release(one, "Static Bloom", release_date="2026-11-18", total_tracks=9)
    spotify.add_release([one, two], "Bridges", group="single", release_date="2026-11-19")
    user = world.add_user("cleo@example.test", [one, two])

    world.run()

    assert sorted(world.digest_names("cleo@example.test")[0]) == ["Bridges", "Static Bloom"]
    assert sorted(world.ledger(user).values()) == ["announced", "announced", "duplicate"]


def test_a_twin_appearing_later_is_never_announced_again(world: World) -> None:
    band = world.spotify.add_artist("Echo Harbor")
    world.spotify.add_release(band, "Tidewater", release_date="2026-11-18", total_tracks=8)
    world.add_user("dan@example.test", [band])
    world.run()

    world.spotify.add_release(band, "Tidewater (Clean)", release_date="2026-11-18", total_tracks=8)
    world.days_pass(14)
    world.run()

    assert world.digest_names("dan@example.test") == [["Tidewater"]]


def test_back_catalogue_added_later_is_recorded_not_announced(world: World) -> None:
    band = world.spotify.add_artist("Velvet Static")
    world.spotify.add_release(band, "Now", release_date="2026-11-20")
    user = world.add_user("eve@example.test", [band])
    world.run()

    old = world.spotify.add_release(band, "Lost Tapes 1999", release_date="2026-10-01")
    world.spotify.add_release(band, "Fresh", group="single", release_date="2026-12-05")
    world.days_pass(14)
    world.run()

    assert world.digest_names("eve@example.test") == [["Now"], ["Fresh"]]
    assert old not in world.ledger(user)  # never pending, so never in a digest
    with world.database.session() as session:
        assert session.get(Release, old) is not None  # but recorded: known from now on


def test_year_and_month_precision_are_ranges(world: World) -> None:
    band = world.spotify.add_artist("Paper Suns")
    world.spotify.add_release(band, "This Year Somehow", release_date="2026", precision="year")
    world.spotify.add_release(band, "This Month", release_date="2026-11", precision="month")
    world.spotify.add_release(band, "Last Year", release_date="2025", precision="year")
    world.spotify.add_release(band, "Last Summer", release_date="2026-07", precision="month")
    world.add_user("fay@example.test", [band])

    world.run()

    assert sorted(world.digest_names("fay@example.test")[0]) == ["This Month", "This Year Somehow"]
    text = world.smtp.messages[0].message.get_body(preferencelist=("plain",)).get_content()
    assert "November 2026" in text


def test_an_artist_with_45_releases_is_paged_and_announces_only_recent_ones(world: World) -> None:
    prolific = world.spotify.add_artist("Endless Tape")
    for number in range(44):
        year = 1980 + number
        world.spotify.add_release(prolific, f"Archive {number}", release_date=f"{year}-05-01")
    world.spotify.add_release(prolific, "Brand New", group="single", release_date="2026-11-22")
    world.add_user("gus@example.test", [prolific])

    summary = world.run()

    assert world.digest_names("gus@example.test") == [["Brand New"]]
    # detection page + one album page + one single page: the archive is not crawled to the end
    assert summary.requests <= 1 + 3 + 1 + 1


def test_an_artist_shared_by_users_is_fetched_once_per_run(world: World) -> None:
    shared = world.spotify.add_artist("Common Ground")
    world.spotify.add_release(shared, "Together", release_date="2026-11-21")
    for name in ("h1", "h2", "h3"):
        world.add_user(f"{name}@example.test", [shared])

    world.run()

    assert world.spotify.count(rf"/v1/artists/{shared}/albums") == 1
    assert all(
        world.digest_names(f"{n}@example.test") == [["Together"]] for n in ("h1", "h2", "h3")
    )


def test_a_short_429_is_waited_out(world: World) -> None:
    band = world.spotify.add_artist("Slow Lane")
    world.spotify.add_release(band, "Patience", release_date="2026-11-21")
    world.add_user("ivy@example.test", [band])
    world.spotify.rate_limit(2, retry_after=3)

    summary = world.run()

    assert world.waits[:2] == [pytest.approx(3.0, abs=0.2)] * 2
    assert summary.paused_until is None
    assert world.digest_names("ivy@example.test") == [["Patience"]]


def test_quota_exceeded_stops_the_run_and_a_later_run_finishes(world: World) -> None:
    artists = [world.spotify.add_artist(f"Artist {n}") for n in range(6)]
    for n, artist in enumerate(artists):
        world.spotify.add_release(artist, f"Song {n}", group="single", release_date="2026-11-20")
    world.add_user("jo@example.test", artists, interval=0)
    world.spotify.set_quota(3, retry_after=48925)

    first = world.run()

    assert first.paused_until is not None
    assert max(world.waits, default=0) < 5  # never slept on the ban
    assert first.artists_unchecked > 0
    sent_first = sum(len(d) for d in world.digest_names("jo@example.test"))
    assert sent_first < 6

    world.spotify.set_quota(None)
    world.days_pass(0.6)
    second = world.run()

    assert second.paused_until is None
    names = sorted(n for d in world.digest_names("jo@example.test") for n in d)
    assert names == sorted(f"Song {n}" for n in range(6))


def test_a_5xx_artist_is_skipped_and_others_still_arrive(world: World) -> None:
    good = world.spotify.add_artist("Steady")
    bad = world.spotify.add_artist("Flaky")
    world.spotify.add_release(good, "Works", release_date="2026-11-21")
    world.spotify.add_release(bad, "Later", release_date="2026-11-21")
    world.add_user("kai@example.test", [good, bad], interval=0)
    world.spotify.fail(rf"/v1/artists/{bad}/albums", 503, times=3)  # one run's retries

    first = world.run()

    assert world.digest_names("kai@example.test") == [["Works"]]
    assert any("skipped" in problem for problem in first.problems)
    world.run()
    assert world.digest_names("kai@example.test") == [["Works"], ["Later"]]


def test_invalid_grant_marks_the_user_and_is_never_retried(world: World) -> None:
    band = world.spotify.add_artist("Gone Quiet")
    world.spotify.add_release(band, "Unheard", release_date="2026-11-21")
    user = world.add_user("lea@example.test", [band])
    world.spotify.revoke(world_account(world, user))

    world.run()
    world.run()

    from release_notifier.db.models import User

    with world.database.session() as session:
        row = session.get(User, user)
        assert row.needs_relink_since is not None and row.refresh_token_enc is None
    token_calls = [r for r in world.spotify.requests if r.path == "/api/token"]
    assert len(token_calls) == 1  # the second run did not try the dead token again
    relinks = [m for m in world.smtp.to("lea@example.test") if "/auth/relink/" in m.raw.decode()]
    assert len(relinks) == 1


def world_account(world: World, user_id: int) -> str:
    from release_notifier.db.models import User

    with world.database.session() as session:
        account = session.get(User, user_id).spotify_account_id
        assert account
        return account


def test_a_digest_claimed_but_never_sent_is_sent_by_the_next_run(world: World) -> None:
    from release_notifier.digests.delivery import claim_digests

    band = world.spotify.add_artist("Half Way")
    world.spotify.add_release(band, "Interrupted", release_date="2026-11-21")
    user = world.add_user("max@example.test", [band])
    world.run()  # the initial digest
    world.spotify.add_release(band, "Resumed", group="single", release_date="2026-11-30")
    world.days_pass(14)
    # A run that died right after claiming: its lease is gone, its claim stays.
    from release_notifier.jobs.run import Run

    crashed = Run(world.settings, world.database, sleep=world.waits.append)
    crashed.spotify_work()
    assert claim_digests(world.database, world.settings, [user], crashed.now)
    assert world.digest_names("max@example.test") == [["Interrupted"]]

    world.run()

    assert world.digest_names("max@example.test") == [["Interrupted"], ["Resumed"]]


def test_a_digest_another_live_run_claimed_is_resent_only_once_its_claim_expired(
    world: World,
) -> None:
    from release_notifier.digests.delivery import CLAIM, claim_digests
    from release_notifier.jobs.run import Run

    band = world.spotify.add_artist("Other Hands")
    world.spotify.add_release(band, "Theirs", release_date="2026-11-21")
    user = world.add_user("liv@example.test", [band])
    other = Run(world.settings, world.database, sleep=world.waits.append)
    other.spotify_work()
    # a run on another host (alive as far as this one can tell) claimed it and has not sent it
    assert claim_digests(world.database, world.settings, [user], other.now, "elsewhere|4242|ab")

    world.run()
    assert world.digest_names("liv@example.test") == []  # its claim still stands

    world.clock.shift(CLAIM)
    world.run()
    world.run()
    assert world.digest_names("liv@example.test") == [["Theirs"]]  # once, after the expiry


def test_a_pre_release_is_announced_once_with_its_day(world: World) -> None:
    band = world.spotify.add_artist("Soon Enough")
    world.spotify.add_release(band, "Next Friday", group="single", release_date="2026-12-04")
    world.add_user("ned@example.test", [band])

    world.run()
    world.days_pass(14)
    world.run()

    assert world.digest_names("ned@example.test") == [["Next Friday"]]
    text = world.smtp.messages[0].message.get_body(preferencelist=("plain",)).get_content()
    assert "Out on 4 December 2026" in text


def test_the_subject_counts_what_is_out_and_the_summary_names_the_period(world: World) -> None:
    band = world.spotify.add_artist("Soon Enough")
    world.spotify.add_release(band, "Out Now", release_date="2026-11-20")
    world.spotify.add_release(band, "Next Friday", group="single", release_date="2026-12-04")
    world.add_user("ned@example.test", [band])
    world.run()
    world.days_pass(14)
    world.spotify.add_release(band, "Winter", group="single", release_date="2026-12-08")
    world.run()

    first, second = (caught.message for caught in world.smtp.to("ned@example.test"))
    assert first["Subject"] == "Your first digest: 1 release from the past 4 weeks"
    first_text = first.get_body(preferencelist=("plain",)).get_content()
    assert "1 release from the past 4 weeks (since 28 October 2026) and 1 coming soon" in first_text
    assert second["Subject"] == "1 new release from artists you follow"
    second_text = second.get_body(preferencelist=("plain",)).get_content()
    assert "1 new release since your last digest on 25 November 2026" in second_text


def test_compilations_and_appears_on_reach_only_users_who_want_them(world: World) -> None:
    band = world.spotify.add_artist("Guest Star")
    world.spotify.add_release(band, "Own Album", release_date="2026-11-20")
    world.spotify.add_release(
        band, "Summer Hits 2026", group="appears_on", release_date="2026-11-21"
    )
    world.add_user("ola@example.test", [band])
    world.add_user("pia@example.test", [band], types="album,single,appears_on")

    world.run()

    assert world.digest_names("ola@example.test") == [["Own Album"]]
    assert sorted(world.digest_names("pia@example.test")[0]) == ["Own Album", "Summer Hits 2026"]


def test_digests_go_out_over_smtp_connections_connections_each_once(world: World) -> None:
    world.spotify.user_cap = None  # an extended-quota app: more than 5 listeners
    band = world.spotify.add_artist("Many Hands")
    world.spotify.add_release(band, "Shared Stage", release_date="2026-11-20")
    addresses = [f"fan{n}@example.test" for n in range(24)]
    for address in addresses:
        world.add_user(address, [band])
    world.settings = world.settings.model_copy(update={"smtp_connections": 2})

    summary = world.run()

    assert summary.emails_sent == 24
    assert all(world.digest_names(address) == [["Shared Stage"]] for address in addresses)
    assert world.smtp.connections == 2


def test_one_smtp_connection_when_smtp_connections_is_1(world: World) -> None:
    world.spotify.user_cap = None  # an extended-quota app: more than 5 listeners
    band = world.spotify.add_artist("Single File")
    world.spotify.add_release(band, "In Line", release_date="2026-11-20")
    for n in range(6):
        world.add_user(f"queue{n}@example.test", [band])
    world.settings = world.settings.model_copy(update={"smtp_connections": 1})

    assert world.run().emails_sent == 6
    assert world.smtp.connections == 1


def test_a_failing_mail_server_stops_claiming_more_digests(world: World) -> None:
    from release_notifier.clock import utcnow
    from release_notifier.db.models import Digest, User

    world.spotify.user_cap = None  # an extended-quota app: more than 5 listeners
    band = world.spotify.add_artist("Quiet Wire")
    world.spotify.add_release(band, "Static", release_date="2026-11-20")
    for n in range(250):  # more than one claim batch
        world.add_user(f"wait{n}@example.test", [band])
    # a budget whose hourly share covers 250 follow-list reads and then the artist
    world.settings = world.settings.model_copy(update={"spotify_daily_request_budget": 100_000})
    world.smtp.fail_next(10_000)

    summary = world.run()

    assert summary.emails_sent == 0
    assert "mail server kept failing: the rest wait for next run" in summary.problems
    with world.database.session() as session:
        digests = session.query(Digest).count()
        waiting = session.query(Digest).filter_by(status="claimed").count()
        due_again = session.query(User).filter(User.next_digest_at <= utcnow()).count()
    assert digests <= 200  # the second batch of users was never claimed
    assert due_again + waiting == 250  # due again, or claimed and resent first next run


def test_a_digest_refused_as_spam_keeps_the_address_and_its_releases_wait_for_the_next(
    world: World,
) -> None:
    band = world.spotify.add_artist("Filter Bubble")
    flagged = world.spotify.add_release(band, "Flagged", release_date="2026-11-20")
    user = world.add_user("cleo@example.test", [band])
    world.smtp.fail_next(1, code=554, text="5.7.1 message refused as spam")

    refused = world.run()
    world.days_pass(1)
    next_day = world.run()

    assert refused.emails_sent == 0 and next_day.emails_sent == 0  # not retried at once
    assert any("digest refused" in problem for problem in refused.problems)
    assert world.ledger(user) == {flagged: "pending"}
    world.days_pass(13)
    world.spotify.add_release(band, "Cleared", group="single", release_date="2026-12-08")
    world.run()
    assert world.digest_names("cleo@example.test") == [["Cleared", "Flagged"]]


def test_a_user_who_paused_after_the_run_began_is_not_claimed(world: World) -> None:
    from release_notifier.clock import utcnow
    from release_notifier.db.models import User
    from release_notifier.digests.delivery import claim_digests, due_user_ids
    from release_notifier.jobs.run import Run

    band = world.spotify.add_artist("Late Change")
    record = world.spotify.add_release(band, "Second Thoughts", release_date="2026-11-20")
    staying = world.add_user("stays@example.test", [band])
    leaving = world.add_user("pauses@example.test", [band])
    Run(world.settings, world.database, sleep=world.waits.append).spotify_work()
    due = due_user_ids(world.database, utcnow())
    with world.database.session() as session:  # meanwhile, on the settings page
        session.get(User, leaving).paused = True

    claimed = claim_digests(world.database, world.settings, due, utcnow())

    assert sorted(due) == sorted([staying, leaving])
    assert len(claimed) == 1
    assert world.ledger(staying) == {record: "claimed"}
    assert world.ledger(leaving) == {record: "pending"}


def test_the_link_expiry_reminder_comes_once_inside_its_window_then_the_relink_email(
    world: World,
) -> None:
    band = world.spotify.add_artist("Long Haul")
    world.add_user("eli@example.test", [band])  # authorized now; the token dies after 183 days

    def subjects() -> list[str]:
        # a long subject is folded onto its own line; unfolding leaves the space before it
        return [m.message["Subject"].strip() for m in world.smtp.to("eli@example.test")]

    world.days_pass(183 - 14 - 1)  # a day before the 14-day reminder window
    world.run()
    assert not [s for s in subjects() if s.startswith("Reconnect Spotify before")]
    world.days_pass(2)  # inside the window
    world.run()
    world.days_pass(1)
    world.run()
    reminders = [s for s in subjects() if s.startswith("Reconnect Spotify before")]
    assert reminders == ["Reconnect Spotify before 27 May 2027 to keep getting new releases"]
    world.days_pass(14)  # past the expiry: Spotify refuses the token
    world.run()
    world.run()
    assert (
        subjects().count(
            "Your Spotify link stopped working: reconnect to keep getting new releases"
        )
        == 1
    )


def test_linked_users_are_read_a_page_at_a_time_and_all_of_them(world: World) -> None:
    from release_notifier.subscribers import count_linked_users, linked_user_pages

    band = world.spotify.add_artist("Paged")
    ids = [world.add_user(f"page{n}@example.test", [band]) for n in range(5)]

    pages = [[user.id for user in page] for page in linked_user_pages(world.database, size=2)]

    assert pages == [sorted(ids)[:2], sorted(ids)[2:4], sorted(ids)[4:]]
    assert count_linked_users(world.database) == 5
