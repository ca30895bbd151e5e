"""Scoring a simulation against the scenario's truth: missed, duplicated, late, delays."""

from __future__ import annotations

import resource
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from benchmarks.scenarios import START, Scenario, World
from release_notifier.sandbox.emulator import RecordedRequest


@dataclass
class Outcome:
    """What one app did in a simulation, in truth keys."""

    deliveries: list[tuple[int, str, datetime]] = field(default_factory=list)  # user, key, when
    detected: dict[str, datetime] = field(default_factory=dict)  # key -> first seen
    spurious: int = 0  # announced releases that were not new (back catalogue)


def digest_times(scenario: Scenario) -> list[datetime]:
    step = timedelta(days=scenario.interval_days)
    times, at = [], START
    while at <= scenario.end:
        times.append(at)
        at += step
    return times


def request_rates(scenario: Scenario, recorded: list[RecordedRequest]) -> dict[str, float]:
    """Requests per scheduler run, digest cycle and day, after the first interval (warm-up)."""
    measured = sum(1 for r in recorded if r.at > scenario.start_measuring)
    days = (scenario.end - scenario.start_measuring).total_seconds() / 86400
    runs = days * 24 / scenario.step_hours  # scheduler runs in the measured days
    return {
        "requests_total": len(recorded),
        "requests_per_run": round(measured / runs, 2),
        "requests_per_cycle": round(measured / (days / scenario.interval_days), 1),
        "requests_per_day": round(measured / days, 1),
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory since it started (VmHWM).

    Not getrusage: on Linux its ru_maxrss survives exec, so a spawned child would report its
    parent's peak.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 1)


def score(
    scenario: Scenario, world: World, appeared: dict[str, datetime], outcome: Outcome
) -> dict[str, object]:
    """missed, duplicated, late (waited more than one digest), and the worst delays."""
    schedule = digest_times(scenario)
    listed = {release.key: set(release.artists) for release in world.releases}
    delivered: dict[tuple[int, str], datetime] = {}
    counts: Counter[tuple[int, str]] = Counter()
    for user, key, when in outcome.deliveries:
        counts[(user, key)] += 1
        delivered[(user, key)] = min(when, delivered.get((user, key), when))
    missed = pending = late = 0
    worst_wait = 0
    worst_delivery = timedelta(0)
    for user, follows in enumerate(world.follows):
        followed = set(follows)
        for key, at in appeared.items():
            if not listed[key] & followed:
                continue
            found = delivered.get((user, key))
            if found is None:
                chances = sum(1 for t in schedule if t > at)
                if chances >= 2:
                    missed += 1
                else:
                    pending += 1
                continue
            waited = sum(1 for t in schedule if at < t < found)
            worst_wait = max(worst_wait, waited)
            late += waited > 1
            worst_delivery = max(worst_delivery, found - at)
    detection = [outcome.detected[k] - at for k, at in appeared.items() if k in outcome.detected]
    return {
        "releases": len(appeared),
        "missed": missed,
        "duplicated": sum(n - 1 for n in counts.values()),
        "spurious": outcome.spurious,
        "pending_at_end": pending,
        "late": late,
        "max_digests_waited": worst_wait,
        "max_detection_delay_hours": hours(max(detection, default=timedelta(0))),
        "max_delivery_delay_hours": hours(worst_delivery),
    }
