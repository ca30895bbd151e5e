"""Double opt-in: the link shows a button, the button confirms, and the initial digest goes out."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from flask import Flask
from flask.testing import FlaskClient

from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.db.models import User
from release_notifier.sandbox.mailcatcher import MailCatcher
from tests.web.conftest import csrf_token, links_in, reload, signed_path


def test_the_emailed_link_shows_a_button_and_confirms_nothing_by_itself(
    client: FlaskClient, database: Database, smtp: MailCatcher, ana: User
) -> None:
    [confirm_path] = [p for p in links_in(smtp.messages[0]) if p.startswith("/confirm/")]
    page = client.get(confirm_path)
    assert page.status_code == 200
    assert "Confirm" in page.get_data(as_text=True)
    assert reload(database, ana).confirmed_at is None  # type: ignore[union-attr]


def test_pressing_confirm_on_another_device_confirms_and_sends_the_initial_digest(
    app: Flask, database: Database, smtp: MailCatcher, ana: User
) -> None:
    [confirm_path] = [p for p in links_in(smtp.messages[0]) if p.startswith("/confirm/")]
    other_device = app.test_client()  # no cookie from the signup
    now = utcnow()
    with time_machine.travel(now, tick=False):
        page = other_device.post(
            confirm_path, data={"csrf_token": csrf_token(other_device, confirm_path)}
        )
    assert page.status_code == 200
    assert "re subscribed" in page.get_data(as_text=True)
    user = reload(database, ana)
    assert user is not None and user.confirmed_at == now
    digests = [
        m for m in smtp.to("ana@example.com") if "Glasshouse" in m.raw.decode(errors="replace")
    ]
    assert len(digests) == 1


def test_confirming_twice_is_harmless(
    client: FlaskClient, app: Flask, database: Database, smtp: MailCatcher, ana: User
) -> None:
    path = signed_path(app, "confirm", ana)
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    first = reload(database, ana)
    sent = len(smtp.messages)
    again = client.post(path, data={"csrf_token": csrf_token(client, "/")})
    assert again.status_code == 200
    assert "already confirmed" in again.get_data(as_text=True)
    second = reload(database, ana)
    assert second is not None and first is not None
    assert (second.confirmed_at, second.next_digest_at) == (
        first.confirmed_at,
        first.next_digest_at,
    )
    assert len(smtp.messages) == sent


def test_a_confirm_post_without_csrf_token_is_400_and_confirms_nothing(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    response = client.post(signed_path(app, "confirm", ana))
    assert response.status_code == 400
    assert reload(database, ana).confirmed_at is None  # type: ignore[union-attr]


def test_a_tampered_confirm_link_is_400_and_confirms_nothing(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    path = signed_path(app, "confirm", ana)
    tampered = path[:-3] + ("xyz" if not path.endswith("xyz") else "abc")
    assert client.get(tampered).status_code == 400
    response = client.post(tampered, data={"csrf_token": csrf_token(client)})
    assert response.status_code == 400
    assert reload(database, ana).confirmed_at is None  # type: ignore[union-attr]


def test_a_settings_link_does_not_confirm(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    token = signed_path(app, "settings", ana).removeprefix("/settings/")
    response = client.post(f"/confirm/{token}", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 400
    assert reload(database, ana).confirmed_at is None  # type: ignore[union-attr]


def test_an_expired_confirm_link_is_410_and_confirms_nothing(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    path = signed_path(app, "confirm", ana)
    with time_machine.travel(utcnow() + timedelta(days=8)):
        token = csrf_token(client)
        assert client.get(path).status_code == 410
        assert client.post(path, data={"csrf_token": token}).status_code == 410
    assert reload(database, ana).confirmed_at is None  # type: ignore[union-attr]


def test_a_link_from_before_the_link_version_changed_is_400(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    path = signed_path(app, "confirm", ana, version=ana.link_version + 1)
    assert client.post(path, data={"csrf_token": csrf_token(client)}).status_code == 400
    assert reload(database, ana).confirmed_at is None  # type: ignore[union-attr]


def test_confirm_is_rate_limited(client: FlaskClient, app: Flask, ana: User) -> None:
    path = signed_path(app, "confirm", ana)
    token = csrf_token(client)
    statuses = [client.post(path, data={"csrf_token": token}).status_code for _ in range(11)]
    assert statuses[-1] == 429
    assert set(statuses[:10]) == {200}
