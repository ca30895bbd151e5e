"""Small HTTP helpers for talking to the emulator the way a client would."""

from __future__ import annotations

from typing import Any

import requests

from release_notifier.sandbox.emulator import SpotifyEmulator

REDIRECT_URI = "http://127.0.0.1:5000/auth/callback"


def api_get(
    emulator: SpotifyEmulator, path: str, token: str | None = None, **params: Any
) -> requests.Response:
    """GET an API path (or an absolute URL the emulator handed out) with a bearer token."""
    url = path if path.startswith("http") else emulator.api_base_url + path
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(url, params=params or None, headers=headers, timeout=10)


def token_request(emulator: SpotifyEmulator, **form: str) -> requests.Response:
    """POST /api/token with the sandbox client's Basic credentials."""
    return requests.post(
        emulator.accounts_base_url + "/api/token",
        data=form,
        auth=(emulator.client_id, emulator.client_secret),
        timeout=10,
    )


def listener_token(emulator: SpotifyEmulator, follows: list[str] | None = None) -> str:
    """An access token for a fresh allow-listed listener following `follows`."""
    user_id = emulator.add_account(follows=follows or [])
    return emulator.issue_tokens(user_id)["access_token"]
