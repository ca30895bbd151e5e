"""Who gets notifications, written once: the SQL clause and the Python predicate of each rule
agree on every combination of a user's states, on a real database; and the next send date."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from sqlalchemy import ColumnElement, select

from release_notifier.db import Database
from release_notifier.db.models import User
from release_notifier.subscribers import (
    email_accepted,
    email_is_accepted,
    gets_notifications,
    getting_notifications,
    has_working_link,
    is_subscribed,
    next_send_date,
    subscribed,
)

NOW = datetime(2026, 12, 2, 9, 0, 0)
STATES = ("confirmed", "unsubscribed", "paused", "mail_rejected", "needs_relink", "linked")


def every_kind_of_user(database: Database) -> dict[int, dict[str, bool]]:
    """One user for each combination of STATES: user id -> its states."""
    users = {}
    with database.session() as session:
        for number, flags in enumerate(itertools.product((False, True), repeat=len(STATES))):
            state = dict(zip(STATES, flags, strict=True))
            user = User(
                email=f"user{number}@example.test",
                created_at=NOW,
                confirmed_at=NOW if state["confirmed"] else None,
                unsubscribed_at=NOW if state["unsubscribed"] else None,
                paused=state["paused"],
                mail_rejected_at=NOW if state["mail_rejected"] else None,
                needs_relink_since=NOW if state["needs_relink"] else None,
                spotify_account_id=f"acct{number}" if state["linked"] else None,
                refresh_token_enc=b"sealed" if state["linked"] else None,
            )
            session.add(user)
            session.flush()
            users[user.id] = state
    return users


def selected(database: Database, clause: ColumnElement[bool]) -> set[int]:
    with database.session() as session:
        return set(session.scalars(select(User.id).where(clause)))


@pytest.mark.parametrize(
    ("clause", "predicate"),
    [
        (subscribed, is_subscribed),
        (email_accepted, email_is_accepted),
        (getting_notifications, gets_notifications),
    ],
)
def test_the_sql_clause_and_the_python_predicate_agree_on_every_user(
    database: Database, clause: object, predicate: object
) -> None:
    every_kind_of_user(database)
    with database.session() as session:
        users = list(session.scalars(select(User)))
        by_predicate = {user.id for user in users if predicate(user)}  # type: ignore[operator]
    assert selected(database, clause()) == by_predicate  # type: ignore[operator]
    assert 0 < len(by_predicate) < len(users)


def test_who_gets_notifications(database: Database) -> None:
    users = every_kind_of_user(database)
    expected = {
        user_id
        for user_id, s in users.items()
        if s["confirmed"]
        and not s["unsubscribed"]
        and not s["paused"]
        and not s["mail_rejected"]
        and not s["needs_relink"]
    }
    assert selected(database, getting_notifications()) == expected
    # a subscriber without any Spotify link (email-only) gets them too
    assert any(not users[user_id]["linked"] for user_id in expected)


def test_a_working_spotify_link_is_a_separate_rule_from_getting_notifications(
    database: Database,
) -> None:
    users = every_kind_of_user(database)
    linked = selected(database, has_working_link())
    assert linked == {
        user_id
        for user_id, s in users.items()
        if s["confirmed"] and not s["unsubscribed"] and s["linked"] and not s["needs_relink"]
    }
    # paused subscribers and refused addresses keep their follow lists fresh
    assert any(users[user_id]["paused"] for user_id in linked)
    assert any(users[user_id]["mail_rejected"] for user_id in linked)


def test_the_first_digest_is_due_at_once() -> None:
    assert next_send_date(NOW) == NOW


def test_the_next_digest_comes_one_interval_after_the_last() -> None:
    last = NOW - timedelta(days=3)
    assert next_send_date(NOW, since=last, interval_days=7) == last + timedelta(days=7)
    assert next_send_date(NOW, since=NOW, interval_days=14) == NOW + timedelta(days=14)
    assert next_send_date(NOW, since=NOW, interval_days=0.5) == NOW + timedelta(hours=12)


def test_a_date_that_passed_while_nothing_was_sent_is_now() -> None:
    assert next_send_date(NOW, since=NOW - timedelta(days=30), interval_days=7) == NOW
    assert next_send_date(NOW, since=NOW - timedelta(minutes=1)) == NOW  # a planned date
    planned = NOW + timedelta(days=2)
    assert next_send_date(NOW, since=planned) == planned  # a date to come stays
