"""What every view needs: settings, database, queue and (in the sandbox) the demo parts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

from release_notifier.db import Database
from release_notifier.settings import Settings

if TYPE_CHECKING:
    from release_notifier.jobs.queue import Queue
    from release_notifier.web.demo import DemoContext

logger = logging.getLogger(__name__)

EXTENSION = "release_notifier"


@dataclass
class AppContext:
    settings: Settings
    database: Database
    queue: Queue
    demo: DemoContext | None = None


def app_context() -> AppContext:
    """The running app's AppContext (inside a request or app context)."""
    context: AppContext = current_app.extensions[EXTENSION]
    return context


def back_up_after(reason: str) -> None:
    """Ask for a backup after a change a restore must not undo (a confirmation, an unsubscribe,
    a deletion); debounced and in the background, and never fails the request."""
    from release_notifier.backup import maybe_backup_after_change

    try:
        maybe_backup_after_change(app_context().settings, reason)
    except Exception:
        logger.exception("backup after %s failed", reason)
