"""What a subscriber can do to their subscription, free of any web framework.

The web views call these; each takes an open session and leaves committing to the caller.
One Spotify account maps to one subscription; one email address maps to one subscription.
"""

from __future__ import annotations

import hmac
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
    ArtistChoice,
    ChannelDelivery,
    Digest,
    Follow,
    LedgerEntry,
    Notice,
    PendingSignup,
    PushChannel,
    User,
)
from release_notifier.links import BadLink, address_tag, read_token
from release_notifier.logs import mask_email
from release_notifier.notices import queue_notice, queue_settings_link, queue_unless_recent
from release_notifier.releases.choices import add_chosen
from release_notifier.settings import Settings
from release_notifier.subscribers import digest_interval, gets_notifications, next_send_date

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
    CONFIRM_AGAIN = "confirm_again"  # unconfirmed subscription: confirmation sent again
    ADDRESS_KNOWN = "address_known"  # nothing changes; the owner gets an email about it
    RELINKED = "relinked"  # from a signed link: Spotify linked again, history kept


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

    A link issued before the user's `link_version` changed is treated as forged, and so is a
    confirm link mailed to another address than the user's.
    """
    target = read_token(settings, purpose, token)
    user = session.get(User, target.user_id)
    if user is None:
        return None
    if user.link_version != target.version:
        raise BadLink("invalid")
    if target.address_tag is not None and not hmac.compare_digest(
        target.address_tag, address_tag(settings, user.email)
    ):
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


def pending_signup_is_live(session: Session, state: str, now: datetime) -> bool:
    """True when `state` names a signup still waiting for its callback (nothing is used up)."""
    if not state:
        return False
    pending = session.get(PendingSignup, state)
    return pending is not None and pending.created_at >= now - STATE_MAX_AGE


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
    """Attach a Spotify account to the subscription the pending signup names, if it may be.

    Only the address owner changes an existing subscription, from a link in their email: a
    re-link link attaches any account. Through the public form, an address that has a
    subscription keeps it as it is (its owner gets an email instead), except that an unconfirmed
    one may take a fresh token of its own Spotify account; an unconfirmed subscription of this
    Spotify account moves to the newly typed address, which invalidates its earlier links. A
    Spotify account already subscribed under another confirmed address is refused.
    """
    by_account = session.scalar(select(User).where(User.spotify_account_id == account_id))
    if pending.user_id is not None:
        user = relinked_user(session, pending.user_id, by_account)
        outcome = LinkOutcome.RELINKED
    else:
        assert pending.email is not None
        by_email = find_user_by_email(session, pending.email)
        taken = by_account is not None and by_account.confirmed_at is not None
        if taken and by_account is not by_email:
            assert by_account is not None
            raise SignupRefused(already_subscribed_message(by_account))
        if by_email is not None:
            outcome = known_address_outcome(by_email, account_id)
            if outcome is not LinkOutcome.CONFIRM_AGAIN:
                return LinkResult(user=by_email, outcome=outcome)
            user = by_email
        elif by_account is not None:
            user, outcome = by_account, LinkOutcome.CONFIRM_AGAIN
            move_to_address(user, pending.email)
        else:
            user, outcome = create_user(session, settings, pending.email, now), LinkOutcome.CREATED
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


def start_chosen_signup(
    session: Session, settings: Settings, email: str, artist_ids: list[str], now: datetime
) -> LinkResult:
    """A "choose artists" signup (no Spotify account): a new address gets an unconfirmed
    subscription with these artists. An address that has a subscription keeps it unchanged:
    only its owner changes it, from the settings link the email they get next carries."""
    existing = find_user_by_email(session, email)
    if existing is not None:
        logger.info("user %s: a choose-artists signup changed nothing", existing.id)
        known = LinkOutcome.ADDRESS_KNOWN if existing.confirmed_at else LinkOutcome.CONFIRM_AGAIN
        return LinkResult(user=existing, outcome=known)
    user = create_user(session, settings, email, now)
    add_chosen(session, user.id, artist_ids, now)
    logger.info("user %s signed up with %d chosen artists", user.id, len(artist_ids))
    return LinkResult(user=user, outcome=LinkOutcome.CREATED)


def already_subscribed_message(user: User) -> str:
    return (
        f"This Spotify account already has a subscription, for {mask_email(user.email)}. Use "
        f"the settings link in one of its emails to manage it."
    )


def relinked_user(session: Session, user_id: int, by_account: User | None) -> User:
    """The subscription a signed re-link names; refused when the account belongs to another."""
    user = session.get(User, user_id)
    if user is None:
        raise SignupRefused("This subscription no longer exists. Please sign up again.")
    if by_account is not None and by_account.id != user.id:
        raise SignupRefused(already_subscribed_message(by_account))
    return user


def known_address_outcome(user: User, account_id: str) -> LinkOutcome:
    """A public signup for an address that has a subscription changes nothing of it, except
    that an unconfirmed one of this very Spotify account takes the fresh token."""
    if user.confirmed_at is not None:
        return LinkOutcome.ADDRESS_KNOWN
    if user.spotify_account_id == account_id:
        return LinkOutcome.CONFIRM_AGAIN
    logger.info("user %s: a signup with another Spotify account changed nothing", user.id)
    return LinkOutcome.ADDRESS_KNOWN


def move_to_address(user: User, email: str) -> None:
    """An unconfirmed subscription takes the newest address typed for its Spotify account;
    every link mailed before (to the old address) stops working."""
    if user.email != email:
        user.email = email
        user.link_version = new_link_version()
        logger.info("user %s: unconfirmed subscription moved to a new address", user.id)


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
    user.next_digest_at = next_send_date(now)
    logger.info("user %s confirmed", user.id)
    return True


def describe_interval(days: float) -> str:
    """`every two weeks`, `every week`, `every 3 days`..."""
    named = {7.0: "every week", 14.0: "every two weeks", 30.0: "every month", 1.0: "every day"}
    return named.get(days, f"every {days:g} days")


def frequency_name(settings: Settings, user: User) -> str | None:
    """The named frequency the user's interval matches, if any."""
    days = digest_interval(settings, user.digest_interval_days)
    return next((name for name, value in FREQUENCIES.items() if value == days), None)


