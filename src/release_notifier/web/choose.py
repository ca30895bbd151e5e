"""Signup by choosing artists, with only an email address (no Spotify account).

The artists picked so far live in the browser's signed session cookie (ids only; names and
images are stored when a search or a list finds them) until the address is given; then an
unconfirmed subscription is made with them and the same double opt-in as every signup follows.
"""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, url_for
from flask import session as browser_session
from werkzeug.wrappers import Response

from release_notifier import accounts
from release_notifier.clock import utcnow
from release_notifier.db.models import Artist
from release_notifier.spotify.lookups import ArtistRef
from release_notifier.web.auth import SENT_TO
from release_notifier.web.context import app_context, back_up_after
from release_notifier.web.forms import ArtistForm, ButtonForm, ListForm, SearchForm, SignupForm
from release_notifier.web.pages import PageResponse, message_page
from release_notifier.web.picker import (
    Added,
    Lookup,
    add_within,
    added_message,
    known_artists,
    promise_note,
    read_list,
    search_from,
)
from release_notifier.web.signup import address_from

logger = logging.getLogger(__name__)

bp = Blueprint("choose", __name__, url_prefix="/choose")

PICKS = "chosen_artists"  # session key: the ids picked so far, in the order picked
PICKS_MAX = 100  # the session cookie must stay under a browser's 4 KB: ~25 bytes an id


def picks_limit() -> int:
    """How many artists a signup may pick: CHOSEN_ARTISTS_LIMIT, at most PICKS_MAX (more can be
    added from the settings page once subscribed)."""
    return min(app_context().settings.chosen_artists_limit, PICKS_MAX)


def picks() -> list[str]:
    value = browser_session.get(PICKS)
    return [str(item) for item in value] if isinstance(value, list) else []


def keep_picks(artist_ids: list[str]) -> None:
    browser_session[PICKS] = artist_ids


def add_picks(found: list[ArtistRef]) -> Added:
    """Add found artists to the browser's picks, up to CHOSEN_ARTISTS_LIMIT."""
    chosen = picks()
    room = picks_limit() - len(chosen)

    def take(artist_id: str) -> bool:
        chosen.append(artist_id)
        return True

    added = add_within(set(chosen), found, room, take)
    keep_picks(chosen)
    return added


def render_choose(
    lookup: Lookup | None = None,
    *,
    form: SignupForm | None = None,
    list_form: ListForm | None = None,
    status: int = 200,
) -> PageResponse:
    """The choose-artists page: search, list, the artists picked so far, the address."""
    context = app_context()
    chosen = picks()
    with context.database.session() as session:
        artists = known_artists(session, chosen)
        session.expunge_all()
    lookup = lookup or Lookup()
    return render_template(
        "choose.html",
        lookup=lookup,
        added_lines=added_message(lookup.added, picks_limit()) if lookup.added else [],
        artists=artists,
        chosen_ids=set(chosen),
        limit=picks_limit(),
        promise_note=promise_note(chosen) if chosen else None,
        form=form or SignupForm(),
        search_form=SearchForm(),
        list_form=list_form or ListForm(formdata=None),
        buttons=ButtonForm(),
        base=url_for("choose.page"),
        lookback_days=context.settings.initial_lookback_days,
    ), status


@bp.get("")
def page() -> PageResponse:
    """The page; with `q`, the search results too (up to ten, with image and followers)."""
    lookup = search_from()
    return render_choose(lookup, status=lookup.status)


@bp.post("/list")
def add_list() -> PageResponse:
    """Links and names, one a line: what matched is added, the rest is reported."""
    form = ListForm()
    lookup = read_list(form, add_picks)
    kept = form if lookup.status != 200 else None  # a list that was read is not shown again
    return render_choose(lookup, list_form=kept, status=lookup.status)


def posted_artist() -> Artist | None:
    """The artist a button posts, if it is one a search or a list found."""
    form = ArtistForm()
    if not form.validate():
        return None
    with app_context().database.session() as session:
        artist = session.get(Artist, form.artist.data)
        if artist is not None:
            session.expunge(artist)
        return artist


def unknown_artist_page() -> PageResponse:
    return message_page(
        "That artist is not one we found",
        "Search for the artist again and use the Add button next to them.",
        400,
        action_url=url_for("choose.page"),
        action_label="Back to choosing",
    )


@bp.post("/add")
def add() -> Response | PageResponse:
    artist = posted_artist()
    if artist is None:
        return unknown_artist_page()
    added = add_picks([ArtistRef(artist.id, artist.name)])
    for line in added_message(added, picks_limit()):
        flash(line)
    return redirect(url_for("choose.page"), code=303)


@bp.post("/remove")
def remove() -> Response | PageResponse:
    artist = posted_artist()
    if artist is None:
        return unknown_artist_page()
    chosen = picks()
    if artist.id in chosen:
        keep_picks([artist_id for artist_id in chosen if artist_id != artist.id])
        flash(f"Removed {artist.name}.")
    return redirect(url_for("choose.page"), code=303)


@bp.post("/subscribe")
def subscribe() -> Response | PageResponse:
    """With at least one artist and a usable address: an unconfirmed subscription and the
    confirmation email (or, for a known address, an email to its owner); the same answer."""
    context = app_context()
    form = SignupForm()
    email = address_from(form)
    chosen = picks()
    if email is None:
        return render_choose(form=form, status=422)
    if not chosen:
        form.email.errors = ["Choose at least one artist first."]
        return render_choose(form=form, status=422)
    now = utcnow()
    with context.database.session() as session:
        present = [artist.id for artist in known_artists(session, chosen)]
        result = accounts.start_chosen_signup(session, context.settings, email, present, now)
        accounts.tell_address_owner(session, result, now)
        user_id = result.user.id
    back_up_after("chosen signup")
    context.queue.enqueue_notices(user_id)
    browser_session.pop(PICKS, None)
    browser_session[SENT_TO] = email
    return redirect(url_for("auth.sent"), code=303)
