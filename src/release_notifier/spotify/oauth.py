"""OAuth against SPOTIFY_ACCOUNTS_BASE_URL (Authlib over requests): the authorization code flow
for users' follow lists, and the client-credentials grant for the app's own token."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from release_notifier.clock import utcnow
from release_notifier.settings import Settings
from release_notifier.spotify.errors import (
    AppTokenRefused,
    InvalidGrant,
    SpotifyError,
    SpotifyUnavailable,
)

logger = logging.getLogger(__name__)

SCOPE = "user-follow-read"


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_at: datetime
    scope: str


def _refuse_server_errors(response: requests.Response) -> requests.Response:
    """A 5xx from the token endpoint is an outage, never a verdict on the token."""
    if response.status_code >= 500:
        raise SpotifyUnavailable(f"token endpoint answered {response.status_code}")
    return response


def _session(settings: Settings, scope: str | None = SCOPE) -> OAuth2Session:
    settings.require("spotipy_client_id", "spotipy_client_secret")
    session = OAuth2Session(
        settings.spotipy_client_id,
        settings.spotipy_client_secret,
        scope=scope,
        redirect_uri=settings.redirect_uri,
        token_endpoint_auth_method="client_secret_basic",
        default_timeout=settings.spotify_timeout_seconds,
    )
    session.register_compliance_hook("access_token_response", _refuse_server_errors)
    session.register_compliance_hook("refresh_token_response", _refuse_server_errors)
    return session


def authorize_url(settings: Settings, state: str, *, show_dialog: bool = False) -> str:
    """Where to send the user to grant `user-follow-read`; `state` comes back on the callback."""
    extra = {"show_dialog": "true"} if show_dialog else {}
    url, _ = _session(settings).create_authorization_url(
        f"{settings.spotify_accounts_base_url}/authorize", state=state, **extra
    )
    return str(url)


def _token_set(token: dict[str, Any], previous_refresh: str | None = None) -> TokenSet:
    """The answer's tokens; an answer without `scope` granted what was asked (RFC 6749 5.1),
    an empty one granted nothing."""
    expires_in = int(token.get("expires_in") or 3600)
    scope = token.get("scope")
    return TokenSet(
        access_token=str(token["access_token"]),
        refresh_token=token.get("refresh_token") or previous_refresh,
        expires_at=utcnow() + timedelta(seconds=expires_in),
        scope=SCOPE if scope is None else str(scope),
    )


def scope_problem(granted: str) -> str | None:
    """ "missing" without `user-follow-read`, "extra" with anything more; None when exact.

    The app keeps only a token that can read follows and nothing else: one that cannot would
    make a subscriber who never gets anything, one that can do more is a liability if stolen.
    """
    scopes = set(granted.split())
    if SCOPE not in scopes:
        return "missing"
    return "extra" if scopes - {SCOPE} else None


def _call_token_endpoint(settings: Settings, **params: str) -> dict[str, Any]:
    """POST to /api/token, turning every failure into InvalidGrant, AppTokenRefused (any
    refusal of the client-credentials grant) or SpotifyError."""
    grant_type = params.get("grant_type")
    session = _session(settings, scope=None if grant_type == "client_credentials" else SCOPE)
    url = f"{settings.spotify_accounts_base_url}/api/token"
    try:
        if grant_type == "refresh_token":
            token = session.refresh_token(url, refresh_token=params["refresh_token"])
        elif grant_type == "client_credentials":
            token = session.fetch_token(url, grant_type="client_credentials")
        else:
            token = session.fetch_token(url, grant_type="authorization_code", code=params["code"])
    except OAuthError as exc:
        if exc.error == "invalid_grant":
            raise InvalidGrant(f"invalid_grant: {exc.description or 'token is dead'}") from None
        if grant_type == "client_credentials":
            raise AppTokenRefused(f"the app token was refused: {exc.error}", status=400) from None
        raise SpotifyError(f"token endpoint refused: {exc.error}", status=400) from None
    except (requests.RequestException, ValueError) as exc:
        raise SpotifyUnavailable(f"token endpoint unavailable: {type(exc).__name__}") from None
    finally:
        session.close()
    if "access_token" not in token:
        raise SpotifyUnavailable("token endpoint answered without an access token")
    return dict(token)


def exchange_code(settings: Settings, code: str) -> TokenSet:
    """Trade the callback's code for tokens; a bad, reused or expired code is InvalidGrant."""
    return _token_set(_call_token_endpoint(settings, grant_type="authorization_code", code=code))


def refresh_access_token(settings: Settings, refresh_token: str) -> TokenSet:
    """A fresh access token; keeps the old refresh token when Spotify does not rotate it."""
    token = _call_token_endpoint(settings, grant_type="refresh_token", refresh_token=refresh_token)
    return _token_set(token, previous_refresh=refresh_token)


def fetch_app_token(settings: Settings) -> TokenSet:
    """The app's own access token (client credentials): an hour, no user, no refresh token."""
    token = _call_token_endpoint(settings, grant_type="client_credentials")
    return _token_set({**token, "scope": token.get("scope") or ""})
