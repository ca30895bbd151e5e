"""The emulated Spotify's catalogue and accounts: artists, releases, listeners and who follows whom.

Callers hold the emulator's lock; nothing here locks by itself.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

BASE62 = string.digits + string.ascii_letters
SPOTIFY_ID = re.compile(r"^[0-9A-Za-z]{22}$")
VARIOUS_ARTISTS_ID = "0LyfQWJT6nXafLPZqxe9Of"
GROUPS = ("album", "single", "compilation", "appears_on")
YEAR_ZERO = "0000"
PRECISION_BY_LENGTH = {4: "year", 7: "month", 10: "day"}
DATE_FORMAT_BY_PRECISION = {"year": "%Y", "month": "%Y-%m", "day": "%Y-%m-%d"}


def make_id(*parts: str, length: int = 22) -> str:
    """A base62 id derived from `parts`: the same parts always give the same id."""
    number = int.from_bytes(hashlib.sha256("\x00".join(parts).encode()).digest(), "big")
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 62)
        chars.append(BASE62[digit])
    return "".join(chars)


def make_upc(album_id: str) -> str:
    """A 14-digit code in the form Spotify's external_ids.upc shows, fixed by the album id."""
    digest = hashlib.sha256(("upc\x00" + album_id).encode()).digest()
    return "00" + str(int.from_bytes(digest[:8], "big") % 10**12).zfill(12)


def is_spotify_id(value: str) -> bool:
    """Spotify ids are 22 base62 characters."""
    return bool(SPOTIFY_ID.match(value))


def release_date_precision(release_date: str, precision: str | None) -> str:
    """The precision a release date is written in; it must agree with the date's own form.

    `"0000"` (precision year) is allowed: Spotify serves it on some albums (2026 as observed).
    """
    derived = PRECISION_BY_LENGTH.get(len(release_date))
    if derived is None or (precision is not None and precision != derived):
        raise ValueError(f"release_date {release_date!r} does not match precision {precision!r}")
    if release_date == YEAR_ZERO:
        return derived
    try:
        date.fromisoformat(
            {"year": "{}-01-01", "month": "{}-01", "day": "{}"}[derived].format(release_date)
        )
    except ValueError:
        raise ValueError(
            f"release_date {release_date!r} is not YYYY, YYYY-MM or YYYY-MM-DD"
        ) from None
    return derived


@dataclass
class Artist:
    id: str
    name: str
    genres: list[str] = field(default_factory=list)

    @property
    def followers(self) -> int:
        """A follower count fixed by the id: shown by the extended profile, and the popularity
        search ranks by in every profile."""
        return 1000 + 137 * sum(map(ord, self.id))


@dataclass
class Release:
    id: str
    name: str
    release_date: str
    precision: str
    total_tracks: int
    album_type: str
    main_artists: list[str]
    groups: dict[str, str]  # artist id -> album group on that artist's page
    explicit: bool
    upc: str
    sequence: int

    @property
    def sort_date(self) -> str:
        """The date as YYYY-MM-DD, a partial date taken at its start, for newest-first order."""
        return (self.release_date + "-01-01")[:10] if self.precision != "day" else self.release_date

    def track_ids(self) -> list[str]:
        return [
            make_id("track", self.id, str(number)) for number in range(1, self.total_tracks + 1)
        ]


@dataclass
class Playlist:
    """A playlist; `owner` is an account's user id or any other Spotify user id ("spotify":
    an editorial playlist, out of reach of apps since November 2024)."""

    id: str
    name: str
    owner: str
    public: bool
    track_ids: list[str]
    collaborators: set[str] = field(default_factory=set)

    def editable_by(self, user_id: str | None) -> bool:
        """Its owner and collaborators: the only users a 2026 dev-mode app reads items for."""
        return user_id is not None and (user_id == self.owner or user_id in self.collaborators)


@dataclass
class Account:
    user_id: str
    account_id: str
    display_name: str
    allowlisted: bool
    follows: set[str] = field(default_factory=set)


