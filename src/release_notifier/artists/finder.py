"""Finding artists to choose: by name, by a pasted Spotify link, or from a list of both.

Every look-up is a catalogue read on the app's own token, counted in the request budget. Artists
found are stored (name and image) so a subscriber's choice can name them without asking again.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass, field

from release_notifier.db import Database
from release_notifier.releases.choices import remember_artist
from release_notifier.spotify.budget import current_pause
from release_notifier.spotify.client import SpotifyClient
from release_notifier.spotify.errors import BudgetExhausted, QuotaExceeded, SpotifyError
from release_notifier.spotify.lookups import (
    ArtistHit,
    ArtistRef,
    LinkNotReadable,
    SpotifyLink,
    parse_link,
)

logger = logging.getLogger(__name__)

QUERY_MAX = 100  # characters of a name search
LIST_MAX_LINES = 50  # lines of one list (each costs a request or more)
LIST_MAX_CHARS = 10_000
LINE_MAX = 300  # characters of one line: longer ones are refused, not cut
CHOICES_SHOWN = 5  # candidates offered for a name that matches more than one artist
LINK_HINTS = ("http://", "https://", "spotify:", "open.spotify.com", "spotify.link")


class FinderUnavailable(Exception):
    """Spotify cannot be asked now (a pause, the day's budget, a refusal); the message says
    so in plain words."""


@dataclass(frozen=True)
class Unclear:
    """A name that matches more than one artist (or none exactly): the subscriber picks."""

    line: str
    candidates: list[ArtistHit]


@dataclass(frozen=True)
class Failed:
    line: str
    reason: str


@dataclass
class ListReport:
    """What a list of links and names came to."""

    found: list[ArtistRef] = field(default_factory=list)
    unclear: list[Unclear] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)
    skipped_lines: int = 0  # lines past LIST_MAX_LINES, not read


def same_name(a: str, b: str) -> bool:
    """Names equal up to case, accents' composed form and spacing."""

    def key(name: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", name).casefold().split())

    return key(a) == key(b)


def list_lines(text: str) -> list[str]:
    """The non-blank lines of a pasted or uploaded list, stripped, each once, in order."""
    seen: dict[str, None] = {}
    for line in text.splitlines():
        line = line.strip()
        if line:
            seen.setdefault(line, None)
    return list(seen)


class Finder:
    """Look-ups for the artist chooser, over one app-token client."""

    def __init__(self, database: Database, client: SpotifyClient) -> None:
        self.database = database
        self.client = client

    def search(self, query: str) -> list[ArtistHit]:
        """Up to ten artists matching `query` (one request), stored for choosing."""
        self.ready()
        try:
            hits = self.client.search_artists(query[:QUERY_MAX]).artists
        except SpotifyError as exc:
            raise unavailable(exc) from None
        self.remember(hits)
        return hits

    def read_list(self, text: str) -> ListReport:
        """Resolve each line: a Spotify link gives its artists, a name the one artist of
        exactly that name; several of that name, or only near ones, are left unclear."""
        self.ready()
        report = ListReport()
        lines = list_lines(text[:LIST_MAX_CHARS])
        report.skipped_lines = max(len(lines) - LIST_MAX_LINES, 0)
        for line in lines[:LIST_MAX_LINES]:
            try:
                self.read_line(line, report)
            except (BudgetExhausted, QuotaExceeded) as exc:
                report.failed.append(Failed(line, unavailable(exc).args[0]))
                report.skipped_lines += len(lines[:LIST_MAX_LINES]) - lines.index(line) - 1
                break
        return report

    def read_line(self, line: str, report: ListReport) -> None:
        if len(line) > LINE_MAX:
            report.failed.append(Failed(line[:60] + "…", f"longer than {LINE_MAX} characters"))
            return
        link = parse_link(line)
        if link is not None:
            try:
                artists = self.artists_of(link)
            except (BudgetExhausted, QuotaExceeded):
                raise
            except LinkNotReadable as exc:
                report.failed.append(Failed(line, exc.message))
                return
            except SpotifyError as exc:
                logger.warning("a pasted link could not be read: %s", exc.message)
                report.failed.append(Failed(line, "Spotify did not answer; try again later"))
                return
            report.found += artists
            return
        if any(hint in line.casefold() for hint in LINK_HINTS):
            report.failed.append(
                Failed(line, "not a link to a Spotify artist, album, track or playlist")
            )
            return
        try:
            hits = self.client.search_artists(line[:QUERY_MAX]).artists
        except (BudgetExhausted, QuotaExceeded):
            raise
        except SpotifyError as exc:
            logger.warning("a name could not be looked up: %s", exc.message)
            report.failed.append(Failed(line, "Spotify did not answer; try again later"))
            return
        exact = [hit for hit in hits if same_name(hit.name, line)]
        if len(exact) == 1:
            self.remember(exact)
            report.found.append(ArtistRef(exact[0].id, exact[0].name))
        elif hits:
            candidates = (exact or hits)[:CHOICES_SHOWN]
            self.remember(candidates)
            report.unclear.append(Unclear(line, candidates))
        else:
            report.failed.append(Failed(line, "no artist of that name on Spotify"))

    def artists_of(self, link: SpotifyLink) -> list[ArtistRef]:
        """The artists a link names, stored; an artist link's picture too (one request)."""
        if link.kind == "artist":
            try:
                hit = self.client.artist(link.id)
            except SpotifyError as exc:
                if type(exc) is SpotifyError and exc.status in (400, 403, 404):
                    raise LinkNotReadable(NO_SUCH_ARTIST, status=404) from None
                raise
            self.remember([hit])
            return [ArtistRef(hit.id, hit.name)]
        artists = self.client.artists_of_link(link)
        self.remember_refs(artists)
        return artists

    def ready(self) -> None:
        """Refuse at once while all Spotify work is paused (a quota ban, the owner's Premium)."""
        if current_pause(self.database) is not None:
            raise FinderUnavailable(PAUSED)

    def remember(self, hits: list[ArtistHit]) -> None:
        with self.database.session() as session:
            for hit in hits:
                remember_artist(session, hit.id, hit.name, hit.image_url)

    def remember_refs(self, artists: list[ArtistRef]) -> None:
        with self.database.session() as session:
            for artist in artists:
                remember_artist(session, artist.id, artist.name, None)


NO_SUCH_ARTIST = "Spotify has no artist this app may read at that link"
PAUSED = (
    "Spotify has asked this service to wait, so artists cannot be looked up right now. "
    "Please try again in a few hours."
)


def unavailable(exc: SpotifyError) -> FinderUnavailable:
    """The plain-words reason a look-up could not be made."""
    if isinstance(exc, BudgetExhausted):
        return FinderUnavailable(
            "This service has used today's share of Spotify requests. Please try again "
            "tomorrow; the artists you chose so far are kept."
        )
    if isinstance(exc, QuotaExceeded):
        return FinderUnavailable(PAUSED)
    logger.warning("an artist look-up failed: %s (status %s)", exc.message, exc.status)
    return FinderUnavailable("Spotify did not answer the search. Please try again in a minute.")
