"""Automatic backups after changes: in a background thread, at most one every
BACKUP_MIN_INTERVAL_MINUTES, and a change inside that window is still saved when it ends.

They run only when Dropbox or S3 is configured (the case of a host whose disk does not last);
each one also writes the local copy. A process that exits runs its pending backup first.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from release_notifier.backup.create import BackupReport, create_backup
from release_notifier.backup.destinations import is_remote_configured
from release_notifier.clock import utcnow
from release_notifier.settings import Settings

logger = logging.getLogger(__name__)

# While a backup waits for its interval, the worker re-reads the clock this often.
POLL_SECONDS = 0.5
EXIT_WAIT_SECONDS = 120.0


class AutoBackup:
    """One debounced backup worker for one database and set of destinations."""

    def __init__(
        self,
        settings: Settings,
        *,
        backup: Callable[[Settings], BackupReport] = create_backup,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.interval = timedelta(minutes=settings.backup_min_interval_minutes)
        self.backups_run = 0
        self._backup = backup
        self._clock = clock
        self._condition = threading.Condition()
        self._pending: str | None = None
        self._running = False
        self._last_started: datetime | None = None
        self._thread: threading.Thread | None = None

    def notify(self, reason: str) -> None:
        """Record that data changed; returns at once (the backup happens in the worker)."""
        with self._condition:
            self._pending = reason
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._work, name="automatic-backup", daemon=True
                )
                self._thread.start()
            self._condition.notify_all()

    def seconds_until_due(self) -> float | None:
        """How long until the pending backup may run; None when nothing is pending."""
        with self._condition:
            return self._delay()

    def _delay(self) -> float | None:
        if self._pending is None:
            return None
        if self._last_started is None:
            return 0.0
        remaining = self._last_started + self.interval - self._clock()
        return max(0.0, remaining.total_seconds())

    def run_if_due(self, *, ignore_interval: bool = False) -> bool:
        """Run the pending backup now if the interval allows it; True when one ran."""
        with self._condition:
            delay = self._delay()
            if self._running or delay is None or (delay > 0 and not ignore_interval):
                return False
            reason, self._pending = self._pending, None
            self._running = True
            self._last_started = self._clock()
        try:
            self._run(reason or "change")
        finally:
            with self._condition:
                self._running = False
                self.backups_run += 1
                self._condition.notify_all()
        return True

    def _run(self, reason: str) -> None:
        try:
            report = self._backup(self.settings)
        except Exception as exc:  # a background thread must report, never die silently
            logger.warning("automatic backup after %s failed: %s", reason, exc)
            return
        for failure in report.failures:
            logger.warning(
                "automatic backup after %s: %s failed: %s",
                reason,
                failure.destination,
                failure.message,
            )
        logger.info(
            "automatic backup after %s: %s, %d copies", reason, report.name, len(report.copies)
        )

    def _work(self) -> None:
        while True:
            with self._condition:
                while self._pending is None or self._running:
                    self._condition.wait()
                delay = self._delay()
                if delay:
                    self._condition.wait(timeout=min(delay, POLL_SECONDS))
                    continue
            self.run_if_due()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is pending or running; False if `timeout` seconds pass first."""
        with self._condition:
            return self._condition.wait_for(
                lambda: self._pending is None and not self._running, timeout=timeout
            )

    def flush(self, timeout: float = EXIT_WAIT_SECONDS) -> None:
        """Finish a running backup and run a pending one now, interval or not (at exit)."""
        with self._condition:
            self._condition.wait_for(lambda: not self._running, timeout=timeout)
        self.run_if_due(ignore_interval=True)
        with self._condition:
            self._condition.wait_for(lambda: not self._running, timeout=timeout)


_workers: dict[tuple[object, ...], AutoBackup] = {}
_workers_lock = threading.Lock()


def automatic_backups_enabled(settings: Settings) -> bool:
    """Automatic backups need a SQLite database and a remote destination (Dropbox or S3)."""
    return settings.sqlite_path is not None and is_remote_configured(settings)


def _worker_key(settings: Settings) -> tuple[object, ...]:
    return (
        settings.database_url,
        settings.backup_dir,
        settings.backup_keep,
        settings.backup_min_interval_minutes,
        settings.backup_s3_url,
        settings.backup_s3_endpoint_url,
        settings.dropbox_app_key,
        settings.dropbox_refresh_token,
    )


def automatic_backup_worker(settings: Settings) -> AutoBackup:
    """The process's worker for these settings (created on first use)."""
    with _workers_lock:
        if not _workers:
            atexit.register(flush_automatic_backups)
        key = _worker_key(settings)
        if key not in _workers:
            _workers[key] = AutoBackup(settings)
        return _workers[key]


def maybe_backup_after_change(settings: Settings, reason: str) -> None:
    """Ask for a backup after data changed (a run, a signup). Never blocks: the backup runs in a
    background thread, debounced; a no-op without a remote destination or with PostgreSQL.
    """
    if not automatic_backups_enabled(settings):
        logger.debug("no automatic backup after %s: no remote destination", reason)
        return
    automatic_backup_worker(settings).notify(reason)


def flush_automatic_backups(timeout: float = EXIT_WAIT_SECONDS) -> None:
    """Run every pending automatic backup now; registered to run when the process exits."""
    with _workers_lock:
        workers = list(_workers.values())
    for worker in workers:
        worker.flush(timeout)
