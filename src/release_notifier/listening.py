"""Listening sockets and the URLs that reach them, for `serve`, `demo` and the emulator."""

from __future__ import annotations

import os
import socket

WILDCARD_HOSTS = ("0.0.0.0", "::", "")  # noqa: S104 (recognised, not bound here)


def address_family(host: str) -> socket.AddressFamily:
    """IPv6 for an IPv6 literal (it has a colon), IPv4 for anything else."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port and listening (port 0: any free port); OSError when busy."""
    return socket.create_server((host, port), family=address_family(host), backlog=1024)


def reason(exc: OSError) -> str:
    """The system's words for why a bind failed, without the address repeated."""
    return os.strerror(exc.errno) if exc.errno else str(exc)


def url_host(host: str) -> str:
    """The name a browser uses for `host`: this machine's name for a wildcard address."""
    return socket.gethostname() if host in WILDCARD_HOSTS else host


def url_netloc(host: str, port: int) -> str:
    """host:port for a URL, with an IPv6 literal in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
