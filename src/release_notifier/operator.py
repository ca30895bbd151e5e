"""The operator (OPERATOR_EMAIL, optional) is told once by email when Spotify stops all work of
the app: the owner's Premium lapsed (403 on every call) or a quota ban.

"Once" means once per stop: the marker is cleared when a later run finds Spotify answering, so a
second lapse is told again; a retry every few hours that meets the same stop tells nobody.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from release_notifier.db import Database
from release_notifier.db.models import State
from release_notifier.mail.render import build_message
from release_notifier.mail.send import MailError, SmtpSender
from release_notifier.settings import Settings
from release_notifier.spotify.budget import current_pause

logger = logging.getLogger(__name__)

TOLD = "operator_told_spotify_stopped"
DASHBOARD_URL = "https://developer.spotify.com/dashboard"
REASONS = {  # kind -> (subject words, what Spotify says, what to do)
    "premium": (
        "the app owner's Premium lapsed",
        'Spotify answers 403 "Active premium subscription required for the owner of the app" '
        "to every call: the Spotify account that owns the app no longer has Premium.",
        "renew Spotify Premium on the account that owns the app (the one that created it in the "
        "developer dashboard). Nothing else needs changing; work resumes by itself.",
    ),
    "quota": (
        "quota ban",
        "Spotify answers 429 QUOTA_EXCEEDED: the app used up Spotify's unpublished quota and is "
        "banned for a while (observed bans last 13-23 hours).",
        "nothing: the ban lifts by itself. If it happens again, lower "
        "SPOTIFY_DAILY_REQUEST_BUDGET.",
    ),
}


def stopped_context(kind: str, until: datetime, *, retry_hours: float | None) -> dict[str, Any]:
    """The template context of a `spotify_stopped` email."""
    title, text, advice = REASONS.get(kind, REASONS["quota"])
    return {
        "reason_title": title,
        "reason_text": text,
        "advice": advice,
        "until_label": until.strftime("%Y-%m-%d %H:%M"),
        "retry_hours": f"{retry_hours:g}" if retry_hours else "",
        "dashboard_url": DASHBOARD_URL,
    }


def tell_operator(
    settings: Settings, database: Database, sender: SmtpSender, *, spotify_answered: bool
) -> int:
    """Email the operator about a stop of all Spotify work, once per stop; returns 1 when an
    email went out. `spotify_answered`: this run's Spotify work went through (ends a stop)."""
    pause = current_pause(database)
    if pause is None:
        if spotify_answered:
            _forget_told(database)
        return 0
    if not settings.operator_email or _told(database) == pause.kind:
        return 0
    retry = settings.spotify_premium_retry_hours if pause.kind == "premium" else None
    message = build_message(
        "spotify_stopped",
        to=settings.operator_email,
        sender=settings.sender,
        site_name=settings.site_name,
        context=stopped_context(pause.kind, pause.until, retry_hours=retry),
    )
    try:
        sender.send(message)
    except MailError as exc:
        logger.warning("operator not told that Spotify stopped (retried next run): %s", exc)
        return 0
    _remember_told(database, pause.kind)
    logger.warning("operator told: Spotify stopped all work (%s)", pause.kind)
    return 1


def _told(database: Database) -> str | None:
    with database.session() as session:
        row = session.get(State, TOLD)
        return row.value if row is not None else None


def _remember_told(database: Database, kind: str) -> None:
    with database.session() as session:
        row = session.get(State, TOLD)
        if row is None:
            session.add(State(key=TOLD, value=kind))
        else:
            row.value = kind


def _forget_told(database: Database) -> None:
    with database.session() as session:
        row = session.get(State, TOLD)
        if row is not None:
            session.delete(row)
