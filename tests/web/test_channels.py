"""Push channels in settings: add by Apprise URL (checked; stored encrypted; never shown again),
send a test message, choose the cadence, remove; bad input changes nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from release_notifier.db import Database
from release_notifier.db.models import PushChannel, User
from release_notifier.jobs.queue import build_queue
from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.sandbox.mailcatcher import MailCatcher
from release_notifier.sandbox.pushcatcher import PushCatcher
from release_notifier.web import create_app
from tests.web.conftest import csrf_token, signed_path, web_settings_for

SECRET_URL_PART = "s3cret-pass"


AppMaker = Callable[..., Flask]


@pytest.fixture
def channel_app(
    emulator: SpotifyEmulator, smtp: MailCatcher, tmp_path: Path, database: Database
) -> AppMaker:
    """Makes the app with settings overridden (local hosts allowed unless said otherwise)."""

    def make(**overrides: object) -> Flask:
        values: dict[str, object] = {"channel_allow_local_hosts": True, **overrides}
        settings = web_settings_for(emulator, smtp, tmp_path, database_url=database.url, **values)
        queue = build_queue(settings, database, immediate=True)
        return create_app(settings, database, queue=queue)

    return make


@pytest.fixture
def app(channel_app: AppMaker) -> Flask:
    return channel_app()


def stored_channels(database: Database) -> list[PushChannel]:
    with database.session() as session:
        return list(session.scalars(select(PushChannel).order_by(PushChannel.id)))


def add(client: FlaskClient, path: str, url: str, cadence: str = "instant") -> object:
    return client.post(
        f"{path}/channels",
        data={"url": url, "cadence": cadence, "csrf_token": csrf_token(client, path)},
    )


def press(client: FlaskClient, path: str, action: str, **data: str) -> object:
    return client.post(
        f"{path}/{action}",
        data={**data, "csrf_token": csrf_token(client, path)},
        follow_redirects=True,
    )


def test_add_test_choose_cadence_and_remove_a_channel_without_showing_its_url_again(
    app: Flask, client: FlaskClient, ana: User, database: Database, pushes: PushCatcher
) -> None:
    path = signed_path(app, "settings", ana)
    url = pushes.apprise_url.replace("json://", f"json://ana:{SECRET_URL_PART}@")

    added = add(client, path, url)
    assert added.status_code == 303
    [channel] = stored_channels(database)
    assert channel.user_id == ana.id and channel.cadence == "instant"
    assert SECRET_URL_PART.encode() not in channel.url_enc  # encrypted at rest
    assert channel.label == "JSON · json://127.0.0.1"
    page = client.get(path).get_data(as_text=True)
    assert "JSON · json://127.0.0.1" in page
    assert SECRET_URL_PART not in page and "/push" not in page  # never shown whole again

    tested = press(client, path, f"channels/{channel.id}/test")
    assert "Test message sent to JSON" in tested.get_data(as_text=True)
    [push] = pushes.pushes
    assert "test message" in push.title and "as soon as they are found" in push.message

    press(client, path, f"channels/{channel.id}/cadence", cadence="digest")
    assert stored_channels(database)[0].cadence == "digest"

    removed = press(client, path, f"channels/{channel.id}/remove")
    assert "Removed JSON" in removed.get_data(as_text=True)
    assert stored_channels(database) == []
    assert 'data-channel="' not in client.get(path).get_data(as_text=True)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("", "Enter the Apprise URL"),
        ("just some words", "not an Apprise URL"),
        ("nosuchservice://token", "does not send to nosuchservice://"),
        ("windows://", "does not send to windows://"),
        ("tgram://", "Apprise cannot use this tgram:// URL"),
    ],
)
def test_a_bad_url_is_refused_with_a_clear_message_and_nothing_is_stored(
    app: Flask, client: FlaskClient, ana: User, database: Database, url: str, says: str
) -> None:
    path = signed_path(app, "settings", ana)
    answer = add(client, path, url)
    assert answer.status_code == 422
    assert says in answer.get_data(as_text=True)
    assert stored_channels(database) == []


def test_the_operator_limits_schemes_and_inside_addresses(
    channel_app: AppMaker, database: Database, ana: User, pushes: PushCatcher
) -> None:
    limited = channel_app(channel_schemes="ntfys,jsons")
    client = limited.test_client()
    path = signed_path(limited, "settings", ana)
    answer = add(client, path, pushes.apprise_url)
    assert answer.status_code == 422
    assert "does not send to json:// addresses. It can send to: jsons, ntfys." in (
        answer.get_data(as_text=True)
    )

    closed = channel_app(channel_allow_local_hosts=False)
    client = closed.test_client()
    answer = add(client, path, "jsons://10.0.0.7/hook")
    assert answer.status_code == 422
    assert "inside this server&#39;s own network" in answer.get_data(as_text=True)
    assert stored_channels(database) == []


def test_channels_switched_off_by_the_operator_take_no_new_url(
    channel_app: AppMaker, database: Database, ana: User, pushes: PushCatcher
) -> None:
    off = channel_app(channels_enabled=False)
    client = off.test_client()
    path = signed_path(off, "settings", ana)
    assert "Push notifications" not in client.get(path).get_data(as_text=True)
    answer = add(client, path, pushes.apprise_url)
    assert answer.status_code == 422
    assert "Push channels are turned off on this service" in answer.get_data(as_text=True)
    assert stored_channels(database) == []


def test_without_the_form_token_nothing_is_stored(
    app: Flask, client: FlaskClient, ana: User, database: Database, pushes: PushCatcher
) -> None:
    path = signed_path(app, "settings", ana)
    answer = client.post(f"{path}/channels", data={"url": pushes.apprise_url})
    assert answer.status_code == 400
    assert stored_channels(database) == []


def test_nobody_reaches_another_subscribers_channel(
    app: Flask, client: FlaskClient, ana: User, database: Database, pushes: PushCatcher
) -> None:
    path = signed_path(app, "settings", ana)
    add(client, path, pushes.apprise_url)
    [channel] = stored_channels(database)
    with database.session() as session:
        bo = User(email="bo@example.com", created_at=ana.created_at, release_types="album")
        session.add(bo)
        session.flush()
        bo_path = signed_path(app, "settings", bo)
    for action in ("test", "remove"):
        answer = client.post(
            f"{bo_path}/channels/{channel.id}/{action}",
            data={"csrf_token": csrf_token(client, bo_path)},
        )
        assert answer.status_code == 404
    assert len(stored_channels(database)) == 1 and pushes.attempts == 0


def test_a_failing_test_message_says_why_without_the_url(
    app: Flask, client: FlaskClient, ana: User, database: Database, pushes: PushCatcher
) -> None:
    path = signed_path(app, "settings", ana)
    add(client, path, pushes.apprise_url)
    [channel] = stored_channels(database)
    pushes.answer(410)
    page = press(client, path, f"channels/{channel.id}/test").get_data(as_text=True)
    assert "did not go through: the service answered 410" in page
    pushes.stop()
    page = press(client, path, f"channels/{channel.id}/test").get_data(as_text=True)
    assert "did not go through: could not connect to the service" in page


def test_the_url_never_reaches_the_log(
    app: Flask,
    client: FlaskClient,
    ana: User,
    pushes: PushCatcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    path = signed_path(app, "settings", ana)
    url = pushes.apprise_url.replace("json://", f"json://ana:{SECRET_URL_PART}@")
    add(client, path, url)
    add(client, path, f"nosuchservice://{SECRET_URL_PART}")
    channel_id = 1
    press(client, path, f"channels/{channel_id}/test")
    assert pushes.pushes
    assert SECRET_URL_PART not in caplog.text


def test_at_most_five_channels(
    app: Flask, client: FlaskClient, ana: User, database: Database, pushes: PushCatcher
) -> None:
    path = signed_path(app, "settings", ana)
    for _ in range(5):
        assert add(client, path, pushes.apprise_url).status_code == 303
    answer = add(client, path, pushes.apprise_url)
    assert answer.status_code == 422 and "remove one first" in answer.get_data(as_text=True)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(PushChannel)) == 5
