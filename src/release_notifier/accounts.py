"""What a subscriber can do to their subscription, free of any web framework.

The web views call these; each takes an open session and leaves committing to the caller.
One Spotify account maps to one subscription; one email address maps to one subscription.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from release_notifier.crypto import encrypt_token
from release_notifier.db.models import (
    ALL_RELEASE_TYPES,
    DEFAULT_RELEASE_TYPES,
    Digest,
    Follow,
    LedgerEntry,
    Notice,
    PendingSignup,
    User,
)
from release_notifier.links import BadLink, read_token
from release_notifier.logs import mask_email
from release_notifier.notices import queue_notice
from release_notifier.settings import Settings

logger = logging.getLogger(__name__)

# A pending OAuth `state` is good for this long; Spotify's consent page rarely takes minutes.
STATE_MAX_AGE = timedelta(minutes=30)
FREQUENCIES = {"weekly": 7.0, "fortnightly": 14.0, "monthly": 30.0}
LINK_VERSION_LIMIT = 2**31 - 1


class InvalidAddress(ValueError):
    """The email address given at signup is not usable; the message says why."""


class SignupRefused(Exception):
    """A Spotify link that would break "one account, one subscription"; the message says why."""


class LinkOutcome(Enum):
    CREATED = "created"  # new subscription: a confirmation email is on its way
    CONFIRM_AGAIN = "confirm_again"  # known but unconfirmed address: confirmation sent again
    RELINKED = "relinked"  # confirmed subscription: Spotify linked again, history kept


@dataclass(frozen=True)
class LinkResult:
    user: User
    outcome: LinkOutcome


MAX_LOCAL_PART_OCTETS = 64  # RFC 5321; email_validator checks it only in strict mode


def normalize_address(address: str, *, allow_test_domains: bool = False) -> str:
    """The address in canonical form, or InvalidAddress; never a DNS look-up.

    The canonical form is lower case throughout: `Casey@example.com` and `casey@example.com`
    are one mailbox everywhere that matters, so they are one subscription.
    """
    try:
        result = validate_email(
            address.strip(),
            check_deliverability=False,
            test_environment=allow_test_domains,
        )
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from None
    if len(result.local_part.encode()) > MAX_LOCAL_PART_OCTETS:
        raise InvalidAddress(
            f"The part before the @-sign is too long ({len(result.local_part.encode())} "
            f"octets; at most {MAX_LOCAL_PART_OCTETS})."
        )
    return str(result.normalized).lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email))


def user_for_link(session: Session, settings: Settings, purpose: str, token: str) -> User | None:
    """The user a signed link names; BadLink when forged or expired, None when they are gone.

    A link issued before the user's `link_version` changed is treated as forged.
    """
    target = read_token(settings, purpose, token)
    user = session.get(User, target.user_id)
    if user is None:
        return None
    if user.link_version != target.version:
        raise BadLink("invalid")
    return user


# Signup and the Spotify link -------------------------------------------------------------


def start_signup(session: Session, email: str, now: datetime) -> PendingSignup:
    """Remember a signup while the person grants access at Spotify; returns its `state`."""
    purge_stale_signups(session, now)
    pending = PendingSignup(state=secrets.token_urlsafe(32), email=email, created_at=now)
    session.add(pending)
    return pending


def start_relink(session: Session, user: User, now: datetime) -> PendingSignup:
    """Remember that the callback for this `state` re-links an existing subscription."""
    purge_stale_signups(session, now)
    pending = PendingSignup(state=secrets.token_urlsafe(32), user_id=user.id, created_at=now)
    session.add(pending)
    return pending


def purge_stale_signups(session: Session, now: datetime) -> None:
    session.execute(delete(PendingSignup).where(PendingSignup.created_at < now - STATE_MAX_AGE))


def take_pending_signup(session: Session, state: str, now: datetime) -> PendingSignup | None:
    """The signup a callback's `state` belongs to, used up; None when unknown, used or stale."""
    if not state:
        return None
    pending = session.get(PendingSignup, state)
    if pending is None:
        return None
    session.delete(pending)
    if pending.created_at < now - STATE_MAX_AGE:
        return None
    return pending


