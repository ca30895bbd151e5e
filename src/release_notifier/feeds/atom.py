"""The Atom feed: one entry per release, newest first, linked to Spotify, with its cover."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import Any

from feedgenerator import Atom1Feed, Enclosure
from markupsafe import Markup

from release_notifier.feeds.entries import FeedRelease


def aware(moment: datetime) -> datetime:
    """Our naive UTC datetimes as the aware ones feed formats need."""
    return moment.replace(tzinfo=UTC)


def entry_html(release: FeedRelease) -> str:
    """The entry's body: the cover, what it is and when, and a link to listen."""
    cover = (
        Markup('<p><img src="{}" alt="Cover of {}" width="300" height="300"></p>').format(
            release.image_url, release.name
        )
        if release.image_url
        else Markup("")
    )
    facts = Markup("<p>{} by {} · {}</p>").format(
        release.type_label,
        release.artists_label,
        release.date_label,
    )
    listen = Markup('<p><a href="{}">Listen on Spotify</a></p>').format(release.spotify_url)
    return str(cover + facts + listen)


class AtomFeed(Atom1Feed):
    """Atom with a fixed `<updated>`: the library's default for an empty feed is "now", which
    would change the ETag on every poll."""

    def __init__(self, *args: Any, updated: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.updated = updated

    def latest_post_date(self) -> datetime:
        return self.updated


def add_entry(feed: AtomFeed, release: FeedRelease) -> None:
    feed.add_item(
        title=release.title,
        link=release.spotify_url,
        description=f"{release.type_label} · {release.date_label}",
        content=entry_html(release),
        author_name=release.artists_label or "Unknown artist",
        unique_id=f"spotify:album:{release.release_id}",
        pubdate=(
            aware(datetime.combine(release.date_start, time()))
            if release.date_start is not None
            else None
        ),
        updateddate=aware(release.first_seen_at),
        enclosures=(
            [Enclosure(release.image_url, "0", "image/jpeg")] if release.image_url else None
        ),
    )


def atom_feed(
    releases: Sequence[FeedRelease],
    *,
    title: str,
    feed_url: str,
    home_url: str,
    updated: datetime,
) -> bytes:
    """The Atom document for `releases` (already newest first)."""
    feed = AtomFeed(
        title=title,
        link=home_url,
        description="New releases from the artists you follow on Spotify",
        subtitle="New releases from the artists you follow on Spotify",
        feed_url=feed_url,
        feed_guid=feed_url,
        language="en",
        updated=aware(updated),
    )
    for release in releases:
        add_entry(feed, release)
    return feed.writeString("utf-8").encode()
