"""The web app: signup, Spotify link, confirmation, settings, unsubscribe, cron endpoint, health."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from release_notifier.db import Database, open_database
from release_notifier.jobs.queue import Queue, build_queue
from release_notifier.settings import ConfigError, Settings
from release_notifier.web import (
    artists,
    auth,
    channels,
    choose,
    confirm,
    feeds,
    health,
    preferences,
    recovery,
    scheduled,
    signup,
    unsubscribe,
)
from release_notifier.web.context import EXTENSION, AppContext
from release_notifier.web.pages import PageResponse, message_page, slow_down_page
from release_notifier.web.picker import CHOOSE_LIMIT, LOOKUP_LIMIT, is_search
from release_notifier.web.security import CONFIRM_LIMIT, SIGNUP_LIMIT, configure_security

if TYPE_CHECKING:  # the demo's parts (emulator, mail catcher) are never loaded in production
    from release_notifier.web.demo import DemoContext

logger = logging.getLogger(__name__)

__all__ = ["create_app"]


def create_app(
    settings: Settings,
    database: Database | None = None,
    *,
    demo: DemoContext | None = None,
    queue: Queue | None = None,
) -> Flask:
    """The Flask app for `settings`; opens (and migrates) DATABASE_URL unless given a database.

    `queue` defaults to the Huey queue of `settings`; `demo` (given only by the sandbox, which
    has imported it) adds its /_outbox pages, so production never loads the sandbox.
    """
    settings.require("flask_secret_key")
    database = database or open_database(settings.database_url)
    app = Flask(__name__)
    app.extensions[EXTENSION] = AppContext(
        settings=settings,
        database=database,
        queue=queue or build_queue(settings, database),
        demo=demo,
    )
    csrf, limiter = configure_security(app, settings)
    limiter.limit(SIGNUP_LIMIT, methods=["POST"])(signup.bp)
    limiter.limit(CONFIRM_LIMIT, methods=["POST"])(confirm.bp)
    limiter.limit(SIGNUP_LIMIT, methods=["POST"])(recovery.bp)  # each request may send mail
    limiter.limit(channels.CHANNEL_LIMIT, methods=["POST"])(channels.bp)
    csrf.exempt(unsubscribe.one_click)  # RFC 8058: mail providers POST with no session
    csrf.exempt(scheduled.bp)  # authenticated by X-API-KEY, never by a cookie
    for blueprint in (signup.bp, auth.bp, confirm.bp, recovery.bp, preferences.bp):
        app.register_blueprint(blueprint)
    for blueprint in (choose.bp, artists.bp, feeds.bp, channels.bp, unsubscribe.bp):
        app.register_blueprint(blueprint)
    limit_artist_choosing(app, limiter)
    app.register_blueprint(scheduled.bp)
    app.register_blueprint(health.bp)
    if demo is not None:
        demo.register_pages(app)
    register_error_pages(app)
    app.context_processor(lambda: {"site_name": settings.site_name})
    return app


def limit_artist_choosing(app: Flask, limiter: Limiter) -> None:
    """Look-ups ask Spotify (one shared limit for searches and lists); adding and removing is
    cheaper; a choose-artists signup sends mail like every signup. (A limit decorates the
    registered view: Flask-Limiter checks a decorated view's limits in the view's wrapper.)"""
    lookups = limiter.shared_limit(LOOKUP_LIMIT, scope="artist-lookups", exempt_when=no_query)
    limits = {
        "choose.page": lookups,
        "choose.add_list": lookups,
        "artists.page": lookups,
        "artists.add_list": lookups,
        "choose.add": limiter.limit(CHOOSE_LIMIT),
        "choose.remove": limiter.limit(CHOOSE_LIMIT),
        "artists.add": limiter.limit(CHOOSE_LIMIT),
        "artists.remove": limiter.limit(CHOOSE_LIMIT),
        "choose.subscribe": limiter.limit(SIGNUP_LIMIT),
    }
    for endpoint, limit in limits.items():
        view: Callable[..., Any] = app.view_functions[endpoint]
        app.view_functions[endpoint] = limit(view)


def no_query() -> bool:
    """A GET of a choose page without a search: nothing is asked of Spotify."""
    return request.method == "GET" and not is_search()


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(exc: CSRFError) -> PageResponse:
        return message_page(
            "Please try again",
            "The form had expired or came from another site. Reload the page and send it again.",
            400,
        )

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(exc: RateLimitExceeded) -> PageResponse:
        return slow_down_page(int(exc.limit.limit.get_expiry()))

    @app.errorhandler(ConfigError)
    def not_configured(exc: ConfigError) -> PageResponse:
        logger.error("configuration problem: %s", exc)
        return message_page(
            "This service is not fully set up",
            "The person who runs it has a setting missing. Please try again later.",
            503,
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> PageResponse:
        return message_page(exc.name, exc.description or "", exc.code or 500)
