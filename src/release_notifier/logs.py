"""Logging, configured once at start; a filter keeps addresses and tokens out of every record."""

from __future__ import annotations

import logging
import re

EMAIL = re.compile(r"([A-Za-z0-9._%+\-]{1,64})@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})")
SECRETISH = re.compile(
    r"(?i)((?:access_token|refresh_token|code|client_secret|password|token|api[-_]key)"
    r"[\"']?\s*[=:]\s*[\"']?)([A-Za-z0-9._~+/\-]{6,})"
)
BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/\-]+=*")


def mask_email(address: str) -> str:
    """`ana@example.com` -> `a***@example.com`: enough to tell users apart, not to mail them."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def redact(text: str) -> str:
    """Mask email addresses, bearer tokens and `name=value` secrets in a log line."""
    text = EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    text = BEARER.sub(r"\1[redacted]", text)
    return SECRETISH.sub(r"\1[redacted]", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message through `redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure_logging(level: str = "INFO") -> None:
    """Send records to stderr with redaction; safe to call more than once."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    if not any(getattr(h, "_release_notifier", False) for h in root.handlers):
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        stream._release_notifier = True  # type: ignore[attr-defined]
        root.addHandler(stream)
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    logging.getLogger("alembic").setLevel(logging.WARNING)
