"""How a run's summary joins the passes it did (a follow-up pass for work asked for meanwhile)."""

from __future__ import annotations

from release_notifier.jobs.run import RunSummary
from release_notifier.releases.sweep import SweepCounts


def test_a_follow_up_pass_adds_its_counts_and_brings_the_end_state() -> None:
    first = RunSummary(
        users=3,
        artists_checked=5,
        artists_unchecked=4,
        emails_sent=2,
        problems=["one"],
        paused_until="2026-12-02 10:00:00",
        pause_reason="quota: banned",
        budget_left=90,
        waited_seconds=12.0,
        passes=1,
    )
    later = RunSummary(
        users=4, artists_checked=1, artists_unchecked=0, problems=["two"], budget_left=80, passes=1
    )

    first.absorb(later)

    assert (first.artists_checked, first.emails_sent, first.passes) == (6, 2, 2)
    assert first.problems == ["one", "two"]
    assert (first.users, first.artists_unchecked, first.budget_left) == (4, 0, 80)
    # a pause the later pass did not see again is still the run's to report
    assert (first.paused_until, first.pause_reason) == ("2026-12-02 10:00:00", "quota: banned")
    assert first.waited_seconds == 12.0  # how the run took its turn is the first pass's


def test_a_later_pause_replaces_the_earlier_one() -> None:
    first = RunSummary(paused_until="2026-12-02 10:00:00", pause_reason="quota: a")
    first.absorb(RunSummary(paused_until="2026-12-02 16:00:00", pause_reason="premium: b"))
    assert (first.paused_until, first.pause_reason) == ("2026-12-02 16:00:00", "premium: b")


def test_the_sweeps_counts_land_in_the_summary() -> None:
    summary = RunSummary(emails_sent=1)
    summary.take(SweepCounts(follows_refreshed=2, releases_found=3, checks_done=False))
    assert (summary.follows_refreshed, summary.releases_found, summary.emails_sent) == (2, 3, 1)
