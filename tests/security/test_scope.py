"""Issue 13 item 6: a Spotify consent is kept only when it grants exactly what the app asks for,
`user-follow-read`; without it a subscriber would never get anything, and more is a liability."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from release_notifier.db import Database
from release_notifier.sandbox.mailcatcher import MailCatcher
from tests.security.conftest import snapshot
from tests.web.conftest import SignupFlow


def with_scope(authorize_url: str, scope: str) -> str:
    """The authorize URL as a person who edited its `scope` would send it to Spotify."""
    parts = urlsplit(authorize_url)
    query = {**dict(parse_qsl(parts.query)), "scope": scope}
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.mark.parametrize(
    ("granted", "says"),
    [
        ("", "did not let us read the artists you follow"),
        ("user-read-email", "did not let us read the artists you follow"),
        ("user-follow-read playlist-modify-public", "more than this service asks for"),
    ],
)
def test_a_consent_without_exactly_the_needed_scope_is_refused_and_saves_nothing(
    flow: SignupFlow,
    database: Database,
    smtp: MailCatcher,
    listener: str,
    granted: str,
    says: str,
) -> None:
    before = snapshot(database)
    started = flow.submit("ana@example.com")
    callback = flow.consent(with_scope(started.headers["Location"], granted), listener)

    page = flow.client.get(callback)

    assert page.status_code == 403
    assert says in page.get_data(as_text=True)
    after = snapshot(database)
    assert (after["users"], after["notices"]) == (before["users"], before["notices"])
    assert smtp.messages == []
