"""GET /healthz: 200 when the app and its database answer, 503 otherwise."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from release_notifier.web.context import app_context

logger = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    try:
        with app_context().database.session() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        logger.warning("health check: database unavailable (%s)", type(exc).__name__)
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok"), 200
