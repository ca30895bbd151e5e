"""`release-notifier rotate-key`: every stored refresh token and push channel URL re-encrypted
under the first key of DB_ENCRYPTION_KEY, while older keys listed after it still decrypt; all
or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import select

from release_notifier.clock import utcnow
from release_notifier.crypto import decrypt_token, encrypt_token
from release_notifier.db import open_database
from release_notifier.db.models import PushChannel, User
from release_notifier.settings import load_settings
from tests.engine.test_cli import cli

OLD, NEW, STRANGER = (Fernet.generate_key().decode() for _ in range(3))


def seed(url: str, key: str, tokens: list[str | None]) -> dict[int, str | None]:
    """Users whose refresh tokens are encrypted under `key` (None: no token stored)."""
    database = open_database(url)
    cipher = MultiFernet([Fernet(key.encode())])
    stored = {}
    try:
        with database.session() as session:
            for n, token in enumerate(tokens):
                user = User(email=f"user{n}@example.test", created_at=utcnow())
                session.add(user)
                session.flush()
                if token is not None:
                    user.refresh_token_enc = encrypt_token(cipher, user.id, token)
                stored[user.id] = token
    finally:
        database.dispose()
    return stored


CHANNEL_URL = "ntfys://ntfy.example.com/secret-topic"


def seed_channel(url: str, key: str, user_id: int) -> None:
    """A push channel for `user_id` whose URL is encrypted under `key`."""
    database = open_database(url)
    cipher = MultiFernet([Fernet(key.encode())])
    try:
        with database.session() as session:
            session.add(
                PushChannel(
                    user_id=user_id,
                    url_enc=encrypt_token(cipher, user_id, CHANNEL_URL),
                    label="ntfy · ntfy.example.com",
                    cadence="instant",
                    created_at=utcnow(),
                )
            )
    finally:
        database.dispose()


def stored_channel_url(url: str) -> bytes:
    database = open_database(url)
    try:
        with database.session() as session:
            return session.scalars(select(PushChannel.url_enc)).one()
    finally:
        database.dispose()


def stored_blobs(url: str) -> dict[int, bytes | None]:
    database = open_database(url)
    try:
        with database.session() as session:
            return {u.id: u.refresh_token_enc for u in session.scalars(select(User))}
    finally:
        database.dispose()


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'site.db'}"


def test_rotate_key_re_encrypts_every_token_under_the_new_key_and_old_keys_still_decrypt(
    url: str, tmp_path: Path
) -> None:
    tokens = seed(url, OLD, ["refresh-one", "refresh-two", None, "refresh-three"])
    seed_channel(url, OLD, next(iter(tokens)))
    both = load_settings(db_encryption_key=f"{NEW},{OLD}", database_url=url)
    before = stored_blobs(url)
    for user_id, token in tokens.items():  # the old key, listed second, still decrypts
        if token is not None:
            assert decrypt_token(both.token_cipher, user_id, before[user_id] or b"") == token

    result = cli(
        {"DB_ENCRYPTION_KEY": f"{NEW},{OLD}", "DATABASE_URL": url}, "rotate-key", cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert "re-encrypted 3 refresh token(s) and 1 push channel URL(s)" in result.stdout
    new_only = MultiFernet([Fernet(NEW.encode())])
    channel_blob = stored_channel_url(url)
    assert decrypt_token(new_only, next(iter(tokens)), channel_blob) == CHANNEL_URL
    old_only = MultiFernet([Fernet(OLD.encode())])
    after = stored_blobs(url)
    for user_id, token in tokens.items():
        blob = after[user_id]
        if token is None:
            assert blob is None
            continue
        assert blob is not None and blob != before[user_id]
        assert decrypt_token(new_only, user_id, blob) == token  # the old key can now go
        with pytest.raises(InvalidToken):
            old_only.decrypt(blob)


def test_rotate_key_changes_nothing_when_a_token_decrypts_under_no_listed_key(
    url: str, tmp_path: Path
) -> None:
    seed(url, OLD, ["refresh-one"])
    database = open_database(url)
    with database.session() as session:
        session.add(
            User(
                email="stranger@example.test",
                created_at=utcnow(),
                # written under a key that is no longer listed
                refresh_token_enc=MultiFernet([Fernet(STRANGER.encode())]).encrypt(b"2:x"),
            )
        )
    database.dispose()
    before = stored_blobs(url)

    result = cli(
        {"DB_ENCRYPTION_KEY": f"{NEW},{OLD}", "DATABASE_URL": url}, "rotate-key", cwd=tmp_path
    )

    assert result.returncode == 1
    assert "1 stored refresh token(s) or channel URL(s) decrypt under none of the keys" in (
        result.stderr
    )
    assert "Nothing was changed" in result.stderr
    assert stored_blobs(url) == before


def test_rotate_key_without_a_key_is_one_line_naming_it_and_touches_nothing(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'site.db'}"

    result = cli({"DATABASE_URL": url}, "rotate-key", cwd=tmp_path)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "DB_ENCRYPTION_KEY" in lines[0]
    assert not (tmp_path / "site.db").exists()
