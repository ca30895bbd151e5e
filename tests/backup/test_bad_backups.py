"""Every bad backup is refused with a clear error; the database stays byte-for-byte the same."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import Result
from cryptography.fernet import Fernet

from release_notifier.backup.create import create_backup
from release_notifier.cli.backup import restore_command
from release_notifier.settings import Settings

RunCli = Callable[..., Result]


def other_key(blob: bytes, tmp_path: Path, key: str) -> bytes:
    return Fernet(Fernet.generate_key()).encrypt(Fernet(key.encode()).decrypt(blob))


def truncated(blob: bytes, tmp_path: Path, key: str) -> bytes:
    return blob[: len(blob) // 2]


def truncated_on_a_block(blob: bytes, tmp_path: Path, key: str) -> bytes:
    return blob[:-64]


def tampered(blob: bytes, tmp_path: Path, key: str) -> bytes:
    middle = len(blob) // 2
    flipped = b"A" if blob[middle : middle + 1] != b"A" else b"B"
    return blob[:middle] + flipped + blob[middle + 1 :]


def not_a_database(blob: bytes, tmp_path: Path, key: str) -> bytes:
    return Fernet(key.encode()).encrypt(b"name,email\nana,ana@example.com\n" * 20)


def foreign_database(blob: bytes, tmp_path: Path, key: str) -> bytes:
    path = tmp_path / "foreign.db"
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
        connection.commit()
    return Fernet(key.encode()).encrypt(path.read_bytes())


def corrupt_database(blob: bytes, tmp_path: Path, key: str) -> bytes:
    plain = bytearray(Fernet(key.encode()).decrypt(blob))
    plain[4096:8192] = b"\xff" * 4096  # clobber the second page
    return Fernet(key.encode()).encrypt(bytes(plain))


def empty(blob: bytes, tmp_path: Path, key: str) -> bytes:
    return b""


def plain_text(blob: bytes, tmp_path: Path, key: str) -> bytes:
    return b"this is not a backup\n"


CASES = [
    (other_key, "key is wrong"),
    (truncated, "truncated"),
    (truncated_on_a_block, "truncated"),
    (tampered, "modified"),
    (not_a_database, "not a SQLite database"),
    (foreign_database, "neither release-notifier's nor the original app's"),
    (corrupt_database, "not a sound database"),
    (empty, "empty"),
    (plain_text, "not an encrypted backup"),
]


@pytest.mark.parametrize(("spoil", "message"), CASES, ids=[c[0].__name__ for c in CASES])
def test_a_bad_backup_is_refused_and_the_database_is_untouched(
    spoil: Callable[[bytes, Path, str], bytes],
    message: str,
    populated: Path,
    settings: Settings,
    run_cli: RunCli,
    backup_dir: Path,
    fernet_key: str,
    tmp_path: Path,
) -> None:
    good = Path(create_backup(settings).copies[0].location)
    bad = backup_dir / "site-20260101T000000Z.db.enc"
    bad.write_bytes(spoil(good.read_bytes(), tmp_path, fernet_key))
    before = {p.name: p.read_bytes() for p in populated.parent.iterdir() if p.is_file()}

    result = run_cli(restore_command, [bad.name], settings)

    assert result.exit_code == 1
    assert message in result.output
    assert "the database was not changed" in result.output
    assert "Traceback" not in result.output
    after = {p.name: p.read_bytes() for p in populated.parent.iterdir() if p.is_file()}
    assert after == before
