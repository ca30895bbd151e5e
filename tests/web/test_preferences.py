"""The settings page: frequency, release types, pause/resume, re-link and delete (two clicks)."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.db.models import Artist, Follow, LedgerEntry, Notice, User
from tests.web.conftest import counts, csrf_token, reload, signed_path


def test_the_settings_page_shows_the_current_choices(
    client: FlaskClient, app: Flask, ana: User
) -> None:
    page = client.get(signed_path(app, "settings", ana))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "ana@example.com" in html
    assert (
        'checked id="frequency-1" name="frequency" required type="radio" value="fortnightly"'
        in html
    )
    assert "Spotify account: Ana" in html


def test_saving_changes_frequency_and_release_types(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    path = signed_path(app, "settings", ana)
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "frequency": "weekly",
            "release_types": ["album", "compilation"],
        },
    )
    assert response.status_code == 303
    assert "Saved." in client.get(path).get_data(as_text=True)
    user = reload(database, ana)
    assert user is not None
    assert user.digest_interval_days == 7.0
    assert user.release_types == "album,compilation"


def test_saving_with_no_release_type_is_422_and_changes_nothing(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    path = signed_path(app, "settings", ana)
    response = client.post(
        path, data={"csrf_token": csrf_token(client, path), "frequency": "monthly"}
    )
    assert response.status_code == 422
    assert "Choose at least one kind of release." in response.get_data(as_text=True)
    user = reload(database, ana)
    assert user is not None
    assert (user.digest_interval_days, user.release_types) == (None, ana.release_types)


def test_an_unknown_frequency_is_422(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    path = signed_path(app, "settings", ana)
    token = csrf_token(client, path)
    data = {"csrf_token": token, "frequency": "hourly", "release_types": ["album"]}
    assert client.post(path, data=data).status_code == 422
    assert reload(database, ana).digest_interval_days is None  # type: ignore[union-attr]


def test_saving_without_csrf_token_is_400(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    path = signed_path(app, "settings", ana)
    response = client.post(path, data={"frequency": "weekly", "release_types": ["album"]})
    assert response.status_code == 400
    assert reload(database, ana).digest_interval_days is None  # type: ignore[union-attr]


def test_pause_and_resume(client: FlaskClient, app: Flask, database: Database, ana: User) -> None:
    path = signed_path(app, "settings", ana)
    token = csrf_token(client, path)
    assert client.post(f"{path}/pause", data={"csrf_token": token}).status_code == 303
    assert reload(database, ana).paused is True  # type: ignore[union-attr]
    assert "Resume digests" in client.get(path).get_data(as_text=True)
    assert client.post(f"{path}/resume", data={"csrf_token": token}).status_code == 303
    assert reload(database, ana).paused is False  # type: ignore[union-attr]


def test_relink_from_settings_goes_to_spotify_with_the_consent_dialog(
    client: FlaskClient, app: Flask, ana: User
) -> None:
    path = signed_path(app, "settings", ana)
    response = client.post(f"{path}/relink", data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 303
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["show_dialog"] == ["true"]


def test_delete_asks_first_then_removes_user_tokens_and_ledger(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    path = signed_path(app, "settings", ana)
    confirm_path = signed_path(app, "confirm", ana)
    client.post(confirm_path, data={"csrf_token": csrf_token(client, confirm_path)})
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) > 0
    ask = client.get(f"{path}/delete")
    assert ask.status_code == 200
    assert "Yes, delete everything" in ask.get_data(as_text=True)
    assert reload(database, ana) is not None
    done = client.post(f"{path}/delete", data={"csrf_token": csrf_token(client, path)})
    assert done.status_code == 200
    assert reload(database, ana) is None
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 0
        assert session.scalar(select(func.count()).select_from(Notice)) == 0
    assert client.get(path).status_code == 404


def test_delete_without_csrf_token_is_400_and_deletes_nothing(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    response = client.post(signed_path(app, "settings", ana) + "/delete")
    assert response.status_code == 400
    assert counts(database).users == 1


def test_a_forged_settings_link_is_400(client: FlaskClient, database: Database, ana: User) -> None:
    assert client.get("/settings/forged.token.here").status_code == 400
    response = client.post(
        "/settings/forged.token.here/delete", data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 400
    assert counts(database).users == 1


def test_an_expired_settings_link_is_410(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    path = signed_path(app, "settings", ana)
    with time_machine.travel(utcnow() + timedelta(days=91)):
        assert client.get(path).status_code == 410
        token = csrf_token(client)
        assert client.post(f"{path}/pause", data={"csrf_token": token}).status_code == 410
    assert reload(database, ana).paused is False  # type: ignore[union-attr]


def test_an_unsubscribed_subscriber_is_told_so_and_offered_resubscribe(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    app.test_client(use_cookies=False).post(
        signed_path(app, "unsubscribe", ana), data={"List-Unsubscribe": "One-Click"}
    )
    html = client.get(signed_path(app, "settings", ana)).get_data(as_text=True)
    assert "You are unsubscribed: we send nothing to <strong>ana@example.com</strong>" in html
    assert ">Resubscribe</button>" in html and "no need to connect Spotify again" in html
    assert "Digests go to" not in html
    assert "Pause digests" not in html and "/unsubscribe/" not in html


TODAY = datetime(2026, 12, 2, 9, 30)  # a Wednesday


def follow_state(database: Database, user: User, artists: list[str], *, read: datetime) -> None:
    """Ana confirmed, her follow list (these artists) read at `read`, next digest in 13 days."""
    with database.session() as session:
        stored = session.get(User, user.id)
        assert stored is not None
        stored.confirmed_at, stored.follows_synced_at = TODAY, read
        stored.next_digest_at = TODAY + timedelta(days=13)
        for number, name in enumerate(artists):
            session.add(Artist(id=f"artist{number}", name=name))
            session.add(Follow(user_id=user.id, artist_id=f"artist{number}", since=read))


def test_the_settings_page_says_what_we_know_about_follows_and_the_next_digest(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    follow_state(database, ana, ["Nova Reed", "Björk"], read=datetime(2026, 12, 1, 22, 0))
    with time_machine.travel(TODAY, tick=False):
        html = client.get(signed_path(app, "settings", ana)).get_data(as_text=True)
    assert "You follow 2 artists on Spotify (list last read 1 December 2026)." in html
    assert "Next digest: Tuesday 15 December 2026." in html
    assert 'id="no-artists"' not in html


def test_the_settings_page_warns_with_advice_when_no_artists_are_followed(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    follow_state(database, ana, [], read=datetime(2026, 12, 1, 22, 0))
    with time_machine.travel(TODAY, tick=False):
        html = client.get(signed_path(app, "settings", ana)).get_data(as_text=True)
    assert "Your Spotify account follows no artists (list last read 1 December 2026)" in html
    assert "press <strong>Follow</strong>" in html
    assert "we read your list again before each digest" in html


def test_a_paused_subscriber_is_shown_no_next_digest(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    follow_state(database, ana, ["Nova Reed"], read=datetime(2026, 12, 1, 22, 0))
    with database.session() as session:
        session.get(User, ana.id).paused = True  # type: ignore[union-attr]
    with time_machine.travel(TODAY, tick=False):
        html = client.get(signed_path(app, "settings", ana)).get_data(as_text=True)
    assert "You follow 1 artist on Spotify" in html
    assert "Next digest" not in html
