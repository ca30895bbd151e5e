"""Push through Apprise, one channel of the seam: a subscriber's URL is checked and labelled when
added; `AppriseChannel.deliver` renders an outgoing message (mail/'s push templates) and
classifies any failure.

Apprise answers each notify with an AppriseResult (true or false overall) whose attempts carry
the log lines the service wrote. Apprise's HTTP services write the status they got back as
`error=NNN` and a failed connection as "Connection error"; a call past its deadline has the
status TIMEOUT. So:

- 401, 403, 404, 410 (the address or its access is gone) and a URL Apprise no longer accepts
  are permanent: the channel is dead.
- 408, 425, 429, any 5xx, no connection, no answer in time, or a failure without a status
  are temporary: tried again on a later run.
- any other 4xx (400, 413, 422: this message did not suit the service) is refused: this
  message only.

Apprise's own log lines are kept out of our log (a service may write a token in them); what we
log and store is our wording, which never holds the URL.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import apprise

from release_notifier.channels import Delivery, Failure, Outgoing
from release_notifier.mail.render import render_push
from release_notifier.settings import Settings

logger = logging.getLogger(__name__)

# Schemes that act on the server itself (its desktop, its syslog, a USB light), never a push.
LOCAL_SCHEMES = frozenset(
    {"windows", "macosx", "dbus", "kde", "qt", "glib", "gnome", "syslog", "blink1"}
)
PERMANENT_CODES = frozenset({401, 403, 404, 410})
TEMPORARY_CODES = frozenset({408, 425, 429})
HTTP_STATUS = re.compile(r"\berror=(\d{3})\b")
MAX_URL_LENGTH = 2000


class ChannelUrlError(ValueError):
    """A URL this service will not push to; the message says why, for the subscriber."""


@dataclass(frozen=True)
class CheckedUrl:
    """An Apprise URL that passed every check, and what may be shown of it."""

    url: str
    scheme: str
    label: str


def keep_apprise_logs_to_itself() -> None:
    """Apprise's records stay with Apprise (its captures still see them): a service may name
    a token in them, and we log our own wording instead."""
    logging.getLogger("apprise").propagate = False


def scheme_of(url: str) -> str:
    """`ntfys://host/topic` -> "ntfys"; "" when the text has no scheme."""
    scheme, separator, _ = url.partition("://")
    return scheme.lower() if separator and scheme.isascii() and scheme.isalnum() else ""


def is_local_host(host: str | None) -> bool:
    """localhost, or an IP literal that is loopback, private, link-local or reserved: an
    address inside the server's own network, not a push service."""
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
        or address.is_multicast
    )


def shown_host(host: str | None) -> str:
    """A server name or IP is shown whole; any other host part (a bot token, a topic, a key,
    as many services put there) only by its first two characters."""
    if not host:
        return ""
    if "." in host or ":" in host:
        return host
    return f"{host[:2]}…"


def label_for(service_name: str, scheme: str, host: str | None) -> str:
    """What settings show for a channel: `ntfy · ntfy.sh`, `Telegram · tgram://12…`."""
    shown = shown_host(host)
    return f"{service_name} · {scheme}://{shown}"[:120] if shown else service_name[:120]


def allowed_schemes_text(settings: Settings) -> str:
    allowed = settings.channel_scheme_set
    return ", ".join(sorted(allowed)) if allowed is not None else "any Apprise service"


def check_url(settings: Settings, raw: str) -> CheckedUrl:
    """Check a URL a subscriber entered; raise ChannelUrlError saying what is wrong."""
    keep_apprise_logs_to_itself()
    if not settings.channels_enabled:
        raise ChannelUrlError("Push channels are turned off on this service.")
    url = raw.strip()
    if not url:
        raise ChannelUrlError("Enter the Apprise URL of your push service.")
    if len(url) > MAX_URL_LENGTH:
        raise ChannelUrlError(f"That URL is too long (over {MAX_URL_LENGTH} characters).")
    scheme = scheme_of(url)
    if not scheme:
        raise ChannelUrlError(
            "That is not an Apprise URL: it starts with the service, like ntfys://… or tgram://…"
        )
    allowed = settings.channel_scheme_set
    if scheme in LOCAL_SCHEMES or (allowed is not None and scheme not in allowed):
        raise ChannelUrlError(
            f"This service does not send to {scheme}:// addresses. "
            f"It can send to: {allowed_schemes_text(settings)}."
        )
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        raise ChannelUrlError(
            f"Apprise cannot use this {scheme}:// URL; check it against the service's page "
            "in the Apprise documentation."
        )
    host = urlsplit(url).hostname
    if not settings.channel_allow_local_hosts and is_local_host(host):
        raise ChannelUrlError(
            "That URL points inside this server's own network; use the push service's "
            "public address."
        )
    return CheckedUrl(url, scheme, label_for(str(plugin.service_name), scheme, host))


def delivery_for_status(code: int) -> Delivery:
    """Classify the HTTP status a service answered with (see the module's docstring)."""
    answered = f"the service answered {code}"
    if code in PERMANENT_CODES:
        return Delivery.failed(Failure.PERMANENT, f"{answered}: the address or its access is gone")
    if 400 <= code < 500 and code not in TEMPORARY_CODES:
        return Delivery.failed(Failure.REFUSED, f"{answered}: it did not take this message")
    return Delivery.failed(Failure.TEMPORARY, f"{answered}: tried again on a later run")


def classify(result: apprise.AppriseResult, timeout: float) -> Delivery:
    """A failed notify's delivery from its status and the lines its attempts logged."""
    if result.status == apprise.AppriseResultStatus.TIMEOUT:
        return Delivery.failed(Failure.TEMPORARY, f"no answer within {timeout:g} s")
    lines = [entry.message for service in result for attempt in service for entry in attempt]
    for line in lines:
        match = HTTP_STATUS.search(line)
        if match:
            return delivery_for_status(int(match.group(1)))
    if any("connection error" in line.lower() for line in lines):
        return Delivery.failed(Failure.TEMPORARY, "could not connect to the service")
    return Delivery.failed(
        Failure.TEMPORARY, "the service did not take the message (no reason given)"
    )


def send_push(url: str, title: str, body: str, timeout: float) -> Delivery:
    """Send one notification to an Apprise URL and classify how it went."""
    keep_apprise_logs_to_itself()
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return Delivery.failed(Failure.PERMANENT, "Apprise no longer accepts this channel's URL")
    try:
        # Plain text, said so: Apprise escapes it for services that read HTML or Markdown, so a
        # release name can never become markup there.
        result = notifier.notify(
            body=body, title=title, body_format=apprise.NotifyFormat.TEXT, timeout=timeout
        )
    except Exception as exc:  # a service's own bug: never the run's
        logger.warning("push failed inside Apprise: %s", type(exc).__name__)
        return Delivery.failed(Failure.TEMPORARY, f"Apprise failed ({type(exc).__name__})")
    if result:
        return Delivery()
    return classify(result, timeout)


class AppriseChannel:
    """One subscriber's push channel: their Apprise URL, decrypted for this delivery only."""

    name = "push"

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout

    def deliver(self, outgoing: Outgoing) -> Delivery:
        """Render the push (title and plain-text body) and send it; never raises for a
        failure."""
        title, body = render_push(outgoing.kind, outgoing.context)
        delivery = send_push(self.url, title, body, self.timeout)
        if not delivery.sent:
            logger.warning(
                "%s push %s not delivered (%s): %s",
                outgoing.kind,
                outgoing.key,
                delivery.failure,
                delivery.reason,
            )
        return delivery
