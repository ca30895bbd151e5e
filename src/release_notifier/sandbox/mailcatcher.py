"""A real SMTP server on 127.0.0.1 that keeps what it receives: the demo's inbox and the tests'.

Knobs make it misbehave on purpose (refuse an address, fail DATA, drop the connection) so
that the sending code can be tested against the failures real relays produce.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import threading
import warnings
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from release_notifier.clock import utcnow
from release_notifier.logs import mask_email

logger = logging.getLogger(__name__)

SERVER_NAME = "mailcatcher.release-notifier.test"
START_ATTEMPTS = 5


@dataclass(frozen=True)
class CaughtMessage:
    """One accepted message: the envelope, the parsed message and the bytes as received."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes
    received_at: datetime


def pick_free_port(host: str) -> int:
    """A port free right now on `host` (aiosmtpd cannot bind port 0 itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class MailCatcher:
    """An aiosmtpd server in a background thread that stores every message it accepts.

    `connections` counts SMTP sessions that greeted with EHLO/HELO. With `credentials`, AUTH
    is offered and required; `tls_context` offers STARTTLS, or with `implicit_tls` the whole
    connection is TLS.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int | None = None,
        *,
        credentials: tuple[str, str] | None = None,
        tls_context: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
    ) -> None:
        self.host = host
        self.port = port or 0
        self._fixed_port = port is not None
        self.credentials = credentials
        self.tls_context = tls_context
        self.implicit_tls = implicit_tls
        self.messages: list[CaughtMessage] = []
        self.connections = 0
        self.auth_attempts: list[str] = []
        self._lock = threading.Lock()
        self._rejected: dict[str, tuple[int, str]] = {}
        self._failures: list[tuple[int, str]] = []
        self._accepted_total = 0
        self._drop_at: int | None = None
        self._drops_left = 0
        self._controller: Controller | None = None

    # Running -------------------------------------------------------------------------------

    def start(self) -> MailCatcher:
        """Listen in a background thread; returns self once the server answers."""
        for attempt in range(1, START_ATTEMPTS + 1):
            port = self.port if self._fixed_port else pick_free_port(self.host)
            controller = _CatcherController(self, port=port)
            try:
                controller.start()
            except OSError:
                # Another process took the port between picking and binding: pick again.
                if self._fixed_port or attempt == START_ATTEMPTS:
                    raise
                continue
            self.port, self._controller = port, controller
            break
        logger.info("mail catcher listening on %s:%s", self.host, self.port)
        return self

    def stop(self) -> None:
        """Stop listening (safe to call twice)."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> MailCatcher:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # Reading -------------------------------------------------------------------------------

    def to(self, address: str) -> list[CaughtMessage]:
        """Messages whose envelope recipients include `address` (case-insensitive)."""
        wanted = address.lower()
        with self._lock:
            return [m for m in self.messages if wanted in (r.lower() for r in m.rcpt_tos)]

    def clear(self) -> None:
        """Forget the messages received so far (knobs and counters stay)."""
        with self._lock:
            self.messages.clear()

    # Fault knobs ---------------------------------------------------------------------------

    def reject(
        self, address: str, code: int = 550, text: str = "5.1.1 mailbox unavailable"
    ) -> None:
        """Answer RCPT TO for `address` with `code` (4xx: try later, 5xx: refused for good)."""
        with self._lock:
            self._rejected[address.lower()] = (code, text)

    def fail_next(self, count: int, code: int = 451, text: str = "4.3.0 try again later") -> None:
        """Answer the next `count` messages' DATA with `code` instead of accepting them."""
        with self._lock:
            self._failures = [(code, text)] * count

    def drop_after(self, count: int, *, times: int = 1) -> None:
        """After `count` more accepted messages, close the connection on the next `times` DATA."""
        with self._lock:
            self._drop_at = self._accepted_total + count
            self._drops_left = times

    # Called from the server thread ---------------------------------------------------------

    def _count_connection(self) -> None:
        with self._lock:
            self.connections += 1

    def _count_auth_attempt(self, login: str) -> None:
        with self._lock:
            self.auth_attempts.append(login)

    def _rcpt_reply(self, address: str) -> str | None:
        with self._lock:
            refusal = self._rejected.get(address.lower())
        return f"{refusal[0]} {refusal[1]}" if refusal else None

    def _take_drop(self) -> bool:
        with self._lock:
            if self._drop_at is None or self._accepted_total < self._drop_at:
                return False
            self._drops_left -= 1
            if self._drops_left <= 0:
                self._drop_at = None
            return True

    def _take_failure(self) -> str | None:
        with self._lock:
            if not self._failures:
                return None
            code, text = self._failures.pop()
            return f"{code} {text}"

    def _keep(self, envelope: Envelope) -> None:
        raw = envelope.original_content or b""
        # Parsed with local line endings, as a mailbox stores it; `raw` keeps the wire form.
        parsed = BytesParser(policy=policy.default).parsebytes(raw.replace(b"\r\n", b"\n"))
        assert isinstance(parsed, EmailMessage)
        caught = CaughtMessage(
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            message=parsed,
            raw=raw,
            received_at=utcnow(),
        )
        with self._lock:
            self.messages.append(caught)
            self._accepted_total += 1
        logger.info(
            "mail catcher got a message for %s", ", ".join(map(mask_email, caught.rcpt_tos))
        )

    def _authenticate(self, login: str, password: str) -> bool:
        self._count_auth_attempt(login)
        return self.credentials is not None and (login, password) == self.credentials


