"""GET /healthz: 200 when the app and its database answer and people can be served; 503 when
the database fails, or when settings that signup and mail need are empty ("not set up")."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from release_notifier.readiness import missing_settings
from release_notifier.spotify.budget import current_pause
from release_notifier.web.context import app_context

logger = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The app and its database answer (200, else 503); "spotify" says "paused" while Spotify
    work is stopped (a quota ban, the owner's Premium lapsed), "ok" otherwise."""
    context = app_context()
    try:
        with context.database.session() as session:
            session.execute(text("SELECT 1"))
        spotify = "paused" if current_pause(context.database) is not None else "ok"
    except SQLAlchemyError as exc:
        logger.warning("health check: database unavailable (%s)", type(exc).__name__)
        return jsonify(status="error", database="unavailable"), 503
    missing = [item.variable for item in missing_settings(context.settings)]
    if missing:
        return jsonify(status="not set up", database="ok", missing=missing), 503
    return jsonify(status="ok", database="ok", spotify=spotify), 200
