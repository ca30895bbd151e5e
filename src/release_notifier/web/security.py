"""Headers, cookies, CSRF, rate limits and proxy trust for every response."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, abort, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from release_notifier.settings import Settings

SIGNUP_LIMIT = "5 per minute;30 per hour"
CONFIRM_LIMIT = "10 per minute;60 per hour"
HSTS = "max-age=31536000"
SPOTIFY_API_ORIGIN = "https://api.spotify.com"  # a year; sent only when PUBLIC_BASE_URL is https


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def image_sources(settings: Settings) -> str:
    """Where artist pictures come from: Spotify's image host, or the API's own origin when it is
    not Spotify's (the sandbox emulator serves its pictures itself)."""
    sources = "'self' data: https://i.scdn.co"
    api = origin(settings.spotify_api_base_url)
    return sources if api == SPOTIFY_API_ORIGIN else f"{sources} {api}"


def content_security_policy(settings: Settings) -> str:
    """Our own scripts and styles only; forms may also go on to Spotify's consent page."""
    return "; ".join(
        [
            "default-src 'self'",
            f"img-src {image_sources(settings)}",
            "style-src 'self'",
            "script-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            f"form-action 'self' {origin(settings.spotify_accounts_base_url)}",
            "frame-ancestors 'none'",
        ]
    )


def configure_security(app: Flask, settings: Settings) -> tuple[CSRFProtect, Limiter]:
    """Cookies, CSRF, limiter, proxy trust and security headers for `app`."""
    app.config.update(
        SECRET_KEY=settings.flask_secret_key,
        SESSION_COOKIE_NAME="release_notifier_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
        MAX_CONTENT_LENGTH=settings.max_content_length,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session cookie
        PREFERRED_URL_SCHEME=urlsplit(settings.public_base_url).scheme,
    )
    if settings.trust_proxy_headers:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1
        )

    @app.before_request
    def refuse_oversized_bodies() -> None:
        """413 on the declared size, before any view runs, even those that never read the body."""
        if (request.content_length or 0) > settings.max_content_length:
            abort(413)

    csrf = CSRFProtect(app)
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=settings.huey_redis_url or "memory://",
        strategy="moving-window",  # no burst of twice the limit across a window's edge
        headers_enabled=True,
        key_prefix="release-notifier-limits",
    )
    policy = content_security_policy(settings)
    https = settings.public_base_url.startswith("https://")

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        if https:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if request.endpoint != "static":
            # Pages carry signed links, addresses and CSRF tokens: never kept by any cache.
            response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # same-origin: signed links in our URLs never leak to other sites, and Flask-WTF's
        # HTTPS referrer check still sees our own pages.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return csrf, limiter
