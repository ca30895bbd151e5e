"""The move from the original app: its `site.db` (`users(email, token, last_ran)`) becomes
confirmed subscribers here, each with their refresh token encrypted and `last_ran` as the day
before which nothing is announced to them, so moving over mails nobody old releases.
"""

from __future__ import annotations

import logging
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from release_notifier.accounts import InvalidAddress, normalize_address
from release_notifier.backup.errors import RestoreError, SeedImportError
from release_notifier.backup.fileformat import SQLITE_HEADER, decrypt_backup
from release_notifier.backup.snapshot import integrity_problem, readonly_uri
from release_notifier.clock import utcnow
from release_notifier.crypto import encrypt_token
from release_notifier.db import Database
from release_notifier.db.models import User
from release_notifier.logs import mask_email
from release_notifier.settings import Settings

logger = logging.getLogger(__name__)

SEED_COLUMNS = {"email", "token", "last_ran"}


@dataclass(frozen=True)
class SeedUser:
    """One row of the original's `users` table."""

    email: str
    token: str
    last_ran: datetime | None


@dataclass
class ImportReport:
    imported: int = 0
    already_present: int = 0
    invalid: int = 0
    without_token: int = 0


def table_columns(connection: sqlite3.Connection, table: str) -> set[str]:
    return {str(row[1]) for row in connection.execute(f"PRAGMA table_info({table})")}


def is_seed_database(path: Path) -> bool:
    """Whether the SQLite file at `path` is the original app's database (and not ours)."""
    with closing(sqlite3.connect(readonly_uri(path), uri=True)) as connection:
        tables = {str(r[0]) for r in connection.execute("SELECT name FROM sqlite_master")}
        columns = table_columns(connection, "users")
    return "alembic_version" not in tables and columns >= SEED_COLUMNS


def parse_last_ran(value: object) -> datetime | None:
    """The original's `datetime.today().isoformat()` as naive UTC; None if absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed.replace(microsecond=0)


def normalize_email(value: object) -> str | None:
    """The address in the same canonical form signups use, or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        # addresses the original accepted on `.test` domains come over too
        return normalize_address(value, allow_test_domains=True)
    except InvalidAddress:
        return None


def read_seed_users(path: Path) -> tuple[list[SeedUser], int]:
    """The original's users from the SQLite file at `path`, and how many rows were unusable."""
    problem = integrity_problem(path)
    if problem:
        raise SeedImportError(f"{path} is not a usable SQLite database: {problem}")
    if not is_seed_database(path):
        raise SeedImportError(
            f"{path} is not the original app's database (no users(email, token, last_ran) table)"
        )
    users, invalid = [], 0
    with closing(sqlite3.connect(readonly_uri(path), uri=True)) as connection:
        for email, token, last_ran in connection.execute(
            "SELECT email, token, last_ran FROM users ORDER BY rowid"
        ):
            address = normalize_email(email)
            if address is None:
                invalid += 1
                continue
            token_text = token.strip() if isinstance(token, str) else ""
            users.append(SeedUser(address, token_text, parse_last_ran(last_ran)))
    return users, invalid


def import_seed_file(settings: Settings, database: Database, path: Path) -> ImportReport:
    """Import the original's `site.db`, or its encrypted `site.db.enc`, into `database`."""
    if not path.is_file():
        raise SeedImportError(f"{path} does not exist")
    data = path.read_bytes()
    if data.startswith(SQLITE_HEADER):
        return import_seed_database(settings, database, path)
    try:
        plain = decrypt_backup(settings.token_cipher, data)
    except RestoreError as exc:
        raise SeedImportError(
            f"{path} is neither a SQLite file nor a readable backup: {exc}"
        ) from None
    with tempfile.TemporaryDirectory(prefix="release-notifier-seed-") as folder:
        decrypted = Path(folder) / "site.db"
        decrypted.write_bytes(plain)
        return import_seed_database(settings, database, decrypted)


def import_seed_database(settings: Settings, database: Database, path: Path) -> ImportReport:
    """Import every usable user of the SQLite seed at `path`; users already here are left alone."""
    users, invalid = read_seed_users(path)
    report = ImportReport(invalid=invalid)
    now = utcnow()
    cipher = settings.token_cipher
    with database.session() as session:
        for seed in users:
            existing = session.scalar(select(User.id).where(User.email == seed.email))
            if existing is not None:
                report.already_present += 1
                continue
            user = new_subscriber(settings, seed, now)
            session.add(user)
            session.flush()
            if seed.token:
                user.refresh_token_enc = encrypt_token(cipher, user.id, seed.token)
            else:
                user.needs_relink_since = now
                report.without_token += 1
            report.imported += 1
            logger.info("imported %s from the original app", mask_email(seed.email))
    return report


def new_subscriber(settings: Settings, seed: SeedUser, now: datetime) -> User:
    """A confirmed user (they opted in on the original) who continues their old schedule."""
    baseline = seed.last_ran or now - timedelta(days=settings.initial_lookback_days)
    next_digest = (
        seed.last_ran + timedelta(days=settings.digest_interval_days) if seed.last_ran else now
    )
    return User(
        email=seed.email,
        created_at=now,
        confirmed_at=now,
        announce_since=baseline,
        next_digest_at=next_digest,
        last_digest_at=seed.last_ran,
    )
