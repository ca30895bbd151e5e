"""The emulated Web API as a 2026 development-mode app sees it."""

from __future__ import annotations

import pytest

from release_notifier.sandbox.emulator import SpotifyEmulator
from tests.sandbox.helpers import api_get, listener_token, token_request

GROUP_ORDER = ["album", "single", "compilation", "appears_on"]


def test_me_has_id_account_id_and_name_but_no_email_country_or_product(
    emulator: SpotifyEmulator,
) -> None:
    emulator.add_account("ana", display_name="Ana", account_id="aB3dE5fG7hJ9kL1mN3pQ5r")
    token = emulator.issue_tokens("ana")["access_token"]

    me = api_get(emulator, "/me", token).json()

    assert me["id"] == "ana"
    assert me["account_id"] == "aB3dE5fG7hJ9kL1mN3pQ5r"
    assert me["display_name"] == "Ana"
    assert not {"email", "country", "product", "followers", "explicit_content"} & set(me)


def test_followed_artists_page_by_ascending_id_with_an_after_cursor(
    emulator: SpotifyEmulator,
) -> None:
    artist_ids = [emulator.add_artist(f"Artist {n}") for n in range(5)]
    token = listener_token(emulator, follows=artist_ids)

    seen: list[str] = []
    url: str | None = "/me/following?type=artist&limit=2"
    pages = []
    while url:
        page = api_get(emulator, url, token).json()["artists"]
        pages.append(page)
        seen += [item["id"] for item in page["items"]]
        url = page["next"]

    assert seen == sorted(artist_ids)
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert pages[0]["next"].startswith(emulator.api_base_url + "/me/following?")
    assert pages[0]["cursors"] == {"after": seen[1]}
    assert pages[-1]["cursors"] == {"after": None}
    assert {p["total"] for p in pages} == {5}


def test_followed_artists_default_to_20_and_lack_followers_and_popularity(
    emulator: SpotifyEmulator,
) -> None:
    artist_ids = [emulator.add_artist(f"Artist {n}") for n in range(25)]
    token = listener_token(emulator, follows=artist_ids)

    page = api_get(emulator, "/me/following", token, type="artist").json()["artists"]

    assert page["limit"] == 20
    assert len(page["items"]) == 20
    assert not {"followers", "popularity"} & set(page["items"][0])
    assert {"genres", "images", "name", "uri"} <= set(page["items"][0])


@pytest.mark.parametrize("limit", ["0", "51", "ten"])
def test_followed_artists_limit_outside_1_to_50_is_a_400(
    emulator: SpotifyEmulator, limit: str
) -> None:
    answer = api_get(
        emulator, "/me/following", listener_token(emulator), type="artist", limit=limit
    )
    assert answer.status_code == 400
    assert answer.json() == {"error": {"status": 400, "message": "Invalid limit"}}


def test_followed_artists_need_the_user_follow_read_scope(emulator: SpotifyEmulator) -> None:
    emulator.add_account("ana")
    code = emulator.grant_code("ana", "http://127.0.0.1:5000/cb", scope="user-read-private")

    body = token_request(
        emulator,
        grant_type="authorization_code",
        code=code,
        redirect_uri="http://127.0.0.1:5000/cb",
    ).json()
    answer = api_get(emulator, "/me/following", body["access_token"], type="artist")
    assert answer.status_code == 403


def a_discography(emulator: SpotifyEmulator) -> tuple[str, dict[str, str]]:
    artist = emulator.add_artist("Nova Reed")
    other = emulator.add_artist("Kestrel Vale")
    made = {
        "old album": emulator.add_release(artist, "Old", release_date="2019"),
        "new album": emulator.add_release(artist, "New", release_date="2026-11-20"),
        "mid album": emulator.add_release(artist, "Mid", release_date="2024-05"),
        "single": emulator.add_release(artist, "Hit", group="single", release_date="2026-11-21"),
        "compilation": emulator.add_release(
            artist, "Best", group="compilation", release_date="2025-01-01"
        ),
        "appears": emulator.add_release(
            artist, "Guest", group="appears_on", release_date="2026-11-22", main_artists=[other]
        ),
    }
    return artist, made


def test_artist_albums_come_group_by_group_newest_first(emulator: SpotifyEmulator) -> None:
    artist, made = a_discography(emulator)
    token = listener_token(emulator)

    page = api_get(emulator, f"/artists/{artist}/albums", token, limit=10).json()

    assert [item["id"] for item in page["items"]] == [
        made["new album"],
        made["mid album"],
        made["old album"],
        made["single"],
        made["compilation"],
        made["appears"],
    ]
    assert page["total"] == 6
    assert page["next"] is None
    assert all(
        "album_group" not in item and "available_markets" not in item for item in page["items"]
    )


