"""Push deliveries: each release reaches each of a subscriber's push channels once, tracked per
(channel, release) in `channel_deliveries`, with the guarantees digests have.

Claim, send, mark: the releases of one push (a `batch`) are inserted as claimed and committed,
then handed to the channel, and marked sent once the service accepted them. A crash leaves them
claimed; a later run takes the batch over (once its claim lapsed or its run is gone) and sends
the same releases again, so nothing is lost, and a release comes twice only when the process
died between the service's acceptance and the commit.

What a channel gets:
- "instant" (as soon as found): the subscriber's new ledger entries of the kinds they want,
  recorded after the channel was added, on the run that finds them;
- "digest" (with my digest): the releases a digest announced, once that digest was sent (the
  same run), for digests sent after the channel was added.
One release per dedupe key: a twin of a release the channel already had is settled as a
duplicate, never pushed.

Failures (see channels/apprise.py for how Apprise's answers are classified): temporary -> the
claim is let go and a later run sends the batch again; refused -> this batch is settled as
refused; permanent, or temporary failures for longer than GIVE_UP -> the channel is switched
off, its claims are dropped and the subscriber is told by email (notice `channel_off`).
"""

from __future__ import annotations

import itertools
import logging
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from release_notifier.channels import Delivery, Failure, Outgoing, Subscriber
from release_notifier.channels.apprise import AppriseChannel
from release_notifier.claims import takeover_rule
from release_notifier.clock import utcnow
from release_notifier.crypto import TokenDecryptError, decrypt_token
from release_notifier.db import Database
from release_notifier.db.models import (
    ChannelDelivery,
    Digest,
    LedgerEntry,
    PushChannel,
    Release,
    User,
    wanted_types,
)
from release_notifier.db.upsert import insert_all_missing
from release_notifier.digests.compose import release_row
from release_notifier.notices import footer_links, queue_notice
from release_notifier.releases.view import VIEW_COLUMNS, ReleaseView
from release_notifier.settings import Settings
from release_notifier.subscribers import getting_notifications

logger = logging.getLogger(__name__)

CLAIM = timedelta(minutes=10)
GIVE_UP = timedelta(days=7)  # temporary failures this long switch a channel off
MAX_RELEASES = 10  # per push; more go in further pushes of the same run
CHANNEL_PAGE = 200
CONCURRENCY = 4  # channels pushed to at once
ANNOUNCED_OR_NEW = ("pending", "claimed", "announced")


@dataclass
class PushSummary:
    """What the push step of a run did."""

    sent: int = 0  # pushes the services accepted
    releases: int = 0  # releases those pushes carried
    switched_off: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, other: PushSummary) -> None:
        self.sent += other.sent
        self.releases += other.releases
        self.switched_off += other.switched_off
        self.problems += other.problems


class Target(NamedTuple):
    """A push channel that may receive now, with what choosing its releases needs."""

    channel_id: int
    user_id: int
    email: str
    cadence: str
    created_at: datetime
    release_types: str
    link_version: int
    url_enc: bytes


class Candidate(NamedTuple):
    release_id: str
    dedupe_key: str


def receiving() -> list[Any]:
    """A channel that may receive: switched on, and its subscriber one who gets notifications
    (the one definition, `subscribers.getting_notifications`)."""
    return [PushChannel.disabled_at.is_(None), getting_notifications()]


def target_pages(database: Database, size: int = CHANNEL_PAGE) -> Iterator[list[Target]]:
    """Channels that may receive, `size` at a time by id."""
    last = 0
    while True:
        with database.session() as session:
            page = [
                Target._make(row)
                for row in session.execute(
                    select(
                        PushChannel.id,
                        PushChannel.user_id,
                        User.email,
                        PushChannel.cadence,
                        PushChannel.created_at,
                        User.release_types,
                        User.link_version,
                        PushChannel.url_enc,
                    )
                    .join(User, User.id == PushChannel.user_id)
                    .where(*receiving(), PushChannel.id > last)
                    .order_by(PushChannel.id)
                    .limit(size)
                )
            ]
        if not page:
            return
        yield page
        last = page[-1].channel_id


def candidates(session: Session, target: Target) -> list[Candidate]:
    """Releases the channel should get and has no delivery row for yet, newest first."""
    already = (
        select(ChannelDelivery.release_id)
        .where(
            ChannelDelivery.channel_id == target.channel_id,
            ChannelDelivery.release_id == LedgerEntry.release_id,
        )
        .exists()
    )
    query = (
        select(LedgerEntry.release_id, Release.dedupe_key)
        .join(Release, Release.id == LedgerEntry.release_id)
        .where(LedgerEntry.user_id == target.user_id, ~already)
        .order_by(Release.date_start.desc(), Release.id)
    )
    if target.cadence == "instant":
        query = query.where(
            LedgerEntry.status.in_(ANNOUNCED_OR_NEW),
            LedgerEntry.group.in_(sorted(wanted_types(target.release_types))),
            LedgerEntry.created_at >= target.created_at,
        )
    else:
        query = query.join(Digest, Digest.id == LedgerEntry.digest_id).where(
            LedgerEntry.status == "announced",
            Digest.status == "sent",
            Digest.sent_at >= target.created_at,
        )
    return [Candidate._make(row) for row in session.execute(query)]


