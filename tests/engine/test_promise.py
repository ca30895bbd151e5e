"""The promise the request budget keeps: every artist checked before each digest, or not."""

from __future__ import annotations

from datetime import datetime, timedelta

import time_machine
from click.testing import CliRunner

from release_notifier.cli.engine import status_command
from release_notifier.db import Database
from release_notifier.db.models import ADD, MUTE, Artist, ArtistChoice, Follow, User
from release_notifier.jobs.promise import EVERY_ARTIST, current_promise, promise_after_adding
from release_notifier.jobs.schedule import FollowListReads, follow_list_reads, plan_checks
from release_notifier.settings import Settings, load_settings

NOW = datetime(2026, 11, 25, 9, 0, 0)


def budget_settings(database: Database, budget: int, interval: float = 14) -> Settings:
    return load_settings(
        database_url=database.url,
        spotify_daily_request_budget=budget,
        digest_interval_days=interval,
    )


def add_subscriber(
    database: Database,
    email: str,
    follows: list[str],
    checked: dict[str, datetime | None] | None = None,
    *,
    chosen: list[str] | None = None,
    **fields: object,
) -> None:
    """A confirmed subscriber following `follows` on Spotify (linked; email-only when it
    follows none and `chosen` is given) and adding `chosen` here; artists are created as
    needed, with the given last check, unchecked otherwise."""
    checked = checked or {}
    chosen = chosen or []
    if follows or not chosen:
        fields.setdefault("spotify_account_id", f"acct-{email}")
        fields.setdefault("refresh_token_enc", b"sealed")
    with database.session() as session:
        user = User(
            email=email,
            created_at=NOW,
            confirmed_at=NOW,
            next_digest_at=NOW + timedelta(days=7),
            last_digest_at=NOW - timedelta(days=7),
            **fields,
        )
        session.add(user)
        for artist_id in follows + chosen:
            if session.get(Artist, artist_id) is None:
                session.add(Artist(id=artist_id, name=artist_id, checked_at=checked.get(artist_id)))
        session.flush()
        session.add_all(Follow(user_id=user.id, artist_id=a, since=NOW) for a in follows)
        session.add_all(
            ArtistChoice(user_id=user.id, artist_id=a, kind=ADD, created_at=NOW) for a in chosen
        )


def names(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n:04d}" for n in range(count)]


def test_adding_more_artists_than_the_room_left_breaks_the_promise(database: Database) -> None:
    settings = budget_settings(database, budget=100)
    followed = names("old", 30)
    add_subscriber(database, "ada@example.test", followed)

    now = current_promise(database, settings, NOW)
    fits = promise_after_adding(database, settings, names("new", now.room), now=NOW)
    too_many = promise_after_adding(database, settings, names("new", now.room + 1), now=NOW)
    with_known = promise_after_adding(
        database, settings, followed + names("new", now.room), now=NOW
    )

    assert now.kept and now.statement() == EVERY_ARTIST and now.for_subscriber() is None
    assert (now.unique_artists, now.checks_needed) == (30, 30)
    assert 0 < now.room < now.checks_allowed
    assert fits.kept and fits.room == 0
    assert not too_many.kept
    assert too_many.for_subscriber() is not None
    assert with_known.kept and with_known.unique_artists == 30 + now.room  # known count once


def test_unique_artists_are_the_follows_not_muted_and_the_chosen_each_counted_once(
    database: Database,
) -> None:
    settings = budget_settings(database, budget=100)
    add_subscriber(database, "lu@example.test", names("a", 10))
    add_subscriber(database, "mo@example.test", [], chosen=names("a", 15)[5:])  # a0005..a0014
    with database.session() as session:  # lu mutes a0000 and a0009 (mo chose a0009)
        session.add_all(
            ArtistChoice(user_id=1, artist_id=a, kind=MUTE, created_at=NOW)
            for a in ("a0000", "a0009")
        )

    promise = current_promise(database, settings, NOW)
    planned = {due.artist_id for due in plan_checks(database, settings, NOW)}

    assert promise.unique_artists == promise.checks_needed == 14
    assert planned == set(names("a", 15)) - {"a0000"}


