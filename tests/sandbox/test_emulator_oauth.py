"""The emulated Accounts service: consent page, codes, tokens and their lifetimes."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import time_machine
from authlib.integrations.requests_client import OAuth2Session

from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.sandbox.emulator_oauth import s256
from tests.sandbox.helpers import REDIRECT_URI, api_get, token_request


def authorize_params(emulator: SpotifyEmulator, **overrides: str) -> dict[str, str]:
    params = {
        "client_id": emulator.client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": "user-follow-read",
        "state": "Xy9",
        "show_dialog": "True",
    }
    params.update(overrides)
    return params


def consent(emulator: SpotifyEmulator, action: str, **fields: str) -> requests.Response:
    form = {key: value for key, value in authorize_params(emulator).items() if key != "show_dialog"}
    form.update(action=action, **fields)
    return requests.post(
        emulator.accounts_base_url + "/authorize", data=form, allow_redirects=False, timeout=10
    )


def callback_query(response: requests.Response) -> dict[str, list[str]]:
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    return parse_qs(urlsplit(location).query)


def exchange(
    emulator: SpotifyEmulator, code: str, redirect_uri: str = REDIRECT_URI
) -> requests.Response:
    return token_request(
        emulator, grant_type="authorization_code", code=code, redirect_uri=redirect_uri
    )


def test_the_consent_page_lists_the_sandbox_accounts_and_carries_state(
    emulator: SpotifyEmulator,
) -> None:
    emulator.add_account("ana", display_name="Ana")
    emulator.add_account("dana", display_name="Dana", allowlisted=False)

    page = requests.get(
        emulator.accounts_base_url + "/authorize", params=authorize_params(emulator), timeout=10
    )

    assert page.status_code == 200
    assert 'value="ana"' in page.text and 'value="dana"' in page.text
    assert 'name="state" value="Xy9"' in page.text
    assert "Agree" in page.text and "Cancel" in page.text


@pytest.mark.parametrize("show_dialog", ["true", "True", "false"])
def test_show_dialog_is_accepted_in_either_case(
    emulator: SpotifyEmulator, show_dialog: str
) -> None:
    params = authorize_params(emulator, show_dialog=show_dialog)
    page = requests.get(emulator.accounts_base_url + "/authorize", params=params, timeout=10)
    assert page.status_code == 200


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"client_id": "someone-else"}, "INVALID_CLIENT: Invalid client"),
        ({"redirect_uri": "http://localhost:5000/auth/callback"}, "Invalid redirect URI"),
        ({"redirect_uri": "http://example.com/auth/callback"}, "Invalid redirect URI"),
        ({"scope": "user-follow-read made-up-scope"}, "INVALID_SCOPE: Illegal scope"),
    ],
)
def test_a_bad_client_or_redirect_gets_spotifys_own_error_page_not_a_redirect(
    emulator: SpotifyEmulator, override: dict[str, str], message: str
) -> None:
    page = requests.get(
        emulator.accounts_base_url + "/authorize",
        params=authorize_params(emulator, **override),
        allow_redirects=False,
        timeout=10,
    )
    assert page.status_code == 400
    assert "Location" not in page.headers
    assert message in page.text


def test_a_wrong_response_type_is_sent_back_to_the_app(emulator: SpotifyEmulator) -> None:
    response = requests.get(
        emulator.accounts_base_url + "/authorize",
        params=authorize_params(emulator, response_type="token"),
        allow_redirects=False,
        timeout=10,
    )
    assert callback_query(response) == {"error": ["unsupported_response_type"], "state": ["Xy9"]}


def test_agreeing_redirects_with_a_code_and_the_state(emulator: SpotifyEmulator) -> None:
    emulator.add_account("ana")
    query = callback_query(consent(emulator, "agree", user_id="ana"))
    assert query["state"] == ["Xy9"]
    assert exchange(emulator, query["code"][0]).status_code == 200


def test_cancelling_redirects_with_access_denied_and_the_state(emulator: SpotifyEmulator) -> None:
    emulator.add_account("ana")
    assert callback_query(consent(emulator, "cancel", user_id="ana")) == {
        "error": ["access_denied"],
        "state": ["Xy9"],
    }


def test_registered_redirect_uris_match_exactly_except_a_portless_loopback() -> None:
    registered = ["https://notifier.example/auth/callback", "http://127.0.0.1/auth/callback"]
    emulator = SpotifyEmulator(redirect_uris=registered)
    rules = emulator.redirect_rules
    assert rules.allows("https://notifier.example/auth/callback")
    assert not rules.allows("https://notifier.example/auth/callback/")
    assert rules.allows("http://127.0.0.1:8765/auth/callback")
    assert not rules.allows("http://127.0.0.1:8765/other")


def test_localhost_cannot_be_registered() -> None:
    with pytest.raises(ValueError, match="localhost"):
        SpotifyEmulator(redirect_uris=["http://localhost:5000/auth/callback"])


def test_the_code_exchange_returns_both_tokens(emulator: SpotifyEmulator) -> None:
    emulator.add_account("ana")
    code = emulator.grant_code("ana", REDIRECT_URI)

    answer = exchange(emulator, code)

    body = answer.json()
    assert answer.status_code == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "user-follow-read"
    assert body["refresh_token"]
    assert api_get(emulator, "/me", body["access_token"]).json()["id"] == "ana"


def test_client_credentials_in_the_body_and_unknown_fields_are_accepted(
    emulator: SpotifyEmulator,
) -> None:
    emulator.add_account("ana")
    code = emulator.grant_code("ana", REDIRECT_URI)
    answer = requests.post(
        emulator.accounts_base_url + "/api/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": emulator.client_id,
            "client_secret": emulator.client_secret,
            "scope": "user-follow-read",
            "state": "Xy9",
        },
        timeout=10,
    )
    assert answer.status_code == 200


def test_a_code_works_only_once(emulator: SpotifyEmulator) -> None:
    emulator.add_account("ana")
    code = emulator.grant_code("ana", REDIRECT_URI)
    assert exchange(emulator, code).status_code == 200

    reused = exchange(emulator, code)

    assert reused.status_code == 400
    assert reused.json() == {
        "error": "invalid_grant",
        "error_description": "Invalid authorization code",
    }


def test_a_code_expires_after_ten_minutes(emulator: SpotifyEmulator) -> None:
    emulator.add_account("ana")
    with time_machine.travel(datetime(2026, 11, 25, 12, 0), tick=False) as traveller:
        code = emulator.grant_code("ana", REDIRECT_URI)
        traveller.shift(timedelta(minutes=10, seconds=1))
        answer = exchange(emulator, code)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_a_code_must_be_redeemed_with_the_same_redirect_uri(emulator: SpotifyEmulator) -> None:
    emulator.add_account("ana")
    code = emulator.grant_code("ana", REDIRECT_URI)
    answer = exchange(emulator, code, redirect_uri="http://127.0.0.1:5000/elsewhere")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("auth", "body_credentials"),
    [
        (None, {}),
        (("sandbox-client-id", "wrong-secret"), {}),
        (None, {"client_id": "sandbox-client-id"}),  # no secret for a code without PKCE
    ],
)
def test_a_bad_client_gets_invalid_client(
    emulator: SpotifyEmulator, auth: tuple[str, str] | None, body_credentials: dict[str, str]
) -> None:
    emulator.add_account("ana")
    code = emulator.grant_code("ana", REDIRECT_URI)
    answer = requests.post(
        emulator.accounts_base_url + "/api/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            **body_credentials,
        },
        auth=auth,
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_client"


def test_a_refresh_gives_a_new_access_token_and_no_refresh_token(
    emulator: SpotifyEmulator,
) -> None:
    emulator.add_account("ana")
    tokens = emulator.issue_tokens("ana")

    answer = token_request(
        emulator, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )

    body = answer.json()
    assert answer.status_code == 200
    assert "refresh_token" not in body
    assert body["access_token"] != tokens["access_token"]
    assert api_get(emulator, "/me", body["access_token"]).status_code == 200


def test_rotation_hands_out_a_new_refresh_token_and_retires_the_old() -> None:
    with SpotifyEmulator(rotate_refresh_tokens=True) as emulator:
        emulator.add_account("ana")
        old = emulator.issue_tokens("ana")["refresh_token"]

        first = token_request(emulator, grant_type="refresh_token", refresh_token=old).json()
        again = token_request(emulator, grant_type="refresh_token", refresh_token=old)

    assert first["refresh_token"] != old
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_refresh_tokens_die_183_days_after_the_original_consent_despite_refreshing(
    emulator: SpotifyEmulator,
) -> None:
    emulator.add_account("ana")
    with time_machine.travel(datetime(2026, 1, 10, 9, 0), tick=False) as traveller:
        refresh_token = emulator.issue_tokens("ana")["refresh_token"]
        traveller.shift(timedelta(days=182))
        still_fine = token_request(
            emulator, grant_type="refresh_token", refresh_token=refresh_token
        )
        traveller.shift(timedelta(days=1))
        expired = token_request(emulator, grant_type="refresh_token", refresh_token=refresh_token)

    assert still_fine.status_code == 200
    assert expired.status_code == 400
    assert expired.json() == {
        "error": "invalid_grant",
        "error_description": "Refresh token expired",
    }


def test_a_rotated_refresh_token_keeps_the_original_deadline() -> None:
    moments = iter([datetime(2026, 1, 1), datetime(2026, 6, 1), datetime(2026, 7, 3)])
    now = {"value": next(moments)}
    with SpotifyEmulator(rotate_refresh_tokens=True, clock=lambda: now["value"]) as emulator:
        emulator.add_account("ana")
        token = emulator.issue_tokens("ana")["refresh_token"]
        now["value"] = next(moments)
        rotated = token_request(emulator, grant_type="refresh_token", refresh_token=token).json()
        now["value"] = next(moments)
        late = token_request(
            emulator, grant_type="refresh_token", refresh_token=rotated["refresh_token"]
        )
    assert late.json()["error_description"] == "Refresh token expired"


def test_a_revoked_refresh_token_gets_invalid_grant(emulator: SpotifyEmulator) -> None:
    emulator.add_account("ana")
    refresh_token = emulator.issue_tokens("ana")["refresh_token"]
    emulator.revoke("ana")

    answer = token_request(emulator, grant_type="refresh_token", refresh_token=refresh_token)

    assert answer.status_code == 400
    assert answer.json() == {"error": "invalid_grant", "error_description": "Refresh token revoked"}


def test_an_unknown_refresh_token_gets_invalid_grant(emulator: SpotifyEmulator) -> None:
    answer = token_request(emulator, grant_type="refresh_token", refresh_token="AQnothing")
    assert answer.json() == {"error": "invalid_grant", "error_description": "Invalid refresh token"}


def test_access_tokens_last_an_hour(emulator: SpotifyEmulator) -> None:
    emulator.add_account("ana")
    with time_machine.travel(datetime(2026, 11, 25, 12, 0), tick=False) as traveller:
        access_token = emulator.issue_tokens("ana")["access_token"]
        traveller.shift(timedelta(seconds=3599))
        fresh = api_get(emulator, "/me", access_token)
        traveller.shift(timedelta(seconds=1))
        stale = api_get(emulator, "/me", access_token)
    assert fresh.status_code == 200
    assert stale.status_code == 401


def test_expire_access_tokens_makes_every_issued_token_401(emulator: SpotifyEmulator) -> None:
    emulator.add_account("ana")
    access_token = emulator.issue_tokens("ana")["access_token"]
    emulator.expire_access_tokens()

    answer = api_get(emulator, "/me", access_token)

    assert answer.status_code == 401
    assert answer.json() == {
        "error": {"status": 401, "message": "Missing/invalid/expired access token"}
    }
    assert re.search(r'error="invalid_token"', answer.headers["WWW-Authenticate"])


def pkce_exchange(emulator: SpotifyEmulator, code: str, verifier: str | None) -> requests.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    form["client_id"] = emulator.client_id
    if verifier is not None:
        form["code_verifier"] = verifier
    return requests.post(emulator.accounts_base_url + "/api/token", data=form, timeout=10)


def test_a_pkce_code_needs_its_verifier(emulator: SpotifyEmulator) -> None:
    emulator.add_account("ana")
    verifier = "v" * 64
    code = emulator.grant_code("ana", REDIRECT_URI, code_challenge=s256(verifier))

    wrong = pkce_exchange(emulator, code, "w" * 64)
    right = pkce_exchange(emulator, code, verifier)

    assert wrong.json() == {
        "error": "invalid_grant",
        "error_description": "code_verifier was incorrect",
    }
    assert right.status_code == 200


def test_a_pkce_client_refreshes_without_a_secret_and_gets_a_new_refresh_token(
    emulator: SpotifyEmulator,
) -> None:
    emulator.add_account("ana")
    code = emulator.grant_code("ana", REDIRECT_URI, code_challenge=s256("v" * 64))
    first = pkce_exchange(emulator, code, "v" * 64).json()

    refreshed = requests.post(
        emulator.accounts_base_url + "/api/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": emulator.client_id,
        },
        timeout=10,
    ).json()

    assert refreshed["refresh_token"] != first["refresh_token"]


def test_the_consent_form_carries_the_pkce_challenge_into_the_code(
    emulator: SpotifyEmulator,
) -> None:
    emulator.add_account("ana")
    challenge = s256("v" * 64)
    query = callback_query(
        consent(
            emulator, "agree", user_id="ana", code_challenge=challenge, code_challenge_method="S256"
        )
    )
    assert pkce_exchange(emulator, query["code"][0], None).status_code == 400


def test_authlib_completes_the_code_flow_and_refresh_against_it(emulator: SpotifyEmulator) -> None:
    emulator.add_account("ana")
    session = OAuth2Session(
        emulator.client_id,
        emulator.client_secret,
        scope="user-follow-read",
        redirect_uri=REDIRECT_URI,
        token_endpoint_auth_method="client_secret_basic",
    )
    url, _ = session.create_authorization_url(
        emulator.accounts_base_url + "/authorize", state="Xy9", show_dialog="true"
    )
    assert requests.get(url, timeout=10).status_code == 200
    code = callback_query(consent(emulator, "agree", user_id="ana"))["code"][0]
    token_url = emulator.accounts_base_url + "/api/token"

    first = session.fetch_token(token_url, grant_type="authorization_code", code=code)
    second = session.refresh_token(token_url, refresh_token=first["refresh_token"])

    assert second["access_token"] != first["access_token"]
    assert api_get(emulator, "/me", second["access_token"]).json()["id"] == "ana"
