"""A subscriber's push channels: added with a checked URL (stored encrypted), listed by their
label, tested, given a cadence, switched off, removed."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from release_notifier.channels import Delivery, Failure, Outgoing, Subscriber
from release_notifier.channels.apprise import AppriseChannel, CheckedUrl
from release_notifier.crypto import TokenDecryptError, decrypt_token, encrypt_token
from release_notifier.db.models import ChannelDelivery, PushChannel, User
from release_notifier.settings import Settings

logger = logging.getLogger(__name__)

CADENCES = ("instant", "digest")
MAX_CHANNELS = 5  # per subscriber


class TooManyChannels(Exception):
    """The subscriber has MAX_CHANNELS channels already."""


def user_channels(session: Session, user_id: int) -> list[PushChannel]:
    """A subscriber's channels, oldest first."""
    return list(
        session.scalars(
            select(PushChannel).where(PushChannel.user_id == user_id).order_by(PushChannel.id)
        )
    )


def add_channel(
    session: Session,
    settings: Settings,
    user: User,
    checked: CheckedUrl,
    cadence: str,
    now: datetime,
) -> PushChannel:
    """Store a checked URL, encrypted for this user; raise TooManyChannels past the limit.
    Only releases found after this moment go to it."""
    if cadence not in CADENCES:
        raise ValueError(f"unknown cadence {cadence!r}")
    if len(user_channels(session, user.id)) >= MAX_CHANNELS:
        raise TooManyChannels(f"at most {MAX_CHANNELS} push channels")
    channel = PushChannel(
        user_id=user.id,
        url_enc=encrypt_token(settings.token_cipher, user.id, checked.url),
        label=checked.label,
        cadence=cadence,
        created_at=now,
    )
    session.add(channel)
    session.flush()
    logger.info("user %s added push channel %s (%s)", user.id, channel.id, checked.scheme)
    return channel


def channel_of(session: Session, user: User, channel_id: int) -> PushChannel | None:
    """The channel `channel_id` if it is `user`'s own, else None."""
    channel = session.get(PushChannel, channel_id)
    return channel if channel is not None and channel.user_id == user.id else None


def remove_channel(session: Session, channel: PushChannel) -> None:
    """Forget the channel, its URL and what was sent through it."""
    session.execute(delete(ChannelDelivery).where(ChannelDelivery.channel_id == channel.id))
    session.delete(channel)
    session.flush()
    logger.info("user %s removed push channel %s", channel.user_id, channel.id)


def set_cadence(channel: PushChannel, cadence: str) -> None:
    if cadence not in CADENCES:
        raise ValueError(f"unknown cadence {cadence!r}")
    channel.cadence = cadence


def channel_url(settings: Settings, channel: PushChannel) -> str:
    """The channel's Apprise URL, decrypted (raises TokenDecryptError when it cannot be)."""
    return decrypt_token(settings.token_cipher, channel.user_id, channel.url_enc)


def apprise_channel(settings: Settings, channel: PushChannel) -> AppriseChannel:
    """The seam's channel for a stored push channel (raises TokenDecryptError)."""
    return AppriseChannel(channel_url(settings, channel), settings.channel_timeout_seconds)


def send_test(settings: Settings, channel: PushChannel, email: str) -> Delivery:
    """Send the test message to a channel now; its state is left as it was."""
    try:
        carrier = apprise_channel(settings, channel)
    except TokenDecryptError:
        return Delivery.failed(
            Failure.PERMANENT, "its stored address cannot be read with DB_ENCRYPTION_KEY"
        )
    outgoing = Outgoing(
        Subscriber(channel.user_id, email),
        "test",
        key=f"test-{channel.id}",
        context={"site_name": settings.site_name, "cadence": channel.cadence, "releases": []},
    )
    delivery = carrier.deliver(outgoing)
    logger.info("test push to channel %s: %s", channel.id, delivery.failure or "sent")
    return delivery


def switched_off_context(session: Session, key: str) -> dict[str, str]:
    """What the channel_off email says: which channel (by its label) and why. `key` is the
    channel's id; a channel removed since is "a push channel"."""
    channel = session.get(PushChannel, int(key)) if key.isdigit() else None
    return {
        "channel_label": channel.label if channel is not None else "a push channel",
        "reason": (channel.disabled_reason if channel is not None else None)
        or "it kept refusing our messages",
    }
