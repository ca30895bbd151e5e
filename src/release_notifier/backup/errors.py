"""Errors of the backup package; each message fits on one line and names what to do."""

from __future__ import annotations

from pathlib import Path

from release_notifier.settings import Settings


class BackupError(Exception):
    """A backup could not be made or stored."""


class RestoreError(Exception):
    """A backup cannot be restored; the current database was left untouched."""


class NoBackupFound(RestoreError):
    """No destination holds a backup yet."""


class SeedImportError(Exception):
    """The file is not the original app's database; nothing was imported."""


def require_sqlite(settings: Settings, error: type[Exception], *, verb: str, tools: str) -> Path:
    """The SQLite file behind DATABASE_URL, or `error` saying PostgreSQL has its own tools."""
    path = settings.sqlite_path
    if path is None:
        raise error(
            f"DATABASE_URL is not a SQLite file: {verb} PostgreSQL with its own tools "
            f"({tools}); see docs/operations.md"
        )
    return path
