"""The settings page every email links to: frequency, release types, pause, re-link, delete."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import TypeVar

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from release_notifier import accounts
from release_notifier.clock import utcnow
from release_notifier.db.models import User
from release_notifier.feeds import ensure_feed_token, feed_urls
from release_notifier.links import link_url
from release_notifier.notices import token_expires_at
from release_notifier.pushes.store import user_channels
from release_notifier.releases.choices import subscriber_artists
from release_notifier.subscribers import digest_interval
from release_notifier.web import oauth_state
from release_notifier.web.context import app_context, back_up_after
from release_notifier.web.forms import ButtonForm, CadenceForm, ChannelForm, PreferencesForm
from release_notifier.web.pages import PageResponse, message_page, with_link_user

logger = logging.getLogger(__name__)

bp = Blueprint("preferences", __name__, url_prefix="/settings")

R = TypeVar("R")
FORM_EXPIRED = ("Please try again", "The form had expired; reload the page and try again.")


def render_settings(
    session: Session,
    user: User,
    form: PreferencesForm | None = None,
    status: int = 200,
    *,
    channel_form: ChannelForm | None = None,
) -> PageResponse:
    """The settings page, with what we know: the subscriber's artists (followed, added, muted),
    when the follow list was read, next digest, the subscriber's feed URLs (their token is made
    the first time they are shown) and push channels."""
    settings = app_context().settings
    now = utcnow()
    artists = subscriber_artists(session, user.id)
    muted = sum(artist.muted for artist in artists)
    return render_template(
        "settings.html",
        artist_count=len(artists) - muted,
        muted_count=muted,
        user=user,
        # Forms post under the page's own path, also when a POST elsewhere renders the page.
        page_path=url_for("preferences.page", token=(request.view_args or {})["token"]),
        form=form or preferences_form(user),
        buttons=ButtonForm(),
        interval=accounts.describe_interval(digest_interval(settings, user.digest_interval_days)),
        expires_at=token_expires_at(user),
        followed=accounts.followed_artist_count(session, user),
        next_digest=day_label(accounts.next_digest_on(user, now), now.date()),
        unsubscribe_url=link_url(settings, "unsubscribe", user.id, user.link_version),
        feeds=feed_urls(settings.public_base_url, ensure_feed_token(user)),
        **channels_context(session, user, channel_form),
    ), status


def preferences_form(user: User) -> PreferencesForm:
    """The digest form as the user's settings fill it."""
    settings = app_context().settings
    return PreferencesForm(
        frequency=accounts.frequency_name(settings, user) or "fortnightly",
        release_types=sorted(user.wanted_types),
    )


def channels_context(
    session: Session, user: User, channel_form: ChannelForm | None
) -> dict[str, object]:
    """The push section: the channels by label, the add form (in the demo, filled in with the
    sandbox's webhook receiver) and whether the operator turned channels on."""
    context = app_context()
    if channel_form is None:
        channel_form = ChannelForm(formdata=None)
        if context.demo is not None and context.demo.pushes is not None:
            channel_form.url.data = context.demo.pushes.apprise_url
    return {
        "channels_enabled": context.settings.channels_enabled,
        "channels": user_channels(session, user.id),
        "channel_form": channel_form,
        "cadence_forms": CadenceForm,
    }


def day_label(day: date | None, today: date) -> str | None:
    """The day written out ("Tuesday 15 December 2026"), or "today"; None stays None."""
    if day is None:
        return None
    return "today" if day <= today else f"{day:%A} {day.day} {day:%B %Y}"


def backed_up(result: R, reason: str) -> R:
    """Pass `result` on, asking for a backup when the change went through."""
    succeeded = isinstance(result, Response) or (isinstance(result, tuple) and result[1] < 400)
    if succeeded:
        back_up_after(reason)
    return result


@bp.get("/<token>")
def page(token: str) -> PageResponse:
    def show(session: Session, user: User) -> PageResponse:
        return render_settings(session, user)

    return with_link_user("settings", token, show)


@bp.post("/<token>")
def save(token: str) -> Response | PageResponse:
    form = PreferencesForm()

    def apply(session: Session, user: User) -> Response | PageResponse:
        if not form.validate():
            return render_settings(session, user, form, 422)
        accounts.update_preferences(
            user,
            frequency=form.frequency.data or "",
            release_types=list(form.release_types.data or []),
            now=utcnow(),
        )
        flash("Saved.")
        return redirect(url_for("preferences.page", token=token), code=303)

    return backed_up(with_link_user("settings", token, apply), "preferences")


@bp.post("/<token>/pause")
def pause(token: str) -> Response | PageResponse:
    return button_action(token, accounts.pause, "Paused. Nothing is sent until you resume.")


@bp.post("/<token>/resume")
def resume(token: str) -> Response | PageResponse:
    return button_action(
        token, lambda user: accounts.resume(user, utcnow()), "Resumed. Digests are on again."
    )


@bp.post("/<token>/monthly")
def monthly(token: str) -> Response | PageResponse:
    """One digest a month, same kinds of release: the lighter choice the unsubscribe page offers."""

    def to_monthly(user: User) -> None:
        accounts.update_preferences(
            user, frequency="monthly", release_types=sorted(user.wanted_types), now=utcnow()
        )

    return button_action(token, to_monthly, "Saved: one digest a month from now on.")


@bp.post("/<token>/resubscribe")
def resubscribe(token: str) -> Response | PageResponse:
    return button_action(
        token,
        lambda user: accounts.resubscribe(user, utcnow()),
        "Welcome back: digests are on again.",
    )


def button_action(
    token: str, change: Callable[[User], object], done: str
) -> Response | PageResponse:
    if not ButtonForm().validate():
        return message_page(*FORM_EXPIRED, 400)

    def apply(_session: Session, user: User) -> Response:
        change(user)
        flash(done)
        return redirect(url_for("preferences.page", token=token), code=303)

    return backed_up(with_link_user("settings", token, apply), "preferences")


@bp.post("/<token>/relink")
def relink(token: str) -> Response | PageResponse:
    """Start the Spotify authorization again for this subscription."""
    if not ButtonForm().validate():
        return message_page(*FORM_EXPIRED, 400)
    context = app_context()
    context.settings.require("spotipy_client_id", "spotipy_client_secret")

    def start(session: Session, user: User) -> Response:
        state = accounts.start_relink(session, user, utcnow()).state
        return oauth_state.send_to_spotify(context.settings, state, show_dialog=True)

    return with_link_user("settings", token, start)


@bp.get("/<token>/delete")
def delete_page(token: str) -> PageResponse:
    def show(_session: Session, user: User) -> PageResponse:
        return render_template("delete.html", form=ButtonForm(), email=user.email, token=token), 200

    return with_link_user("settings", token, show)


@bp.post("/<token>/delete")
def delete(token: str) -> PageResponse:
    """The second click: remove the user, their tokens and their ledger."""
    if not ButtonForm().validate():
        return message_page(*FORM_EXPIRED, 400)

    def remove(session: Session, user: User) -> PageResponse:
        accounts.delete_user_data(session, user)
        return message_page(
            "Your data is deleted",
            "Your address, your Spotify link and the list of releases we sent you are gone. "
            "You can sign up again at any time.",
            action_url="/",
            action_label="Back to the start",
        )

    return backed_up(with_link_user("settings", token, remove), "deleted data")
