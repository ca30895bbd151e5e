"""Benchmark: Spotify requests, misses and delays of the quota-aware engine against a naive
baseline, over generated scenarios run against the sandbox emulator in simulated time.

    python benchmarks/quota.py --quick --json OUT.json [--plot OUT.png] [--markdown OUT.md]

The JSON maps each scenario to {"engine": {...}, "baseline": {...}, "floor_requests_per_cycle": N}.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script: make `benchmarks` importable

from benchmarks import report  # noqa: E402
from benchmarks.scenarios import FULL, QUICK, Scenario, generate  # noqa: E402
from benchmarks.score import peak_rss_mb  # noqa: E402

DIGEST_USERS_FULL = 100_000
DIGEST_FOLLOWS = 300


def simulate(job: tuple[Scenario, str]) -> tuple[str, str, dict[str, Any]]:
    """One app through one scenario, in a fresh process (its peak RSS is its own)."""
    scenario, app = job
    logging.disable(logging.WARNING)
    world = generate(scenario)
    began = time.perf_counter()
    if app == "engine":
        from benchmarks.engine_sim import simulate_engine

        measured = simulate_engine(scenario, world)
    else:
        from benchmarks.baseline import simulate_baseline

        measured = simulate_baseline(scenario, world)
    measured["wall_s"] = round(time.perf_counter() - began, 1)
    measured["peak_rss_mb"] = peak_rss_mb()
    return scenario.label, app, measured


def run_scenarios(scenarios: list[Scenario], workers: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for scenario in scenarios:
        world = generate(scenario)
        results[scenario.label] = {
            "engine": None,
            "baseline": None,
            "floor_requests_per_cycle": world.floor_requests_per_cycle(scenario.kind == "linked"),
            "follows": scenario.users * scenario.follows_per_user,
            "unique_artists": world.unique_artists,
            "settings": {
                "users": scenario.users,
                "follows_per_user": scenario.follows_per_user,
                "shared_per_user": scenario.shared_per_user,
                "shared_pool": scenario.shared_pool,
                "interval_days": scenario.interval_days,
                "releases_per_artist_week": scenario.releases_per_artist_week,
                "back_catalogue": list(scenario.back_catalogue),
                "days": scenario.days,
                "step_hours": scenario.step_hours,
                "emulator_quota": scenario.quota,
                "latency_s": scenario.latency_s,
                "budget": scenario.budget,
                "kind": scenario.kind,
            },
        }
    jobs = [
        (s, app)
        for s in scenarios
        for app in ("engine", "baseline")
        if s.baseline or app == "engine"
    ]
    jobs.sort(key=lambda job: -job[0].users * job[0].follows_per_user * job[0].days)
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, maxtasksperchild=1) as pool:
        for name, app, measured in pool.imap_unordered(simulate, jobs):
            results[name][app] = measured
            print(
                f"  {name}/{app}: {measured['requests_per_cycle']} requests/cycle, "
                f"{measured['wall_s']} s",
                flush=True,
            )
    return results


def digest_result(users: int, postgres_url: str | None = None) -> dict[str, Any]:
    """Digest throughput in the JSON shape of a scenario (no Spotify requests involved)."""
    from benchmarks.digests import measure_digests

    measured = measure_digests(users, DIGEST_FOLLOWS, postgres_url=postgres_url)
    engine = {
        "requests_per_cycle": 0,
        "requests_per_artist_check": None,
        "quota_exceeded": 0,
        "missed": 0,
        "duplicated": 0,
        "max_detection_delay_hours": None,
        **measured,
    }
    return {"engine": engine, "baseline": None, "floor_requests_per_cycle": 0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the small set (under 3 minutes)")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    parser.add_argument("--plot", type=Path, help="draw the PNG plot here")
    parser.add_argument("--markdown", type=Path, help="write the results table as Markdown")
    parser.add_argument("--only", action="append", help="run only this scenario (repeatable)")
    parser.add_argument(
        "--digest-users", type=int, help="users for the digest throughput run (0: skip)"
    )
    parser.add_argument(
        "--digest-postgres",
        metavar="URL",
        help="run the digest throughput on this PostgreSQL (in a scratch schema) instead of SQLite",
    )
    parser.add_argument(
        "--spotify-2026",
        action="store_true",
        help="the emulator answers as Spotify was observed to in 2026 (totals off by one, "
        "items taken down, '0000' dates, long titles, a page-limit cut, no Retry-After on "
        "quota bans, short follow pages, 600 calls a day per endpoint)",
    )
    parser.add_argument(
        "--kind",
        choices=("linked", "email"),
        help="make every subscriber linked (follows read from Spotify) or email-only (artists "
        "chosen here), whatever the scenario says",
    )
    parser.add_argument("--workers", type=int, default=2, help="simulations run at once")
    args = parser.parse_args(argv)

    scenarios = QUICK if args.quick else FULL
    if args.only:
        scenarios = [s for s in scenarios if s.name in args.only]
    if args.spotify_2026:
        scenarios = [replace(s, spotify_2026=True) for s in scenarios]
    if args.kind:
        scenarios = [replace(s, kind=args.kind, name=f"{s.name}-{args.kind}") for s in scenarios]
    digest_users = args.digest_users
    if digest_users is None:
        digest_users = 0 if args.quick else DIGEST_USERS_FULL
    began = time.perf_counter()
    results = run_scenarios(scenarios, args.workers)
    if digest_users:
        results["digests"] = digest_result(digest_users, args.digest_postgres)
    print(report.text_table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    plot_path = args.plot or (args.json.with_suffix(".png") if args.json else None)
    if plot_path:
        report.plot(results, plot_path)
    if args.markdown:
        args.markdown.write_text(report.markdown_table(results) + "\n")
    print(f"done in {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
