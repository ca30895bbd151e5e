"""`/settings`: "email me my settings link", for a subscriber without a recent email.

Rate-limited like the signup, and the answer is the same whether or not the address has a
subscription: only its owner, reading the email, learns anything.
"""

from __future__ import annotations

import logging

from flask import Blueprint, redirect, url_for
from flask import session as browser_session
from werkzeug.wrappers import Response

from release_notifier import accounts
from release_notifier.clock import utcnow
from release_notifier.web.context import app_context
from release_notifier.web.forms import SignupForm
from release_notifier.web.pages import (
    PageResponse,
    message_page,
    outbox_links,
    request_form_page,
)
from release_notifier.web.signup import address_from

logger = logging.getLogger(__name__)

bp = Blueprint("recovery", __name__, url_prefix="/settings")

ASKED_FOR = "settings_link_for"  # session key: the address the last request named


@bp.get("")
def page() -> PageResponse:
    return request_form_page(SignupForm())


@bp.post("")
def submit() -> Response | PageResponse:
    """Queue a settings link for the address's subscription, if any; then the same answer."""
    context = app_context()
    form = SignupForm()
    email = address_from(form)
    if email is None:
        return request_form_page(form, 422)
    with context.database.session() as session:
        user_id = accounts.request_settings_link(session, email, utcnow())
    if user_id is not None:
        context.queue.enqueue_notices(user_id)
    browser_session[ASKED_FOR] = email
    return redirect(url_for("recovery.sent"), code=303)


@bp.get("/sent")
def sent() -> PageResponse:
    email = browser_session.get(ASKED_FOR)
    to = email if isinstance(email, str) and email else "that address"
    return message_page(
        "Check your inbox",
        f"If {to} has a subscription here, we have sent it a link to its settings (it may "
        f"take a minute; look in the spam folder too). Nothing else was changed.",
        links=outbox_links(),
    )
