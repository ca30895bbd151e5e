"""Atom and iCalendar feeds at secret URLs: parsed back, 304 when unchanged, 404 once rotated."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import feedparser
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar

from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.db.models import Artist, ArtistRelease, Follow, LedgerEntry, User
from release_notifier.releases.choices import drop_artist
from release_notifier.releases.ledger import release_from_item
from tests.web.conftest import csrf_token, reload, signed_path

FEED_LINK = re.compile(r'href="http://127\.0\.0\.1:5000(/feeds/[^"]+\.(?:atom|ics))"')


def add_release(
    database: Database,
    user: User,
    album_id: str,
    name: str,
    release_date: str,
    *,
    group: str = "album",
    status: str = "announced",
    seen: datetime | None = None,
    artist: str = "Nova Reed",
) -> None:
    """A release as a run stores it (from a Spotify album object), in `user`'s ledger."""
    now = seen or utcnow()
    item = {
        "id": album_id,
        "name": name,
        "album_type": "single" if group == "single" else "album",
        "release_date": release_date,
        "release_date_precision": {4: "year", 7: "month"}.get(len(release_date), "day"),
        "total_tracks": 8,
        "artists": [{"id": "artist-nova", "name": artist}],
        "images": [{"url": f"https://i.scdn.co/image/{album_id}", "width": 300}],
        "external_urls": {"spotify": f"https://open.spotify.com/album/{album_id}"},
    }
    with database.session() as session:
        session.add(release_from_item(item, now))
        session.flush()
        session.add(
            LedgerEntry(
                user_id=user.id,
                release_id=album_id,
                status=status,
                group=group,
                via_artist_id="artist-nova",
                created_at=now,
            )
        )


def feed_paths(client: FlaskClient, app: Flask, user: User) -> dict[str, str]:
    """The feed paths the settings page links to: {"atom": .., "ics": ..}."""
    page = client.get(signed_path(app, "settings", user)).get_data(as_text=True)
    found = {path.rsplit(".", 1)[1]: path for path in FEED_LINK.findall(page)}
    assert set(found) == {"atom", "ics"}, page
    return found


def day(offset: int) -> str:
    return (utcnow().date() + timedelta(days=offset)).isoformat()


def test_the_atom_feed_round_trips_newest_first_linked_to_spotify_with_covers(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    add_release(database, ana, "old1", "Older Album", day(-20))
    add_release(database, ana, "new1", "Newest <Single>", day(-2), group="single")
    add_release(database, ana, "soon1", "Upcoming Album", day(10), status="pending")
    add_release(database, ana, "back1", "Back Catalogue", day(-900), status="back_catalogue")
    add_release(database, ana, "comp1", "Unwanted Compilation", day(-1), group="compilation")
    response = client.get(feed_paths(client, app, ana)["atom"])
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    parsed = feedparser.parse(response.get_data())
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == "atom10"
    titles = [entry.title for entry in parsed.entries]
    assert titles == [
        "Nova Reed \u2013 Upcoming Album",
        "Nova Reed \u2013 Newest <Single>",
        "Nova Reed \u2013 Older Album",
    ]
    newest = parsed.entries[1]
    assert newest.link == "https://open.spotify.com/album/new1"
    assert newest.enclosures[0].href == "https://i.scdn.co/image/new1"
    assert 'src="https://i.scdn.co/image/new1"' in newest.content[0].value
    assert "ana@example.com" not in response.get_data(as_text=True)


def test_the_ical_feed_has_one_all_day_event_per_release_day_upcoming_included(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    add_release(database, ana, "a1", "First", day(-3))
    add_release(database, ana, "a2", "Second", day(-3), artist="Ivo Lark")
    add_release(database, ana, "soon1", "Upcoming", day(14), status="pending")
    add_release(database, ana, "month1", "Only A Month", day(-40)[:7])
    response = client.get(feed_paths(client, app, ana)["ics"])
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.get_data())
    events = {
        event.decoded("dtstart"): event for event in calendar.walk("VEVENT")
    }  # one per day: the two releases of day -3 share one event, the month-only one has none
    today = utcnow().date()
    assert set(events) == {today - timedelta(days=3), today + timedelta(days=14)}
    for start, event in events.items():
        assert isinstance(start, date) and not isinstance(start, datetime)  # all-day
        assert event.decoded("dtend") == start + timedelta(days=1)
    shared = str(events[today - timedelta(days=3)]["summary"])
    assert shared.startswith("2 releases:") and "Ivo Lark \u2013 Second" in shared
    assert str(events[today + timedelta(days=14)]["summary"]) == "Nova Reed \u2013 Upcoming"
    assert "ana@example.com" not in response.get_data(as_text=True)


def test_feeds_answer_304_to_a_conditional_request_until_something_changes(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    add_release(database, ana, "a1", "First", day(-3), seen=utcnow() - timedelta(hours=2))
    for path in feed_paths(client, app, ana).values():
        first = client.get(path)
        assert first.headers["ETag"] and first.headers["Last-Modified"]
        again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.get_data() == b""
        since = client.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]})
        assert since.status_code == 304
    add_release(database, ana, "a2", "Second", day(-1))
    for path in feed_paths(client, app, ana).values():
        changed = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert changed.status_code == 200 and b"Second" in changed.get_data()


