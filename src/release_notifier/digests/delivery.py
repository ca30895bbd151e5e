"""Claim, send, mark: a digest is claimed in the database before it is sent and marked sent only
after its channel (email: the SMTP server) accepts it. A crash leaves it claimed and the next run
sends it again with the same Message-ID, so nothing is lost; a double is possible only if the
process dies between the server's acceptance and the commit.

Claiming and loading work on batches of users (one transaction per batch); marking a digest sent
is its own small transaction, so a crash can double at most the digests in flight (one per SMTP
connection, SMTP_CONNECTIONS).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.utils import make_msgid
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Executable, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from release_notifier.channels import Channel, Delivery, Failure, Outgoing, Subscriber
from release_notifier.claims import takeover_rule
from release_notifier.db import Database
from release_notifier.db.models import (
    Artist,
    Digest,
    LedgerEntry,
    User,
    table_of,
    wanted_types,
)
from release_notifier.digests.compose import (
    Candidate,
    Selection,
    announced_twin_keys,
    artist_names,
    choose_entries,
    claimed_releases,
    digest_context,
    pending_candidates,
)
from release_notifier.logs import mask_email
from release_notifier.mail.render import msgid_domain
from release_notifier.notices import footer_links
from release_notifier.releases.dates import date_label
from release_notifier.releases.subscriptions import subscribed_artists
from release_notifier.settings import Settings
from release_notifier.subscribers import (
    digest_interval,
    email_accepted,
    getting_notifications,
    next_send_date,
)

logger = logging.getLogger(__name__)

CLAIM = timedelta(minutes=10)
BATCH = 200  # users claimed, and digests loaded, per transaction


class ClaimedDigest(NamedTuple):
    """A claimed digest ready for a channel: its row and the message it becomes."""

    digest_id: int
    outgoing: Outgoing


def first_digest_ready(checks_done: bool) -> ColumnElement[bool]:
    """A first digest waits until the follow list was read since the user confirmed (an
    email-only subscriber has none to read) and, when this run's artist checks did not get to
    run (`checks_done` False: a quota ban or pause), until every artist they get was checked
    since; later digests never wait. So a run that could not read Spotify for them (a quota
    pause, a confirmation a moment after the run read its users) leaves the first digest due,
    not pushed an interval back."""
    synced = or_(User.spotify_account_id.is_(None), User.follows_synced_at >= User.confirmed_at)
    if checks_done:
        return or_(User.last_digest_at.is_not(None), synced)
    pairs = subscribed_artists().subquery()
    unchecked = (
        select(pairs.c.artist_id)
        .join(Artist, Artist.id == pairs.c.artist_id)
        .where(
            pairs.c.user_id == User.id,
            or_(Artist.checked_at.is_(None), Artist.checked_at < User.confirmed_at),
        )
        .exists()
    )
    return or_(User.last_digest_at.is_not(None), and_(synced, ~unchecked))


def digest_due(now: datetime, checks_done: bool = True) -> list[ColumnElement[bool]]:
    """A subscriber who gets notifications, by email, whose digest date has come (a first
    digest: once it is ready)."""
    return [
        getting_notifications(),
        email_accepted(),
        User.next_digest_at.is_not(None),
        User.next_digest_at <= now,
        first_digest_ready(checks_done),
    ]


def due_user_ids(database: Database, now: datetime, checks_done: bool = True) -> list[int]:
    """The users whose digest is due, the longest waiting first."""
    due = digest_due(now, checks_done)
    with database.session() as session:
        return list(
            session.scalars(select(User.id).where(*due).order_by(User.next_digest_at, User.id))
        )


def claim_digests(
    database: Database,
    settings: Settings,
    user_ids: Sequence[int],
    now: datetime,
    claimant: str | None = None,
    *,
    checks_done: bool = True,
) -> list[int]:
    """Move each user's next digest date forward and claim their pending releases, in one commit.

    The date moves by a conditional update (still due, still subscribed?), so of two runs only
    one gets a user's digest, and one who unsubscribed or paused since the run began gets none.
    Returns the ids of the digests claimed; users with nothing to send get none.
    """
    with database.session() as session:
        moved = _move_next_digest(session, settings, user_ids, now, checks_done)
        if not moved:
            return []
        ids = list(moved)
        candidates = pending_candidates(session, ids)
        twin_keys = announced_twin_keys(session, ids)
        selections = {
            user.id: choose_entries(
                candidates.get(user.id, ()),
                twin_keys.get(user.id, ()),
                wanted_types(user.release_types),
            )
            for user in moved.values()
        }
        digest_ids = _insert_digests(session, settings, moved, selections, now, claimant)
        _settle_selections(session, selections, digest_ids)
        return sorted(digest_ids.values())


def _move_next_digest(
    session: Session,
    settings: Settings,
    user_ids: Sequence[int],
    now: datetime,
    checks_done: bool,
) -> dict[int, Any]:
    """The users (id, release_types, last_digest_at) whose due date this call moved forward."""
    due = digest_due(now, checks_done)
    rows = session.execute(
        select(User.id, User.digest_interval_days, User.release_types, User.last_digest_at).where(
            User.id.in_(user_ids), *due
        )
    ).all()
    by_interval: dict[float, list[int]] = defaultdict(list)
    for row in rows:
        by_interval[digest_interval(settings, row.digest_interval_days)].append(row.id)
    moved: set[int] = set()
    for days, ids in by_interval.items():
        moved.update(
            session.scalars(
                update(User)
                .where(User.id.in_(ids), *due)
                .values(next_digest_at=next_send_date(now, since=now, interval_days=days))
                .returning(User.id)
                .execution_options(synchronize_session=False)
            )
        )
    return {row.id: row for row in rows if row.id in moved}


def _insert_digests(
    session: Session,
    settings: Settings,
    users: dict[int, Any],
    selections: dict[int, Selection],
    now: datetime,
    claimant: str | None,
) -> dict[int, int]:
    """A claimed digest for every user with something to show, and every first digest (empty
    or not): user id -> digest id."""
    domain = msgid_domain(settings.sender)
    rows = [
        {
            "user_id": user_id,
            "kind": "initial" if users[user_id].last_digest_at is None else "regular",
            "status": "claimed",
            "message_id": make_msgid(domain=domain),
            "created_at": now,
            "claimed_until": now + CLAIM,
            "claimed_by": claimant,
            "claimed_at": now,
            "attempts": 0,
        }
        for user_id, selection in selections.items()
        if selection.shown or users[user_id].last_digest_at is None
    ]
    if not rows:
        return {}
    inserted = session.execute(insert(Digest).returning(Digest.id, Digest.user_id), rows)
    return {user_id: digest_id for digest_id, user_id in inserted}


def _settle_selections(
    session: Session, selections: dict[int, Selection], digest_ids: dict[int, int]
) -> None:
    """Shown entries become claimed, twins duplicates (of this digest), unwanted ones filtered."""
    changes: list[tuple[Candidate, str, int | None]] = []
    for user_id, selection in selections.items():
        digest_id = digest_ids.get(user_id)
        changes += [(entry, "filtered", None) for entry in selection.unwanted]
        changes += [(entry, "duplicate", digest_id) for entry in selection.twins]
        changes += [(entry, "claimed", digest_id) for entry in selection.shown]
    if changes:
        session.execute(  # an ORM bulk update by primary key: one executemany
            update(LedgerEntry),
            [
                {
                    "user_id": entry.user_id,
                    "release_id": entry.release_id,
                    "status": status,
                    "digest_id": digest_id,
                }
                for entry, status, digest_id in changes
            ],
        )


def claimed_digest_ids(
    database: Database,
    claimant: str | None,
    now: datetime,
    is_gone: Callable[[str], bool] = lambda _claimant: False,
) -> list[int]:
    """Digests left claimed that `claimant` may send: its own, and those of another run whose
    claim expired before `now` or whose process is gone (`is_gone`: it crashed or was killed).
    A digest another live run claimed is never sent twice while that claim lasts."""
    with database.session() as session:
        rows = session.execute(
            select(Digest.id, Digest.claimed_by, Digest.claimed_until)
            .where(Digest.status == "claimed")
            .order_by(Digest.id)
        ).all()
    may_send = takeover_rule(claimant, now, is_gone)

    return [digest_id for digest_id, by, until in rows if may_send(by, until)]


def prepare_digests(
    database: Database,
    settings: Settings,
    digest_ids: Sequence[int],
    now: datetime,
    claimant: str | None = None,
) -> list[ClaimedDigest]:
    """Load claimed digests for sending, count the attempt and take over their claim; void those
    whose recipient unsubscribed or was refused since the claim (their releases go back to
    pending)."""
    with database.session() as session:
        rows = session.execute(
            select(
                Digest.id,
                Digest.kind,
                Digest.message_id,
                Digest.user_id,
                User.email,
                User.link_version,
                User.last_digest_at,
                User.unsubscribed_at,
                User.mail_rejected_at,
                User.next_digest_at,
                User.spotify_account_id,
            )
            .join(User, User.id == Digest.user_id, isouter=True)
            .where(Digest.id.in_(digest_ids), Digest.status == "claimed")
            .order_by(Digest.id)
        ).all()
        live = []
        for row in rows:
            if row.email is None or row.unsubscribed_at or row.mail_rejected_at:
                _release_claim(session, row.id, "recipient no longer subscribed")
            else:
                live.append(row)
        if not live:
            return []
        live_ids = [row.id for row in live]
        session.execute(
            update(Digest)
            .where(Digest.id.in_(live_ids))
            .values(
                attempts=Digest.attempts + 1,
                claimed_by=claimant,
                claimed_at=now,
                claimed_until=now + CLAIM,
            )
            .execution_options(synchronize_session=False)
        )
        releases = claimed_releases(session, live_ids)
        names = artist_names(
            session, (entry.via_artist_id for shown in releases.values() for entry in shown)
        )
        empty_first = [row for row in live if row.kind == "initial" and row.id not in releases]
        followed = followed_counts(session, [row.user_id for row in empty_first])
    today = now.date()
    outgoing = []
    for row in live:
        context = {
            **digest_context(releases.get(row.id, []), names, today),
            **footer_links(settings, row.user_id, row.link_version),
            "kind": row.kind,
            "lookback_days": settings.initial_lookback_days,
            "period_start": period_start_label(row.last_digest_at, settings, now),
        }
        if row in empty_first:
            context |= empty_first_context(
                followed.get(row.user_id, 0),
                row.next_digest_at,
                now,
                email_only=row.spotify_account_id is None,
            )
        shown = releases.get(row.id, [])
        message = Outgoing(
            Subscriber(row.user_id, row.email),
            "digest",
            key=row.message_id,
            releases=tuple(entry.release_id for entry in shown),
            context=context,
        )
        outgoing.append(ClaimedDigest(row.id, message))
    return outgoing


def period_start_label(last_digest_at: datetime | None, settings: Settings, now: datetime) -> str:
    """Where the period a digest covers begins: the last digest, else the lookback's start."""
    start = last_digest_at or now - timedelta(days=settings.initial_lookback_days)
    return date_label(start.date().isoformat())


