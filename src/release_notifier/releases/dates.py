"""Spotify release dates (YYYY, YYYY-MM or YYYY-MM-DD) are ranges, never guessed days."""

from __future__ import annotations

import calendar
from datetime import date

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def release_range(release_date: str, precision: str | None = None) -> tuple[date, date]:
    """The first and last day a release with this date and precision could have come out."""
    parts = [int(p) for p in release_date.split("-")]
    precision = precision or {1: "year", 2: "month"}.get(len(parts), "day")
    year = parts[0]
    if precision == "year" or len(parts) == 1:
        return date(year, 1, 1), date(year, 12, 31)
    month = parts[1]
    if precision == "month" or len(parts) == 2:
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    day = date(year, month, parts[2])
    return day, day


def date_label(release_date: str, precision: str | None = None) -> str:
    """`2026-11-20` -> `20 November 2026`, `2026-11` -> `November 2026`, `2026` -> `2026`."""
    start, end = release_range(release_date, precision)
    if start == end:
        return f"{start.day} {MONTHS[start.month - 1]} {start.year}"
    if start.month == end.month:
        return f"{MONTHS[start.month - 1]} {start.year}"
    return str(start.year)
