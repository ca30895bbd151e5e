"""An oversized body is refused by the server itself, against a real `serve` process: waitress
answers 413 from the headers (or the first 64 KiB of a chunked body) instead of buffering up
to its own 1 GiB default before the app's limit is checked."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.web.test_cli_web import start_serve

LIMIT = 64 * 1024  # MAX_CONTENT_LENGTH's default
WAIT_SECONDS = 10  # how long a refusal may take; the unfixed server never answers at all


def first_answer(url: str, request: bytes) -> bytes:
    """Send `request` (never the rest of its body) and return the first bytes of the answer,
    or b"" when the server kept waiting for more body."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=WAIT_SECONDS) as sock:
        sock.sendall(request)
        try:
            return sock.recv(200)
        except TimeoutError:
            return b""


def headers(url: str, *lines: str) -> bytes:
    host = urlsplit(url).netloc
    head = [
        "POST /signup HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/x-www-form-urlencoded",
        *lines,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode()


@pytest.fixture(scope="module")
def served_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One `serve` process for the module (each start costs seconds)."""
    processes: list[subprocess.Popen[str]] = []
    try:
        yield start_serve(tmp_path_factory.mktemp("serve"), processes)[1]
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=10)


def test_a_declared_gigabyte_body_is_refused_before_it_is_sent(served_url: str) -> None:
    request = headers(served_url, f"Content-Length: {1024**3 - 1}") + b"email=a" * 100

    answer = first_answer(served_url, request)

    assert answer.startswith(b"HTTP/1.1 413"), answer


def test_a_chunked_body_is_refused_once_it_passes_the_limit(served_url: str) -> None:
    chunk = b"a" * 8192
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(LIMIT // len(chunk) + 2))
    request = headers(served_url, "Transfer-Encoding: chunked") + body  # never the last chunk

    answer = first_answer(served_url, request)

    assert answer.startswith(b"HTTP/1.1 413"), answer


def test_a_body_of_exactly_the_limit_still_reaches_the_app(served_url: str) -> None:
    body = b"email=a%40example.test&pad=" + b"a" * (LIMIT - 27)
    assert len(body) == LIMIT
    request = headers(served_url, f"Content-Length: {len(body)}") + body

    answer = first_answer(served_url, request)

    assert answer.startswith(b"HTTP/1.1 400"), answer  # the app's CSRF refusal, not a 413
