"""One-click unsubscribe (RFC 8058): no cookie, no CSRF token, 200 directly, idempotent."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from release_notifier.db import Database
from release_notifier.db.models import User
from tests.web.conftest import reload, signed_path

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def test_the_link_shows_a_button_and_unsubscribes_nothing_by_itself(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    page = client.get(signed_path(app, "unsubscribe", ana))
    assert page.status_code == 200
    assert "Unsubscribe" in page.get_data(as_text=True)
    assert reload(database, ana).unsubscribed_at is None  # type: ignore[union-attr]


def test_a_one_click_post_without_cookie_or_csrf_unsubscribes_with_200(
    app: Flask, database: Database, ana: User
) -> None:
    mail_provider = app.test_client(use_cookies=False)
    response = mail_provider.post(signed_path(app, "unsubscribe", ana), data=ONE_CLICK)
    assert response.status_code == 200
    assert "unsubscribed" in response.get_data(as_text=True)
    assert reload(database, ana).unsubscribed_at is not None  # type: ignore[union-attr]


def test_unsubscribing_twice_is_harmless(app: Flask, database: Database, ana: User) -> None:
    mail_provider = app.test_client(use_cookies=False)
    path = signed_path(app, "unsubscribe", ana)
    mail_provider.post(path, data=ONE_CLICK)
    first = reload(database, ana)
    again = mail_provider.post(path, data=ONE_CLICK)
    assert again.status_code == 200
    assert reload(database, ana).unsubscribed_at == first.unsubscribed_at  # type: ignore[union-attr]


def test_a_tampered_unsubscribe_link_is_400_and_changes_nothing(
    app: Flask, database: Database, ana: User
) -> None:
    path = signed_path(app, "unsubscribe", ana)
    tampered = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
    response = app.test_client(use_cookies=False).post(tampered, data=ONE_CLICK)
    assert response.status_code == 400
    assert reload(database, ana).unsubscribed_at is None  # type: ignore[union-attr]


def test_a_link_made_for_another_purpose_does_not_unsubscribe(
    app: Flask, database: Database, ana: User
) -> None:
    token = signed_path(app, "settings", ana).removeprefix("/settings/")
    response = app.test_client(use_cookies=False).post(f"/unsubscribe/{token}", data=ONE_CLICK)
    assert response.status_code == 400
    assert reload(database, ana).unsubscribed_at is None  # type: ignore[union-attr]


def test_a_deleted_user_is_still_told_they_are_unsubscribed(
    app: Flask, database: Database, ana: User
) -> None:
    path = signed_path(app, "unsubscribe", ana)
    with database.session() as session:
        session.delete(session.get(User, ana.id))
    response = app.test_client(use_cookies=False).post(path, data=ONE_CLICK)
    assert response.status_code == 200
