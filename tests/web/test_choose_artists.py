"""Choosing artists (issue 16) over HTTP against the emulator: an email-only subscriber searches,
pastes links, imports a list, confirms and gets an initial digest and later ones exactly once; a
linked subscriber mutes an artist and stops getting it; the cap, CSRF and input limits."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.db.models import ADD, MUTE, ArtistChoice, User
from release_notifier.jobs.queue import build_queue
from release_notifier.jobs.turns import run_once
from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.sandbox.mailcatcher import MailCatcher
from release_notifier.sandbox.wiring import add_chosen_subscriber
from release_notifier.spotify.budget import pause_until
from release_notifier.web import create_app
from tests.web.conftest import csrf_token, links_in, recent_date, signed_path, web_settings_for

RESULT = re.compile(r'name="artist" value="([0-9A-Za-z]{22})"')


def post(client: FlaskClient, path: str, page: str, **data: object) -> TestResponse:
    """A form post with the CSRF token of `page` (as a browser sends it)."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def run_now(app: Flask) -> None:
    context = app.extensions["release_notifier"]
    run_once(context.settings, context.database, sleep=lambda _seconds: None)


def digest_names(smtp: MailCatcher, address: str) -> list[list[str]]:
    """Release names in each digest `address` received."""
    digests = []
    for caught in smtp.to(address):
        if caught.message["List-Unsubscribe"] is None:
            continue  # not a digest
        body = caught.message.get_body(preferencelist=("plain",)).get_content()
        digests.append([line[2:] for line in body.splitlines() if line.startswith("* ")])
    return digests


def choices(database: Database, email: str) -> dict[str, str]:
    with database.session() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        rows = session.scalars(select(ArtistChoice).where(ArtistChoice.user_id == user.id))
        return {row.artist_id: row.kind for row in rows}


@pytest.fixture
def catalogue(emulator: SpotifyEmulator) -> dict[str, str]:
    """Two artists named Nova Reed, a band with an album, a singer featured on a track."""
    nova = emulator.add_artist("Nova Reed", genres=["indie pop"])
    namesake = emulator.add_artist("Nova Reed", genres=["hardstyle"])
    band = emulator.add_artist("Kite Theory")
    singer = emulator.add_artist("Lumen Vale")
    emulator.add_release(nova, "Glasshouse", group="single", release_date=recent_date())
    emulator.add_release(namesake, "Other Nova", release_date=recent_date())
    album = emulator.add_release(band, "Paper Wings", release_date=recent_date())
    duet = emulator.add_release(
        [band, singer], "Two Voices", group="single", release_date="2020-01-01"
    )
    playlist = emulator.add_playlist("Mixtape", emulator.track_ids(album)[:2], owner="someone")
    return {
        "nova": nova,
        "namesake": namesake,
        "band": band,
        "singer": singer,
        "album": album,
        "track": emulator.track_ids(duet)[0],
        "playlist": playlist,
    }


