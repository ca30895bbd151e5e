"""The iCalendar feed: one all-day event per release day, upcoming days included.

Only releases dated to the day are placed: a release known only by month or year has no day to
put it on, and a calendar entry on the 1st would be a guess.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, timedelta

from icalendar import Calendar, Event

from release_notifier.feeds.entries import FeedRelease

PRODID = "-//Release Notifier//Release feeds//EN"


def releases_by_day(releases: Sequence[FeedRelease]) -> dict[date, list[FeedRelease]]:
    """Day-precise releases grouped by their day, in the order given."""
    days: dict[date, list[FeedRelease]] = defaultdict(list)
    for release in releases:
        if release.date_start is not None and release.release_date_precision == "day":
            days[release.date_start].append(release)
    return days


def day_summary(releases: Sequence[FeedRelease]) -> str:
    """The title of the one release, or "3 releases: " and their titles."""
    if len(releases) == 1:
        return releases[0].title
    return f"{len(releases)} releases: " + ", ".join(r.title for r in releases)


def day_event(day: date, releases: Sequence[FeedRelease], uid_prefix: str, host: str) -> Event:
    event = Event()
    event.add("uid", f"{uid_prefix}-{day:%Y%m%d}@{host}")
    newest = max(r.first_seen_at for r in releases)
    event.add("dtstamp", newest.replace(tzinfo=UTC))
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", day_summary(releases))
    event.add("description", "\n".join(f"{r.title}: {r.spotify_url}" for r in releases))
    event.add("url", releases[0].spotify_url)
    event.add("transp", "TRANSPARENT")  # a release day does not make anyone busy
    return event


def ical_feed(releases: Sequence[FeedRelease], *, name: str, feed_token: str, host: str) -> bytes:
    """The iCalendar document: one all-day event per day a release came or comes out.

    Event UIDs are stable across polls (the day and a hash of the feed token), so a calendar
    updates an event in place when another release lands on the same day."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    uid_prefix = hashlib.sha256(feed_token.encode()).hexdigest()[:16]
    for day, on_day in sorted(releases_by_day(releases).items(), reverse=True):
        calendar.add_component(day_event(day, on_day, uid_prefix, host))
    document: bytes = calendar.to_ical()
    return document