def test_artist_albums_default_to_5_and_page_with_absolute_urls(emulator: SpotifyEmulator) -> None:
    artist, _ = a_discography(emulator)
    token = listener_token(emulator)

    first = api_get(emulator, f"/artists/{artist}/albums", token, market="US").json()
    second = api_get(emulator, first["next"], token).json()

    assert first["limit"] == 5 and len(first["items"]) == 5
    assert (
        first["href"]
        == f"{emulator.api_base_url}/artists/{artist}/albums?offset=0&limit=5&market=US"
    )
    assert (
        first["next"]
        == f"{emulator.api_base_url}/artists/{artist}/albums?offset=5&limit=5&market=US"
    )
    assert first["previous"] is None
    assert len(second["items"]) == 1 and second["next"] is None
    assert second["previous"] == first["href"]


@pytest.mark.parametrize("limit", ["11", "20", "0"])
def test_artist_albums_limit_above_10_is_invalid(emulator: SpotifyEmulator, limit: str) -> None:
    artist, _ = a_discography(emulator)
    answer = api_get(emulator, f"/artists/{artist}/albums", listener_token(emulator), limit=limit)
    assert answer.status_code == 400
    assert answer.json() == {"error": {"status": 400, "message": "Invalid limit"}}


def test_include_groups_and_spotipys_country_parameter_filter(emulator: SpotifyEmulator) -> None:
    artist, made = a_discography(emulator)
    token = listener_token(emulator)

    page = api_get(
        emulator,
        f"/artists/{artist}/albums",
        token,
        include_groups="single,appears_on",
        country="SE",
    ).json()

    assert [item["id"] for item in page["items"]] == [made["single"], made["appears"]]
    assert "include_groups=single%2Cappears_on&country=SE" in page["href"]


def test_appears_on_lists_the_main_artist_not_the_followed_one(emulator: SpotifyEmulator) -> None:
    artist = emulator.add_artist("Juniper & The Tides")
    album_id = emulator.add_release(artist, "Winter Sessions", group="appears_on")
    token = listener_token(emulator)

    item = api_get(emulator, f"/artists/{artist}/albums", token).json()["items"][0]

    assert item["id"] == album_id
    assert item["album_type"] == "album"
    assert [a["name"] for a in item["artists"]] == ["Various Artists"]


def test_a_collaboration_is_one_album_on_both_artists_pages(emulator: SpotifyEmulator) -> None:
    one, two = emulator.add_artist("One"), emulator.add_artist("Two")
    album_id = emulator.add_release([one, two], "Together", group="single")
    token = listener_token(emulator)

    for artist in (one, two):
        items = api_get(emulator, f"/artists/{artist}/albums", token).json()["items"]
        assert [item["id"] for item in items] == [album_id]
        assert {a["id"] for a in items[0]["artists"]} == {one, two}


def test_album_type_casing_is_kept_as_given(emulator: SpotifyEmulator) -> None:
    artist = emulator.add_artist("Fenna Lind")
    emulator.add_release(artist, "Prism", album_type="ALBUM")
    item = api_get(emulator, f"/artists/{artist}/albums", listener_token(emulator)).json()["items"][
        0
    ]
    assert item["album_type"] == "ALBUM"


def test_a_full_album_has_tracks_copyrights_and_upc(emulator: SpotifyEmulator) -> None:
    artist = emulator.add_artist("Rio Calloway")
    album_id = emulator.add_release(
        artist,
        "Concrete Psalms",
        total_tracks=3,
        explicit=True,
        upc="00602455000000",
        release_date="2026-11",
        precision="month",
    )

    album = api_get(emulator, f"/albums/{album_id}", listener_token(emulator)).json()

    assert album["external_ids"] == {"upc": "00602455000000"}
    assert album["release_date_precision"] == "month"
    assert album["tracks"]["total"] == 3
    assert all(track["explicit"] for track in album["tracks"]["items"])
    assert {c["type"] for c in album["copyrights"]} == {"C", "P"}
    assert not {"label", "popularity", "available_markets"} & set(album)


