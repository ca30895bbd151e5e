"""Who is who among the users, each rule written once, as an SQL clause and where needed as a
Python predicate of the same rule (tests/engine/test_subscribers.py checks they agree).

- `has_working_link`: a confirmed, subscribed user whose Spotify token works. Their follow list
  is read and their token may check artists; being paused or having a refused address does not
  change that (their list stays fresh for when they come back). This is about Spotify, not about
  getting notifications: a subscriber need not have a Spotify link at all.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import ColumnElement, and_, func, select

from release_notifier.db import Database
from release_notifier.db.models import User

USER_PAGE = 1000  # users loaded at a time for follow-list work


def has_working_link() -> ColumnElement[bool]:
    """Confirmed, subscribed, a refresh token present and no re-link due."""
    return and_(
        User.confirmed_at.is_not(None),
        User.unsubscribed_at.is_(None),
        User.refresh_token_enc.is_not(None),
        User.needs_relink_since.is_(None),
    )


def linked_user_pages(database: Database, size: int = USER_PAGE) -> Iterator[list[User]]:
    """Users with a working Spotify link, `size` at a time by id: never all of them in memory
    at once."""
    last = 0
    while True:
        with database.session() as session:
            page = list(
                session.scalars(
                    select(User)
                    .where(has_working_link(), User.id > last)
                    .order_by(User.id)
                    .limit(size)
                )
            )
        if not page:
            return
        yield page
        last = page[-1].id


def count_linked_users(database: Database) -> int:
    """How many users have a working Spotify link."""
    with database.session() as session:
        return session.scalar(select(func.count()).where(has_working_link())) or 0
