"""The emulator's knobs: rate limit, quota, injected failures, latency and request counters."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
import requests

from release_notifier.sandbox.emulator import SpotifyEmulator
from tests.sandbox.helpers import api_get, listener_token, token_request


def test_rate_limit_answers_the_next_requests_with_a_short_429(emulator: SpotifyEmulator) -> None:
    token = listener_token(emulator)
    emulator.rate_limit(2, retry_after=7)

    answers = [api_get(emulator, "/me", token) for _ in range(3)]

    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "7"
    assert answers[0].json() == {"error": {"status": 429, "message": "API rate limit exceeded"}}


def test_the_quota_gives_quota_exceeded_with_a_long_retry_after_until_the_window_rolls() -> None:
    now = {"value": datetime(2026, 11, 25, 8, 0)}
    with SpotifyEmulator(clock=lambda: now["value"]) as emulator:
        user_id = emulator.add_account()
        token = emulator.issue_tokens(user_id)["access_token"]
        emulator.set_quota(3, retry_after=48925, window_seconds=86400)

        within = [api_get(emulator, "/me", token).status_code for _ in range(3)]
        over = api_get(emulator, "/me", token)
        now["value"] += timedelta(hours=23, minutes=59)
        token = emulator.issue_tokens(user_id)["access_token"]  # the old one lapsed meanwhile
        still_over = api_get(emulator, "/me", token).status_code
        now["value"] += timedelta(minutes=1)
        rolled = api_get(emulator, "/me", token).status_code

    assert within == [200, 200, 200]
    assert over.status_code == 429
    assert over.headers["Retry-After"] == "48925"
    assert over.json() == {
        "error": {"status": 429, "message": "Too many requests", "reason": "QUOTA_EXCEEDED"}
    }
    assert still_over == 429
    assert rolled == 200


def test_the_quota_can_be_switched_off(emulator: SpotifyEmulator) -> None:
    token = listener_token(emulator)
    emulator.set_quota(1)
    api_get(emulator, "/me", token)
    emulator.set_quota(None)
    assert api_get(emulator, "/me", token).status_code == 200


def test_fail_answers_matching_paths_the_given_number_of_times(emulator: SpotifyEmulator) -> None:
    artist = emulator.add_artist("Nova Reed")
    token = listener_token(emulator, follows=[artist])
    body = {"error": {"status": 502, "message": "Failed to get followed artists"}}
    emulator.fail(r"^/v1/me/following$", 502, times=2, body=body, headers={"X-Why": "chaos"})

    me = api_get(emulator, "/me", token)
    failed = [api_get(emulator, "/me/following", token, type="artist") for _ in range(2)]
    recovered = api_get(emulator, "/me/following", token, type="artist")

    assert me.status_code == 200
    assert [f.status_code for f in failed] == [502, 502]
    assert failed[0].json() == body
    assert failed[0].headers["X-Why"] == "chaos"
    assert recovered.status_code == 200


def test_fail_without_a_body_uses_spotifys_error_shape(emulator: SpotifyEmulator) -> None:
    emulator.fail("/v1/me", 503)
    answer = api_get(emulator, "/me", listener_token(emulator))
    assert answer.json() == {"error": {"status": 503, "message": "Service Unavailable"}}


def test_fail_also_reaches_the_token_endpoint(emulator: SpotifyEmulator) -> None:
    emulator.add_account("ana")
    refresh_token = emulator.issue_tokens("ana")["refresh_token"]
    emulator.fail("^/api/token$", 503, body="Service Unavailable")

    outage = token_request(emulator, grant_type="refresh_token", refresh_token=refresh_token)
    after = token_request(emulator, grant_type="refresh_token", refresh_token=refresh_token)

    assert (outage.status_code, outage.text) == (503, "Service Unavailable")
    assert after.status_code == 200


def test_status_0_drops_the_connection_without_an_answer(emulator: SpotifyEmulator) -> None:
    token = listener_token(emulator)
    emulator.fail("/v1/me", 0)

    with pytest.raises(requests.ConnectionError):
        api_get(emulator, "/me", token)

    assert emulator.requests[-1].status == 0
    assert api_get(emulator, "/me", token).status_code == 200


def test_counters_include_429s_and_failures_and_can_be_reset(emulator: SpotifyEmulator) -> None:
    artist = emulator.add_artist("Nova Reed")
    token = listener_token(emulator, follows=[artist])
    emulator.rate_limit(1)
    emulator.fail("/albums", 500)

    api_get(emulator, "/me", token)
    api_get(emulator, f"/artists/{artist}/albums", token, limit=10)
    api_get(emulator, f"/artists/{artist}/albums", token, limit=10)
    token_request(emulator, grant_type="refresh_token", refresh_token="AQunknown")

    assert emulator.count() == 3
    assert emulator.count(r"/albums$") == 2
    recorded = [r for r in emulator.requests if r.path.startswith("/v1/")]
    assert [r.status for r in recorded] == [429, 500, 200]
    assert recorded[-1].query == {"limit": "10"}
    assert recorded[-1].method == "GET"
    emulator.reset_counts()
    assert emulator.count() == 0


def test_latency_delays_each_api_answer(emulator: SpotifyEmulator) -> None:
    token = listener_token(emulator)
    emulator.latency = 0.2

    started = time.perf_counter()
    api_get(emulator, "/me", token)
    elapsed = time.perf_counter() - started

    assert elapsed >= 0.2


def test_latency_belongs_to_one_emulator(emulator: SpotifyEmulator) -> None:
    emulator.latency = 5.0
    with SpotifyEmulator() as other:
        token = listener_token(other)
        started = time.perf_counter()
        api_get(other, "/me", token)
        assert time.perf_counter() - started < 1.0


def test_the_rate_window_refuses_requests_beyond_the_limit_until_the_oldest_ages_out() -> None:
    now = {"value": datetime(2026, 11, 25, 8, 0, 0)}
    with SpotifyEmulator(clock=lambda: now["value"]) as emulator:
        token = listener_token(emulator)
        emulator.set_rate_window(2, window_seconds=30)

        first = [api_get(emulator, "/me", token).status_code for _ in range(2)]
        now["value"] += timedelta(seconds=10)
        refused = api_get(emulator, "/me", token)
        now["value"] += timedelta(seconds=20)
        admitted = api_get(emulator, "/me", token).status_code

    assert first == [200, 200]
    assert refused.status_code == 429
    assert refused.json()["error"]["message"] == "API rate limit exceeded"
    assert refused.headers["Retry-After"] == "20"
    assert admitted == 200


def test_it_answers_many_parallel_requests(emulator: SpotifyEmulator) -> None:
    artist_ids = [emulator.add_artist(f"Artist {n}") for n in range(30)]
    token = listener_token(emulator, follows=artist_ids)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda a: api_get(emulator, f"/artists/{a}/albums", token), artist_ids)
        )
    assert {answer.status_code for answer in answers} == {200}
    assert emulator.count(r"/albums$") == 30


def test_observing_2026_caps_one_endpoint_with_quota_exceeded_and_no_retry_after(
    emulator: SpotifyEmulator,
) -> None:
    token = listener_token(emulator)
    emulator.observe_2026(endpoint_cap=3)

    answers = [api_get(emulator, "/me", token) for _ in range(4)]
    other = api_get(emulator, "/me/following", token, type="artist")

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[3].json()["error"]["reason"] == "QUOTA_EXCEEDED"
    assert "Retry-After" not in answers[3].headers
    assert other.status_code == 200  # other endpoints still answer


def test_observing_2026_reports_an_artist_total_off_by_one_on_a_share_of_answers(
    emulator: SpotifyEmulator,
) -> None:
    artist = emulator.add_artist("Counted")
    for number in range(4):
        emulator.add_release(artist, f"Item {number}", release_date=f"2020-01-0{number + 1}")
    token = listener_token(emulator)
    emulator.observe_2026(total_off_share=0.5, endpoint_cap=None)

    totals = {
        api_get(emulator, f"/artists/{artist}/albums", token).json()["total"] for _ in range(30)
    }

    assert 4 in totals and totals - {4} and totals <= {3, 4, 5}


def test_a_page_limit_cut_answers_invalid_limit(emulator: SpotifyEmulator) -> None:
    artist = emulator.add_artist("Cut")
    token = listener_token(emulator)
    emulator.set_albums_limit(5)

    refused = api_get(emulator, f"/artists/{artist}/albums", token, limit=10)
    accepted = api_get(emulator, f"/artists/{artist}/albums", token, limit=5)

    assert refused.status_code == 400 and refused.json()["error"]["message"] == "Invalid limit"
    assert accepted.status_code == 200


def test_a_0000_release_date_is_served_as_written(emulator: SpotifyEmulator) -> None:
    artist = emulator.add_artist("Undated")
    emulator.add_release(artist, "No Year", release_date="0000")
    token = listener_token(emulator)

    item = api_get(emulator, f"/artists/{artist}/albums", token).json()["items"][0]

    assert (item["release_date"], item["release_date_precision"]) == ("0000", "year")
