"""Chosen artists (issue 16): email-only subscribers get the artists they added, a linked
subscriber's muted artists stop reaching them, and follow sync never touches these choices."""

from __future__ import annotations

from sqlalchemy import select

from release_notifier.clock import utcnow
from release_notifier.db.models import ADD, MUTE, ArtistChoice, User
from release_notifier.releases.choices import Choice, choose_artist, drop_artist, remember_artist
from release_notifier.sandbox.wiring import add_chosen_subscriber
from tests.engine.conftest import World


def add_email_only(world: World, email: str, artists: list[str]) -> int:
    return add_chosen_subscriber(
        world.database, world.spotify, email, artists, now=utcnow(), lookback_days=28
    )


def choices_of(world: World, user_id: int) -> dict[str, str]:
    with world.database.session() as session:
        rows = session.scalars(select(ArtistChoice).where(ArtistChoice.user_id == user_id))
        return {row.artist_id: row.kind for row in rows}


def change(world: World, user_id: int, artist_id: str, *, keep: bool) -> Choice | bool:
    """Choose (keep) or drop an artist for a subscriber, as the settings page does."""
    with world.database.session() as session:
        user = session.get(User, user_id)
        assert user is not None
        if keep:
            remember_artist(session, artist_id, "Given Name", None)
            return choose_artist(session, user, artist_id, utcnow(), 28)
        return drop_artist(session, user, artist_id, utcnow())


def test_an_email_only_subscriber_gets_their_chosen_artists_once_each(world: World) -> None:
    chosen = world.spotify.add_artist("Nova Reed")
    other = world.spotify.add_artist("Not Chosen")
    world.spotify.add_release(chosen, "Chosen Album", release_date="2026-11-20")
    world.spotify.add_release(other, "Unwanted", release_date="2026-11-20")
    world.add_user("linked@example.test", [other])
    add_email_only(world, "only@example.test", [chosen])

    world.run()
    world.days_pass(14)
    world.spotify.add_release(chosen, "Chosen Single", group="single", release_date="2026-12-08")
    world.run()
    world.days_pass(14)
    world.run()

    assert world.digest_names("only@example.test") == [["Chosen Album"], ["Chosen Single"]]


def test_an_email_only_subscriber_with_quiet_artists_is_told_what_they_chose(
    world: World,
) -> None:
    quiet = world.spotify.add_artist("Quiet Chosen")
    world.add_user("linked@example.test", [])
    add_email_only(world, "quiet@example.test", [quiet])

    world.run()

    [caught] = world.smtp.to("quiet@example.test")
    text = caught.message.get_body(preferencelist=("plain",)).get_content()
    assert "You chose 1 artist." in text


def test_a_muted_artist_stops_reaching_a_linked_subscriber_and_unmuting_brings_it_back(
    world: World,
) -> None:
    loud, kept = world.spotify.add_artist("Too Loud"), world.spotify.add_artist("Kept")
    world.spotify.add_release(loud, "Loud One", release_date="2026-11-20")
    world.spotify.add_release(kept, "Kept One", release_date="2026-11-20")
    user = world.add_user("mia@example.test", [loud, kept])
    world.run()
    assert world.digest_names("mia@example.test") == [["Kept One", "Loud One"]]

    assert change(world, user, loud, keep=False) is True
    world.spotify.add_release(loud, "Loud Two", group="single", release_date="2026-11-28")
    world.spotify.add_release(kept, "Kept Two", group="single", release_date="2026-11-28")
    world.days_pass(14)
    world.run()
    assert world.digest_names("mia@example.test")[1] == ["Kept Two"]
    assert choices_of(world, user) == {loud: MUTE}

    assert change(world, user, loud, keep=True) is Choice.UNMUTED
    world.days_pass(14)
    world.run()
    assert world.digest_names("mia@example.test")[2] == ["Loud Two"]
    assert choices_of(world, user) == {}


def test_muting_keeps_a_pending_collaboration_another_followed_artist_has(world: World) -> None:
    muted, kept = world.spotify.add_artist("Muted Half"), world.spotify.add_artist("Kept Half")
    user = world.add_user("duo@example.test", [muted, kept])
    world.run()  # the empty first digest
    world.spotify.add_release([muted, kept], "Together", release_date="2026-11-24")
    world.spotify.add_release(muted, "Alone", release_date="2026-11-24")
    world.days_pass(13)
    world.run()  # the check before the digest records both as pending

    change(world, user, muted, keep=False)
    world.days_pass(1)
    world.run()

    assert world.digest_names("duo@example.test")[1:] == [["Together"]]


def test_follow_sync_keeps_added_and_muted_artists(world: World) -> None:
    followed, extra = world.spotify.add_artist("Followed"), world.spotify.add_artist("Extra")
    world.spotify.add_release(extra, "Extra Album", release_date="2026-11-20")
    user = world.add_user("lin@example.test", [followed], account="lin")
    world.run()  # reads the follow list: an empty first digest
    assert change(world, user, extra, keep=True) is Choice.ADDED
    assert change(world, user, followed, keep=False) is True
    world.spotify.unfollow("lin", followed)
    world.days_pass(14)

    world.run()  # reads the follow list again

    assert choices_of(world, user) == {extra: ADD, followed: MUTE}
    assert world.digest_names("lin@example.test")[1:] == [["Extra Album"]]


def test_choosing_an_artist_one_follows_changes_nothing(world: World) -> None:
    band = world.spotify.add_artist("Already Followed")
    user = world.add_user("ada@example.test", [band])
    world.run()  # reads the follow list

    assert change(world, user, band, keep=True) is Choice.ALREADY
    assert choices_of(world, user) == {}


def test_an_email_only_subscriber_never_gets_spotify_link_notices(world: World) -> None:
    band = world.spotify.add_artist("Long Runner")
    world.add_user("linked@example.test", [])
    add_email_only(world, "free@example.test", [band])

    for _ in range(14):  # half a year and more of fortnightly runs: past any token's expiry
        world.run()
        world.days_pass(14)

    subjects = [str(caught.message["Subject"]) for caught in world.smtp.to("free@example.test")]
    assert subjects and not [subject for subject in subjects if "Spotify" in subject]
