"""Push delivery in a real run (emulator, SMTP server, push receiver over HTTP): each release
once per channel, at the channel's cadence; failures retried, refused or switched off."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from release_notifier.clock import utcnow
from release_notifier.db.models import ChannelDelivery, PushChannel, User
from release_notifier.sandbox.pushcatcher import PushCatcher
from release_notifier.sandbox.wiring import add_push_channel
from tests.engine.conftest import World, world

__all__ = ["world"]


@pytest.fixture
def artist(world: World) -> str:
    return world.spotify.add_artist("Nova Reed")


def release(world: World, artist: str, name: str, group: str = "single") -> None:
    today = utcnow().date().isoformat()
    world.spotify.add_release(artist, name, release_date=today, group=group)


def channel_for(world: World, user_id: int, url: str, cadence: str = "instant") -> int:
    cipher = world.settings.token_cipher
    return add_push_channel(world.database, cipher, user_id, url, cadence=cadence, now=utcnow())


def pushed(pushes: PushCatcher) -> list[str]:
    """Every push's message, one line per release name."""
    return [push.message for push in pushes.pushes]


def names_in(pushes: PushCatcher) -> list[list[str]]:
    """The release names each push carried (its lines 'Artist, en dash, Name')."""
    return [
        [line.split(" \u2013 ", 1)[1] for line in push.message.splitlines() if " \u2013 " in line]
        for push in pushes.pushes
    ]


@pytest.fixture
def ana(world: World, artist: str, pushes: PushCatcher) -> tuple[int, int]:
    """Ana (artists checked daily) with one "as soon as found" channel to the receiver:
    (user id, channel id)."""
    user = world.add_user("ana@example.com", [artist], interval=1)
    return user, channel_for(world, user, pushes.apprise_url)


def channel_row(world: World, channel_id: int) -> PushChannel:
    with world.database.session() as session:
        channel = session.get(PushChannel, channel_id)
        assert channel is not None
        return channel


def test_as_soon_as_found_each_release_is_pushed_once_on_the_run_that_finds_it(
    world: World, artist: str, pushes: PushCatcher, ana: tuple[int, int]
) -> None:
    release(world, artist, "Glasshouse")
    summary = world.run()
    assert names_in(pushes) == [["Glasshouse"]]
    assert pushes.pushes[0].title == "New release: Nova Reed \u2013 Glasshouse"
    assert summary.pushes_sent == 1
    assert world.digest_names("ana@example.com") == [["Glasshouse"]]

    world.days_pass(1)
    world.run()
    assert len(pushes.pushes) == 1  # nothing new: nothing pushed again

    world.days_pass(1)
    release(world, artist, "Second Light")
    release(world, artist, "Third Wave", group="album")
    world.run()
    assert names_in(pushes)[1:] == [["Second Light", "Third Wave"]] or names_in(pushes)[1:] == [
        ["Third Wave", "Second Light"]
    ]
    assert pushes.pushes[1].title == "2 new releases from artists you follow"
    assert sorted(world.digest_names("ana@example.com")[-1]) == ["Second Light", "Third Wave"]


def test_with_my_digest_pushes_what_the_digest_announced_when_it_goes_out(
    world: World, artist: str, pushes: PushCatcher
) -> None:
    user = world.add_user("ana@example.com", [artist], interval=14)
    channel_for(world, user, pushes.apprise_url, cadence="digest")
    release(world, artist, "Glasshouse")
    world.run()
    assert names_in(pushes) == [["Glasshouse"]]  # the first digest went out, and the push

    world.days_pass(2)
    release(world, artist, "Second Light")
    world.run()
    assert len(pushes.pushes) == 1  # found, but the digest is not due

    world.days_pass(13)
    world.run()
    assert world.digest_names("ana@example.com")[-1] == ["Second Light"]
    assert names_in(pushes)[-1] == ["Second Light"]


