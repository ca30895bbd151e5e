"""Digests and feeds show a release through one definition: ReleaseView's fields, selected by
VIEW_COLUMNS and labelled once; each adds only what it needs of its own."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime

from release_notifier.digests.compose import Shown, release_row
from release_notifier.feeds.entries import FeedRelease
from release_notifier.releases.view import VIEW_COLUMNS, ReleaseView

RELEASE = {
    "release_id": "album-1",
    "name": "Record",
    "group": "single",
    "release_date": "2026-11",
    "release_date_precision": "month",
    "date_start": date(2026, 11, 1),
    "spotify_url": "https://open.spotify.com/album/album-1",
    "image_url": None,
    "artists": [{"id": "nova", "name": "Nova Reed"}, {"id": "ivo", "name": "Ivo Lark"}],
}


def test_digests_and_feeds_add_only_their_own_fields_to_one_release_view() -> None:
    shared = [field.name for field in fields(ReleaseView)]
    assert shared == list(RELEASE)
    assert len(VIEW_COLUMNS) == len(shared)
    assert [field.name for field in fields(Shown)] == [*shared, "digest_id", "via_artist_id"]
    own = ["dedupe_key", "first_seen_at", "added_at"]
    assert [field.name for field in fields(FeedRelease)] == [*shared, *own]


def test_a_release_is_labelled_alike_in_a_digest_and_a_feed() -> None:
    shown = Shown(**RELEASE, digest_id=7, via_artist_id="nova")
    moment = datetime(2026, 11, 20, 9, 0)
    entry = FeedRelease(**RELEASE, dedupe_key="record", first_seen_at=moment, added_at=moment)
    row = release_row(shown)
    assert row["type_label"] == entry.type_label == "Single/EP"
    assert row["date_label"] == entry.date_label
    assert row["artists_label"] == entry.artists_label == "Nova Reed, Ivo Lark"