def test_an_email_only_subscriber_chooses_confirms_and_gets_each_release_once(
    app: Flask,
    client: FlaskClient,
    database: Database,
    smtp: MailCatcher,
    emulator: SpotifyEmulator,
    catalogue: dict[str, str],
) -> None:
    found = client.get("/choose?q=nova+reed")
    assert found.status_code == 200
    assert RESULT.findall(text(found)) == [catalogue["nova"], catalogue["namesake"]]
    assert text(found).count('class="face" src="') == 2  # each with its picture...
    assert "indie pop" in text(found) and "hardstyle" in text(found)  # ...and genres
    assert post(client, "/choose/add", "/choose", artist=catalogue["nova"]).status_code == 303

    lines = "\n".join(
        [
            f"https://open.spotify.com/intl-de/album/{catalogue['album']}?si=abc",
            f"spotify:track:{catalogue['track']}",
            "Nova Reed",
            "Nobody Of This Name",
            "https://example.com/artist/123",
            f"https://open.spotify.com/playlist/{catalogue['playlist']}",
        ]
    )
    report = post(client, "/choose/list", "/choose", lines=lines)
    page = text(report)
    assert report.status_code == 200
    assert "Added: Kite Theory, Lumen Vale." in page
    assert "“Nova Reed” could be more than one artist" in page
    assert "Nobody Of This Name</span>: no artist of that name on Spotify" in page
    assert "not a link to a Spotify artist, album, track or playlist" in page
    assert "paste the artists&#39; or albums&#39; links instead" in page

    signed_up = post(client, "/choose/subscribe", "/choose", email="Only@Example.com")
    assert signed_up.status_code == 303
    assert signed_up.headers["Location"].endswith("/auth/sent")
    chosen = {catalogue[key] for key in ("nova", "band", "singer")}
    assert choices(database, "only@example.com") == dict.fromkeys(chosen, ADD)
    [confirmation] = smtp.to("only@example.com")
    [confirm_path] = [p for p in links_in(confirmation) if p.startswith("/confirm/")]
    client.post(confirm_path, data={"csrf_token": csrf_token(client, confirm_path)})
    assert digest_names(smtp, "only@example.com") == [["Paper Wings", "Glasshouse"]]

    later = utcnow() + timedelta(days=14)
    emulator.add_release(catalogue["singer"], "Solo Turn", release_date=later.date().isoformat())
    with time_machine.travel(later, tick=False):
        run_now(app)
        run_now(app)
    assert digest_names(smtp, "only@example.com") == [
        ["Paper Wings", "Glasshouse"],
        ["Solo Turn"],
    ]

    with database.session() as session:
        user = session.scalars(select(User).where(User.email == "only@example.com")).one()
    settings_page = text(client.get(signed_path(app, "settings", user)))
    assert "You chose 3 artists." in settings_page
    assert "Re-link Spotify" not in settings_page
    delete = signed_path(app, "settings", user) + "/delete"
    assert post(client, delete, delete).status_code == 200
    with database.session() as session:
        assert session.scalars(select(ArtistChoice)).all() == []


def test_a_known_address_is_left_as_it_is_and_its_owner_is_emailed(
    client: FlaskClient, database: Database, smtp: MailCatcher, catalogue: dict[str, str]
) -> None:
    client.get("/choose?q=kite")
    post(client, "/choose/add", "/choose", artist=catalogue["band"])
    post(client, "/choose/subscribe", "/choose", email="kim@example.com")
    client.get("/choose?q=lumen")
    post(client, "/choose/add", "/choose", artist=catalogue["singer"])

    with time_machine.travel(utcnow() + timedelta(minutes=1), tick=False):
        again = post(client, "/choose/subscribe", "/choose", email="kim@example.com")

    assert again.status_code == 303
    assert choices(database, "kim@example.com") == {catalogue["band"]: ADD}
    assert len(smtp.to("kim@example.com")) == 2  # the confirmation, sent again


def test_a_linked_subscriber_mutes_an_artist_and_stops_getting_it(
    app: Flask,
    client: FlaskClient,
    database: Database,
    smtp: MailCatcher,
    emulator: SpotifyEmulator,
    ana: User,
) -> None:
    confirm = signed_path(app, "confirm", ana)
    client.post(confirm, data={"csrf_token": csrf_token(client, confirm)})
    assert digest_names(smtp, "ana@example.com") == [["Glasshouse"]]
    artists = signed_path(app, "settings", ana) + "/artists"
    page = text(client.get(artists))
    assert "Followed on Spotify" in page
    [nova] = RESULT.findall(page)

    muted = post(client, f"{artists}/remove", artists, artist=nova)

    assert muted.status_code == 303
    assert "Unmute" in text(client.get(artists))
    assert choices(database, "ana@example.com") == {nova: MUTE}
    add_chosen_subscriber(database, emulator, "bo@example.com", [nova], now=utcnow())
    run_now(app)  # Bo's first digest: Nova Reed is still checked, for Bo
    later = utcnow() + timedelta(days=14)
    emulator.add_release(nova, "Muted Single", group="single", release_date=recent_date())
    with time_machine.travel(later, tick=False):
        run_now(app)
    assert digest_names(smtp, "bo@example.com") == [["Glasshouse"], ["Muted Single"]]
    assert digest_names(smtp, "ana@example.com") == [["Glasshouse"]]


