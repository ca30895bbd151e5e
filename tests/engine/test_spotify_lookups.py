"""SpotifyClient's catalogue look-ups (search, pasted links) on the app's own token, over HTTP
against the emulator's development-mode profile."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from release_notifier.db import Database
from release_notifier.db.models import SpotifyCall
from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.settings import load_settings
from release_notifier.spotify.app_token import app_client
from release_notifier.spotify.budget import RequestBudget
from release_notifier.spotify.client import SpotifyClient
from release_notifier.spotify.errors import QuotaExceeded
from release_notifier.spotify.lookups import ArtistRef, LinkNotReadable, SpotifyLink, parse_link


def token_client(emulator: SpotifyEmulator, budget: RequestBudget | None = None) -> SpotifyClient:
    """A client on an app (client-credentials) access token handed out by the emulator."""
    settings = load_settings(
        spotipy_client_id=emulator.client_id,
        spotipy_client_secret=emulator.client_secret,
        spotify_api_base_url=emulator.api_base_url,
        spotify_accounts_base_url=emulator.accounts_base_url,
    )
    return SpotifyClient(settings, access_token=emulator.issue_app_token(), budget=budget)


def test_search_pages_ten_at_a_time_with_what_tells_namesakes_apart(
    emulator: SpotifyEmulator,
) -> None:
    pop = emulator.add_artist("Nova Reed", genres=["indie pop"])
    hard = emulator.add_artist("Nova Reed", genres=["hardstyle"])
    for number in range(11):
        emulator.add_artist(f"Nova Reed Cover Band {number}")
    client = token_client(emulator)

    first = client.search_artists("  nova   reed ")
    second = client.search_artists("nova reed", offset=first.next_offset or 0)

    assert [hit.id for hit in first.artists[:2]] in ([pop, hard], [hard, pop])
    assert len(first.artists) == 10 and first.total == 13 and first.next_offset == 10
    assert len(second.artists) == 3 and second.next_offset is None
    namesakes = {hit.id: hit for hit in first.artists[:2]}
    assert namesakes[pop].genres == ("indie pop",) and namesakes[hard].genres == ("hardstyle",)
    assert namesakes[pop].image_url != namesakes[hard].image_url
    assert namesakes[pop].followers is None  # development mode dropped the field
    assert all(int(r.query["limit"]) <= 10 for r in emulator.requests if r.path == "/v1/search")


def test_a_blank_search_sends_nothing(emulator: SpotifyEmulator) -> None:
    page = token_client(emulator).search_artists("   ")
    assert page.artists == [] and page.next_offset is None
    assert emulator.count() == 0


def test_search_shows_follower_counts_where_spotify_gives_them() -> None:
    with SpotifyEmulator(profile="extended") as emulator:
        emulator.add_artist("Nova Reed")
        hit = token_client(emulator).search_artists("Nova").artists[0]
    assert hit.followers is not None and hit.followers > 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "https://open.spotify.com/artist/0KPX4Ucy9dk82uj4GpKesn",
            ("artist", "0KPX4Ucy9dk82uj4GpKesn"),
        ),
        (
            " https://open.spotify.com/intl-de/album/5Z9iiGl2FcIfa3BMiv6OIw?si=abc ",
            ("album", "5Z9iiGl2FcIfa3BMiv6OIw"),
        ),
        ("open.spotify.com/track/2TpxZ7JUBn3uw46aR7qd6V", ("track", "2TpxZ7JUBn3uw46aR7qd6V")),
        ("spotify:playlist:37i9dQZF1DXcBWIGoYBM5M", ("playlist", "37i9dQZF1DXcBWIGoYBM5M")),
        (
            "https://open.spotify.com/embed/artist/0KPX4Ucy9dk82uj4GpKesn",
            ("artist", "0KPX4Ucy9dk82uj4GpKesn"),
        ),
        ("https://open.spotify.com/show/0KPX4Ucy9dk82uj4GpKesn", None),
        ("https://evil.example/open.spotify.com/artist/0KPX4Ucy9dk82uj4GpKesn", None),
        ("https://open.spotify.com/artist/short", None),
        ("Nova Reed", None),
    ],
)
def test_links_and_uris_are_parsed_and_nothing_else(
    text: str, expected: tuple[str, str] | None
) -> None:
    link = parse_link(text)
    assert (link.kind, link.id) == expected if link else expected is None


def test_each_kind_of_link_resolves_to_its_artists(emulator: SpotifyEmulator) -> None:
    nova, kestrel = emulator.add_artist("Nova Reed"), emulator.add_artist("Kestrel Vale")
    duet = emulator.add_release([nova, kestrel], "Two Rivers", total_tracks=2)
    solo = emulator.add_release(nova, "Glasshouse", total_tracks=1)
    client = token_client(emulator)
    both = [ArtistRef(nova, "Nova Reed"), ArtistRef(kestrel, "Kestrel Vale")]

    assert client.artists_of_link(SpotifyLink("artist", kestrel)) == [both[1]]
    assert client.artists_of_link(SpotifyLink("album", duet)) == both
    assert client.artists_of_link(SpotifyLink("track", emulator.track_ids(solo)[0])) == [both[0]]
    with pytest.raises(LinkNotReadable):
        client.artists_of_link(SpotifyLink("album", "0" * 22))


def test_a_playlist_the_app_may_read_gives_each_artist_once_over_several_pages(
    emulator: SpotifyEmulator,
) -> None:
    emulator.playlist_items_restricted = False  # as for extended (or spared) apps
    artists = [emulator.add_artist(f"Band {n}") for n in range(3)]
    tracks = [
        track
        for n in range(60)
        for track in emulator.track_ids(
            emulator.add_release(artists[n % 3], f"Song {n}", total_tracks=2)
        )
    ]
    playlist = emulator.add_playlist("Long Mix", tracks)

    found = token_client(emulator).artists_of_playlist(playlist)

    assert [ref.id for ref in found] == artists
    pages = [r for r in emulator.requests if r.path.startswith("/v1/playlists/")]
    assert len(pages) == 2  # the playlist (100 items), then one page of the last 20


def test_a_playlist_only_its_owner_may_read_says_so_plainly(emulator: SpotifyEmulator) -> None:
    artist = emulator.add_artist("Nova Reed")
    tracks = emulator.track_ids(emulator.add_release(artist, "Glasshouse"))
    emulator.add_account("ana")
    theirs = emulator.add_playlist("Mixtape", tracks, owner="ana")
    editorial = emulator.add_playlist("Top Hits", tracks, owner="spotify")
    client = token_client(emulator)

    with pytest.raises(LinkNotReadable, match="only the playlists of its own Spotify users"):
        client.artists_of_playlist(theirs)
    with pytest.raises(LinkNotReadable, match="no playlist this app may read"):
        client.artists_of_playlist(editorial)


def test_look_ups_are_counted_in_the_request_budget(
    emulator: SpotifyEmulator, database: Database
) -> None:
    artist = emulator.add_artist("Nova Reed")
    budget = RequestBudget(database, limit=2)
    client = token_client(emulator, budget)

    client.search_artists("nova")
    client.artists_of_link(SpotifyLink("artist", artist))
    with pytest.raises(QuotaExceeded):
        client.search_artists("nova")

    with database.session() as session:
        endpoints = sorted(call.endpoint for call in session.query(SpotifyCall))
    assert endpoints == ["/artists/{id}", "/search"]
    assert emulator.count() == 2


def test_web_look_ups_share_one_app_token_and_the_daily_budget(
    emulator: SpotifyEmulator, database: Database
) -> None:
    emulator.add_artist("Nova Reed")
    settings = load_settings(
        spotipy_client_id=emulator.client_id,
        spotipy_client_secret=emulator.client_secret,
        spotify_api_base_url=emulator.api_base_url,
        spotify_accounts_base_url=emulator.accounts_base_url,
        db_encryption_key=Fernet.generate_key().decode(),
    )

    for _ in range(3):  # three page views, each with its own client
        assert app_client(settings, database).search_artists("nova").total == 1

    assert sum(1 for r in emulator.requests if r.path == "/api/token") == 1
    assert RequestBudget(database, limit=500).used() == 3