def test_artists_of_subscribers_on_shorter_intervals_need_more_checks(database: Database) -> None:
    settings = budget_settings(database, budget=100)
    add_subscriber(database, "bo@example.test", names("a", 30))
    add_subscriber(database, "cy@example.test", names("a", 10), digest_interval_days=7.0)
    add_subscriber(database, "di@example.test", names("b", 2), digest_interval_days=0.0)
    add_subscriber(database, "ed@example.test", names("c", 50), unsubscribed_at=NOW)

    promise = current_promise(database, settings, NOW)
    weekly = promise_after_adding(database, settings, names("a", 30), interval_days=7, now=NOW)

    # per 14-day interval: 20 artists once, 10 weekly twice, 2 every-run ones daily (14 times);
    # the unsubscribed subscriber's artists are not checked at all
    assert promise.unique_artists == 32
    assert promise.checks_needed == 20 + 10 * 2 + 2 * 14
    assert weekly.checks_needed == 30 * 2 + 2 * 14


def test_status_warns_when_the_budget_cannot_check_every_artist_before_each_digest(
    database: Database,
) -> None:
    artists = names("x", 200)
    checked: dict[str, datetime | None] = {a: NOW - timedelta(days=3) for a in artists[:50]}
    checked.update({a: NOW - timedelta(days=20) for a in artists[50:150]})  # 50 never checked
    add_subscriber(database, "fay@example.test", artists, checked)
    env = {
        "DATABASE_URL": database.url,
        "SPOTIFY_DAILY_REQUEST_BUDGET": "10",
        "DIGEST_INTERVAL_DAYS": "14",
    }

    with time_machine.travel(NOW, tick=False):
        result = CliRunner().invoke(status_command, env=env)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # 80% of 10 requests a day, less 4 follow pages a fortnight, at 1.1 requests a check:
    # (8 - 4/14) / 1.1 * 14 = 98.2 checks a fortnight for 200 artists
    assert "unique artists: 200" in lines
    assert "artist checks per 14-day interval: 98 allowed by the budget, 200 needed" in lines
    assert (
        "promise: about 49% of the artists checked before each digest "
        "(the budget covers 98 of 200 checks)"
    ) in lines
    assert "checked within their last interval: 25% of the artists" in lines
    # (200 / 14 * 1.1 + 4 / 14) / 0.8 = 20 requests a day; 200 / 7.01 a day = 29 days
    assert (
        "warning: the request budget cannot check every artist before each digest; it would "
        "take SPOTIFY_DAILY_REQUEST_BUDGET=20 (if Spotify's quota allows), or a digest interval "
        "of 29 days, or at most 98 artists"
    ) in lines
    settings = budget_settings(database, budget=20)
    assert current_promise(database, settings, NOW).kept  # what it takes is enough


def test_status_states_the_promise_and_the_room_left_when_the_budget_covers_everyone(
    database: Database,
) -> None:
    artists = names("y", 40)
    add_subscriber(database, "gus@example.test", artists, dict.fromkeys(artists, NOW))
    env = {"DATABASE_URL": database.url, "DIGEST_INTERVAL_DAYS": "14"}

    with time_machine.travel(NOW, tick=False):
        result = CliRunner().invoke(status_command, env=env)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # the default budget: (400 - 1/14) / 1.1 * 14 = 5,090 checks a fortnight
    assert "artist checks per 14-day interval: 5090 allowed by the budget, 40 needed" in lines
    assert f"promise: {EVERY_ARTIST}" in lines
    assert "checked within their last interval: 100% of the artists" in lines
    assert "room for: 5050 more artists" in lines
    assert not any(line.startswith("warning:") for line in lines)


def test_follow_list_pages_are_counted_per_digest_for_linked_subscribers_only(
    database: Database,
) -> None:
    settings = budget_settings(database, budget=100)
    add_subscriber(database, "hal@example.test", names("h", 120))  # three pages of 50
    add_subscriber(database, "ivy@example.test", names("h", 30))  # one page
    add_subscriber(database, "jo@example.test", [])  # an empty list is still one page
    add_subscriber(database, "lee@example.test", names("h", 10), paused=True)  # still read
    add_subscriber(database, "max@example.test", names("h", 10), needs_relink_since=NOW)
    add_subscriber(database, "kim@example.test", [], chosen=names("k", 80))  # email-only

    reads = follow_list_reads(database, settings, NOW)

    assert reads == [FollowListReads(NOW + timedelta(days=7), timedelta(days=14), pages=6)]
