"""The sandbox mail catcher: what it keeps and how its knobs behave."""

from __future__ import annotations

import smtplib

import pytest

from release_notifier.sandbox.mailcatcher import MailCatcher

RAW = b"From: a@example.org\r\nTo: b@example.com\r\nSubject: Hi\r\n\r\nHello\r\n"


def test_it_keeps_envelope_parsed_message_and_raw_bytes(smtp: MailCatcher) -> None:
    with smtplib.SMTP(smtp.host, smtp.port) as client:
        client.sendmail("a@example.org", ["b@example.com", "c@example.com"], RAW)
    [caught] = smtp.messages
    assert caught.mail_from == "a@example.org"
    assert caught.rcpt_tos == ["b@example.com", "c@example.com"]
    assert caught.message["Subject"] == "Hi"
    assert caught.message.get_content() == "Hello\n"
    assert caught.raw.startswith(b"From: a@example.org")
    assert smtp.to("C@example.com") == [caught]
    assert smtp.to("nobody@example.com") == []


def test_clear_forgets_messages(smtp: MailCatcher) -> None:
    with smtplib.SMTP(smtp.host, smtp.port) as client:
        client.sendmail("a@example.org", ["b@example.com"], RAW)
    smtp.clear()
    assert smtp.messages == []


def test_fail_next_fails_exactly_that_many_messages(smtp: MailCatcher) -> None:
    smtp.fail_next(2)
    with smtplib.SMTP(smtp.host, smtp.port) as client:
        for _ in range(2):
            with pytest.raises(smtplib.SMTPDataError) as failed:
                client.sendmail("a@example.org", ["b@example.com"], RAW)
            assert failed.value.smtp_code == 451
        client.sendmail("a@example.org", ["b@example.com"], RAW)
    assert len(smtp.messages) == 1


def test_a_rejected_address_is_refused_at_rcpt(smtp: MailCatcher) -> None:
    smtp.reject("b@example.com", code=550)
    with smtplib.SMTP(smtp.host, smtp.port) as client:
        refused = client.sendmail("a@example.org", ["b@example.com", "c@example.com"], RAW)
    assert refused == {"b@example.com": (550, b"5.1.1 mailbox unavailable")}
    assert smtp.messages[0].rcpt_tos == ["c@example.com"]


def test_drop_after_lets_that_many_through_then_closes_the_connection(smtp: MailCatcher) -> None:
    smtp.drop_after(1)
    client = smtplib.SMTP(smtp.host, smtp.port)
    client.sendmail("a@example.org", ["b@example.com"], RAW)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        client.sendmail("a@example.org", ["b@example.com"], RAW)
    client.close()
    assert len(smtp.messages) == 1


def test_a_fixed_port_is_used_as_given() -> None:
    with MailCatcher() as first:
        port = first.port
    with MailCatcher(port=port) as second:
        assert second.port == port
        with smtplib.SMTP(second.host, second.port) as client:
            assert client.noop()[0] == 250
