"""A run's Spotify clients: the app's own (client credentials, `app_token.py`: every catalogue
read) and one per subscriber acting on their refresh token (their follow list), so a token is
refreshed once per run however much work it does; a rotated refresh token is kept, and a link
Spotify refused for good (`invalid_grant`) is discarded, never retried. All of them share the
run's request budget and pace."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from release_notifier.crypto import TokenDecryptError, decrypt_token, encrypt_token
from release_notifier.db import Database
from release_notifier.db.models import User
from release_notifier.settings import Settings
from release_notifier.spotify.app_token import app_client
from release_notifier.spotify.budget import (
    RequestBudget,
    remember_albums_limit,
    remembered_albums_limit,
)
from release_notifier.spotify.client import ALBUMS_PAGE_LIMIT, SpotifyClient
from release_notifier.spotify.oauth import TokenSet
from release_notifier.spotify.pacer import Pacer

logger = logging.getLogger(__name__)


class RunClients:
    """The clients of one run. Problems (a token that does not decrypt, a link refused) are
    noted in `problems`."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        budget: RequestBudget,
        *,
        sleep: Callable[[float], None] = time.sleep,
        problems: list[str] | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.budget = budget
        self.sleep = sleep
        self.pacer = Pacer(sleep=sleep)
        self.problems = problems if problems is not None else []
        self.clients: dict[int, SpotifyClient] = {}  # by user id: each reads its follow list
        self.app = app_client(  # the app's own token: every artist check
            settings,
            database,
            budget=budget,
            pacer=self.pacer,
            sleep=sleep,
            **self._albums_options(),
        )

    @property
    def requests_made(self) -> int:
        """Requests sent by every client of this run, the app's included."""
        users = sum(client.requests_made for client in self.clients.values())
        return users + self.app.requests_made

    def _albums_options(self) -> dict[str, Any]:
        """The albums page size Spotify last accepted, and how to remember a smaller one."""
        return {
            "albums_limit": remembered_albums_limit(self.database, ALBUMS_PAGE_LIMIT),
            "on_albums_limit": lambda limit: remember_albums_limit(self.database, limit),
        }

    def client_for(self, user: User) -> SpotifyClient | None:
        """The run's one client acting as `user`, or None without a readable token."""
        if user.id not in self.clients:
            client = self._new_client(user)
            if client is None:
                return None
            self.clients[user.id] = client
        return self.clients[user.id]

    def _new_client(self, user: User) -> SpotifyClient | None:
        """A client that persists a rotated refresh token; None without a readable token."""
        if user.refresh_token_enc is None:
            return None
        try:
            refresh = decrypt_token(self.settings.token_cipher, user.id, user.refresh_token_enc)
        except TokenDecryptError as exc:
            self.problems.append(f"user {user.id}: {exc}")
            return None
        return SpotifyClient(
            self.settings,
            refresh_token=refresh,
            on_refresh=self._keeper(user.id, refresh),
            budget=self.budget,
            pacer=self.pacer,
            sleep=self.sleep,
            **self._albums_options(),
        )

    def _keeper(self, user_id: int, refresh: str) -> Callable[[TokenSet], None]:
        """Store the refresh token Spotify rotated to, encrypted, in place of `refresh`."""

        def keep_rotated(tokens: TokenSet) -> None:
            if tokens.refresh_token and tokens.refresh_token != refresh:
                with self.database.session() as session:
                    row = session.get(User, user_id)
                    if row is not None:
                        row.refresh_token_enc = encrypt_token(
                            self.settings.token_cipher, user_id, tokens.refresh_token
                        )

        return keep_rotated

    def discard_link(self, user_id: int, now: datetime) -> None:
        """invalid_grant: the token is discarded and never retried; the user gets one email
        (queued by jobs.schedule's account notices)."""
        self.clients.pop(user_id, None)
        with self.database.session() as session:
            user = session.get(User, user_id)
            if user is not None and user.needs_relink_since is None:
                user.needs_relink_since = now
                user.refresh_token_enc = None
        self.problems.append(f"user {user_id}: Spotify link expired or revoked")
