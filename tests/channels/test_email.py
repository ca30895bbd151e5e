"""The email channel against a real SMTP server: what it sends, and how each SMTP failure is
classified for the caller (permanent: the address is dead; refused: this message; temporary)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from release_notifier.channels import Delivery, Failure, Outgoing, Subscriber
from release_notifier.channels.email import EmailChannel
from release_notifier.mail.send import SenderPool, SmtpSender
from release_notifier.sandbox.mailcatcher import MailCatcher, pick_free_port
from release_notifier.settings import Settings, load_settings
from tests.mail import contexts

ANA = "ana@example.com"
KEY = "<digest-1@example.org>"


def settings_for(port: int, user: str = "", password: str = "") -> Settings:
    return load_settings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        email_user=user,
        email_password=password,
        smtp_timeout_seconds=5,
    )


@pytest.fixture
def channel_to(smtp: MailCatcher) -> Iterator[EmailChannel]:
    settings = settings_for(smtp.port)
    senders = SenderPool(SmtpSender.from_settings(settings), 1)
    yield EmailChannel(settings, senders)
    senders.close()


def digest_for(address: str) -> Outgoing:
    return Outgoing(
        Subscriber(7, address), "digest", key=KEY, releases=("fossora",), context=contexts.digest()
    )


def test_an_accepted_digest_is_sent_with_its_key_as_message_id_and_one_click_unsubscribe(
    smtp: MailCatcher, channel_to: EmailChannel
) -> None:
    delivery = channel_to.deliver(digest_for(ANA))
    assert delivery == Delivery() and delivery.sent
    [caught] = smtp.to(ANA)
    assert caught.message["Message-ID"] == KEY
    assert caught.message["List-Unsubscribe"] == f"<{contexts.BASE}/unsubscribe/tok-unsub>"
    assert caught.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize(
    ("code", "text", "failure"),
    [
        (550, "5.1.1 mailbox unavailable", Failure.PERMANENT),  # the address is dead
        (550, "no such user", Failure.PERMANENT),  # an old server's bare 5xx to RCPT
        (550, "5.7.1 relaying denied", Failure.REFUSED),  # policy: this message only
        (450, "4.2.1 mailbox busy", Failure.TEMPORARY),
    ],
)
def test_a_refused_recipient_is_classified_by_its_reply(
    smtp: MailCatcher, channel_to: EmailChannel, code: int, text: str, failure: Failure
) -> None:
    smtp.reject(ANA, code=code, text=text)
    delivery = channel_to.deliver(digest_for(ANA))
    assert delivery.failure is failure and not delivery.sent
    assert str(code) in delivery.reason
    assert ANA not in delivery.reason  # the address is masked
    assert smtp.messages == []


@pytest.mark.parametrize(
    ("code", "text", "failure"),
    [
        (554, "5.7.1 message refused as spam", Failure.REFUSED),
        (550, "5.1.1 no such user here", Failure.PERMANENT),
        (451, "4.3.0 try again later", Failure.TEMPORARY),
    ],
)
def test_a_refused_message_is_classified_by_its_reply(
    smtp: MailCatcher, channel_to: EmailChannel, code: int, text: str, failure: Failure
) -> None:
    smtp.fail_next(1, code=code, text=text)
    assert channel_to.deliver(digest_for(ANA)).failure is failure
    assert channel_to.deliver(digest_for(ANA)).sent  # the channel still works


def test_a_server_that_is_down_is_a_temporary_failure() -> None:
    settings = settings_for(pick_free_port("127.0.0.1"))
    senders = SenderPool(SmtpSender.from_settings(settings), 1)
    delivery = EmailChannel(settings, senders).deliver(digest_for(ANA))
    assert delivery.failure is Failure.TEMPORARY
    assert "connection refused" in delivery.reason


def test_a_login_the_server_refuses_is_temporary_never_the_subscribers_fault() -> None:
    with MailCatcher(credentials=("mailer", "s3cret-pass")) as catcher:
        settings = settings_for(catcher.port, "mailer", "wrong")
        senders = SenderPool(SmtpSender.from_settings(settings), 1)
        delivery = EmailChannel(settings, senders).deliver(digest_for(ANA))
    assert delivery.failure is Failure.TEMPORARY
    assert "login refused" in delivery.reason


def test_a_kind_email_has_no_template_for_is_a_programming_error(
    channel_to: EmailChannel,
) -> None:
    instant = Outgoing(Subscriber(7, ANA), "instant", key=KEY)
    with pytest.raises(ValueError, match="no template"):
        channel_to.deliver(instant)
