"""The OAuth `state` belongs to the browser that set off for Spotify: its session remembers it,
and a callback that arrives in another browser is refused (issue 13 item 3)."""

from __future__ import annotations

import hashlib

from flask import redirect, session
from werkzeug.wrappers import Response

from release_notifier.settings import Settings
from release_notifier.spotify.oauth import authorize_url

SESSION_KEY = "oauth_states"
KEEP = 5  # trips to Spotify one browser may have open at once (tabs, retries)


def state_tag(state: str) -> str:
    """What the session cookie keeps of a state: enough to recognise it, never the state."""
    return hashlib.sha256(state.encode()).hexdigest()[:32]


def remembered_tags() -> list[str]:
    tags = session.get(SESSION_KEY, [])
    return [tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else []


def send_to_spotify(settings: Settings, state: str, *, show_dialog: bool = False) -> Response:
    """Remember `state` in this browser's session, then redirect to Spotify's consent page."""
    session[SESSION_KEY] = [*remembered_tags(), state_tag(state)][-KEEP:]
    return redirect(authorize_url(settings, state, show_dialog=show_dialog), code=303)


def started_here(state: str) -> bool:
    """True when this browser set off for Spotify with `state`."""
    return bool(state) and state_tag(state) in remembered_tags()


def forget(state: str) -> None:
    """A state is used once: this browser stops offering it."""
    session[SESSION_KEY] = [tag for tag in remembered_tags() if tag != state_tag(state)]
