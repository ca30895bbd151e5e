"""`copy-database`: a SQLite instance moved into an empty PostgreSQL, checked row for row."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from release_notifier.db import Database, open_database
from release_notifier.db.models import (
    Artist,
    ArtistRelease,
    Base,
    Digest,
    Follow,
    LedgerEntry,
    Notice,
    PendingSignup,
    Release,
    Run,
    SpotifyCall,
    State,
    User,
)
from tests.fixtures.db import postgres_schema_url

NOW = datetime(2026, 11, 20, 9, 30, 15, 123456)
CALLS = 2_345  # more than one batch of rows


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_schema_url() as url:
        yield url


@pytest.fixture
def source(sqlite_url: str) -> Iterator[Database]:
    """A SQLite instance with rows in every table."""
    database = open_database(sqlite_url)
    fill_every_table(database)
    yield database
    database.dispose()


def fill_every_table(database: Database) -> None:
    """A few rows in every table, with the awkward values: non-ASCII text, bytes, JSON, NULLs,
    fractions, dates and microseconds; and more rows than one batch in one table."""
    with database.session() as session:
        ana = User(
            email="ana@example.com",
            created_at=NOW,
            confirmed_at=NOW,
            spotify_account_id="ana-account",
            spotify_display_name="Ána Ünïcode 🎧",
            refresh_token_enc=bytes(range(256)),
            authorized_at=NOW,
            digest_interval_days=7.5,
            release_types="album,single,appears_on",
            next_digest_at=NOW + timedelta(days=7),
        )
        ben = User(email="ben@example.com", created_at=NOW, paused=True)
        session.add_all([ana, ben])
        session.add(Artist(id="a" * 22, name="Sigur Rós", page_total=12, page_ids="x,y"))
        session.flush()
        session.add(Follow(user_id=ana.id, artist_id="a" * 22, since=NOW))
        session.add(
            Release(
                id="r" * 22,
                name="Ágætis byrjun — “deluxe”",
                album_type="album",
                release_date="2026-11",
                release_date_precision="month",
                date_start=date(2026, 11, 1),
                date_end=date(2026, 11, 30),
                total_tracks=10,
                spotify_url="https://open.spotify.com/album/" + "r" * 22,
                artists=[{"id": "a" * 22, "name": "Sigur Rós"}],
                dedupe_key="sigur ros|agaetis byrjun",
                first_seen_at=NOW,
            )
        )
        session.flush()
        session.add(ArtistRelease(artist_id="a" * 22, release_id="r" * 22, group="album"))
        digest = Digest(
            user_id=ana.id, kind="initial", status="sent", message_id="<m@x>", created_at=NOW
        )
        session.add(digest)
        session.flush()
        session.add(
            LedgerEntry(
                user_id=ana.id,
                release_id="r" * 22,
                status="announced",
                group="album",
                via_artist_id="a" * 22,
                created_at=NOW,
                digest_id=digest.id,
            )
        )
        session.add(Notice(user_id=ben.id, kind="confirm", key="1", status="sent", created_at=NOW))
        session.add(PendingSignup(state="s" * 40, email="cleo@example.com", created_at=NOW))
        session.add(
            Run(trigger="cli", state="done", created_at=NOW, summary={"sent": 1, "é": [1.5]})
        )
        session.add(State(key="spotify_paused_until", value=None, expires_at=NOW))
    with database.engine.begin() as connection:
        connection.execute(
            insert(SpotifyCall),
            [{"at": NOW, "endpoint": f"/v1/call/{n}", "status": 200} for n in range(CALLS)],
        )


def copy_database(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "release_notifier", "copy-database", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def every_row(database: Database) -> dict[str, list[tuple[object, ...]]]:
    with database.engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }


@pytest.mark.postgres
def test_copy_database_moves_every_row_into_an_empty_postgresql(
    tmp_path: Path, sqlite_url: str, postgres_url: str, source: Database
) -> None:
    result = copy_database("--to", postgres_url, database_url=sqlite_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"  spotify_calls: {CALLS} rows" in result.stdout.splitlines()
    tables = len(Base.metadata.sorted_tables)
    assert f"copied {CALLS + 12} rows in {tables} tables" in result.stdout
    assert "every row checked" in result.stdout

    target = open_database(postgres_url)
    try:
        assert every_row(target) == every_row(source)
        with target.session() as session:  # the id sequences moved past the copied ids
            session.add(User(email="dana@example.com", created_at=NOW))
            session.add(Run(trigger="cli", state="queued", created_at=NOW))
        with target.session() as session:
            assert session.scalar(select(func.max(User.id))) == 3
    finally:
        target.dispose()


@pytest.mark.postgres
def test_copy_database_refuses_a_target_with_rows_and_changes_nothing(
    tmp_path: Path, sqlite_url: str, postgres_url: str, source: Database
) -> None:
    target = open_database(postgres_url)
    with target.session() as session:
        session.add(User(email="already@example.com", created_at=NOW))
    before = every_row(target)

    result = copy_database("--to", postgres_url, database_url=sqlite_url, cwd=tmp_path)

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: {postgres_url} is not empty: users has 1 row; copy into an empty database"
    ]
    assert every_row(target) == before
    target.dispose()


@pytest.mark.postgres
def test_a_row_postgresql_refuses_stops_the_copy_and_leaves_the_target_without_rows(
    tmp_path: Path, sqlite_url: str, postgres_url: str, source: Database
) -> None:
    with source.session() as session:  # SQLite never enforced the column's 254 characters
        session.add(User(email="x" * 300 + "@example.com", created_at=NOW))

    result = copy_database("--to", postgres_url, database_url=sqlite_url, cwd=tmp_path)

    assert result.returncode == 1
    assert result.stderr.startswith("Error: copying users failed, nothing was kept: ")
    assert "value too long" in result.stderr
    target = open_database(postgres_url)
    assert all(rows == [] for rows in every_row(target).values())
    target.dispose()
