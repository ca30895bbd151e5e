"""Issue 14 item 1: a subscriber never gets stuck without a recent email. `/settings` and every
expired or invalid link page offer "email me my settings link": rate-limited, and the same
answer whether or not the address has a subscription."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.db.models import User
from release_notifier.sandbox.mailcatcher import MailCatcher
from tests.web.conftest import csrf_token, links_in, signed_path


def ask_for_link(client: FlaskClient, email: str) -> tuple[int, str]:
    """Post the form at /settings and follow the answer; (status, page with the address out)."""
    token = csrf_token(client, "/settings")
    page = client.post(
        "/settings", data={"email": email, "csrf_token": token}, follow_redirects=True
    )
    return page.status_code, page.get_data(as_text=True).replace(email.lower(), "ADDRESS")


def confirmed(database: Database, user: User, **fields: object) -> None:
    with database.session() as session:
        row = session.get(User, user.id)
        assert row is not None
        row.confirmed_at = utcnow()
        for name, value in fields.items():
            setattr(row, name, value)


def settings_mails(smtp: MailCatcher, email: str) -> list[object]:
    return [m for m in smtp.to(email) if str(m.message["Subject"]).endswith("settings link")]


def test_settings_without_a_link_is_a_form_not_a_404(client: FlaskClient) -> None:
    page = client.get("/settings")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Email me my settings link" in html and 'type="email"' in html


def test_a_subscriber_gets_a_working_settings_link_and_a_stranger_the_same_answer(
    app: Flask, client: FlaskClient, database: Database, smtp: MailCatcher, ana: User
) -> None:
    confirmed(database, ana, unsubscribed_at=utcnow())  # even one who left gets a way back
    known = ask_for_link(client, "Ana@Example.com")
    unknown = ask_for_link(app.test_client(), "nobody@example.com")

    assert known == unknown
    assert known[0] == 200 and "Check your inbox" in known[1]
    [mail] = settings_mails(smtp, "ana@example.com")
    [path, *_] = [p for p in links_in(mail) if p.startswith("/settings/")]
    assert app.test_client().get(path).status_code == 200
    assert smtp.to("nobody@example.com") == []


def test_asking_again_within_minutes_sends_no_second_email(
    client: FlaskClient, database: Database, smtp: MailCatcher, ana: User
) -> None:
    confirmed(database, ana)
    ask_for_link(client, "ana@example.com")
    ask_for_link(client, "ana@example.com")
    assert len(settings_mails(smtp, "ana@example.com")) == 1
    with time_machine.travel(utcnow() + timedelta(minutes=6)):
        ask_for_link(client, "ana@example.com")
    assert len(settings_mails(smtp, "ana@example.com")) == 2


def test_an_unconfirmed_address_gets_its_confirmation_again(
    client: FlaskClient, smtp: MailCatcher, ana: User
) -> None:
    with time_machine.travel(utcnow() + timedelta(minutes=6)):  # the first one is not new
        ask_for_link(client, "ana@example.com")
    confirmations = [m for m in smtp.to("ana@example.com") if "/confirm/" in links_in(m)[0]]
    assert len(confirmations) == 2
    assert settings_mails(smtp, "ana@example.com") == []


def test_requests_from_one_client_are_rate_limited(client: FlaskClient) -> None:
    token = csrf_token(client, "/settings")
    statuses = [
        client.post(
            "/settings", data={"email": f"p{n}@example.com", "csrf_token": token}
        ).status_code
        for n in range(6)
    ]
    assert statuses == [303] * 5 + [429]


def test_an_invalid_address_is_422_and_sends_nothing(
    client: FlaskClient, smtp: MailCatcher
) -> None:
    token = csrf_token(client, "/settings")
    page = client.post("/settings", data={"email": "ana@@example", "csrf_token": token})
    assert page.status_code == 422
    assert 'aria-invalid="true"' in page.get_data(as_text=True)
    assert smtp.messages == []


def test_expired_and_invalid_link_pages_offer_the_form(
    app: Flask, client: FlaskClient, database: Database, ana: User
) -> None:
    confirmed(database, ana)
    path = signed_path(app, "settings", ana)
    with time_machine.travel(utcnow() + timedelta(days=91)):
        expired = client.get(path)
    invalid = client.get("/settings/not-a-real-link")
    assert (expired.status_code, invalid.status_code) == (410, 400)
    for page in (expired, invalid):
        html = page.get_data(as_text=True)
        assert "Email me my settings link" in html and 'action="/settings"' in html
    with database.session() as session:
        assert session.scalars(select(User)).one().unsubscribed_at is None
