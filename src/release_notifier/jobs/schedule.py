"""When things are due: follow-list refreshes, artist checks, re-link and expiry notices.

An artist is checked within the CHECK_WINDOW (24 hours) before each of its subscribers' next
digest, once per digest cycle. When the request budget's sustainable rate cannot fit a cohort's
checks into that window, they start earlier, scheduled backwards from the deadlines behind the
follow-list pages read in the day before each digest, never earlier than one interval.
Never-checked artists come first; artists with a recent release are also checked at half-cycle;
subscribers on DIGEST_INTERVAL_DAYS=0 want their artists checked every run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Float, Select, and_, case, cast, func, or_, select

from release_notifier.db import Database
from release_notifier.db.models import Artist, Follow, User
from release_notifier.notices import REFRESH_TOKEN_LIFETIME, queue_notice, token_expires_at
from release_notifier.releases.subscriptions import subscribed_artists
from release_notifier.settings import Settings
from release_notifier.spotify.client import FOLLOWING_PAGE_LIMIT
from release_notifier.subscribers import (
    digest_interval,
    getting_notifications,
    has_working_link,
    subscribed,
)

CHECK_WINDOW = timedelta(hours=24)
ACTIVE_FOR = timedelta(days=14)  # an artist with a new release this recent is "active"
COST_PER_CHECK = 1.1  # requests an average check costs (one page, sometimes a group page)
SUSTAINABLE_SHARE = 0.8  # plan on this share of the daily budget; the rest absorbs surprises

FIRST, DIGEST, ACTIVE, EVERY_RUN = "first", "digest", "active", "every_run"
REASON_ORDER = {FIRST: 0, EVERY_RUN: 1, DIGEST: 1, ACTIVE: 2}


@dataclass(frozen=True)
class ArtistState:
    """What the plan needs to know about one followed artist."""

    artist_id: str
    deadline: datetime  # the soonest next digest among its followers
    interval: timedelta  # the shortest digest interval among its followers (0: every run)
    checked_at: datetime | None
    last_new_release_at: datetime | None
    extra_groups: bool
    # the newest confirmation among followers awaiting a first digest: an artist checked before
    # it is checked again first
    awaited_since: datetime | None = None


@dataclass(frozen=True)
class FollowListReads:
    """The follow-list pages linked subscribers with one next digest and interval read in the
    day before it (ceil(follows/50) each)."""

    deadline: datetime
    interval: timedelta
    pages: int


@dataclass(frozen=True)
class DueArtist:
    """An artist worth a request now, and why."""

    artist_id: str
    extra_groups: bool
    reason: str
    start: datetime  # when its check became due; earlier is more urgent
    checked_at: datetime | None

    @property
    def sort_key(self) -> tuple[int, datetime, datetime]:
        return (REASON_ORDER[self.reason], self.start, self.checked_at or datetime.min)


def check_window_start(settings: Settings, user: User, now: datetime) -> datetime:
    """From when an artist this user follows should be freshly checked for their next digest."""
    if user.next_digest_at is None or digest_interval(settings, user.digest_interval_days) == 0:
        return now
    return user.next_digest_at - CHECK_WINDOW


def follow_sync_due(settings: Settings, user: User, now: datetime) -> bool:
    """A follow list is read once per digest cycle, in the day before the digest, and before the
    first digest once the user has confirmed."""
    if user.follows_synced_at is None:
        return True
    if (
        user.last_digest_at is None
        and user.confirmed_at is not None
        and user.follows_synced_at < user.confirmed_at
    ):
        return True
    start = check_window_start(settings, user, now)
    if digest_interval(settings, user.digest_interval_days) == 0:
        return user.follows_synced_at <= now - CHECK_WINDOW
    return now >= start and user.follows_synced_at < start


def artist_states(database: Database, settings: Settings, now: datetime) -> list[ArtistState]:
    """One row per artist some user who gets digests is subscribed to (followed and not muted,
    or added), aggregated in the database."""
    interval = func.coalesce(User.digest_interval_days, cast(settings.digest_interval_days, Float))
    deadline = case(
        (interval <= 0, now), (User.next_digest_at.is_(None), now), else_=User.next_digest_at
    )
    wants_extra = case(
        (
            or_(User.release_types.like("%compilation%"), User.release_types.like("%appears_on%")),
            1,
        ),
        else_=0,
    )
    awaited = case((User.last_digest_at.is_(None), User.confirmed_at), else_=None)
    pairs = subscribed_artists().subquery()
    query = (
        select(
            pairs.c.artist_id,
            func.min(deadline),
            func.min(interval),
            func.max(wants_extra),
            Artist.checked_at,
            Artist.last_new_release_at,
            func.max(awaited),
        )
        .join(User, User.id == pairs.c.user_id)
        .join(Artist, Artist.id == pairs.c.artist_id)
        .where(getting_notifications())
        .group_by(pairs.c.artist_id, Artist.checked_at, Artist.last_new_release_at)
    )
    with database.session() as session:
        return [
            ArtistState(
                artist_id=artist_id,
                deadline=_as_datetime(soonest),
                interval=timedelta(days=float(shortest or 0)),
                checked_at=checked_at,
                last_new_release_at=last_new,
                extra_groups=bool(extra),
                awaited_since=_as_datetime(since) if since is not None else None,
            )
            for artist_id, soonest, shortest, extra, checked_at, last_new, since in session.execute(
                query
            )
        ]


def follow_list_reads(
    database: Database, settings: Settings, now: datetime
) -> list[FollowListReads]:
    """The follow-list pages due before each upcoming digest (every working link's list is read,
    paused subscribers' too), summed per digest time and interval in the database."""
    follows = func.count(Follow.artist_id)
    pages = case(
        (follows <= FOLLOWING_PAGE_LIMIT, 1), else_=(follows - 1) // FOLLOWING_PAGE_LIMIT + 1
    )
    per_user = (
        select(
            User.next_digest_at.label("deadline"),
            User.digest_interval_days.label("days"),
            pages.label("pages"),
        )
        .join(Follow, Follow.user_id == User.id, isouter=True)
        .where(has_working_link())
        .group_by(User.id, User.next_digest_at, User.digest_interval_days)
        .subquery()
    )
    query = select(per_user.c.deadline, per_user.c.days, func.sum(per_user.c.pages)).group_by(
        per_user.c.deadline, per_user.c.days
    )
    with database.session() as session:
        return [
            FollowListReads(
                deadline=deadline or now,
                interval=timedelta(days=digest_interval(settings, days)),
                pages=int(pages),
            )
            for deadline, days, pages in session.execute(query)
        ]


def _as_datetime(value: object) -> datetime:
    """SQLite hands back a CASE over datetimes as text."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def sustainable_rate(settings: Settings) -> float:
    """Checks per hour the daily budget can keep up, day after day."""
    budget = settings.spotify_daily_request_budget * SUSTAINABLE_SHARE
    return budget / COST_PER_CHECK / 24


def check_leads(
    states: list[ArtistState], rate_per_hour: float, reads: Iterable[FollowListReads] = ()
) -> dict[str, timedelta]:
    """How long before its deadline each artist's check may start.

    Checks are laid out backwards from the deadlines at the sustainable rate, latest deadline
    last, after the follow-list pages read in the day before each digest (a page is one
    request, a check COST_PER_CHECK); an artist's lead is at least CHECK_WINDOW and at most its
    digest interval.
    """
    spacing = timedelta(hours=1 / rate_per_hour)
    work: list[tuple[datetime, int, str, timedelta]] = [
        (read.deadline, 1, "", spacing * read.pages / COST_PER_CHECK)
        for read in reads
        if read.interval > timedelta(0)
    ]
    work += [(s.deadline, 0, s.artist_id, spacing) for s in states if s.interval > timedelta(0)]
    intervals = {s.artist_id: s.interval for s in states}
    leads: dict[str, timedelta] = {}
    slot = datetime.max
    for deadline, _pages_first, artist_id, takes in sorted(work, reverse=True):
        slot = min(slot, deadline) - takes
        if artist_id:
            lead = max(deadline - slot, CHECK_WINDOW)
            leads[artist_id] = min(lead, max(intervals[artist_id], CHECK_WINDOW))
    return leads


def due_reason(state: ArtistState, lead: timedelta, now: datetime) -> tuple[str, datetime] | None:
    """Why this artist is worth a request now, and since when; None when it is not."""
    checked = state.checked_at
    if checked is None or (state.awaited_since is not None and checked < state.awaited_since):
        return FIRST, now  # never checked, or not since a follower confirmed: a first digest waits
    if state.interval <= timedelta(0):
        return EVERY_RUN, checked
    start = state.deadline - lead
    if now >= start and checked < start:
        return DIGEST, start
    recently_active = (
        state.last_new_release_at is not None and state.last_new_release_at >= now - ACTIVE_FOR
    )
    active_age = max(state.interval / 2, CHECK_WINDOW)
    if recently_active and checked <= now - active_age:
        return ACTIVE, checked + active_age
    return None


def plan_checks(database: Database, settings: Settings, now: datetime) -> list[DueArtist]:
    """Every artist worth a request now, most urgent first."""
    states = artist_states(database, settings, now)
    reads = follow_list_reads(database, settings, now)
    leads = check_leads(states, sustainable_rate(settings), reads)
    due = []
    for state in states:
        found = due_reason(state, leads.get(state.artist_id, CHECK_WINDOW), now)
        if found is not None:
            reason, start = found
            due.append(
                DueArtist(state.artist_id, state.extra_groups, reason, start, state.checked_at)
            )
    due.sort(key=lambda d: d.sort_key)
    return due


def artists_due(database: Database, settings: Settings, now: datetime) -> list[tuple[str, bool]]:
    """(artist id, check extra groups?) for every artist due now, most urgent first."""
    return [(d.artist_id, d.extra_groups) for d in plan_checks(database, settings, now)]


def account_notice_candidates(now: datetime, reminder: timedelta) -> Select[User]:
    """The few users who may need an account notice now, picked in SQL (never every user): a
    broken link not yet mailed about, or a link inside its reminder window not yet reminded of.
    queue_account_notices decides; this only narrows."""
    expired_before = now - REFRESH_TOKEN_LIFETIME  # authorized before this: already dead
    return select(User).where(
        subscribed(),
        or_(
            and_(
                User.needs_relink_since.is_not(None),
                or_(
                    User.relink_email_sent_at.is_(None),
                    User.relink_email_sent_at < User.needs_relink_since,
                ),
            ),
            and_(
                User.needs_relink_since.is_(None),
                User.authorized_at > expired_before,
                User.authorized_at <= expired_before + reminder,
                or_(
                    User.expiry_reminder_sent_at.is_(None),
                    User.expiry_reminder_sent_at < User.authorized_at,
                ),
            ),
        ),
    )


def queue_account_notices(database: Database, settings: Settings, now: datetime) -> None:
    """One re-link email per broken link; one reminder before the six-month expiry."""
    reminder = timedelta(days=settings.relink_reminder_days)
    with database.session() as session:
        users = session.scalars(account_notice_candidates(now, reminder))
        for user in users:
            if user.needs_relink_since is not None:
                if queue_notice(session, user, "relink", user.needs_relink_since.isoformat()):
                    user.relink_email_sent_at = now
                continue
            expires = token_expires_at(user)
            if (
                expires is not None
                and expires - reminder <= now < expires
                and queue_notice(session, user, "expiry_reminder", expires.isoformat())
            ):
                user.expiry_reminder_sent_at = now
