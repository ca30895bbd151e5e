"""Issue 13 items 1, 2 and 4: only the owner of an address can subscribe it or change its
subscription, and a signup never tells whether an address is registered.

Each test plays the attack of the security review against the app, the Spotify emulator and a
real SMTP server; the address owner's only channel is their mailbox.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import time_machine
from flask import Flask
from sqlalchemy import select

from release_notifier.backup.seed_import import import_seed_database
from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.db.models import User
from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.sandbox.mailcatcher import MailCatcher
from tests.backup.conftest import make_seed_database
from tests.security.conftest import snapshot
from tests.web.conftest import SignupFlow, csrf_token, links_in, signed_path

ATTACKER = "attacker@example.net"
VICTIM = "innocent@example.org"


def user_named(database: Database, email: str) -> User | None:
    with database.session() as session:
        return session.scalars(select(User).where(User.email == email)).one_or_none()


def confirm_path_in(smtp: MailCatcher, email: str) -> str:
    *_, message = smtp.to(email)
    [path] = [p for p in links_in(message) if p.startswith("/confirm/")]
    return path


def settings_paths_in(smtp: MailCatcher, email: str) -> list[str]:
    """The distinct settings links mailed to `email`."""
    paths = [p for m in smtp.to(email) for p in links_in(m) if p.startswith("/settings/")]
    return sorted(set(paths))


def later(minutes: int) -> time_machine.travel:
    return time_machine.travel(utcnow() + timedelta(minutes=minutes))


def test_a_confirm_link_cannot_confirm_an_address_it_was_not_sent_to(
    app: Flask, flow: SignupFlow, database: Database, smtp: MailCatcher, listener: str
) -> None:
    """Item 1: the attacker's link, after the account's address was changed to the victim's."""
    flow.sign_up(ATTACKER, listener)
    attackers_link = confirm_path_in(smtp, ATTACKER)
    with later(2):
        flow.sign_up(VICTIM, listener)  # same Spotify account, the victim's address

    attacker = app.test_client()
    page = attacker.post(attackers_link, data={"csrf_token": csrf_token(attacker)})

    assert page.status_code == 400
    assert "not valid" in page.get_data(as_text=True)
    victim = user_named(database, VICTIM)
    assert victim is not None and victim.confirmed_at is None
    assert [m for m in smtp.messages if "Glasshouse" in m.raw.decode(errors="replace")] == []
    # The victim's own link (from their own mailbox) still works.
    own = confirm_path_in(smtp, VICTIM)
    with later(3):  # the link was signed two minutes on
        assert attacker.post(own, data={"csrf_token": csrf_token(attacker)}).status_code == 200


def test_a_confirm_link_names_its_address(app: Flask, database: Database, ana: User) -> None:
    """Item 1: a confirm link made for the right version but another address is refused."""
    with database.session() as session:
        session.get(User, ana.id).email = "changed@example.com"  # type: ignore[union-attr]
    path = signed_path(app, "confirm", ana)  # made for ana@example.com, current version
    client = app.test_client()
    assert client.get(path).status_code == 400


def imported_subscriber(app: Flask, database: Database, tmp_path: Path) -> User:
    settings = app.extensions["release_notifier"].settings
    seed = make_seed_database(tmp_path / "seed.db", [("Casey@Example.com", "AQB-casey", None)])
    import_seed_database(settings, database, seed)
    user = user_named(database, "casey@example.com")
    assert user is not None and user.spotify_account_id is None
    return user


def test_a_signup_cannot_resubscribe_or_relink_an_imported_subscriber(
    app: Flask,
    flow: SignupFlow,
    database: Database,
    smtp: MailCatcher,
    listener: str,
    tmp_path: Path,
) -> None:
    """Item 2: unsubscribe with one click, then sign the address up with any account."""
    casey = imported_subscriber(app, database, tmp_path)
    one_click = signed_path(app, "unsubscribe", casey)
    assert (
        app.test_client().post(one_click, data={"List-Unsubscribe": "One-Click"}).status_code < 400
    )
    before = snapshot(database)

    page = flow.sign_up("Casey@example.com", listener)

    assert page.status_code == 200
    assert "Check your inbox" in page.get_data(as_text=True)
    assert "linked again" not in page.get_data(as_text=True)
    after = snapshot(database)
    assert after["users"] == before["users"]  # still unsubscribed, no account, same token
    assert after["follows"] == before["follows"] == []
    # The owner hears about it, with a way to their settings (and nothing else happened).
    [settings_path] = settings_paths_in(smtp, "casey@example.com")
    assert app.test_client().get(settings_path).status_code == 200


def test_a_stranger_cannot_replace_the_spotify_link_of_a_pending_signup(
    flow: SignupFlow, database: Database, emulator: SpotifyEmulator, listener: str
) -> None:
    """Item 2 (and 3): typing someone's unconfirmed address with one's own Spotify account."""
    flow.sign_up("ana@example.com", listener)
    before = user_named(database, "ana@example.com")
    stranger = emulator.add_account("mallory", display_name="Mallory")
    with later(2):
        page = flow.sign_up("ana@example.com", stranger)
    assert page.status_code == 200
    after = user_named(database, "ana@example.com")
    assert before is not None and after is not None
    assert (after.spotify_account_id, after.refresh_token_enc, after.link_version) == (
        before.spotify_account_id,
        before.refresh_token_enc,
        before.link_version,
    )


def answer_to(flow: SignupFlow, email: str, account: str) -> tuple[int, str]:
    with later(3):
        page = flow.sign_up(email, account)
    return page.status_code, page.get_data(as_text=True).replace(email, "ADDRESS")


def test_every_signup_gets_the_same_answer_and_the_mail_says_what_happened(
    app: Flask,
    flow: SignupFlow,
    database: Database,
    emulator: SpotifyEmulator,
    smtp: MailCatcher,
    listener: str,
) -> None:
    """Item 4: new address, subscriber with the same account, subscriber with another one."""
    flow.sign_up("ana@example.com", listener)
    with database.session() as session:
        session.scalars(select(User)).one().confirmed_at = utcnow()
    ben, cleo = emulator.add_account("ben"), emulator.add_account("cleo")
    sent_before = len(smtp.to("ana@example.com"))

    answers = {
        "new address": answer_to(flow, "ben@example.com", ben),
        "subscriber, same account": answer_to(flow, "ana@example.com", listener),
        "subscriber, other account": answer_to(flow, "ana@example.com", cleo),
    }

    assert len(set(answers.values())) == 1, answers
    status, body = answers["new address"]
    assert status == 200 and "Check your inbox" in body
    news = smtp.to("ana@example.com")[sent_before:]
    assert len(news) >= 1
    assert all("/confirm/" not in m.raw.decode(errors="replace") for m in news)
    assert settings_paths_in(smtp, "ana@example.com")
    assert user_named(database, "ana@example.com").spotify_account_id == (  # type: ignore[union-attr]
        emulator.catalogue.accounts[listener].account_id
    )
