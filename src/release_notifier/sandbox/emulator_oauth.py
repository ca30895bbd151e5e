"""The emulated Spotify Accounts service: consent page, codes, access and refresh tokens, and the
app's own client-credentials tokens.

Rules kept from Spotify (2026): codes are single-use and live 10 minutes, access tokens an hour,
and a refresh token dies 183 days after the user's original consent however often it is used.
A client-credentials token acts for no user: it reads the catalogue, never /me or follows, and
comes without a refresh token (the app asks again).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Flask, Response, jsonify, render_template_string, request

if TYPE_CHECKING:
    from release_notifier.sandbox.emulator import SpotifyEmulator

ACCESS_TOKEN_LIFETIME = timedelta(seconds=3600)
CODE_LIFETIME = timedelta(minutes=10)
REFRESH_TOKEN_LIFETIME = timedelta(days=183)
LOOPBACK_HOSTS = ("127.0.0.1", "::1")
KNOWN_SCOPES = frozenset(
    [
        "ugc-image-upload",
        "user-read-playback-state",
        "user-modify-playback-state",
        "user-read-currently-playing",
        "app-remote-control",
        "streaming",
        "playlist-read-private",
        "playlist-read-collaborative",
        "playlist-modify-private",
        "playlist-modify-public",
        "user-follow-modify",
        "user-follow-read",
        "user-read-playback-position",
        "user-top-read",
        "user-read-recently-played",
        "user-library-modify",
        "user-library-read",
        "user-read-email",
        "user-read-private",
        "user-personalized",
    ]
)


class TokenError(Exception):
    """An OAuth error answer from /api/token: HTTP 400 (or `status`) with `error` and
    `error_description`."""

    def __init__(self, error: str, description: str | None = None, status: int = 400) -> None:
        super().__init__(error)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        body = {"error": self.error}
        if self.description is not None:
            body["error_description"] = self.description
        return body


@dataclass(frozen=True)
class Authorization:
    """One consent by one user; every refresh token born of it shares its deadline."""

    user_id: str
    scope: str
    authorized_at: datetime
    pkce: bool = False


@dataclass
class CodeGrant:
    authorization: Authorization
    redirect_uri: str
    issued_at: datetime
    code_challenge: str | None = None
    used: bool = False


@dataclass
class RefreshGrant:
    authorization: Authorization
    revoked: bool = False


@dataclass
class AccessGrant:
    """An access token; `user_id` None: the app's own (client credentials), for no user."""

    user_id: str | None
    scope: str
    expires_at: datetime


