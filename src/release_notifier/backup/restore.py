"""Restore: decrypt, check, migrate forward in a staging file, then swap it in atomically.

Every check runs on the staging copy first, so a wrong key, a truncated or tampered file or a
payload that is not a database leaves the current database exactly as it was. A backup of the
original app (its `site.db.enc`) is recognised and imported into a fresh database instead.

Which backup is newest is read from the time sealed inside each one, never from its name, and
a backup sealed before the newest one known to hold the current database is refused unless the
operator allows it: a rollback would bring back subscriptions that were ended since.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from release_notifier.backup.destinations import (
    Destination,
    StoredBackup,
    configured_destinations,
    is_remote_configured,
)
from release_notifier.backup.errors import (
    BackupError,
    NoBackupFound,
    RestoreError,
    require_sqlite,
)
from release_notifier.backup.fileformat import read_backup
from release_notifier.backup.local import sync_folder
from release_notifier.backup.seed_import import import_seed_database, is_seed_database
from release_notifier.backup.snapshot import (
    copy_database,
    integrity_problem,
    record_backup_time,
    recorded_backup_time,
)
from release_notifier.db import create_private_file, open_database
from release_notifier.settings import Settings

logger = logging.getLogger(__name__)

SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did: from where, into which file, and where the previous file was kept."""

    source: str
    target: Path
    from_original_app: bool
    previous: Path | None
    sealed_at: datetime


def restore_target(settings: Settings) -> Path:
    return require_sqlite(settings, RestoreError, verb="restore", tools="pg_restore or psql")


def resolve_restore_file(settings: Settings, file: str, *, allow_outside: bool = False) -> Path:
    """The backup file the operator named, refused when it lies outside BACKUP_DIR.

    A bare file name is looked up in BACKUP_DIR. Anything else must resolve (symlinks
    followed) to a file inside BACKUP_DIR unless `allow_outside` is given.
    """
    folder = Path(settings.backup_dir).resolve() if settings.backup_dir else None
    candidate = Path(file).expanduser()
    if folder is not None and len(candidate.parts) == 1 and not candidate.exists():
        candidate = folder / candidate
    resolved = candidate.resolve()
    if not allow_outside and (folder is None or not resolved.is_relative_to(folder)):
        raise RestoreError(
            f"{file} is outside the backup folder (BACKUP_DIR={settings.backup_dir or 'unset'}); "
            "pass --allow-outside to restore it anyway"
        )
    if not resolved.is_file():
        raise RestoreError(f"{file}: no such backup file")
    return resolved


def restore_file(
    settings: Settings, file: str, *, allow_outside: bool = False, allow_older: bool = False
) -> RestoreResult:
    """Restore from a backup file on this machine (see resolve_restore_file for which)."""
    path = resolve_restore_file(settings, file, allow_outside=allow_outside)
    return restore_bytes(settings, path.read_bytes(), source=str(path), allow_older=allow_older)


def latest_backup(settings: Settings) -> tuple[StoredBackup, bytes]:
    """The backup sealed last among those held by the configured destinations, and its bytes.

    Destinations that cannot be listed are skipped with a warning; when all of them fail
    this raises RestoreError, and NoBackupFound when they answer but hold nothing.
    """
    destinations = configured_destinations(settings)
    if not destinations:
        raise RestoreError("no backup destination: set BACKUP_DIR, BACKUP_S3_URL or DROPBOX_*")
    found: list[tuple[StoredBackup, int]] = []
    failures = []
    for index, destination in enumerate(destinations):
        try:
            found.extend((backup, index) for backup in destination.list_backups())
        except (BackupError, OSError) as exc:
            logger.warning("cannot list backups at %s: %s", destination.kind, exc)
            failures.append(f"{destination.kind}: {exc}")
    if not found:
        if len(failures) == len(destinations):
            raise RestoreError("no destination could be read: " + "; ".join(failures))
        raise NoBackupFound("no backup found at " + ", ".join(d.describe() for d in destinations))
    return sealed_last(settings, destinations, found)


def sealed_last(
    settings: Settings, destinations: list[Destination], found: list[tuple[StoredBackup, int]]
) -> tuple[StoredBackup, bytes]:
    """Download every listed backup and keep the one sealed last; on a tie, the first
    destination's. Anyone who can write a destination can rename a file, so names only set the
    order of downloads. One that cannot be downloaded or read stops the choice (it may be the
    newest): RestoreError naming it."""
    best: tuple[datetime, int, StoredBackup, bytes] | None = None
    for backup, index in sorted(found, key=lambda pair: (pair[0].taken_at, -pair[1]), reverse=True):
        try:
            blob = destinations[index].fetch(backup)
        except (BackupError, OSError) as exc:
            raise RestoreError(f"cannot download {backup.location}: {exc}") from None
        try:
            sealed_at = read_backup(settings.token_cipher, blob).sealed_at
        except RestoreError as exc:
            raise RestoreError(
                f"{backup.location} cannot be read ({exc}), so the newest backup is not known: "
                "remove it, or restore a FILE"
            ) from None
        if best is None or (sealed_at, -index) > (best[0], -best[1]):
            best = (sealed_at, index, backup, blob)
    assert best is not None
    return best[2], best[3]


