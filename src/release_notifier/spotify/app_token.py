"""The app's own Spotify token (client credentials): catalogue reads that need no user.

Spotify gives a client-credentials token for an hour and no refresh token: the app asks again.
It needs no allow-listed user and is not touched by the six-month refresh-token expiry, so
artist checks and look-ups keep working whoever unlinks. The token is kept encrypted in the
`state` table until shortly before it expires, so the web app and the runs share one instead of
asking per process; a 401 renews it once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from release_notifier.clock import utcnow
from release_notifier.crypto import TokenDecryptError, decrypt_token, encrypt_token
from release_notifier.db import Database
from release_notifier.db.models import State
from release_notifier.settings import Settings
from release_notifier.spotify.budget import RequestBudget
from release_notifier.spotify.client import SpotifyClient
from release_notifier.spotify.oauth import fetch_app_token
from release_notifier.spotify.pacer import Pacer, Sleep

logger = logging.getLogger(__name__)

APP_TOKEN_KEY = "spotify_app_token"
APP_TOKEN_OWNER = 0  # the row id the ciphertext is bound to: no user has id 0
RENEW_BEFORE = timedelta(minutes=2)  # renewed this long before Spotify's expiry


class AppToken:
    """The app's access token: from memory, else from the database, else fetched anew.

    `current()` gives one valid for at least RENEW_BEFORE; `renew(stale)` replaces a token
    Spotify answered 401 to (once for all threads). AppTokenRefused propagates from both.
    """

    def __init__(
        self, settings: Settings, database: Database, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.settings = settings
        self.database = database
        self.clock = clock
        self._token: str | None = None
        self._usable_until = datetime.min
        self._lock = threading.Lock()

    def current(self) -> str:
        with self._lock:
            if self._token is None or self.clock() >= self._usable_until:
                self._load_or_fetch()
            assert self._token is not None
            return self._token

    def renew(self, stale: str | None) -> str:
        with self._lock:
            if self._token is None or self._token == stale:
                self._fetch()
            assert self._token is not None
            return self._token

    def _load_or_fetch(self) -> None:
        with self.database.session() as session:
            row = session.get(State, APP_TOKEN_KEY)
            stored = (row.value, row.expires_at) if row is not None else (None, None)
        value, usable_until = stored
        if value and usable_until and self.clock() < usable_until:
            try:
                cipher = self.settings.token_cipher
                self._token = decrypt_token(cipher, APP_TOKEN_OWNER, value.encode())
                self._usable_until = usable_until
                return
            except TokenDecryptError:
                logger.warning("the stored Spotify app token does not decrypt: asking anew")
        self._fetch()

    def _fetch(self) -> None:
        tokens = fetch_app_token(self.settings)
        usable_until = tokens.expires_at - RENEW_BEFORE
        blob = encrypt_token(self.settings.token_cipher, APP_TOKEN_OWNER, tokens.access_token)
        with self.database.session() as session:
            row = session.get(State, APP_TOKEN_KEY)
            if row is None:
                session.add(State(key=APP_TOKEN_KEY, value=blob.decode(), expires_at=usable_until))
            else:
                row.value, row.expires_at = blob.decode(), usable_until
        self._token, self._usable_until = tokens.access_token, usable_until
        logger.info("fetched the Spotify app token (client credentials)")


def app_client(
    settings: Settings,
    database: Database,
    *,
    budget: RequestBudget | None = None,
    pacer: Pacer | None = None,
    sleep: Sleep = time.sleep,
    **options: Any,
) -> SpotifyClient:
    """A client for catalogue reads on the app's own token, counted in `budget` (by default
    the shared SPOTIFY_DAILY_REQUEST_BUDGET, as the web app's searches and look-ups are)."""
    return SpotifyClient(
        settings,
        app_token=AppToken(settings, database),
        budget=budget or RequestBudget(database, settings.spotify_daily_request_budget),
        pacer=pacer,
        sleep=sleep,
        **options,
    )
