"""`release-notifier emulator`: runs in the foreground and says how to point the app at it."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

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
    process = subprocess.Popen(
        [sys.executable, "-m", "release_notifier", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    exports: dict[str, str] = {}
    assert process.stdout is not None
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
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "release_notifier",
            "emulator",
            "--port",
            "0",
            "--empty",
            "--redirect-uri",
            "http://localhost:5000/auth/callback",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "localhost" in result.stderr
