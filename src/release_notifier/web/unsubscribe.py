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
from release_notifier.links import BadLink, make_token
from release_notifier.web.context import app_context, back_up_after
from release_notifier.web.forms import ButtonForm
from release_notifier.web.pages import PageResponse, bad_link_page, with_link_user

logger = logging.getLogger(__name__)

bp = Blueprint("unsubscribe", __name__, url_prefix="/unsubscribe")


def unsubscribed_page(user: User | None) -> PageResponse:
    """Done, and the ways on: resubscribe, settings, delete; a deleted user only gets "start"."""
    settings_token = settings_token_of(user) if user is not None else None
    return render_template(
        "unsubscribed.html",
        email=user.email if user is not None else None,
        settings_token=settings_token,
        buttons=ButtonForm(),
    ), 200


def settings_token_of(user: User) -> str:
    """A fresh settings-link token, so the unsubscribe pages can offer the settings actions."""
    return make_token(app_context().settings, "settings", user.id, user.link_version)


@bp.get("/<token>")
def page(token: str) -> PageResponse:
    """The button, and the lighter choices: pause, or one digest a month."""

    def show(_session: Session, user: User) -> PageResponse:
        if user.unsubscribed_at is not None:
            return unsubscribed_page(user)
        monthly = accounts.frequency_name(app_context().settings, user) == "monthly"
        return render_template(
            "unsubscribe.html",
            email=user.email,
            paused=user.paused,
            monthly=monthly,
            settings_token=settings_token_of(user),
            buttons=ButtonForm(),
        ), 200

    return with_link_user("unsubscribe", token, show)


@bp.post("/<token>")
def one_click(token: str) -> PageResponse:
    """Unsubscribe; idempotent, and a deleted user is simply told they are unsubscribed."""
    context = app_context()
    try:
        with context.database.session() as session:
            user = accounts.user_for_link(session, context.settings, "unsubscribe", token)
            changed = user is not None and accounts.unsubscribe(user, utcnow())
            response = unsubscribed_page(user)
    except BadLink as exc:
        return bad_link_page(exc)
    if changed:
        back_up_after("unsubscribe")
    return response