@pytest.fixture
def capped(
    emulator: SpotifyEmulator, smtp: MailCatcher, database: Database, tmp_path: Path
) -> FlaskClient:
    """The app with CHOSEN_ARTISTS_LIMIT=2."""
    settings = web_settings_for(
        emulator, smtp, tmp_path, database_url=database.url, chosen_artists_limit=2
    )
    queue = build_queue(settings, database, immediate=True)
    return create_app(settings, database, queue=queue).test_client()


def test_no_more_than_chosen_artists_limit_artists_are_added(
    capped: FlaskClient, catalogue: dict[str, str]
) -> None:
    lines = "\n".join(f"spotify:artist:{catalogue[key]}" for key in ("nova", "band", "singer"))
    page = text(post(capped, "/choose/list", "/choose", lines=lines))
    assert "Added: Nova Reed, Kite Theory." in page
    assert "at most 2 artists can be chosen here: Lumen Vale" in page
    assert "(2 of at most 2)" in text(capped.get("/choose"))


def test_bad_input_is_refused_with_a_reason_and_changes_nothing(
    client: FlaskClient, catalogue: dict[str, str]
) -> None:
    no_token = client.post("/choose/add", data={"artist": catalogue["nova"]})
    assert no_token.status_code == 400
    long_query = client.get("/choose?q=" + "a" * 101)
    assert long_query.status_code == 400
    assert "cannot be longer than 100 characters" in text(long_query)
    long_list = post(client, "/choose/list", "/choose", lines="Nova Reed\n" * 1200)
    assert long_list.status_code == 422
    assert "cannot be longer than 10000 characters" in text(long_list)
    unknown = post(client, "/choose/add", "/choose", artist="A" * 22)  # never found by a search
    assert unknown.status_code == 400
    nobody = post(client, "/choose/subscribe", "/choose", email="nobody@example.com")
    assert nobody.status_code == 422
    assert "Choose at least one artist first." in text(nobody)
    assert 'id="none-chosen"' in text(client.get("/choose"))


def test_searches_are_rate_limited(client: FlaskClient, catalogue: dict[str, str]) -> None:
    answers = [client.get(f"/choose?q=nova{n}").status_code for n in range(21)]
    assert answers[:20] == [200] * 20
    assert answers[20] == 429
    assert client.get("/choose").status_code == 200  # the page itself asks nothing of Spotify


def test_followers_show_and_a_readable_playlist_adds_its_artists_where_spotify_allows(
    smtp: MailCatcher, database: Database, tmp_path: Path
) -> None:
    """Extended quota mode: artists still carry followers and playlists their tracks."""
    with SpotifyEmulator(profile="extended") as spotify:
        band, singer = spotify.add_artist("Kite Theory"), spotify.add_artist("Lumen Vale")
        album = spotify.add_release([band, singer], "Paper Wings")
        playlist = spotify.add_playlist("Mixtape", spotify.track_ids(album), owner="someone")
        settings = web_settings_for(spotify, smtp, tmp_path, database_url=database.url)
        client = create_app(settings, database, queue=build_queue(settings, database)).test_client()

        found = text(client.get("/choose?q=kite"))
        listed = text(post(client, "/choose/list", "/choose", lines=f"spotify:playlist:{playlist}"))

    assert re.search(r"[\d,]+ followers?", found)
    assert "Added: Kite Theory, Lumen Vale." in listed


