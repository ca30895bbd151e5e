"""Dropbox, as the original used it: `/backups/site.db.enc` (always the newest) plus dated copies.

Uses the official SDK with a refresh token (DROPBOX_APP_KEY / DROPBOX_APP_SECRET /
DROPBOX_REFRESH_TOKEN); long-lived access tokens were retired by Dropbox in 2021.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dropbox
import requests
from dropbox import files as dropbox_files
from dropbox.exceptions import ApiError, DropboxException

from release_notifier.backup.destinations import StoredBackup
from release_notifier.backup.errors import BackupError
from release_notifier.backup.fileformat import LATEST_NAME, taken_at_from_name

logger = logging.getLogger(__name__)

FOLDER = "/backups"
TIMEOUT_SECONDS = 60.0


class DropboxDestination:
    """The app folder's `/backups`; every upload overwrites the file of the same name."""

    kind = "dropbox"

    def __init__(self, *, app_key: str, app_secret: str, refresh_token: str) -> None:
        self._credentials = {
            "app_key": app_key,
            "app_secret": app_secret,
            "oauth2_refresh_token": refresh_token,
        }
        self._client: dropbox.Dropbox | None = None

    def describe(self) -> str:
        return f"dropbox:{FOLDER}"

    def client(self) -> dropbox.Dropbox:
        if self._client is None:
            self._client = dropbox.Dropbox(timeout=TIMEOUT_SECONDS, **self._credentials)
        return self._client

    def store(self, name: str, blob: bytes) -> list[str]:
        """Upload the dated copy, then the same bytes as `/backups/site.db.enc`."""
        written = []
        for target in (name, LATEST_NAME):
            path = f"{FOLDER}/{target}"
            with dropbox_errors(f"upload {path}"):
                self.client().files_upload(
                    blob, path, mode=dropbox_files.WriteMode.overwrite, mute=True
                )
            written.append(f"dropbox:{path}")
        return written

    def list_backups(self) -> list[StoredBackup]:
        """Dated copies and `site.db.enc` (dated by Dropbox's modification time)."""
        found = []
        for entry in self._entries():
            if not isinstance(entry, dropbox_files.FileMetadata):
                continue
            taken_at = taken_at_from_name(entry.name)
            if taken_at is None and entry.name == LATEST_NAME:
                taken_at = entry.server_modified
            if taken_at is not None:
                found.append(
                    StoredBackup(
                        destination=self.kind,
                        name=entry.name,
                        location=f"dropbox:{FOLDER}/{entry.name}",
                        taken_at=taken_at,
                        size=entry.size,
                    )
                )
        return found

    def _entries(self) -> Iterator[Any]:
        with dropbox_errors(f"list {FOLDER}"):
            try:
                page = self.client().files_list_folder(FOLDER)
            except ApiError as exc:
                if _is_not_found(exc):
                    return
                raise
            yield from page.entries
            while page.has_more:
                page = self.client().files_list_folder_continue(page.cursor)
                yield from page.entries

    def fetch(self, backup: StoredBackup) -> bytes:
        path = f"{FOLDER}/{backup.name}"
        with dropbox_errors(f"download {path}"):
            _metadata, response = self.client().files_download(path)
            return bytes(response.content)

    def delete(self, backup: StoredBackup) -> None:
        path = f"{FOLDER}/{backup.name}"
        with dropbox_errors(f"delete {path}"):
            self.client().files_delete_v2(path)


def _is_not_found(exc: ApiError) -> bool:
    error = exc.error
    return bool(getattr(error, "is_path", lambda: False)() and error.get_path().is_not_found())


@contextmanager
def dropbox_errors(action: str) -> Iterator[None]:
    """Turn SDK and network failures into BackupError naming the action (never the tokens)."""
    try:
        yield
    except DropboxException as exc:
        raise BackupError(f"Dropbox could not {action}: {type(exc).__name__} {exc}") from None
    except requests.RequestException as exc:
        raise BackupError(f"Dropbox could not {action}: {type(exc).__name__}") from None