def update_preferences(
    user: User, *, frequency: str, release_types: list[str], now: datetime
) -> None:
    """Set frequency and release types; the next digest moves with a new frequency, and new
    release types date the change (the feeds' Last-Modified moves with it)."""
    if frequency not in FREQUENCIES:
        raise ValueError(f"unknown frequency {frequency!r}")
    wanted = [kind for kind in ALL_RELEASE_TYPES if kind in release_types]
    if not wanted:
        raise ValueError("choose at least one kind of release")
    interval = FREQUENCIES[frequency]
    if interval != user.digest_interval_days and user.last_digest_at is not None:
        user.next_digest_at = next_send_date(now, since=user.last_digest_at, interval_days=interval)
    user.digest_interval_days = interval
    if ",".join(wanted) != user.release_types:
        user.release_types = ",".join(wanted)
        user.preferences_changed_at = now


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
    if user.next_digest_at is not None:
        user.next_digest_at = next_send_date(now, since=user.next_digest_at)


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
    if not gets_notifications(user) or user.next_digest_at is None:
        return None
    return max(user.next_digest_at, now).date()


def delete_user_data(session: Session, user: User) -> None:
    """Remove the user, their tokens, follows, chosen artists, ledger, digests, notices and push
    channels."""
    user_id = user.id
    for table in (
        ChannelDelivery,
        PushChannel,
        LedgerEntry,
        Notice,
        Digest,
        Follow,
        ArtistChoice,
        PendingSignup,
    ):
        session.execute(delete(table).where(table.user_id == user_id))
    session.delete(user)
    session.flush()
    logger.info("user %s deleted their data", user_id)


def request_confirmation(session: Session, user: User, now: datetime) -> bool:
    """Queue the double opt-in email; one per signup attempt. False when already queued."""
    queued: bool = queue_notice(session, user, "confirm", now.isoformat())
    return queued


def request_settings_link(session: Session, email: str, now: datetime) -> int | None:
    """From `/settings`: a settings link for a confirmed subscription (unsubscribed ones too:
    it is their way back), the confirmation again for an unconfirmed one, each at most once per
    few minutes. The user's id when an email was queued; None otherwise, unknown address too."""
    user = find_user_by_email(session, email)
    if user is None:
        return None
    kind = "settings_link" if user.confirmed_at is not None else "confirm"
    return user.id if queue_unless_recent(session, user, kind, now) else None


def tell_address_owner(session: Session, result: LinkResult, now: datetime) -> bool:
    """The email a signup's outcome calls for: a confirmation for a subscription waiting for
    one, a settings link for one that exists (nothing for a re-link). True when one was queued."""
    if result.outcome is LinkOutcome.RELINKED:
        return False
    if result.user.confirmed_at is not None:
        return queue_settings_link(session, result.user, now)
    return request_confirmation(session, result.user, now)
