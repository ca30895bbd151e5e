"""Benchmark scenarios: who follows whom, each artist's back catalogue, and the releases that
appear during the simulated days (the truth both apps are scored against)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

START = datetime(2026, 11, 25, 9, 0, 0)


@dataclass(frozen=True)
class Scenario:
    name: str
    users: int
    follows_per_user: int
    shared_per_user: int  # of each user's follows, how many come from the shared pool
    shared_pool: int
    interval_days: float
    releases_per_artist_week: float  # share of artists releasing something per week
    back_catalogue: tuple[int, int]  # releases per artist before the simulation, min and max
    days: float  # simulated days (a whole number of digest intervals)
    step_hours: float = 1.0  # how often the scheduler runs
    quota: int | None = None  # the emulator's rolling-day quota
    latency_s: float = 0.01  # added to every Web API request by the emulator
    budget: int = 500  # SPOTIFY_DAILY_REQUEST_BUDGET for the engine
    twin_share: float = 0.05  # releases that also appear as a clean/explicit twin
    collab_share: float = 0.1  # releases listed on two followed artists
    seed: int = 7
    spotify_2026: bool = False  # the emulator answers as Spotify was observed to in 2026
    kind: str = "linked"  # "linked": follows read from Spotify; "email": artists chosen here
    baseline: bool = True  # also simulate the naive baseline

    @property
    def label(self) -> str:
        return f"{self.name}-2026" if self.spotify_2026 else self.name

    @property
    def start_measuring(self) -> datetime:
        """Steady state: after the first digest interval (the first checks are a one-off)."""
        return START + timedelta(days=self.interval_days)

    @property
    def end(self) -> datetime:
        return START + timedelta(days=self.days)


@dataclass(frozen=True)
class NewRelease:
    """A release that appears on Spotify at `appears_at` (with its twin, if any)."""

    key: str  # the truth's name for it; twins share it
    artists: tuple[str, ...]  # artist keys it is listed under
    name: str
    group: str
    appears_at: datetime
    twin: bool


@dataclass
class World:
    """A generated scenario: artist keys, follows per user, back catalogue, new releases."""

    artists: list[str]
    follows: list[list[str]]
    back_catalogue: dict[str, list[tuple[str, str, str]]]  # artist -> (name, group, date)
    releases: list[NewRelease] = field(default_factory=list)
    removals: list[tuple[datetime, str, int]] = field(default_factory=list)  # when, artist, item

    @property
    def unique_artists(self) -> int:
        return len({artist for follows in self.follows for artist in follows})

    def floor_requests_per_cycle(self, follow_lists: bool = True) -> int:
        """One request per unique followed artist, plus ceil(follows/50) per user whose follow
        list is read (linked subscribers)."""
        pages = sum(math.ceil(len(follows) / 50) for follows in self.follows)
        return self.unique_artists + (pages if follow_lists else 0)


def generate(scenario: Scenario) -> World:
    """The same scenario always generates the same world."""
    rng = random.Random(scenario.seed)
    shared = [f"shared-{n}" for n in range(scenario.shared_pool)]
    artists = list(shared)
    follows = []
    for user in range(scenario.users):
        own = [f"u{user}-{n}" for n in range(scenario.follows_per_user - scenario.shared_per_user)]
        artists += own
        follows.append(rng.sample(shared, scenario.shared_per_user) + own)
    followed = sorted({artist for user_follows in follows for artist in user_follows})
    last_old_day = (START - timedelta(days=60)).date()
    back: dict[str, list[tuple[str, str, str]]] = {}
    for artist in followed:
        low, high = scenario.back_catalogue
        back[artist] = [
            (
                f"{artist} old {n}",
                "single" if rng.random() < 0.6 else "album",
                (last_old_day - timedelta(days=rng.randint(0, 7000))).isoformat(),
            )
            for n in range(rng.randint(low, high))
        ]
    world = World(followed, follows, back)
    world.releases = new_releases(scenario, followed, rng)
    if scenario.spotify_2026:
        observed_2026(scenario, world, random.Random(scenario.seed + 2026))
    return world


ZERO_DATE_SHARE = 0.05  # artists with a "0000" album in their back catalogue
LONG_TITLE_SHARE = 0.05  # artists with a 2,000-character title
REMOVALS_PER_ARTIST_WEEK = 0.02  # old items taken down (regional takedowns, re-issues)


def observed_2026(scenario: Scenario, world: World, rng: random.Random) -> None:
    """What Spotify's catalogue looks like in 2026: "0000" dates, very long titles, and old
    items that disappear during the simulation (also in the intervals a new one appears)."""
    for releases in world.back_catalogue.values():
        if releases and rng.random() < ZERO_DATE_SHARE:
            name, group, _ = releases[0]
            releases[0] = (name, group, "0000")
        if releases and rng.random() < LONG_TITLE_SHARE:
            name, group, date = releases[-1]
            releases[-1] = ((f"{name} " * 400)[:2000], group, date)
    per_day = REMOVALS_PER_ARTIST_WEEK / 7
    for artist, releases in world.back_catalogue.items():
        for day in range(math.ceil(scenario.days)):
            if releases and rng.random() < per_day:
                when = START + timedelta(days=day, hours=rng.randint(0, 23))
                world.removals.append((when, artist, rng.randrange(len(releases))))
    world.removals.sort()


def new_releases(scenario: Scenario, artists: list[str], rng: random.Random) -> list[NewRelease]:
    """Releases appearing during the simulation, at a random hour of a random day."""
    per_day = scenario.releases_per_artist_week / 7
    releases = []
    for artist in artists:
        for day in range(math.ceil(scenario.days)):
            if rng.random() >= per_day:
                continue
            appears = START + timedelta(days=day, hours=rng.randint(0, 23))
            if appears > scenario.end:
                continue
            listed = [artist]
            if rng.random() < scenario.collab_share:
                listed.append(rng.choice(artists))
            key = f"{artist}-new-{day}"
            releases.append(
                NewRelease(
                    key=key,
                    artists=tuple(dict.fromkeys(listed)),
                    name=f"{artist} new {day}",
                    group="single" if rng.random() < 0.7 else "album",
                    appears_at=appears,
                    twin=rng.random() < scenario.twin_share,
                )
            )
    releases.sort(key=lambda r: r.appears_at)
    return releases


STEADY = Scenario(
    name="steady",
    users=1,
    follows_per_user=100,
    shared_per_user=0,
    shared_pool=0,
    interval_days=1,
    releases_per_artist_week=0.0,
    back_catalogue=(0, 40),
    days=4,
    step_hours=3,
)
REFERENCE = Scenario(
    name="reference",
    users=5,
    follows_per_user=500,
    shared_per_user=250,
    shared_pool=300,
    interval_days=14,
    releases_per_artist_week=0.02,
    back_catalogue=(0, 30),
    days=28,
    step_hours=3,
)
ONE_LISTENER = replace(REFERENCE, users=1, shared_per_user=0, shared_pool=0, step_hours=2)
# Email-only subscribers choosing 50 artists each from a pool of 3,000 (about 3,000 unique): the
# promise at the default budget. No baseline: it would poll 50,000 artist pages a cycle.
EMAIL_ONLY = replace(
    REFERENCE,
    name="email500",
    users=500,
    follows_per_user=50,
    shared_per_user=50,
    shared_pool=3000,
    days=42,
    kind="email",
    baseline=False,
)

QUICK = [
    STEADY,
    REFERENCE,
    replace(
        REFERENCE,
        name="quota28",
        follows_per_user=200,
        shared_per_user=100,
        shared_pool=150,
        quota=1000,
        seed=28,
    ),
    replace(EMAIL_ONLY, name="email100", users=100, shared_pool=600, days=28),
]

FULL = [
    replace(STEADY, follows_per_user=300, days=7, step_hours=1),
    replace(REFERENCE, days=42, step_hours=2),
    replace(REFERENCE, name="quota28", quota=1000, seed=28, step_hours=2),
    replace(ONE_LISTENER, name="follows2000", follows_per_user=2000),
    *[
        replace(ONE_LISTENER, name=f"sweep{follows}", follows_per_user=follows)
        for follows in (100, 250, 500, 1000)
    ],
    EMAIL_ONLY,
]
