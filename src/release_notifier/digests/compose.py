"""What a digest holds: pending entries of the kinds the user wants, each release once.

Everything here works on a batch of users or digests at a time: a few queries per batch, never
one per user, so that sending many digests is bounded by SMTP, not by the database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from release_notifier.db.models import Artist, LedgerEntry, Release
from release_notifier.releases.view import VIEW_COLUMNS, ReleaseView


class Candidate(NamedTuple):
    """A pending ledger entry, with what choosing it needs from its release."""

    user_id: int
    release_id: str
    group: str
    dedupe_key: str


@dataclass(frozen=True)
class Shown(ReleaseView):
    """A claimed entry with what the email shows of its release."""

    digest_id: int
    via_artist_id: str


@dataclass
class Selection:
    """Entries a digest announces, and the ones it settles without showing (twins, unwanted)."""

    shown: list[Candidate] = field(default_factory=list)
    twins: list[Candidate] = field(default_factory=list)
    unwanted: list[Candidate] = field(default_factory=list)


def choose_entries(
    candidates: Iterable[Candidate], announced_keys: Collection[str], wanted: Collection[str]
) -> Selection:
    """Wanted groups only, one per dedupe key, none whose twin was announced in an earlier digest.

    `candidates` come newest first, so of two twins pending together the newer one is shown.
    """
    selection = Selection()
    seen = set(announced_keys)
    for candidate in candidates:
        if candidate.group not in wanted:
            selection.unwanted.append(candidate)
        elif candidate.dedupe_key in seen:
            selection.twins.append(candidate)
        else:
            seen.add(candidate.dedupe_key)
            selection.shown.append(candidate)
    return selection


def pending_candidates(session: Session, user_ids: Sequence[int]) -> dict[int, list[Candidate]]:
    """Each user's pending entries, newest release first."""
    rows = session.execute(
        select(LedgerEntry.user_id, LedgerEntry.release_id, LedgerEntry.group, Release.dedupe_key)
        .join(Release, Release.id == LedgerEntry.release_id)
        .where(LedgerEntry.user_id.in_(user_ids), LedgerEntry.status == "pending")
        .order_by(LedgerEntry.user_id, Release.date_start.desc(), Release.id)
    )
    by_user: dict[int, list[Candidate]] = defaultdict(list)
    for row in rows:
        by_user[row.user_id].append(Candidate._make(row))
    return by_user


def announced_twin_keys(session: Session, user_ids: Sequence[int]) -> dict[int, set[str]]:
    """Per user, the dedupe keys of pending releases that already went out under another id.

    Only keys shared with a pending entry are read, so the cost does not grow with a user's
    history of announced releases.
    """
    pending, pending_release = aliased(LedgerEntry), aliased(Release)
    announced, announced_release = aliased(LedgerEntry), aliased(Release)
    rows = session.execute(
        select(pending.user_id, pending_release.dedupe_key)
        .distinct()
        .join(pending_release, pending_release.id == pending.release_id)
        .join(announced_release, announced_release.dedupe_key == pending_release.dedupe_key)
        .join(
            announced,
            and_(
                announced.user_id == pending.user_id,
                announced.release_id == announced_release.id,
                announced.status == "announced",
            ),
        )
        .where(pending.user_id.in_(user_ids), pending.status == "pending")
    )
    keys: dict[int, set[str]] = defaultdict(set)
    for user_id, key in rows:
        keys[user_id].add(key)
    return keys


def claimed_releases(session: Session, digest_ids: Sequence[int]) -> dict[int, list[Shown]]:
    """The releases each claimed digest carries (chosen when it was claimed), newest first."""
    rows = session.execute(
        select(*VIEW_COLUMNS, LedgerEntry.digest_id, LedgerEntry.via_artist_id)
        .join(Release, Release.id == LedgerEntry.release_id)
        .where(LedgerEntry.digest_id.in_(digest_ids), LedgerEntry.status == "claimed")
        .order_by(LedgerEntry.digest_id, Release.date_start.desc(), Release.id)
    )
    by_digest: dict[int, list[Shown]] = defaultdict(list)
    for row in rows:
        by_digest[row.digest_id].append(Shown.from_row(row))
    return by_digest


def artist_names(session: Session, artist_ids: Iterable[str]) -> dict[str, str]:
    """Names of the artists releases came through, by id."""
    wanted = sorted(set(artist_ids))
    if not wanted:
        return {}
    rows = session.execute(select(Artist.id, Artist.name).where(Artist.id.in_(wanted)))
    return {artist_id: name for artist_id, name in rows}


def release_row(entry: ReleaseView) -> dict[str, Any]:
    """What the email shows of one release (values preformatted for the templates)."""
    return {
        "name": entry.name,
        "type_label": entry.type_label,
        "date_label": entry.date_label,
        "spotify_url": entry.spotify_url,
        "image_url": entry.image_url,
        "artists_label": entry.artists_label,
    }


def digest_context(shown: Sequence[Shown], names: dict[str, str], today: date) -> dict[str, Any]:
    """The template context: releases out by today grouped by the artist they came through
    (newest first), then the upcoming ones in date order, each counted apart."""
    by_artist: dict[str, list[dict[str, Any]]] = defaultdict(list)
    upcoming = []
    for entry in shown:
        row = release_row(entry)
        if entry.date_start is not None and entry.date_start > today:
            upcoming.append((entry.date_start, row))
        else:
            by_artist[entry.via_artist_id].append(row)
    artists = [
        {
            "name": names.get(artist_id, ""),
            "spotify_url": f"https://open.spotify.com/artist/{artist_id}",
            "releases": releases,
        }
        for artist_id, releases in by_artist.items()
    ]
    artists.sort(key=lambda a: str(a["name"]).casefold())
    upcoming.sort(key=lambda pair: pair[0])
    return {
        "artists": artists,
        "upcoming": [row for _, row in upcoming],
        "release_count": sum(len(a["releases"]) for a in artists),
        "upcoming_count": len(upcoming),
    }
