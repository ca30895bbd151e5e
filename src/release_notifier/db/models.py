"""Tables. Releases are tracked by Spotify album id and first-seen time, never by date alone."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DEFAULT_RELEASE_TYPES = "album,single"
ALL_RELEASE_TYPES = ("album", "single", "compilation", "appears_on")


def wanted_types(release_types: str) -> set[str]:
    """The release groups a user's comma-separated `release_types` names."""
    return {t for t in release_types.split(",") if t}


def table_of(model: type[Base]) -> Table:
    """The Core table behind a model, for hot paths that skip the ORM."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    """A subscriber: one email address, at most one linked Spotify account. One with no
    Spotify account (`spotify_account_id` None) is email-only: their artists are chosen here."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Spotify link: account_id (else id) from /me, so one account maps to one subscription.
    spotify_account_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    spotify_display_name: Mapped[str | None] = mapped_column(String(200))
    refresh_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    authorized_at: Mapped[datetime | None] = mapped_column(DateTime)
    needs_relink_since: Mapped[datetime | None] = mapped_column(DateTime)
    relink_email_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    expiry_reminder_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Preferences
    digest_interval_days: Mapped[float | None] = mapped_column(Float)  # None: DIGEST_INTERVAL_DAYS
    release_types: Mapped[str] = mapped_column(String(64), default=DEFAULT_RELEASE_TYPES)
    # When a preference that changes what the feeds hold last changed (None: never since signup).
    preferences_changed_at: Mapped[datetime | None] = mapped_column(DateTime)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime)
    mail_rejected_at: Mapped[datetime | None] = mapped_column(DateTime)
    mail_rejected_reason: Mapped[str | None] = mapped_column(String(300))
    link_version: Mapped[int] = mapped_column(Integer, default=1)  # bump to revoke signed links
    # The secret in the subscriber's feed URLs (random; made when first shown, replaced on rotate).
    feed_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Releases dated before this are never announced to this user (signup minus the lookback,
    # or the original app's `last_ran` for imported users).
    announce_since: Mapped[datetime | None] = mapped_column(DateTime)
    # Schedule
    next_digest_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_digest_at: Mapped[datetime | None] = mapped_column(DateTime)
    follows_synced_at: Mapped[datetime | None] = mapped_column(DateTime)

    follows: Mapped[list[Follow]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def wanted_types(self) -> set[str]:
        return wanted_types(self.release_types)

    @property
    def is_email_only(self) -> bool:
        """Signed up by choosing artists, with no Spotify account to read follows from."""
        return self.spotify_account_id is None


class Artist(Base):
    """An artist somebody follows; checked once per run however many users follow it."""

    __tablename__ = "artists"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)  # kept whole: Spotify has names over 300 characters
    image_url: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime)
    check_failures: Mapped[int] = mapped_column(Integer, default=0)
    # Change detection: the first `album,single` page as last seen.
    page_total: Mapped[int | None] = mapped_column(Integer)
    page_ids: Mapped[str | None] = mapped_column(Text)  # comma-separated album ids
    extra_groups_checked_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Albums before the first single on the `album,single` list (places the detection page).
    album_count: Mapped[int | None] = mapped_column(Integer)
    albums_top_checked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_new_release_at: Mapped[datetime | None] = mapped_column(DateTime)


class Follow(Base):
    """A user follows an artist (from /me/following); `since` is when this app first saw it."""

    __tablename__ = "follows"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    artist_id: Mapped[str] = mapped_column(ForeignKey("artists.id"), primary_key=True)
    since: Mapped[datetime] = mapped_column(DateTime)

    user: Mapped[User] = relationship(back_populates="follows")
    artist: Mapped[Artist] = relationship()

    __table_args__ = (Index("ix_follows_artist_id", "artist_id"),)


ADD, MUTE = "add", "mute"


