"""/auth/callback: every way the trip to Spotify can end, against the emulator over HTTP."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from release_notifier.clock import utcnow
from release_notifier.crypto import decrypt_token
from release_notifier.db import Database
from release_notifier.db.models import Notice, User
from release_notifier.sandbox.emulator import NOT_ALLOWLISTED_2026, SpotifyEmulator
from release_notifier.sandbox.mailcatcher import MailCatcher
from tests.web.conftest import SignupFlow, counts, links_in


def only_user(database: Database) -> User:
    with database.session() as session:
        return session.scalars(select(User)).one()


def test_a_full_signup_links_the_account_and_sends_one_confirmation(
    app: Flask,
    flow: SignupFlow,
    database: Database,
    smtp: MailCatcher,
    listener: str,
    emulator: SpotifyEmulator,
) -> None:
    page = flow.sign_up("ana@example.com", listener)
    assert page.status_code == 200
    assert "Check your inbox" in page.get_data(as_text=True)
    user = only_user(database)
    account = emulator.catalogue.accounts[listener]
    assert user.email == "ana@example.com"
    assert user.spotify_account_id == account.account_id
    assert user.spotify_display_name == "Ana"
    assert user.authorized_at is not None and user.confirmed_at is None
    cipher = app.extensions["release_notifier"].settings.token_cipher
    assert decrypt_token(cipher, user.id, user.refresh_token_enc or b"")
    [message] = smtp.to("ana@example.com")
    assert any(path.startswith("/confirm/") for path in links_in(message))
    assert counts(database).pending == 0


def test_denied_consent_is_403_and_creates_nothing(
    flow: SignupFlow, database: Database, smtp: MailCatcher, listener: str
) -> None:
    page = flow.sign_up("ana@example.com", listener, action="cancel")
    assert page.status_code == 403
    assert "not granted" in page.get_data(as_text=True)
    assert counts(database).users == 0 and counts(database).pending == 0
    assert smtp.messages == []


def test_an_unknown_state_is_400_and_creates_nothing(
    client: FlaskClient, database: Database
) -> None:
    page = client.get("/auth/callback?code=anything&state=made-up")
    assert page.status_code == 400
    assert "already been used or has expired" in page.get_data(as_text=True)
    assert counts(database).users == 0


def test_a_replayed_callback_is_400_and_changes_nothing(
    flow: SignupFlow, database: Database, smtp: MailCatcher, listener: str
) -> None:
    started = flow.submit("ana@example.com")
    callback = flow.consent(started.headers["Location"], listener)
    assert flow.client.get(callback).status_code == 303
    before = only_user(database)
    replay = flow.client.get(callback)
    assert replay.status_code == 400
    after = only_user(database)
    assert (after.id, after.authorized_at, after.refresh_token_enc) == (
        before.id,
        before.authorized_at,
        before.refresh_token_enc,
    )
    assert len(smtp.messages) == 1


def test_a_stale_state_is_400(flow: SignupFlow, database: Database, listener: str) -> None:
    started = flow.submit("ana@example.com")
    callback = flow.consent(started.headers["Location"], listener)
    with time_machine.travel(utcnow() + timedelta(minutes=31)):
        page = flow.client.get(callback)
    assert page.status_code == 400
    assert counts(database).users == 0


def test_a_reused_code_is_400_and_creates_nothing(
    flow: SignupFlow, database: Database, listener: str
) -> None:
    first = flow.submit("ana@example.com")
    callback = urlsplit(flow.consent(first.headers["Location"], listener))
    assert flow.client.get(f"{callback.path}?{callback.query}").status_code == 303
    code = parse_qs(callback.query)["code"][0]
    second = flow.submit("other@example.com")
    state = parse_qs(urlsplit(second.headers["Location"]).query)["state"][0]
    page = flow.client.get(f"/auth/callback?code={code}&state={state}")
    assert page.status_code == 400
    assert "The sign-in expired" in page.get_data(as_text=True)
    assert counts(database).users == 1


def test_a_callback_without_code_is_400(flow: SignupFlow, database: Database) -> None:
    started = flow.submit("ana@example.com")
    state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
    page = flow.client.get(f"/auth/callback?state={state}")
    assert page.status_code == 400
    assert counts(database).users == 0


def test_an_account_the_owner_has_not_allowlisted_is_403_and_creates_nothing(
    flow: SignupFlow, database: Database, emulator: SpotifyEmulator, smtp: MailCatcher
) -> None:
    outsider = emulator.add_account("dana", display_name="Dana", allowlisted=False)
    page = flow.sign_up("dana@example.com", outsider)
    assert page.status_code == 403
    assert "User Management" in page.get_data(as_text=True)
    assert counts(database).users == 0
    assert smtp.messages == []


@pytest.mark.parametrize("wording", NOT_ALLOWLISTED_2026)
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_the_2026_allowlist_wordings_show_the_allowlist_page(
    flow: SignupFlow, database: Database, emulator: SpotifyEmulator, wording: str, as_json: bool
) -> None:
    outsider = emulator.add_account("dana", display_name="Dana")
    emulator.refuse_with(outsider, wording, as_json=as_json)
    page = flow.sign_up("dana@example.com", outsider)
    assert page.status_code == 403
    assert "User Management" in page.get_data(as_text=True)
    assert counts(database).users == 0


def test_a_spotify_failure_during_signup_is_502_and_creates_nothing(
    flow: SignupFlow, database: Database, emulator: SpotifyEmulator, listener: str
) -> None:
    started = flow.submit("ana@example.com")
    callback = flow.consent(started.headers["Location"], listener)
    emulator.fail(r"^/v1/me$", 503, times=10)
    page = flow.client.get(callback)
    assert page.status_code == 502
    assert counts(database).users == 0


def test_a_spotify_account_subscribed_under_another_confirmed_address_is_409(
    flow: SignupFlow, database: Database, smtp: MailCatcher, listener: str
) -> None:
    flow.sign_up("ana@example.com", listener)
    with database.session() as session:
        session.scalars(select(User)).one().confirmed_at = utcnow()
    page = flow.sign_up("someone-else@example.com", listener)
    assert page.status_code == 409
    assert "a***@example.com" in page.get_data(as_text=True)
    assert only_user(database).email == "ana@example.com"
    assert len(smtp.messages) == 1


def test_a_confirmed_address_cannot_switch_spotify_accounts_through_the_form(
    flow: SignupFlow, database: Database, emulator: SpotifyEmulator, listener: str
) -> None:
    flow.sign_up("ana@example.com", listener)
    with database.session() as session:
        session.scalars(select(User)).one().confirmed_at = utcnow()
    before = only_user(database)
    other = emulator.add_account("ben", display_name="Ben")
    page = flow.sign_up("ana@example.com", other)
    assert page.status_code == 200
    assert "Check your inbox" in page.get_data(as_text=True)
    assert only_user(database).spotify_account_id == before.spotify_account_id


def test_signing_up_again_as_a_subscriber_changes_nothing_and_mails_a_settings_link(
    flow: SignupFlow, database: Database, smtp: MailCatcher, listener: str
) -> None:
    flow.sign_up("ana@example.com", listener)
    confirmed_at = utcnow() - timedelta(days=40)
    with database.session() as session:
        user = session.scalars(select(User)).one()
        user.confirmed_at, user.last_digest_at = confirmed_at, confirmed_at
        user.needs_relink_since = utcnow()
    before = only_user(database)
    page = flow.sign_up("ana@example.com", listener)
    assert page.status_code == 200
    assert "Check your inbox" in page.get_data(as_text=True)
    after = only_user(database)
    assert (after.id, after.refresh_token_enc, after.needs_relink_since) == (
        before.id,
        before.refresh_token_enc,
        before.needs_relink_since,
    )
    _welcome, settings_mail = smtp.to("ana@example.com")
    assert str(settings_mail.message["Subject"]).endswith("settings link")
    paths = links_in(settings_mail)
    assert any(path.startswith("/settings/") for path in paths)
    assert any(path.startswith("/auth/relink/") for path in paths)  # the link needs renewing


def test_an_unconfirmed_address_signing_up_again_gets_a_new_confirmation(
    flow: SignupFlow, database: Database, smtp: MailCatcher, listener: str
) -> None:
    flow.sign_up("ana@example.com", listener)
    with time_machine.travel(utcnow() + timedelta(minutes=2)):
        page = flow.sign_up("ana@example.com", listener)
    assert page.status_code == 200
    assert counts(database).users == 1
    assert len(smtp.to("ana@example.com")) == 2


def test_reloading_the_page_after_a_good_signup_is_harmless(
    flow: SignupFlow, database: Database, smtp: MailCatcher, listener: str
) -> None:
    started = flow.submit("ana@example.com")
    answer = flow.client.get(flow.consent(started.headers["Location"], listener))
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/auth/sent"
    first, reload = flow.client.get("/auth/sent"), flow.client.get("/auth/sent")
    assert first.status_code == reload.status_code == 200
    assert first.get_data() == reload.get_data()
    assert "Check your inbox" in first.get_data(as_text=True)
    assert "ana@example.com" in first.get_data(as_text=True)
    assert counts(database).users == 1 and len(smtp.messages) == 1


@pytest.mark.parametrize("outcome", ["signup", "replay"])
def test_no_email_address_state_or_code_reaches_the_logs(
    flow: SignupFlow, listener: str, caplog: pytest.LogCaptureFixture, outcome: str
) -> None:
    caplog.set_level("DEBUG")
    started = flow.submit("ana.secret@example.com")
    callback = flow.consent(started.headers["Location"], listener)
    flow.client.get(callback)
    if outcome == "replay":
        flow.client.get(callback)
    query = parse_qs(urlsplit(callback).query)
    # The app's own records (the sandbox servers and the test's HTTP client log their traffic).
    text = "\n".join(
        r.getMessage()
        for r in caplog.records
        if r.name.startswith(("release_notifier", "huey", "flask", "waitress"))
        and not r.name.startswith("release_notifier.sandbox")
    )
    assert "ana.secret" not in text.replace("a***@", "")
    assert "ana.secret@example.com" not in text
    assert query["code"][0] not in text
    assert query["state"][0] not in text


def test_relink_link_starts_authorization_again_for_the_same_subscription(
    app: Flask, flow: SignupFlow, database: Database, listener: str
) -> None:
    from release_notifier.links import make_token

    flow.sign_up("ana@example.com", listener)
    with database.session() as session:
        session.scalars(select(User)).one().confirmed_at = utcnow()
    user = only_user(database)
    settings = app.extensions["release_notifier"].settings
    token = make_token(settings, "relink", user.id, user.link_version)
    started = flow.client.get(f"/auth/relink/{token}")
    assert started.status_code == 303
    assert parse_qs(urlsplit(started.headers["Location"]).query)["show_dialog"] == ["true"]
    with time_machine.travel(utcnow() + timedelta(minutes=1)):
        callback = flow.consent(started.headers["Location"], listener)
        page = flow.client.get(callback, follow_redirects=True)
    assert page.status_code == 200
    assert "Spotify is linked again" in page.get_data(as_text=True)
    assert only_user(database).id == user.id
    with database.session() as session:
        notices = [(n.kind, n.key) for n in session.scalars(select(Notice))]
        assert len(notices) == 1, notices  # no second confirmation


def test_a_forged_relink_link_is_400(client: FlaskClient, database: Database) -> None:
    assert client.get("/auth/relink/not-a-real-token").status_code == 400
    assert counts(database).pending == 0


def test_the_relink_link_may_switch_to_another_spotify_account(
    app: Flask, flow: SignupFlow, database: Database, emulator: SpotifyEmulator, listener: str
) -> None:
    from release_notifier.links import make_token

    flow.sign_up("ana@example.com", listener)
    with database.session() as session:
        session.scalars(select(User)).one().confirmed_at = utcnow()
    user = only_user(database)
    token = make_token(
        app.extensions["release_notifier"].settings, "relink", user.id, user.link_version
    )
    other = emulator.add_account("ana2", display_name="Ana (new account)")
    started = flow.client.get(f"/auth/relink/{token}")
    page = flow.client.get(flow.consent(started.headers["Location"], other), follow_redirects=True)
    assert page.status_code == 200
    after = only_user(database)
    assert after.id == user.id
    assert after.spotify_account_id == emulator.catalogue.accounts[other].account_id
