"""Refresh tokens at rest: MultiFernet under DB_ENCRYPTION_KEY, bound to the user row.

Fernet has no associated data, so the user id travels inside the plaintext and is checked on
decryption: a ciphertext copied to another row does not decrypt there.
"""

from __future__ import annotations

from cryptography.fernet import InvalidToken, MultiFernet


class TokenDecryptError(Exception):
    """The stored token cannot be read with the configured keys or belongs to another row."""


def encrypt_token(cipher: MultiFernet, user_id: int, token: str) -> bytes:
    """Encrypt `token` for `user_id` under the newest key."""
    return cipher.encrypt(f"{user_id}:{token}".encode())


def decrypt_token(cipher: MultiFernet, user_id: int, blob: bytes) -> str:
    """Decrypt a stored token, refusing one that was encrypted for another user."""
    try:
        plain = cipher.decrypt(blob).decode()
    except InvalidToken:
        raise TokenDecryptError("stored token does not decrypt with DB_ENCRYPTION_KEY") from None
    owner, _, token = plain.partition(":")
    if owner != str(user_id):
        raise TokenDecryptError("stored token belongs to another user")
    return token


def rotate_token(cipher: MultiFernet, blob: bytes) -> bytes:
    """Re-encrypt a stored token under the newest key (the old keys must still be listed)."""
    return cipher.rotate(blob)
