"""Test knobs of the emulator: injected failures, the short rate limit, the daily quota, and the
log of every request it answered.

Callers hold the emulator's lock.
"""

from __future__ import annotations

import math
import random
import re
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    """One request the emulator answered (status 0: the connection was dropped)."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    at: datetime


@dataclass
class FailRule:
    """Answer the next `times` requests whose path matches `pattern` with this instead."""

    pattern: re.Pattern[str]
    status: int
    times: int
    body: str | dict[str, Any] | None
    headers: dict[str, str]
    delay: float


@dataclass
class RollingWindow:
    """At most `limit` admitted /v1 requests in any `window`: Spotify's 30-second rate limit
    and its per-developer daily quota both work this way."""

    limit: int
    window: timedelta
    retry_after: int | None = None  # None: the seconds until the oldest request ages out
    admitted: deque[datetime] = field(default_factory=deque)

    def admit(self, now: datetime) -> bool:
        """Count this request if the window has room; False means refuse it."""
        while self.admitted and now - self.admitted[0] >= self.window:
            self.admitted.popleft()
        if len(self.admitted) >= self.limit:
            return False
        self.admitted.append(now)
        return True

    def wait_seconds(self, now: datetime) -> int:
        """Retry-After for a refused request."""
        if self.retry_after is not None:
            return self.retry_after
        room_at = self.admitted[0] + self.window if self.admitted else now
        return max(1, math.ceil((room_at - now).total_seconds()))


ENDPOINT_ID = re.compile(r"/[0-9A-Za-z]{22}(?=/|$)")


def endpoint_group(path: str) -> str:
    """The endpoint a path calls, ids left out: /v1/artists/{id}/albums."""
    return ENDPOINT_ID.sub("/{id}", path)


@dataclass
class Observed2026:
    """Spotify's answers as observed in 2026 (reference section 0.1); `on` by observe_2026()."""

    on: bool = False
    total_off_share: float = 0.0  # artist-albums answers whose `total` is off by one
    quota_retry_after: bool = True  # False: QUOTA_EXCEEDED comes without Retry-After
    short_follow_pages: bool = False  # follow pages hold fewer items than asked, with `next`
    albums_limit: int | None = None  # the most artist-albums accepts (None: the profile's)
    refusals: dict[str, tuple[str, bool]] = field(default_factory=dict)  # user -> (text, json)
    rng: random.Random = field(default_factory=lambda: random.Random(2026))

    def reported_total(self, total: int) -> int:
        """The total an artist-albums answer reports: off by one on a share of answers."""
        if total and self.total_off_share and self.rng.random() < self.total_off_share:
            return total + self.rng.choice((-1, 1))
        return total

    def follow_page_size(self, limit: int) -> int:
        """Items a follow page holds: fewer than asked when short pages are on."""
        return (
            max(1, limit - 1 - self.rng.randrange(limit // 2)) if self.short_follow_pages else limit
        )


@dataclass
class Knobs:
    fail_rules: list[FailRule] = field(default_factory=list)
    rate_limited: int = 0
    rate_retry_after: int = 1
    rate_window: RollingWindow | None = None
    quota: RollingWindow | None = None
    endpoint_cap: int | None = None  # calls to one endpoint a rolling day, then QUOTA_EXCEEDED
    endpoint_windows: dict[str, RollingWindow] = field(default_factory=dict)
    recorded: list[RecordedRequest] = field(default_factory=list)
    # (error, description, status) for the next client-credentials grants, and how many
    app_token_refusal: tuple[str, str | None, int] | None = None
    app_token_refusals_left: int = 0
    app_calls_forbidden: int = 0  # /v1 calls on the app's token answered 403 Forbidden

    def take_app_token_refusal(self) -> tuple[str, str | None, int] | None:
        """The refusal a client-credentials grant gets, while some are still queued."""
        if self.app_token_refusal is None or self.app_token_refusals_left <= 0:
            return None
        self.app_token_refusals_left -= 1
        return self.app_token_refusal

    def take_app_call_refusal(self) -> bool:
        """True when this /v1 call on the app's token is to be refused with 403."""
        if self.app_calls_forbidden <= 0:
            return False
        self.app_calls_forbidden -= 1
        return True

    def endpoint_admits(self, endpoint: str, now: datetime) -> bool:
        """Count a call to `endpoint` against its daily cap; False once the cap is reached."""
        if self.endpoint_cap is None:
            return True
        window = self.endpoint_windows.setdefault(
            endpoint, RollingWindow(self.endpoint_cap, timedelta(days=1))
        )
        return window.admit(now)

    def take_failure(self, path: str) -> FailRule | None:
        """The first rule matching `path` that still has uses left, spending one use."""
        for rule in self.fail_rules:
            if rule.pattern.search(path):
                rule.times -= 1
                if rule.times <= 0:
                    self.fail_rules.remove(rule)
                return rule
        return None

    def take_rate_limit(self) -> int | None:
        """Retry-After for a short-rate-limit 429, while some are still queued."""
        if self.rate_limited <= 0:
            return None
        self.rate_limited -= 1
        return self.rate_retry_after

    def count(self, pattern: str | None) -> int:
        """How many /v1 requests were answered, optionally only those whose path matches."""
        compiled = re.compile(pattern) if pattern is not None else None
        return sum(
            1
            for recorded in self.recorded
            if recorded.path.startswith("/v1/")
            and (compiled is None or compiled.search(recorded.path))
        )
