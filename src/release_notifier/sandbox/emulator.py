"""A faithful local Spotify: the Web API and the Accounts service as a 2026 development-mode app
sees them, served over real HTTP on 127.0.0.1 for tests, the demo and development.

Profiles: `dev_new` (default; an app created after 2026-02-11) and `extended` (the fields and
batch endpoints development mode lost, artist-albums limit up to 50, no user cap).
"""

from __future__ import annotations

import logging
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from http import HTTPStatus
from types import TracebackType
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from release_notifier import clock
from release_notifier.listening import address_family, url_netloc
from release_notifier.sandbox.emulator_api import error_body, error_response, register_api_routes
from release_notifier.sandbox.emulator_data import (
    GROUPS,
    Account,
    Catalogue,
    Playlist,
    Release,
    make_id,
    make_upc,
    release_date_precision,
)
from release_notifier.sandbox.emulator_images import cover_svg
from release_notifier.sandbox.emulator_json import Shapes
from release_notifier.sandbox.emulator_knobs import (
    FailRule,
    Knobs,
    Observed2026,
    RecordedRequest,
    RollingWindow,
    endpoint_group,
)
from release_notifier.sandbox.emulator_lookups import register_lookup_routes
from release_notifier.sandbox.emulator_oauth import (
    Authorization,
    Grants,
    RedirectRules,
    register_oauth_routes,
)

logger = logging.getLogger(__name__)

__all__ = ["RecordedRequest", "SpotifyEmulator"]

PROFILES = ("dev_new", "extended")
DEV_MODE_USER_CAP = 5
ALBUM_TYPES = ("album", "single", "compilation")
PREMIUM_REQUIRED = "Active premium subscription required for the owner of the app."
NOT_ALLOWLISTED = "User not registered in the Developer Dashboard"  # the 2021-23 wording
# The allow-list 403 as observed in 2026, plain text or inside the JSON error (reference 0.1).
NOT_ALLOWLISTED_2026 = (
    "Check settings on developer.spotify.com/dashboard, the user may not be registered.",
    "The user is not registered for this application. Please check your settings on "
    "https://developer.spotify.com/dashboard.",
)
ENDPOINT_CAP_2026 = 600  # one app was banned after exactly 600 calls to one endpoint in 24 h
INVALID_TOKEN = "Missing/invalid/expired access token"
WWW_AUTHENTICATE_INVALID = (
    'Bearer realm="spotify", error="invalid_token", error_description="Invalid access token"'
)
WWW_AUTHENTICATE_MISSING = (
    'Bearer realm="spotify", error="missing_token", error_description="No token provided"'
)


class _QuietRequestHandler(WSGIRequestHandler):
    """Request lines go to our debug log, not stderr."""

    def log(self, type: str, message: str, *args: Any) -> None:
        logger.debug("emulator %s: " + message, type, *args)