def followed_counts(session: Session, user_ids: Sequence[int]) -> dict[int, int]:
    """How many artists each user gets releases from (followed and not muted, or added)."""
    if not user_ids:
        return {}
    pairs = subscribed_artists(user_ids=user_ids).subquery()
    rows = session.execute(select(pairs.c.user_id, func.count()).group_by(pairs.c.user_id))
    return {user_id: int(count) for user_id, count in rows}


def empty_first_context(
    followed: int, next_digest_at: datetime | None, now: datetime, *, email_only: bool = False
) -> dict[str, Any]:
    """What an empty first digest says: the artists found (or chosen, for an email-only
    subscriber) and when the next digest comes."""
    upcoming = next_digest_at if next_digest_at is not None and next_digest_at > now else now
    return {
        "email_only": email_only,
        "followed_artists": followed,
        "next_digest_label": date_label(upcoming.date().isoformat(), "day"),
    }


def deliver_digest(
    database: Database, channel: Channel, digest: ClaimedDigest, now: datetime
) -> Delivery:
    """Hand a prepared digest to its channel and settle it: announced once the channel accepted
    it, pending again when it did not. Safe to run in several threads at once."""
    delivery = channel.deliver(digest.outgoing)
    if not delivery.sent:
        _settle_failure(database, digest, delivery, now)
        return delivery
    user_id = digest.outgoing.subscriber.user_id
    with database.engine.begin() as connection:
        for statement in settle_sent_statements():
            connection.execute(statement, {"digest": digest.digest_id, "user": user_id, "now": now})
    logger.info(
        "digest %s sent to %s", digest.digest_id, mask_email(digest.outgoing.subscriber.email)
    )
    return delivery


