"""Consistent copies of a live SQLite database (online backup API, never a file copy)."""

from __future__ import annotations

import logging
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

from release_notifier.backup.fileformat import SQLITE_HEADER

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_SECONDS = 15.0


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