class SpotifyEmulator:
    """One emulated Spotify app (client id, secret, redirect URIs) and its world."""

    def __init__(
        self,
        *,
        profile: str = "dev_new",
        client_id: str = "sandbox-client-id",
        client_secret: str = "sandbox-client-secret",  # noqa: S107 (a sandbox's known secret)
        redirect_uris: list[str] | None = None,
        clock: Callable[[], datetime] | None = None,
        rotate_refresh_tokens: bool = False,
        port: int = 0,
        user_cap: int | None = DEV_MODE_USER_CAP,
        host: str = "127.0.0.1",
        url_host: str | None = None,
        any_http_redirect_host: bool = False,
    ) -> None:
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}")
        self.profile = profile
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_rules = RedirectRules(redirect_uris, any_http_host=any_http_redirect_host)
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.user_cap = user_cap if profile != "extended" else None
        self.latency = 0.0
        # False: the app owner's Premium lapsed; every /v1 call gets 403.
        self.owner_premium = True
        # True: with include_groups, artist albums report total/next as if unfiltered (seen
        # live in 2026), so clients must also stop on a short page.
        self.spurious_next = False
        self.observed = Observed2026()  # the "2026 as observed" behaviours, all off
        # True (development mode): a playlist's items only for its owner and collaborators;
        # False: for any token, as for extended apps (and dev apps the February 2026 cut spared)
        self.playlist_items_restricted = profile != "extended"
        self.lock = threading.RLock()
        self.catalogue = Catalogue()
        self.grants = Grants()
        self.knobs = Knobs()
        self.shapes = Shapes(self.catalogue, "", profile)
        self._clock = clock
        self._host = host
        self._url_host = url_host or host
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.app = self._build_app()

    # Lifecycle --------------------------------------------------------------------------

    def start(self) -> SpotifyEmulator:
        """Listen on the host (127.0.0.1 unless given; port 0: any free port) and serve from a
        daemon thread. URLs name `url_host` (default: the host)."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        # Bind here so a busy port raises OSError (werkzeug would print and exit instead).
        with socket.create_server(
            (self._host, self._port), family=address_family(self._host)
        ) as listener:
            server = make_server(
                self._host,
                self._port,
                self.app,
                threaded=True,
                request_handler=_QuietRequestHandler,
                fd=listener.fileno(),
            )
        self._server = server
        self.shapes.base_url = f"http://{url_netloc(self._url_host, server.port)}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="spotify-emulator",
            daemon=True,
        )
        self._thread.start()
        logger.info("Spotify emulator (%s) listening on %s", self.profile, self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (serve_forever closes it on the way out)."""
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SpotifyEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if not self.shapes.base_url:
            raise RuntimeError("start() the emulator before asking for its URL")
        return self.shapes.base_url

    @property
    def api_base_url(self) -> str:
        return self.base_url + "/v1"

    @property
    def accounts_base_url(self) -> str:
        return self.base_url

    def now(self) -> datetime:
        """The emulator's clock: the injected one, else the app's (which time-machine moves)."""
        return self._clock() if self._clock is not None else clock.utcnow()

    # Catalogue --------------------------------------------------------------------------

    def add_artist(
        self, name: str, artist_id: str | None = None, *, genres: Iterable[str] = ()
    ) -> str:
        """Add an artist; returns its 22-character base62 id."""
        with self.lock:
            return self.catalogue.add_artist(name, artist_id, genres)

    def add_release(
        self,
        artist_ids: str | list[str],
        name: str,
        *,
        group: str = "album",
        release_date: str = "2026-11-20",
        precision: str | None = None,
        total_tracks: int = 10,
        album_type: str | None = None,
        main_artists: list[str] | None = None,
        album_id: str | None = None,
        explicit: bool = False,
        upc: str | None = None,
    ) -> str:
        """Add a release shown on the albums page of every artist in `artist_ids`, in `group`."""
        listed_on = [artist_ids] if isinstance(artist_ids, str) else list(artist_ids)
        if not listed_on:
            raise ValueError("a release needs at least one artist")
        if group not in GROUPS:
            raise ValueError(f"group must be one of {', '.join(GROUPS)}, not {group!r}")
        if total_tracks < 1:
            raise ValueError("total_tracks must be at least 1")
        album_type = album_type or ("album" if group == "appears_on" else group)
        if album_type.lower() not in ALBUM_TYPES:
            raise ValueError(f"album_type must be one of {', '.join(ALBUM_TYPES)} (any case)")
        exact_precision = release_date_precision(release_date, precision)
        with self.lock:
            sequence = self.catalogue.next_sequence()
            new_id = album_id or make_id("album", name, release_date, str(sequence))
            if main_artists is None:
                various = group == "appears_on"
                main_artists = [self.catalogue.various_artists()] if various else listed_on
            release = Release(
                id=new_id,
                name=name,
                release_date=release_date,
                precision=exact_precision,
                total_tracks=total_tracks,
                album_type=album_type,
                main_artists=list(main_artists),
                groups=dict.fromkeys(listed_on, group),
                explicit=explicit,
                upc=upc or make_upc(new_id),
                sequence=sequence,
            )
            return self.catalogue.add_release(release)

    def track_ids(self, album_id: str) -> list[str]:
        """The ids of a release's tracks, in order."""
        with self.lock:
            return self.catalogue.releases[album_id].track_ids()

    def add_playlist(
        self,
        name: str,
        track_ids: Iterable[str],
        *,
        owner: str = "curator",
        public: bool = True,
        collaborators: Iterable[str] = (),
        playlist_id: str | None = None,
    ) -> str:
        """Add a playlist of existing tracks; `owner` "spotify" makes an editorial one (404 to
        apps since November 2024)."""
        with self.lock:
            new_id = playlist_id or make_id("playlist", name, str(self.catalogue.next_sequence()))
            playlist = Playlist(new_id, name, owner, public, list(track_ids), set(collaborators))
            return self.catalogue.add_playlist(playlist)

    def remove_release(self, album_id: str) -> None:
        """Take a release off Spotify (every artist page, and /albums/{id} gives 404)."""
        with self.lock:
            self.catalogue.remove_release(album_id)

    def add_account(
        self,
        user_id: str | None = None,
        *,
        display_name: str = "Listener",
        follows: Iterable[str] = (),
        allowlisted: bool = True,
        account_id: str | None = None,
    ) -> str:
        """Add a Spotify account; development mode allow-lists at most `user_cap` (5) of them."""
        with self.lock:
            capped = self.user_cap is not None and allowlisted
            if capped and self.catalogue.allowlisted_count() >= (self.user_cap or 0):
                raise ValueError(
                    f"a development-mode app allow-lists at most {self.user_cap} users; "
                    "pass allowlisted=False, user_cap=None or profile='extended'"
                )
            sequence = self.catalogue.next_sequence()
            user_id = user_id or make_id("user", display_name, str(sequence), length=28).lower()
            account = Account(
                user_id=user_id,
                account_id=account_id or make_id("account", user_id),
                display_name=display_name,
                allowlisted=allowlisted,
                follows=set(follows),
            )
            return self.catalogue.add_account(account)

    def follow(self, user_id: str, artist_id: str) -> None:
        with self.lock:
            self.catalogue.require_artist(artist_id)
            self.catalogue.require_account(user_id).follows.add(artist_id)

    def unfollow(self, user_id: str, artist_id: str) -> None:
        with self.lock:
            self.catalogue.require_account(user_id).follows.discard(artist_id)

    # OAuth helpers ----------------------------------------------------------------------

    def grant_code(
        self,
        user_id: str,
        redirect_uri: str,
        scope: str = "user-follow-read",
        *,
        code_challenge: str | None = None,
    ) -> str:
        """A code as if `user_id` had just agreed on the consent page for `redirect_uri`
        (with `code_challenge`: a PKCE S256 code, redeemable only with its verifier)."""
        if not self.redirect_rules.allows(redirect_uri):
            raise ValueError(f"redirect URI {redirect_uri!r} is not registered for this app")
        with self.lock:
            self.catalogue.require_account(user_id)
            pkce = code_challenge is not None
            authorization = Authorization(user_id, scope, self.now(), pkce=pkce)
            return self.grants.new_code(authorization, redirect_uri, code_challenge)

    def issue_tokens(self, user_id: str) -> dict[str, str]:
        """Access and refresh tokens for `user_id`, authorized now, without the browser flow."""
        with self.lock:
            self.catalogue.require_account(user_id)
            now = self.now()
            answer = self.grants.issue(
                Authorization(user_id, "user-follow-read", now), now, refresh=True
            )
        return {"access_token": answer["access_token"], "refresh_token": answer["refresh_token"]}

    def issue_app_token(self) -> str:
        """An access token of the app's own (client credentials), without the token request."""
        with self.lock:
            return str(self.grants.issue_app_token(self.now())["access_token"])

    def revoke(self, user_id: str) -> None:
        """The user removed the app: their refresh tokens answer "Refresh token revoked"."""
        with self.lock:
            self.grants.revoke(user_id)

    def expire_access_tokens(self) -> None:
        """Every access token issued so far now gets 401."""
        with self.lock:
            self.grants.expire_access_tokens()

    # Knobs ------------------------------------------------------------------------------

    def fail(
        self,
        path_regex: str,
        status: int,
        *,
        times: int = 1,
        body: str | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        """The next `times` requests whose path matches get this answer; status 0 drops the
        connection without any response."""
        if status != 0 and not 100 <= status <= 599:
            raise ValueError("status must be 0 (drop the connection) or an HTTP status")
        if times < 1:
            raise ValueError("times must be at least 1")
        rule = FailRule(re.compile(path_regex), status, times, body, dict(headers or {}), delay)
        with self.lock:
            self.knobs.fail_rules.append(rule)

    def rate_limit(self, times: int, retry_after: int = 1) -> None:
        """The next `times` /v1 requests get the short 429 "API rate limit exceeded"."""
        with self.lock:
            self.knobs.rate_limited = times
            self.knobs.rate_retry_after = retry_after

    def set_rate_window(
        self, limit: int | None, *, window_seconds: int = 30, retry_after: int | None = None
    ) -> None:
        """At most `limit` /v1 requests per rolling window (Spotify's is 30 s), then the short
        429; Retry-After defaults to the seconds until the window has room (None: off)."""
        with self.lock:
            self.knobs.rate_window = _window(limit, window_seconds, retry_after)

    def set_quota(
        self, limit: int | None, *, retry_after: int = 48925, window_seconds: int = 86400
    ) -> None:
        """At most `limit` /v1 requests per rolling window, then 429 QUOTA_EXCEEDED (None: off)."""
        with self.lock:
            self.knobs.quota = _window(limit, window_seconds, retry_after)

    def observe_2026(
        self,
        *,
        total_off_share: float = 0.2,
        endpoint_cap: int | None = ENDPOINT_CAP_2026,
        seed: int = 2026,
    ) -> None:
        """Answer as Spotify was observed to in 2026 (reference section 0.1): artist-album
        `total` off by one on a share of answers, QUOTA_EXCEEDED without Retry-After, a cap of
        calls per endpoint a rolling day, follow pages shorter than asked, and each listener not
        on the allow-list refused in one of the 2026 wordings (plain text or JSON, per account).
        "0000" dates, long names, removed releases, the owner's lapsed Premium and page-limit
        changes are set on the catalogue (`add_release`, `remove_release`, `owner_premium`,
        `set_albums_limit`)."""
        with self.lock:
            self.observed = Observed2026(
                on=True,
                total_off_share=total_off_share,
                quota_retry_after=False,
                short_follow_pages=True,
                rng=random.Random(seed),
            )
            self.knobs.endpoint_cap = endpoint_cap

    def refuse_with(self, user_id: str, message: str, *, as_json: bool = False) -> None:
        """Take `user_id` off the allow-list; its 403 says `message` (as text or JSON)."""
        with self.lock:
            account = self.catalogue.require_account(user_id)
            account.allowlisted = False
            self.observed.refusals[user_id] = (message, as_json)

    def set_albums_limit(self, most: int | None) -> None:
        """The most /artists/{id}/albums accepts (None: the profile's own, 10 or 50); above it,
        400 "Invalid limit", as when Spotify cut 50 to 10 without notice."""
        with self.lock:
            self.observed.albums_limit = most

    def refuse_app_token(
        self,
        error: str = "invalid_client",
        description: str | None = "Invalid client",
        *,
        status: int = 400,
        times: int = 1,
    ) -> None:
        """The next `times` client-credentials grants fail with this OAuth error (Spotify
        answers a wrong or withdrawn client secret with 400 invalid_client)."""
        with self.lock:
            self.knobs.app_token_refusal = (error, description, status)
            self.knobs.app_token_refusals_left = times

    def forbid_app_calls(self, times: int = 1) -> None:
        """The next `times` /v1 calls made with the app's own token get 403 Forbidden."""
        with self.lock:
            self.knobs.app_calls_forbidden = times

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request answered so far (a copy), oldest first."""
        with self.lock:
            return list(self.knobs.recorded)

    def count(self, path_regex: str | None = None) -> int:
        """How many /v1 requests were answered (any status), optionally matching a regex."""
        with self.lock:
            return self.knobs.count(path_regex)

    def reset_counts(self) -> None:
        with self.lock:
            self.knobs.recorded.clear()

    # The Flask app ----------------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask(__name__)
        app.before_request(self._gatekeeper)
        app.after_request(self._record)
        app.register_error_handler(HTTPException, _http_error)
        register_oauth_routes(app, self)
        register_api_routes(app, self)
        register_lookup_routes(app, self)
        app.add_url_rule("/images/<kind>/<item_id>/<int:size>.svg", "image", self._image)
        return app

    def _gatekeeper(self) -> Response | None:
        """Before any route: latency, injected failures, rate limit, quota, then the token."""
        path = request.path
        api = path.startswith("/v1/")
        if api and self.latency:
            time.sleep(self.latency)
        with self.lock:
            rule = self.knobs.take_failure(path)
        if rule is not None and rule.status == 0:
            return self._drop_connection(rule.delay)
        if rule is not None:
            return _injected_answer(rule)
        if not api:
            return None
        limited = self._limits_answer()
        return limited if limited is not None else self._authenticate()

    def _limits_answer(self) -> Response | None:
        """Queued short rate limits first, then the 30-second window, then the quota."""
        with self.lock:
            now = self.now()
            retry_after = self.knobs.take_rate_limit()
            window, quota = self.knobs.rate_window, self.knobs.quota
            if retry_after is None and window is not None and not window.admit(now):
                retry_after = window.wait_seconds(now)
            if retry_after is not None:
                response = error_response(429, "API rate limit exceeded")
            elif quota is not None and not quota.admit(now):
                retry_after = quota.wait_seconds(now)
                response = error_response(429, "Too many requests", "QUOTA_EXCEEDED")
            elif not self.knobs.endpoint_admits(endpoint_group(request.path), now):
                retry_after = int(timedelta(days=1).total_seconds())
                response = error_response(429, "Too many requests", "QUOTA_EXCEEDED")
            else:
                return None
            quota_ban = response.get_json()["error"].get("reason") == "QUOTA_EXCEEDED"
            if not quota_ban or self.observed.quota_retry_after:
                response.headers["Retry-After"] = str(retry_after)
        return response

    def _authenticate(self) -> Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return _unauthorized(WWW_AUTHENTICATE_MISSING)
        with self.lock:
            grant = self.grants.access(token, self.now())
            user_id = grant.user_id if grant else None
            account = self.catalogue.accounts.get(user_id) if user_id else None
        if grant is None or (user_id is not None and account is None):
            return _unauthorized(WWW_AUTHENTICATE_INVALID)
        if not self.owner_premium:
            return error_response(403, PREMIUM_REQUIRED)
        if account is None:  # the app's own token: no allow-list, maybe a forbid_app_calls()
            with self.lock:
                if self.knobs.take_app_call_refusal():
                    return error_response(403, "Forbidden")
        elif not account.allowlisted:
            return self._not_allowlisted(account.user_id)
        g.grant = grant
        return None

    def _not_allowlisted(self, user_id: str) -> Response:
        """The allow-list 403 in this account's wording: set by refuse_with, else one of the
        2026 texts (by account) when observing 2026, else the 2021 plain text."""
        with self.lock:
            chosen = self.observed.refusals.get(user_id)
            if chosen is None and self.observed.on:
                number = sum(map(ord, user_id))
                chosen = (NOT_ALLOWLISTED_2026[number % 2], number % 4 >= 2)
        message, as_json = chosen or (NOT_ALLOWLISTED, False)
        if as_json:
            return error_response(403, message)
        return Response(message, 403, mimetype="text/plain")

    def _record(self, response: Response) -> Response:
        if not g.get("dropped"):
            self._note(response.status_code)
        return response

    def _note(self, status: int) -> None:
        query = request.args.to_dict()
        with self.lock:
            self.knobs.recorded.append(
                RecordedRequest(request.method, request.path, query, status, self.now())
            )

    def _drop_connection(self, delay: float) -> Response:
        """Shut the socket so the client gets no response at all (recorded as status 0)."""
        if delay:
            time.sleep(delay)
        self._note(0)
        g.dropped = True
        connection = request.environ.get("werkzeug.socket")
        if isinstance(connection, socket.socket):
            connection.shutdown(socket.SHUT_RDWR)
        return Response("", 500)

    def _image(self, kind: str, item_id: str, size: int) -> Response:
        with self.lock:
            if kind == "album" and item_id in self.catalogue.releases:
                title = self.catalogue.releases[item_id].name
            elif kind == "artist" and item_id in self.catalogue.artists:
                title = self.catalogue.artists[item_id].name
            elif kind == "playlist" and item_id in self.catalogue.playlists:
                title = self.catalogue.playlists[item_id].name
            else:
                return Response("not found", 404, mimetype="text/plain")
        return Response(cover_svg(title, item_id, size), 200, mimetype="image/svg+xml")


def _window(limit: int | None, seconds: int, retry_after: int | None) -> RollingWindow | None:
    if limit is None:
        return None
    if limit < 0 or seconds < 1:
        raise ValueError("limit must be >= 0 and window_seconds >= 1")
    return RollingWindow(limit, timedelta(seconds=seconds), retry_after)


def _unauthorized(challenge: str) -> Response:
    response = error_response(401, INVALID_TOKEN)
    response.headers["WWW-Authenticate"] = challenge
    return response


def _injected_answer(rule: FailRule) -> Response:
    """The answer a fail() rule asked for, after its delay."""
    if rule.delay:
        time.sleep(rule.delay)
    body = rule.body
    if body is None:
        body = error_body(rule.status, _phrase(rule.status))
    response = jsonify(body) if isinstance(body, dict) else Response(body, mimetype="text/plain")
    response.status_code = rule.status
    response.headers.update(rule.headers)
    return response


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _http_error(exc: HTTPException) -> Response | HTTPException:
    """Web API routing errors come back in Spotify's JSON error shape."""
    if not request.path.startswith("/v1/") or exc.code is None:
        return exc
    return error_response(exc.code, "Service not found" if exc.code == 404 else exc.name)
