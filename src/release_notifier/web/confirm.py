"""Double opt-in: GET shows a button (mail scanners follow links), POST confirms."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy.orm import Session

from release_notifier import accounts
from release_notifier.clock import utcnow
from release_notifier.db.models import User
from release_notifier.links import link_url
from release_notifier.releases.choices import backfill_chosen
from release_notifier.subscribers import digest_interval
from release_notifier.web.context import app_context, back_up_after
from release_notifier.web.forms import ButtonForm
from release_notifier.web.pages import PageResponse, message_page, outbox_links, with_link_user

bp = Blueprint("confirm", __name__, url_prefix="/confirm")


@bp.get("/<token>")
def page(token: str) -> PageResponse:
    def show(_session: Session, user: User) -> PageResponse:
        if user.confirmed_at is not None:
            return confirmed_page(user, again=True)
        return render_template("confirm.html", form=ButtonForm(), email=user.email), 200

    return with_link_user("confirm", token, show)


@bp.post("/<token>")
def confirm(token: str) -> PageResponse:
    """Confirm the address and queue the initial digest; confirming twice is harmless."""
    if not ButtonForm().validate():
        return message_page("Please press the button again", "The form had expired.", 400)
    confirmed: list[bool] = []

    def do_confirm(session: Session, user: User) -> PageResponse:
        now = utcnow()
        confirmed.append(accounts.confirm_user(user, now))
        if confirmed[0]:
            lookback = app_context().settings.initial_lookback_days
            backfill_chosen(session, user, now, lookback)
        return confirmed_page(user, again=not confirmed[0])

    response = with_link_user("confirm", token, do_confirm)
    if confirmed and confirmed[0]:
        app_context().queue.enqueue_work("confirm")
        back_up_after("confirmed signup")
    return response


def confirmed_page(user: User, *, again: bool) -> PageResponse:
    settings = app_context().settings
    interval = accounts.describe_interval(digest_interval(settings, user.digest_interval_days))
    body = (
        "Your address was already confirmed; nothing changed."
        if again
        else f"Your first digest, with releases from the past {settings.initial_lookback_days} "
        f"days, is on its way. After that you get one {interval}; change that any time."
    )
    return message_page(
        "You're subscribed",
        body,
        action_url=link_url(settings, "settings", user.id, user.link_version),
        action_label="Your settings",
        links=outbox_links(),
    )
