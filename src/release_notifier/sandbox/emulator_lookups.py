"""The emulated catalogue look-ups a subscriber's choices need: artist search, and the track and
playlist a pasted link may name (artists and albums are in emulator_api).

2026 development mode: search takes `limit` 1..10 (default 5) and `offset` up to 1000; a
playlist's items come only to its owner or a collaborator (everyone else, the app's own token
included, gets the metadata alone, and 403 on /items); `/tracks` under a playlist became
`/items`. Editorial playlists (owned by "spotify") answer 404 since November 2024, and so does a
private playlist to anyone but its owner and collaborators.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, Response, g, jsonify, request

from release_notifier.sandbox.emulator_api import MARKET, ApiError, int_param, require_id
from release_notifier.sandbox.emulator_data import Playlist

if TYPE_CHECKING:
    from release_notifier.sandbox.emulator import SpotifyEmulator

SEARCH_TYPES = ("album", "artist", "playlist", "track", "show", "episode", "audiobook")
SEARCH_MAX_OFFSET = 1000
EDITORIAL_OWNER = "spotify"


def register_lookup_routes(app: Flask, emulator: SpotifyEmulator) -> None:
    """Add GET /v1/search, /v1/tracks/{id} and /v1/playlists/{id}[/items] to `app`."""
    shapes = emulator.shapes

    def readable_playlist(playlist_id: str) -> Playlist:
        """The playlist if this token may see it at all (metadata), else 404."""
        playlist = emulator.catalogue.playlists.get(require_id(playlist_id))
        if playlist is None or playlist.owner == EDITORIAL_OWNER:
            raise ApiError(404, "Resource not found")
        if not playlist.public and not playlist.editable_by(g.grant.user_id):
            raise ApiError(404, "Resource not found")
        return playlist

    def items_allowed(playlist: Playlist) -> bool:
        return not emulator.playlist_items_restricted or playlist.editable_by(g.grant.user_id)

    @app.get("/v1/search")
    def search() -> Response:
        # `next` and `href` carry the query as `query=`, which Spotify accepts too
        query = (request.args.get("q") or request.args.get("query") or "").strip()
        if not query:
            raise ApiError(400, "No search query")
        types = search_types()
        most, default = (50, 20) if emulator.profile == "extended" else (10, 5)
        limit = int_param("limit", default, 1, most, "Invalid limit")
        offset = int_param("offset", 0, 0, SEARCH_MAX_OFFSET, "Invalid offset")
        market = request.args.get("market")
        if market is not None and not MARKET.match(market):
            raise ApiError(400, "Invalid market code")
        answer = {}
        with emulator.lock:
            for kind in types:
                found = emulator.catalogue.search_artists(query) if kind == "artist" else []
                items = [shapes.artist_full(a) for a in found[offset : offset + limit]]
                extra = {"query": query, "type": kind}
                answer[f"{kind}s"] = shapes.offset_page(
                    "/search", extra, items, offset, limit, len(found)
                )
        return jsonify(answer)

    @app.get("/v1/tracks/<track_id>")
    def track(track_id: str) -> Response:
        with emulator.lock:
            found = emulator.catalogue.find_track(require_id(track_id))
            if found is None:
                raise ApiError(404, "Resource not found")
            return jsonify(shapes.track_full(*found, track_id))

    @app.get("/v1/playlists/<playlist_id>")
    def playlist(playlist_id: str) -> Response:
        with emulator.lock:
            found = readable_playlist(playlist_id)
            return jsonify(shapes.playlist(found, with_items=items_allowed(found)))

    def playlist_items(playlist_id: str) -> Response:
        limit = int_param("limit", 20, 1, 100, "Invalid limit")
        offset = int_param("offset", 0, 0, 100_000, "Invalid offset")
        with emulator.lock:
            found = readable_playlist(playlist_id)
            if not items_allowed(found):
                raise ApiError(403, "Forbidden")
            return jsonify(shapes.playlist_items_page(found, offset, limit))

    @app.get("/v1/playlists/<playlist_id>/items")
    def items(playlist_id: str) -> Response:
        return playlist_items(playlist_id)

    @app.get("/v1/playlists/<playlist_id>/tracks")
    def tracks(playlist_id: str) -> Response:
        if emulator.profile != "extended":
            raise ApiError(403, "Forbidden")  # renamed to /items in February 2026
        return playlist_items(playlist_id)


def search_types() -> list[str]:
    """The comma-separated `type` parameter, each one a type Spotify searches."""
    raw = request.args.get("type")
    if not raw:
        raise ApiError(400, "Missing parameter type")
    types = raw.split(",")
    if not all(kind in SEARCH_TYPES for kind in types):
        raise ApiError(400, "Bad search type field")
    return types
