"""/healthz, security headers, cookies, body size and proxy trust."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from release_notifier.db import Database
from release_notifier.jobs.queue import build_queue
from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.sandbox.mailcatcher import MailCatcher
from release_notifier.web import create_app
from tests.web.conftest import csrf_token, web_settings_for


def test_healthz_is_200_with_a_small_json_when_the_database_answers(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "spotify": "ok"}


def test_healthz_says_spotify_is_paused_while_all_spotify_work_is_stopped(
    client: FlaskClient, database: Database
) -> None:
    from datetime import timedelta

    from release_notifier.clock import utcnow
    from release_notifier.spotify.budget import pause_until

    pause_until(database, utcnow() + timedelta(hours=6), "premium: 403 Premium lapsed")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["spotify"] == "paused"


def test_healthz_is_503_when_the_database_does_not_answer(
    emulator: SpotifyEmulator, smtp: MailCatcher, tmp_path: Path
) -> None:
    (tmp_path / "broken.db").mkdir()  # a folder where the database file should be
    database = Database(f"sqlite:///{tmp_path / 'broken.db'}")
    settings = web_settings_for(emulator, smtp, tmp_path)
    app = create_app(settings, database, queue=build_queue(settings, database, immediate=True))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"


@pytest.mark.parametrize(
    ("overrides", "missing"),
    [
        ({"spotipy_client_secret": ""}, ["SPOTIPY_CLIENT_SECRET"]),
        ({"smtp_host": "smtp.gmail.com"}, ["EMAIL_USER", "EMAIL_PASSWORD"]),
        ({"email_user": "me@example.com"}, ["EMAIL_PASSWORD"]),
        ({"smtp_host": "relay.internal"}, []),  # a relay that takes mail without a login
    ],
)
def test_healthz_is_503_not_set_up_naming_the_settings_people_need(
    emulator: SpotifyEmulator,
    smtp: MailCatcher,
    tmp_path: Path,
    sqlite_url: str,
    overrides: dict[str, str],
    missing: list[str],
) -> None:
    settings = web_settings_for(emulator, smtp, tmp_path, database_url=sqlite_url, **overrides)
    app = create_app(settings)
    response = app.test_client().get("/healthz")
    if missing:
        assert response.status_code == 503
        assert response.get_json() == {"status": "not set up", "database": "ok", "missing": missing}
    else:
        assert response.status_code == 200


def test_every_page_carries_the_security_headers(client: FlaskClient) -> None:
    for path in ("/", "/healthz", "/unsubscribe/forged", "/no-such-page"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_the_session_cookie_is_httponly_and_samesite(client: FlaskClient) -> None:
    cookie = client.get("/").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the test's public URL is plain http on 127.0.0.1


def test_the_session_cookie_is_secure_behind_an_https_public_url(
    emulator: SpotifyEmulator, smtp: MailCatcher, tmp_path: Path, database: Database
) -> None:
    settings = web_settings_for(
        emulator, smtp, tmp_path, public_base_url="https://releases.example.com"
    )
    app = create_app(settings, database, queue=build_queue(settings, database, immediate=True))
    assert "Secure" in app.test_client().get("/").headers["Set-Cookie"]


def test_a_body_over_max_content_length_is_413(client: FlaskClient) -> None:
    response = client.post("/signup", data={"email": "a" * 70_000 + "@example.com"})
    assert response.status_code == 413


def test_forwarded_addresses_count_only_when_proxy_headers_are_trusted(
    emulator: SpotifyEmulator, smtp: MailCatcher, tmp_path: Path, database: Database
) -> None:
    def statuses(trust: bool) -> list[int]:
        settings = web_settings_for(emulator, smtp, tmp_path, trust_proxy_headers=trust)
        queue = build_queue(settings, database, immediate=True)
        client = create_app(settings, database, queue=queue).test_client()
        token = csrf_token(client)
        return [
            client.post(
                "/signup",
                data={"email": f"p{n}@example.com", "csrf_token": token},
                headers={
                    "X-Forwarded-For": f"203.0.113.{n}",
                    "X-Forwarded-Proto": "https",
                    "Referer": "https://localhost/",  # CSRF checks the referrer over https
                },
            ).status_code
            for n in range(6)
        ]

    assert statuses(trust=False)[-1] == 429  # one client as far as we can tell
    assert statuses(trust=True) == [303] * 6  # six clients behind the proxy


def test_outbox_pages_exist_only_in_the_demo(client: FlaskClient) -> None:
    assert client.get("/_outbox/").status_code == 404