def test_a_removed_release_is_gone(emulator: SpotifyEmulator) -> None:
    artist = emulator.add_artist("Gone")
    album_id = emulator.add_release(artist, "Withdrawn")
    emulator.remove_release(album_id)
    token = listener_token(emulator)
    assert api_get(emulator, f"/albums/{album_id}", token).status_code == 404
    assert api_get(emulator, f"/artists/{artist}/albums", token).json()["items"] == []


@pytest.mark.parametrize("path", ["/artists/{}", "/artists/{}/albums", "/albums/{}"])
def test_unknown_ids_are_404_and_malformed_ids_400(emulator: SpotifyEmulator, path: str) -> None:
    token = listener_token(emulator)
    unknown = api_get(emulator, path.format("0" * 22), token)
    malformed = api_get(emulator, path.format("not-an-id"), token)
    assert unknown.status_code == 404
    assert malformed.status_code == 400
    assert malformed.json() == {"error": {"status": 400, "message": "invalid id"}}


@pytest.mark.parametrize(
    "path", ["/albums?ids={a}", "/artists?ids={r}", "/tracks?ids={a}", "/browse/new-releases"]
)
def test_batch_and_new_release_endpoints_are_forbidden_in_dev_mode(
    emulator: SpotifyEmulator, path: str
) -> None:
    artist = emulator.add_artist("Someone")
    album_id = emulator.add_release(artist, "Something")
    answer = api_get(emulator, path.format(a=album_id, r=artist), listener_token(emulator))
    assert answer.status_code == 403
    assert answer.json() == {"error": {"status": 403, "message": "Forbidden"}}


def test_a_missing_token_is_401_with_a_challenge(emulator: SpotifyEmulator) -> None:
    answer = api_get(emulator, "/me")
    assert answer.status_code == 401
    assert answer.json()["error"]["message"] == "Missing/invalid/expired access token"
    assert answer.headers["WWW-Authenticate"].startswith('Bearer realm="spotify"')


def test_a_listener_not_on_the_allowlist_gets_a_plain_text_403(emulator: SpotifyEmulator) -> None:
    emulator.add_account("dana", allowlisted=False)
    token = emulator.issue_tokens("dana")["access_token"]

    answer = api_get(emulator, "/me", token)

    assert answer.status_code == 403
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert answer.text == "User not registered in the Developer Dashboard"


def test_development_mode_allowlists_at_most_five_listeners(emulator: SpotifyEmulator) -> None:
    for _ in range(5):
        emulator.add_account()
    with pytest.raises(ValueError, match="at most 5"):
        emulator.add_account()
    emulator.add_account(allowlisted=False)


def test_the_extended_profile_keeps_the_fields_and_endpoints_dev_mode_lost() -> None:
    with SpotifyEmulator(profile="extended") as emulator:
        artist = emulator.add_artist("Nova Reed")
        album_id = emulator.add_release(artist, "New", group="single")
        token = listener_token(emulator, follows=[artist])

        page = api_get(emulator, f"/artists/{artist}/albums", token, limit=50).json()
        batch = api_get(emulator, "/albums", token, ids=album_id).json()
        followed = api_get(emulator, "/me/following", token, type="artist").json()
        me = api_get(emulator, "/me", token).json()

    assert page["limit"] == 50
    assert page["items"][0]["album_group"] == "single"
    assert "available_markets" in page["items"][0]
    assert {"label", "popularity"} <= set(batch["albums"][0])
    assert {"followers", "popularity"} <= set(followed["artists"]["items"][0])
    assert "email" in me


def test_a_lapsed_owner_premium_makes_every_call_403(emulator: SpotifyEmulator) -> None:
    token = listener_token(emulator)
    emulator.owner_premium = False
    answer = api_get(emulator, "/me", token)
    assert answer.status_code == 403
    assert "premium" in answer.json()["error"]["message"]


def test_the_spurious_next_quirk_reports_unfiltered_totals_with_include_groups(
    emulator: SpotifyEmulator,
) -> None:
    artist, _ = a_discography(emulator)
    token = listener_token(emulator)
    emulator.spurious_next = True

    first = api_get(emulator, f"/artists/{artist}/albums", token, include_groups="single", limit=1)
    empty = api_get(emulator, first.json()["next"], token).json()

    assert first.json()["total"] == 6
    assert empty["items"] == []
    assert empty["next"] is not None


def test_unknown_api_paths_are_404_in_spotifys_shape(emulator: SpotifyEmulator) -> None:
    answer = api_get(emulator, "/no-such-thing", listener_token(emulator))
    assert answer.json() == {"error": {"status": 404, "message": "Service not found"}}
