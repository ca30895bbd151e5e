"""What the app leaves where others could read it: browsers told to keep https, pages with signed
links and addresses never cached, and the database files private to the account that runs it."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from release_notifier.backup.create import create_backup
from release_notifier.backup.restore import restore_file
from release_notifier.db import Database, open_database
from release_notifier.db.models import State, User
from release_notifier.jobs.queue import build_queue
from release_notifier.settings import Settings, load_settings
from release_notifier.web import create_app
from tests.web.conftest import SignupFlow, signed_path


def test_an_https_site_tells_browsers_to_keep_to_https(
    web_settings: Settings, database: Database
) -> None:
    settings = web_settings.model_copy(update={"public_base_url": "https://releases.example.test"})
    app = create_app(settings, database, queue=build_queue(settings, database, immediate=True))

    answer = app.test_client().get("/")

    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_a_plain_http_site_sends_no_hsts(client: FlaskClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/").headers


@pytest.mark.parametrize("purpose", ["confirm", "settings", "unsubscribe"])
def test_a_page_behind_a_signed_link_is_never_stored_by_a_cache(
    client: FlaskClient, app: Flask, ana: User, purpose: str
) -> None:
    answer = client.get(signed_path(app, purpose, ana))

    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"


def test_the_page_naming_a_new_subscribers_address_is_never_stored_by_a_cache(
    flow: SignupFlow, listener: str
) -> None:
    answer = flow.sign_up("zoe@example.com", listener)

    assert "zoe@example.com" in answer.get_data(as_text=True)
    assert answer.headers["Cache-Control"] == "no-store"


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask (022), under which a plain new file is world-readable."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_the_database_and_its_side_files_are_created_private(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'site.db'}")
    with database.session() as session:
        session.add(State(key="written", value="so the WAL exists"))

    created = sorted(tmp_path.iterdir())

    assert [p.name for p in created] == ["site.db", "site.db-shm", "site.db-wal"]
    assert {p.name: mode(p) for p in created} == {p.name: 0o600 for p in created}
    database.dispose()


@pytest.mark.usefixtures("open_umask")
def test_the_queue_database_is_created_private(tmp_path: Path) -> None:
    settings = load_settings(huey_sqlite_path=str(tmp_path / "queue" / "queue.db"))
    database = open_database(f"sqlite:///{tmp_path / 'site.db'}")

    queue = build_queue(settings, database)
    queue.huey.storage.enqueue(b"task", 0)  # type: ignore[attr-defined]

    assert mode(tmp_path / "queue" / "queue.db") == 0o600
    database.dispose()


@pytest.mark.usefixtures("open_umask")
def test_a_restored_database_and_the_copy_kept_before_it_are_private(tmp_path: Path) -> None:
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'site.db'}",
        db_encryption_key=Fernet.generate_key().decode(),
        backup_dir=str(tmp_path / "backups"),
        backup_s3_url="",
        dropbox_refresh_token="",
    )
    open_database(settings.database_url).dispose()
    report = create_backup(settings)

    result = restore_file(settings, report.name)

    assert result.previous is not None
    assert mode(result.previous) == 0o600
    assert mode(result.target) == 0o600
