"""What reaches the log through the handlers `configure_logging` sets up: values an attacker
controls cannot forge a line, and addresses and credentials in any spelling are masked."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask.testing import FlaskClient

from release_notifier.logs import configure_logging
from tests.web.conftest import SignupFlow

FORGED_LINE = "2026-12-02 00:00:00,000 INFO release_notifier.web.confirm: ok"


class Logged:
    """The messages as the app's handlers emit them (configure_logging filters every handler)."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog

    @property
    def lines(self) -> list[str]:
        return self.caplog.messages


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Logged:
    configure_logging("INFO")
    return Logged(caplog)


def test_a_line_break_in_the_callbacks_error_cannot_forge_a_log_line(
    flow: SignupFlow, client: FlaskClient, logged: Logged
) -> None:
    started = flow.submit("ana@example.com")
    state = dict(parse_qsl(urlsplit(started.headers["Location"]).query))["state"]

    answer = client.get(
        "/auth/callback", query_string={"state": state, "error": f"x\r\n{FORGED_LINE}"}
    )

    assert answer.status_code == 400

    callback_lines = [line for line in logged.lines if "callback" in line]
    assert callback_lines == [f"callback without a code (error=x\\r\\n{FORGED_LINE[:37]})"]
    assert not any(char in line for line in logged.lines for char in "\r\n")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\r\\nb"),
        ("\x1b[2J", "\\x1b[2J"),  # a terminal escape: clear screen
        ("a\x00b\x85c", "a\\x00b\\x85c"),
        ("a\u2028b", "a\\u2028b"),
        ("tab\there", "tab\\there"),
    ],
)
def test_control_characters_in_any_logged_value_are_escaped(
    logged: Logged, value: str, shown: str
) -> None:
    logging.getLogger("release_notifier.test").warning("value %s", value)

    assert logged.lines[-1] == f"value {shown}"


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("mail for 用户@例子.广告 refused", "mail for 用***@例子.广告 refused"),
        ("mail for ana@bücher.de refused", "mail for a***@bücher.de refused"),
        ("mail for zoë.müller@example.com refused", "mail for z***@example.com refused"),
        (
            "GET /auth/callback?code=AQBx7r2s&state=pGk3_v9Xw2-LmQ0rTz 200",
            "GET /auth/callback?code=[redacted]&state=[redacted] 200",
        ),
        (
            "sent Authorization: Basic cmVsYXk6aHVudGVyMg==",  # relay:hunter2
            "sent Authorization: [redacted]",
        ),
        ("Basic cmVsYXk6aHVudGVyMg== sent", "Basic [redacted] sent"),
        ("basic checks passed", "basic checks passed"),
        (
            "connecting to smtp://relay:hunter2@smtp.example.com:587",
            "connecting to smtp://[redacted]@smtp.example.com:587",
        ),
    ],
)
def test_addresses_state_and_credentials_in_any_spelling_are_masked(
    logged: Logged, line: str, shown: str
) -> None:
    logging.getLogger("release_notifier.test").warning(line)

    assert logged.lines[-1] == shown


def test_a_traceback_is_masked_and_cannot_forge_a_log_line(
    logged: Logged, caplog: pytest.LogCaptureFixture
) -> None:
    try:
        raise ValueError(f"no row for zoë.müller@example.com\n{FORGED_LINE}")
    except ValueError:
        logging.getLogger("release_notifier.test").exception("lookup failed")

    text = caplog.text
    assert "Traceback (most recent call last)" in text
    assert "zoë.müller" not in text and "z***@example.com" in text
    assert not any(line.startswith(FORGED_LINE[:10]) for line in text.splitlines())
