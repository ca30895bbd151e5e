"""`release-notifier backup`: snapshot, check, encrypt once, store everywhere, keep the newest."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from release_notifier.backup.destinations import Destination, configured_destinations, prune
from release_notifier.backup.errors import BackupError, require_sqlite
from release_notifier.backup.fileformat import dated_name, encrypt_database, token_time
from release_notifier.backup.snapshot import record_backup_time, snapshot_bytes
from release_notifier.clock import utcnow
from release_notifier.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredCopy:
    destination: str
    location: str
    size: int


@dataclass(frozen=True)
class FailedCopy:
    destination: str
    message: str


@dataclass
class BackupReport:
    """What one backup did: where each copy went, which destinations failed, what was pruned."""

    name: str
    size: int
    copies: list[StoredCopy] = field(default_factory=list)
    failures: list[FailedCopy] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def database_file(settings: Settings) -> Path:
    """The SQLite file to back up; BackupError for PostgreSQL or a missing file."""
    path = require_sqlite(
        settings, BackupError, verb="back up", tools="pg_dump, or your provider's snapshots"
    )
    if not path.is_file():
        raise BackupError(f"the database file {path} does not exist")
    return path


def create_backup(settings: Settings, *, now: datetime | None = None) -> BackupReport:
    """Back up the SQLite database to every configured destination.

    Raises BackupError when nothing can be backed up at all (PostgreSQL, no file, no
    destination, a snapshot that fails its integrity check); a destination that fails is
    recorded in the report while the others still get their copy.
    """
    source = database_file(settings)
    destinations = configured_destinations(settings)
    if not destinations:
        raise BackupError("no backup destination: set BACKUP_DIR, BACKUP_S3_URL or DROPBOX_*")
    cipher = settings.token_cipher
    try:
        plain = snapshot_bytes(source)
    except ValueError as exc:
        raise BackupError(f"the snapshot of {source} is not sound: {exc}") from None
    blob = encrypt_database(cipher, plain)
    report = BackupReport(name=dated_name(now or utcnow()), size=len(blob))
    for destination in destinations:
        store_copy(destination, report, blob, keep=settings.backup_keep)
    if report.copies:
        remember_backup(source, blob)
    logger.info(
        "backup %s: %d copies, %d failed destinations",
        report.name,
        len(report.copies),
        len(report.failures),
    )
    return report


def remember_backup(source: Path, blob: bytes) -> None:
    """Record in the database when its newest backup was sealed, so that restore can refuse
    an older one; a failure here only loses that protection, never the backup."""
    try:
        record_backup_time(source, token_time(blob))
    except sqlite3.Error as exc:
        logger.warning("backup made, but its time could not be recorded in %s: %s", source, exc)


def store_copy(destination: Destination, report: BackupReport, blob: bytes, *, keep: int) -> None:
    """Store one destination's copy and apply retention; a failure is recorded, not raised."""
    try:
        for location in destination.store(report.name, blob):
            report.copies.append(StoredCopy(destination.kind, location, len(blob)))
        report.pruned.extend(old.location for old in prune(destination, keep))
    except (BackupError, OSError) as exc:
        logger.warning("backup to %s failed: %s", destination.kind, exc)
        report.failures.append(FailedCopy(destination.kind, str(exc)))
