"""The JSON objects the emulated Web API returns, shaped per profile (fields dev mode dropped).

`dev_new` leaves out album_group, available_markets, label and popularity on albums, followers
and popularity on artists, and email, country and product on the user; `extended` keeps them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from release_notifier.sandbox.emulator_data import Account, Artist, Catalogue, Playlist, Release

MARKETS = ["CA", "DE", "FR", "GB", "SE", "US"]
TRACKS_PER_ALBUM_PAGE = 50
COVER_SIZES = (640, 300, 64)

Json = dict[str, Any]


class Shapes:
    """Builds Web API objects with absolute URLs on the emulator's own base."""

    def __init__(self, catalogue: Catalogue, base_url: str, profile: str) -> None:
        self.catalogue = catalogue
        self.base_url = base_url
        self.extended = profile == "extended"

    @property
    def api(self) -> str:
        return self.base_url + "/v1"

    def page_url(self, path: str, params: dict[str, str | int]) -> str:
        """An absolute API URL for `path` with `params` in the given order."""
        return f"{self.api}{path}?{urlencode(params)}"

    def images(self, kind: str, item_id: str) -> list[Json]:
        return [
            {
                "url": f"{self.base_url}/images/{kind}/{item_id}/{size}.svg",
                "height": size,
                "width": size,
            }
            for size in COVER_SIZES
        ]

    def artist_simple(self, artist: Artist) -> Json:
        return {
            "external_urls": {"spotify": f"https://open.spotify.com/artist/{artist.id}"},
            "href": f"{self.api}/artists/{artist.id}",
            "id": artist.id,
            "name": artist.name,
            "type": "artist",
            "uri": f"spotify:artist:{artist.id}",
        }

    def artist_full(self, artist: Artist) -> Json:
        full = self.artist_simple(artist)
        full["genres"] = list(artist.genres)
        full["images"] = self.images("artist", artist.id)
        if self.extended:
            full["followers"] = {"href": None, "total": artist.followers}
            full["popularity"] = 30 + sum(map(ord, artist.id)) % 60
        return full

    def album_simple(self, release: Release, group: str | None = None) -> Json:
        album: Json = {
            "album_type": release.album_type,
            "total_tracks": release.total_tracks,
            "external_urls": {"spotify": f"https://open.spotify.com/album/{release.id}"},
            "href": f"{self.api}/albums/{release.id}",
            "id": release.id,
            "images": self.images("album", release.id),
            "name": release.name,
            "release_date": release.release_date,
            "release_date_precision": release.precision,
            "type": "album",
            "uri": f"spotify:album:{release.id}",
            "artists": self.artists_of(release),
        }
        if self.extended:
            if group is not None:
                album["album_group"] = group
            album["available_markets"] = list(MARKETS)
        return album

    def album_full(self, release: Release) -> Json:
        album = self.album_simple(release)
        year = release.release_date[:4]
        album["tracks"] = self.tracks_page(release, 0, TRACKS_PER_ALBUM_PAGE)
        album["copyrights"] = [
            {"text": f"{year} {self.label_of(release)}", "type": "C"},
            {"text": f"{year} {self.label_of(release)}", "type": "P"},
        ]
        album["external_ids"] = {"upc": release.upc}
        album["genres"] = []
        if self.extended:
            album["label"] = self.label_of(release)
            album["popularity"] = 20 + release.total_tracks * 3 % 70
        return album

    def label_of(self, release: Release) -> str:
        return f"{self.catalogue.artists[release.main_artists[0]].name} Records"

    def artists_of(self, release: Release) -> list[Json]:
        return [self.artist_simple(self.catalogue.artists[a]) for a in release.main_artists]

    def track_simple(self, release: Release, number: int, track_id: str) -> Json:
        track: Json = {
            "artists": self.artists_of(release),
            "disc_number": 1,
            "duration_ms": 150_000 + sum(map(ord, track_id)) * 997 % 120_000,
            "explicit": release.explicit,
            "external_urls": {"spotify": f"https://open.spotify.com/track/{track_id}"},
            "href": f"{self.api}/tracks/{track_id}",
            "id": track_id,
            "is_local": False,
            "name": f"{release.name} (Track {number})"
            if release.total_tracks > 1
            else release.name,
            "preview_url": None,
            "track_number": number,
            "type": "track",
            "uri": f"spotify:track:{track_id}",
        }
        if self.extended:
            track["available_markets"] = list(MARKETS)
        return track

    def track_full(self, release: Release, number: int, track_id: str) -> Json:
        """GET /tracks/{id}: the simplified track with its album and ISRC."""
        track = self.track_simple(release, number, track_id)
        track["album"] = self.album_simple(release)
        track["external_ids"] = {"isrc": f"QZ{track_id[:10].upper()}"}
        if self.extended:
            track["popularity"] = 10 + number * 7 % 80
        return track

    def owner(self, user_id: str) -> Json:
        account = self.catalogue.accounts.get(user_id)
        return {
            "display_name": account.display_name if account else user_id.capitalize(),
            "external_urls": {"spotify": f"https://open.spotify.com/user/{user_id}"},
            "href": f"{self.api}/users/{user_id}",
            "id": user_id,
            "type": "user",
            "uri": f"spotify:user:{user_id}",
        }

    @property
    def item_key(self) -> str:
        """February 2026 renamed a playlist's `tracks` to `items` and an item's `track` to
        `item` for development-mode apps; extended apps keep the old names."""
        return "tracks" if self.extended else "items"

    def playlist_items_page(self, playlist: Playlist, offset: int, limit: int) -> Json:
        """An offset page of playlist items, each wrapping a full track."""
        entries: list[Json] = []
        for track_id in playlist.track_ids[offset : offset + limit]:
            found = self.catalogue.find_track(track_id)
            if found is None:  # removed from Spotify since: Spotify answers null
                entries.append({"added_at": None, "is_local": False, self.item_key[:-1]: None})
                continue
            entries.append(
                {
                    "added_at": "2026-01-01T00:00:00Z",
                    "added_by": self.owner(playlist.owner),
                    "is_local": False,
                    self.item_key[:-1]: self.track_full(*found, track_id),
                }
            )
        path = f"/playlists/{playlist.id}/{self.item_key}"
        return self.offset_page(path, {}, entries, offset, limit, len(playlist.track_ids))

    def playlist(self, playlist: Playlist, *, with_items: bool) -> Json:
        """GET /playlists/{id}: metadata, plus the first 100 items when `with_items`."""
        body: Json = {
            "collaborative": bool(playlist.collaborators),
            "description": "",
            "external_urls": {"spotify": f"https://open.spotify.com/playlist/{playlist.id}"},
            "href": f"{self.api}/playlists/{playlist.id}",
            "id": playlist.id,
            "images": self.images("playlist", playlist.id),
            "name": playlist.name,
            "owner": self.owner(playlist.owner),
            "public": playlist.public,
            "snapshot_id": f"MTAs{playlist.id[:12]}",
            "type": "playlist",
            "uri": f"spotify:playlist:{playlist.id}",
        }
        if with_items:
            body[self.item_key] = self.playlist_items_page(playlist, 0, 100)
        return body

    def tracks_page(self, release: Release, offset: int, limit: int) -> Json:
        ids = release.track_ids()
        items = [
            self.track_simple(release, number, track_id)
            for number, track_id in enumerate(ids, start=1)
        ][offset : offset + limit]
        return self.offset_page(f"/albums/{release.id}/tracks", {}, items, offset, limit, len(ids))

    def offset_page(
        self,
        path: str,
        extra: dict[str, str],
        items: list[Json],
        offset: int,
        limit: int,
        total: int,
    ) -> Json:
        """An offset paging object whose href/next/previous are absolute emulator URLs."""

        def url(at: int) -> str:
            return self.page_url(path, {"offset": at, "limit": limit, **extra})

        return {
            "href": url(offset),
            "limit": limit,
            "next": url(offset + limit) if offset + limit < total else None,
            "offset": offset,
            "previous": url(max(0, offset - limit)) if offset > 0 else None,
            "total": total,
            "items": items,
        }

    def cursor_page(
        self,
        path: str,
        here: dict[str, str | int],
        items: list[Json],
        last: str | None,
        total: int,
    ) -> Json:
        """A cursor paging object; `next` carries `after=<last id>` while more remain."""
        rest = {key: value for key, value in here.items() if key not in ("after", "limit")}
        following = {**rest, "after": last, "limit": here["limit"]} if last else None
        return {
            "href": self.page_url(path, here),
            "limit": here["limit"],
            "next": self.page_url(path, following) if following else None,
            "cursors": {"after": last},
            "total": total,
            "items": items,
        }

    def user(self, account: Account) -> Json:
        user: Json = {
            "display_name": account.display_name,
            "external_urls": {"spotify": f"https://open.spotify.com/user/{account.user_id}"},
            "href": f"{self.api}/users/{account.user_id}",
            "id": account.user_id,
            "account_id": account.account_id,
            "images": [],
            "type": "user",
            "uri": f"spotify:user:{account.user_id}",
        }
        if self.extended:
            user.update(
                country="US",
                email=f"{account.user_id}@example.test",
                product="premium",
                explicit_content={"filter_enabled": False, "filter_locked": False},
                followers={"href": None, "total": 0},
            )
        return user
