"""S3 through boto3 against moto's server over real HTTP on 127.0.0.1 (one server per module)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import time_machine
from click.testing import Result
from moto.server import ThreadedMotoServer

from release_notifier.backup.auto import AutoBackup, maybe_backup_after_change
from release_notifier.backup.create import create_backup
from release_notifier.backup.restore import restore_on_boot
from release_notifier.cli.backup import backup_command, restore_command
from release_notifier.settings import ConfigError, Settings
from tests.backup.conftest import MakeSettings, lose_the_disk, table_rows

RunCli = Callable[..., Result]
WAIT_SECONDS = 30


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """boto3 reads these itself; moto accepts any."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def bucket(s3_endpoint: str, request: pytest.FixtureRequest) -> str:
    name = "backups-" + request.node.name.replace("_", "-")[:40].lower().strip("-")
    s3_client(s3_endpoint).create_bucket(Bucket=name)
    return name


def s3_client(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint)


def keys(endpoint: str, bucket: str) -> list[str]:
    listing = s3_client(endpoint).list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


@pytest.fixture
def with_s3(make_settings: MakeSettings, s3_endpoint: str, bucket: str) -> Settings:
    return make_settings(
        backup_s3_url=f"s3://{bucket}/notifier", backup_s3_endpoint_url=s3_endpoint
    )


def test_backup_puts_a_dated_copy_under_the_prefix(
    populated: Path, with_s3: Settings, s3_endpoint: str, bucket: str, run_cli: RunCli
) -> None:
    with time_machine.travel(datetime(2026, 11, 2, 8, 30, tzinfo=UTC), tick=False):
        result = run_cli(backup_command, [], with_s3)

    assert result.exit_code == 0, result.output
    assert keys(s3_endpoint, bucket) == ["notifier/site-20261102T083000Z.db.enc"]
    assert f"s3: s3://{bucket}/notifier/site-20261102T083000Z.db.enc" in result.output


def test_s3_keeps_the_newest_backup_keep_copies(
    populated: Path, make_settings: MakeSettings, with_s3: Settings, s3_endpoint: str, bucket: str
) -> None:
    settings = make_settings(**{**with_s3.model_dump(), "backup_keep": 2})
    with time_machine.travel(datetime(2026, 11, 2, 8, 0, tzinfo=UTC), tick=False) as traveller:
        for _ in range(4):
            create_backup(settings)
            traveller.shift(timedelta(days=1))

    assert keys(s3_endpoint, bucket) == [
        "notifier/site-20261104T080000Z.db.enc",
        "notifier/site-20261105T080000Z.db.enc",
    ]


def test_restore_latest_reads_the_newest_backup_from_s3(
    populated: Path, with_s3: Settings, backup_dir: Path, run_cli: RunCli
) -> None:
    rows = table_rows(populated, "users")
    create_backup(with_s3)
    lose_the_disk(populated, backup_dir)

    result = run_cli(restore_command, ["--latest"], with_s3)

    assert result.exit_code == 0, result.output
    assert "s3://" in result.output
    assert table_rows(populated, "users") == rows


def test_restore_on_boot_restores_from_s3(populated: Path, with_s3: Settings) -> None:
    rows = table_rows(populated, "users")
    create_backup(with_s3)
    populated.unlink()

    assert restore_on_boot(with_s3) is True
    assert table_rows(populated, "users") == rows


def test_a_missing_bucket_is_reported_while_the_local_copy_is_written(
    populated: Path,
    make_settings: MakeSettings,
    s3_endpoint: str,
    backup_dir: Path,
    run_cli: RunCli,
) -> None:
    settings = make_settings(
        backup_s3_url="s3://no-such-bucket/x", backup_s3_endpoint_url=s3_endpoint
    )

    result = run_cli(backup_command, [], settings)

    assert result.exit_code == 1
    assert "s3: FAILED: S3 could not upload s3://no-such-bucket/x/" in result.output
    assert "NoSuchBucket" in result.output
    assert len(list(backup_dir.iterdir())) == 1


def test_a_malformed_s3_url_names_the_variable(
    populated: Path, make_settings: MakeSettings
) -> None:
    with pytest.raises(ConfigError, match=r"^BACKUP_S3_URL: must look like s3://bucket"):
        create_backup(make_settings(backup_s3_url="https://bucket.example.com/x"))


def test_an_automatic_backup_runs_in_the_background_after_a_change(
    populated: Path, make_settings: MakeSettings, with_s3: Settings, s3_endpoint: str, bucket: str
) -> None:
    settings = make_settings(**{**with_s3.model_dump(), "backup_min_interval_minutes": 0})

    maybe_backup_after_change(settings, "signup")

    from release_notifier.backup.auto import automatic_backup_worker

    assert automatic_backup_worker(settings).wait_idle(WAIT_SECONDS)
    assert len(keys(s3_endpoint, bucket)) == 1


def test_the_caller_does_not_wait_for_the_backup(
    populated: Path, with_s3: Settings, s3_endpoint: str, bucket: str
) -> None:
    import threading

    release = threading.Event()

    def gated_backup(settings: Settings) -> Any:
        assert release.wait(WAIT_SECONDS)
        return create_backup(settings)

    worker = AutoBackup(with_s3, backup=gated_backup)
    worker.notify("run")  # returns while the backup is still held back
    assert keys(s3_endpoint, bucket) == []

    release.set()
    assert worker.wait_idle(WAIT_SECONDS)
    assert len(keys(s3_endpoint, bucket)) == 1
