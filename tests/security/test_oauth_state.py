"""Issue 13 item 3: the OAuth `state` is bound to the browser that started the trip to Spotify.

The attack: start a signup for your own address and send a victim its authorize URL; the victim
consents with their Spotify account and lands on our callback in their own browser.
"""

from __future__ import annotations

from flask import Flask

from release_notifier.db import Database
from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.sandbox.mailcatcher import MailCatcher
from tests.security.conftest import snapshot
from tests.web.conftest import SignupFlow


def test_a_callback_in_another_browser_is_refused_and_changes_nothing(
    app: Flask,
    flow: SignupFlow,
    database: Database,
    emulator: SpotifyEmulator,
    smtp: MailCatcher,
) -> None:
    started = flow.submit("attacker@example.net")  # the attacker's browser
    victim_account = emulator.add_account("vic", display_name="Victim")
    victim = app.test_client()
    callback = flow.consent(started.headers["Location"], victim_account)
    before = snapshot(database)

    page = victim.get(callback)

    assert page.status_code == 400
    assert "another browser" in page.get_data(as_text=True)
    assert snapshot(database) == before
    assert smtp.messages == []
    # The victim's own signup is not blocked by the attacker's address (it was a 409 naming it).
    own = SignupFlow(victim, emulator).sign_up("victim@example.org", victim_account)
    assert own.status_code == 200
    assert "Check your inbox" in own.get_data(as_text=True)


def test_the_state_of_a_relink_is_bound_to_its_browser_too(
    app: Flask, flow: SignupFlow, database: Database, emulator: SpotifyEmulator, ana: object
) -> None:
    from tests.web.conftest import signed_path

    relink = flow.client.get(signed_path(app, "relink", ana))  # type: ignore[arg-type]
    assert relink.status_code == 303
    other = emulator.add_account("mallory", display_name="Mallory")
    callback = flow.consent(relink.headers["Location"], other)
    before = snapshot(database)
    assert app.test_client().get(callback).status_code == 400
    assert snapshot(database) == before
