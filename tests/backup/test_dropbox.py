"""Dropbox through the real SDK, its HTTPS answered by `responses`: the original's layout,
retention, restore, restore at start (also of the original app's own backup), failures.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import responses
import time_machine
from click.testing import Result
from cryptography.fernet import Fernet
from sqlalchemy import select

from release_notifier.backup.create import create_backup
from release_notifier.backup.fileformat import SQLITE_HEADER
from release_notifier.backup.restore import restore_on_boot
from release_notifier.cli.backup import backup_command, restore_command
from release_notifier.crypto import decrypt_token
from release_notifier.db import open_database
from release_notifier.db.models import User
from release_notifier.settings import Settings
from tests.backup.conftest import MakeSettings, lose_the_disk, make_seed_database, table_rows
from tests.backup.dropbox_fake import FakeDropbox

RunCli = Callable[..., Result]


@pytest.fixture
def dropbox() -> FakeDropbox:
    return FakeDropbox()


@pytest.fixture
def dropbox_api(dropbox: FakeDropbox) -> Iterator[responses.RequestsMock]:
    with dropbox.serving() as mock:
        yield mock


@pytest.fixture
def with_dropbox(make_settings: MakeSettings, dropbox: FakeDropbox) -> Settings:
    return make_settings(
        dropbox_app_key=dropbox.app_key,
        dropbox_app_secret=dropbox.app_secret,
        dropbox_refresh_token=dropbox.refresh_token,
    )


def test_backup_writes_the_originals_path_and_a_dated_copy(
    populated: Path,
    with_dropbox: Settings,
    dropbox: FakeDropbox,
    dropbox_api: responses.RequestsMock,
    fernet_key: str,
) -> None:
    with time_machine.travel(datetime(2026, 11, 2, 8, 30, tzinfo=UTC), tick=False):
        report = create_backup(with_dropbox)

    assert report.ok
    assert sorted(dropbox.files) == [
        "/backups/site-20261102t083000z.db.enc",
        "/backups/site.db.enc",
    ]
    assert {c.location for c in report.copies if c.destination == "dropbox"} == {
        "dropbox:/backups/site-20261102T083000Z.db.enc",
        "dropbox:/backups/site.db.enc",
    }
    latest = dropbox.files["/backups/site.db.enc"].data
    assert Fernet(fernet_key.encode()).decrypt(latest).startswith(SQLITE_HEADER)
    assert dropbox.token_requests[0]["refresh_token"] == [dropbox.refresh_token]


def test_dropbox_keeps_the_newest_backup_keep_dated_copies(
    populated: Path,
    make_settings: MakeSettings,
    with_dropbox: Settings,
    dropbox: FakeDropbox,
    dropbox_api: responses.RequestsMock,
) -> None:
    settings = make_settings(**{**with_dropbox.model_dump(), "backup_keep": 2})
    with time_machine.travel(datetime(2026, 11, 2, 8, 0, tzinfo=UTC), tick=False) as traveller:
        for _ in range(4):
            create_backup(settings)
            traveller.shift(timedelta(hours=6))

    assert sorted(dropbox.files) == [
        "/backups/site-20261102t200000z.db.enc",
        "/backups/site-20261103t020000z.db.enc",
        "/backups/site.db.enc",
    ]


def test_restore_latest_downloads_the_newest_backup_from_dropbox(
    populated: Path,
    with_dropbox: Settings,
    dropbox_api: responses.RequestsMock,
    backup_dir: Path,
    run_cli: RunCli,
) -> None:
    rows = table_rows(populated, "users")
    create_backup(with_dropbox)
    lose_the_disk(populated, backup_dir)

    result = run_cli(restore_command, ["--latest"], with_dropbox)

    assert result.exit_code == 0, result.output
    assert "from dropbox:/backups/" in result.output
    assert table_rows(populated, "users") == rows


def test_restore_on_boot_restores_from_dropbox_when_the_file_is_missing(
    populated: Path,
    with_dropbox: Settings,
    dropbox_api: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rows = table_rows(populated, "users")
    create_backup(with_dropbox)
    populated.unlink()

    with caplog.at_level(logging.INFO, logger="release_notifier.backup"):
        assert restore_on_boot(with_dropbox) is True

    assert table_rows(populated, "users") == rows
    assert "is missing: restoring the newest backup" in caplog.text
    assert "at start" in caplog.text


def test_restore_on_boot_leaves_an_existing_database_alone(
    populated: Path, with_dropbox: Settings, dropbox_api: responses.RequestsMock
) -> None:
    assert restore_on_boot(with_dropbox) is False
    assert len(dropbox_api.calls) == 0


def test_restore_on_boot_with_an_empty_dropbox_starts_fresh(
    settings: Settings, with_dropbox: Settings, dropbox_api: responses.RequestsMock
) -> None:
    assert restore_on_boot(with_dropbox) is False
    assert with_dropbox.sqlite_path is not None and not with_dropbox.sqlite_path.exists()


def test_the_original_apps_dropbox_backup_restores_at_start_as_subscribers(
    with_dropbox: Settings,
    dropbox: FakeDropbox,
    dropbox_api: responses.RequestsMock,
    fernet_key: str,
    tmp_path: Path,
    sqlite_url: str,
) -> None:
    seed = make_seed_database(
        tmp_path / "original.db",
        [("ana@example.com", "AQB-ana-refresh", "2026-10-15T09:00:00.123456")],
    )
    dropbox.put("/backups/site.db.enc", Fernet(fernet_key.encode()).encrypt(seed.read_bytes()))

    assert restore_on_boot(with_dropbox) is True

    database = open_database(sqlite_url)
    with database.session() as session:
        (user,) = session.scalars(select(User)).all()
        token = decrypt_token(with_dropbox.token_cipher, user.id, user.refresh_token_enc or b"")
    database.dispose()
    assert (user.email, token) == ("ana@example.com", "AQB-ana-refresh")
    assert user.confirmed_at is not None
    assert user.announce_since == datetime(2026, 10, 15, 9, 0, 0)


def test_a_failing_destination_is_reported_while_the_others_get_their_copy(
    populated: Path,
    make_settings: MakeSettings,
    dropbox: FakeDropbox,
    dropbox_api: responses.RequestsMock,
    backup_dir: Path,
    run_cli: RunCli,
) -> None:
    revoked = make_settings(
        dropbox_app_key=dropbox.app_key,
        dropbox_app_secret=dropbox.app_secret,
        dropbox_refresh_token="revoked-token",
    )

    result = run_cli(backup_command, [], revoked)

    assert result.exit_code == 1
    assert "dropbox: FAILED: Dropbox could not upload" in result.output
    assert "1 of 2 destinations failed" in result.output
    assert "revoked-token" not in result.output
    (local,) = backup_dir.iterdir()
    assert f"local: {local}" in result.output
    assert dropbox.files == {}
