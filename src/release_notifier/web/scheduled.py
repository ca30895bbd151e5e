"""The cron endpoint (the original's path): queue a run, answer 202 at once; report its state.

For hosts that sleep between requests: an outside cron POSTs here with X-API-KEY.
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from release_notifier.clock import utcnow
from release_notifier.db.models import Run
from release_notifier.web.context import app_context

logger = logging.getLogger(__name__)

bp = Blueprint("scheduled", __name__, url_prefix="/scheduled")


def key_problem() -> ResponseReturnValue | None:
    """None when X-API-KEY equals CRON_SECRET_KEY (constant-time), else the error answer."""
    expected = app_context().settings.cron_secret_key
    if not expected:
        return jsonify(error="CRON_SECRET_KEY is not set on this server"), 503
    given = request.headers.get("X-API-KEY", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        logger.warning("cron endpoint: wrong or missing X-API-KEY from %s", request.remote_addr)
        return jsonify(error="wrong or missing X-API-KEY"), 401
    return None


def describe(run: Run) -> dict[str, object]:
    def stamp(value: datetime | None) -> str | None:
        return value.isoformat() + "Z" if value is not None else None

    return {
        "id": run.id,
        "trigger": run.trigger,
        "state": run.state,
        "created_at": stamp(run.created_at),
        "started_at": stamp(run.started_at),
        "finished_at": stamp(run.finished_at),
        "summary": run.summary,
    }


@bp.post("/run-releases")
def run_releases() -> ResponseReturnValue:
    """Queue a run of the work and answer 202 with its id; the work happens in the background."""
    problem = key_problem()
    if problem is not None:
        return problem
    context = app_context()
    with context.database.session() as session:
        run = Run(trigger="cron", state="queued", created_at=utcnow())
        session.add(run)
        session.flush()
        run_id = run.id
    context.queue.enqueue_run(run_id)
    status_url = url_for("scheduled.run_status", run_id=run_id)
    return jsonify(run_id=run_id, state="queued", status_url=status_url), 202


@bp.get("/runs/<int:run_id>")
def run_status(run_id: int) -> ResponseReturnValue:
    problem = key_problem()
    if problem is not None:
        return problem
    with app_context().database.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            return jsonify(error=f"no run {run_id}"), 404
        return jsonify(describe(run)), 200
