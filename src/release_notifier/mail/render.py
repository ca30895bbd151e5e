"""Build a complete multipart email from a kind's three templates (subject, text, HTML)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from functools import lru_cache
from typing import Any

import css_inline
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

KINDS = frozenset(
    {
        "digest",
        "confirm",
        "relink",
        "expiry_reminder",
        "settings_link",
        "spotify_stopped",
        "channel_off",
    }
)
PUSH_KINDS = frozenset({"instant", "digest", "test"})
# Headers build_message sets itself; callers may not pass them again.
OWN_HEADERS = frozenset({"from", "to", "subject", "date", "message-id", "mime-version"})
HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # printable ASCII except ':' (RFC 5322 ftext)
MSGID_FALLBACK_DOMAIN = "release-notifier.invalid"


def http_url(value: str | None) -> str:
    """Keep only http(s) URLs; anything else (javascript:, data:, empty) becomes ""."""
    if value and value.lower().startswith(("https://", "http://")):
        return value
    return ""


def period(days: int) -> str:
    """28 -> "4 weeks", 7 -> "1 week", 10 -> "10 days", 1 -> "1 day"."""
    if days and days % 7 == 0:
        weeks = days // 7
        return f"{weeks} week{'s' if weeks != 1 else ''}"
    return f"{days} day{'s' if days != 1 else ''}"


def alt_text(value: str) -> str:
    """Text for an alt attribute, without angle brackets: the CSS inliner writes attribute values
    back with `<` and `>` unescaped, and no email should carry a raw `<script` even there."""
    return value.replace("<", "").replace(">", "")


def plural(count: int, singular: str, many: str | None = None) -> str:
    """`3|plural("release")` -> "3 releases"; `1|plural("release")` -> "1 release"."""
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


@lru_cache(maxsize=1)
def template_environment() -> Environment:
    """The one Jinja environment: autoescape for .html only, and missing values are errors."""
    environment = Environment(
        loader=PackageLoader("release_notifier.mail", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["alt_text"] = alt_text
    environment.filters["http_url"] = http_url
    environment.filters["period"] = period
    environment.filters["plural"] = plural
    return environment


@lru_cache(maxsize=1)
def css_inliner() -> css_inline.CSSInliner:
    """Inline <style> rules into style attributes; keep @media rules; never fetch anything."""
    return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


def render_parts(kind: str, context: Mapping[str, Any]) -> tuple[str, str, str]:
    """Render (subject, text, html) for `kind`; the subject is collapsed to one line."""
    if kind not in KINDS:
        raise ValueError(f"unknown email kind {kind!r}; expected one of {sorted(KINDS)}")
    environment = template_environment()
    values = dict(context)
    subject = environment.get_template(f"{kind}/subject.txt").render(values)
    text = environment.get_template(f"{kind}/body.txt").render(values)
    html = environment.get_template(f"{kind}/body.html").render(values)
    return " ".join(subject.split()), text, css_inliner().inline(html)


def render_push(kind: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """Render a push notification's (title, body), plain text, from push/title.txt and
    push/body.txt: the same wording for every Apprise service."""
    if kind not in PUSH_KINDS:
        raise ValueError(f"unknown push kind {kind!r}; expected one of {sorted(PUSH_KINDS)}")
    environment = template_environment()
    values = {**context, "kind": kind}
    title = environment.get_template("push/title.txt").render(values)
    body = environment.get_template("push/body.txt").render(values)
    return " ".join(title.split()), body.strip()


def check_header(name: str, value: str) -> None:
    """A header name must be a plain token and a value one line: CR or LF would inject headers."""
    if not HEADER_NAME.match(name):
        raise ValueError(f"invalid email header name {name!r}")
    if "\r" in value or "\n" in value:
        raise ValueError(f"email header {name} contains a line break")


def msgid_domain(sender: str) -> str:
    """The domain of the From address, for Message-ID (never the local hostname: no DNS)."""
    _, address = parseaddr(sender)
    domain = address.rpartition("@")[2].strip()
    return domain or MSGID_FALLBACK_DOMAIN


def build_message(
    kind: str,
    *,
    to: str,
    sender: str,
    site_name: str,
    context: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """A multipart/alternative message (text, then HTML) of `kind`, with every header set.

    `site_name` (SITE_NAME) is how every email names the service.
    """
    subject, text, html = render_parts(kind, {**context, "site_name": site_name})
    own = {
        "From": sender,
        "To": to,
        "Subject": subject,
        "Date": formatdate(localtime=False),
        "Message-ID": message_id or make_msgid(domain=msgid_domain(sender)),
    }
    extra = dict(headers or {})
    for name in extra:
        if name.lower() in OWN_HEADERS:
            raise ValueError(f"email header {name} is set by build_message, not by the caller")
    message = EmailMessage()
    for name, value in {**own, **extra}.items():
        check_header(name, value)
        message[name] = value
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
