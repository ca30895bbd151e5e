"""One run at a time, across threads, processes and hosts: a lease row in the database.

The lease names its holder (host, pid, random id) and expires RUN_LEASE_SECONDS after it was
last renewed. A heartbeat thread renews it in every phase of the run; the run asks `held()`
before it claims or sends anything and stops at once when the answer is no (the renewal failed,
or has not succeeded for longer than the lease lasts, e.g. the process was stopped). A holder on
this host whose process is gone (killed) is taken over at once instead of waiting for the expiry.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from release_notifier.clock import precise_utcnow
from release_notifier.db import Database
from release_notifier.db.models import State
from release_notifier.db.session import database_error_text

logger = logging.getLogger(__name__)

LEASE_KEY = "run_lease"
LEASE_TTL = timedelta(minutes=5)
HEARTBEATS_PER_LEASE = 4  # renewals within one lease time: three can fail before it lapses
TRUST_SHARE = 0.9  # a renewal is trusted for this share of the lease (clock skew, slow commits)


class LeaseLost(Exception):
    """The run's lease lapsed or was taken by another run: it claims and sends nothing more."""


def holder_is_dead(holder: str | None) -> bool:
    """True when the holder ran on this host and its process no longer exists."""
    if not holder:
        return True
    host, _, rest = holder.partition("|")
    pid_text = rest.partition("|")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def lease_expiry(database: Database, key: str = LEASE_KEY) -> datetime | None:
    """Until when a run holds the lease (as last renewed), or None when no run is at work."""
    with database.session() as session:
        row = session.get(State, key)
    if row is None or row.expires_at is None or row.expires_at <= precise_utcnow():
        return None
    return row.expires_at


class RunLease:
    """Acquire with `acquire()`; keep with `heartbeat()` (or `renew()`); ask `held()`; give back
    with `release()`."""

    def __init__(
        self,
        database: Database,
        key: str = LEASE_KEY,
        *,
        ttl: timedelta = LEASE_TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.key = key
        self.ttl = ttl
        self.monotonic = monotonic
        self.holder = f"{socket.gethostname()}|{os.getpid()}|{secrets.token_hex(6)}"
        self._trusted_until = float("-inf")
        self._holding = False
        self._lost = threading.Event()
        self._changing = threading.Lock()  # renewals never race the release

    def acquire(self) -> bool:
        """Take the lease if it is free, expired, or held by a dead process on this host."""
        began = self.monotonic()
        now = precise_utcnow()
        try:
            with self.database.session() as session:
                row = session.get(State, self.key)
                if row is None:
                    session.add(State(key=self.key, value=self.holder, expires_at=now + self.ttl))
                    taken = True
                else:
                    current, expires = row.value, row.expires_at
                    if expires is not None and expires > now and not holder_is_dead(current):
                        return False
                    result = session.execute(
                        update(State)
                        .where(State.key == self.key, State.value == current)
                        .values(value=self.holder, expires_at=now + self.ttl)
                        .execution_options(synchronize_session=False)
                    )
                    taken = result.rowcount == 1  # type: ignore[attr-defined]
        except IntegrityError:
            return False  # another process inserted the row first
        if taken:
            self._holding = True
            self._lost.clear()
            self._trust_from(began)
        return taken

    def renew(self) -> bool:
        """Extend the lease; False when it was lost (expired and taken by another holder)."""
        with self._changing:
            if not self._holding:
                return False
            return self._renew_held()

    def _renew_held(self) -> bool:
        began = self.monotonic()
        with self.database.session() as session:
            kept = session.execute(
                update(State)
                .where(State.key == self.key, State.value == self.holder)
                .values(expires_at=precise_utcnow() + self.ttl)
                .execution_options(synchronize_session=False)
            )
            renewed = kept.rowcount == 1  # type: ignore[attr-defined]
        if renewed:
            self._trust_from(began)
        else:
            self._holding = False
            self._lost.set()
        return renewed

    def held(self) -> bool:
        """True while the last renewal still vouches for the lease (nobody else can hold it)."""
        return not self._lost.is_set() and self.monotonic() < self._trusted_until

    def check(self) -> None:
        """Raise LeaseLost unless `held()`."""
        if not self.held():
            raise LeaseLost("the run lease lapsed or was taken by another run: stopped at once")

    def release(self) -> None:
        with self._changing:
            self._holding = False
            self._lost.set()
            with self.database.session() as session:
                session.execute(
                    delete(State).where(State.key == self.key, State.value == self.holder)
                )

    @contextmanager
    def heartbeat(self) -> Iterator[None]:
        """Renew the lease HEARTBEATS_PER_LEASE times per lease time in a background thread
        while the block runs (whenever it is held)."""
        stop = threading.Event()
        period = self.ttl.total_seconds() / HEARTBEATS_PER_LEASE

        def beat() -> None:
            while not stop.wait(period):
                try:
                    self._beat()
                except SQLAlchemyError as exc:  # held() runs out by itself if this persists
                    logger.warning("run lease not renewed: %s", database_error_text(exc))

        thread = threading.Thread(target=beat, name="lease-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def _beat(self) -> None:
        with self._changing:
            if self._holding and not self._renew_held():
                logger.warning("run lease taken by another run: this run stops")

    def _trust_from(self, began: float) -> None:
        self._trusted_until = began + self.ttl.total_seconds() * TRUST_SHARE
