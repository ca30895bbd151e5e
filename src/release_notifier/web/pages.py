"""Plain pages that tell a person what happened and what to do next."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypedDict, TypeVar

from flask import render_template, url_for
from sqlalchemy.orm import Session

from release_notifier import accounts
from release_notifier.db.models import User
from release_notifier.links import BadLink
from release_notifier.web.context import app_context
from release_notifier.web.forms import SignupForm

PageResponse = tuple[str, int]


class Action(TypedDict):
    """The one way forward a message page offers (its button)."""

    action_url: str
    action_label: str


T = TypeVar("T")


def message_page(
    title: str,
    body: str,
    status: int = 200,
    *,
    action_url: str | None = None,
    action_label: str | None = None,
    links: Sequence[tuple[str, str]] = (),
) -> PageResponse:
    """A page with a heading, a paragraph, at most one way forward and a few (url, label) links."""
    page = render_template(
        "message.html",
        title=title,
        body=body,
        action_url=action_url,
        action_label=action_label,
        links=links,
    )
    return page, status


def outbox_links() -> list[tuple[str, str]]:
    """In the demo sandbox, a link to the outbox its emails land in; elsewhere none."""
    if app_context().demo is None:
        return []
    return [(url_for("outbox.index"), "Open the demo outbox, where this sandbox's emails land")]


def waiting_time(seconds: int) -> str:
    """60 -> "a minute", 3600 -> "an hour", 300 -> "5 minutes"."""
    if seconds >= 3600:
        hours = round(seconds / 3600)
        return "an hour" if hours == 1 else f"{hours} hours"
    minutes = max(1, round(seconds / 60))
    return "a minute" if minutes == 1 else f"{minutes} minutes"


def slow_down_page(window_seconds: int) -> PageResponse:
    """429: what happened and what to do, in words (never "5 per 1 minute")."""
    return message_page(
        "Slow down a little",
        f"This was tried too many times from your network in a short while, so we stopped "
        f"for a moment to keep the service safe. Wait {waiting_time(window_seconds)}, then "
        f"try again. Waiting for one of our emails? It may already be in your inbox or spam "
        f"folder.",
        429,
        action_url="/",
        action_label="Back to the start",
    )


def request_form_page(
    form: SignupForm | None = None,
    status: int = 200,
    *,
    title: str = "Email me my settings link",
    body: str = "Every email we send links to your settings. No recent one at hand? Enter "
    "your address and we email you a fresh link.",
) -> PageResponse:
    """The form that asks for a settings link (`/settings`), under a heading that says why."""
    page = render_template(
        "settings_request.html", form=form or SignupForm(), title=title, body=body
    )
    return page, status


def bad_link_page(exc: BadLink) -> PageResponse:
    """400 for a forged or damaged link, 410 for an expired one; both offer a fresh link."""
    if exc.reason == "expired":
        return request_form_page(
            status=410,
            title="This link has expired",
            body="Links in our emails only work for a while. Enter your address and we email "
            "you a fresh link to your settings (or, if you had not confirmed it yet, the "
            "confirmation again).",
        )
    return request_form_page(
        status=400,
        title="This link is not valid",
        body="The link is damaged or was not made by this service. Copy the whole link from "
        "the email, or enter your address and we email you a fresh one.",
    )


def gone_page() -> PageResponse:
    return message_page(
        "No subscription here",
        "This subscription no longer exists (its data was deleted). You can sign up again "
        "at any time.",
        404,
        action_url="/",
        action_label="Sign up",
    )


def with_link_user(
    purpose: str, token: str, action: Callable[[Session, User], T]
) -> T | PageResponse:
    """Run `action` in one transaction on the user a signed link names, or explain the link."""
    context = app_context()
    try:
        with context.database.session() as session:
            user = accounts.user_for_link(session, context.settings, purpose, token)
            if user is None:
                return gone_page()
            return action(session, user)
    except BadLink as exc:
        return bad_link_page(exc)
