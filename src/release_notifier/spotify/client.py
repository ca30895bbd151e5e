"""A small Spotify Web API client for the endpoints a development-mode app still has.

The 429 policy is ours, not a library's: a short Retry-After is waited out (bounded), a quota ban
or a long Retry-After raises QuotaExceeded at once so the run can stop and resume later.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

from release_notifier.clock import utcnow
from release_notifier.settings import Settings
from release_notifier.spotify.budget import RequestBudget
from release_notifier.spotify.errors import (
    AppTokenRefused,
    NotAllowlisted,
    PremiumRequired,
    QuotaExceeded,
    SpotifyError,
    SpotifyUnavailable,
    Unauthorized,
)
from release_notifier.spotify.lookups import (
    ArtistHit,
    ArtistRef,
    LinkNotReadable,
    SearchPage,
    SpotifyLink,
    artist_hit,
    artist_refs,
    playlist_entries,
    search_page,
)
from release_notifier.spotify.oauth import TokenSet, refresh_access_token
from release_notifier.spotify.pacer import Pacer, Sleep

logger = logging.getLogger(__name__)

ALBUMS_PAGE_LIMIT = 10  # the most /artists/{id}/albums accepts since 2026
FOLLOWING_PAGE_LIMIT = 50
SEARCH_PAGE_LIMIT = 10  # the most /search accepts since February 2026
MAX_PLAYLIST_PAGES = 10  # 100 tracks a page (the playlist itself, then its `next` pages)
MAX_FOLLOW_PAGES = 400  # 20,000 follows at 50 a page; a longer list is an error, not a cut
SERVER_RETRIES = 3
SHORT_429_RETRIES = 3
ALLOWLIST_WORDS = ("registered", "dashboard")  # every allow-list 403 wording since 2021
PREMIUM_WORD = "premium"  # "Active premium subscription required for the owner of the app"
ENDPOINT_ID = re.compile(r"/[0-9A-Za-z]{22}(?=/|$)")

__all__ = ["Pacer", "SpotifyClient"]


def _retry_after(response: requests.Response) -> float:
    try:
        return max(float(response.headers.get("Retry-After", "1")), 0.0)
    except ValueError:
        return 1.0


def _unreadable(kind: str, exc: SpotifyError) -> SpotifyError:
    """A 400/403/404 on a look-up as a plain LinkNotReadable; anything else as it was (a quota
    ban, an outage or a refused app token must still stop or skip the way it always does)."""
    # a playlist's items answer 403 to all but its owner: that is this link, not the app
    item_refusal = kind == "playlist" and isinstance(exc, AppTokenRefused) and exc.status == 403
    if (type(exc) is SpotifyError or item_refusal) and exc.status in (400, 403, 404):
        return LinkNotReadable(f"Spotify has no {kind} this app may read at that link", status=404)
    return exc


def _error_body(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"message": response.text[:200]}
    error = body.get("error") if isinstance(body, dict) else body
    if isinstance(error, dict):
        return error
    return {"message": str(error) if error is not None else response.text[:200]}


class TokenSource(Protocol):
    """Where a client without a user gets its access token (spotify.app_token.AppToken)."""

    def current(self) -> str:
        """A token that is still valid."""

    def renew(self, stale: str | None) -> str:
        """A new token in place of `stale`, which Spotify answered 401 to."""


class SpotifyClient:
    """One user's view of the Web API, or the app's own (`app_token`: catalogue reads only).

    `on_refresh` is called with the new TokenSet whenever the access token is refreshed, so the
    caller can persist a rotated refresh token.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        access_token: str | None = None,
        refresh_token: str | None = None,
        on_refresh: Callable[[TokenSet], None] | None = None,
        budget: RequestBudget | None = None,
        pacer: Pacer | None = None,
        http: requests.Session | None = None,
        sleep: Sleep = time.sleep,
        albums_limit: int = ALBUMS_PAGE_LIMIT,
        on_albums_limit: Callable[[int], None] | None = None,
        app_token: TokenSource | None = None,
    ) -> None:
        self.settings = settings
        self.app_token = app_token
        self.base_url = settings.spotify_api_base_url
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.on_refresh = on_refresh
        self.budget = budget
        self.sleep = sleep
        self.pacer = pacer or Pacer(sleep=sleep)
        self.http = http or requests.Session()
        self.requests_made = 0
        self.albums_limit = min(max(albums_limit, 1), ALBUMS_PAGE_LIMIT)
        self.on_albums_limit = on_albums_limit
        self._token_lock = threading.Lock()  # one refresh at a time, for every thread
        self._albums_limit_lock = threading.Lock()  # one halving of the page size at a time

    # Endpoints -------------------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        """The current user: `account_id` (May 2026) or `id` identifies the account."""
        return self.get("/me")

    def followed_artists(self) -> Iterator[dict[str, Any]]:
        """Every followed artist, 50 a page by cursor (ceil(N/50) requests).

        Pages end only where Spotify gives no `next` or cursor: a short page is not the end.
        A list longer than MAX_FOLLOW_PAGES pages, or a cursor that does not move, is an error
        (the caller changes nothing), never a silently cut list.
        """
        params: dict[str, Any] = {"type": "artist", "limit": FOLLOWING_PAGE_LIMIT}
        for _ in range(MAX_FOLLOW_PAGES):
            page = self.get("/me/following", params)["artists"]
            yield from page.get("items") or []
            after = (page.get("cursors") or {}).get("after")
            if not page.get("next") or not after:
                return
            if after == params.get("after"):
                raise SpotifyError("/me/following: the cursor did not move", status=None)
            params = {**params, "after": after}
        raise SpotifyError(
            f"/me/following: more than {MAX_FOLLOW_PAGES} pages, not read", status=None
        )

    def artist_albums_page(
        self, artist_id: str, include_groups: str, offset: int = 0
    ) -> dict[str, Any]:
        """One offset page of an artist's releases in the given groups, newest first per group.

        On 400 "Invalid limit" (Spotify cut 50 to 10 in 2026 without notice) the page size is
        halved and the request repeated; the size that works is kept (`on_albums_limit`).
        """
        while True:
            limit = self.albums_limit
            try:
                return self.get(
                    f"/artists/{artist_id}/albums",
                    {
                        "include_groups": include_groups,
                        "market": self.settings.spotify_market,
                        "limit": limit,
                        "offset": offset,
                    },
                )
            except SpotifyError as exc:
                if exc.status != 400 or "invalid limit" not in exc.message.lower() or limit <= 1:
                    raise
                self._halve_albums_limit(limit)

    def _halve_albums_limit(self, refused: int) -> None:
        """Halve the page size once for all threads refused `refused` together; a token
        refresh in progress does not hold this up (each has its own lock)."""
        with self._albums_limit_lock:
            if self.albums_limit == refused:  # another thread may have halved it already
                self.albums_limit = max(refused // 2, 1)
                logger.warning(
                    "spotify refused %d albums a page: now %d", refused, self.albums_limit
                )
                if self.on_albums_limit is not None:
                    self.on_albums_limit(self.albums_limit)

    def album(self, album_id: str) -> dict[str, Any]:
        return self.get(f"/albums/{album_id}", {"market": self.settings.spotify_market})

    # Catalogue look-ups (the app's own token reads these) -----------------------------------

    def search_artists(self, query: str, offset: int = 0) -> SearchPage:
        """Artists matching `query`, SEARCH_PAGE_LIMIT a page from `offset` (one request; none
        for a blank query)."""
        query = " ".join(query.split())
        if not query:
            return SearchPage([], 0, 0, None)
        params = {"q": query, "type": "artist", "limit": SEARCH_PAGE_LIMIT, "offset": offset}
        return search_page(self.get("/search", params))

    def artist(self, artist_id: str) -> ArtistHit:
        return artist_hit(self.get(f"/artists/{artist_id}"))

    def artists_of_album(self, album_id: str) -> list[ArtistRef]:
        """The album's main artists (one request)."""
        return artist_refs(self.album(album_id).get("artists") or [])

    def artists_of_track(self, track_id: str) -> list[ArtistRef]:
        """The track's artists, featured ones included (one request)."""
        track = self.get(f"/tracks/{track_id}", {"market": self.settings.spotify_market})
        return artist_refs(track.get("artists") or [])

    def artists_of_playlist(self, playlist_id: str) -> list[ArtistRef]:
        """Every artist on the playlist's first MAX_PLAYLIST_PAGES pages of tracks.

        Raises LinkNotReadable when Spotify gives only the playlist's metadata: since February
        2026 a development-mode app reads the items of its users' own playlists only.
        """
        try:
            body = self.get(f"/playlists/{playlist_id}", {"market": self.settings.spotify_market})
        except SpotifyError as exc:
            raise _unreadable("playlist", exc) from None
        page = body.get("items") if "items" in body else body.get("tracks")
        tracks = playlist_entries(page)
        if tracks is None or not isinstance(page, dict):
            raise LinkNotReadable(
                "Spotify lets this app read only the playlists of its own Spotify users; "
                "paste the artists' or albums' links instead",
                status=403,
            )
        for _ in range(MAX_PLAYLIST_PAGES - 1):
            if not page.get("next"):
                break
            try:
                page = self.get(str(page["next"]))
            except SpotifyError as exc:
                raise _unreadable("playlist", exc) from None
            tracks += playlist_entries(page) or []
        return artist_refs(artist for track in tracks for artist in track.get("artists") or [])

    def artists_of_link(self, link: SpotifyLink) -> list[ArtistRef]:
        """The artists a pasted link names; LinkNotReadable when Spotify has no such item."""
        if link.kind == "playlist":
            return self.artists_of_playlist(link.id)
        try:
            if link.kind == "artist":
                hit = self.artist(link.id)
                return [ArtistRef(hit.id, hit.name)]
            if link.kind == "album":
                return self.artists_of_album(link.id)
            return self.artists_of_track(link.id)
        except SpotifyError as exc:
            raise _unreadable(link.kind, exc) from None

    # Transport -------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET a Web API path with the retry, refresh and 429 rules; returns the JSON body."""
        refreshed = False
        server_failures = 0
        short_429s = 0
        while True:
            sent_at, token, response = self._send(path, params)
            status = response.status_code
            if status == 200:
                self.pacer.succeeded()
                try:
                    body = response.json()
                except ValueError:
                    body = None
                if isinstance(body, dict):
                    return body
                server_failures += 1
                self._back_off_or_raise(server_failures, f"{path}: unreadable body")
            elif status == 401:
                if refreshed or not (self.refresh_token or self.app_token):
                    raise Unauthorized(f"{path}: 401 after refresh", status=401)
                self._refresh(stale=token)
                refreshed = True
            elif status == 429:
                short_429s += 1
                self._handle_429(path, response, short_429s, sent_at)
            elif status >= 500:
                server_failures += 1
                self._back_off_or_raise(server_failures, f"{path}: {status}")
            elif status == 403:
                raise self._refusal(path, response)
            else:
                message = str(_error_body(response).get("message") or "")
                raise SpotifyError(f"{path}: {status} {message}".strip(), status=status)

    def prepare(self) -> None:
        """Have an access token ready: the app's (renewed before it expires), or the user's
        refreshed when there is none yet. Token errors surface here, before any request."""
        if self.app_token is not None:
            self.access_token = self.app_token.current()
        elif self.access_token is None and self.refresh_token:
            self._refresh()

    def _send(
        self, path: str, params: dict[str, Any] | None
    ) -> tuple[float, str | None, requests.Response]:
        """One HTTP request, counted against the budget: when the pacer let it start, the
        access token it carried, the answer (network failures come back as 599)."""
        self.prepare()
        token = self.access_token
        if self.budget is not None:
            self.budget.spend(ENDPOINT_ID.sub("/{id}", path))
        sent_at = self.pacer.wait_turn()
        self.requests_made += 1
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        try:
            return (
                sent_at,
                token,
                self.http.get(
                    url,
                    params=params,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=self.settings.spotify_timeout_seconds,
                ),
            )
        except requests.RequestException as exc:
            logger.warning("spotify %s failed: %s", urlsplit(url).path, type(exc).__name__)
            failed = requests.Response()
            failed.status_code = 599
            return sent_at, token, failed

    def _refusal(self, path: str, response: requests.Response) -> SpotifyError:
        """What a 403 means: the allow-list (any wording, text or JSON), the owner's lapsed
        Premium (app-wide), or a refusal of this one call."""
        message = str(_error_body(response).get("message") or "")
        words = message.lower()
        if any(word in words for word in ALLOWLIST_WORDS):
            return NotAllowlisted("this Spotify account is not on the app's user list", status=403)
        if PREMIUM_WORD in words:
            hours = self.settings.spotify_premium_retry_hours
            return PremiumRequired(
                f"{path}: 403 the app owner's Spotify Premium lapsed", retry_after=hours * 3600
            )
        if self.app_token is not None:
            return AppTokenRefused(f"{path}: 403 on the app token {message}".strip(), status=403)
        return SpotifyError(f"{path}: 403 {message}".strip(), status=403)

    def _handle_429(
        self, path: str, response: requests.Response, count: int, sent_at: float
    ) -> None:
        """A quota ban or a long wait raises QuotaExceeded; a short 429 is waited out by every
        thread (the pacer holds them all) and slows the pace once per burst."""
        reason = _error_body(response).get("reason")
        if reason == "QUOTA_EXCEEDED" and "Retry-After" not in response.headers:
            wait = self.settings.spotify_quota_pause_hours * 3600  # never the short default
        else:
            wait = _retry_after(response)
        if reason == "QUOTA_EXCEEDED" or wait > self.settings.spotify_max_wait_seconds:
            raise QuotaExceeded(
                f"{path}: 429 {reason or 'long Retry-After'} ({int(wait)} s)", retry_after=wait
            )
        if count > SHORT_429_RETRIES:
            raise QuotaExceeded(f"{path}: 429 kept coming after waiting", retry_after=wait)
        logger.info("spotify rate limit: waiting %.0f s", wait)
        self.pacer.rate_limited(sent_at, wait)

    def _back_off_or_raise(self, failures: int, what: str) -> None:
        if failures >= SERVER_RETRIES:
            raise SpotifyUnavailable(f"{what} after {failures} tries", status=None)
        self.sleep(0.5 * 2 ** (failures - 1))

    def _refresh(self, stale: str | None = None) -> None:
        """Refresh the access token once for all threads (`stale`: the one Spotify refused;
        another thread may have replaced it already); InvalidGrant propagates (and
        AppTokenRefused, for the app's own token)."""
        stale = stale or self.access_token
        if self.app_token is not None:
            self.access_token = self.app_token.renew(stale)
            return
        with self._token_lock:
            if self.access_token != stale:
                return  # another thread already refreshed it
            if not self.refresh_token:
                raise Unauthorized("no refresh token", status=401)
            tokens = refresh_access_token(self.settings, self.refresh_token)
            self.access_token = tokens.access_token
            self.refresh_token = tokens.refresh_token or self.refresh_token
            if self.on_refresh is not None:
                self.on_refresh(tokens)
            logger.debug("refreshed spotify access token at %s", utcnow().isoformat())
