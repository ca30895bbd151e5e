"""Digest throughput: compose and send one digest to each of many users against a local SMTP
sink, streaming users (the users, follows and pending releases are seeded straight into SQLite).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import socket
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from benchmarks.engine_sim import scratch_dir
from benchmarks.scenarios import START
from benchmarks.score import peak_rss_mb
from release_notifier.db import Database, open_database
from release_notifier.db.models import Artist, Follow, LedgerEntry, Release, User
from release_notifier.jobs.run import Run
from release_notifier.mail.send import SmtpSender
from release_notifier.settings import load_settings

CHUNK = 20_000
ARTISTS = 20_000
RELEASES = 3_000
PENDING_PER_USER = 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_sink(port: int, ready: Any) -> None:
    """An SMTP server that accepts every message and keeps none (runs in its own process)."""
    from aiosmtpd.controller import Controller

    class Discard:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    controller = Controller(Discard(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        asyncio.run(asyncio.sleep(10**6))
    finally:
        controller.stop()


@contextmanager
def discarding_smtp() -> Iterator[int]:
    """The port of an SMTP sink that accepts and drops every message, in a process of its own."""
    spawn = multiprocessing.get_context("spawn")
    port = free_port()
    ready = spawn.Event()
    sink = spawn.Process(target=serve_sink, args=(port, ready), daemon=True)
    sink.start()
    try:
        ready.wait(30)
        yield port
    finally:
        sink.terminate()
        sink.join(5)


def seed(database: Database, users: int, follows: int, rng: random.Random) -> None:
    """Users with `follows` follows each and a few pending releases, due for a digest now."""
    artist_ids = [f"artist{n:018d}" for n in range(ARTISTS)]
    with database.engine.begin() as connection:
        connection.execute(
            insert(Artist), [{"id": a, "name": f"Artist {a[-6:]}"} for a in artist_ids]
        )
        releases = []
        for n in range(RELEASES):
            artist = rng.choice(artist_ids)
            released = (START - timedelta(days=rng.randint(0, 13))).date()
            releases.append(
                {
                    "id": f"album{n:017d}",
                    "name": f"Release {n}",
                    "album_type": "single",
                    "release_date": released.isoformat(),
                    "release_date_precision": "day",
                    "date_start": released,
                    "date_end": released,
                    "total_tracks": 1,
                    "spotify_url": f"https://open.spotify.com/album/album{n:017d}",
                    "artists": [{"id": artist, "name": f"Artist {artist[-6:]}"}],
                    "dedupe_key": f"release {n}",
                    "first_seen_at": START,
                }
            )
        connection.execute(insert(Release), releases)
    for first in range(1, users + 1, CHUNK // max(follows // 50, 1)):
        last = min(first + CHUNK // max(follows // 50, 1), users + 1)
        _seed_users(database, range(first, last), follows, artist_ids, releases, rng)


def _seed_users(
    database: Database,
    ids: range,
    follows: int,
    artist_ids: list[str],
    releases: list[dict[str, Any]],
    rng: random.Random,
) -> None:
    user_rows, follow_rows, ledger_rows = [], [], []
    for user_id in ids:
        user_rows.append(
            {
                "id": user_id,
                "email": f"listener{user_id}@bench.test",
                "created_at": START - timedelta(days=30),
                "confirmed_at": START - timedelta(days=30),
                "refresh_token_enc": b"-",
                "release_types": "album,single",
                "next_digest_at": START,
                "last_digest_at": START - timedelta(days=14),
            }
        )
        follow_rows += [
            {"user_id": user_id, "artist_id": a, "since": START}
            for a in rng.sample(artist_ids, follows)
        ]
        for release in rng.sample(releases, PENDING_PER_USER):
            ledger_rows.append(
                {
                    "user_id": user_id,
                    "release_id": release["id"],
                    "status": "pending",
                    "group": "single",
                    "via_artist_id": release["artists"][0]["id"],
                    "created_at": START,
                }
            )
    with database.engine.begin() as connection:
        connection.execute(insert(User), user_rows)
        for start in range(0, len(follow_rows), CHUNK):
            connection.execute(insert(Follow), follow_rows[start : start + CHUNK])
        connection.execute(insert(LedgerEntry), ledger_rows)


def send_all(url: str, port: int) -> dict[str, object]:
    """Send every due digest (in a fresh process, so its peak memory is its own)."""
    import time_machine

    settings = load_settings(
        database_url=url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        email_user="",
        mail_from="digests@notifier.test",
        flask_secret_key="benchmark",
    )
    database = open_database(url)
    with time_machine.travel(START + timedelta(minutes=1), tick=True):
        sender = SmtpSender.from_settings(settings)
        run = Run(settings, database, sender=sender)
        began = time.perf_counter()
        run.mail_work(sender)
        wall = time.perf_counter() - began
        sender.close()
    database.dispose()
    sent = run.summary.emails_sent
    return {
        "digests_sent": sent,
        "wall_s": round(wall, 1),
        "digests_per_s": round(sent / wall, 1) if wall else None,
        "peak_rss_mb": peak_rss_mb(),
        "problems": run.summary.problems[:3],
    }


@contextmanager
def scratch_database(postgres_url: str | None) -> Iterator[str]:
    """A DATABASE_URL for an empty database: a SQLite file in scratch_dir(), or a schema of its
    own on `postgres_url`, dropped afterwards."""
    if not postgres_url:
        with tempfile.TemporaryDirectory(dir=scratch_dir()) as folder:
            yield f"sqlite:///{Path(folder) / 'digests.db'}"
        return
    import psycopg

    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in postgres_url else "?"
    try:
        yield f"{postgres_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


def measure_digests(
    users: int, follows: int, *, postgres_url: str | None = None
) -> dict[str, object]:
    """Seed `users` x `follows`, then time sending their digests to a discarding SMTP sink."""
    spawn = multiprocessing.get_context("spawn")
    with scratch_database(postgres_url) as url:
        database = open_database(url)
        began = time.perf_counter()
        seed(database, users, follows, random.Random(100))
        seeded = time.perf_counter() - began
        database.dispose()
        with discarding_smtp() as port, spawn.Pool(1) as pool:
            result = pool.apply(send_all, (url, port))
    database_kind = "postgresql" if postgres_url else "sqlite"
    return {
        "users": users,
        "follows_per_user": follows,
        "database": database_kind,
        "seed_s": round(seeded, 1),
        **result,
    }
