"""`release-notifier emulator`: runs in the foreground and says how to point the app at it."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from click.testing import CliRunner

from release_notifier.cli.sandbox import emulator_command
from tests.sandbox.helpers import REDIRECT_URI

EXPORT_NAMES = (
    "SPOTIFY_API_BASE_URL",
    "SPOTIFY_ACCOUNTS_BASE_URL",
    "SPOTIPY_CLIENT_ID",
    "SPOTIPY_CLIENT_SECRET",
)


@pytest.fixture
def running() -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    """The command on a free port with the demo catalogue, and the exports it printed."""
    command = [sys.executable, "-m", "release_notifier", "emulator", "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        exports: dict[str, str] = {}
        try:
            for line in process.stdout:
                if line.strip().startswith("export "):
                    name, _, value = line.strip().removeprefix("export ").partition("=")
                    exports[name] = value
                if len(exports) == len(EXPORT_NAMES):
                    break
            yield process, exports
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)


def test_it_prints_the_settings_and_serves_the_demo_listeners(
    running: tuple[subprocess.Popen[str], dict[str, str]],
) -> None:
    _, exports = running
    assert set(exports) == set(EXPORT_NAMES)
    accounts = exports["SPOTIFY_ACCOUNTS_BASE_URL"]

    consent = requests.post(
        accounts + "/authorize",
        data={
            "client_id": exports["SPOTIPY_CLIENT_ID"],
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "scope": "user-follow-read",
            "action": "agree",
            "user_id": "ana",
        },
        allow_redirects=False,
        timeout=10,
    )
    code = parse_qs(urlsplit(consent.headers["Location"]).query)["code"][0]
    tokens = requests.post(
        accounts + "/api/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        auth=(exports["SPOTIPY_CLIENT_ID"], exports["SPOTIPY_CLIENT_SECRET"]),
        timeout=10,
    ).json()
    following = requests.get(
        exports["SPOTIFY_API_BASE_URL"] + "/me/following",
        params={"type": "artist"},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )

    assert following.status_code == 200
    assert following.json()["artists"]["total"] > 0


def test_it_stops_cleanly_on_sigterm(running: tuple[subprocess.Popen[str], dict[str, str]]) -> None:
    process, _ = running
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    assert process.stdout is not None
    assert "stopped" in process.stdout.read()


def test_a_localhost_redirect_uri_is_refused_with_a_clear_message() -> None:
    result = CliRunner().invoke(
        emulator_command,
        ["--port", "0", "--empty", "--redirect-uri", "http://localhost:5000/auth/callback"],
    )
    assert result.exit_code == 2
    assert "localhost" in result.output


def test_a_busy_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(emulator_command, ["--port", str(port), "--empty"])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
