"""Email as a channel: renders an outgoing message with mail/'s templates and sends it over the
SMTP connections it is lent (the SMTP details stay in mail/).

How SMTP failures map onto the channel's three kinds (`mail.send.refusal_error` reads the
replies):

- the address refused for good (a 5xx with 5.1.x or 5.2.1, or a bare 5xx to RCPT) -> `permanent`:
  the subscriber's email is dead, so it is switched off (`users.mail_rejected_at`);
- any other 5xx to RCPT or DATA (spam, policy, size) -> `refused`: this message only;
- everything else -> `temporary`: 4xx replies, a refused connection, a timeout, a dropped
  connection, TLS or login failures. A login or TLS failure is the operator's relay or settings
  (`release-notifier check` names them), never the subscriber's address, so it never switches
  anybody's email off.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

from release_notifier.channels import Delivery, Failure, Kind, Outgoing
from release_notifier.logs import mask_email
from release_notifier.mail.render import build_message
from release_notifier.mail.send import MailError, SenderPool, SmtpSender
from release_notifier.settings import Settings

logger = logging.getLogger(__name__)

TEMPLATES: dict[Kind, str] = {"digest": "digest"}  # outgoing kind -> mail/ template kind


def failure_of(error: MailError) -> Failure:
    """The channel failure an SMTP error is (see the module's docstring)."""
    if error.permanent:
        return Failure.PERMANENT
    if error.message_refused:
        return Failure.REFUSED
    return Failure.TEMPORARY


class EmailChannel:
    """Email to the subscriber's address, over a pool of SMTP connections (one per thread)."""

    name = "email"

    def __init__(self, settings: Settings, senders: SenderPool) -> None:
        self.settings = settings
        self.senders = senders

    @property
    def connections(self) -> int:
        """How many messages it can carry at once (one per SMTP connection)."""
        return self.senders.size

    def message(self, outgoing: Outgoing) -> EmailMessage:
        """The email for `outgoing`: its kind's templates, its key as the Message-ID, and a
        one-click unsubscribe when the context has an unsubscribe link."""
        if outgoing.kind not in TEMPLATES:
            raise ValueError(f"email has no template for {outgoing.kind!r} messages")
        unsubscribe = outgoing.context.get("unsubscribe_url")
        headers = (
            {
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
            if unsubscribe
            else {}
        )
        return build_message(
            TEMPLATES[outgoing.kind],
            to=outgoing.subscriber.email,
            sender=self.settings.sender,
            site_name=self.settings.site_name,
            context=dict(outgoing.context),
            headers=headers,
            message_id=outgoing.key,
        )

    def deliver(self, outgoing: Outgoing) -> Delivery:
        """Send on a lent connection; an SMTP failure becomes a classified Delivery."""
        message = self.message(outgoing)
        try:
            with self.senders.lend() as sender:
                sender.send(message)
        except MailError as exc:
            logger.warning(
                "%s to %s not sent: %s",
                outgoing.kind,
                mask_email(outgoing.subscriber.email),
                str(exc),
            )
            return Delivery.failed(failure_of(exc), str(exc))
        return Delivery()


@contextmanager
def email_channel(settings: Settings, sender: SmtpSender) -> Iterator[EmailChannel]:
    """The email channel over SMTP_CONNECTIONS connections (`sender` is the first); the ones it
    opened are closed afterwards, `sender` is left to its owner."""
    senders = SenderPool(sender, settings.smtp_connections)
    try:
        yield EmailChannel(settings, senders)
    finally:
        senders.close()