def _is_loopback_http(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS


def check_registrable(uri: str) -> None:
    """Spotify only registers HTTPS URIs and http loopback literals; never `localhost`."""
    parts = urlsplit(uri)
    if parts.hostname == "localhost":
        raise ValueError(f"redirect URI {uri!r} uses localhost, which Spotify rejects")
    if not (parts.scheme == "https" and parts.hostname) and not _is_loopback_http(uri):
        raise ValueError(f"redirect URI {uri!r} must be https or http://127.0.0.1 / http://[::1]")


def _without_port(uri: str) -> str:
    parts = urlsplit(uri)
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
    return urlunsplit((parts.scheme, host or "", parts.path, parts.query, parts.fragment))


class RedirectRules:
    """Which redirect URIs the emulated app has registered.

    With a list: exact match, except that a loopback URI registered without a port accepts any
    port. Without one: any https URI or http loopback literal. `any_http_host` also takes plain
    http on any host, which Spotify refuses: for the demo reached from another machine.
    """

    def __init__(self, registered: list[str] | None, *, any_http_host: bool = False) -> None:
        self.any_http_host = any_http_host
        for uri in registered or []:
            self.check(uri)
        self.registered = registered

    def check(self, uri: str) -> None:
        """Raise ValueError for a URI this app could never register."""
        if not (self.any_http_host and urlsplit(uri).scheme == "http"):
            check_registrable(uri)

    def allows(self, uri: str) -> bool:
        try:
            self.check(uri)
        except ValueError:
            return False
        if self.registered is None or uri in self.registered:
            return True
        if not _is_loopback_http(uri):
            return False
        portless = [r for r in self.registered if _is_loopback_http(r) and urlsplit(r).port is None]
        return _without_port(uri) in portless


class Grants:
    """Codes, refresh tokens and access tokens, with the expiry rules above."""

    def __init__(self) -> None:
        self.codes: dict[str, CodeGrant] = {}
        self.refresh_tokens: dict[str, RefreshGrant] = {}
        self.access_tokens: dict[str, AccessGrant] = {}

    def new_code(
        self, authorization: Authorization, redirect_uri: str, code_challenge: str | None = None
    ) -> str:
        code = "AQ" + secrets.token_urlsafe(96)
        self.codes[code] = CodeGrant(
            authorization, redirect_uri, authorization.authorized_at, code_challenge
        )
        return code

    def exchange_code(
        self,
        code: str,
        redirect_uri: str,
        now: datetime,
        *,
        verifier: str | None,
        confidential: bool,
    ) -> Authorization:
        """Spend a code; a reused, unknown or stale one is refused, and so is a PKCE code
        without its verifier or a plain code from a client that gave no secret."""
        grant = self.codes.get(code)
        if grant is None or grant.used:
            raise TokenError("invalid_grant", "Invalid authorization code")
        if now - grant.issued_at > CODE_LIFETIME:
            raise TokenError("invalid_grant", "Authorization code expired")
        if redirect_uri != grant.redirect_uri:
            raise TokenError("invalid_grant", "Invalid redirect URI")
        if grant.code_challenge is not None and (
            verifier is None or not hmac.compare_digest(s256(verifier), grant.code_challenge)
        ):
            raise TokenError("invalid_grant", "code_verifier was incorrect")
        if grant.code_challenge is None and not confidential:
            raise TokenError("invalid_client", "Invalid client secret")
        grant.used = True
        return grant.authorization

    def issue(
        self, authorization: Authorization, now: datetime, *, refresh: bool
    ) -> dict[str, Any]:
        """A token answer: a fresh access token, and a refresh token when `refresh`."""
        access_token = "BQ" + secrets.token_urlsafe(96)
        self.access_tokens[access_token] = AccessGrant(
            authorization.user_id, authorization.scope, now + ACCESS_TOKEN_LIFETIME
        )
        answer: dict[str, Any] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "scope": authorization.scope,
            "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
        }
        if refresh:
            refresh_token = "AQ" + secrets.token_urlsafe(96)
            self.refresh_tokens[refresh_token] = RefreshGrant(authorization)
            answer["refresh_token"] = refresh_token
        return answer

    def issue_app_token(self, now: datetime) -> dict[str, Any]:
        """A client-credentials answer: an access token for no user, no scope, no refresh."""
        access_token = "BQ" + secrets.token_urlsafe(96)
        self.access_tokens[access_token] = AccessGrant(None, "", now + ACCESS_TOKEN_LIFETIME)
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
        }

    def use_refresh_token(
        self, token: str, now: datetime, *, rotate: bool, confidential: bool
    ) -> dict[str, Any]:
        """Trade a refresh token for an access token and, when rotating (always for PKCE), a
        new refresh token that replaces it."""
        grant = self.refresh_tokens.get(token)
        if grant is None:
            raise TokenError("invalid_grant", "Invalid refresh token")
        if not confidential and not grant.authorization.pkce:
            raise TokenError("invalid_client", "Invalid client secret")
        rotate = rotate or grant.authorization.pkce
        if grant.revoked:
            raise TokenError("invalid_grant", "Refresh token revoked")
        if now >= grant.authorization.authorized_at + REFRESH_TOKEN_LIFETIME:
            raise TokenError("invalid_grant", "Refresh token expired")
        if rotate:
            del self.refresh_tokens[token]
        return self.issue(grant.authorization, now, refresh=rotate)

    def access(self, token: str, now: datetime) -> AccessGrant | None:
        grant = self.access_tokens.get(token)
        return grant if grant is not None and now < grant.expires_at else None

    def revoke(self, user_id: str) -> None:
        for grant in self.refresh_tokens.values():
            if grant.authorization.user_id == user_id:
                grant.revoked = True

    def expire_access_tokens(self) -> None:
        self.access_tokens.clear()