def test_a_settings_change_moves_last_modified_for_a_reader_without_an_etag(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    earlier = utcnow() - timedelta(hours=2)
    add_release(database, ana, "a1", "Long Player", day(-3), seen=earlier)
    add_release(database, ana, "s1", "Only Single", day(-2), group="single", seen=earlier)
    paths = feed_paths(client, app, ana)
    first = {kind: client.get(path) for kind, path in paths.items()}
    settings = signed_path(app, "settings", ana)
    data = {"csrf_token": csrf_token(client, settings), "frequency": "fortnightly"}
    saved = client.post(settings, data={**data, "release_types": ["album"]})
    assert saved.status_code == 303

    for kind, path in paths.items():
        since = first[kind].headers["Last-Modified"]
        polled = client.get(path, headers={"If-Modified-Since": since})
        assert polled.status_code == 200
        assert b"Long Player" in polled.get_data() and b"Only Single" not in polled.get_data()
        assert polled.last_modified is not None and first[kind].last_modified is not None
        assert polled.last_modified > first[kind].last_modified
        again = client.get(path, headers={"If-Modified-Since": polled.headers["Last-Modified"]})
        assert again.status_code == 304


def test_muting_an_artist_moves_last_modified_as_its_pending_releases_leave(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    earlier = utcnow() - timedelta(hours=3)
    add_release(database, ana, "a1", "Staying", day(-5), seen=earlier + timedelta(hours=1))
    recent = utcnow() - timedelta(minutes=1)
    add_release(database, ana, "p1", "Soon Gone", day(-1), status="pending", seen=recent)
    with database.session() as session:
        signed_up = session.get(User, ana.id)
        assert signed_up is not None
        signed_up.created_at = earlier  # signed up before both releases reached the ledger
        session.add(Artist(id="artist-nova", name="Nova Reed"))
        session.flush()
        session.add(Follow(user_id=ana.id, artist_id="artist-nova", since=earlier))
        session.add(ArtistRelease(artist_id="artist-nova", release_id="p1", group="album"))
    paths = feed_paths(client, app, ana)
    first = {kind: client.get(path) for kind, path in paths.items()}
    assert all(b"Soon Gone" in answer.get_data() for answer in first.values())
    with database.session() as session:
        user = session.get(User, ana.id)
        assert user is not None and drop_artist(session, user, "artist-nova", utcnow())

    for kind, path in paths.items():
        since = first[kind].headers["Last-Modified"]
        polled = client.get(path, headers={"If-Modified-Since": since})
        assert polled.status_code == 200 and b"Soon Gone" not in polled.get_data()
        assert b"Staying" in polled.get_data()


def test_rotating_the_feeds_makes_new_urls_and_the_old_ones_answer_404(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    old = feed_paths(client, app, ana)
    settings_path = signed_path(app, "settings", ana)
    response = client.post(
        f"{settings_path}/feeds/rotate", data={"csrf_token": csrf_token(client, settings_path)}
    )
    assert response.status_code == 303
    new = feed_paths(client, app, ana)
    assert set(new.values()).isdisjoint(old.values())
    for path in old.values():
        assert client.get(path).status_code == 404
    for path in new.values():
        assert client.get(path).status_code == 200


def test_rotating_without_a_csrf_token_is_400_and_keeps_the_feeds(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    old = feed_paths(client, app, ana)
    response = client.post(f"{signed_path(app, 'settings', ana)}/feeds/rotate")
    assert response.status_code == 400
    assert feed_paths(client, app, ana) == old
    assert client.get(old["atom"]).status_code == 200


def test_an_unknown_feed_token_is_404_and_names_nobody(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    feed_paths(client, app, ana)
    for path in ("/feeds/not-a-token.atom", "/feeds/not-a-token.ics", f"/feeds/{'x' * 500}.ics"):
        response = client.get(path)
        assert response.status_code == 404
        assert "ana@example.com" not in response.get_data(as_text=True)


def test_the_feed_url_carries_only_a_random_token_stored_with_the_user(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    path = feed_paths(client, app, ana)["atom"]
    user = reload(database, ana)
    assert user is not None and user.feed_token
    assert path == f"/feeds/{user.feed_token}.atom"
    assert len(user.feed_token) >= 32
    assert feed_paths(client, app, ana)["atom"] == path  # made once, then kept