class _Handler:
    """aiosmtpd hooks, delegating every decision to the catcher."""

    def __init__(self, catcher: MailCatcher) -> None:
        self.catcher = catcher

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refusal = self.catcher._rcpt_reply(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        failure = self.catcher._take_failure()
        if failure:
            return failure
        self.catcher._keep(envelope)
        return "250 Message accepted for delivery"


class _CatcherSMTP(SMTP):
    """aiosmtpd's SMTP plus connection counting, AUTH recording and abrupt drops on DATA."""

    def __init__(self, catcher: MailCatcher, handler: _Handler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.catcher = catcher
        self._greeted = False

    async def smtp_EHLO(self, hostname: str) -> None:
        self._note_greeting()
        await super().smtp_EHLO(hostname)

    async def smtp_HELO(self, hostname: str) -> None:
        self._note_greeting()
        await super().smtp_HELO(hostname)

    def _note_greeting(self) -> None:
        # Counted once per TCP connection: EHLO again after STARTTLS is the same connection.
        if not self._greeted:
            self._greeted = True
            self.catcher._count_connection()

    async def smtp_DATA(self, arg: str) -> None:
        if self.catcher._take_drop() and isinstance(self.transport, asyncio.Transport):
            self.transport.abort()
            return
        await super().smtp_DATA(arg)


class _CatcherController(Controller):
    def __init__(self, catcher: MailCatcher, *, port: int) -> None:
        smtp_options: dict[str, Any] = {"server_hostname": SERVER_NAME}
        if catcher.implicit_tls:
            smtp_options["ssl_context"] = catcher.tls_context
        elif catcher.tls_context is not None:
            smtp_options["tls_context"] = catcher.tls_context
        if catcher.credentials is not None:
            smtp_options.update(
                authenticator=self._authenticate,
                auth_required=True,
                # Over STARTTLS, AUTH waits for TLS as on a real relay.
                auth_require_tls=catcher.tls_context is not None and not catcher.implicit_tls,
            )
        super().__init__(_Handler(catcher), hostname=catcher.host, port=port, **smtp_options)
        self.catcher = catcher

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode("utf-8", errors="replace")
        password = data.password.decode("utf-8", errors="replace")
        return AuthResult(success=self.catcher._authenticate(login, password), handled=False)

    def factory(self) -> SMTP:
        with warnings.catch_warnings():
            # A test server may take AUTH over plain TCP on 127.0.0.1; aiosmtpd warns about it.
            warnings.simplefilter("ignore")
            return _CatcherSMTP(self.catcher, self.handler, **self.SMTP_kwargs)
