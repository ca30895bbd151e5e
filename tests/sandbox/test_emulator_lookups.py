"""The emulator's app token (client credentials), artist search and the look-ups behind a pasted
link, as a 2026 development-mode app sees them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests
import time_machine

from release_notifier.sandbox.emulator import SpotifyEmulator
from tests.sandbox.helpers import api_get, listener_token, token_request


def app_token(emulator: SpotifyEmulator) -> str:
    answer = token_request(emulator, grant_type="client_credentials")
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def test_the_client_credentials_grant_gives_an_hour_long_token_without_refresh_or_scope(
    emulator: SpotifyEmulator,
) -> None:
    answer = token_request(emulator, grant_type="client_credentials")

    body = answer.json()
    assert answer.status_code == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert "refresh_token" not in body and "scope" not in body


def test_the_client_credentials_grant_needs_the_client_secret(emulator: SpotifyEmulator) -> None:
    no_secret = requests.post(
        emulator.accounts_base_url + "/api/token",
        data={"grant_type": "client_credentials", "client_id": emulator.client_id},
        timeout=10,
    )
    wrong_secret = requests.post(
        emulator.accounts_base_url + "/api/token",
        data={"grant_type": "client_credentials"},
        auth=(emulator.client_id, "not-the-secret"),
        timeout=10,
    )
    assert no_secret.status_code == 400 and no_secret.json()["error"] == "invalid_client"
    assert wrong_secret.status_code == 400 and wrong_secret.json()["error"] == "invalid_client"


def test_the_app_token_reads_the_catalogue_but_no_user(emulator: SpotifyEmulator) -> None:
    artist = emulator.add_artist("Nova Reed")
    album = emulator.add_release(artist, "Glasshouse")
    emulator.add_account("ana", follows=[artist])
    token = app_token(emulator)

    assert api_get(emulator, f"/artists/{artist}", token).status_code == 200
    assert api_get(emulator, f"/artists/{artist}/albums", token).status_code == 200
    assert api_get(emulator, f"/albums/{album}", token).status_code == 200
    me = api_get(emulator, "/me", token)
    follows = api_get(emulator, "/me/following", token, type="artist")
    assert me.status_code == 401 and me.json()["error"]["status"] == 401
    assert follows.status_code == 401


def test_the_app_token_expires_after_an_hour(emulator: SpotifyEmulator) -> None:
    artist = emulator.add_artist("Nova Reed")
    with time_machine.travel(datetime(2026, 12, 1, 12, 0), tick=False) as traveller:
        token = app_token(emulator)
        traveller.shift(timedelta(minutes=59))
        fresh = api_get(emulator, f"/artists/{artist}", token)
        traveller.shift(timedelta(minutes=1))
        stale = api_get(emulator, f"/artists/{artist}", token)
    assert fresh.status_code == 200
    assert stale.status_code == 401
    assert stale.json()["error"]["message"] == "Missing/invalid/expired access token"


def test_knobs_refuse_the_app_token_and_the_calls_made_with_it(emulator: SpotifyEmulator) -> None:
    artist = emulator.add_artist("Nova Reed")
    emulator.refuse_app_token(times=1)
    refused = token_request(emulator, grant_type="client_credentials")
    token = app_token(emulator)  # the knob was spent
    emulator.forbid_app_calls(times=1)

    forbidden = api_get(emulator, f"/artists/{artist}", token)
    allowed = api_get(emulator, f"/artists/{artist}", token)

    assert refused.status_code == 400
    assert refused.json() == {"error": "invalid_client", "error_description": "Invalid client"}
    assert forbidden.status_code == 403 and forbidden.json()["error"]["message"] == "Forbidden"
    assert allowed.status_code == 200


def test_search_finds_namesakes_exact_name_first_ten_at_most(emulator: SpotifyEmulator) -> None:
    first = emulator.add_artist("Nova Reed", genres=["indie pop"])
    second = emulator.add_artist("Nova Reed", genres=["hardstyle"])
    emulator.add_artist("Nova Reed Tribute Band")
    emulator.add_artist("Kestrel Vale")
    token = app_token(emulator)

    answer = api_get(emulator, "/search", token, q="nova reed", type="artist", limit=10)

    page = answer.json()["artists"]
    names = [item["name"] for item in page["items"]]
    assert names == ["Nova Reed", "Nova Reed", "Nova Reed Tribute Band"]
    assert {item["id"] for item in page["items"][:2]} == {first, second}
    assert page["total"] == 3 and page["next"] is None
    assert all(item["images"] and "followers" not in item for item in page["items"])
    assert page["href"].startswith(emulator.api_base_url + "/search?offset=0&limit=10&query=")


def test_search_pages_by_offset_five_by_default(emulator: SpotifyEmulator) -> None:
    for number in range(7):
        emulator.add_artist(f"Echo {number}")
    token = app_token(emulator)

    first = api_get(emulator, "/search", token, q="echo", type="artist").json()["artists"]
    second = requests.get(
        first["next"], headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()["artists"]

    assert first["limit"] == 5 and len(first["items"]) == 5 and first["total"] == 7
    assert second["offset"] == 5 and len(second["items"]) == 2 and second["next"] is None
    seen = [item["id"] for item in first["items"] + second["items"]]
    assert len(set(seen)) == 7


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"type": "artist"}, "No search query"),
        ({"q": "nova"}, "Missing parameter type"),
        ({"q": "nova", "type": "singer"}, "Bad search type field"),
        ({"q": "nova", "type": "artist", "limit": "11"}, "Invalid limit"),
        ({"q": "nova", "type": "artist", "limit": "0"}, "Invalid limit"),
        ({"q": "nova", "type": "artist", "offset": "1001"}, "Invalid offset"),
        ({"q": "nova", "type": "artist", "market": "usa"}, "Invalid market code"),
    ],
)
def test_bad_search_parameters_are_400s(
    emulator: SpotifyEmulator, params: dict[str, str], message: str
) -> None:
    answer = api_get(emulator, "/search", app_token(emulator), **params)
    assert answer.status_code == 400
    assert answer.json() == {"error": {"status": 400, "message": message}}


def test_the_extended_profile_searches_50_a_page_with_follower_counts() -> None:
    with SpotifyEmulator(profile="extended") as emulator:
        emulator.add_artist("Nova Reed")
        token = app_token(emulator)
        answer = api_get(emulator, "/search", token, q="Nova", type="artist", limit=50)
    item = answer.json()["artists"]["items"][0]
    assert answer.status_code == 200
    assert item["followers"]["total"] > 0


def test_a_track_names_its_album_and_artists(emulator: SpotifyEmulator) -> None:
    nova, kestrel = emulator.add_artist("Nova Reed"), emulator.add_artist("Kestrel Vale")
    album = emulator.add_release([nova, kestrel], "Two Rivers", total_tracks=2)
    track_id = emulator.track_ids(album)[1]

    track = api_get(emulator, f"/tracks/{track_id}", app_token(emulator)).json()

    assert [artist["id"] for artist in track["artists"]] == [nova, kestrel]
    assert track["album"]["id"] == album and track["track_number"] == 2
    assert api_get(emulator, "/tracks/" + "0" * 22, app_token(emulator)).status_code == 404


@pytest.fixture
def mixtape(emulator: SpotifyEmulator) -> tuple[str, str]:
    """A public playlist owned by listener "ana": (playlist id, a track's artist id)."""
    artist = emulator.add_artist("Nova Reed")
    album = emulator.add_release(artist, "Glasshouse", total_tracks=3)
    emulator.add_account("ana")
    return emulator.add_playlist("Mixtape", emulator.track_ids(album), owner="ana"), artist


def test_a_playlist_shows_its_items_to_its_owner_only_in_2026_shape(
    emulator: SpotifyEmulator, mixtape: tuple[str, str]
) -> None:
    playlist_id, artist = mixtape
    owner = emulator.issue_tokens("ana")["access_token"]
    app = app_token(emulator)

    own = api_get(emulator, f"/playlists/{playlist_id}", owner).json()
    seen_by_app = api_get(emulator, f"/playlists/{playlist_id}", app).json()
    app_items = api_get(emulator, f"/playlists/{playlist_id}/items", app)
    owner_items = api_get(emulator, f"/playlists/{playlist_id}/items", owner, limit=2).json()
    renamed = api_get(emulator, f"/playlists/{playlist_id}/tracks", owner)

    assert own["items"]["total"] == 3 and "tracks" not in own
    assert own["items"]["items"][0]["item"]["artists"][0]["id"] == artist
    assert seen_by_app["name"] == "Mixtape" and "items" not in seen_by_app
    assert app_items.status_code == 403
    assert len(owner_items["items"]) == 2 and owner_items["next"] is not None
    assert renamed.status_code == 403


def test_an_unrestricted_app_reads_any_public_playlist(
    emulator: SpotifyEmulator, mixtape: tuple[str, str]
) -> None:
    playlist_id, artist = mixtape
    emulator.playlist_items_restricted = False

    items = api_get(emulator, f"/playlists/{playlist_id}/items", app_token(emulator)).json()

    assert {entry["item"]["artists"][0]["id"] for entry in items["items"]} == {artist}


def test_editorial_and_other_peoples_private_playlists_are_404(
    emulator: SpotifyEmulator, mixtape: tuple[str, str]
) -> None:
    _, artist = mixtape
    tracks = emulator.track_ids(emulator.add_release(artist, "Low Tide Letters"))
    editorial = emulator.add_playlist("Today's Top Hits", tracks, owner="spotify")
    private = emulator.add_playlist("Diary", tracks, owner="ana", public=False)

    assert api_get(emulator, f"/playlists/{editorial}", app_token(emulator)).status_code == 404
    assert api_get(emulator, f"/playlists/{private}", app_token(emulator)).status_code == 404
    stranger = listener_token(emulator)
    assert api_get(emulator, f"/playlists/{private}", stranger).status_code == 404
    owner = emulator.issue_tokens("ana")["access_token"]
    assert api_get(emulator, f"/playlists/{private}", owner).status_code == 200
