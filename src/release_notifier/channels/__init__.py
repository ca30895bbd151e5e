"""The channel seam: every way a release reaches a subscriber is a `Channel`.

A channel is handed an `Outgoing` (who, what kind, which releases, a neutral context it renders
its own way) and answers with a `Delivery`: sent, or failed in one of three ways that tell the
caller what to do next:

- `permanent`: the channel itself is dead (an address refused for good, a push URL that no longer
  exists): switch it off and tell the subscriber; nothing more goes to it.
- `refused`: this message was refused for good (spam or policy), the channel works: settle this
  message as not delivered; its releases come again with the next one.
- `temporary`: anything that may go away by itself (the server is down, busy, or refuses our
  login): deliver it again on a later run, with the same `key`.

Channels only carry; deciding what is due, claiming it before it is sent and marking it after is
the caller's (`digests/` for email). A channel never raises for a failed delivery.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol

Kind = Literal["digest", "instant", "test"]


class Failure(StrEnum):
    """Why a delivery failed, as far as the caller must act on it."""

    PERMANENT = "permanent"  # the channel is dead: switch it off
    REFUSED = "refused"  # this message only: the channel works
    TEMPORARY = "temporary"  # try again later


@dataclass(frozen=True)
class Delivery:
    """What became of one outgoing message: `failure` is None when the channel accepted it."""

    failure: Failure | None = None
    reason: str = ""  # one line, addresses and secrets already masked

    @property
    def sent(self) -> bool:
        return self.failure is None

    @classmethod
    def failed(cls, failure: Failure, reason: str) -> Delivery:
        return cls(failure=failure, reason=reason)


@dataclass(frozen=True)
class Subscriber:
    """Whom a message is for: the user and the address their email goes to."""

    user_id: int
    email: str


@dataclass(frozen=True)
class Outgoing:
    """One message for one subscriber, not yet in any channel's form.

    `key` stays the same when the same message is delivered again after a crash (the email's
    Message-ID), so a receiver can tell a resend. `context` holds preformatted values (see
    `digests.compose.digest_context`): each channel renders it its own way.
    """

    subscriber: Subscriber
    kind: Kind
    key: str
    releases: tuple[str, ...] = ()  # Spotify album ids this message announces
    context: Mapping[str, Any] = field(default_factory=dict)


class Channel(Protocol):
    """A way to reach subscribers. `deliver` may be called from several threads at once."""

    name: str

    def deliver(self, outgoing: Outgoing) -> Delivery:
        """Carry one message; classify any failure, never raise for one."""
        ...
