"""A local webhook receiver that keeps the push notifications Apprise sends it as JSON
(`json://127.0.0.1:PORT/push`): the demo's push inbox and the tests' push service.

Knobs make it misbehave on purpose: `answer(503)` or `answer(410)` turns every push away with
that status (and keeps nothing), `stop()` leaves nobody listening, `delay` holds each answer.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from release_notifier.clock import utcnow

logger = logging.getLogger(__name__)

MAX_BODY = 256 * 1024


@dataclass(frozen=True)
class CaughtPush:
    """One push the receiver accepted: Apprise's title and message, and the whole payload."""

    path: str
    title: str
    message: str
    payload: dict[str, Any]
    received_at: datetime


class PushCatcher:
    """An HTTP server in a background thread that stores every JSON push it accepts."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.pushes: list[CaughtPush] = []
        self.attempts = 0  # every POST, accepted or turned away
        self.status = HTTPStatus.OK.value
        self.delay = 0.0  # seconds to wait before answering
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> PushCatcher:
        """Listen (port 0: any free port, kept for later restarts) from a daemon thread."""
        if self._server is not None:
            raise RuntimeError("the push catcher is already running")
        catcher = self

        class Handler(_Handler):
            owner = catcher

        server = ThreadingHTTPServer((self.host, self.port), Handler)
        server.daemon_threads = True
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="push-catcher",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused until start() again (same port)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def __enter__(self) -> PushCatcher:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def apprise_url(self) -> str:
        """The Apprise URL that sends here."""
        return f"json://{self.host}:{self.port}/push"

    def answer(self, status: int) -> None:
        """Answer every later push with `status` (200 accepts and keeps them again)."""
        self.status = status

    def clear(self) -> None:
        with self._lock:
            self.pushes.clear()

    # Called from the server's threads -------------------------------------------------------

    def _receive(self, path: str, body: bytes) -> int:
        with self._lock:
            self.attempts += 1
            status = self.status
        if self.delay:
            time.sleep(self.delay)
        if status >= 300:
            return status
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return HTTPStatus.BAD_REQUEST.value
        if not isinstance(payload, dict):
            return HTTPStatus.BAD_REQUEST.value
        push = CaughtPush(
            path=path,
            title=str(payload.get("title") or ""),
            message=str(payload.get("message") or ""),
            payload=payload,
            received_at=utcnow(),
        )
        with self._lock:
            self.pushes.append(push)
        logger.info("push catcher: caught %r", push.title)
        return status


class _Handler(BaseHTTPRequestHandler):
    owner: PushCatcher

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE.value)
            return
        self._answer(self.owner._receive(self.path, self.rfile.read(length)))

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("push catcher: " + format, *args)
