"""Logging, configured once at start; a filter keeps addresses and tokens out of every record
and escapes control characters, so a logged value can never start a forged line."""

from __future__ import annotations

import base64
import logging
import re

# Any script: `ana@bücher.de`, `zoë.müller@example.com`, `用户@例子.广告` (\w is Unicode).
EMAIL = re.compile(r"([\w.%+\-]{1,64})@((?:[\w\-]+\.)+[\w\-]{2,})")
SECRETISH = re.compile(
    r"(?i)((?:access_token|refresh_token|code|client_secret|password|token|state|api[-_]key)"
    r"[\"']?\s*[=:]\s*[\"']?)([A-Za-z0-9._~+/\-]{6,})"
)
BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/\-]+=*")
BASIC = re.compile(r"(?i)\b(basic\s+)([A-Za-z0-9+/]{4,}={0,2})")
# An `Authorization` header's whole value: scheme and credentials.
AUTHORIZATION = re.compile(
    r"(?i)(authorization[\"']?\s*[=:]\s*[\"']?)[^\"'\s,;}]+(?:\s+[^\"'\s,;}]+)?"
)
# The user and password of `scheme://user:password@host`.
URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/?#@]+@")
# C0 and C1 controls (CR, LF, ESC, NUL...) and the Unicode line and paragraph separators.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
NAMED_CONTROLS = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def mask_email(address: str) -> str:
    """`ana@example.com` -> `a***@example.com`: enough to tell users apart, not to mail them."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def masked_basic_credentials(match: re.Match[str]) -> str:
    """`Basic <base64 of user:password>` with the credentials masked; other words after
    "basic" (as in "basic setup") stay."""
    try:
        decoded = base64.b64decode(match.group(2), validate=True)
    except ValueError:
        return match.group(0)
    return f"{match.group(1)}[redacted]" if b":" in decoded else match.group(0)


def redact(text: str) -> str:
    """Mask email addresses (in any script), credentials in URLs, bearer tokens, HTTP Basic
    credentials and `name=value` secrets (OAuth state and code included) in a log line."""
    text = URL_CREDENTIALS.sub(r"\1[redacted]@", text)
    text = EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    text = BEARER.sub(r"\1[redacted]", text)
    text = BASIC.sub(masked_basic_credentials, text)
    text = AUTHORIZATION.sub(r"\1[redacted]", text)
    return SECRETISH.sub(r"\1[redacted]", text)


def escaped_control(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in NAMED_CONTROLS:
        return NAMED_CONTROLS[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def escape_controls(text: str) -> str:
    """Show control characters as escapes (`\\n`, `\\x1b`): one record, one line, no terminal
    sequences, whatever a logged value holds."""
    return CONTROL.sub(escaped_control, text)


def quoted_traceback(text: str) -> str:
    """A traceback redacted, its control characters escaped line by line, and every line set
    off with `  | `: an exception's message cannot pass for a record of its own."""
    return "\n".join(f"  | {escape_controls(line)}" for line in redact(text).split("\n"))


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message through `redact` and `escape_controls`, and its
    traceback through `quoted_traceback` (once, however many handlers see the record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = escape_controls(redact(message))
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not getattr(record, "_traceback_quoted", False):
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            record.exc_text = quoted_traceback(text)
            record._traceback_quoted = True
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
