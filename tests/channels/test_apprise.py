"""Apprise pushes against a real local webhook receiver: how each answer is classified, what
a channel's label shows, and which URLs the operator's settings let through."""

from __future__ import annotations

import pytest

from release_notifier.channels import Failure
from release_notifier.channels.apprise import (
    ChannelUrlError,
    check_url,
    label_for,
    send_push,
)
from release_notifier.sandbox.pushcatcher import PushCatcher
from release_notifier.settings import ConfigError, load_settings

TIMEOUT = 5.0


def test_an_accepted_push_arrives_with_its_title_and_message(pushes: PushCatcher) -> None:
    outcome = send_push(pushes.apprise_url, "New release: Nova Reed - Glasshouse", "body", TIMEOUT)
    assert outcome.sent
    [push] = pushes.pushes
    assert (push.title, push.message, push.path) == (
        "New release: Nova Reed - Glasshouse",
        "body",
        "/push",
    )


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, Failure.PERMANENT),
        (403, Failure.PERMANENT),
        (404, Failure.PERMANENT),
        (410, Failure.PERMANENT),
        (400, Failure.REFUSED),
        (413, Failure.REFUSED),
        (422, Failure.REFUSED),
        (429, Failure.TEMPORARY),
        (500, Failure.TEMPORARY),
        (503, Failure.TEMPORARY),
    ],
)
def test_each_answer_is_classified(pushes: PushCatcher, status: int, kind: Failure) -> None:
    pushes.answer(status)
    outcome = send_push(pushes.apprise_url, "title", "body", TIMEOUT)
    assert (outcome.failure, pushes.attempts, pushes.pushes) == (kind, 1, [])
    assert f"the service answered {status}" in outcome.reason


def test_text_is_escaped_for_a_service_that_reads_html(pushes: PushCatcher) -> None:
    hostile = "<script>alert(1)</script> & <b>Bold</b>"
    outcome = send_push(pushes.apprise_url + "?format=html", "title", hostile, TIMEOUT)
    assert outcome.sent
    [push] = pushes.pushes
    assert "<script>" not in push.message and "&lt;script&gt;" in push.message


def test_a_receiver_that_is_down_is_a_temporary_failure(pushes: PushCatcher) -> None:
    url = pushes.apprise_url
    pushes.stop()
    outcome = send_push(url, "title", "body", TIMEOUT)
    assert (outcome.failure, outcome.reason) == (
        Failure.TEMPORARY,
        "could not connect to the service",
    )


def test_a_receiver_that_does_not_answer_in_time_is_a_temporary_failure(
    pushes: PushCatcher,
) -> None:
    pushes.delay = 1.5
    outcome = send_push(pushes.apprise_url + "?rto=0.5", "title", "body", TIMEOUT)
    assert outcome.failure is Failure.TEMPORARY


@pytest.mark.parametrize(
    ("service", "scheme", "host", "label"),
    [
        ("ntfy", "ntfys", "ntfy.example.com", "ntfy · ntfys://ntfy.example.com"),
        ("ntfy", "ntfy", "my-secret-topic", "ntfy · ntfy://my…"),
        ("Telegram", "tgram", "123456789", "Telegram · tgram://12…"),
        ("JSON", "json", "127.0.0.1", "JSON · json://127.0.0.1"),
        ("Gotify", "gotify", None, "Gotify"),
    ],
)
def test_a_label_shows_the_service_and_a_server_name_never_a_token(
    service: str, scheme: str, host: str | None, label: str
) -> None:
    assert label_for(service, scheme, host) == label


def test_urls_inside_the_servers_network_are_refused_unless_allowed() -> None:
    closed = load_settings(channel_schemes="*")
    for url in (
        "json://127.0.0.1:8080/x",
        "jsons://localhost/x",
        "json://192.168.1.4/x",
        "json://[::1]/x",
        "json://169.254.169.254/latest",
    ):
        with pytest.raises(ChannelUrlError, match="inside this server's own network"):
            check_url(closed, url)
    opened = load_settings(channel_schemes="*", channel_allow_local_hosts=True)
    assert check_url(opened, "json://127.0.0.1:8080/x").label == "JSON · json://127.0.0.1"
    assert check_url(closed, "jsons://hooks.example.com/x").scheme == "jsons"


def test_channel_schemes_must_be_scheme_names_and_the_error_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"^CHANNEL_SCHEMES: 'ntfy://' is not a URL scheme"):
        load_settings(channel_schemes="ntfy,ntfy://")
    assert load_settings(channel_schemes=" NTFY , tgram ").channel_scheme_set == {
        "ntfy",
        "tgram",
    }
    assert load_settings(channel_schemes="*").channel_scheme_set is None
