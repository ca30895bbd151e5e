"""The backup file: the whole SQLite database encrypted with Fernet under DB_ENCRYPTION_KEY.

This is byte-compatible with the original app's `site.db.enc`, so its Dropbox backups restore
here and ours restore there. Dated copies are named `site-YYYYMMDDTHHMMSSZ.db.enc` (UTC), but a
name can be changed by anyone who can write the folder: when a backup was taken is read from the
time Fernet seals inside every token, which its HMAC covers (`read_backup`).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.fernet import InvalidToken, MultiFernet

from release_notifier.backup.errors import RestoreError

SQLITE_HEADER = b"SQLite format 3\x00"
LATEST_NAME = "site.db.enc"
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
DATED_NAME = re.compile(r"^site-(\d{8}T\d{6}Z)\.db\.enc$", re.IGNORECASE)

# Fernet token layout: version (1) | timestamp (8) | IV (16) | ciphertext (16*n) | HMAC (32).
_FERNET_VERSION = 0x80
_FERNET_OVERHEAD = 1 + 8 + 16 + 32
# A SQLite file is whole pages (at least 512 bytes each); as a multiple of 16 bytes it is
# encrypted with one full block of padding after it.
_SQLITE_PAGE_MIN = 512
_PADDING_BLOCK = 16


def dated_name(taken_at: datetime) -> str:
    """The file name of a backup taken at `taken_at` (naive UTC)."""
    return f"site-{taken_at.strftime(STAMP_FORMAT)}.db.enc"


def taken_at_from_name(name: str) -> datetime | None:
    """When a dated backup was taken, read from its name; None for any other name."""
    match = DATED_NAME.match(name)
    if match is None:
        return None
    return datetime.strptime(match.group(1).upper(), STAMP_FORMAT)


def encrypt_database(cipher: MultiFernet, database: bytes) -> bytes:
    """Encrypt a SQLite file's bytes under the first DB_ENCRYPTION_KEY."""
    return cipher.encrypt(database)


@dataclass(frozen=True)
class OpenedBackup:
    """A backup's SQLite bytes and the moment it was encrypted (naive UTC, to the second)."""

    database: bytes
    sealed_at: datetime


def read_backup(cipher: MultiFernet, blob: bytes) -> OpenedBackup:
    """Decrypt a backup (see decrypt_backup) and read the time sealed inside it, which no
    renaming or copying changes and no one without the key can forge."""
    database = decrypt_backup(cipher, blob)  # verifies the HMAC, which covers the time
    return OpenedBackup(database, token_time(blob))


def token_time(blob: bytes) -> datetime:
    """The time in a Fernet token's header (naive UTC), unverified: trust it only after the
    token decrypted, or for a token just made."""
    seconds = int.from_bytes(base64.urlsafe_b64decode(blob.strip())[1:9], "big")
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def decrypt_backup(cipher: MultiFernet, blob: bytes) -> bytes:
    """The SQLite bytes inside a backup, trying every DB_ENCRYPTION_KEY.

    A file that is not a Fernet token, is cut short, fails authentication (wrong key or
    modified bytes) or holds something other than a SQLite database raises RestoreError.
    """
    token = blob.strip()
    if not token:
        raise RestoreError("the backup file is empty")
    try:
        raw = base64.urlsafe_b64decode(_validated_base64(token))
    except (binascii.Error, ValueError):
        raise RestoreError(
            "the file is not an encrypted backup (not Fernet text), or it is truncated"
        ) from None
    if not raw or raw[0] != _FERNET_VERSION:
        raise RestoreError("the file is not an encrypted backup (no Fernet header)")
    body = len(raw) - _FERNET_OVERHEAD
    if body < 16 or body % 16:
        raise RestoreError("the backup file is truncated (its length is not a whole backup)")
    try:
        plain = cipher.decrypt(token)
    except InvalidToken:
        if (body - _PADDING_BLOCK) % _SQLITE_PAGE_MIN:
            # Cut on a block boundary: only the length of a whole database gives it away.
            raise RestoreError(
                "the backup file is truncated (its length is not a whole database)"
            ) from None
        raise RestoreError(
            "the backup does not decrypt with DB_ENCRYPTION_KEY: the key is wrong, "
            "or the file was modified"
        ) from None
    if not plain.startswith(SQLITE_HEADER):
        raise RestoreError("the backup decrypts, but what it holds is not a SQLite database")
    return plain


def _validated_base64(token: bytes) -> bytes:
    """`token` if it is well-formed url-safe base64 (Fernet's alphabet), else ValueError."""
    if re.fullmatch(rb"[A-Za-z0-9_\-]+={0,2}", token) is None or len(token) % 4:
        raise ValueError("not url-safe base64")
    return token
