"""Security commands: `rotate-key` re-encrypts the stored refresh tokens and push channel URLs
under the newest key."""

from __future__ import annotations

import logging

import click
from cryptography.fernet import InvalidToken, MultiFernet
from sqlalchemy import select

from release_notifier.crypto import rotate_token
from release_notifier.db import Database, open_database
from release_notifier.db.models import PushChannel, User
from release_notifier.settings import load_settings

logger = logging.getLogger(__name__)


class UnreadableTokens(click.ClickException):
    """Some stored tokens decrypt under none of the listed keys; nothing was changed."""


def rotate_all_tokens(database: Database, cipher: MultiFernet) -> tuple[int, int]:
    """Re-encrypt every stored refresh token and push channel URL under the cipher's first key,
    in one transaction.

    All or nothing: if any of them decrypts under none of the keys, nothing changes.
    Returns how many tokens and channel URLs were re-encrypted.
    """
    with database.session() as session:
        users = list(session.scalars(select(User).where(User.refresh_token_enc.is_not(None))))
        channels = list(session.scalars(select(PushChannel)))
        unreadable = []
        for user in users:
            assert user.refresh_token_enc is not None
            try:
                user.refresh_token_enc = rotate_token(cipher, user.refresh_token_enc)
            except InvalidToken:
                unreadable.append(f"user {user.id}")
        for channel in channels:
            try:
                channel.url_enc = rotate_token(cipher, channel.url_enc)
            except InvalidToken:
                unreadable.append(f"channel {channel.id}")
        if unreadable:  # raising inside the transaction rolls every change back
            raise UnreadableTokens(
                f"{len(unreadable)} stored refresh token(s) or channel URL(s) decrypt under none "
                f"of the keys in DB_ENCRYPTION_KEY ({', '.join(unreadable[:10])}); list the "
                "key they were written with after the new one. Nothing was changed."
            )
    logger.info(
        "re-encrypted %d refresh tokens and %d push channel URLs under the first key",
        len(users),
        len(channels),
    )
    return len(users), len(channels)


@click.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypt every stored refresh token and push channel URL under the first key of
    DB_ENCRYPTION_KEY.

    To change keys: make one with `make-key`, set DB_ENCRYPTION_KEY="NEW,OLD", run this, then
    drop OLD from the list. Older keys listed after the first still decrypt until then.
    """
    settings = load_settings()
    cipher = settings.token_cipher  # ConfigError (exit 2) when unset or malformed
    database = open_database(settings.database_url)
    try:
        count, urls = rotate_all_tokens(database, cipher)
    finally:
        database.dispose()
    click.echo(
        f"re-encrypted {count} refresh token(s) and {urls} push channel URL(s) under the "
        "first key of DB_ENCRYPTION_KEY"
    )


commands: list[click.Command] = [rotate_key]
