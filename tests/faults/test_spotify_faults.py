"""Spotify misbehaving during a run: each fault either is absorbed (retries, a refresh, a short
wait) or defers the work cleanly; users the fault does not touch are unaffected; after recovery
every user has each release exactly once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.faults.conftest import World, release_names, tally

STEADY = ["a@example.test", "b@example.test", "c@example.test"]


@dataclass
class Scene:
    """Three artists A, B, C; a follows A and B, b follows B and C, c follows C."""

    world: World
    artists: dict[str, str]
    accounts: dict[str, str]
    expected: dict[str, set[str]]

    def release(self, letter: str, name: str) -> None:
        self.world.spotify.add_release(self.artists[letter], name, release_date="2026-11-24")
        for address, follows in FOLLOWS.items():
            if letter in follows:
                self.expected[address].add(name)

    def albums_path(self, letter: str) -> str:
        return rf"^/v1/artists/{self.artists[letter]}/albums"

    def complete(self) -> list[str]:
        """The users who have every release they should have by now."""
        return [
            address
            for address, wanted in self.expected.items()
            if wanted <= {n for m in self.world.smtp.to(address) for n in release_names(m)}
        ]


FOLLOWS = {"a@example.test": "AB", "b@example.test": "BC", "c@example.test": "C"}


def set_allowlisted(scene: Scene, address: str, allowed: bool) -> None:
    spotify = scene.world.spotify
    with spotify.lock:
        spotify.catalogue.accounts[scene.accounts[address]].allowlisted = allowed


def heal(scene: Scene) -> None:
    """Spotify is well again."""
    spotify = scene.world.spotify
    with spotify.lock:
        spotify.knobs.fail_rules.clear()
        spotify.knobs.rate_limited = 0
    spotify.set_quota(None)
    for address in scene.accounts:
        set_allowlisted(scene, address, True)


def newcomer_not_allowlisted(scene: Scene) -> None:
    """A new subscriber whose Spotify account the owner has not added to the app's user list."""
    address = "d@example.test"
    scene.world.add_user(address, [scene.artists["A"]], interval=0, account="d")
    scene.accounts[address] = "d"
    scene.expected[address] = {"First of A", "Second of A"}
    set_allowlisted(scene, address, False)


# The client gives up after TIMEOUT; a slow answer takes SLOW. TIMEOUT leaves room for a loaded
# machine (0.25 s made healthy token requests time out under a busy test run).
TIMEOUT = 1.0
SLOW = TIMEOUT + 0.5


@dataclass(frozen=True)
class Fault:
    inject: Callable[[Scene], None]
    unaffected: list[str]  # users who must have everything right after the faulty run


FAULTS = {
    "5xx storm on every endpoint": Fault(
        lambda s: s.world.spotify.fail(r"^/v1/", 503, times=1000), unaffected=[]
    ),
    "5xx storm on one artist": Fault(
        lambda s: s.world.spotify.fail(s.albums_path("A"), 500, times=1000),
        unaffected=["b@example.test", "c@example.test"],
    ),
    "timeouts on one artist": Fault(
        lambda s: s.world.spotify.fail(s.albums_path("A"), 200, times=3, delay=SLOW),
        unaffected=["b@example.test", "c@example.test"],
    ),
    "one timeout, then an answer": Fault(
        lambda s: s.world.spotify.fail(s.albums_path("A"), 200, times=1, delay=SLOW),
        unaffected=STEADY,
    ),
    "a truncated JSON body": Fault(
        lambda s: s.world.spotify.fail(s.albums_path("B"), 200, body='{"items": [{"id": "'),
        unaffected=STEADY,
    ),
    "an HTML error page instead of JSON": Fault(
        lambda s: s.world.spotify.fail(
            s.albums_path("C"), 502, times=2, body="<html><body>Bad Gateway</body></html>"
        ),
        unaffected=STEADY,
    ),
    "a dropped connection": Fault(
        lambda s: s.world.spotify.fail(s.albums_path("A"), 0), unaffected=STEADY
    ),
    "a 401 mid-run": Fault(
        lambda s: s.world.spotify.fail(s.albums_path("B"), 401), unaffected=STEADY
    ),
    "401 even after a refresh": Fault(  # the checking user's first three requests and retries
        lambda s: s.world.spotify.fail(r"^/v1/artists/", 401, times=6), unaffected=STEADY
    ),
    "a short 429": Fault(lambda s: s.world.spotify.rate_limit(2, retry_after=2), unaffected=STEADY),
    "429 QUOTA_EXCEEDED": Fault(lambda s: s.world.spotify.set_quota(1), unaffected=[]),
    "403 for a new user not on the allow-list": Fault(newcomer_not_allowlisted, unaffected=STEADY),
    "403 for a user taken off the allow-list": Fault(
        lambda s: set_allowlisted(s, "a@example.test", False), unaffected=STEADY
    ),
}


@pytest.fixture
def scene(world: World) -> Scene:
    """The scene after a first, healthy run (initial digests sent, follow lists read)."""
    world.settings = world.settings.model_copy(update={"spotify_timeout_seconds": TIMEOUT})
    artists = {letter: world.spotify.add_artist(f"Artist {letter}") for letter in "ABC"}
    accounts = {address: address.split("@")[0] for address in FOLLOWS}
    scene = Scene(world, artists, accounts, {address: set() for address in FOLLOWS})
    for letter in "ABC":
        scene.release(letter, f"First of {letter}")
    for address, follows in FOLLOWS.items():
        world.add_user(
            address, [artists[x] for x in follows], interval=0, account=accounts[address]
        )
    world.run()
    assert scene.complete() == list(FOLLOWS)
    return scene


@pytest.mark.parametrize("name", list(FAULTS))
def test_a_spotify_fault_loses_nothing_and_spares_users_it_does_not_touch(
    scene: Scene, name: str
) -> None:
    world = scene.world
    for letter in "ABC":
        scene.release(letter, f"Second of {letter}")
    FAULTS[name].inject(scene)

    faulty = world.run()  # completes (or defers) instead of raising
    spared = scene.complete()
    heal(scene)
    world.days_pass(1)  # past any quota pause
    world.run()
    counted = tally(world.smtp, scene.expected)

    print(
        f"\nspotify fault {name!r}: users complete after the faulty run "
        f"{len(spared)}/{len(scene.expected)}, "
        f"problems {len(faulty.problems)}, lost={counted.lost} duplicated={counted.duplicated}"
    )
    assert set(FAULTS[name].unaffected) <= set(spared), faulty.problems
    assert counted.lost == 0
    assert counted.duplicated == 0
