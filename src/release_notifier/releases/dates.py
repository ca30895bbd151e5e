"""Spotify release dates (YYYY, YYYY-MM or YYYY-MM-DD) are ranges, never guessed days.

Spotify serves dates no calendar holds (`"0000"` on some albums, and worse is possible): such a
date is unknown, never an error.
"""

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


UNKNOWN_DATE_LABEL = "date unknown"


def release_range(release_date: object, precision: object = None) -> tuple[date, date] | None:
    """The first and last day a release with this date and precision could have come out, or
    None when the date is unusable (year 0, month 13, not a date at all)."""
    try:
        return _date_range(str(release_date), precision if isinstance(precision, str) else None)
    except (ValueError, IndexError):
        return None


def _date_range(release_date: str, precision: str | None) -> tuple[date, date]:
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
    """`2026-11-20` -> `20 November 2026`, `2026-11` -> `November 2026`, `2026` -> `2026`;
    an unusable date -> `date unknown`."""
    found = release_range(release_date, precision)
    if found is None:
        return UNKNOWN_DATE_LABEL
    start, end = found
    if start == end:
        return f"{start.day} {MONTHS[start.month - 1]} {start.year}"
    if start.month == end.month:
        return f"{MONTHS[start.month - 1]} {start.year}"
    return str(start.year)
