"""Issue 13 item 10: `Casey@example.test` and `casey@example.test` are one mailbox, so one
subscription (the migration for existing rows is tested in tests/engine)."""

from __future__ import annotations

from sqlalchemy import select

from release_notifier.db import Database
from release_notifier.db.models import User
from release_notifier.sandbox.emulator import SpotifyEmulator
from tests.web.conftest import SignupFlow


def emails(database: Database) -> list[str]:
    with database.session() as session:
        return sorted(session.scalars(select(User.email)))


def test_two_spellings_of_one_address_make_one_subscription(
    flow: SignupFlow, database: Database, emulator: SpotifyEmulator, listener: str
) -> None:
    other_account = emulator.add_account("casey2", display_name="Casey's other account")
    flow.sign_up("Casey@Example.com", listener)
    flow.sign_up("casey@example.COM", other_account)
    assert emails(database) == ["casey@example.com"]