class ArtistChoice(Base):
    """An artist a subscriber chose here: `add` (announce it, followed on Spotify or not) or
    `mute` (a followed artist not to announce). Follow sync never touches these."""

    __tablename__ = "artist_choices"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    artist_id: Mapped[str] = mapped_column(ForeignKey("artists.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # ADD | MUTE
    created_at: Mapped[datetime] = mapped_column(DateTime)

    artist: Mapped[Artist] = relationship()

    __table_args__ = (Index("ix_artist_choices_artist_id", "artist_id"),)


class Release(Base):
    """A Spotify album/single/compilation, with the day range its date precision allows."""

    __tablename__ = "releases"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)  # kept whole: Spotify has titles of 2,000 characters
    album_type: Mapped[str] = mapped_column(String(32))
    release_date: Mapped[str] = mapped_column(Text)  # as Spotify wrote it, "0000" included
    release_date_precision: Mapped[str] = mapped_column(String(8))
    # The day range the date allows; None when the date is unusable ("0000").
    date_start: Mapped[date | None] = mapped_column(Date)
    date_end: Mapped[date | None] = mapped_column(Date)
    total_tracks: Mapped[int] = mapped_column(Integer, default=0)
    image_url: Mapped[str | None] = mapped_column(Text)
    spotify_url: Mapped[str] = mapped_column(Text)
    artists: Mapped[list[dict[str, str]]] = mapped_column(JSON)  # [{"id": .., "name": ..}]
    dedupe_key: Mapped[str] = mapped_column(String(700), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime)


class ArtistRelease(Base):
    """How a release belongs to an artist: album, single, compilation or appears_on."""

    __tablename__ = "artist_releases"

    artist_id: Mapped[str] = mapped_column(ForeignKey("artists.id"), primary_key=True)
    release_id: Mapped[str] = mapped_column(ForeignKey("releases.id"), primary_key=True)
    group: Mapped[str] = mapped_column(String(16))

    __table_args__ = (Index("ix_artist_releases_release_id", "release_id"),)


class LedgerEntry(Base):
    """One release for one user: pending until a digest carries it, then announced.

    status: pending | claimed | announced | back_catalogue | duplicate | filtered
    """

    __tablename__ = "ledger"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    release_id: Mapped[str] = mapped_column(ForeignKey("releases.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    group: Mapped[str] = mapped_column(String(16))
    via_artist_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("digests.id", ondelete="SET NULL"))

    __table_args__ = (
        Index("ix_ledger_user_status", "user_id", "status"),
        Index("ix_ledger_digest_id", "digest_id"),
    )


class Digest(Base):
    """An email for one user, claimed before it is sent and marked sent once SMTP accepts it.

    status: claimed | sent | failed
    """

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # initial | regular
    status: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    # The run (lease holder) that claimed it and when: another run resends it only once
    # claimed_until has passed or that run's process is gone.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))


class Notice(Base):
    """A non-digest email (confirm, relink, expiry reminder), sent at most once per key."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))  # queued | sending | sent | failed
    created_at: Mapped[datetime] = mapped_column(DateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (UniqueConstraint("user_id", "kind", "key", name="uq_notices_user_kind_key"),)


class PendingSignup(Base):
    """An OAuth `state` waiting for its callback; single use."""

    __tablename__ = "pending_signups"

    state: Mapped[str] = mapped_column(String(100), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Run(Base):
    """One pass of the work (`run`, cron endpoint or scheduler), with its counts."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(32))
    # queued (also: handed over to the run at work, until it did the work) | running | done | failed
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    summary: Mapped[dict[str, object] | None] = mapped_column(JSON)


class WorkRequest(Base):
    """Work asked for (a confirmation, the cron endpoint, the scheduler, `run`) while another run
    held the lease; the holder does one more pass for it before letting go."""

    __tablename__ = "work_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(DateTime)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))


class SpotifyCall(Base):
    """One request sent to Spotify, kept for a rolling day: the shared request budget."""

    __tablename__ = "spotify_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    endpoint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)


class State(Base):
    """Small shared facts: `spotify_paused_until`, the run lease, and so on."""

    __tablename__ = "state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)


class PushChannel(Base):
    """A subscriber's push channel: an Apprise URL, stored encrypted and never shown again.

    cadence: instant (every run that finds something) | digest (with the email digest).
    A channel that fails for good is switched off (`disabled_at`, `disabled_reason`).
    """

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    url_enc: Mapped[bytes] = mapped_column(LargeBinary)  # DB_ENCRYPTION_KEY, bound to the user
    label: Mapped[str] = mapped_column(String(120))  # service and masked host: never a secret
    cadence: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    failing_since: Mapped[datetime | None] = mapped_column(DateTime)


class ChannelDelivery(Base):
    """One release for one push channel, claimed before it is sent and marked sent after the
    service accepted it (the same guarantees as a digest).

    status: claimed | sent | refused | dropped | duplicate
    A `batch` is the releases of one push: resent together, never split or merged, after a
    crash.
    """

    __tablename__ = "channel_deliveries"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    release_id: Mapped[str] = mapped_column(ForeignKey("releases.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    batch: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_channel_deliveries_status", "status", "claimed_until"),)
