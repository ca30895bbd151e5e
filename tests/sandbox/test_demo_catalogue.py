"""The demo world: the cases a release notifier must handle, dated relative to today."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from release_notifier.sandbox.catalogue import DemoCatalogue, add_new_week, load_demo_catalogue
from release_notifier.sandbox.emulator import SpotifyEmulator
from tests.sandbox.helpers import api_get, token_request

TODAY = date(2026, 11, 25)


@pytest.fixture
def demo(emulator: SpotifyEmulator) -> DemoCatalogue:
    return load_demo_catalogue(emulator, TODAY)


def token_for(emulator: SpotifyEmulator, demo: DemoCatalogue, name: str) -> str:
    return emulator.issue_tokens(demo.accounts[name])["access_token"]


def album(emulator: SpotifyEmulator, demo: DemoCatalogue, album_id: str) -> dict:
    return api_get(emulator, f"/albums/{album_id}", token_for(emulator, demo, "ana")).json()


def followed_ids(emulator: SpotifyEmulator, demo: DemoCatalogue, name: str) -> set[str]:
    page = api_get(
        emulator, "/me/following", token_for(emulator, demo, name), type="artist", limit=50
    )
    return {artist["id"] for artist in page.json()["artists"]["items"]}


def test_three_allowlisted_listeners_follow_overlapping_artists_and_dana_is_refused(
    emulator: SpotifyEmulator, demo: DemoCatalogue
) -> None:
    ana, ben, cleo = (followed_ids(emulator, demo, name) for name in ("ana", "ben", "cleo"))
    dana = api_get(emulator, "/me", token_for(emulator, demo, "dana"))

    assert demo.allowlisted == ("ana", "ben", "cleo")
    assert ana & ben and ben & cleo and ana & cleo
    assert ana != ben != cleo
    assert dana.status_code == 403
    assert 10 <= len(demo.artists) <= 16


def test_it_has_releases_from_the_past_four_weeks_and_older_back_catalogue(
    emulator: SpotifyEmulator, demo: DemoCatalogue
) -> None:
    dates = [
        release.release_date
        for release in emulator.catalogue.releases.values()
        if release.precision == "day"
    ]
    recent = [
        d for d in dates if (TODAY - timedelta(days=28)).isoformat() <= d <= TODAY.isoformat()
    ]
    older = [d for d in dates if d < (TODAY - timedelta(days=365)).isoformat()]
    assert len(recent) >= 8
    assert len(older) >= 5


def test_explicit_and_clean_twins_share_name_date_and_track_count(
    emulator: SpotifyEmulator, demo: DemoCatalogue
) -> None:
    explicit = album(emulator, demo, demo.explicit_album_id)
    clean = album(emulator, demo, demo.clean_album_id)

    assert explicit["id"] != clean["id"]
    same = ("name", "release_date", "total_tracks")
    assert [explicit[key] for key in same] == [clean[key] for key in same]
    assert explicit["tracks"]["items"][0]["explicit"] is True
    assert clean["tracks"]["items"][0]["explicit"] is False


def test_the_collaboration_is_one_album_under_two_followed_artists(
    emulator: SpotifyEmulator, demo: DemoCatalogue
) -> None:
    collaboration = album(emulator, demo, demo.collaboration_album_id)
    artist_ids = {artist["id"] for artist in collaboration["artists"]}
    assert len(artist_ids) == 2
    assert artist_ids <= followed_ids(emulator, demo, "ana")


def test_it_has_year_and_month_precision_and_a_future_pre_release(
    emulator: SpotifyEmulator, demo: DemoCatalogue
) -> None:
    assert album(emulator, demo, demo.year_precision_album_id)["release_date_precision"] == "year"
    assert album(emulator, demo, demo.month_precision_album_id)["release_date_precision"] == "month"
    assert album(emulator, demo, demo.prerelease_album_id)["release_date"] > TODAY.isoformat()


def test_one_artist_has_45_releases(emulator: SpotifyEmulator, demo: DemoCatalogue) -> None:
    token = token_for(emulator, demo, "ana")
    page = api_get(emulator, f"/artists/{demo.prolific_artist_id}/albums", token, limit=10)
    assert page.json()["total"] == 45


def test_the_compilation_shows_under_appears_on_with_various_artists(
    emulator: SpotifyEmulator, demo: DemoCatalogue
) -> None:
    token = token_for(emulator, demo, "cleo")
    artist_id = demo.artists["Wren Atlas"]
    page = api_get(emulator, f"/artists/{artist_id}/albums", token, include_groups="appears_on")
    items = page.json()["items"]
    assert [item["id"] for item in items] == [demo.compilation_album_id]
    assert items[0]["album_type"] == "compilation"
    assert [artist["name"] for artist in items[0]["artists"]] == ["Various Artists"]


def test_a_new_week_brings_fresh_releases(emulator: SpotifyEmulator, demo: DemoCatalogue) -> None:
    before = set(emulator.catalogue.releases)
    next_week = TODAY + timedelta(days=7)

    added = add_new_week(emulator, next_week)

    assert added and not set(added) & before
    for album_id in added:
        released = album(emulator, demo, album_id)["release_date"]
        assert next_week - timedelta(days=1) <= date.fromisoformat(released) <= next_week


def test_demo_artists_keep_their_ids_from_run_to_run(demo: DemoCatalogue) -> None:
    with SpotifyEmulator() as another:
        again = load_demo_catalogue(another, TODAY)
    assert again.artists == demo.artists


def test_two_artists_are_called_nova_reed_and_search_tells_them_apart(
    emulator: SpotifyEmulator, demo: DemoCatalogue
) -> None:
    app = token_request(emulator, grant_type="client_credentials").json()["access_token"]
    found = api_get(emulator, "/search", app, q="Nova Reed", type="artist").json()["artists"]

    namesakes = [item for item in found["items"] if item["name"] == "Nova Reed"]
    assert {item["id"] for item in namesakes} == {
        demo.artists["Nova Reed"],
        demo.namesake_artist_id,
    }
    assert namesakes[0]["genres"] != namesakes[1]["genres"]
    assert namesakes[0]["images"][0]["url"] != namesakes[1]["images"][0]["url"]


def test_anas_mixtape_holds_tracks_of_several_artists(
    emulator: SpotifyEmulator, demo: DemoCatalogue
) -> None:
    mixtape = api_get(
        emulator, f"/playlists/{demo.playlist_id}", token_for(emulator, demo, "ana")
    ).json()
    artists = {entry["item"]["artists"][0]["id"] for entry in mixtape["items"]["items"]}
    assert len(artists) == 3
