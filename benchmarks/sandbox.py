"""The emulated Spotify both apps run against, filled from a generated scenario world."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from benchmarks.scenarios import NewRelease, Scenario, World
from release_notifier.sandbox.emulator import SpotifyEmulator


@dataclass
class Sandbox:
    """A started emulator holding the scenario's artists, back catalogue and accounts."""

    emulator: SpotifyEmulator
    artist_ids: dict[str, str]  # artist key -> Spotify id
    accounts: list[str]  # none when the subscribers are email-only
    pending: list[NewRelease]
    album_keys: dict[str, str] = field(default_factory=dict)  # album id -> truth key
    appeared: dict[str, datetime] = field(default_factory=dict)  # truth key -> when
    back_ids: dict[str, list[str]] = field(default_factory=dict)  # artist key -> album ids
    removals: list[tuple[datetime, str, int]] = field(default_factory=list)
    limit_cut_at: datetime | None = None  # when the artist-albums page limit drops to 5

    def release_due(self, now: datetime) -> None:
        """Put every release whose time has come on Spotify (and take down the old items whose
        removal has come, and cut the page limit when its time has come)."""
        while self.removals and self.removals[0][0] <= now:
            _, artist, index = self.removals.pop(0)
            ids = self.back_ids.get(artist) or []
            if index < len(ids) and ids[index]:
                self.emulator.remove_release(ids[index])
                ids[index] = ""
        if self.limit_cut_at is not None and self.limit_cut_at <= now:
            self.emulator.set_albums_limit(5)
            self.limit_cut_at = None
        while self.pending and self.pending[0].appears_at <= now:
            release = self.pending.pop(0)
            ids = [self.artist_ids[a] for a in release.artists]
            date = release.appears_at.date().isoformat()
            for explicit in (True, False) if release.twin else (False,):
                album_id = self.emulator.add_release(
                    ids,
                    release.name,
                    group=release.group,
                    release_date=date,
                    total_tracks=1 if release.group == "single" else 10,
                    explicit=explicit,
                )
                self.album_keys[album_id] = release.key
            self.appeared[release.key] = release.appears_at

    def stop(self) -> None:
        self.emulator.stop()


def build_sandbox(scenario: Scenario, world: World) -> Sandbox:
    emulator = SpotifyEmulator(user_cap=None).start()
    emulator.latency = scenario.latency_s
    ids = {key: emulator.add_artist(key) for key in world.artists}
    back_ids = {
        key: [
            emulator.add_release(ids[key], name, group=group, release_date=date)
            for name, group, date in releases
        ]
        for key, releases in world.back_catalogue.items()
    }
    accounts = [
        emulator.add_account(display_name=f"listener {n}", follows=[ids[a] for a in follows])
        for n, follows in enumerate(world.follows)
        if scenario.kind == "linked"
    ]
    if scenario.quota is not None:
        emulator.set_quota(scenario.quota, retry_after=48925)
    sandbox = Sandbox(emulator, ids, accounts, list(world.releases), back_ids=back_ids)
    if scenario.spotify_2026:
        emulator.observe_2026(seed=scenario.seed)
        sandbox.removals = list(world.removals)
        sandbox.limit_cut_at = scenario.start_measuring + timedelta(days=scenario.days / 4)
    return sandbox
