"""GET / is the signup page; POST /signup remembers the address and sends the person to Spotify."""

from __future__ import annotations

import logging

from flask import Blueprint, render_template
from werkzeug.wrappers import Response

from release_notifier import accounts
from release_notifier.clock import utcnow
from release_notifier.web import oauth_state
from release_notifier.web.context import app_context
from release_notifier.web.forms import SignupForm

logger = logging.getLogger(__name__)

bp = Blueprint("signup", __name__)


def render_signup(form: SignupForm, status: int = 200) -> tuple[str, int]:
    context = app_context()
    return render_template(
        "signup.html",
        form=form,
        lookback_days=context.settings.initial_lookback_days,
        demo=context.demo is not None,
    ), status


def address_from(form: SignupForm) -> str | None:
    """The posted address in canonical form (no DNS look-up), or None with the reason on the
    form's field; the demo also takes reserved test domains."""
    if not form.validate():
        return None
    try:
        return accounts.normalize_address(
            form.email.data or "", allow_test_domains=app_context().demo is not None
        )
    except accounts.InvalidAddress as exc:
        form.email.errors = [str(exc)]
        return None


@bp.get("/")
def page() -> tuple[str, int]:
    return render_signup(SignupForm())


@bp.post("/signup")
def submit() -> Response | tuple[str, int]:
    """Validate the address (no DNS look-up), store a pending signup, redirect to Spotify."""
    context = app_context()
    form = SignupForm()
    email = address_from(form)
    if email is None:
        return render_signup(form, 422)
    context.settings.require("spotipy_client_id", "spotipy_client_secret")
    with context.database.session() as session:
        state = accounts.start_signup(session, email, utcnow()).state
    return oauth_state.send_to_spotify(context.settings, state)
