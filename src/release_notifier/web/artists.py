"""A subscriber's artists, from the settings link: the list with remove (added artists), mute and
unmute (artists followed on Spotify, which is never changed), and adding more by search, links
or a list, up to CHOSEN_ARTISTS_LIMIT added artists."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from release_notifier.clock import utcnow
from release_notifier.db.models import Artist, User
from release_notifier.releases.choices import (
    Choice,
    choose_artist,
    chosen_count,
    drop_artist,
    follows_artist,
    subscriber_artists,
)
from release_notifier.spotify.lookups import ArtistRef
from release_notifier.web.context import app_context
from release_notifier.web.forms import ArtistForm, ButtonForm, ListForm, SearchForm
from release_notifier.web.pages import PageResponse, message_page, with_link_user
from release_notifier.web.picker import (
    Added,
    Lookup,
    add_within,
    added_message,
    promise_note,
    read_list,
    search_from,
)
from release_notifier.web.preferences import FORM_EXPIRED, backed_up

logger = logging.getLogger(__name__)

bp = Blueprint("artists", __name__, url_prefix="/settings/<token>/artists")


def add_for(session: Session, user: User, found: list[ArtistRef]) -> Added:
    """Add found artists for the subscriber (unmuting muted ones), up to the cap on added."""
    settings = app_context().settings
    listed = subscriber_artists(session, user.id)
    current = {artist.id for artist in listed if not artist.muted}
    room = settings.chosen_artists_limit - chosen_count(session, user.id)
    now = utcnow()

    def take(artist_id: str) -> bool:
        outcome = choose_artist(session, user, artist_id, now, settings.initial_lookback_days)
        return outcome is not Choice.ALREADY

    return add_within(current, found, room, take)


def render_artists(
    session: Session,
    user: User,
    token: str,
    lookup: Lookup | None = None,
    *,
    list_form: ListForm | None = None,
    status: int = 200,
) -> PageResponse:
    settings = app_context().settings
    listed = subscriber_artists(session, user.id)
    lookup = lookup or Lookup()
    return render_template(
        "artists.html",
        user=user,
        listed=listed,
        lookup=lookup,
        added_lines=added_message(lookup.added, settings.chosen_artists_limit)
        if lookup.added
        else [],
        chosen_ids={artist.id for artist in listed if not artist.muted},
        chosen=chosen_count(session, user.id),
        limit=settings.chosen_artists_limit,
        promise_note=promise_note([], user.digest_interval_days),
        search_form=SearchForm(),
        list_form=list_form or ListForm(formdata=None),
        buttons=ButtonForm(),
        base=url_for("artists.page", token=token),
        settings_url=url_for("preferences.page", token=token),
    ), status


@bp.get("")
def page(token: str) -> PageResponse:
    """The subscriber's artists; with `q`, search results to add from."""

    def show(session: Session, user: User) -> PageResponse:
        lookup = search_from()
        return render_artists(session, user, token, lookup, status=lookup.status)

    return with_link_user("settings", token, show)


@bp.post("/list")
def add_list(token: str) -> PageResponse:
    form = ListForm()

    def apply(session: Session, user: User) -> PageResponse:
        lookup = read_list(form, lambda found: add_for(session, user, found))
        kept = form if lookup.status != 200 else None  # a list that was read is not shown again
        return render_artists(session, user, token, lookup, list_form=kept, status=lookup.status)

    return backed_up(with_link_user("settings", token, apply), "chosen artists")


def artist_action(
    token: str, change: Callable[[Session, User, Artist], str]
) -> Response | PageResponse:
    """Apply a button's change to one artist the subscriber's list or a search showed."""
    form = ArtistForm()
    if not form.validate():
        return message_page(*FORM_EXPIRED, 400)

    def apply(session: Session, user: User) -> Response | PageResponse:
        artist = session.get(Artist, form.artist.data)
        if artist is None:
            return message_page(
                "That artist is not one we found",
                "Search for the artist again and use the button next to them.",
                400,
                action_url=url_for("artists.page", token=token),
                action_label="Back to your artists",
            )
        flash(change(session, user, artist))
        return redirect(url_for("artists.page", token=token), code=303)

    return backed_up(with_link_user("settings", token, apply), "chosen artists")


@bp.post("/add")
def add(token: str) -> Response | PageResponse:
    """Add an artist, or unmute a muted one."""

    def add_one(session: Session, user: User, artist: Artist) -> str:
        added = add_for(session, user, [ArtistRef(artist.id, artist.name)])
        return " ".join(added_message(added, app_context().settings.chosen_artists_limit))

    return artist_action(token, add_one)


@bp.post("/remove")
def remove(token: str) -> Response | PageResponse:
    """Remove an added artist, or mute a followed one (Spotify is not changed)."""

    def drop_one(session: Session, user: User, artist: Artist) -> str:
        followed = follows_artist(session, user.id, artist.id)
        if not drop_artist(session, user, artist.id, utcnow()):
            return f"{artist.name} was not in your list."
        if followed:
            return (
                f"Muted {artist.name}: their releases no longer reach you. You still follow "
                f"them on Spotify; unmute them here any time."
            )
        return f"Removed {artist.name}."

    return artist_action(token, drop_one)
