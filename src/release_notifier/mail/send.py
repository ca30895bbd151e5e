"""Send messages over SMTP: one connection per batch; failures are temporary or permanent."""

from __future__ import annotations

import copy
import logging
import queue
import re
import smtplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import getaddresses
from types import TracebackType
from typing import TYPE_CHECKING

from release_notifier.logs import mask_email, redact

if TYPE_CHECKING:
    from release_notifier.settings import Settings

logger = logging.getLogger(__name__)

SECURITIES = ("starttls", "ssl", "none")
ENHANCED_STATUS = re.compile(r"[245]\.\d{1,3}\.\d{1,3}\b")


class MailError(Exception):
    """Sending failed. `permanent`: the address was refused for good. `message_refused`: the
    server refused this message for good (spam or policy), not the address. Otherwise: a
    temporary failure, try again later."""

    def __init__(self, message: str, *, permanent: bool, message_refused: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.message_refused = message_refused


def one_line(text: str | bytes) -> str:
    """Server replies and OS errors as a single line with addresses and secrets masked."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return redact(" ".join(text.split()))


def describe_failure(exc: BaseException, timeout: float) -> str:
    """A short reason for a failed connection, login or command, for logs and MailError."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"login refused ({exc.smtp_code} {one_line(exc.smtp_error)})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {one_line(exc.smtp_error)}"
    if timed_out(exc):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({one_line(exc.strerror or str(exc))})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({one_line(exc.reason or str(exc))})"
    if isinstance(exc, OSError) and exc.strerror:
        return one_line(exc.strerror)
    return one_line(str(exc)) or type(exc).__name__


def timed_out(exc: BaseException) -> bool:
    """A timeout, including one smtplib reports as a closed connection."""
    return isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)


def masked_recipients(message: EmailMessage) -> str:
    """The To/Cc/Bcc addresses of `message`, masked, for logs."""
    fields = [str(value) for name in ("To", "Cc", "Bcc") for value in message.get_all(name, [])]
    return ", ".join(mask_email(address) for _, address in getaddresses(fields)) or "nobody"


def enhanced_status(reply: bytes | str) -> str:
    """The RFC 3463 code a reply starts with ("5.1.1"), or ""."""
    text = reply.decode("ascii", errors="replace") if isinstance(reply, bytes) else reply
    match = ENHANCED_STATUS.match(text.strip())
    return match.group(0) if match else ""


def refuses_address(code: int, reply: bytes | str, *, on_rcpt: bool) -> bool:
    """A 5xx that says the mailbox itself is bad: 5.1.x (no such user, bad address) or 5.2.1
    (disabled); on RCPT also a 5xx with no RFC 3463 code, as old servers say "550 no such user".
    5.7.x (policy, spam, relaying) and the rest are about this message or about us."""
    if code < 500:
        return False
    status = enhanced_status(reply)
    if not status:
        return on_rcpt
    return status.startswith("5.1.") or status == "5.2.1"