def delivered_keys(session: Session, channel_id: int, keys: set[str]) -> set[str]:
    """Of `keys`, the dedupe keys of releases this channel already has (sent or on their way)."""
    if not keys:
        return set()
    rows = session.scalars(
        select(Release.dedupe_key)
        .join(ChannelDelivery, ChannelDelivery.release_id == Release.id)
        .where(
            ChannelDelivery.channel_id == channel_id,
            ChannelDelivery.status.in_(("claimed", "sent")),
            Release.dedupe_key.in_(sorted(keys)),
        )
    )
    return set(rows)


def claim_new(database: Database, target: Target, claimant: str | None, now: datetime) -> list[str]:
    """Claim the channel's new releases in batches of MAX_RELEASES (twins of releases it had
    settled as duplicates), in one commit; returns the batches this call claimed."""
    with database.session() as session:
        found = candidates(session, target)
        if not found:
            return []
        seen = delivered_keys(session, target.channel_id, {c.dedupe_key for c in found})
        fresh: list[Candidate] = []
        twins: list[Candidate] = []
        for candidate in found:
            (twins if candidate.dedupe_key in seen else fresh).append(candidate)
            seen.add(candidate.dedupe_key)
        batches = [secrets.token_hex(8) for _ in range(0, len(fresh), MAX_RELEASES)]
        common = {"channel_id": target.channel_id, "user_id": target.user_id, "created_at": now}
        rows = [
            {
                **common,
                "release_id": candidate.release_id,
                "status": "claimed",
                "batch": batches[index // MAX_RELEASES],
                "claimed_by": claimant,
                "claimed_until": now + CLAIM,
                "attempts": 0,
            }
            for index, candidate in enumerate(fresh)
        ] + [
            {
                **common,
                "release_id": twin.release_id,
                "status": "duplicate",
                "batch": "",
                "claimed_by": None,
                "claimed_until": None,
                "attempts": 0,
            }
            for twin in twins
        ]
        insert_all_missing(session, ChannelDelivery, rows)
    return batches


def leftover_batches(
    database: Database, claimant: str | None, now: datetime, is_gone: Callable[[str], bool]
) -> dict[int, list[str]]:
    """Batches left claimed that `claimant` may send, by channel: its own, those whose claim
    was let go (a temporary failure), lapsed, or belongs to a run that is gone."""
    with database.session() as session:
        rows = session.execute(
            select(
                ChannelDelivery.channel_id,
                ChannelDelivery.batch,
                ChannelDelivery.claimed_by,
                ChannelDelivery.claimed_until,
            )
            .where(ChannelDelivery.status == "claimed")
            .distinct()
            .order_by(ChannelDelivery.channel_id, ChannelDelivery.batch)
        ).all()
    may_send = takeover_rule(claimant, now, is_gone)

    batches: dict[int, list[str]] = defaultdict(list)
    for channel_id, batch, by, until in rows:
        if may_send(by, until) and batch not in batches[channel_id]:
            batches[channel_id].append(batch)
    return batches


def load_batch(
    database: Database,
    settings: Settings,
    target: Target,
    batch: str,
    claimant: str | None,
    now: datetime,
) -> Outgoing | None:
    """Take over a claimed batch (counting the attempt) and build its push; None when nothing
    of it is left claimed."""
    with database.session() as session:
        session.execute(
            update(ChannelDelivery)
            .where(
                ChannelDelivery.channel_id == target.channel_id,
                ChannelDelivery.batch == batch,
                ChannelDelivery.status == "claimed",
            )
            .values(
                attempts=ChannelDelivery.attempts + 1,
                claimed_by=claimant,
                claimed_until=now + CLAIM,
            )
            .execution_options(synchronize_session=False)
        )
        rows = session.execute(
            select(*VIEW_COLUMNS)
            .join(ChannelDelivery, ChannelDelivery.release_id == Release.id)
            .join(
                LedgerEntry,
                and_(
                    LedgerEntry.release_id == Release.id,
                    LedgerEntry.user_id == ChannelDelivery.user_id,
                ),
            )
            .where(
                ChannelDelivery.channel_id == target.channel_id,
                ChannelDelivery.batch == batch,
                ChannelDelivery.status == "claimed",
            )
            .order_by(Release.date_start.desc(), Release.id)
        ).all()
    if not rows:
        return None
    shown = [ReleaseView.from_row(row) for row in rows]
    context = {
        "site_name": settings.site_name,
        "cadence": target.cadence,
        "releases": [release_row(entry) for entry in shown],
        **footer_links(settings, target.user_id, target.link_version),
    }
    return Outgoing(
        Subscriber(target.user_id, target.email),
        "instant" if target.cadence == "instant" else "digest",
        key=batch,
        releases=tuple(entry.release_id for entry in shown),
        context=context,
    )


def settle(
    database: Database,
    target: Target,
    outgoing: Outgoing,
    delivery: Delivery,
    now: datetime,
) -> Failure | None:
    """Mark the batch after its push: sent; claim let go (temporary); refused; or, for a
    permanent failure or one that went on for GIVE_UP, the channel switched off. Returns the
    failure as settled (a long temporary one comes back PERMANENT)."""
    batch = (
        ChannelDelivery.channel_id == target.channel_id,
        ChannelDelivery.batch == outgoing.key,
        ChannelDelivery.status == "claimed",
    )
    with database.session() as session:
        channel = session.get(PushChannel, target.channel_id)
        if delivery.sent:
            session.execute(
                update(ChannelDelivery)
                .where(*batch)
                .values(status="sent", sent_at=now, claimed_until=None)
                .execution_options(synchronize_session=False)
            )
            if channel is not None:
                channel.last_sent_at, channel.last_error, channel.failing_since = now, None, None
            return None
        failure = delivery.failure
        if channel is not None:
            channel.last_error = delivery.reason[:300]
            if failure is Failure.TEMPORARY:
                channel.failing_since = channel.failing_since or now
                if now - channel.failing_since >= GIVE_UP:
                    failure = Failure.PERMANENT
        if failure is Failure.REFUSED:
            session.execute(
                update(ChannelDelivery)
                .where(*batch)
                .values(status="refused", claimed_until=None)
                .execution_options(synchronize_session=False)
            )
        elif failure is Failure.TEMPORARY:
            session.execute(
                update(ChannelDelivery)
                .where(*batch)
                .values(claimed_by=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            )
        elif channel is not None:
            reason = delivery.reason
            if delivery.failure is Failure.TEMPORARY:
                reason = f"it kept failing for {GIVE_UP.days} days (last: {delivery.reason})"
            switch_off(session, channel, reason, now)
        return failure


def switch_off(session: Session, channel: PushChannel, reason: str, now: datetime) -> None:
    """The channel is dead: nothing more goes to it, its claims are dropped, and its subscriber
    gets one email saying so (notice channel_off, keyed by the channel)."""
    channel.disabled_at, channel.disabled_reason = now, reason[:300]
    session.execute(
        update(ChannelDelivery)
        .where(ChannelDelivery.channel_id == channel.id, ChannelDelivery.status == "claimed")
        .values(status="dropped", claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    user = session.get(User, channel.user_id)
    if user is not None:
        queue_notice(session, user, "channel_off", str(channel.id))
    logger.warning("push channel %s switched off: %s", channel.id, reason)


class PushRun:
    """The push step of one run: leftover batches first, then each channel's new releases."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        claimant: str | None,
        *,
        keep_lease: Callable[[], None] = lambda: None,
        is_gone: Callable[[str], bool] = lambda _holder: False,
    ) -> None:
        self.database = database
        self.settings = settings
        self.claimant = claimant
        self.keep_lease = keep_lease
        self.is_gone = is_gone

    def execute(self) -> PushSummary:
        summary = PushSummary()
        if not self.settings.channels_enabled:
            return summary
        leftovers = leftover_batches(self.database, self.claimant, utcnow(), self.is_gone)
        with ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="push") as pool:
            for page in target_pages(self.database):
                self.keep_lease()
                jobs = [(target, leftovers.get(target.channel_id, [])) for target in page]
                for result in pool.map(lambda job: self.push_channel(*job), jobs):
                    summary.add(result)
        return summary

    def push_channel(self, target: Target, leftover: list[str]) -> PushSummary:
        """Send the channel's leftover batches, then claim and send its new releases; stop at
        the first failure that is not this message's alone."""
        summary = PushSummary()
        try:
            url = decrypt_token(self.settings.token_cipher, target.user_id, target.url_enc)
        except TokenDecryptError as exc:
            summary.problems.append(f"push channel {target.channel_id}: {exc}")
            return summary
        carrier = AppriseChannel(url, self.settings.channel_timeout_seconds)
        for batch in itertools.chain(leftover, self.new_batches(target)):
            self.keep_lease()
            outgoing = load_batch(
                self.database, self.settings, target, batch, self.claimant, utcnow()
            )
            if outgoing is None:
                continue
            delivery = carrier.deliver(outgoing)
            failure = settle(self.database, target, outgoing, delivery, utcnow())
            if failure is None:
                summary.sent += 1
                summary.releases += len(outgoing.releases)
                continue
            summary.problems.append(
                f"push channel {target.channel_id}: {failure}: {delivery.reason}"
            )
            if failure is Failure.PERMANENT:
                summary.switched_off += 1
                return summary
            if failure is Failure.TEMPORARY:
                return summary
        return summary

    def new_batches(self, target: Target) -> Iterator[str]:
        """The channel's new releases, claimed only once its leftover batches went out."""
        self.keep_lease()
        yield from claim_new(self.database, target, self.claimant, utcnow())
