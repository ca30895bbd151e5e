"""Content nobody here controls: names from Spotify (HTML, script, line breaks), internationalized
addresses, replayed links and callbacks, the cron key's comparison, and restore paths."""

from __future__ import annotations

import hmac
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from release_notifier import accounts
from release_notifier.backup.errors import RestoreError
from release_notifier.backup.restore import restore_file
from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.db.models import User
from release_notifier.jobs.turns import run_once
from release_notifier.mail.render import build_message
from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.sandbox.mailcatcher import MailCatcher
from release_notifier.settings import Settings
from tests.engine.test_cli import cli
from tests.security.conftest import snapshot
from tests.web.conftest import SignupFlow, csrf_token, recent_date, signed_path

SCRIPT = "<script>alert('owned')</script>"
IMG = '<img src=x onerror="alert(1)">'
INJECTION = "Nice\r\nBcc: eve@example.com\r\nSubject: hijacked"


def subscribe(flow: SignupFlow, database: Database, address: str, account: str) -> User:
    """Sign up through the web flow and confirm, as a person would."""
    assert flow.sign_up(address, account).status_code == 200
    with database.session() as session:
        user = session.scalars(select(User).where(User.email == address)).one()
        accounts.confirm_user(user, utcnow())
        return user


def app_settings(app: Flask) -> Settings:
    settings: Settings = app.extensions["release_notifier"].settings
    return settings


def test_html_and_script_in_spotify_names_are_escaped_in_the_digest(
    app: Flask, flow: SignupFlow, database: Database, emulator: SpotifyEmulator, smtp: MailCatcher
) -> None:
    artist = emulator.add_artist(SCRIPT)
    emulator.add_release(artist, IMG, release_date=recent_date())
    emulator.add_release(artist, INJECTION, group="single", release_date=recent_date())
    subscribe(flow, database, "ana@example.com", emulator.add_account("ana", follows=[artist]))

    run_once(app_settings(app), database)

    digest = [m for m in smtp.to("ana@example.com") if "digest" in str(m.message["Subject"])]
    assert len(digest) == 1
    html = digest[0].message.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html
    # Line breaks in a name never become headers: one recipient, the headers we set.
    assert digest[0].rcpt_tos == ["ana@example.com"]
    assert digest[0].message["Bcc"] is None
    assert "hijacked" not in str(digest[0].message["Subject"])


def test_html_and_script_in_the_spotify_display_name_are_escaped_on_the_settings_page(
    client: FlaskClient, app: Flask, flow: SignupFlow, database: Database, emulator: SpotifyEmulator
) -> None:
    account = emulator.add_account("mallory", display_name=SCRIPT)
    user = subscribe(flow, database, "mallory@example.com", account)

    page = client.get(signed_path(app, "settings", user)).get_data(as_text=True)

    assert SCRIPT not in page
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize("header", ["To", "From", "List-Unsubscribe", "Message-ID"])
@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\r"])
def test_a_line_break_in_any_email_header_value_is_refused(header: str, breaker: str) -> None:
    values = {"To": "ana@example.com", "From": "digests@example.com"}
    extra: dict[str, str] = {}
    message_id: str | None = None
    evil = f"x@example.com{breaker}Bcc: eve@example.com"
    if header in values:
        values[header] = evil
    elif header == "Message-ID":
        message_id = f"<id@example.com>{breaker}Bcc: eve@example.com"
    else:
        extra[header] = evil

    with pytest.raises(ValueError, match="line break"):
        build_message(
            "confirm",
            to=values["To"],
            sender=values["From"],
            site_name="Release Notifier",
            context={"confirm_url": "http://127.0.0.1:5000/confirm/t"},
            headers=extra,
            message_id=message_id,
        )


@pytest.mark.parametrize("address", ["zoë@example.com", "ana@bücher.de", "用户@例子.广告"])
def test_an_internationalized_address_is_accepted_and_gets_its_confirmation(
    flow: SignupFlow, database: Database, listener: str, smtp: MailCatcher, address: str
) -> None:
    answer = flow.sign_up(address, listener)

    assert answer.status_code == 200
    with database.session() as session:
        stored = session.scalars(select(User.email)).one()
    assert stored == address
    assert [m.rcpt_tos for m in smtp.messages] == [[address]]


# Replays: each second use is harmless and changes nothing.


