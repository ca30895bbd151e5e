"""The subscription rules behind the pages, on a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from release_notifier import accounts
from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.db.models import PendingSignup, User
from release_notifier.settings import Settings


def new_user(database: Database, settings: Settings, email: str = "ana@example.com") -> User:
    now = utcnow()
    with database.session() as session:
        pending = PendingSignup(state="s", email=email, created_at=now)
        result = accounts.link_spotify_account(
            session,
            settings,
            pending=pending,
            account_id=f"acct-{email}",
            display_name="Ana",
            refresh_token="refresh-token",
            now=now,
        )
        return result.user


def test_a_new_subscription_starts_unconfirmed_with_the_lookback_window(
    database: Database, web_settings: Settings
) -> None:
    user = new_user(database, web_settings)
    assert user.confirmed_at is None and user.next_digest_at is None
    assert user.announce_since == user.created_at - timedelta(days=28)
    assert user.release_types == "album,single"


def test_link_versions_of_new_users_differ(database: Database, web_settings: Settings) -> None:
    first = new_user(database, web_settings, "ana@example.com")
    second = new_user(database, web_settings, "ben@example.com")
    assert first.link_version != second.link_version


def test_confirming_makes_the_initial_digest_due_at_once_and_only_once(
    database: Database, web_settings: Settings
) -> None:
    user = new_user(database, web_settings)
    now = utcnow()
    assert accounts.confirm_user(user, now) is True
    assert user.next_digest_at == now
    assert accounts.confirm_user(user, now + timedelta(hours=1)) is False
    assert user.confirmed_at == now


def test_a_new_frequency_moves_the_next_digest(database: Database, web_settings: Settings) -> None:
    user = new_user(database, web_settings)
    now = utcnow()
    user.last_digest_at = now - timedelta(days=10)
    user.next_digest_at = now + timedelta(days=4)
    accounts.update_preferences(user, frequency="weekly", release_types=["album"], now=now)
    assert user.next_digest_at == now  # a week after the last digest is already past
    accounts.update_preferences(user, frequency="monthly", release_types=["album"], now=now)
    assert user.next_digest_at == user.last_digest_at + timedelta(days=30)


def test_preferences_refuse_an_empty_choice(database: Database, web_settings: Settings) -> None:
    user = new_user(database, web_settings)
    with pytest.raises(ValueError, match="at least one"):
        accounts.update_preferences(user, frequency="weekly", release_types=[], now=utcnow())
    with pytest.raises(ValueError, match="unknown frequency"):
        accounts.update_preferences(user, frequency="daily", release_types=["album"], now=utcnow())


def test_resuming_sends_a_digest_that_fell_due_while_paused(
    database: Database, web_settings: Settings
) -> None:
    user = new_user(database, web_settings)
    now = utcnow()
    user.next_digest_at = now - timedelta(days=3)
    assert accounts.pause(user) is True and accounts.pause(user) is False
    assert accounts.resume(user, now) is True
    assert user.next_digest_at == now and not user.paused


def test_resubscribing_keeps_the_link_and_sends_a_digest_that_fell_due_meanwhile(
    database: Database, web_settings: Settings
) -> None:
    user = new_user(database, web_settings)
    now = utcnow()
    user.next_digest_at = now - timedelta(days=3)
    link = (user.spotify_account_id, user.refresh_token_enc, user.authorized_at)
    assert accounts.resubscribe(user, now) is False  # not unsubscribed: nothing to undo
    assert accounts.unsubscribe(user, now) is True
    assert accounts.resubscribe(user, now) is True
    assert user.unsubscribed_at is None and user.next_digest_at == now
    assert (user.spotify_account_id, user.refresh_token_enc, user.authorized_at) == link


def test_a_stale_or_used_state_is_not_accepted(database: Database) -> None:
    now = utcnow()
    with database.session() as session:
        state = accounts.start_signup(session, "ana@example.com", now).state
    with database.session() as session:
        assert accounts.take_pending_signup(session, state, now) is not None
    with database.session() as session:
        assert accounts.take_pending_signup(session, state, now) is None
        old = accounts.start_signup(session, "ben@example.com", now).state
    with database.session() as session:
        later = now + accounts.STATE_MAX_AGE + timedelta(seconds=1)
        assert accounts.take_pending_signup(session, old, later) is None


def test_deleting_removes_the_user(database: Database, web_settings: Settings) -> None:
    user = new_user(database, web_settings)
    with database.session() as session:
        accounts.delete_user_data(session, session.get(User, user.id))  # type: ignore[arg-type]
    with database.session() as session:
        assert session.scalars(select(User)).all() == []


def test_addresses_are_checked_without_dns() -> None:
    assert accounts.normalize_address(" ana@EXAMPLE.com ") == "ana@example.com"
    with pytest.raises(accounts.InvalidAddress):
        accounts.normalize_address("ana@localhost")
    assert accounts.normalize_address("ana@example.test", allow_test_domains=True)
