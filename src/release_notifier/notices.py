"""Non-digest emails: confirm, re-link, expiry reminders and settings links, each sent at most
once per key.

A notice is queued as a row, claimed before it is sent, and marked sent after the SMTP server
accepts it; a claim left behind by a crash is retried once it lapses.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.db.models import Notice, User
from release_notifier.links import link_url
from release_notifier.logs import mask_email
from release_notifier.mail.render import build_message
from release_notifier.mail.send import MailError, SmtpSender
from release_notifier.pushes.store import switched_off_context
from release_notifier.releases.dates import date_label
from release_notifier.settings import Settings
from release_notifier.subscribers import email_is_accepted, is_subscribed

logger = logging.getLogger(__name__)

KINDS = ("confirm", "relink", "expiry_reminder", "settings_link", "channel_off")
CLAIM = timedelta(minutes=5)
# At most one asked-for email (settings link, confirmation from /settings) per address in this
# long, however many people ask for one.
ASKED_FOR_INTERVAL = timedelta(minutes=5)
REFRESH_TOKEN_LIFETIME = timedelta(days=183)  # six months after the original authorization


def queue_notice(session: Session, user: User, kind: str, key: str) -> bool:
    """Queue one notice for (user, kind, key); False when it was queued or sent before."""
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    exists = session.scalar(
        select(Notice.id).where(Notice.user_id == user.id, Notice.kind == kind, Notice.key == key)
    )
    if exists is not None:
        return False
    session.add(Notice(user_id=user.id, kind=kind, key=key, status="queued", created_at=utcnow()))
    session.flush()
    return True


def queue_unless_recent(session: Session, user: User, kind: str, now: datetime) -> bool:
    """Queue an email somebody asked for, unless one of its kind was queued for this user in
    the last few minutes (the earlier one still works). False when nothing was queued."""
    recent = session.scalar(
        select(Notice.id).where(
            Notice.user_id == user.id,
            Notice.kind == kind,
            Notice.created_at > now - ASKED_FOR_INTERVAL,
        )
    )
    if recent is not None:
        return False
    return queue_notice(session, user, kind, now.isoformat())


def queue_settings_link(session: Session, user: User, now: datetime) -> bool:
    """Queue an email with a fresh settings link, at most one per ASKED_FOR_INTERVAL."""
    return queue_unless_recent(session, user, "settings_link", now)


def token_expires_at(user: User) -> datetime | None:
    """When the user's Spotify refresh token dies (six months after they authorized)."""
    return user.authorized_at + REFRESH_TOKEN_LIFETIME if user.authorized_at else None


def footer_links(settings: Settings, user_id: int, link_version: int) -> dict[str, str]:
    return {
        "settings_url": link_url(settings, "settings", user_id, link_version),
        "unsubscribe_url": link_url(settings, "unsubscribe", user_id, link_version),
    }


def notice_context(
    settings: Settings, user: User, kind: str, session: Session | None = None, key: str = ""
) -> dict[str, Any]:
    if kind == "channel_off":
        assert session is not None
        return {
            **footer_links(settings, user.id, user.link_version),
            **switched_off_context(session, key),
        }
    if kind == "settings_link":
        return {
            **footer_links(settings, user.id, user.link_version),
            "unsubscribed": user.unsubscribed_at is not None,
            "relink_url": link_url(settings, "relink", user.id, user.link_version)
            if not user.is_email_only
            and (user.needs_relink_since is not None or user.refresh_token_enc is None)
            else "",
        }
    if kind == "confirm":
        return {
            "confirm_url": link_url(
                settings, "confirm", user.id, user.link_version, address=user.email
            )
        }
    context: dict[str, Any] = {
        "relink_url": link_url(settings, "relink", user.id, user.link_version),
        **footer_links(settings, user.id, user.link_version),
    }
    if kind == "expiry_reminder":
        expires = token_expires_at(user)
        context["expires_on_label"] = date_label(expires.date().isoformat()) if expires else ""
    return context


def _may_receive(user: User, kind: str) -> bool:
    """Account emails are not notifications (a paused subscriber gets them too): nothing to an
    address refused for good; the confirm email to an unconfirmed one that did not unsubscribe;
    the settings link somebody asked for to any confirmed one, unsubscribed too (it is how they
    come back); the rest to subscribers (`subscribers.is_subscribed`)."""
    if not email_is_accepted(user):
        return False
    if kind == "settings_link":
        return user.confirmed_at is not None
    if kind == "confirm":
        return user.unsubscribed_at is None
    return is_subscribed(user)


def _claim(database: Database, notice_id: int, now: datetime) -> bool:
    with database.session() as session:
        claimed = session.execute(
            update(Notice)
            .where(
                Notice.id == notice_id,
                or_(
                    Notice.status == "queued",
                    (Notice.status == "sending") & (Notice.claimed_until < now),
                ),
            )
            .values(status="sending", claimed_until=now + CLAIM, attempts=Notice.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return claimed.rowcount == 1  # type: ignore[attr-defined]


def _finish(database: Database, notice_id: int, error: MailError | None) -> None:
    with database.session() as session:
        notice = session.get(Notice, notice_id)
        if notice is None:
            return
        if error is None:
            notice.status, notice.sent_at = "sent", utcnow()
            return
        notice.last_error = str(error)[:500]
        notice.status = "failed" if error.permanent or error.message_refused else "queued"
        if error.permanent:
            user = session.get(User, notice.user_id)
            if user is not None and user.mail_rejected_at is None:
                user.mail_rejected_at, user.mail_rejected_reason = utcnow(), str(error)[:300]


def send_pending_notices(
    settings: Settings,
    database: Database,
    *,
    user_id: int | None = None,
    sender: SmtpSender | None = None,
) -> int:
    """Send every queued notice (or one user's); returns how many the SMTP server accepted."""
    now = utcnow()
    with database.session() as session:
        query = select(Notice.id).where(
            or_(
                Notice.status == "queued",
                (Notice.status == "sending") & (Notice.claimed_until < now),
            )
        )
        if user_id is not None:
            query = query.where(Notice.user_id == user_id)
        notice_ids = list(session.scalars(query.order_by(Notice.id)))
    if not notice_ids:
        return 0
    own_sender = sender is None
    smtp = sender or SmtpSender.from_settings(settings)
    sent = 0
    try:
        for notice_id in notice_ids:
            if not _claim(database, notice_id, now):
                continue
            with database.session() as session:
                notice = session.get(Notice, notice_id)
                user = session.get(User, notice.user_id) if notice else None
                if notice is None or user is None or not _may_receive(user, notice.kind):
                    if notice is not None:
                        notice.status, notice.last_error = "failed", "recipient not eligible"
                    continue
                message = build_message(
                    notice.kind,
                    to=user.email,
                    sender=settings.sender,
                    site_name=settings.site_name,
                    context=notice_context(settings, user, notice.kind, session, notice.key),
                )
                address = user.email
            try:
                smtp.send(message)
            except MailError as exc:
                logger.warning("notice to %s not sent: %s", mask_email(address), str(exc))
                _finish(database, notice_id, exc)
                if not (exc.permanent or exc.message_refused):
                    break  # the server is unhappy: leave the rest for the next run
                continue
            _finish(database, notice_id, None)
            sent += 1
    finally:
        if own_sender:
            smtp.close()
    return sent
