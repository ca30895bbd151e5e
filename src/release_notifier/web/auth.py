"""Spotify's callback (the original's /auth/callback) and re-linking from a signed link."""

from __future__ import annotations

import logging

from flask import Blueprint, redirect, request, url_for
from flask import session as browser_session
from werkzeug.wrappers import Response

from release_notifier import accounts
from release_notifier.clock import utcnow
from release_notifier.db.models import PendingSignup
from release_notifier.links import BadLink
from release_notifier.spotify.client import SpotifyClient
from release_notifier.spotify.errors import InvalidGrant, NotAllowlisted, SpotifyError
from release_notifier.spotify.oauth import TokenSet, exchange_code, scope_problem
from release_notifier.web import oauth_state
from release_notifier.web.context import app_context, back_up_after
from release_notifier.web.pages import (
    Action,
    PageResponse,
    bad_link_page,
    gone_page,
    message_page,
    outbox_links,
)

logger = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, url_prefix="/auth")

START_AGAIN = Action(action_url="/", action_label="Start again")
SENT_TO = "signup_sent_to"  # session key: the address the last signup's email went to


@bp.get("/callback")
def callback() -> Response | PageResponse:
    """Check the single-use state and its browser, trade the code for tokens, read /me, link
    the account; then redirect (post/redirect/get), so reloading the answer is harmless."""
    context = app_context()
    now = utcnow()
    state = request.args.get("state", "")
    if not oauth_state.started_here(state):
        with context.database.session() as session:
            if accounts.pending_signup_is_live(session, state, now):
                logger.warning("callback refused: its sign-in was started in another browser")
                return other_browser_page()
    with context.database.session() as session:
        pending = accounts.take_pending_signup(session, state, now)
    oauth_state.forget(state)
    if pending is None:
        return message_page(
            "This sign-in has already been used or has expired",
            "Each trip to Spotify works once and for 30 minutes. Please start again.",
            400,
            **START_AGAIN,
        )
    error = request.args.get("error")
    if error == "access_denied":
        return message_page(
            "Spotify access was not granted",
            "You chose not to let this service read the artists you follow, so nothing was "
            "set up. Without it we cannot tell which releases to send you.",
            403,
            **START_AGAIN,
        )
    code = request.args.get("code", "")
    if error or not code:
        logger.warning("callback without a code (error=%s)", (error or "none")[:40])
        return message_page(
            "Spotify did not complete the sign-in",
            "Spotify sent you back without permission to continue. Please start again.",
            400,
            **START_AGAIN,
        )
    return finish_link(pending, code)


def other_browser_page() -> PageResponse:
    return message_page(
        "Please finish in the browser you started in",
        "This sign-in was started in another browser (or this browser's cookies were cleared "
        "since). Nothing was changed. To sign up, start again here.",
        400,
        **START_AGAIN,
    )


def finish_link(pending: PendingSignup, code: str) -> Response | PageResponse:
    context = app_context()
    try:
        tokens = exchange_code(context.settings, code)
        problem = scope_problem(tokens.scope)
        if problem is not None:
            return scope_page(problem)
        profile = SpotifyClient(context.settings, access_token=tokens.access_token).me()
    except InvalidGrant:
        return message_page(
            "The sign-in expired",
            "Spotify no longer accepts this sign-in (it was used already or took too long). "
            "Please start again.",
            400,
            **START_AGAIN,
        )
    except NotAllowlisted:
        return not_allowlisted_page()
    except SpotifyError as exc:
        logger.warning("Spotify failed during sign-in: %s (status %s)", exc.message, exc.status)
        return message_page(
            "Spotify is not answering properly",
            "We could not finish linking your account because Spotify had a problem. Nothing "
            "was saved. Please try again in a few minutes.",
            502,
            **START_AGAIN,
        )
    account_id = str(profile.get("account_id") or profile.get("id") or "")
    if not account_id:
        return message_page(
            "Spotify did not say who you are",
            "Spotify's answer had no account id. Nothing was saved. Please try again later.",
            502,
            **START_AGAIN,
        )
    return link_account(pending, account_id, profile.get("display_name"), tokens)


def scope_page(problem: str) -> PageResponse:
    """Why a consent that grants too little or too much was not kept."""
    logger.warning("consent refused: the granted scope is %s", problem)
    if problem == "missing":
        return message_page(
            "Spotify did not let us read the artists you follow",
            "That permission (“user-follow-read”) is the one thing this service needs: without "
            "it we cannot tell which releases to send you. Nothing was saved. Start again and "
            "agree to it on Spotify's page.",
            403,
            **START_AGAIN,
        )
    return message_page(
        "Spotify granted more than this service asks for",
        "This service only reads the artists you follow and keeps no other access to your "
        "account, so this sign-in was not saved. Start again from this site, without changing "
        "the link to Spotify.",
        403,
        **START_AGAIN,
    )


def not_allowlisted_page() -> PageResponse:
    return message_page(
        "Your Spotify account is not on this service's list yet",
        "Spotify only lets a self-hosted app like this one serve up to 5 people, each added "
        "by the person who runs it. Ask them to add the email address of your Spotify "
        "account under “User Management” in the Spotify Developer Dashboard, then sign up "
        "again. Nothing was saved.",
        403,
        **START_AGAIN,
    )


def link_account(
    pending: PendingSignup, account_id: str, display_name: object, tokens: TokenSet
) -> Response | PageResponse:
    context = app_context()
    now = utcnow()
    try:
        with context.database.session() as session:
            result = accounts.link_spotify_account(
                session,
                context.settings,
                pending=pending,
                account_id=account_id,
                display_name=str(display_name)[:200] if display_name else None,
                refresh_token=tokens.refresh_token,
                now=now,
            )
            accounts.tell_address_owner(session, result, now)
            user_id = result.user.id
    except accounts.SignupRefused as exc:
        return message_page("This Spotify account cannot be linked here", str(exc), 409)
    back_up_after("spotify link")
    if result.outcome is accounts.LinkOutcome.RELINKED:
        return redirect(url_for("auth.linked"), code=303)
    context.queue.enqueue_notices(user_id)
    browser_session[SENT_TO] = pending.email
    return redirect(url_for("auth.sent"), code=303)


@bp.get("/sent")
def sent() -> PageResponse:
    """The one answer to every signup, whether or not the address has a subscription: what
    happened is said in the email, which only the address owner reads."""
    email = browser_session.get(SENT_TO)
    to = email if isinstance(email, str) and email else "the address you gave"
    return message_page(
        "Check your inbox",
        f"We sent an email to {to}. Open the link in it (on any device) to finish. "
        f"Until then nothing changes, and we send nothing else to that address.",
        links=outbox_links(),
    )


@bp.get("/linked")
def linked() -> PageResponse:
    """Where a re-link from a signed link ends."""
    return message_page(
        "Spotify is linked again",
        "Your subscription and its history are kept. Releases found while the link was "
        "broken will be in your next digest.",
    )


@bp.get("/relink/<token>")
def relink(token: str) -> Response | PageResponse:
    """From the re-link email: start the authorization again for this subscription."""
    context = app_context()
    try:
        with context.database.session() as session:
            user = accounts.user_for_link(session, context.settings, "relink", token)
            if user is None:
                return gone_page()
            state = accounts.start_relink(session, user, utcnow()).state
    except BadLink as exc:
        return bad_link_page(exc)
    return oauth_state.send_to_spotify(context.settings, state, show_dialog=True)
