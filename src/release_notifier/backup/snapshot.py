"""Consistent copies of a live SQLite database (online backup API, never a file copy)."""

from __future__ import annotations

import logging
import sqlite3
import tempfile
from contextlib import closing
from datetime import datetime
from pathlib import Path

from release_notifier.backup.fileformat import SQLITE_HEADER

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_SECONDS = 15.0
# In `state`: when the newest backup known to hold this database's data was sealed (a backup
# taken of it, or the one it was restored from). Restore refuses anything older.
BACKUP_SEALED_KEY = "backup_sealed_at"


def copy_database(source: Path, target: Path) -> None:
    """Write a consistent copy of `source` to `target` while other connections keep writing.

    The copy is made in one step of SQLite's backup API (a single read transaction, so it is
    one committed state) and switched to a rollback journal so it is a single self-contained file.
    """
    with (
        closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT_SECONDS)) as src,
        closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")


def readonly_uri(path: Path) -> str:
    """A SQLite URI that opens `path` read-only (any characters in the path are escaped)."""
    return f"{path.resolve().as_uri()}?mode=ro"


def integrity_problem(path: Path) -> str | None:
    """Why `path` is not a sound SQLite database, or None when `PRAGMA integrity_check` is ok."""
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            return "not a SQLite database"
    try:
        with closing(sqlite3.connect(readonly_uri(path), uri=True)) as connection:
            rows = connection.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return f"unreadable SQLite file ({exc})"
    messages = [str(row[0]) for row in rows]
    if messages == ["ok"]:
        return None
    return "integrity check failed: " + "; ".join(messages[:3])


def snapshot_bytes(source: Path) -> bytes:
    """The bytes of a consistent, integrity-checked copy of the database at `source`.

    Raises ValueError naming the problem when the copy is not sound.
    """
    with tempfile.TemporaryDirectory(prefix="release-notifier-snapshot-") as folder:
        copy = Path(folder) / "snapshot.db"
        copy_database(source, copy)
        problem = integrity_problem(copy)
        if problem:
            raise ValueError(problem)
        return copy.read_bytes()


def recorded_backup_time(path: Path) -> datetime | None:
    """BACKUP_SEALED_KEY of the database at `path`; None when there is no file, no such record
    or the file cannot be read (a broken database must stay restorable)."""
    if not path.is_file():
        return None
    uri = readonly_uri(path)
    if not Path(f"{path}-wal").exists():
        uri += "&immutable=1"  # nothing pending in a WAL: read without making -shm or -wal
    try:
        with closing(sqlite3.connect(uri, uri=True)) as connection:
            row = connection.execute(
                "SELECT value FROM state WHERE key = ?", (BACKUP_SEALED_KEY,)
            ).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None
    except (sqlite3.DatabaseError, ValueError) as exc:
        logger.warning("cannot read when %s was last backed up: %s", path, exc)
        return None


def record_backup_time(path: Path, sealed_at: datetime) -> None:
    """Set BACKUP_SEALED_KEY of the database at `path` to `sealed_at`."""
    with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS)) as connection, connection:
        connection.execute(
            "INSERT INTO state (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (BACKUP_SEALED_KEY, sealed_at.isoformat()),
        )
