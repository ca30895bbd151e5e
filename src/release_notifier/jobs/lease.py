"""One run at a time, across threads, processes and hosts: a lease row in the database.

The lease names its holder (host, pid, random id) and expires unless renewed. A holder on this
host whose process is gone (killed) is taken over at once instead of waiting for the expiry.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.db.models import State

LEASE_KEY = "run_lease"
LEASE_TTL = timedelta(minutes=5)


def _holder_is_dead(holder: str | None) -> bool:
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


class RunLease:
    """Acquire with `acquire()`; keep with `renew()`; give back with `release()`."""

    def __init__(self, database: Database, key: str = LEASE_KEY) -> None:
        self.database = database
        self.key = key
        self.holder = f"{socket.gethostname()}|{os.getpid()}|{secrets.token_hex(6)}"

    def acquire(self) -> bool:
        """Take the lease if it is free, expired, or held by a dead process on this host."""
        now = utcnow()
        try:
            with self.database.session() as session:
                row = session.get(State, self.key)
                if row is None:
                    session.add(State(key=self.key, value=self.holder, expires_at=now + LEASE_TTL))
                    return True
                current, expires = row.value, row.expires_at
                if expires is not None and expires > now and not _holder_is_dead(current):
                    return False
                taken = session.execute(
                    update(State)
                    .where(State.key == self.key, State.value == current)
                    .values(value=self.holder, expires_at=now + LEASE_TTL)
                    .execution_options(synchronize_session=False)
                )
                return taken.rowcount == 1  # type: ignore[attr-defined]
        except IntegrityError:
            return False  # another process inserted the row first

    def renew(self) -> bool:
        """Extend the lease; False when it was lost (expired and taken by another holder)."""
        with self.database.session() as session:
            kept = session.execute(
                update(State)
                .where(State.key == self.key, State.value == self.holder)
                .values(expires_at=utcnow() + LEASE_TTL)
                .execution_options(synchronize_session=False)
            )
            return kept.rowcount == 1  # type: ignore[attr-defined]

    def release(self) -> None:
        with self.database.session() as session:
            session.execute(delete(State).where(State.key == self.key, State.value == self.holder))
