"""The naive baseline: what the original app and its peers do.

At each user's digest time it reads the follow list, then, per followed artist and per release
type (album, single), the first page of the artist's releases, and announces every release dated
on or after the previous digest's day. No cache shared between users, no budget; on a 429 it
waits out Retry-After (as spotipy does) and carries on where it stopped.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import requests
import time_machine

from benchmarks.sandbox import Sandbox, build_sandbox
from benchmarks.scenarios import START, Scenario, World
from benchmarks.score import Outcome, request_rates, score

TYPES = ("album", "single")
POOL = 4


@dataclass
class Listener:
    """One user's baseline state: the digest in progress and what it has gathered."""

    number: int
    account: str
    next_digest: datetime
    since: date  # releases dated on or after this day are announced
    queue: list[tuple[str, str]] = field(default_factory=list)  # (artist id, type) to poll
    found: dict[str, str] = field(default_factory=dict)  # album id -> release date
    started: bool = False
    following_done: bool = False


class BaselineApp:
    """The baseline's HTTP side, with per-thread sessions and tokens minted by the sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.base = sandbox.emulator.api_base_url
        self.local = threading.local()
        self.tokens: dict[str, str] = {}
        self.quota_hits = 0
        self.artist_checks = 0
        self.blocked_until: datetime | None = None
        self.lock = threading.Lock()

    def get(self, account: str, path: str, params: dict[str, Any]) -> requests.Response:
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
        for _ in range(2):
            token = self.tokens.get(account) or self._token(account)
            response = session.get(
                self.base + path,
                params=params,
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            if response.status_code != 401:
                return response
            self.tokens.pop(account, None)
        return response

    def _token(self, account: str) -> str:
        token = self.sandbox.emulator.issue_tokens(account)["access_token"]
        self.tokens[account] = token
        return token

    def following(self, account: str) -> list[str] | None:
        """Every followed artist id, or None when a 429 stopped it."""
        ids: list[str] = []
        params: dict[str, Any] = {"type": "artist", "limit": 50}
        while True:
            response = self.get(account, "/me/following", params)
            if self.limited(response):
                return None
            page = response.json()["artists"]
            ids += [item["id"] for item in page["items"]]
            after = (page.get("cursors") or {}).get("after")
            if not page.get("next") or not after:
                return ids
            params = {**params, "after": after}

    def first_page(self, account: str, artist_id: str, kind: str) -> list[dict[str, Any]] | None:
        """The first page of one release type, or None when a 429 stopped it (or will)."""
        if self.blocked_until is not None:
            return None
        response = self.get(
            account,
            f"/artists/{artist_id}/albums",
            {"include_groups": kind, "market": "US", "limit": 10},
        )
        if self.limited(response):
            return None
        return list(response.json().get("items") or []) if response.status_code == 200 else []

    def limited(self, response: requests.Response) -> bool:
        """A 429: note it and wait Retry-After (simulated) before anything else."""
        if response.status_code != 429:
            return False
        wait = timedelta(seconds=float(response.headers.get("Retry-After", "1")))
        with self.lock:
            self.quota_hits += 1
            now = self.sandbox.emulator.now()
            if self.blocked_until is None or self.blocked_until < now + wait:
                self.blocked_until = now + wait
        return True


def simulate_baseline(scenario: Scenario, world: World) -> dict[str, object]:
    with time_machine.travel(START, tick=False) as clock:
        sandbox = build_sandbox(scenario, world)
        try:
            return _loop(scenario, world, sandbox, clock)
        finally:
            sandbox.stop()


def _loop(
    scenario: Scenario, world: World, sandbox: Sandbox, clock: time_machine.Traveller
) -> dict[str, object]:
    app = BaselineApp(sandbox)
    interval = timedelta(days=scenario.interval_days)
    # Its first digest is simulated at the end of the first interval: a digest at signup costs
    # the same as any other and falls before the measured cycles.
    listeners = [
        Listener(n, account, START + interval, START.date())
        for n, account in enumerate(sandbox.accounts)
    ]
    outcome = Outcome()
    step = timedelta(hours=scenario.step_hours)
    now = START
    with ThreadPoolExecutor(max_workers=POOL) as pool:
        while now <= scenario.end:
            clock.move_to(now)
            sandbox.release_due(now)
            if app.blocked_until is None or now >= app.blocked_until:
                app.blocked_until = None
                for listener in listeners:
                    due = now >= listener.next_digest
                    if due and not _advance(app, pool, listener, now, outcome):
                        break  # blocked by a 429: everything waits
                    if listener.started and not listener.queue and listener.following_done:
                        _send(listener, sandbox, outcome, now, interval)
            now += step
    return _measure(scenario, world, sandbox, app, outcome)


def _advance(
    app: BaselineApp,
    pool: ThreadPoolExecutor,
    listener: Listener,
    now: datetime,
    outcome: Outcome,
) -> bool:
    """Work on this user's digest; False when a 429 stopped it."""
    listener.started = True
    if not listener.following_done:
        followed = app.following(listener.account)
        if followed is None:
            return False
        listener.queue = [(artist, kind) for artist in followed for kind in TYPES]
        listener.following_done = True
        app.artist_checks += len(followed)
    while listener.queue:
        batch, listener.queue = listener.queue[: POOL * 8], listener.queue[POOL * 8 :]
        pages = list(pool.map(lambda job: app.first_page(listener.account, *job), batch))
        for job, items in zip(batch, pages, strict=True):
            if items is None:
                listener.queue.append(job)
                continue
            for item in items:
                listener.found.setdefault(item["id"], item["release_date"])
                key = app.sandbox.album_keys.get(item["id"])
                if key is not None:
                    outcome.detected.setdefault(key, now)
        if any(items is None for items in pages):
            return False
    return True


def _send(
    listener: Listener, sandbox: Sandbox, outcome: Outcome, now: datetime, interval: timedelta
) -> None:
    """The digest: every release found dated on or after the previous digest's day."""
    for album_id, released in listener.found.items():
        if released[:10] >= listener.since.isoformat()[: len(released)]:
            key = sandbox.album_keys.get(album_id)
            if key is None:
                outcome.spurious += 1
            else:
                outcome.deliveries.append((listener.number, key, now))
    listener.since = listener.next_digest.date()
    listener.next_digest += interval
    listener.found = {}
    listener.started = listener.following_done = False


def _measure(
    scenario: Scenario, world: World, sandbox: Sandbox, app: BaselineApp, outcome: Outcome
) -> dict[str, object]:
    recorded = [r for r in sandbox.emulator.requests if r.path.startswith("/v1/")]
    album_requests = sum(1 for r in recorded if r.path.endswith("/albums"))
    return {
        **request_rates(scenario, recorded),
        "requests_per_artist_check": round(album_requests / app.artist_checks, 3)
        if app.artist_checks
        else None,
        "artist_checks": app.artist_checks,
        "quota_exceeded": app.quota_hits,
        **score(scenario, world, sandbox.appeared, outcome),
    }
