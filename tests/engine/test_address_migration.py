"""Migration 0003: addresses folded to lower case; of several spellings of one address the live
subscription stays and the others go with their data, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, text

from release_notifier.db import open_database
from release_notifier.db.migrate import upgrade_database
from release_notifier.db.models import Follow, User

T0 = datetime(2026, 11, 1, 9, 0)


def add_user(connection: Connection, user_id: int, email: str, **values: object) -> None:
    columns = {
        "id": user_id,
        "email": email,
        "created_at": T0,
        "release_types": "album,single",
        "paused": False,
        "link_version": 1,
        **values,
    }
    names = ", ".join(columns)
    marks = ", ".join(f":{name}" for name in columns)
    connection.execute(text(f"INSERT INTO users ({names}) VALUES ({marks})"), columns)


def test_the_migration_lowercases_addresses_and_keeps_the_live_one_of_a_clash(
    database_url: str,
) -> None:
    database = open_database(database_url, upgrade=False)
    try:
        upgrade_database(database, "0002")
        with database.engine.begin() as connection:
            add_user(connection, 1, "Casey@Example.com")  # never confirmed
            add_user(connection, 2, "casey@example.com", confirmed_at=T0)  # the live one
            add_user(connection, 3, "CASEY@example.com", confirmed_at=T0, unsubscribed_at=T0)
            add_user(connection, 4, "Dana@Example.com", confirmed_at=T0)
            connection.execute(
                text("INSERT INTO artists (id, name, check_failures) VALUES ('a', 'A', 0)")
            )
            connection.execute(
                text("INSERT INTO follows (user_id, artist_id, since) VALUES (3, 'a', :t)"),
                {"t": T0},
            )
        upgrade_database(database)
        with database.session() as session:
            rows = {user.id: user.email for user in session.scalars(select(User))}
            assert rows == {2: "casey@example.com", 4: "dana@example.com"}
            assert session.scalars(select(Follow)).all() == []
    finally:
        database.dispose()