def restore_latest(settings: Settings, *, allow_older: bool = False) -> RestoreResult:
    """Restore the backup sealed last among those at the configured destinations."""
    restore_target(settings)
    backup, blob = latest_backup(settings)
    return restore_bytes(settings, blob, source=backup.location, allow_older=allow_older)


def refuse_rollback(target: Path, sealed_at: datetime) -> None:
    """RestoreError when the backup was sealed before the newest backup known to hold the
    database at `target` (one taken of it, or the one it was restored from)."""
    newest = recorded_backup_time(target)
    if newest is not None and sealed_at < newest:
        raise RestoreError(
            f"the backup was sealed at {sealed_at:%Y-%m-%d %H:%M:%S} UTC, before the newest "
            f"backup of the current database ({newest:%Y-%m-%d %H:%M:%S} UTC): restoring it "
            "would bring back what changed since, such as people who unsubscribed; pass "
            "--allow-older to restore it anyway"
        )


def restore_bytes(
    settings: Settings, blob: bytes, *, source: str, allow_older: bool = False
) -> RestoreResult:
    """Check and prepare the backup in a staging file, then swap it in for the database."""
    target = restore_target(settings)
    opened = read_backup(settings.token_cipher, blob)
    if not allow_older:
        refuse_rollback(target, opened.sealed_at)
    target.parent.mkdir(parents=True, exist_ok=True)
    with staging_file(target) as staging:
        create_private_file(staging).write_bytes(opened.database)  # the database: private
        problem = integrity_problem(staging)
        if problem:
            raise RestoreError(f"the backup is not a sound database: {problem}")
        from_original = is_seed_database(staging)
        if from_original:
            rebuild_from_original(settings, staging)
        else:
            migrate_forward(staging)
        record_backup_time(staging, opened.sealed_at)
        previous = swap_in(staging, target)
    logger.info(
        "restored the database %s from %s%s",
        target,
        source,
        " (a backup of the original app, imported)" if from_original else "",
    )
    return RestoreResult(source, target, from_original, previous, opened.sealed_at)


@contextmanager
def staging_file(target: Path) -> Iterator[Path]:
    """A scratch path beside `target` (same filesystem, so the final rename is atomic)."""
    staging = target.with_name(f".{target.name}.restore-{uuid.uuid4().hex[:8]}")
    try:
        yield staging
    finally:
        for path in (staging, *(Path(f"{staging}{suffix}") for suffix in SIDE_FILES)):
            path.unlink(missing_ok=True)


def migrate_forward(staging: Path) -> None:
    """Bring a release-notifier backup to the newest schema; RestoreError if it cannot be."""
    with closing(sqlite3.connect(staging)) as connection:
        tables = {str(r[0]) for r in connection.execute("SELECT name FROM sqlite_master")}
    if "alembic_version" not in tables:
        raise RestoreError(
            "the backup is a SQLite database, but neither release-notifier's nor the original app's"
        )
    try:
        database = open_database(f"sqlite:///{staging}")
    except Exception as exc:
        raise RestoreError(
            f"the backup's schema cannot be migrated (made by a newer version?): {exc}"
        ) from None
    database.dispose()
    settle(staging)


def rebuild_from_original(settings: Settings, staging: Path) -> None:
    """Replace the original app's database in `staging` with ours, its users imported."""
    original = staging.with_name(staging.name + "-original")
    os.replace(staging, original)
    try:
        database = open_database(f"sqlite:///{staging}")
        try:
            import_seed_database(settings, database, original)
        finally:
            database.dispose()
    finally:
        original.unlink(missing_ok=True)
    settle(staging)


def settle(path: Path) -> None:
    """Fold any WAL into the file and switch to a rollback journal: one self-contained file."""
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
    problem = integrity_problem(path)
    if problem:
        raise RestoreError(f"the restored database failed its check after migrating: {problem}")


def swap_in(staging: Path, target: Path) -> Path | None:
    """Keep a consistent copy of the current database as `<name>.before-restore`, then rename
    the staging file over it. Returns the kept copy's path, or None when there was no database.
    """
    previous = None
    if target.exists():
        previous = target.with_name(target.name + ".before-restore")
        keep_previous(target, previous)
    for suffix in SIDE_FILES:
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(staging, target)
    sync_folder(target.parent)
    return previous


def keep_previous(target: Path, previous: Path) -> None:
    """Copy the current database aside (a consistent copy; the raw file if it is unreadable)."""
    previous.unlink(missing_ok=True)
    create_private_file(previous)  # a whole copy of the subscribers: private, like the database
    try:
        copy_database(target, previous)
    except sqlite3.DatabaseError:
        shutil.copyfile(target, previous)


def restore_on_boot(settings: Settings) -> bool:
    """At start: when the SQLite file is missing and Dropbox or S3 is configured, restore the
    newest backup (the original app's behaviour). True when a backup was restored.

    False when there is nothing to do (PostgreSQL, the file exists, no remote destination, no
    backup yet). Any other failure raises RestoreError: better not to start than to start empty
    and let automatic backups bury the good ones.
    """
    target = settings.sqlite_path
    if target is None or target.exists() or not is_remote_configured(settings):
        return False
    logger.info("the database file %s is missing: restoring the newest backup", target)
    try:
        result = restore_latest(settings)
    except NoBackupFound as exc:
        logger.info("%s; starting with an empty database", exc)
        return False
    logger.info("restored %s from %s at start", result.target, result.source)
    return True
