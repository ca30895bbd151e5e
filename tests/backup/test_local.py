"""Local backups: encrypted consistent snapshots in BACKUP_DIR, retention, restore from a file."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine
from click.testing import Result
from cryptography.fernet import Fernet

from release_notifier.backup.create import create_backup
from release_notifier.backup.fileformat import SQLITE_HEADER
from release_notifier.backup.restore import restore_file
from release_notifier.cli.backup import backup_command, restore_command
from release_notifier.db import open_database
from release_notifier.db.migrate import upgrade_database
from release_notifier.settings import Settings
from tests.backup.conftest import MakeSettings, add_users, table_rows

RunCli = Callable[..., Result]


def test_backup_writes_an_encrypted_copy_that_the_original_app_could_decrypt(
    populated: Path, settings: Settings, backup_dir: Path, fernet_key: str, tmp_path: Path
) -> None:
    report = create_backup(settings)

    (written,) = backup_dir.iterdir()
    assert report.ok and [c.location for c in report.copies] == [str(written)]
    blob = written.read_bytes()
    assert b"user0@example.com" not in blob
    plain = Fernet(fernet_key.encode()).decrypt(
        blob
    )  # exactly what the original's decrypt_file did
    assert plain.startswith(SQLITE_HEADER)
    copy = tmp_path / "copy.db"
    copy.write_bytes(plain)
    assert table_rows(copy, "users") == table_rows(populated, "users")


def test_backup_command_prints_where_each_copy_went_and_its_size(
    populated: Path, settings: Settings, run_cli: RunCli, backup_dir: Path
) -> None:
    result = run_cli(backup_command, [], settings)

    assert result.exit_code == 0, result.output
    (written,) = backup_dir.iterdir()
    assert f"local: {written}" in result.output
    assert "KiB)" in result.output


def test_backup_encrypts_with_the_first_of_several_keys(
    populated: Path, make_settings: MakeSettings, backup_dir: Path, fernet_key: str
) -> None:
    newer = Fernet.generate_key().decode()
    create_backup(make_settings(db_encryption_key=f"{newer},{fernet_key}"))

    (written,) = backup_dir.iterdir()
    assert Fernet(newer.encode()).decrypt(written.read_bytes()).startswith(SQLITE_HEADER)


def test_retention_keeps_the_newest_backup_keep_copies(
    populated: Path, make_settings: MakeSettings, backup_dir: Path
) -> None:
    settings = make_settings(backup_keep=3)
    names = []
    with time_machine.travel(datetime(2026, 11, 1, 12, 0, tzinfo=UTC), tick=False) as traveller:
        for _ in range(5):
            names.append(create_backup(settings).name)
            traveller.shift(timedelta(hours=1))

    assert sorted(p.name for p in backup_dir.iterdir()) == sorted(names[-3:])


def test_postgres_backup_is_refused_with_a_plain_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "release_notifier", "backup"],
        env={
            "DATABASE_URL": "postgresql://notifier@127.0.0.1:1/notifier",
            "DB_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "PATH": "",
        },
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )

    assert result.returncode != 0
    assert "PostgreSQL" in result.stderr and "pg_dump" in result.stderr
    assert "Traceback" not in result.stderr


def test_restore_brings_back_the_rows_of_the_backup(
    populated: Path, settings: Settings, run_cli: RunCli, sqlite_url: str
) -> None:
    before = table_rows(populated, "users")
    report = create_backup(settings)
    database = open_database(sqlite_url)
    add_users(database, 5, start=100)
    database.dispose()

    result = run_cli(restore_command, [report.name], settings)

    assert result.exit_code == 0, result.output
    assert table_rows(populated, "users") == before
    kept = populated.with_name("site.db.before-restore")
    assert len(table_rows(kept, "users")) == 8
    assert f"kept as {kept}" in result.output


def test_restore_refuses_a_file_outside_the_backup_folder(
    populated: Path, settings: Settings, run_cli: RunCli, tmp_path: Path
) -> None:
    report = create_backup(settings)
    outside = tmp_path / "elsewhere.db.enc"
    outside.write_bytes(Path(report.copies[0].location).read_bytes())
    before = populated.read_bytes()

    result = run_cli(restore_command, [str(outside)], settings)

    assert result.exit_code != 0
    assert "outside the backup folder" in result.output and "--allow-outside" in result.output
    assert populated.read_bytes() == before


def test_restore_refuses_a_relative_path_that_climbs_out_of_the_backup_folder(
    populated: Path, settings: Settings, run_cli: RunCli, backup_dir: Path, tmp_path: Path
) -> None:
    create_backup(settings)
    (tmp_path / "x.db.enc").write_bytes(next(backup_dir.iterdir()).read_bytes())
    before = populated.read_bytes()

    result = run_cli(restore_command, [str(backup_dir / ".." / "x.db.enc")], settings)

    assert result.exit_code != 0 and "outside the backup folder" in result.output
    assert populated.read_bytes() == before


def test_allow_outside_restores_a_file_the_operator_names(
    populated: Path, settings: Settings, run_cli: RunCli, tmp_path: Path, sqlite_url: str
) -> None:
    report = create_backup(settings)
    outside = tmp_path / "elsewhere.db.enc"
    outside.write_bytes(Path(report.copies[0].location).read_bytes())
    database = open_database(sqlite_url)
    add_users(database, 1, start=50)
    database.dispose()

    result = run_cli(restore_command, [str(outside), "--allow-outside"], settings)

    assert result.exit_code == 0, result.output
    assert len(table_rows(populated, "users")) == 3


def test_restore_needs_exactly_one_of_file_or_latest(
    populated: Path, settings: Settings, run_cli: RunCli
) -> None:
    assert run_cli(restore_command, [], settings).exit_code == 2
    assert run_cli(restore_command, ["x.db.enc", "--latest"], settings).exit_code == 2


def test_restore_latest_takes_the_newest_local_backup(
    populated: Path, settings: Settings, run_cli: RunCli, sqlite_url: str
) -> None:
    with time_machine.travel(datetime(2026, 11, 1, 12, 0, tzinfo=UTC), tick=False) as traveller:
        create_backup(settings)
        database = open_database(sqlite_url)
        add_users(database, 2, start=10)
        database.dispose()
        traveller.shift(timedelta(minutes=5))
        create_backup(settings)
    populated.unlink()

    result = run_cli(restore_command, ["--latest"], settings)

    assert result.exit_code == 0, result.output
    assert len(table_rows(populated, "users")) == 5


def test_restore_migrates_an_older_backup_to_the_newest_schema(
    settings: Settings, sqlite_url: str
) -> None:
    database = open_database(sqlite_url, upgrade=False)
    upgrade_database(database, "0001")
    database.dispose()
    report = create_backup(settings)
    assert settings.sqlite_path is not None
    settings.sqlite_path.unlink()

    restore_file(settings, report.name)

    restored = open_database(sqlite_url, upgrade=False)
    with restored.engine.connect() as connection:
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        from release_notifier.db.migrate import alembic_config

        current = MigrationContext.configure(connection).get_current_revision()
        head = ScriptDirectory.from_config(alembic_config(restored)).get_current_head()
    restored.dispose()
    assert current == head


def test_a_backup_made_before_a_key_rotation_restores_while_the_old_key_is_listed(
    populated: Path, make_settings: MakeSettings, settings: Settings, fernet_key: str
) -> None:
    rows = table_rows(populated, "users")
    report = create_backup(settings)
    populated.unlink()
    rotated = make_settings(db_encryption_key=f"{Fernet.generate_key().decode()},{fernet_key}")

    restore_file(rotated, report.name)

    assert table_rows(populated, "users") == rows
