"""POST /settings/<token>/channels...: add a push channel by its Apprise URL, send it a test
message, choose its cadence, remove it. The URL is never logged or shown again once stored."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from release_notifier.channels.apprise import ChannelUrlError, check_url
from release_notifier.clock import utcnow
from release_notifier.db.models import PushChannel, User
from release_notifier.pushes.store import (
    MAX_CHANNELS,
    TooManyChannels,
    add_channel,
    channel_of,
    remove_channel,
    send_test,
    set_cadence,
)
from release_notifier.web.context import app_context
from release_notifier.web.forms import ButtonForm, CadenceForm, ChannelForm
from release_notifier.web.pages import PageResponse, message_page, with_link_user
from release_notifier.web.preferences import FORM_EXPIRED, backed_up, render_settings

logger = logging.getLogger(__name__)

bp = Blueprint("channels", __name__, url_prefix="/settings/<token>/channels")

CHANNEL_LIMIT = "10 per minute;60 per hour"  # each add or test may reach out to a service


def back_to_settings(token: str) -> Response:
    return redirect(url_for("preferences.page", token=token, _anchor="push"), code=303)


def refuse_url(session: Session, user: User, form: ChannelForm, problem: str) -> PageResponse:
    """422 with the problem under the URL field; the URL typed is not echoed back."""
    form.url.errors = [problem]
    form.url.data = ""
    return render_settings(session, user, status=422, channel_form=form)


@bp.post("")
def add(token: str) -> Response | PageResponse:
    form = ChannelForm()
    if not app_context().settings.channels_enabled:
        return message_page(
            "Push channels are turned off",
            "Push channels are turned off on this service; your emails carry on as before.",
            422,
        )

    def apply(session: Session, user: User) -> Response | PageResponse:
        if not form.validate():
            if form.csrf_token.errors:
                return message_page(*FORM_EXPIRED, 400)
            form.url.data = ""
            return render_settings(session, user, status=422, channel_form=form)
        settings = app_context().settings
        try:
            checked = check_url(settings, form.url.data or "")
            add_channel(session, settings, user, checked, form.cadence.data or "", utcnow())
        except ChannelUrlError as exc:
            return refuse_url(session, user, form, str(exc))
        except TooManyChannels:
            return refuse_url(
                session, user, form, f"You have {MAX_CHANNELS} channels; remove one first."
            )
        flash(f"Added {checked.label}. Send it a test message to see that it works.")
        return back_to_settings(token)

    return backed_up(with_link_user("settings", token, apply), "push channel")


def on_channel(
    token: str, channel_id: int, form_valid: bool, change: Callable[[Session, PushChannel], str]
) -> Response | PageResponse:
    """Apply `change` to one of the link user's channels (404 for anyone else's) and show
    the message it returns."""
    if not form_valid:
        return message_page(*FORM_EXPIRED, 400)

    def apply(session: Session, user: User) -> Response:
        channel = channel_of(session, user, channel_id)
        if channel is None:
            abort(404)
        flash(change(session, channel))
        return back_to_settings(token)

    return with_link_user("settings", token, apply)


@bp.post("/<int:channel_id>/test")
def test(token: str, channel_id: int) -> Response | PageResponse:
    def send(session: Session, channel: PushChannel) -> str:
        user = session.get(User, channel.user_id)
        assert user is not None
        delivery = send_test(app_context().settings, channel, user.email)
        if delivery.sent:
            return f"Test message sent to {channel.label}."
        return f"The test message to {channel.label} did not go through: {delivery.reason}."

    return on_channel(token, channel_id, ButtonForm().validate(), send)


@bp.post("/<int:channel_id>/cadence")
def cadence(token: str, channel_id: int) -> Response | PageResponse:
    form = CadenceForm()

    def choose(_session: Session, channel: PushChannel) -> str:
        set_cadence(channel, form.cadence.data or "")
        when = "as soon as found" if channel.cadence == "instant" else "with your email digest"
        return f"Saved: {channel.label} gets new releases {when}."

    return backed_up(on_channel(token, channel_id, form.validate(), choose), "push channel")


@bp.post("/<int:channel_id>/remove")
def remove(token: str, channel_id: int) -> Response | PageResponse:
    def forget(session: Session, channel: PushChannel) -> str:
        label = channel.label
        remove_channel(session, channel)
        return f"Removed {label}."

    return backed_up(on_channel(token, channel_id, ButtonForm().validate(), forget), "push channel")
