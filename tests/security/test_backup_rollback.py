"""Rolling the subscribers back with a genuine old backup: copied under a far-future name it was
chosen by `restore --latest` and by restore-on-boot, which trusted the date in the name, and
`restore FILE` took it over a newer database, subscribing again everyone who had left since.
Now the time sealed inside the encrypted backup decides, and an older backup needs
`--allow-older`."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import datetime
from pathlib import Path

import time_machine
from click.testing import Result

from release_notifier.backup.create import BackupReport, create_backup
from release_notifier.backup.restore import restore_latest, restore_on_boot
from release_notifier.cli.backup import restore_command
from release_notifier.settings import Settings
from tests.backup.conftest import (
    MakeSettings,
    backup_dir,
    fernet_key,
    lose_the_disk,
    make_settings,
    populated,
    run_cli,
    settings,
)
from tests.backup.test_s3 import aws_credentials, bucket, s3_client, s3_endpoint

__all__ = [
    "aws_credentials",
    "backup_dir",
    "bucket",
    "fernet_key",
    "make_settings",
    "populated",
    "run_cli",
    "s3_endpoint",
    "settings",
]

OLD, NEW = datetime(2026, 11, 1, 9, 0), datetime(2026, 11, 20, 9, 0)
FUTURE_NAME = "site-20991231T235959Z.db.enc"
LEAVER = "user0@example.com"


def subscribed(database_file: Path) -> set[str]:
    with closing(sqlite3.connect(database_file)) as connection:
        rows = connection.execute("SELECT email FROM users WHERE unsubscribed_at IS NULL")
        return {str(row[0]) for row in rows}


def history(settings: Settings, database_file: Path) -> tuple[BackupReport, BackupReport]:
    """A backup while LEAVER was subscribed; LEAVER unsubscribes; a newer backup."""
    with time_machine.travel(OLD, tick=False):
        old = create_backup(settings)
    with closing(sqlite3.connect(database_file)) as connection, connection:
        connection.execute("UPDATE users SET unsubscribed_at = ? WHERE email = ?", (NEW, LEAVER))
    with time_machine.travel(NEW, tick=False):
        new = create_backup(settings)
    assert LEAVER not in subscribed(database_file)
    return old, new


def lose_the_database(database_file: Path) -> None:
    for path in database_file.parent.glob(f"{database_file.name}*"):
        path.unlink()


def test_restore_latest_takes_the_backup_sealed_last_not_the_latest_name(
    populated: Path, settings: Settings, backup_dir: Path
) -> None:
    old, new = history(settings, populated)
    shutil.copy(backup_dir / old.name, backup_dir / FUTURE_NAME)
    lose_the_database(populated)

    result = restore_latest(settings)

    assert result.source == str(backup_dir / new.name)
    assert result.sealed_at == NEW
    assert LEAVER not in subscribed(populated)


def test_restore_refuses_a_backup_sealed_before_the_current_database_unless_allowed(
    populated: Path,
    settings: Settings,
    backup_dir: Path,
    run_cli: Callable[..., Result],
) -> None:
    old, _ = history(settings, populated)
    shutil.copy(backup_dir / old.name, backup_dir / FUTURE_NAME)
    before = populated.read_bytes()

    refused = run_cli(restore_command, [FUTURE_NAME], settings)

    assert refused.exit_code == 1
    assert "sealed at 2026-11-01 09:00:00 UTC, before the newest backup" in refused.output
    assert "--allow-older" in refused.output and "the database was not changed" in refused.output
    assert populated.read_bytes() == before
    allowed = run_cli(restore_command, [FUTURE_NAME, "--allow-older"], settings)
    assert allowed.exit_code == 0, allowed.output
    assert LEAVER in subscribed(populated)


def test_restore_on_boot_takes_the_backup_sealed_last_from_s3(
    populated: Path,
    make_settings: MakeSettings,
    backup_dir: Path,
    s3_endpoint: str,
    bucket: str,
) -> None:
    with_s3 = make_settings(backup_s3_url=f"s3://{bucket}/prod", backup_s3_endpoint_url=s3_endpoint)
    old, _ = history(with_s3, populated)
    s3_client(s3_endpoint).copy_object(
        Bucket=bucket,
        Key=f"prod/{FUTURE_NAME}",
        CopySource={"Bucket": bucket, "Key": f"prod/{old.name}"},
    )
    lose_the_disk(populated, backup_dir)

    assert restore_on_boot(with_s3) is True

    assert LEAVER not in subscribed(populated)