def test_the_chooser_says_plainly_when_the_budget_cannot_check_every_artist_in_time(
    emulator: SpotifyEmulator, smtp: MailCatcher, database: Database, tmp_path: Path
) -> None:
    crowd = [emulator.add_artist(f"Crowd {n}") for n in range(4)]  # as many as it checks daily
    add_chosen_subscriber(database, emulator, "crowd@example.com", crowd, now=utcnow())
    settings = web_settings_for(
        emulator,
        smtp,
        tmp_path,
        database_url=database.url,
        spotify_daily_request_budget=6,
        digest_interval_days=1,
    )
    client = create_app(settings, database, queue=build_queue(settings, database)).test_client()
    newcomer = emulator.add_artist("Newcomer")
    assert "cannot check all" not in text(client.get("/choose"))

    post(client, "/choose/list", "/choose", lines=f"spotify:artist:{newcomer}")

    note = text(client.get("/choose"))
    assert "allowance cannot check all of its artists before every digest" in note
    assert "some new releases will come one digest later than usual" in note


def test_a_text_file_is_imported_like_pasted_lines_and_a_binary_one_is_refused(
    client: FlaskClient, database: Database, catalogue: dict[str, str]
) -> None:
    listing = f"Kite Theory\nspotify:artist:{'Z' * 22}\n".encode()
    page = client.post(
        "/choose/list",
        data={
            "csrf_token": csrf_token(client, "/choose"),
            "upload": (io.BytesIO(listing), "artists.txt"),
        },
        content_type="multipart/form-data",
    )
    assert page.status_code == 200
    assert "Added: Kite Theory." in text(page)
    assert "Spotify has no artist this app may read at that link" in text(page)

    binary = client.post(
        "/choose/list",
        data={
            "csrf_token": csrf_token(client, "/choose"),
            "upload": (io.BytesIO(b"\xff\xfe\x00\x81 not text"), "artists.xlsx"),
        },
        content_type="multipart/form-data",
    )
    assert binary.status_code == 422
    assert "That file is not plain text (UTF-8)" in text(binary)


def test_look_ups_stop_with_a_plain_reason_when_spotify_may_not_be_asked(
    client: FlaskClient, database: Database, catalogue: dict[str, str]
) -> None:
    pause_until(database, utcnow() + timedelta(hours=3), "QUOTA_EXCEEDED")

    paused = client.get("/choose?q=nova")
    listed = post(client, "/choose/list", "/choose", lines="Nova Reed")

    assert paused.status_code == 503
    assert "Spotify has asked this service to wait" in text(paused)
    assert listed.status_code == 503
    assert 'id="none-chosen"' in text(listed)


def test_a_spent_request_budget_stops_searches_with_a_plain_reason(
    emulator: SpotifyEmulator, smtp: MailCatcher, database: Database, tmp_path: Path
) -> None:
    emulator.add_artist("Nova Reed")
    settings = web_settings_for(
        emulator, smtp, tmp_path, database_url=database.url, spotify_daily_request_budget=1
    )
    client = create_app(settings, database, queue=build_queue(settings, database)).test_client()

    first, second = client.get("/choose?q=nova"), client.get("/choose?q=reed")

    assert first.status_code == 200 and RESULT.findall(text(first))
    assert second.status_code == 503
    assert "used today&#39;s share of Spotify requests" in text(second)
    assert emulator.count(r"/v1/search") == 1


def test_a_hundred_picks_fit_the_session_cookie(
    client: FlaskClient, emulator: SpotifyEmulator
) -> None:
    artists = [emulator.add_artist(f"Band {n}") for n in range(101)]
    for start in (0, 50, 100):
        lines = "\n".join(f"spotify:artist:{a}" for a in artists[start : start + 50])
        answer = post(client, "/choose/list", "/choose", lines=lines)
    assert "at most 100 artists can be chosen here: Band 100" in text(answer)
    cookie = client.get_cookie("release_notifier_session")
    assert cookie is not None and len(cookie.value) < 4000  # a browser keeps a cookie up to 4 KB
    assert "(100 of at most 100)" in text(client.get("/choose"))
