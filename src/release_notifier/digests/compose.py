"""What a digest holds: pending entries of the kinds the user wants, each release once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from release_notifier.db.models import Artist, LedgerEntry, Release, User
from release_notifier.releases.dates import date_label

TYPE_LABELS = {
    "album": "Album",
    "single": "Single/EP",
    "compilation": "Compilation",
    "appears_on": "Appears on",
}


@dataclass
class Selection:
    """Entries a digest announces, and the ones it settles without showing (twins, unwanted)."""

    shown: list[tuple[LedgerEntry, Release]] = field(default_factory=list)
    twins: list[LedgerEntry] = field(default_factory=list)
    unwanted: list[LedgerEntry] = field(default_factory=list)


def select_entries(session: Session, user: User, statuses: tuple[str, ...]) -> Selection:
    """Pick the entries to announce: wanted groups only, one per dedupe key, none already sent.

    A release whose twin (same normalized title, artists, date and track count) was announced in
    an earlier digest is settled as a duplicate, never shown again.
    """
    announced_keys = set(
        session.scalars(
            select(Release.dedupe_key)
            .join(LedgerEntry, LedgerEntry.release_id == Release.id)
            .where(LedgerEntry.user_id == user.id, LedgerEntry.status == "announced")
        )
    )
    rows = session.execute(
        select(LedgerEntry, Release)
        .join(Release, Release.id == LedgerEntry.release_id)
        .where(LedgerEntry.user_id == user.id, LedgerEntry.status.in_(statuses))
        .order_by(Release.date_start.desc(), Release.id)
    ).all()
    selection = Selection()
    seen = set(announced_keys)
    wanted = user.wanted_types
    for entry, release in rows:
        if entry.group not in wanted:
            selection.unwanted.append(entry)
        elif release.dedupe_key in seen:
            selection.twins.append(entry)
        else:
            seen.add(release.dedupe_key)
            selection.shown.append((entry, release))
    return selection


def claimed_entries(session: Session, digest_id: int) -> list[tuple[LedgerEntry, Release]]:
    """The releases a claimed digest carries (chosen when it was claimed), newest first."""
    rows = session.execute(
        select(LedgerEntry, Release)
        .join(Release, Release.id == LedgerEntry.release_id)
        .where(LedgerEntry.digest_id == digest_id, LedgerEntry.status == "claimed")
        .order_by(Release.date_start.desc(), Release.id)
    )
    return [(entry, release) for entry, release in rows]


def digest_context(
    session: Session, shown: list[tuple[LedgerEntry, Release]], today: date
) -> dict[str, Any]:
    """The template context: releases grouped by the artist they came through, newest first."""
    by_artist: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry, release in shown:
        upcoming = release.date_start > today
        by_artist[entry.via_artist_id].append(
            {
                "name": release.name,
                "type_label": TYPE_LABELS.get(entry.group, entry.group.title()),
                "date_label": date_label(release.release_date, release.release_date_precision),
                "spotify_url": release.spotify_url,
                "image_url": release.image_url,
                "artists_label": ", ".join(a["name"] for a in release.artists),
                "upcoming": upcoming,
                "out_on_label": date_label(release.release_date, release.release_date_precision)
                if upcoming
                else None,
            }
        )
    rows = session.execute(select(Artist.id, Artist.name).where(Artist.id.in_(list(by_artist))))
    names = {artist_id: name for artist_id, name in rows}
    artists = []
    for artist_id, releases in by_artist.items():
        artists.append(
            {
                "name": names.get(artist_id, ""),
                "spotify_url": f"https://open.spotify.com/artist/{artist_id}",
                "releases": releases,
            }
        )
    artists.sort(key=lambda a: str(a["name"]).casefold())
    return {"artists": artists, "release_count": len(shown)}