@dataclass
class Catalogue:
    """Artists, releases and accounts, with the checks the emulator's helpers promise."""

    artists: dict[str, Artist] = field(default_factory=dict)
    releases: dict[str, Release] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    playlists: dict[str, Playlist] = field(default_factory=dict)
    by_artist: dict[str, dict[str, Release]] = field(default_factory=dict)
    _sequence: int = 0

    def next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    def add_artist(self, name: str, artist_id: str | None, genres: Iterable[str] = ()) -> str:
        artist_id = artist_id or make_id("artist", name, str(self.next_sequence()))
        if not is_spotify_id(artist_id):
            raise ValueError(f"artist id {artist_id!r} is not 22 base62 characters")
        if artist_id in self.artists:
            raise ValueError(f"artist {artist_id} already exists")
        self.artists[artist_id] = Artist(artist_id, name, list(genres))
        return artist_id

    def require_artist(self, artist_id: str) -> Artist:
        try:
            return self.artists[artist_id]
        except KeyError:
            raise ValueError(f"no artist {artist_id!r} in the emulator") from None

    def various_artists(self) -> str:
        """The "Various Artists" artist that compilations list, created on first use."""
        if VARIOUS_ARTISTS_ID not in self.artists:
            self.add_artist("Various Artists", VARIOUS_ARTISTS_ID)
        return VARIOUS_ARTISTS_ID

    def add_release(self, release: Release) -> str:
        if not is_spotify_id(release.id):
            raise ValueError(f"album id {release.id!r} is not 22 base62 characters")
        if release.id in self.releases:
            raise ValueError(f"album {release.id} already exists")
        for artist_id in [*release.groups, *release.main_artists]:
            self.require_artist(artist_id)
        self.releases[release.id] = release
        for artist_id in release.groups:
            self.by_artist.setdefault(artist_id, {})[release.id] = release
        return release.id

    def remove_release(self, album_id: str) -> None:
        release = self.releases.pop(album_id, None)
        if release is None:
            raise ValueError(f"no album {album_id!r} in the emulator")
        for artist_id in release.groups:
            del self.by_artist[artist_id][album_id]

    def releases_of(self, artist_id: str, groups: Iterable[str]) -> list[tuple[Release, str]]:
        """An artist's releases in `groups`: group by group in GROUPS order, newest first."""
        wanted = set(groups)
        listed = [
            (release, release.groups[artist_id])
            for release in self.by_artist.get(artist_id, {}).values()
            if release.groups[artist_id] in wanted
        ]
        listed.sort(key=lambda pair: (GROUPS.index(pair[1]), -release_rank(pair[0])))
        return listed

    def find_track(self, track_id: str) -> tuple[Release, int] | None:
        """The release a track id belongs to and its track number."""
        for release in self.releases.values():
            track_ids = release.track_ids()
            if track_id in track_ids:
                return release, track_ids.index(track_id) + 1
        return None

    def add_playlist(self, playlist: Playlist) -> str:
        if not is_spotify_id(playlist.id):
            raise ValueError(f"playlist id {playlist.id!r} is not 22 base62 characters")
        if playlist.id in self.playlists:
            raise ValueError(f"playlist {playlist.id} already exists")
        for track_id in playlist.track_ids:
            if self.find_track(track_id) is None:
                raise ValueError(f"no track {track_id!r} in the emulator")
        self.playlists[playlist.id] = playlist
        return playlist.id

    def search_artists(self, query: str) -> list[Artist]:
        """Artists whose name has a word starting with each word of `query` (case and an
        `artist:` field filter ignored): an exact name first, then the most followed."""
        words = [w for w in query.casefold().replace('"', " ").split() if w != "artist:"]
        words = [w.removeprefix("artist:") for w in words]
        if not words:
            return []

        def matches(artist: Artist) -> bool:
            name_words = artist.name.casefold().split()
            return all(any(n.startswith(w) for n in name_words) for w in words)

        wanted = " ".join(words)
        found = [artist for artist in self.artists.values() if matches(artist)]
        found.sort(key=lambda a: (a.name.casefold() != wanted, -a.followers, a.name, a.id))
        return found

    def newest_releases(self) -> list[Release]:
        return sorted(self.releases.values(), key=release_rank, reverse=True)

    def add_account(self, account: Account) -> str:
        if account.user_id in self.accounts:
            raise ValueError(f"account {account.user_id!r} already exists")
        for artist_id in account.follows:
            self.require_artist(artist_id)
        self.accounts[account.user_id] = account
        return account.user_id

    def require_account(self, user_id: str) -> Account:
        try:
            return self.accounts[user_id]
        except KeyError:
            raise ValueError(f"no account {user_id!r} in the emulator") from None

    def allowlisted_count(self) -> int:
        return sum(1 for account in self.accounts.values() if account.allowlisted)


def release_rank(release: Release) -> int:
    """Newer releases rank higher; within a day, later-added ones first."""
    return int(release.sort_date.replace("-", "")) * 1_000_000 + release.sequence
