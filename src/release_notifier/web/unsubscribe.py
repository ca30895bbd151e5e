"""One-click unsubscribe (RFC 8058): GET shows a button, POST unsubscribes with no cookie.

The POST is exempt from CSRF (mail providers send it with no session) and answers 200 directly,
since providers do not follow redirects. Unsubscribe links never expire.
"""

from __future__ import annotations

import logging

from flask import Blueprint, render_template
from sqlalchemy.orm import Session

from release_notifier import accounts
from release_notifier.clock import utcnow
from release_notifier.db.models import User
from release_notifier.links import BadLink
from release_notifier.web.context import app_context, back_up_after
from release_notifier.web.pages import PageResponse, bad_link_page, message_page, with_link_user

logger = logging.getLogger(__name__)

bp = Blueprint("unsubscribe", __name__, url_prefix="/unsubscribe")


def unsubscribed_page() -> PageResponse:
    return message_page(
        "You're unsubscribed",
        "We will not email you again. Changed your mind? Sign up again with the same address: "
        "your history is kept.",
    )


@bp.get("/<token>")
def page(token: str) -> PageResponse:
    def show(_session: Session, user: User) -> PageResponse:
        if user.unsubscribed_at is not None:
            return unsubscribed_page()
        return render_template("unsubscribe.html", email=user.email), 200

    return with_link_user("unsubscribe", token, show)


@bp.post("/<token>")
def one_click(token: str) -> PageResponse:
    """Unsubscribe; idempotent, and a deleted user is simply told they are unsubscribed."""
    context = app_context()
    try:
        with context.database.session() as session:
            user = accounts.user_for_link(session, context.settings, "unsubscribe", token)
            changed = user is not None and accounts.unsubscribe(user, utcnow())
    except BadLink as exc:
        return bad_link_page(exc)
    if changed:
        back_up_after("unsubscribe")
    return unsubscribed_page()