def test_a_replayed_confirm_post_changes_nothing(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    link = signed_path(app, "confirm", ana)
    assert client.post(link, data={"csrf_token": csrf_token(client, link)}).status_code == 200
    before = snapshot(database)

    again = client.post(link, data={"csrf_token": csrf_token(client)})  # the form is gone now

    assert again.status_code == 200
    assert "already confirmed" in again.get_data(as_text=True)
    assert snapshot(database) == before


def test_a_replayed_one_click_unsubscribe_changes_nothing(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    link = signed_path(app, "unsubscribe", ana)
    assert client.post(link).status_code == 200
    before = snapshot(database)

    assert client.post(link).status_code == 200
    assert snapshot(database) == before


def test_a_replayed_delete_finds_nothing_and_changes_nothing(
    client: FlaskClient, app: Flask, database: Database, ana: User
) -> None:
    link = signed_path(app, "settings", ana) + "/delete"
    token = csrf_token(client, link)
    assert client.post(link, data={"csrf_token": token}).status_code == 200
    before = snapshot(database)

    assert client.post(link, data={"csrf_token": token}).status_code == 404
    assert snapshot(database) == before


def test_a_replayed_oauth_callback_is_400_and_changes_nothing(
    client: FlaskClient, flow: SignupFlow, database: Database, listener: str
) -> None:
    started = flow.submit("ana@example.com")
    callback = flow.consent(started.headers["Location"], listener)
    assert client.get(callback).status_code == 303
    before = snapshot(database)

    assert client.get(callback).status_code == 400
    assert snapshot(database) == before


def test_the_cron_key_is_compared_in_constant_time(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)

    answer = client.post("/scheduled/run-releases", headers={"X-API-KEY": "guess"})

    assert answer.status_code == 401
    assert (b"guess", b"test-cron-key") in compared


# Restore: only files inside BACKUP_DIR, whatever the path says.


@pytest.fixture
def backup_settings(tmp_path: Path) -> Settings:
    from cryptography.fernet import Fernet

    from release_notifier.settings import load_settings

    (tmp_path / "backups").mkdir()
    (tmp_path / "elsewhere.db.enc").write_bytes(b"not really a backup")
    (tmp_path / "backups" / "link.db.enc").symlink_to(tmp_path / "elsewhere.db.enc")
    return load_settings(
        database_url=f"sqlite:///{tmp_path / 'site.db'}",
        backup_dir=str(tmp_path / "backups"),
        db_encryption_key=Fernet.generate_key().decode(),
    )


@pytest.mark.parametrize(
    "path",
    [
        "../elsewhere.db.enc",
        "{tmp}/elsewhere.db.enc",
        "{tmp}/backups/../elsewhere.db.enc",
        "{tmp}/backups/link.db.enc",  # a symlink inside pointing outside
        "/etc/passwd",
    ],
)
def test_a_restore_path_outside_the_backup_folder_is_refused(
    backup_settings: Settings, tmp_path: Path, path: str
) -> None:
    target = path.format(tmp=tmp_path)
    if target.startswith("../"):
        target = str(Path(backup_settings.backup_dir) / target)

    with pytest.raises(RestoreError, match="outside the backup folder"):
        restore_file(backup_settings, target)

    assert not (tmp_path / "site.db").exists()


def test_the_restore_command_refuses_a_path_outside_the_backup_folder(
    backup_settings: Settings, tmp_path: Path
) -> None:
    env = {
        "DATABASE_URL": backup_settings.database_url,
        "BACKUP_DIR": backup_settings.backup_dir,
        "DB_ENCRYPTION_KEY": backup_settings.db_encryption_key,
    }

    result = cli(env, "restore", str(tmp_path / "elsewhere.db.enc"), cwd=tmp_path)

    assert result.returncode == 1
    assert re.search(r"restore refused: .*outside the backup folder", result.stderr)
    assert "the database was not changed" in result.stderr
    assert not (tmp_path / "site.db").exists()


@pytest.mark.parametrize(
    "address",
    ['"><script>alert(1)</script>@example.com', '"<script>alert(1)</script>"@example.com'],
)
def test_an_address_with_markup_is_refused_and_echoed_back_escaped(
    client: FlaskClient, database: Database, address: str
) -> None:
    before = snapshot(database)

    answer = client.post("/signup", data={"email": address, "csrf_token": csrf_token(client)})

    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page or "&#34;&gt;&lt;script" in page
    assert snapshot(database) == before
