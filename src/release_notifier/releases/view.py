"""One release as a subscriber is shown it, in a digest or in a feed: the fields both read from
the release and the subscriber's ledger entry, selected by the same columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Self

from release_notifier.db.models import LedgerEntry, Release
from release_notifier.releases.dates import date_label

TYPE_LABELS = {
    "album": "Album",
    "single": "Single/EP",
    "compilation": "Compilation",
    "appears_on": "Appears on",
}


@dataclass(frozen=True)
class ReleaseView:
    """A release in a subscriber's ledger, as emails and feeds show it."""

    release_id: str
    name: str
    group: str  # the ledger entry's group: how the release reached this subscriber
    release_date: str
    release_date_precision: str
    date_start: date | None  # None: a date no calendar holds ("0000")
    spotify_url: str
    image_url: str | None
    artists: list[dict[str, str]]

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Self:
        """From a row that selected VIEW_COLUMNS, then the subclass's own fields, in order."""
        return cls(*row)

    @property
    def artists_label(self) -> str:
        return ", ".join(a["name"] for a in self.artists)

    @property
    def type_label(self) -> str:
        return TYPE_LABELS.get(self.group, self.group.title())

    @property
    def date_label(self) -> str:
        return date_label(self.release_date, self.release_date_precision)


# The columns of a ReleaseView, in its order: select them first, then a subclass's own fields.
VIEW_COLUMNS = (
    Release.id,
    Release.name,
    LedgerEntry.group,
    Release.release_date,
    Release.release_date_precision,
    Release.date_start,
    Release.spotify_url,
    Release.image_url,
    Release.artists,
)