def test_a_channel_gets_only_releases_found_after_it_was_added_and_of_the_kinds_chosen(
    world: World, artist: str, pushes: PushCatcher
) -> None:
    user = world.add_user("ana@example.com", [artist], interval=1, types="album")
    release(world, artist, "Before The Channel", group="album")
    world.run()
    world.days_pass(1)
    channel_for(world, user, pushes.apprise_url)
    world.days_pass(1)
    release(world, artist, "A Single", group="single")
    release(world, artist, "An Album", group="album")
    world.run()
    assert names_in(pushes) == [["An Album"]]


def test_a_paused_subscriber_gets_no_push_until_resumed(
    world: World, artist: str, pushes: PushCatcher, ana: tuple[int, int]
) -> None:
    user, _channel_id = ana
    with world.database.session() as session:
        session.get(User, user).paused = True  # type: ignore[union-attr]
    release(world, artist, "Glasshouse")
    world.run()
    assert pushes.pushes == []
    with world.database.session() as session:
        session.get(User, user).paused = False  # type: ignore[union-attr]
    world.days_pass(1)
    world.run()
    assert names_in(pushes) == [["Glasshouse"]]


def test_a_temporary_failure_is_pushed_again_later_and_nothing_is_lost_or_repeated(
    world: World, artist: str, pushes: PushCatcher, ana: tuple[int, int]
) -> None:
    _user, channel_id = ana
    release(world, artist, "Glasshouse")
    pushes.answer(503)
    summary = world.run()
    assert pushes.pushes == [] and pushes.attempts == 1
    assert any("503" in problem for problem in summary.problems)
    assert channel_row(world, channel_id).last_error is not None

    pushes.answer(200)
    world.days_pass(1)
    release(world, artist, "Second Light")
    world.run()
    world.days_pass(1)
    world.run()
    assert sorted(name for names in names_in(pushes) for name in names) == [
        "Glasshouse",
        "Second Light",
    ]
    channel = channel_row(world, channel_id)
    assert channel.last_error is None and channel.disabled_at is None


def test_a_refused_message_is_settled_and_the_channel_goes_on(
    world: World, artist: str, pushes: PushCatcher, ana: tuple[int, int]
) -> None:
    _user, channel_id = ana
    release(world, artist, "Glasshouse")
    pushes.answer(400)
    world.run()
    pushes.answer(200)
    world.days_pass(1)
    release(world, artist, "Second Light")
    world.run()
    assert names_in(pushes) == [["Second Light"]]
    assert channel_row(world, channel_id).disabled_at is None
    with world.database.session() as session:
        statuses = dict(
            session.execute(select(ChannelDelivery.status, ChannelDelivery.attempts)).all()
        )
    assert statuses == {"refused": 1, "sent": 1}


def test_a_channel_that_refuses_for_good_is_switched_off_and_the_subscriber_told_by_email(
    world: World, artist: str, pushes: PushCatcher, ana: tuple[int, int]
) -> None:
    _user, channel_id = ana
    release(world, artist, "Glasshouse")
    pushes.answer(410)
    summary = world.run()
    channel = channel_row(world, channel_id)
    assert channel.disabled_at is not None
    assert channel.disabled_reason == "the service answered 410: the address or its access is gone"
    subjects = [str(m.message["Subject"]) for m in world.smtp.to("ana@example.com")]
    assert "Your push channel JSON · json://127.0.0.1 was switched off" in subjects
    assert any("Glasshouse" in names for names in world.digest_names("ana@example.com"))
    assert summary.pushes_sent == 0

    world.days_pass(1)
    release(world, artist, "Second Light")
    world.run()
    assert pushes.attempts == 1  # a switched-off channel is never tried again
    assert subjects.count("Your push channel JSON · json://127.0.0.1 was switched off") == 1


def test_temporary_failures_for_a_week_switch_the_channel_off(
    world: World, artist: str, pushes: PushCatcher, ana: tuple[int, int]
) -> None:
    _user, channel_id = ana
    release(world, artist, "Glasshouse")
    pushes.answer(503)
    world.run()
    world.days_pass(6)
    world.run()
    assert channel_row(world, channel_id).disabled_at is None
    world.days_pass(1.1)
    world.run()
    channel = channel_row(world, channel_id)
    assert channel.disabled_at is not None
    assert channel.disabled_reason.startswith("it kept failing for 7 days (last: ")
