"""Pacing after short 429s: the same run (one subscriber following ARTISTS artists, each with a
new release) with and without one burst of three 429s (Retry-After 1 s) during the artist checks,
against the sandbox emulator with a fixed latency per request, in real time.

    python benchmarks/pacing.py [--artists 60] [--latency 0.05] [--repeat 3] [--json OUT.json]

The difference between the two wall times is what the burst cost; it should be close to the
Retry-After (every thread waits it out once), not the minutes a pace stuck at its slowest costs.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script: make `benchmarks` importable

from cryptography.fernet import Fernet  # noqa: E402

from release_notifier.clock import utcnow  # noqa: E402
from release_notifier.db import open_database  # noqa: E402
from release_notifier.jobs.run import Run  # noqa: E402
from release_notifier.sandbox.emulator import SpotifyEmulator  # noqa: E402
from release_notifier.sandbox.mailcatcher import MailCatcher  # noqa: E402
from release_notifier.sandbox.wiring import add_linked_subscriber, sandbox_settings  # noqa: E402

ALBUMS = r"/v1/artists/[^/]+/albums"
BURST = 3
RETRY_AFTER = "1"


def one_run(artists: int, latency: float, burst: bool) -> dict[str, Any]:
    """A fresh database, emulator and mail catcher; one complete run, timed."""
    with (
        tempfile.TemporaryDirectory() as folder,
        SpotifyEmulator(user_cap=None) as spotify,
        MailCatcher() as smtp,
    ):
        database = open_database(f"sqlite:///{Path(folder) / 'site.db'}")
        settings = sandbox_settings(
            spotify,
            smtp,
            db_encryption_key=Fernet.generate_key().decode(),
            flask_secret_key="bench",
            database_url=database.url,
            mail_from="digests@bench.test",
            spotify_daily_request_budget=100_000,
        )
        ids = [spotify.add_artist(f"Artist {n:02d}") for n in range(artists)]
        for n, artist in enumerate(ids):
            spotify.add_release(artist, f"Song {n}", group="single", release_date="2026-11-20")
        add_linked_subscriber(
            database, settings.token_cipher, spotify, "bench@bench.test", ids, now=utcnow()
        )
        spotify.latency = latency
        if burst:  # the first three checks in flight get a 429, answered together
            spotify.fail(ALBUMS, 429, times=BURST, headers={"Retry-After": RETRY_AFTER})
        run = Run(settings, database)
        began = time.perf_counter()
        summary = run.execute()
        wall = time.perf_counter() - began
        database.dispose()
        limited = sum(1 for r in spotify.requests if r.status == 429)
    assert summary.artists_checked == artists, summary.problems
    return {
        "wall_s": round(wall, 2),
        "requests": summary.requests,
        "answered_429": limited,
        "slowdowns": run.pacer.slowdowns,
        "final_interval_s": round(run.pacer.interval, 4),
    }


def measure(artists: int, latency: float, repeat: int) -> dict[str, Any]:
    """Median wall time of `repeat` runs each way, and the difference."""
    plain = [one_run(artists, latency, burst=False) for _ in range(repeat)]
    bursty = [one_run(artists, latency, burst=True) for _ in range(repeat)]
    plain_s = statistics.median(r["wall_s"] for r in plain)
    burst_s = statistics.median(r["wall_s"] for r in bursty)
    return {
        "artists": artists,
        "latency_s": latency,
        "retry_after_s": float(RETRY_AFTER),
        "without_burst_s": plain_s,
        "with_burst_s": burst_s,
        "difference_s": round(burst_s - plain_s, 2),
        "runs": {"without": plain, "with": bursty},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--artists", type=int, default=60)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the result here too")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    result = measure(args.artists, args.latency, args.repeat)
    text = json.dumps(result, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(
        f"{args.artists} artists, {args.latency * 1000:.0f} ms a request: "
        f"{result['without_burst_s']} s without a burst, {result['with_burst_s']} s with three "
        f"429s (Retry-After {RETRY_AFTER} s): {result['difference_s']} s more"
    )


if __name__ == "__main__":
    main()
