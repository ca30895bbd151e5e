"""The emulated Web API under /v1: the endpoints a 2026 development-mode app still has, and 403s
for the ones Spotify removed (the `extended` profile keeps the batch endpoints).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, g, jsonify, request

from release_notifier.sandbox.emulator_data import GROUPS, Release, is_spotify_id
from release_notifier.sandbox.emulator_json import Json

if TYPE_CHECKING:
    from release_notifier.sandbox.emulator import SpotifyEmulator

MARKET = re.compile(r"^([A-Z]{2}|from_token)$")
REMOVED_IN_DEV_MODE = [
    "/v1/artists/<artist_id>/top-tracks",
    "/v1/markets",
    "/v1/users/<user_id>",
    "/v1/users/<user_id>/playlists",
    "/v1/me/following/contains",
    "/v1/browse/categories",
    "/v1/browse/categories/<category_id>",
    "/v1/episodes",
    "/v1/shows",
    "/v1/audiobooks",
    "/v1/chapters",
]


class ApiError(Exception):
    """A Web API error: `{"error": {"status": ..., "message": ...}}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_body(status: int, message: str, reason: str | None = None) -> Json:
    error: Json = {"status": status, "message": message}
    if reason is not None:
        error["reason"] = reason
    return {"error": error}


def error_response(status: int, message: str, reason: str | None = None) -> Response:
    response = jsonify(error_body(status, message, reason))
    response.status_code = status
    return response


def int_param(name: str, default: int, low: int, high: int, message: str) -> int:
    """An integer query parameter within [low, high]; anything else is a 400 with `message`."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, message) from None
    if not low <= value <= high:
        raise ApiError(400, message)
    return value


def require_user() -> str:
    """The user a token acts for; the app's own token (client credentials) has none."""
    user_id: str | None = g.grant.user_id
    if user_id is None:
        raise ApiError(401, "Unauthorized.")
    return user_id


def require_id(value: str) -> str:
    if not is_spotify_id(value):
        raise ApiError(400, "invalid id")
    return value


def ids_param(most: int) -> list[str]:
    raw = request.args.get("ids", "")
    ids = [part for part in raw.split(",") if part]
    if not ids:
        raise ApiError(400, "Missing parameter ids")
    if len(ids) > most:
        raise ApiError(400, "Too many ids requested")
    return [require_id(one) for one in ids]


def register_api_routes(app: Flask, emulator: SpotifyEmulator) -> None:
    """Add the /v1 endpoints to `app`."""
    shapes = emulator.shapes

    def release_or_404(album_id: str) -> Release:
        release = emulator.catalogue.releases.get(require_id(album_id))
        if release is None:
            raise ApiError(404, "Resource not found")
        return release

    def removed_unless_extended() -> None:
        if emulator.profile != "extended":
            raise ApiError(403, "Forbidden")

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.message)

    @app.get("/v1/me")
    def me() -> Response:
        user_id = require_user()
        with emulator.lock:
            return jsonify(shapes.user(emulator.catalogue.accounts[user_id]))

    @app.get("/v1/me/following")
    def following() -> Response:
        kind = request.args.get("type")
        if kind is None:
            raise ApiError(400, "Missing parameter type")
        if kind != "artist":
            raise ApiError(400, "Only valid type is 'artist'")
        user_id = require_user()
        if "user-follow-read" not in g.grant.scope.split():
            raise ApiError(403, "Insufficient client scope")
        limit = int_param("limit", 20, 1, 50, "Invalid limit")
        after = request.args.get("after")
        with emulator.lock:
            followed = sorted(emulator.catalogue.accounts[user_id].follows)
            remaining = [a for a in followed if after is None or a > after]
            page = remaining[: emulator.observed.follow_page_size(limit)]
            items = [shapes.artist_full(emulator.catalogue.artists[a]) for a in page]
        last = page[-1] if page and len(remaining) > len(page) else None
        here: dict[str, str | int] = {"type": "artist", "limit": limit}
        if after:
            here = {"type": "artist", "after": after, "limit": limit}
        page_json = shapes.cursor_page("/me/following", here, items, last, len(followed))
        return jsonify({"artists": page_json})

    @app.get("/v1/artists/<artist_id>")
    def artist(artist_id: str) -> Response:
        with emulator.lock:
            found = emulator.catalogue.artists.get(require_id(artist_id))
            if found is None:
                raise ApiError(404, "Resource not found")
            return jsonify(shapes.artist_full(found))

    @app.get("/v1/artists/<artist_id>/albums")
    def artist_albums(artist_id: str) -> Response:
        require_id(artist_id)
        extra = album_filters()
        groups = extra["include_groups"].split(",") if "include_groups" in extra else GROUPS
        most, default = (50, 20) if emulator.profile == "extended" else (10, 5)
        most = emulator.observed.albums_limit or most
        limit = int_param("limit", min(default, most), 1, most, "Invalid limit")
        offset = int_param("offset", 0, 0, 100_000, "Invalid offset")
        with emulator.lock:
            if artist_id not in emulator.catalogue.artists:
                raise ApiError(404, "Resource not found")
            listed = emulator.catalogue.releases_of(artist_id, groups)
            items = [shapes.album_simple(r, group) for r, group in listed[offset : offset + limit]]
            total = len(listed)
            if emulator.spurious_next and "include_groups" in extra:
                total = len(emulator.catalogue.releases_of(artist_id, GROUPS))
            total = emulator.observed.reported_total(total)
        page = shapes.offset_page(
            f"/artists/{artist_id}/albums", extra, items, offset, limit, total
        )
        return jsonify(page)

    @app.get("/v1/albums/<album_id>")
    def album(album_id: str) -> Response:
        with emulator.lock:
            return jsonify(shapes.album_full(release_or_404(album_id)))

    @app.get("/v1/albums/<album_id>/tracks")
    def album_tracks(album_id: str) -> Response:
        limit = int_param("limit", 20, 1, 50, "Invalid limit")
        offset = int_param("offset", 0, 0, 100_000, "Invalid offset")
        with emulator.lock:
            return jsonify(shapes.tracks_page(release_or_404(album_id), offset, limit))

    @app.get("/v1/albums")
    def several_albums() -> Response:
        removed_unless_extended()
        with emulator.lock:
            releases = emulator.catalogue.releases
            albums = [
                shapes.album_full(releases[i]) if i in releases else None for i in ids_param(20)
            ]
        return jsonify({"albums": albums})

    @app.get("/v1/artists")
    def several_artists() -> Response:
        removed_unless_extended()
        with emulator.lock:
            artists = emulator.catalogue.artists
            found = [
                shapes.artist_full(artists[i]) if i in artists else None for i in ids_param(50)
            ]
        return jsonify({"artists": found})

    @app.get("/v1/tracks")
    def several_tracks() -> Response:
        removed_unless_extended()
        wanted = ids_param(50)
        with emulator.lock:
            by_id: dict[str, Any] = {}
            for release in emulator.catalogue.releases.values():
                for number, track_id in enumerate(release.track_ids(), start=1):
                    if track_id in wanted:
                        track = shapes.track_simple(release, number, track_id)
                        by_id[track_id] = {**track, "album": shapes.album_simple(release)}
        return jsonify({"tracks": [by_id.get(i) for i in wanted]})

    @app.get("/v1/browse/new-releases")
    def new_releases() -> Response:
        removed_unless_extended()
        limit = int_param("limit", 20, 1, 50, "Invalid limit")
        offset = int_param("offset", 0, 0, 100_000, "Invalid offset")
        with emulator.lock:
            newest = emulator.catalogue.newest_releases()
            items = [shapes.album_simple(r) for r in newest[offset : offset + limit]]
        page = shapes.offset_page("/browse/new-releases", {}, items, offset, limit, len(newest))
        return jsonify({"albums": page})

    for rule in REMOVED_IN_DEV_MODE:
        app.add_url_rule(rule, f"removed:{rule}", removed_endpoint)
    app.add_url_rule(
        "/v1/me/following", "removed:follow-writes", removed_endpoint, methods=["PUT", "DELETE"]
    )


def removed_endpoint(**_: str) -> Response:
    """Endpoints Spotify removed for development-mode apps in February 2026."""
    raise ApiError(403, "Forbidden")


def album_filters() -> dict[str, str]:
    """include_groups and market (or spotipy's `country`), checked, in the order Spotify echoes."""
    extra: dict[str, str] = {}
    groups = request.args.get("include_groups")
    if groups:
        if not set(groups.split(",")) <= set(GROUPS):
            raise ApiError(400, "Invalid include_groups parameter")
        extra["include_groups"] = groups
    for name in ("market", "country"):
        value = request.args.get(name)
        if value is not None:
            if not MARKET.match(value):
                raise ApiError(400, "Invalid market code")
            extra[name] = value
    return extra
