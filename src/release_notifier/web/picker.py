"""What the two artist choosers share (signup's "choose artists" and a subscriber's artists page):
search, lists of links and names, the cap on chosen artists and the budget's promise."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask import request
from sqlalchemy import select
from sqlalchemy.orm import Session

from release_notifier.artists.finder import QUERY_MAX, Finder, FinderUnavailable, ListReport
from release_notifier.db.models import Artist
from release_notifier.jobs.promise import promise_after_adding
from release_notifier.spotify.app_token import app_client
from release_notifier.spotify.budget import RequestBudget
from release_notifier.spotify.lookups import ArtistHit, ArtistRef
from release_notifier.web.context import app_context
from release_notifier.web.forms import ListForm, SearchForm

logger = logging.getLogger(__name__)

LOOKUP_LIMIT = "20 per minute;200 per hour"  # each search or list asks Spotify
CHOOSE_LIMIT = "60 per minute;600 per hour"  # adding and removing ask nothing of Spotify


@dataclass
class Added:
    """What adding found artists did: added, there already, or refused by the cap."""

    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    over_limit: list[str] = field(default_factory=list)


@dataclass
class Lookup:
    """A search's hits or a list's report, or the plain reason neither could be had."""

    query: str = ""
    hits: list[ArtistHit] | None = None
    report: ListReport | None = None
    added: Added | None = None
    problem: str | None = None
    status: int = 200  # 400 for bad input, 503 when Spotify cannot be asked now


def finder() -> Finder:
    """Look-ups on the app's own token, counted in the shared request budget."""
    context = app_context()
    settings, database = context.settings, context.database
    budget = RequestBudget(database, settings.spotify_daily_request_budget)
    return Finder(database, app_client(settings, database, budget=budget))


def is_search() -> bool:
    """A GET that asks Spotify (it carries a query): rate-limited like other look-ups."""
    return bool(request.args.get("q", "").strip())


def search_from() -> Lookup:
    """The search the page's query (`q`) asks for; none without a query."""
    form = SearchForm(formdata=request.args)
    query = (form.q.data or "").strip()
    if not query:
        return Lookup()
    if not form.validate():
        return Lookup(query=query[:QUERY_MAX], problem=form.q.errors[0], status=400)
    try:
        return Lookup(query=query, hits=finder().search(query))
    except FinderUnavailable as exc:
        return Lookup(query=query, problem=str(exc), status=503)


def list_text(form: ListForm) -> str | None:
    """The typed lines and the uploaded file's, or None with the reason on the form."""
    if not form.validate():
        return None
    text = form.lines.data or ""
    upload = form.upload.data
    if upload:
        try:
            text += "\n" + upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            form.upload.errors = ["That file is not plain text (UTF-8). Save it as .txt."]
            return None
    if not text.strip():
        form.lines.errors = ["Paste at least one link or name, or choose a file."]
        return None
    return text


def read_list(form: ListForm, add: Callable[[list[ArtistRef]], Added]) -> Lookup:
    """Resolve the posted list and add what it clearly names."""
    text = list_text(form)
    if text is None:
        return Lookup(status=422)
    try:
        report = finder().read_list(text)
    except FinderUnavailable as exc:
        return Lookup(problem=str(exc), status=503)
    return Lookup(report=report, added=add(report.found))


def add_within(
    current: set[str], found: Iterable[ArtistRef], room: int, take: Callable[[str], bool]
) -> Added:
    """Offer each found artist once to `take` (False: already there) while `room` lasts."""
    result = Added()
    for artist in dict.fromkeys(found):
        if artist.id in current:
            result.already.append(artist.name)
        elif room <= 0:
            result.over_limit.append(artist.name)
        elif take(artist.id):
            current.add(artist.id)
            result.added.append(artist.name)
            room -= 1
        else:
            result.already.append(artist.name)
    return result


def known_artists(session: Session, artist_ids: Iterable[str]) -> list[Artist]:
    """The stored artists among `artist_ids` (found by a search or a list), by name."""
    ids = list(artist_ids)
    if not ids:
        return []
    rows = session.scalars(select(Artist).where(Artist.id.in_(ids)))
    return sorted(rows, key=lambda artist: (artist.name.casefold(), artist.id))


def promise_note(extra_artist_ids: Iterable[str], interval_days: float | None = None) -> str | None:
    """What to tell a subscriber when their artists (added to everyone's) would be more than
    the request budget checks before every digest; None while it keeps its promise."""
    context = app_context()
    promise = promise_after_adding(
        context.database, context.settings, list(extra_artist_ids), interval_days=interval_days
    )
    return promise.for_subscriber()


def added_message(added: Added, limit: int) -> list[str]:
    """Lines that say what adding did, for the page."""
    lines = []
    if added.added:
        lines.append(f"Added: {', '.join(added.added)}.")
    if added.already:
        lines.append(f"Already in your list: {', '.join(added.already)}.")
    if added.over_limit:
        lines.append(
            f"Not added, because at most {limit} artists can be chosen here: "
            f"{', '.join(added.over_limit)}. Remove some first."
        )
    return lines
