"""Time, in one place: naive UTC datetimes everywhere (tests move it with time-machine)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, as a naive UTC datetime (the form stored in the database)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def precise_utcnow() -> datetime:
    """Now to the microsecond (naive UTC): for leases shorter than a few seconds."""
    return datetime.now(UTC).replace(tzinfo=None)
