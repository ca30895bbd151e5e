"""Backups: consistent SQLite snapshots, encrypted like the original's `site.db.enc`, sent to a
local folder, Dropbox or an S3-compatible store; restore, restore at start, and the move from the
original app (`import-seed`).

Modules: snapshot (consistent copy + integrity), fileformat (encryption and names), local /
dropbox / s3 (destinations), destinations (which are configured), create (the `backup` command),
restore, auto (debounced background backups), seed_import.
"""

from release_notifier.backup.auto import maybe_backup_after_change
from release_notifier.backup.restore import restore_on_boot

__all__ = ["maybe_backup_after_change", "restore_on_boot"]
