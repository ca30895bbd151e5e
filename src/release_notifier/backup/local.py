"""A local folder (BACKUP_DIR, default instance/backups): dated copies, written atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from release_notifier.backup.destinations import StoredBackup
from release_notifier.backup.errors import BackupError
from release_notifier.backup.fileformat import taken_at_from_name


class LocalDestination:
    """Backup files in one folder, readable by the owner only."""

    kind = "local"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def describe(self) -> str:
        return str(self.folder.resolve())

    def store(self, name: str, blob: bytes) -> list[str]:
        """Write to a temporary name in the same folder, flush to disk, then rename over `name`."""
        target = self.folder / name
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomically(target, blob)
        except OSError as exc:
            raise BackupError(f"cannot write {target}: {exc.strerror or exc}") from None
        return [str(target.resolve())]

    def list_backups(self) -> list[StoredBackup]:
        if not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.iterdir():
            taken_at = taken_at_from_name(path.name)
            if taken_at is not None and path.is_file():
                found.append(
                    StoredBackup(
                        destination=self.kind,
                        name=path.name,
                        location=str(path.resolve()),
                        taken_at=taken_at,
                        size=path.stat().st_size,
                    )
                )
        return found

    def fetch(self, backup: StoredBackup) -> bytes:
        return (self.folder / backup.name).read_bytes()

    def delete(self, backup: StoredBackup) -> None:
        (self.folder / backup.name).unlink(missing_ok=True)


def write_atomically(target: Path, data: bytes) -> None:
    """Replace `target` with `data` so readers see the old file or the new one, never half."""
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    sync_folder(target.parent)


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename) to disk where the platform allows it."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
