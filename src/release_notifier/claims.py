"""Who may send what another run claimed: the one rule for digests and pushes alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime


def takeover_rule(
    claimant: str | None, now: datetime, is_gone: Callable[[str], bool]
) -> Callable[[str | None, datetime | None], bool]:
    """A claim may be taken by `claimant` when it is unheld, its own, lapsed before `now`, or
    held by a run that is gone (asked once per holder). A live run's claim is never taken."""
    gone: dict[str, bool] = {}

    def may_send(by: str | None, until: datetime | None) -> bool:
        if by is None or by == claimant or until is None or until <= now:
            return True
        if by not in gone:
            gone[by] = is_gone(by)
        return gone[by]

    return may_send
