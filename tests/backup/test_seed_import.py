"""`import-seed`: the original app's site.db becomes confirmed subscribers who get only releases
newer than their `last_ran`; importing the same file again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from click.testing import Result
from cryptography.fernet import Fernet
from sqlalchemy import select

from release_notifier.backup.errors import SeedImportError
from release_notifier.backup.seed_import import import_seed_file
from release_notifier.cli.backup import import_seed_command
from release_notifier.crypto import decrypt_token
from release_notifier.db import Database, open_database
from release_notifier.db.models import User
from release_notifier.jobs.turns import run_once
from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.sandbox.mailcatcher import MailCatcher
from release_notifier.sandbox.wiring import sandbox_settings
from release_notifier.settings import Settings
from release_notifier.subscribers import gets_notifications
from tests.backup.conftest import MakeSettings, add_users, make_seed_database, table_rows

RunCli = Callable[..., Result]
NOW = datetime(2026, 11, 25, 9, 0, 0)
ROWS = [
    ("ana@example.com", "AQB-ana", "2026-11-10T08:15:00.654321"),
    ("Ben@Example.COM", "AQB-ben", None),
    ("not-an-address", "AQB-x", "2026-11-01T00:00:00"),
    ("cleo@example.com", "", "2026-11-12T10:00:00"),
]


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    return make_seed_database(tmp_path / "original-site.db", ROWS)


@pytest.fixture
def seed_settings(database: Database, make_settings: MakeSettings) -> Settings:
    return make_settings(database_url=database.url)


def users_by_email(database: Database) -> dict[str, User]:
    with database.session() as session:
        return {user.email: user for user in session.scalars(select(User))}


def test_seed_users_become_confirmed_subscribers_with_encrypted_tokens(
    seed: Path, seed_settings: Settings, database: Database
) -> None:
    with time_machine.travel(NOW, tick=False):
        report = import_seed_file(seed_settings, database, seed)

    assert (report.imported, report.invalid, report.without_token) == (3, 1, 1)
    users = users_by_email(database)
    assert sorted(users) == ["ana@example.com", "ben@example.com", "cleo@example.com"]
    ana = users["ana@example.com"]
    assert ana.confirmed_at == NOW and gets_notifications(ana)
    assert ana.refresh_token_enc is not None and b"AQB-ana" not in ana.refresh_token_enc
    assert decrypt_token(seed_settings.token_cipher, ana.id, ana.refresh_token_enc) == "AQB-ana"
    assert ana.announce_since == datetime(2026, 11, 10, 8, 15, 0)
    assert ana.next_digest_at == datetime(2026, 11, 24, 8, 15, 0)  # their old fortnight goes on


def test_a_seed_user_who_never_had_a_run_gets_the_usual_first_lookback(
    seed: Path, seed_settings: Settings, database: Database
) -> None:
    with time_machine.travel(NOW, tick=False):
        import_seed_file(seed_settings, database, seed)

    ben = users_by_email(database)["ben@example.com"]
    assert ben.announce_since == datetime(2026, 10, 28, 9, 0, 0)  # 28 days, as the original did
    assert ben.next_digest_at == NOW


def test_a_seed_user_without_a_token_is_imported_needing_a_new_link(
    seed: Path, seed_settings: Settings, database: Database
) -> None:
    with time_machine.travel(NOW, tick=False):
        import_seed_file(seed_settings, database, seed)

    cleo = users_by_email(database)["cleo@example.com"]
    assert cleo.refresh_token_enc is None and cleo.needs_relink_since == NOW


def test_a_second_import_of_the_same_file_changes_nothing(
    seed: Path, seed_settings: Settings, database: Database
) -> None:
    import_seed_file(seed_settings, database, seed)
    before = {
        e: (u.id, u.refresh_token_enc, u.created_at) for e, u in users_by_email(database).items()
    }

    again = import_seed_file(seed_settings, database, seed)

    assert (again.imported, again.already_present) == (0, 3)
    after = {
        e: (u.id, u.refresh_token_enc, u.created_at) for e, u in users_by_email(database).items()
    }
    assert after == before


def test_the_encrypted_site_db_enc_imports_too(
    seed: Path, seed_settings: Settings, database: Database, fernet_key: str, tmp_path: Path
) -> None:
    encrypted = tmp_path / "site.db.enc"
    encrypted.write_bytes(Fernet(fernet_key.encode()).encrypt(seed.read_bytes()))

    assert import_seed_file(seed_settings, database, encrypted).imported == 3


def test_a_file_that_is_not_the_original_database_is_refused(
    seed_settings: Settings, database: Database, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    ours = open_database(f"sqlite:///{tmp_path / 'ours.db'}")
    add_users(ours, 2)
    ours.dispose()
    with pytest.raises(SeedImportError, match="neither a SQLite file nor a readable backup"):
        import_seed_file(seed_settings, database, notes)
    with pytest.raises(SeedImportError, match="not the original app's database"):
        import_seed_file(seed_settings, database, tmp_path / "ours.db")
    assert users_by_email(database) == {}


def test_import_seed_command_reports_its_counts(
    seed: Path, settings: Settings, run_cli: RunCli, populated: Path
) -> None:
    first = run_cli(import_seed_command, [str(seed)], settings)
    second = run_cli(import_seed_command, [str(seed)], settings)

    assert first.exit_code == 0, first.output
    assert "imported 3 users, 0 already here, 1 rows without a usable address" in first.output
    assert "1 imported users have no token" in first.output
    assert "imported 0 users, 3 already here" in second.output
    assert len(table_rows(populated, "users")) == 3 + 3


def test_moved_users_receive_only_releases_newer_than_their_last_ran(
    tmp_path: Path, database: Database, smtp: MailCatcher, fernet_key: str
) -> None:
    with time_machine.travel(NOW, tick=False), SpotifyEmulator() as spotify:
        band = spotify.add_artist("The Lanterns")
        spotify.add_release(band, "Already Mailed", release_date="2026-11-05")
        spotify.add_release(band, "Fresh Cut", release_date="2026-11-20")
        account = spotify.add_account(follows=[band])
        token = spotify.issue_tokens(account)["refresh_token"]
        seed = make_seed_database(
            tmp_path / "original.db", [("ana@example.test", token, "2026-11-10T08:00:00")]
        )
        settings = sandbox_settings(
            spotify,
            smtp,
            db_encryption_key=fernet_key,
            flask_secret_key="test-secret",
            database_url=database.url,
            mail_from="digests@notifier.test",
        )
        import_seed_file(settings, database, seed)

        run_once(settings, database, sleep=lambda _seconds: None)

    (caught,) = smtp.to("ana@example.test")
    text = caught.message.get_body(preferencelist=("plain",)).get_content()
    assert "Fresh Cut" in text
    assert "Already Mailed" not in text