def s256(verifier: str) -> str:
    """The PKCE S256 code challenge for `verifier`."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def with_query(uri: str, params: dict[str, str]) -> str:
    """`uri` with `params` appended to whatever query it already has."""
    parts = urlsplit(uri)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _callback_params(base: dict[str, str], state: str | None) -> dict[str, str]:
    return {**base, "state": state} if state is not None else base


CONSENT_FIELDS = (
    "client_id",
    "response_type",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)

ERROR_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Error - Spotify (sandbox)</title></head>
<body><main><h1>Oops! Something went wrong</h1><p class="error">{{ message }}</p></main></body>
</html>"""

CONSENT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorize - Spotify (sandbox)</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:3rem auto}label{display:block;
margin:.4rem 0}.note{color:#666;font-size:.9rem}</style></head>
<body><main>
<h1>Spotify sandbox</h1>
<p>An app wants to connect to your Spotify account.</p>
<p>It asks to: {% for s in scopes %}<code>{{ s }}</code>{% if not loop.last %}, {% endif %}
{% else %}see your public profile{% endfor %}</p>
<form method="post" action="{{ action }}">
<fieldset><legend>Log in as</legend>
{% for account in accounts %}
<label><input type="radio" name="user_id" value="{{ account.user_id }}"
 {% if loop.first %}checked{% endif %}> {{ account.display_name }} ({{ account.user_id }})
 {% if not account.allowlisted %}<span class="note">not allow-listed</span>{% endif %}</label>
{% else %}<p>No sandbox accounts exist yet.</p>{% endfor %}
</fieldset>
{% for name, value in hidden.items() %}
<input type="hidden" name="{{ name }}" value="{{ value }}">{% endfor %}
<button type="submit" name="action" value="agree">Agree</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form>
</main></body></html>"""


def _error_page(message: str, status: int = 400) -> Response:
    return Response(render_template_string(ERROR_PAGE, message=message), status)


def register_oauth_routes(app: Flask, emulator: SpotifyEmulator) -> None:
    """Add GET/POST /authorize and POST /api/token to `app`."""

    def authorize_problem(params: dict[str, str]) -> Response | None:
        """A request the app itself got wrong gets Spotify's own error page, never a redirect."""
        if params.get("client_id") != emulator.client_id:
            return _error_page("INVALID_CLIENT: Invalid client")
        if not emulator.redirect_rules.allows(params.get("redirect_uri", "")):
            return _error_page("INVALID_CLIENT: Invalid redirect URI")
        if not set(params.get("scope", "").split()) <= KNOWN_SCOPES:
            return _error_page("INVALID_SCOPE: Illegal scope")
        return None

    def callback(params: dict[str, str], answer: dict[str, str]) -> Response:
        target = with_query(params["redirect_uri"], _callback_params(answer, params.get("state")))
        return Response(status=302, headers={"Location": target})

    @app.get("/authorize")
    def authorize_page() -> Response:
        params = request.args.to_dict()
        problem = authorize_problem(params)
        if problem is not None:
            return problem
        if params.get("response_type") != "code":
            return callback(params, {"error": "unsupported_response_type"})
        if "code_challenge" in params and params.get("code_challenge_method") != "S256":
            return callback(params, {"error": "invalid_request"})
        hidden = {key: params[key] for key in CONSENT_FIELDS if key in params}
        with emulator.lock:
            accounts = list(emulator.catalogue.accounts.values())
        page = render_template_string(
            CONSENT_PAGE,
            accounts=accounts,
            hidden=hidden,
            scopes=params.get("scope", "").split(),
            action=emulator.accounts_base_url + "/authorize",
        )
        return Response(page, 200)

    @app.post("/authorize")
    def authorize_answer() -> Response:
        params = request.form.to_dict()
        problem = authorize_problem(params)
        if problem is not None:
            return problem
        if params.get("action") != "agree":
            return callback(params, {"error": "access_denied"})
        user_id = params.get("user_id", "")
        challenge = params.get("code_challenge")
        if challenge is not None and params.get("code_challenge_method") != "S256":
            return callback(params, {"error": "invalid_request"})
        try:
            code = emulator.grant_code(
                user_id, params["redirect_uri"], params.get("scope", ""), code_challenge=challenge
            )
        except ValueError:
            return _error_page("Choose one of the sandbox accounts to log in as.")
        return callback(params, {"code": code})

    @app.post("/api/token")
    def token() -> tuple[Response, int]:
        try:
            confidential = check_client(emulator.client_id, emulator.client_secret)
            answer = token_grant(emulator, confidential)
        except TokenError as exc:
            return jsonify(exc.body()), exc.status
        response = jsonify(answer)
        response.headers["Cache-Control"] = "no-store"
        return response, 200


def check_client(client_id: str, client_secret: str) -> bool:
    """The client authenticates with HTTP Basic or with client_id/client_secret in the body;
    a PKCE client sends only client_id (False: no secret was given)."""
    basic = request.authorization
    if basic is not None and basic.type == "basic":
        given_id, given_secret = basic.username or "", basic.password or ""
    else:
        given_id = request.form.get("client_id", "")
        given_secret = request.form.get("client_secret", "")
    if not given_id:
        raise TokenError("invalid_client")
    if not hmac.compare_digest(given_id.encode(), client_id.encode()):
        raise TokenError("invalid_client", "Invalid client")
    if basic is None and "client_secret" not in request.form:
        return False
    if not hmac.compare_digest(given_secret.encode(), client_secret.encode()):
        raise TokenError("invalid_client", "Invalid client secret")
    return True


def token_grant(emulator: SpotifyEmulator, confidential: bool) -> dict[str, Any]:
    """Answer one grant; unknown form fields (spotipy sends scope and state) are ignored."""
    grant_type = request.form.get("grant_type")
    handlers: dict[str, Callable[[SpotifyEmulator, bool], dict[str, Any]]] = {
        "authorization_code": _authorization_code_grant,
        "refresh_token": _refresh_token_grant,
        "client_credentials": _client_credentials_grant,
    }
    if not grant_type:
        raise TokenError("unsupported_grant_type", "grant_type parameter is missing")
    if grant_type not in handlers:
        raise TokenError(
            "unsupported_grant_type",
            "grant_type must be client_credentials, authorization_code or refresh_token",
        )
    return handlers[grant_type](emulator, confidential)


def _authorization_code_grant(emulator: SpotifyEmulator, confidential: bool) -> dict[str, Any]:
    code = request.form.get("code")
    if not code:
        raise TokenError("invalid_request", "code must be supplied")
    redirect_uri = request.form.get("redirect_uri", "")
    with emulator.lock:
        now = emulator.now()
        authorization = emulator.grants.exchange_code(
            code,
            redirect_uri,
            now,
            verifier=request.form.get("code_verifier"),
            confidential=confidential,
        )
        return emulator.grants.issue(authorization, now, refresh=True)


def _refresh_token_grant(emulator: SpotifyEmulator, confidential: bool) -> dict[str, Any]:
    refresh_token = request.form.get("refresh_token")
    if not refresh_token:
        raise TokenError("invalid_request", "refresh_token must be supplied")
    with emulator.lock:
        return emulator.grants.use_refresh_token(
            refresh_token,
            emulator.now(),
            rotate=emulator.rotate_refresh_tokens,
            confidential=confidential,
        )


def _client_credentials_grant(emulator: SpotifyEmulator, confidential: bool) -> dict[str, Any]:
    """The app's own token: only with the client secret; `refuse_app_token()` makes it fail."""
    if not confidential:
        raise TokenError("invalid_client", "Invalid client secret")
    with emulator.lock:
        refusal = emulator.knobs.take_app_token_refusal()
        if refusal is not None:
            raise TokenError(*refusal)
        return emulator.grants.issue_app_token(emulator.now())
