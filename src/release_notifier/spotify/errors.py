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


class NotAllowlisted(SpotifyError):
    """403 for an account the app owner has not added to the app's user list (5 in dev mode)."""


class Unauthorized(SpotifyError):
    """401 even after refreshing the access token once."""


class QuotaExceeded(SpotifyError):
    """429 QUOTA_EXCEEDED or a Retry-After too long to wait: stop all Spotify work until then."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, status=429)
        self.retry_after = retry_after


class BudgetExhausted(QuotaExceeded):
    """Our own rolling-day request budget (SPOTIFY_DAILY_REQUEST_BUDGET) is spent."""


class SpotifyUnavailable(SpotifyError):
    """5xx, timeouts or unreadable bodies that outlasted the retries: skip this item for now."""