def refusal_error(exc: smtplib.SMTPException, where: str, recipients: str) -> MailError:
    """Classify a refused MAIL, RCPT or DATA: the address refused for good (see
    refuses_address), this message refused for good (any other 5xx), or a temporary failure."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = list(exc.recipients.values())
        replies = "; ".join(f"{code} {one_line(text)}" for code, text in answers)
        address = bool(answers) and all(
            refuses_address(code, text, on_rcpt=True) for code, text in answers
        )
        return MailError(
            f"{where} refused recipient {recipients}: {replies}",
            permanent=address,
            message_refused=bool(answers)
            and not address
            and all(code >= 500 for code, _ in answers),
        )
    if isinstance(exc, smtplib.SMTPDataError):
        reply = f"{exc.smtp_code} {one_line(exc.smtp_error)}"
        address = refuses_address(exc.smtp_code, exc.smtp_error, on_rcpt=False)
        return MailError(
            f"{where} refused the message for {recipients}: {reply}",
            permanent=address,
            message_refused=not address and exc.smtp_code >= 500,
        )
    # A refused sender (or any other reply) is about our account or the relay, not the
    # recipient: never give up on the address for it.
    return MailError(f"{where} refused to send: {describe_failure(exc, 0)}", permanent=False)


class SmtpSender:
    """An SMTP client for a batch: connects on first send and reuses the connection until close."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str,
        username: str = "",
        password: str = "",
        timeout: float = 20.0,
        local_hostname: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in SECURITIES:
            raise ValueError(f"SMTP security must be one of {', '.join(SECURITIES)}")
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.timeout = timeout
        self.local_hostname = local_hostname
        self.ssl_context = ssl_context
        self._client: smtplib.SMTP | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, ssl_context: ssl.SSLContext | None = None
    ) -> SmtpSender:
        """A sender for SMTP_HOST/PORT/SECURITY/TIMEOUT_SECONDS with EMAIL_USER/EMAIL_PASSWORD."""
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.email_user,
            password=settings.email_password,
            timeout=settings.smtp_timeout_seconds,
            ssl_context=ssl_context,
        )

    def clone(self) -> SmtpSender:
        """An unconnected sender to the same server with the same security and login."""
        twin = copy.copy(self)
        twin._client = None
        return twin

    @property
    def address(self) -> str:
        """host:port, for messages."""
        return f"{self.host}:{self.port}"

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def open(self) -> None:
        """Connect, secure and log in (only when a username is set), unless already connected."""
        if self._client is not None:
            return
        try:
            self._client = self._connect()
        except (smtplib.SMTPException, OSError) as exc:
            reason = describe_failure(exc, self.timeout)
            logger.warning("SMTP server %s: %s", self.address, reason)
            raise MailError(f"SMTP server {self.address}: {reason}", permanent=False) from exc
        logger.debug("connected to SMTP server %s", self.address)

    def _connect(self) -> smtplib.SMTP:
        # The host goes to the constructor (which connects): smtplib checks TLS certificates
        # against the host it was constructed with.
        client: smtplib.SMTP
        if self.security == "ssl":
            client = smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=self.local_hostname,
                timeout=self.timeout,
                context=self._tls_context(),
            )
        else:
            client = smtplib.SMTP(
                self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
            )
        try:
            client.ehlo()
            if self.security == "starttls":
                client.starttls(context=self._tls_context())
                client.ehlo()
            if self.username:
                client.login(self.username, self.password)
        except BaseException:
            close_quietly(client)
            raise
        return client

    def _tls_context(self) -> ssl.SSLContext:
        return self.ssl_context or ssl.create_default_context()

    def send(self, message: EmailMessage) -> None:
        """Send one message; raise MailError (temporary or permanent) if it was not accepted.

        A connection kept open across a batch may be closed by the server between messages,
        so a drop is retried once on a fresh connection. If the drop came after the server
        had taken the message, the recipient may get it twice: we prefer that to losing it.
        """
        recipients = masked_recipients(message)
        for attempt in (1, 2):
            self.open()
            assert self._client is not None
            try:
                self._client.send_message(message)
            except smtplib.SMTPServerDisconnected as exc:
                self._discard()
                if timed_out(exc):
                    # A server that stops answering is not a dropped idle connection: waiting
                    # for it again would only double the stall.
                    raise self._failure(exc, recipients) from exc
                if attempt == 2:
                    logger.warning("SMTP server %s dropped the connection twice", self.address)
                    raise MailError(
                        f"SMTP server {self.address} closed the connection while sending",
                        permanent=False,
                    ) from exc
                logger.info("SMTP connection to %s dropped; reconnecting once", self.address)
                continue
            except (
                smtplib.SMTPRecipientsRefused,
                smtplib.SMTPSenderRefused,
                smtplib.SMTPDataError,
            ) as exc:
                error = refusal_error(exc, f"SMTP server {self.address}", recipients)
                logger.warning("%s (permanent: %s)", error, error.permanent)
                raise error from exc
            except (smtplib.SMTPException, OSError) as exc:
                self._discard()
                raise self._failure(exc, recipients) from exc
            logger.info("mail to %s accepted by %s", recipients, self.address)
            return

    def _failure(self, exc: BaseException, recipients: str) -> MailError:
        reason = describe_failure(exc, self.timeout)
        logger.warning("sending to %s via %s failed: %s", recipients, self.address, reason)
        return MailError(f"SMTP server {self.address}: {reason}", permanent=False)

    def close(self) -> None:
        """Say QUIT and close the connection, if one is open."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            close_quietly(client)

    def _discard(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            close_quietly(client)


class SenderPool:
    """`size` connections to one server (the first is the caller's own sender), each lent to
    one thread at a time; closing the pool closes only the connections it opened."""

    def __init__(self, first: SmtpSender, size: int) -> None:
        self.size = max(size, 1)
        self._opened = [first.clone() for _ in range(self.size - 1)]
        self._idle: queue.SimpleQueue[SmtpSender] = queue.SimpleQueue()
        for sender in (first, *self._opened):
            self._idle.put(sender)

    @contextmanager
    def lend(self) -> Iterator[SmtpSender]:
        sender = self._idle.get()
        try:
            yield sender
        finally:
            self._idle.put(sender)

    def close(self) -> None:
        for sender in self._opened:
            sender.close()


def close_quietly(client: smtplib.SMTP) -> None:
    """Close the socket without talking to the server (it may be gone already)."""
    try:
        client.close()
    except OSError:
        logger.debug("closing an SMTP socket failed", exc_info=True)


def check_smtp(settings: Settings, *, ssl_context: ssl.SSLContext | None = None) -> None:
    """Connect as configured (TLS and login included) and quit; raise MailError if that fails."""
    sender = SmtpSender.from_settings(settings, ssl_context=ssl_context)
    try:
        sender.open()
    except MailError as exc:
        raise MailError(
            f"{exc} (check SMTP_HOST:SMTP_PORT, SMTP_SECURITY, EMAIL_USER and EMAIL_PASSWORD)",
            permanent=False,
        ) from exc
    finally:
        sender.close()
