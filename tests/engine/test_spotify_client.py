"""The Spotify client's rules, against the emulator's development-mode profile over HTTP."""

from __future__ import annotations

import threading
from typing import Any

from release_notifier.crypto import decrypt_token
from release_notifier.db.models import User
from release_notifier.spotify.client import SpotifyClient
from release_notifier.spotify.oauth import TokenSet
from tests.engine.conftest import World


def test_it_uses_only_endpoints_a_development_mode_app_still_has(world: World) -> None:
    artists = [world.spotify.add_artist(f"Many {n}") for n in range(60)]
    for artist in artists[:3]:
        for n in range(25):
            world.spotify.add_release(artist, f"Record {n}", release_date=f"20{n:02d}-01-01")
        world.spotify.add_release(artist, "New One", group="single", release_date="2026-11-20")
    world.add_user("quinn@example.test", artists)

    world.run()

    api = [r for r in world.spotify.requests if r.path.startswith("/v1/")]
    assert api and all(r.status == 200 for r in api)
    assert not any("ids" in r.query or "new-releases" in r.path for r in api)
    assert all(int(r.query.get("limit", "1")) <= 10 for r in api if "/albums" in r.path)
    following = [r for r in api if r.path == "/v1/me/following"]
    assert len(following) == 2  # 60 follows: ceil(60 / 50) pages


def test_an_expired_access_token_is_refreshed_once_mid_run(world: World) -> None:
    artists = [world.spotify.add_artist(f"Band {n}") for n in range(4)]
    world.spotify.add_release(artists[0], "Fresh", release_date="2026-11-22")
    world.add_user("rae@example.test", artists)
    world.spotify.fail(r"/v1/me/following", 401, times=1)  # the user's token
    world.spotify.fail(r"/v1/artists/.*/albums", 401, times=1)  # the app's token

    summary = world.run()

    assert summary.problems == []
    assert world.digest_names("rae@example.test") == [["Fresh"]]
    token_requests = [r for r in world.spotify.requests if r.path == "/api/token"]
    # each token's first access token, then exactly one refresh after its 401
    assert len(token_requests) == 4


def test_a_rotated_refresh_token_is_stored_encrypted(world: World) -> None:
    world.spotify.rotate_refresh_tokens = True
    band = world.spotify.add_artist("Turnover")
    user_id = world.add_user("sam@example.test", [band])
    with world.database.session() as session:
        before = session.get(User, user_id).refresh_token_enc

    world.run()

    with world.database.session() as session:
        after = session.get(User, user_id).refresh_token_enc
    cipher = world.settings.token_cipher
    assert after != before
    assert decrypt_token(cipher, user_id, after) != decrypt_token(cipher, user_id, before)


def test_an_unreadable_body_is_retried_then_the_artist_is_skipped(world: World) -> None:
    good = world.spotify.add_artist("Clear")
    garbled = world.spotify.add_artist("Garbled")
    world.spotify.add_release(good, "Readable", release_date="2026-11-22")
    world.add_user("tia@example.test", [good, garbled])
    world.spotify.fail(rf"/v1/artists/{garbled}/albums", 200, times=3, body="<html>oops")

    summary = world.run()

    assert world.digest_names("tia@example.test") == [["Readable"]]
    assert any(garbled in problem for problem in summary.problems)


def test_a_page_size_change_does_not_wait_for_a_token_refresh(world: World) -> None:
    """A check refused its page size halves it while another thread is inside a refresh (which
    holds the token lock until the new token is stored): each has its own lock."""
    band = world.spotify.add_artist("Meanwhile")
    world.spotify.add_release(band, "Record", release_date="2026-11-20")
    world.spotify.set_albums_limit(5)
    tokens = world.spotify.issue_tokens(world.spotify.add_account(follows=[band]))
    pages: list[dict[str, Any]] = []
    checker = threading.Thread(
        target=lambda: pages.append(client.artist_albums_page(band, "album"))
    )
    in_time: list[bool] = []

    def check_while_storing(_tokens: TokenSet) -> None:
        checker.start()
        checker.join(timeout=10)  # returns at once unless the check waits for this refresh
        in_time.append(not checker.is_alive())

    client = SpotifyClient(
        world.settings,
        access_token="no longer valid",
        refresh_token=tokens["refresh_token"],
        on_refresh=check_while_storing,
    )
    client.me()  # 401, so the client refreshes
    checker.join()

    assert in_time == [True]
    assert client.albums_limit == 5
    assert [album["name"] for album in pages[0]["items"]] == ["Record"]