@lru_cache(maxsize=1)
def settle_sent_statements() -> tuple[Executable, ...]:
    """Mark a digest sent, its entries announced and its user's last digest date, as plain SQL
    built once (this runs for every digest, so it skips the ORM)."""
    digests, ledger, users = (table_of(model) for model in (Digest, LedgerEntry, User))
    return (
        update(digests)
        .where(digests.c.id == bindparam("digest"))
        .values(status="sent", sent_at=bindparam("now"), claimed_until=None),
        update(ledger)
        .where(ledger.c.digest_id == bindparam("digest"), ledger.c.status == "claimed")
        .values(status="announced"),
        update(users)
        .where(users.c.id == bindparam("user"))
        .values(last_digest_at=bindparam("now")),
    )


def _release_claim(session: Session, digest_id: int, reason: str) -> None:
    """Give the digest's releases back to the ledger as pending; the digest is void."""
    session.execute(
        update(LedgerEntry)
        .where(LedgerEntry.digest_id == digest_id, LedgerEntry.status == "claimed")
        .values(status="pending", digest_id=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Digest)
        .where(Digest.id == digest_id)
        .values(status="failed", last_error=reason[:500], claimed_until=None)
        .execution_options(synchronize_session=False)
    )


def _settle_failure(
    database: Database, digest: ClaimedDigest, delivery: Delivery, now: datetime
) -> None:
    """Temporary: due again next run. Channel dead (address refused): marked and no longer
    mailed. Message refused (spam, policy): its releases wait for the user's next digest date,
    set at the claim."""
    with database.session() as session:
        _release_claim(session, digest.digest_id, delivery.reason)
        if delivery.failure is Failure.REFUSED:
            return
        if delivery.failure is Failure.PERMANENT:
            values: dict[str, Any] = {
                "mail_rejected_at": now,
                "mail_rejected_reason": delivery.reason[:300],
            }
        else:
            values = {"next_digest_at": next_send_date(now)}
        session.execute(
            update(User)
            .where(User.id == digest.outgoing.subscriber.user_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
