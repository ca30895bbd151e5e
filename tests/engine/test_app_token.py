"""Artist checks on the app's own client-credentials token, over HTTP against the emulator: no
user's link is needed for them, the token is shared and renewed, and a refused one falls back
to a linked user's token."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet

from release_notifier.clock import utcnow
from release_notifier.db.models import State, User
from release_notifier.sandbox.wiring import add_chosen_subscriber
from release_notifier.spotify.app_token import APP_TOKEN_KEY
from tests.engine.conftest import World


def two_subscribers(world: World) -> tuple[str, str]:
    """Two subscribers told at every run (digest interval 0) about one band each; a first run
    reads their follows and records what is already out. Returns the bands' ids."""
    bands = world.spotify.add_artist("Kite Theory"), world.spotify.add_artist("Hollow Pines")
    world.add_user("ana@example.test", [bands[0]], interval=0, account="ana")
    world.add_user("ben@example.test", [bands[1]], interval=0, account="ben")
    world.run()
    return bands


def token_requests(world: World) -> int:
    return sum(1 for r in world.spotify.requests if r.path == "/api/token")


def needing_relink(world: World) -> list[str]:
    with world.database.session() as session:
        users = session.query(User).filter(User.needs_relink_since.is_not(None))
        return sorted(user.email for user in users)


def test_artist_checks_work_after_every_linked_users_token_is_revoked(world: World) -> None:
    bands = two_subscribers(world)
    world.spotify.revoke("ana")
    world.spotify.revoke("ben")
    world.spotify.add_release(bands[0], "Static Bloom", release_date="2026-11-25")
    world.spotify.add_release(bands[1], "Bridges", group="single", release_date="2026-11-25")
    world.clock.shift(timedelta(hours=1))  # follow lists are not due again yet
    world.spotify.reset_counts()

    summary = world.run()

    assert summary.artists_checked == 2 and summary.problems == []
    assert world.digest_names("ana@example.test")[-1] == ["Static Bloom"]
    assert world.digest_names("ben@example.test")[-1] == ["Bridges"]
    assert needing_relink(world) == []  # no user's token was used to check artists


def test_the_app_token_is_shared_between_runs_and_renewed_when_it_expires(world: World) -> None:
    two_subscribers(world)
    after_first = token_requests(world)

    world.clock.shift(timedelta(minutes=50))
    world.run()
    shared = token_requests(world) - after_first
    world.clock.shift(timedelta(minutes=10))  # the hour is nearly up: a new token
    summary = world.run()
    renewed = token_requests(world) - after_first - shared

    assert shared == 0
    assert renewed == 1 and summary.artists_checked == 2 and summary.problems == []


def test_an_app_token_spotify_stopped_taking_mid_run_is_renewed_once(world: World) -> None:
    bands = two_subscribers(world)
    world.spotify.add_release(bands[0], "Static Bloom", release_date="2026-11-25")
    world.clock.shift(timedelta(minutes=5))
    world.spotify.expire_access_tokens()
    before = token_requests(world)

    summary = world.run()

    assert token_requests(world) - before == 1
    assert summary.artists_checked == 2 and summary.problems == []
    assert world.digest_names("ana@example.test")[-1] == ["Static Bloom"]


@pytest.mark.parametrize("refusal", ["token endpoint", "token endpoint outage", "403 on a call"])
def test_a_refused_app_token_falls_back_to_a_linked_users_token_and_says_so(
    world: World, caplog: pytest.LogCaptureFixture, refusal: str
) -> None:
    bands = two_subscribers(world)
    world.spotify.add_release(bands[1], "Bridges", group="single", release_date="2026-11-25")
    world.clock.shift(timedelta(hours=2))  # the first run's app token has expired
    if refusal == "token endpoint":
        world.spotify.refuse_app_token(times=5)
    elif refusal == "token endpoint outage":  # only the app's token is asked for first
        world.spotify.fail(r"^/api/token$", 503, times=1)
    else:
        world.spotify.forbid_app_calls(times=5)

    with caplog.at_level(logging.WARNING, logger="release_notifier"):
        summary = world.run()

    assert summary.artists_checked == 2
    assert world.digest_names("ben@example.test")[-1] == ["Bridges"]
    assert [p for p in summary.problems if "app's Spotify token was refused" in p]
    assert "checking artists with a linked user's" in caplog.text
    assert world.settings.spotipy_client_secret not in caplog.text


def test_a_refused_app_token_and_no_working_link_is_counted_and_the_run_goes_on(
    world: World,
) -> None:
    two_subscribers(world)
    world.spotify.revoke("ana")
    world.spotify.revoke("ben")
    world.clock.shift(timedelta(hours=2))
    world.spotify.refuse_app_token(times=5)

    summary = world.run()

    assert summary.artists_checked == 0 and summary.artists_unchecked == 2
    assert "no working Spotify link to check artists with" in summary.problems
    assert needing_relink(world) == ["ana@example.test", "ben@example.test"]
    assert summary.notices_sent == 2  # the re-link emails still went out


def add_email_only(world: World, email: str, artists: list[str]) -> int:
    return add_chosen_subscriber(
        world.database, world.spotify, email, artists, now=utcnow(), lookback_days=28
    )


def test_an_email_only_subscriber_is_served_with_no_linked_user_at_all(world: World) -> None:
    band = world.spotify.add_artist("Kite Theory")
    world.spotify.add_release(band, "Static Bloom", release_date="2026-11-20")
    add_email_only(world, "only@example.test", [band])

    summary = world.run()

    assert summary.artists_checked == 1 and summary.problems == []
    assert world.digest_names("only@example.test") == [["Static Bloom"]]
    assert world.spotify.count("/v1/me") == 0  # no user's token was used at all


def test_a_refused_app_token_with_only_email_only_subscribers_is_counted(world: World) -> None:
    band = world.spotify.add_artist("Kite Theory")
    world.spotify.add_release(band, "Static Bloom", release_date="2026-11-20")
    add_email_only(world, "only@example.test", [band])
    world.spotify.refuse_app_token(times=1)

    refused = world.run()
    world.clock.shift(timedelta(minutes=15))
    later = world.run()

    assert refused.artists_unchecked == 1
    assert "no working Spotify link to check artists with" in refused.problems
    assert later.artists_checked == 1  # the next run asks for the app token again
    assert world.digest_names("only@example.test") == [["Static Bloom"]]


def test_a_stored_app_token_that_no_longer_decrypts_is_replaced(world: World) -> None:
    two_subscribers(world)
    with world.database.session() as session:
        row = session.get(State, APP_TOKEN_KEY)
        grants = world.spotify.grants.access_tokens.items()
        issued = [token for token, grant in grants if grant.user_id is None]
        assert row is not None and row.value and len(issued) == 1
        assert issued[0] not in row.value  # kept encrypted
        row.value = Fernet(Fernet.generate_key()).encrypt(b"0:old").decode()  # a rotated key
    before = token_requests(world)
    world.clock.shift(timedelta(minutes=5))

    summary = world.run()

    assert token_requests(world) - before == 1
    assert summary.artists_checked == 2 and summary.problems == []
