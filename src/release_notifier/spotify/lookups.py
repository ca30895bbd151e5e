"""What catalogue look-ups return: artist search hits, pasted Spotify links and the artists they
name. Pure parsing; the requests are SpotifyClient's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from release_notifier.spotify.errors import SpotifyError

LINK_KINDS = ("artist", "album", "track", "playlist")
_ID = r"([0-9A-Za-z]{22})"
_KIND = "(" + "|".join(LINK_KINDS) + ")"
WEB_LINK = re.compile(
    r"^(?:https?://)?open\.spotify\.com/(?:intl-[A-Za-z-]+/)?(?:embed/)?"
    + _KIND
    + "/"
    + _ID
    + r"/?(?:[?#].*)?$"
)
URI_LINK = re.compile(r"^spotify:" + _KIND + ":" + _ID + "$")
IMAGE_WIDTH = 300  # the size a search result shows: the smallest at least this wide


class LinkNotReadable(SpotifyError):
    """A link Spotify will not resolve for this app: unknown id, a private or editorial
    playlist, or a playlist whose items only its owner may read (development mode, 2026).
    The message says so in plain words."""


@dataclass(frozen=True)
class ArtistRef:
    id: str
    name: str


@dataclass(frozen=True)
class ArtistHit:
    """One artist as search or a look-up shows it. `followers` is None in development mode,
    where Spotify dropped the field in February 2026; image and genres still tell namesakes
    apart."""

    id: str
    name: str
    image_url: str | None
    followers: int | None
    genres: tuple[str, ...]
    url: str


@dataclass(frozen=True)
class SearchPage:
    artists: list[ArtistHit]
    total: int
    offset: int
    next_offset: int | None  # None: no further page


@dataclass(frozen=True)
class SpotifyLink:
    kind: str  # artist, album, track or playlist
    id: str


def parse_link(text: str) -> SpotifyLink | None:
    """An open.spotify.com link (any intl- prefix, embed, query) or a spotify: URI naming an
    artist, album, track or playlist; None for anything else."""
    text = text.strip()
    match = WEB_LINK.match(text) or URI_LINK.match(text)
    return SpotifyLink(match.group(1), match.group(2)) if match else None


def artist_hit(item: dict[str, Any]) -> ArtistHit:
    """An artist object (full or search result) as an ArtistHit."""
    followers = item.get("followers")
    total = followers.get("total") if isinstance(followers, dict) else None
    return ArtistHit(
        id=str(item["id"]),
        name=str(item.get("name") or ""),
        image_url=_image_url(item.get("images") or []),
        followers=total if isinstance(total, int) else None,
        genres=tuple(str(genre) for genre in item.get("genres") or []),
        url=str((item.get("external_urls") or {}).get("spotify") or ""),
    )


def _image_url(images: list[dict[str, Any]]) -> str | None:
    """The smallest image at least IMAGE_WIDTH wide, else the largest there is."""
    sized = sorted(images, key=lambda image: image.get("width") or 0)
    wide = [image for image in sized if (image.get("width") or 0) >= IMAGE_WIDTH]
    chosen = wide[0] if wide else (sized[-1] if sized else None)
    return str(chosen["url"]) if chosen and chosen.get("url") else None


def search_page(body: dict[str, Any]) -> SearchPage:
    """The `artists` paging object of a search answer."""
    page = body.get("artists") or {}
    items = [artist_hit(item) for item in page.get("items") or [] if item and item.get("id")]
    offset = int(page.get("offset") or 0)
    limit = int(page.get("limit") or len(items) or 1)
    return SearchPage(
        artists=items,
        total=int(page.get("total") or 0),
        offset=offset,
        next_offset=offset + limit if page.get("next") else None,
    )


def artist_refs(artists: Iterable[dict[str, Any] | None]) -> list[ArtistRef]:
    """Simplified artist objects as refs, each id once, in order; local files' artists (no id)
    are left out."""
    seen: dict[str, ArtistRef] = {}
    for artist in artists:
        if artist and artist.get("id") and artist["id"] not in seen:
            seen[artist["id"]] = ArtistRef(str(artist["id"]), str(artist.get("name") or ""))
    return list(seen.values())


def playlist_entries(page: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    """The tracks of a page of playlist items (2026 `item`, older `track`), or None when the
    answer holds no items (metadata only)."""
    if not isinstance(page, dict) or not isinstance(page.get("items"), list):
        return None
    tracks = [entry.get("item") or entry.get("track") for entry in page["items"] if entry]
    return [track for track in tracks if isinstance(track, dict)]
