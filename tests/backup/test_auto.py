"""Automatic backups: in the background, at most one per BACKUP_MIN_INTERVAL_MINUTES, and a
change inside the interval is still saved when it ends (or when the process exits).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from release_notifier.backup.auto import (
    AutoBackup,
    automatic_backups_enabled,
    maybe_backup_after_change,
)
from release_notifier.settings import Settings
from tests.backup.conftest import MakeSettings

WAIT_SECONDS = 30
START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def backups_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_without_a_remote_destination_nothing_is_backed_up_automatically(
    populated: Path, settings: Settings, backup_dir: Path
) -> None:
    maybe_backup_after_change(settings, "signup")

    assert not automatic_backups_enabled(settings)
    assert backups_in(backup_dir) == []


def test_postgres_gets_no_automatic_backups(make_settings: MakeSettings) -> None:
    settings = make_settings(
        database_url="postgresql://notifier@127.0.0.1:1/notifier", backup_s3_url="s3://b/p"
    )
    assert not automatic_backups_enabled(settings)
    maybe_backup_after_change(settings, "run")  # returns quietly


def test_changes_inside_the_interval_share_one_backup_when_it_ends(
    populated: Path, settings: Settings, backup_dir: Path
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        worker = AutoBackup(settings)
        worker.notify("signup")
        assert worker.wait_idle(WAIT_SECONDS)
        assert backups_in(backup_dir) == ["site-20261125T120000Z.db.enc"]

        traveller.shift(timedelta(minutes=1))
        worker.notify("run")
        worker.notify("signup")
        assert worker.seconds_until_due() == 9 * 60
        assert len(backups_in(backup_dir)) == 1

        traveller.shift(timedelta(minutes=9))
        assert worker.wait_idle(WAIT_SECONDS)

    assert backups_in(backup_dir) == [
        "site-20261125T120000Z.db.enc",
        "site-20261125T121000Z.db.enc",
    ]
    assert worker.backups_run == 2


def test_a_pending_backup_runs_when_the_process_exits(
    populated: Path, settings: Settings, backup_dir: Path
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        worker = AutoBackup(settings)
        worker.notify("run")
        assert worker.wait_idle(WAIT_SECONDS)
        traveller.shift(timedelta(minutes=2))
        worker.notify("run")

        worker.flush(WAIT_SECONDS)

    assert backups_in(backup_dir) == [
        "site-20261125T120000Z.db.enc",
        "site-20261125T120200Z.db.enc",
    ]
    assert worker.seconds_until_due() is None


def test_a_failing_automatic_backup_is_logged_and_the_worker_carries_on(
    make_settings: MakeSettings, backup_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(backup_min_interval_minutes=0)  # and no database file yet
    worker = AutoBackup(settings)

    worker.notify("signup")
    assert worker.wait_idle(WAIT_SECONDS)
    worker.notify("signup")
    assert worker.wait_idle(WAIT_SECONDS)

    assert worker.backups_run == 2
    assert backups_in(backup_dir) == []
    assert caplog.text.count("automatic backup after signup failed: the database file") == 2
