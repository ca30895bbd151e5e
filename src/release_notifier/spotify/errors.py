"""What can go wrong talking to Spotify, sorted by what the caller should do about it."""

from __future__ import annotations


class SpotifyError(Exception):
    """A Spotify answer the caller cannot use; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class InvalidGrant(SpotifyError):
    """The refresh token or authorization code is dead: the user must link Spotify again.

    Never retried: Spotify says to discard the token and send the user through sign-in.
    """


class AppTokenRefused(SpotifyError):
    """Spotify refused the app's own client-credentials token: the token endpoint said
    invalid_client (a wrong or withdrawn client secret) or the like, or a catalogue call on that
    token got a plain 403. A linked user's token may still read the catalogue."""


class NotAllowlisted(SpotifyError):
    """403 for an account the app owner has not added to the app's user list (5 in dev mode),
    in any of Spotify's wordings (they all say "registered" or "dashboard")."""


class Unauthorized(SpotifyError):
    """401 even after refreshing the access token once."""


class QuotaExceeded(SpotifyError):
    """429 QUOTA_EXCEEDED or a Retry-After too long to wait: stop all Spotify work until then."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, status=429)
        self.retry_after = retry_after


class PremiumRequired(QuotaExceeded):
    """403 "Active premium subscription required for the owner of the app": the owner's Premium
    lapsed and every call of the app is refused. App-wide like a quota ban: stop all Spotify
    work, retry after `retry_after` seconds, tell the operator."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, retry_after=retry_after)
        self.status = 403


class BudgetExhausted(QuotaExceeded):
    """Our own rolling-day request budget (SPOTIFY_DAILY_REQUEST_BUDGET) is spent."""


class SpotifyUnavailable(SpotifyError):
    """5xx, timeouts or unreadable bodies that outlasted the retries: skip this item for now."""
