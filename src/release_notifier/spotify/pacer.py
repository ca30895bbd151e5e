"""The short-window limiter shared by every thread of a run: additive increase, multiplicative
decrease (AIMD) of the request rate.

Spotify publishes no rate; until it says 429 requests go as fast as the pool sends them. A 429
holds every thread until its Retry-After has passed and halves the pace (the interval between
request starts doubles, from at least twice the recent spacing, between MIN_INTERVAL and
MAX_INTERVAL). A burst of 429s seen by several threads at once counts once: a 429 to a request
sent before the last slow-down answers the pace already corrected. Each success adds
RATE_STEP requests a second back, until the pace is free again.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

Sleep = Callable[[float], None]


class Pacer:
    """Spaces request starts; `wait_turn()` before each request, then `succeeded()` or
    `rate_limited()` with the start it returned."""

    MIN_INTERVAL = 0.025  # the fastest pace after a 429: 40 requests a second
    MAX_INTERVAL = 4.0  # the slowest: one request every 4 s
    RATE_STEP = 3.0  # requests a second added back by each success
    FREE_INTERVAL = 0.005  # paced faster than 200 a second: not paced at all
    SPACING_SAMPLE = 8  # recent starts that measure the pace that drew a 429
    RATE_WINDOW = 30.0  # recent_pace() counts starts this far back (Spotify's window)

    def __init__(self, sleep: Sleep = time.sleep, monotonic: Callable[[], float] = time.monotonic):
        self.sleep = sleep
        self.monotonic = monotonic
        self.interval = 0.0
        self.slowdowns = 0  # 429 bursts that slowed the pace (for summaries and tests)
        self._next_at = 0.0
        self._hold_until = 0.0
        self._slowed_at = float("-inf")
        self._started: deque[float] = deque()
        self._lock = threading.Lock()

    def wait_turn(self) -> float:
        """Wait for this request's slot; returns its start (pass it back after the answer).
        A 429 that arrives while waiting moves the slot behind its Retry-After."""
        with self._lock:
            start = self._reserve()
        while True:
            delay = start - self.monotonic()
            if delay > 0:
                self.sleep(delay)
            with self._lock:
                if self._hold_until <= start:
                    return start
                start = self._reserve()

    def _reserve(self) -> float:
        """The next free slot, taken (caller holds the lock)."""
        start = max(self.monotonic(), self._next_at, self._hold_until)
        self._next_at = start + self.interval
        self._started.append(start)
        while self._started and self._started[0] < start - self.RATE_WINDOW:
            self._started.popleft()
        return start

    def recent_pace(self) -> int:
        """Requests started in the last RATE_WINDOW seconds."""
        with self._lock:
            return len(self._started)

    def succeeded(self) -> None:
        """Additive increase: each answered request adds RATE_STEP requests a second."""
        with self._lock:
            if self.interval <= 0:
                return
            faster = 1 / (1 / self.interval + self.RATE_STEP)
            self.interval = 0.0 if faster < self.FREE_INTERVAL else faster

    def rate_limited(self, sent_at: float, retry_after: float) -> bool:
        """A short 429 to the request started at `sent_at`: every thread waits `retry_after`;
        the pace halves unless the request went out before the last slow-down (the same burst).
        True when this 429 slowed the pace."""
        with self._lock:
            now = self.monotonic()
            self._hold_until = max(self._hold_until, now + retry_after)
            if sent_at < self._slowed_at:
                return False
            spacing = self._recent_spacing()
            self.interval = min(
                max(self.interval * 2, spacing * 2, self.MIN_INTERVAL), self.MAX_INTERVAL
            )
            self._slowed_at = now
            self.slowdowns += 1
            return True

    def _recent_spacing(self) -> float:
        """Mean time between the last SPACING_SAMPLE starts (caller holds the lock)."""
        sample = list(self._started)[-self.SPACING_SAMPLE :]
        if len(sample) < 2:
            return 0.0
        return (sample[-1] - sample[0]) / (len(sample) - 1)
