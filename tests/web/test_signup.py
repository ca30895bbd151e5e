"""GET / and POST /signup: the form, its checks, and the trip to Spotify's authorize page."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from sqlalchemy import select

from release_notifier.db import Database
from release_notifier.db.models import PendingSignup
from release_notifier.jobs.queue import build_queue
from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.sandbox.mailcatcher import MailCatcher
from release_notifier.web import create_app
from tests.web.conftest import PUBLIC_URL, SignupFlow, counts, csrf_token, web_settings_for


def test_signup_page_has_the_email_field_and_a_csrf_token(client: FlaskClient) -> None:
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'type="email"' in html and "required" in html
    assert "Connect Spotify" in html
    assert csrf_token(client)


def test_the_site_is_named_by_site_name(
    emulator: SpotifyEmulator, smtp: MailCatcher, tmp_path: Path, database: Database
) -> None:
    settings = web_settings_for(emulator, smtp, tmp_path, site_name="Tuesday Tunes")
    app = create_app(settings, database, queue=build_queue(settings, database, immediate=True))
    html = app.test_client().get("/").get_data(as_text=True)
    assert "· Tuesday Tunes</title>" in html
    assert html.count("Tuesday Tunes") >= 2 and "release-notifier" not in html.lower()


def test_a_valid_address_goes_to_spotify_with_a_single_use_state(
    flow: SignupFlow, database: Database, emulator: SpotifyEmulator
) -> None:
    response = flow.submit("Ana@Example.com")
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == emulator.accounts_base_url
    assert location.path == "/authorize"
    query = parse_qs(location.query)
    assert query["client_id"] == [emulator.client_id]
    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == [f"{PUBLIC_URL}/auth/callback"]
    assert query["scope"] == ["user-follow-read"]
    with database.session() as session:
        pending = session.scalars(select(PendingSignup)).one()
        assert query["state"] == [pending.state]
        assert pending.email == "ana@example.com"  # one spelling per mailbox


def test_an_invalid_address_is_422_with_the_reason_and_stores_nothing(
    flow: SignupFlow, database: Database
) -> None:
    response = flow.submit("ana@@example")
    assert response.status_code == 422
    assert "not valid" in response.get_data(as_text=True) or "@" in response.get_data(as_text=True)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert counts(database).pending == 0


def test_an_empty_address_is_422(flow: SignupFlow, database: Database) -> None:
    response = flow.submit("")
    assert response.status_code == 422
    assert "Please enter your email address." in response.get_data(as_text=True)
    assert counts(database).pending == 0


def test_a_reserved_test_domain_is_refused_outside_the_demo(
    flow: SignupFlow, database: Database
) -> None:
    response = flow.submit("ana@example.test")
    assert response.status_code == 422
    assert counts(database).pending == 0


def test_a_post_without_csrf_token_is_400_and_stores_nothing(
    client: FlaskClient, database: Database
) -> None:
    response = client.post("/signup", data={"email": "ana@example.com"})
    assert response.status_code == 400
    assert "Please try again" in response.get_data(as_text=True)
    assert counts(database).pending == 0


def test_signups_from_one_address_are_rate_limited(flow: SignupFlow, database: Database) -> None:
    statuses = [flow.submit(f"person{n}@example.com").status_code for n in range(6)]
    assert statuses == [303] * 5 + [429]
    assert counts(database).pending == 5


def test_the_rate_limit_page_says_in_words_how_long_to_wait(flow: SignupFlow) -> None:
    for n in range(5):
        flow.submit(f"person{n}@example.com")
    refused = flow.submit("person5@example.com")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "Slow down a little" in page and "Wait a minute, then try again" in page
    assert "per 1 minute" not in page and "Too Many Requests" not in page
    assert 'class="brand"' in page  # the site's own page, not a bare error
    assert refused.headers["Retry-After"]


def test_a_missing_spotify_client_id_is_503_and_stores_nothing(
    emulator: SpotifyEmulator, smtp: MailCatcher, tmp_path: Path, database: Database
) -> None:
    settings = web_settings_for(emulator, smtp, tmp_path, spotipy_client_id="")
    app = create_app(settings, database, queue=build_queue(settings, database, immediate=True))
    client = app.test_client()
    response = client.post(
        "/signup", data={"email": "ana@example.com", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 503
    assert counts(database).pending == 0
