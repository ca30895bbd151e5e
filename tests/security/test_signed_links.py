"""Signed links, sessions and secrets: a salt per purpose, the documented lifetimes (unsubscribe
never expires, confirm after 7 days, settings and re-link configurable), and secrets compared
in constant time."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import permutations
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from release_notifier.links import PURPOSES, BadLink, make_token, read_token
from release_notifier.settings import Settings, load_settings

START = datetime(2026, 11, 25, 12, 0)
SECRET = "links-test-secret"
ANA = "ana@example.com"


def settings(**overrides: object) -> Settings:
    return load_settings(flask_secret_key=SECRET, **overrides)


@pytest.mark.parametrize(("made_for", "used_for"), list(permutations(PURPOSES, 2)))
def test_a_link_made_for_one_purpose_is_refused_for_every_other(
    made_for: str, used_for: str
) -> None:
    token = make_token(settings(), made_for, 7, 3, address=ANA)

    with pytest.raises(BadLink, match="invalid"):
        read_token(settings(), used_for, token)


def test_sessions_csrf_tokens_and_every_link_purpose_use_separate_salts() -> None:
    app = Flask(__name__)
    app.secret_key = SECRET
    session_serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert session_serializer is not None
    salts = [salt for salt, _ in PURPOSES.values()]
    salts += [SecureCookieSessionInterface.salt, "wtf-csrf-token"]  # Flask, Flask-WTF

    assert len(set(salts)) == len(salts)
    cookie = session_serializer.dumps([7, 3])  # a session cookie holding a link's payload
    for purpose in PURPOSES:
        with pytest.raises(BadLink):
            read_token(settings(), purpose, str(cookie))
        with pytest.raises(Exception, match="Signature"):
            session_serializer.loads(make_token(settings(), purpose, 7, 3, address=ANA))


LIFETIMES: list[tuple[str, dict[str, int], timedelta | None]] = [
    ("unsubscribe", {}, None),
    ("confirm", {}, timedelta(days=7)),
    ("settings", {}, timedelta(days=90)),
    ("settings", {"settings_link_max_age_days": 3}, timedelta(days=3)),
    ("relink", {}, timedelta(days=30)),
    ("relink", {"relink_link_max_age_days": 10}, timedelta(days=10)),
]


@pytest.mark.parametrize(("purpose", "overrides", "lifetime"), LIFETIMES)
def test_each_link_lives_exactly_as_long_as_documented(
    purpose: str, overrides: dict[str, int], lifetime: timedelta | None
) -> None:
    configured = settings(**overrides)
    with time_machine.travel(START, tick=False) as clock:
        token = make_token(configured, purpose, 7, 3, address=ANA)
        if lifetime is None:
            clock.shift(timedelta(days=3650))
            assert read_token(configured, purpose, token).user_id == 7
            return
        clock.shift(lifetime - timedelta(seconds=1))
        assert read_token(configured, purpose, token).user_id == 7
        clock.shift(timedelta(seconds=2))
        with pytest.raises(BadLink, match="expired"):
            read_token(configured, purpose, token)


@pytest.fixture
def comparisons(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, Any]]:
    """Every hmac.compare_digest call (the standard library's constant-time comparison)."""
    seen: list[tuple[Any, Any]] = []
    real: Callable[[Any, Any], bool] = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    return seen


def test_link_signatures_are_checked_in_constant_time(
    comparisons: list[tuple[Any, Any]],
) -> None:
    token = make_token(settings(), "settings", 7, 3)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    with pytest.raises(BadLink):
        read_token(settings(), "settings", tampered)

    assert comparisons  # itsdangerous compares signatures with hmac.compare_digest
