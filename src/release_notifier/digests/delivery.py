"""Claim, send, mark: a digest is claimed in the database before it is sent and marked sent only
after the SMTP server accepts it. A crash leaves it claimed and the next run sends it again with
the same Message-ID, so nothing is lost; a double is possible only if the process dies between the
server's acceptance and the commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from release_notifier.db import Database
from release_notifier.db.models import Digest, LedgerEntry, User
from release_notifier.digests.compose import claimed_entries, digest_context, select_entries
from release_notifier.logs import mask_email
from release_notifier.mail.render import build_message
from release_notifier.mail.send import MailError, SmtpSender
from release_notifier.notices import footer_links
from release_notifier.settings import Settings

logger = logging.getLogger(__name__)

CLAIM = timedelta(minutes=10)


@dataclass
class Delivery:
    sent: bool
    error: MailError | None = None


def interval_days(settings: Settings, user: User) -> float:
    if user.digest_interval_days is not None:
        return user.digest_interval_days
    return settings.digest_interval_days


def due_user_ids(database: Database, now: datetime) -> list[int]:
    """Users whose digest is due: confirmed, subscribed, not paused, linked, address accepted."""
    with database.session() as session:
        return list(
            session.scalars(
                select(User.id)
                .where(
                    User.confirmed_at.is_not(None),
                    User.unsubscribed_at.is_(None),
                    User.paused.is_(False),
                    User.mail_rejected_at.is_(None),
                    User.needs_relink_since.is_(None),
                    User.next_digest_at.is_not(None),
                    User.next_digest_at <= now,
                )
                .order_by(User.next_digest_at, User.id)
            )
        )


def claim_digest(database: Database, settings: Settings, user_id: int, now: datetime) -> int | None:
    """Move the user's next digest date forward and claim their pending releases in one commit.

    The date moves by a conditional update on the value just read, so of two runs only one gets
    the digest. Returns the claimed digest's id, or None when there is nothing to send.
    """
    with database.session() as session:
        user = session.get(User, user_id)
        if user is None or user.next_digest_at is None or user.next_digest_at > now:
            return None
        moved = session.execute(
            update(User)
            .where(User.id == user_id, User.next_digest_at == user.next_digest_at)
            .values(next_digest_at=now + timedelta(days=interval_days(settings, user)))
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            return None
        selection = select_entries(session, user, ("pending",))
        for entry in selection.unwanted:
            entry.status = "filtered"
        if not selection.shown:
            for entry in selection.twins:
                entry.status = "duplicate"
            return None
        digest = Digest(
            user_id=user_id,
            kind="initial" if user.last_digest_at is None else "regular",
            status="claimed",
            message_id=make_msgid(domain=settings.sender.rpartition("@")[2] or None),
            created_at=now,
            claimed_until=now + CLAIM,
        )
        session.add(digest)
        session.flush()
        for entry, _release in selection.shown:
            entry.status, entry.digest_id = "claimed", digest.id
        for entry in selection.twins:
            entry.status, entry.digest_id = "duplicate", digest.id
        return digest.id


def claimed_digest_ids(database: Database) -> list[int]:
    """Digests a previous run claimed but never marked sent (it crashed or was killed)."""
    with database.session() as session:
        return list(
            session.scalars(select(Digest.id).where(Digest.status == "claimed").order_by(Digest.id))
        )


def deliver_digest(
    database: Database, settings: Settings, sender: SmtpSender, digest_id: int, now: datetime
) -> Delivery:
    """Send a claimed digest and settle its entries: announced on success, pending on failure."""
    with database.session() as session:
        digest = session.get(Digest, digest_id)
        user = session.get(User, digest.user_id) if digest else None
        if digest is None or digest.status != "claimed":
            return Delivery(sent=False)
        if user is None or user.unsubscribed_at is not None or user.mail_rejected_at is not None:
            _release_claim(session, digest, "recipient no longer subscribed")
            return Delivery(sent=False)
        shown = claimed_entries(session, digest_id)
        context = {
            **digest_context(session, shown, now.date()),
            **footer_links(settings, user),
            "kind": digest.kind,
            "lookback_days": settings.initial_lookback_days,
        }
        unsubscribe = context["unsubscribe_url"]
        message = build_message(
            "digest",
            to=user.email,
            sender=settings.sender,
            context=context,
            headers={
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
            message_id=digest.message_id,
        )
        digest.attempts += 1
        address = user.email
    try:
        sender.send(message)
    except MailError as exc:
        logger.warning("digest to %s not sent: %s", mask_email(address), str(exc))
        _settle_failure(database, digest_id, exc, now)
        return Delivery(sent=False, error=exc)
    with database.session() as session:
        digest = session.get(Digest, digest_id)
        assert digest is not None
        digest.status, digest.sent_at, digest.claimed_until = "sent", now, None
        session.execute(
            update(LedgerEntry)
            .where(LedgerEntry.digest_id == digest_id, LedgerEntry.status == "claimed")
            .values(status="announced")
            .execution_options(synchronize_session=False)
        )
        user = session.get(User, digest.user_id)
        if user is not None:
            user.last_digest_at = now
    logger.info("digest %s sent to %s", digest_id, mask_email(address))
    return Delivery(sent=True)


def _release_claim(session: Session, digest: Digest, reason: str) -> None:
    """Give the digest's releases back to the ledger as pending; the digest is void."""
    session.execute(
        update(LedgerEntry)
        .where(LedgerEntry.digest_id == digest.id, LedgerEntry.status == "claimed")
        .values(status="pending", digest_id=None)
        .execution_options(synchronize_session=False)
    )
    digest.status, digest.last_error, digest.claimed_until = "failed", reason[:500], None


def _settle_failure(database: Database, digest_id: int, error: MailError, now: datetime) -> None:
    """Temporary: due again next run. Permanent: the address is marked and no longer mailed."""
    with database.session() as session:
        digest = session.get(Digest, digest_id)
        if digest is None:
            return
        _release_claim(session, digest, str(error))
        user = session.get(User, digest.user_id)
        if user is None:
            return
        if error.permanent:
            user.mail_rejected_at, user.mail_rejected_reason = now, str(error)[:300]
        else:
            user.next_digest_at = now
