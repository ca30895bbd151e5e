"""One-click unsubscribe (RFC 8058): no cookie, no CSRF token, 200 directly, idempotent."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from release_notifier.db import Database
from release_notifier.db.models import User
from tests.web.conftest import CSRF, reload, signed_path

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


def test_a_deleted_user_is_still_told_they_are_unsubscribed_with_no_links_to_settings(
    app: Flask, database: Database, ana: User
) -> None:
    path = signed_path(app, "unsubscribe", ana)
    with database.session() as session:
        session.delete(session.get(User, ana.id))
    response = app.test_client(use_cookies=False).post(path, data=ONE_CLICK)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "You're unsubscribed" in page
    assert "Resubscribe" not in page and "/settings/" not in page


def form_actions(html: str) -> dict[str, str]:
    """The button label of each form on a page, mapped to where the form posts."""
    forms = re.findall(
        r'<form method="post" action="([^"]+)">.*?<button[^>]*>([^<]+)</button>', html, re.S
    )
    return {label.strip(): action for action, label in forms}


def press(client: FlaskClient, page_html: str, label: str) -> str:
    """Post the form whose button reads `label`; returns where it redirects to."""
    token = CSRF.search(page_html)
    assert token, "no CSRF token on the page"
    response = client.post(form_actions(page_html)[label], data={"csrf_token": token.group(1)})
    assert response.status_code == 303, response.get_data(as_text=True)
    return str(response.headers["Location"])


def test_the_unsubscribe_page_offers_one_digest_a_month_instead(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    page = client.get(signed_path(app, "unsubscribe", ana)).get_data(as_text=True)
    assert "Or hear from us less" in page
    location = press(client, page, "One digest a month")
    assert "/settings/" in location
    assert "one digest a month" in client.get(location).get_data(as_text=True)
    user = reload(database, ana)
    assert user is not None
    assert (user.digest_interval_days, user.unsubscribed_at) == (30.0, None)
    again = client.get(signed_path(app, "unsubscribe", ana)).get_data(as_text=True)
    assert "One digest a month" not in again and "Pause digests" in again


def test_the_unsubscribe_page_offers_a_pause_instead(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    page = client.get(signed_path(app, "unsubscribe", ana)).get_data(as_text=True)
    press(client, page, "Pause digests")
    user = reload(database, ana)
    assert user is not None and user.paused and user.unsubscribed_at is None
    again = client.get(signed_path(app, "unsubscribe", ana)).get_data(as_text=True)
    assert "Pause digests" not in again and "One digest a month" in again


def test_the_unsubscribed_page_offers_resubscribe_settings_and_delete(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    page = client.post(signed_path(app, "unsubscribe", ana), data=ONE_CLICK).get_data(as_text=True)
    assert "You're unsubscribed" in page
    assert "Your settings" in page and "Delete my data" in page and 'href="/"' in page
    location = press(client, page, "Resubscribe")
    assert "/settings/" in location  # straight back, no trip to Spotify's consent page
    assert "Welcome back" in client.get(location).get_data(as_text=True)
    assert reload(database, ana).unsubscribed_at is None  # type: ignore[union-attr]