def new_link_version() -> int:
    """A fresh, unguessable link version, so links of a deleted user never fit a new one."""
    return secrets.randbelow(LINK_VERSION_LIMIT - 1) + 1


def link_spotify_account(
    session: Session,
    settings: Settings,
    *,
    pending: PendingSignup,
    account_id: str,
    display_name: str | None,
    refresh_token: str | None,
    now: datetime,
) -> LinkResult:
    """Attach a Spotify account to the subscription the pending signup names.

    A known address keeps its history. A Spotify account already subscribed under another
    confirmed address is refused, as is a new Spotify account for a confirmed address through the
    public form (that change goes through the re-link link in the person's own email).
    """
    by_account = session.scalar(select(User).where(User.spotify_account_id == account_id))
    if pending.user_id is not None:
        user = session.get(User, pending.user_id)
        if user is None:
            raise SignupRefused("This subscription no longer exists. Please sign up again.")
    else:
        assert pending.email is not None
        user = find_user_by_email(session, pending.email) or by_account

    if by_account is not None and user is not None and by_account.id != user.id:
        raise SignupRefused(
            f"This Spotify account already has a subscription, for "
            f"{mask_email(by_account.email)}. Use the settings link in one of its emails to "
            f"manage it."
        )
    if user is None:
        assert pending.email is not None
        user = create_user(session, settings, pending.email, now)
        outcome = LinkOutcome.CREATED
    else:
        outcome = reuse_subscription(user, pending, account_id)
    store_spotify_link(
        session,
        settings,
        user,
        account_id=account_id,
        display_name=display_name,
        refresh_token=refresh_token,
        now=now,
    )
    logger.info("user %s linked Spotify (%s)", user.id, outcome.value)
    return LinkResult(user=user, outcome=outcome)


def reuse_subscription(user: User, pending: PendingSignup, account_id: str) -> LinkOutcome:
    """Decide how a known subscription takes a new link; raise when the change is not allowed."""
    from_signed_link = pending.user_id is not None
    account_changes = user.spotify_account_id not in (None, account_id)
    if user.confirmed_at is not None:
        if account_changes and not from_signed_link:
            raise SignupRefused(
                "This address is already subscribed with another Spotify account. To switch "
                "accounts, use “Re-link Spotify” on your settings page (linked from every email)."
            )
        if pending.email is not None and pending.email != user.email:
            raise SignupRefused(
                f"This Spotify account already has a subscription, for {mask_email(user.email)}. "
                f"Use the settings link in one of its emails to manage it."
            )
        user.unsubscribed_at = None
        return LinkOutcome.RELINKED
    if pending.email is not None:
        user.email = pending.email  # unconfirmed: the newest address typed for this account wins
    return LinkOutcome.CONFIRM_AGAIN


def create_user(session: Session, settings: Settings, email: str, now: datetime) -> User:
    user = User(
        email=email,
        created_at=now,
        release_types=DEFAULT_RELEASE_TYPES,
        paused=False,
        link_version=new_link_version(),
        announce_since=now - timedelta(days=settings.initial_lookback_days),
    )
    session.add(user)
    session.flush()
    return user


def store_spotify_link(
    session: Session,
    settings: Settings,
    user: User,
    *,
    account_id: str,
    display_name: str | None,
    refresh_token: str | None,
    now: datetime,
) -> None:
    """Keep the encrypted refresh token and the authorization date; clear re-link reminders."""
    user.spotify_account_id = account_id
    user.spotify_display_name = display_name
    if refresh_token:
        user.refresh_token_enc = encrypt_token(settings.token_cipher, user.id, refresh_token)
        user.authorized_at = now
        user.needs_relink_since = None
        user.relink_email_sent_at = None
        user.expiry_reminder_sent_at = None
    session.flush()


# After signup ---------------------------------------------------------------------------


