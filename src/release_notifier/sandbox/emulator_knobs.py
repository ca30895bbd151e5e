"""Test knobs of the emulator: injected failures, the short rate limit, the daily quota, and the
log of every request it answered.

Callers hold the emulator's lock.
"""

from __future__ import annotations

import math
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


@dataclass
class Knobs:
    fail_rules: list[FailRule] = field(default_factory=list)
    rate_limited: int = 0
    rate_retry_after: int = 1
    rate_window: RollingWindow | None = None
    quota: RollingWindow | None = None
    recorded: list[RecordedRequest] = field(default_factory=list)

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
