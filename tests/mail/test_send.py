"""SmtpSender and check_smtp against a real SMTP server (the sandbox mail catcher)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from release_notifier.mail.render import build_message
from release_notifier.mail.send import MailError, SmtpSender, check_smtp
from release_notifier.sandbox.mailcatcher import MailCatcher, pick_free_port
from release_notifier.settings import Settings, load_settings
from tests.fixtures.smtp import TlsFiles
from tests.mail import contexts

SENDER = "Release Notifier <notifier@example.org>"
SITE = "Release Notifier"
ANA = "ana@example.com"
BEN = "ben@example.com"
CLI = "cli@example.com"
SECRET_PHRASE = "only-in-the-body-7f3a"


def note(to: str) -> EmailMessage:
    """A small message; its body holds a phrase that must never be logged."""
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = to
    message["Subject"] = "Hello"
    message.set_content(f"Hello {SECRET_PHRASE}")
    return message


def sender_for(catcher: MailCatcher, **options: object) -> SmtpSender:
    values: dict[str, object] = {"host": catcher.host, "port": catcher.port, "security": "none"}
    values.update(options)
    return SmtpSender(**values)  # type: ignore[arg-type]


def settings_for(host: str, port: int, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "smtp_host": host,
        "smtp_port": port,
        "smtp_security": "none",
        "email_user": "",
        "email_password": "",
        "smtp_timeout_seconds": 5,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def unused_port() -> int:
    """A 127.0.0.1 port nothing listens on."""
    return pick_free_port("127.0.0.1")


# Delivery -------------------------------------------------------------------------------


def test_a_digest_arrives_as_multipart_with_list_unsubscribe_headers(smtp: MailCatcher) -> None:
    unsubscribe = f"{contexts.BASE}/unsubscribe/tok-unsub"
    message = build_message(
        "digest",
        to=ANA,
        sender=SENDER,
        site_name=SITE,
        context=contexts.digest(),
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    with sender_for(smtp) as sender:
        sender.send(message)

    [caught] = smtp.to(ANA)
    received = caught.message
    assert caught.mail_from == "notifier@example.org"
    assert received["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["Message-ID"] == message["Message-ID"]
    assert received["Date"] == message["Date"]
    assert received.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in received.iter_parts()] == ["text/plain", "text/html"]
    assert "Fossora" in received.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_one_connection_is_reused_for_a_batch(smtp: MailCatcher) -> None:
    with sender_for(smtp) as sender:
        for address in (ANA, BEN, CLI):
            sender.send(note(address))
    assert [m.rcpt_tos for m in smtp.messages] == [[ANA], [BEN], [CLI]]
    assert smtp.connections == 1


def test_nothing_connects_until_the_first_send(smtp: MailCatcher) -> None:
    with sender_for(smtp):
        pass
    assert smtp.connections == 0


# Failures -------------------------------------------------------------------------------


def test_a_5xx_on_rcpt_is_a_permanent_error_and_the_batch_goes_on(smtp: MailCatcher) -> None:
    smtp.reject(BEN)
    with sender_for(smtp) as sender:
        sender.send(note(ANA))
        with pytest.raises(MailError) as refused:
            sender.send(note(BEN))
        sender.send(note(CLI))
    assert refused.value.permanent
    assert "550" in str(refused.value)
    assert [m.rcpt_tos for m in smtp.messages] == [[ANA], [CLI]]
    assert smtp.connections == 1


def test_a_4xx_on_rcpt_is_a_temporary_error(smtp: MailCatcher) -> None:
    smtp.reject(BEN, code=450, text="4.2.1 mailbox busy")
    with sender_for(smtp) as sender, pytest.raises(MailError) as refused:
        sender.send(note(BEN))
    assert not refused.value.permanent
    assert "450" in str(refused.value)


def test_a_4xx_on_data_is_a_temporary_error(smtp: MailCatcher) -> None:
    smtp.fail_next(1)
    with sender_for(smtp) as sender:
        with pytest.raises(MailError) as failed:
            sender.send(note(ANA))
        sender.send(note(ANA))
    assert not failed.value.permanent
    assert "451" in str(failed.value)
    assert len(smtp.to(ANA)) == 1


def test_a_5xx_with_a_5_1_code_on_data_refuses_the_address(smtp: MailCatcher) -> None:
    smtp.fail_next(1, code=550, text="5.1.1 no such user here")
    with sender_for(smtp) as sender, pytest.raises(MailError) as failed:
        sender.send(note(ANA))
    assert failed.value.permanent and not failed.value.message_refused
    assert smtp.messages == []


@pytest.mark.parametrize(
    ("code", "text"),
    [(554, "5.7.1 message refused as spam"), (552, "5.3.4 message too big"), (554, "go away")],
)
def test_any_other_5xx_on_data_refuses_the_message_not_the_address(
    smtp: MailCatcher, code: int, text: str
) -> None:
    smtp.fail_next(1, code=code, text=text)
    with sender_for(smtp) as sender:
        with pytest.raises(MailError) as failed:
            sender.send(note(ANA))
        sender.send(note(BEN))  # the connection is still good for the next one
    assert failed.value.message_refused and not failed.value.permanent
    assert [m.rcpt_tos for m in smtp.messages] == [[BEN]]


def test_a_policy_5xx_on_rcpt_does_not_condemn_the_address(smtp: MailCatcher) -> None:
    smtp.reject(BEN, code=550, text="5.7.1 relaying denied")
    with sender_for(smtp) as sender, pytest.raises(MailError) as refused:
        sender.send(note(BEN))
    assert refused.value.message_refused and not refused.value.permanent


def test_it_reconnects_once_after_a_dropped_connection(smtp: MailCatcher) -> None:
    smtp.drop_after(1)
    with sender_for(smtp) as sender:
        sender.send(note(ANA))
        sender.send(note(BEN))
    assert [m.rcpt_tos for m in smtp.messages] == [[ANA], [BEN]]
    assert smtp.connections == 2


def test_a_second_drop_in_a_row_is_a_temporary_error(smtp: MailCatcher) -> None:
    smtp.drop_after(0, times=2)
    with sender_for(smtp) as sender, pytest.raises(MailError) as dropped:
        sender.send(note(ANA))
    assert not dropped.value.permanent
    assert smtp.messages == []
    assert smtp.connections == 2


def test_a_refused_connection_is_a_temporary_error_naming_the_server(unused_port: int) -> None:
    sender = SmtpSender(host="127.0.0.1", port=unused_port, security="none", timeout=5)
    with sender, pytest.raises(MailError) as refused:
        sender.send(note(ANA))
    assert not refused.value.permanent
    assert f"127.0.0.1:{unused_port}" in str(refused.value)
    assert "connection refused" in str(refused.value)


def test_a_server_that_never_answers_is_a_temporary_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never greets
        port = silent.getsockname()[1]
        sender = SmtpSender(host="127.0.0.1", port=port, security="none", timeout=0.2)
        with sender, pytest.raises(MailError) as timed_out:
            sender.send(note(ANA))
    assert not timed_out.value.permanent
    assert "no answer within 0.2 s" in str(timed_out.value)


# Login ----------------------------------------------------------------------------------


def test_no_login_is_attempted_without_a_username(smtp: MailCatcher) -> None:
    with sender_for(smtp) as sender:
        sender.send(note(ANA))
    assert smtp.auth_attempts == []
    assert len(smtp.messages) == 1


def test_it_logs_in_when_a_username_is_set() -> None:
    with MailCatcher(credentials=("mailer", "s3cret-pass")) as catcher:
        with sender_for(catcher, username="mailer", password="s3cret-pass") as sender:
            sender.send(note(ANA))
        assert catcher.auth_attempts == ["mailer"]
        assert len(catcher.to(ANA)) == 1


def test_a_wrong_password_is_a_temporary_error() -> None:
    with MailCatcher(credentials=("mailer", "s3cret-pass")) as catcher:
        sender = sender_for(catcher, username="mailer", password="wrong")
        with sender, pytest.raises(MailError) as refused:
            sender.send(note(ANA))
        assert not refused.value.permanent
        assert "login refused" in str(refused.value)
        assert catcher.messages == []


def test_a_server_that_requires_login_refuses_an_anonymous_sender_temporarily() -> None:
    with MailCatcher(credentials=("mailer", "s3cret-pass")) as catcher:
        with sender_for(catcher) as sender, pytest.raises(MailError) as refused:
            sender.send(note(ANA))
        assert not refused.value.permanent
        assert "530" in str(refused.value)
        assert catcher.auth_attempts == []


# TLS ------------------------------------------------------------------------------------


@pytest.fixture
def starttls_catcher(tls_files: TlsFiles) -> Iterator[MailCatcher]:
    with MailCatcher(
        credentials=("mailer", "s3cret-pass"), tls_context=tls_files.server_context()
    ) as catcher:
        yield catcher


def test_it_sends_over_starttls_and_logs_in(
    starttls_catcher: MailCatcher, tls_files: TlsFiles
) -> None:
    sender = sender_for(
        starttls_catcher,
        security="starttls",
        username="mailer",
        password="s3cret-pass",
        ssl_context=tls_files.client_context(),
    )
    with sender:
        sender.send(note(ANA))
        sender.send(note(BEN))
    assert len(starttls_catcher.messages) == 2
    assert starttls_catcher.connections == 1
    assert starttls_catcher.auth_attempts == ["mailer"]


def test_starttls_refuses_a_certificate_it_does_not_trust(starttls_catcher: MailCatcher) -> None:
    sender = sender_for(starttls_catcher, security="starttls", username="mailer", password="x")
    with sender, pytest.raises(MailError) as refused:
        sender.send(note(ANA))
    assert "TLS failed" in str(refused.value)
    assert starttls_catcher.auth_attempts == []
    assert starttls_catcher.messages == []


def test_starttls_never_falls_back_to_plain_text(smtp: MailCatcher) -> None:
    sender = sender_for(smtp, security="starttls", username="mailer", password="s3cret-pass")
    with sender, pytest.raises(MailError) as refused:
        sender.send(note(ANA))
    assert "STARTTLS" in str(refused.value)
    assert smtp.auth_attempts == []
    assert smtp.messages == []


def test_it_sends_over_implicit_tls(tls_files: TlsFiles) -> None:
    with MailCatcher(tls_context=tls_files.server_context(), implicit_tls=True) as catcher:
        sender = sender_for(catcher, security="ssl", ssl_context=tls_files.client_context())
        with sender:
            sender.send(note(ANA))
        assert len(catcher.to(ANA)) == 1


# Logs -----------------------------------------------------------------------------------


def test_logs_hold_neither_the_message_text_nor_full_addresses(
    smtp: MailCatcher, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="release_notifier")
    smtp.reject(BEN)
    with sender_for(smtp) as sender:
        sender.send(note(ANA))
        with pytest.raises(MailError):
            sender.send(note(BEN))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "a***@example.com" in logged
    assert SECRET_PHRASE not in logged
    assert ANA not in logged
    assert BEN not in logged


# check_smtp -----------------------------------------------------------------------------


def test_check_smtp_passes_against_a_working_server(smtp: MailCatcher) -> None:
    check_smtp(settings_for(smtp.host, smtp.port))
    assert smtp.connections == 1


def test_check_smtp_on_an_unreachable_port_gives_one_line_naming_host_and_port(
    unused_port: int,
) -> None:
    with pytest.raises(MailError) as failed:
        check_smtp(settings_for("127.0.0.1", unused_port))
    message = str(failed.value)
    assert f"127.0.0.1:{unused_port}" in message
    assert "SMTP_HOST" in message
    assert "\n" not in message


def test_check_smtp_reports_a_refused_login(tls_files: TlsFiles) -> None:
    with MailCatcher(
        credentials=("mailer", "s3cret-pass"), tls_context=tls_files.server_context()
    ) as catcher:
        settings = settings_for(
            catcher.host,
            catcher.port,
            smtp_security="starttls",
            email_user="mailer",
            email_password="nope",
        )
        with pytest.raises(MailError, match="login refused"):
            check_smtp(settings, ssl_context=tls_files.client_context())
        check_smtp(
            settings_for(
                catcher.host,
                catcher.port,
                smtp_security="starttls",
                email_user="mailer",
                email_password="s3cret-pass",
            ),
            ssl_context=tls_files.client_context(),
        )
        assert set(catcher.auth_attempts) == {"mailer"}
