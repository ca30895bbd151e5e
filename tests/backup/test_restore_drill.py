"""The restore drill: back up while another thread keeps writing, lose the database, restore."""

from __future__ import annotations

import threading
from pathlib import Path

from release_notifier.backup.create import create_backup
from release_notifier.backup.restore import restore_file
from release_notifier.backup.snapshot import BACKUP_SEALED_KEY
from release_notifier.db import open_database
from release_notifier.settings import Settings
from tests.backup.conftest import add_users, table_rows

WAIT_SECONDS = 30


class Writer(threading.Thread):
    """Commits user i and its State row in one transaction, i = 0, 1, 2, ... until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.database = open_database(url)
        self.committed = 0
        self.progress = threading.Condition()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            add_users(self.database, 1, start=self.committed)
            with self.progress:
                self.committed += 1
                self.progress.notify_all()

    def wait_for(self, count: int) -> None:
        with self.progress:
            assert self.progress.wait_for(lambda: self.committed >= count, WAIT_SECONDS)


def test_a_backup_taken_during_writes_restores_to_exactly_one_committed_state(
    settings: Settings, sqlite_url: str, tmp_path: Path
) -> None:
    writer = Writer(sqlite_url)
    writer.start()
    writer.wait_for(20)
    committed_before = writer.committed
    report = create_backup(settings)
    committed_after_backup = writer.committed
    writer.wait_for(committed_after_backup + 20)  # the writer went on after the snapshot
    writer.stop.set()
    writer.join(WAIT_SECONDS)
    writer.database.dispose()
    database_file = settings.sqlite_path
    assert database_file is not None
    for path in database_file.parent.glob("site.db*"):
        path.unlink()

    restore_file(settings, report.name)

    users = table_rows(database_file, "users")
    states = [s for s in table_rows(database_file, "state") if s[0] != BACKUP_SEALED_KEY]
    count = len(users)
    assert committed_before <= count <= committed_after_backup
    assert [u[1] for u in users] == [f"user{i}@example.com" for i in range(count)]
    assert [(s[0], s[1]) for s in states] == sorted(
        (f"user-{i}", f"user{i}@example.com") for i in range(count)
    )
    assert count < writer.committed  # rows written after the snapshot are not in it
