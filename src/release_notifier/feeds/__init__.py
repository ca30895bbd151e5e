"""Per-subscriber feeds at secret URLs: Atom for feed readers, iCalendar for calendars.

A feed shows the releases a subscriber's ledger holds (announced or still waiting for the next
digest), of the kinds they chose, each release once. The URL carries a random feed token and
nothing else: never the address, never the user id. Rotating the token kills the old URL.
"""

from __future__ import annotations

from release_notifier.feeds.atom import atom_feed
from release_notifier.feeds.entries import FeedRelease, feed_releases
from release_notifier.feeds.ical import ical_feed
from release_notifier.feeds.tokens import (
    ensure_feed_token,
    feed_urls,
    rotate_feed_token,
    user_for_feed,
)

__all__ = [
    "FeedRelease",
    "atom_feed",
    "ensure_feed_token",
    "feed_releases",
    "feed_urls",
    "ical_feed",
    "rotate_feed_token",
    "user_for_feed",
]
