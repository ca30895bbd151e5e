"""First digests: due once the follow list was read and the artists checked since the subscriber
confirmed, never pushed an interval back, always sent (empty ones say why)."""

from __future__ import annotations

from datetime import datetime, timedelta

from release_notifier.clock import utcnow
from release_notifier.db.models import User
from release_notifier.jobs.run import Run
from release_notifier.mail.send import SmtpSender
from release_notifier.spotify.budget import pause_until
from tests.engine.conftest import World


def text_of(world: World, address: str) -> list[str]:
    return [
        caught.message.get_body(preferencelist=("plain",)).get_content()
        for caught in world.smtp.to(address)
    ]


def next_digest_at(world: World, user_id: int) -> datetime | None:
    with world.database.session() as session:
        user = session.get(User, user_id)
        assert user is not None
        return user.next_digest_at


def test_a_subscriber_who_follows_no_artists_is_told_how_to_follow_them(world: World) -> None:
    world.add_user("zoe@example.test", [])

    world.run()

    [caught] = world.smtp.to("zoe@example.test")
    assert caught.message["Subject"] == "Your first digest: nothing new in the past 4 weeks"
    [text] = text_of(world, "zoe@example.test")
    assert "We found no artists you follow on Spotify" in text
    assert "press Follow" in text
    assert "Your next digest comes on 9 December 2026." in text


def test_an_empty_first_digest_says_how_many_artists_and_when_the_next_comes(
    world: World,
) -> None:
    quiet = [world.spotify.add_artist(f"Quiet {n}") for n in range(2)]
    world.spotify.add_release(quiet[0], "Long Ago", release_date="2026-08-01")
    world.add_user("yan@example.test", quiet)

    world.run()

    [text] = text_of(world, "yan@example.test")
    assert "We found 2 artists you follow on Spotify" in text
    assert "None of them released anything in the past 4 weeks" in text
    assert "Your next digest comes on 9 December 2026" in text


def test_a_confirmation_during_a_quota_pause_keeps_its_first_digest_due(world: World) -> None:
    band = world.spotify.add_artist("After The Pause")
    world.spotify.add_release(band, "Worth Waiting", release_date="2026-11-20")
    pause_until(world.database, utcnow() + timedelta(hours=6), "QUOTA_EXCEEDED")
    user = world.add_user("xia@example.test", [band])
    confirmed = next_digest_at(world, user)

    world.run()  # Spotify is paused: the follow list cannot be read
    assert world.smtp.to("xia@example.test") == []
    assert next_digest_at(world, user) == confirmed  # not pushed two weeks back

    world.clock.shift(timedelta(hours=7))
    world.run()
    assert world.digest_names("xia@example.test") == [["Worth Waiting"]]


def test_a_confirmation_in_the_same_second_a_run_read_its_users_is_not_pushed_back(
    world: World,
) -> None:
    band = world.spotify.add_artist("Same Second")
    world.spotify.add_release(band, "Just In Time", release_date="2026-11-20")
    world.add_user("wes@example.test", [band])
    run = Run(world.settings, world.database, sleep=world.waits.append)
    run.spotify_work()  # the run has read its users and their follow lists...
    late = world.add_user("vic@example.test", [band])  # ...when she confirms, same second
    sender = SmtpSender.from_settings(world.settings)
    try:
        run.mail_work(sender)
    finally:
        sender.close()
    assert world.digest_names("vic@example.test") == []
    assert next_digest_at(world, late) == utcnow()  # still due

    world.run()
    assert world.digest_names("vic@example.test") == [["Just In Time"]]
    assert world.digest_names("wes@example.test") == [["Just In Time"]]


def test_artists_checked_before_a_subscriber_confirmed_are_checked_again_for_the_first_digest(
    world: World,
) -> None:
    band = world.spotify.add_artist("Fresh Check")
    world.spotify.add_release(band, "Known", release_date="2026-11-20")
    world.add_user("uma@example.test", [band])
    world.run()
    world.clock.shift(timedelta(hours=2))
    world.spotify.add_release(band, "Brand New", group="single", release_date="2026-11-25")
    world.add_user("tom@example.test", [band])

    world.run()

    assert world.digest_names("tom@example.test") == [["Brand New", "Known"]]


def test_a_quota_ban_after_the_follow_list_was_read_keeps_the_first_digest_due(
    world: World,
) -> None:
    band = world.spotify.add_artist("Banned Today")
    world.spotify.add_release(band, "Tomorrow Then", release_date="2026-11-20")
    user = world.add_user("sam@example.test", [band])
    world.spotify.set_quota(1)  # the follow list is read, the artist check is refused

    first = world.run()

    assert first.paused_until is not None
    assert world.smtp.to("sam@example.test") == []
    assert next_digest_at(world, user) == utcnow()  # still due, not two weeks on
    world.spotify.set_quota(None)
    world.clock.shift(timedelta(hours=14))
    world.run()
    assert world.digest_names("sam@example.test") == [["Tomorrow Then"]]
