"""Where backups go: the configured destinations, and what each one holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from release_notifier.backup.fileformat import taken_at_from_name
from release_notifier.settings import Settings


@dataclass(frozen=True)
class StoredBackup:
    """One backup file held by a destination."""

    destination: str
    name: str
    location: str
    taken_at: datetime
    size: int | None = None


class Destination(Protocol):
    """A place that stores backup files by name. Errors are raised as BackupError."""

    kind: str

    def describe(self) -> str:
        """Where this destination writes, for people (no secrets)."""
        ...

    def store(self, name: str, blob: bytes) -> list[str]:
        """Write `blob` as `name` atomically; return every location written."""
        ...

    def list_backups(self) -> list[StoredBackup]:
        """The backups held here, in any order."""
        ...

    def fetch(self, backup: StoredBackup) -> bytes:
        """The bytes of one held backup."""
        ...

    def delete(self, backup: StoredBackup) -> None:
        """Remove one held backup."""
        ...


def is_remote_configured(settings: Settings) -> bool:
    """Whether Dropbox or an S3-compatible store is configured."""
    return dropbox_configured(settings) or bool(settings.backup_s3_url)


def dropbox_configured(settings: Settings) -> bool:
    """Dropbox needs all three of the original's variables."""
    return bool(
        settings.dropbox_app_key and settings.dropbox_app_secret and settings.dropbox_refresh_token
    )


def configured_destinations(settings: Settings) -> list[Destination]:
    """The local folder (unless BACKUP_DIR is empty), then Dropbox and S3 when configured."""
    from release_notifier.backup.local import LocalDestination

    destinations: list[Destination] = []
    if settings.backup_dir:
        destinations.append(LocalDestination(Path(settings.backup_dir)))
    if dropbox_configured(settings):
        from release_notifier.backup.dropbox import DropboxDestination

        destinations.append(
            DropboxDestination(
                app_key=settings.dropbox_app_key,
                app_secret=settings.dropbox_app_secret,
                refresh_token=settings.dropbox_refresh_token,
            )
        )
    if settings.backup_s3_url:
        from release_notifier.backup.s3 import S3Destination

        destinations.append(
            S3Destination(settings.backup_s3_url, endpoint_url=settings.backup_s3_endpoint_url)
        )
    return destinations


def dated_backups(backups: list[StoredBackup]) -> list[StoredBackup]:
    """Only the dated copies (the ones retention counts), newest first."""
    dated = [b for b in backups if taken_at_from_name(b.name) is not None]
    return sorted(dated, key=lambda b: b.taken_at, reverse=True)


def prune(destination: Destination, keep: int) -> list[StoredBackup]:
    """Delete all but the `keep` newest dated copies; return the deleted ones."""
    old = dated_backups(destination.list_backups())[keep:]
    for backup in old:
        destination.delete(backup)
    return old