def confirm_user(user: User, now: datetime) -> bool:
    """Confirm the address; the initial digest is due at once. False when already confirmed."""
    if user.confirmed_at is not None:
        return False
    user.confirmed_at = now
    user.next_digest_at = now
    logger.info("user %s confirmed", user.id)
    return True


def describe_interval(days: float) -> str:
    """`every two weeks`, `every week`, `every 3 days`..."""
    named = {7.0: "every week", 14.0: "every two weeks", 30.0: "every month", 1.0: "every day"}
    return named.get(days, f"every {days:g} days")


def frequency_name(settings: Settings, user: User) -> str | None:
    """The named frequency the user's interval matches, if any."""
    days = user.digest_interval_days or settings.digest_interval_days
    return next((name for name, value in FREQUENCIES.items() if value == days), None)


def update_preferences(
    user: User, *, frequency: str, release_types: list[str], now: datetime
) -> None:
    """Set frequency and release types; the next digest moves with a new frequency."""
    if frequency not in FREQUENCIES:
        raise ValueError(f"unknown frequency {frequency!r}")
    wanted = [kind for kind in ALL_RELEASE_TYPES if kind in release_types]
    if not wanted:
        raise ValueError("choose at least one kind of release")
    interval = FREQUENCIES[frequency]
    if interval != user.digest_interval_days and user.last_digest_at is not None:
        user.next_digest_at = max(user.last_digest_at + timedelta(days=interval), now)
    user.digest_interval_days = interval
    user.release_types = ",".join(wanted)


def pause(user: User) -> bool:
    """Stop digests until resumed; releases found meanwhile wait. False when already paused."""
    if user.paused:
        return False
    user.paused = True
    return True


def resume(user: User, now: datetime) -> bool:
    """Send digests again; one that fell due while paused goes out at once."""
    if not user.paused:
        return False
    user.paused = False
    send_missed_digest_now(user, now)
    return True


def send_missed_digest_now(user: User, now: datetime) -> None:
    """A digest that fell due while nothing was sent is due now."""
    if user.next_digest_at is not None and user.next_digest_at < now:
        user.next_digest_at = now


def unsubscribe(user: User, now: datetime) -> bool:
    """Stop every email to this address. False when already unsubscribed."""
    if user.unsubscribed_at is not None:
        return False
    user.unsubscribed_at = now
    logger.info("user %s unsubscribed", user.id)
    return True


def resubscribe(user: User, now: datetime) -> bool:
    """Undo an unsubscribe: the Spotify link, preferences and history are kept, so no new consent
    is needed while the link works; a digest that fell due meanwhile goes out at once.
    False when subscribed already."""
    if user.unsubscribed_at is None:
        return False
    user.unsubscribed_at = None
    send_missed_digest_now(user, now)
    logger.info("user %s resubscribed", user.id)
    return True


def followed_artist_count(session: Session, user: User) -> int:
    """How many artists the user's Spotify follow list held when it was last read."""
    count = session.scalar(
        select(func.count()).select_from(Follow).where(Follow.user_id == user.id)
    )
    return int(count or 0)


def next_digest_on(user: User, now: datetime) -> date | None:
    """The day the next digest goes out, or None when none will (unconfirmed, unsubscribed,
    paused, address rejected, Spotify link broken)."""
    if not user.is_active or user.needs_relink_since is not None or user.next_digest_at is None:
        return None
    return max(user.next_digest_at, now).date()


def delete_user_data(session: Session, user: User) -> None:
    """Remove the user, their tokens, follows, ledger, digests and notices."""
    user_id = user.id
    for table in (LedgerEntry, Notice, Digest, Follow, PendingSignup):
        session.execute(delete(table).where(table.user_id == user_id))
    session.delete(user)
    session.flush()
    logger.info("user %s deleted their data", user_id)


def request_confirmation(session: Session, user: User, now: datetime) -> bool:
    """Queue the double opt-in email; one per signup attempt. False when already queued."""
    queued: bool = queue_notice(session, user, "confirm", now.isoformat())
    return queued
