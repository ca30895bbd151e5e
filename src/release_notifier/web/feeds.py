"""GET /feeds/<token>.atom and .ics: a subscriber's releases for feed readers and calendars;
POST /settings/<token>/feeds/rotate: new feed URLs, the old ones answer 404.

Feeds are cheap to poll: every answer has an ETag and Last-Modified, and a conditional request
that matches gets 304 with no body. A feed never shows the subscriber's address.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC
from urllib.parse import urlsplit

from flask import Blueprint, abort, request
from werkzeug.wrappers import Response

from release_notifier import feeds
from release_notifier.db.models import User
from release_notifier.feeds.entries import FeedRelease, last_change
from release_notifier.web.context import app_context
from release_notifier.web.pages import PageResponse
from release_notifier.web.preferences import button_action

logger = logging.getLogger(__name__)

bp = Blueprint("feeds", __name__)

ATOM_TYPE = "application/atom+xml"
ICAL_TYPE = "text/calendar"
ROTATED = (
    "New feed addresses are ready and the old ones no longer work. "
    "Give the new ones to your feed reader and calendar."
)


def atom_document(user: User, releases: list[FeedRelease], token: str) -> bytes:
    settings = app_context().settings
    return feeds.atom_feed(
        releases,
        title=f"{settings.site_name}: new releases",
        feed_url=feeds.feed_urls(settings.public_base_url, token)["atom"],
        home_url=f"{settings.public_base_url}/",
        updated=last_change(releases, user),
    )


def ical_document(user: User, releases: list[FeedRelease], token: str) -> bytes:
    settings = app_context().settings
    host = urlsplit(settings.public_base_url).hostname or "localhost"
    return feeds.ical_feed(
        releases, name=f"{settings.site_name}: releases", feed_token=token, host=host
    )


def feed_response(
    token: str, mimetype: str, render: Callable[[User, list[FeedRelease], str], bytes]
) -> Response:
    """The feed for `token` (404 when no subscriber has it), or 304 when the client's copy
    is current."""
    with app_context().database.session() as session:
        user = feeds.user_for_feed(session, token)
        if user is None:
            abort(404)
        releases = feeds.feed_releases(session, user)
        body = render(user, releases, token)
        modified = last_change(releases, user).replace(tzinfo=UTC)
    response = Response(body, mimetype=mimetype)
    response.set_etag(hashlib.sha256(body).hexdigest())
    response.last_modified = modified
    response.cache_control.private = True
    response.cache_control.no_cache = True  # keep it, but ask again: the answer is usually 304
    response.headers["X-Robots-Tag"] = "noindex"
    return response.make_conditional(request)


@bp.get("/feeds/<token>.atom")
def atom(token: str) -> Response:
    return feed_response(token, ATOM_TYPE, atom_document)


@bp.get("/feeds/<token>.ics")
def ical(token: str) -> Response:
    return feed_response(token, ICAL_TYPE, ical_document)


@bp.post("/settings/<token>/feeds/rotate")
def rotate(token: str) -> Response | PageResponse:
    return button_action(token, feeds.rotate_feed_token, ROTATED)
