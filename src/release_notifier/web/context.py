"""What every view needs: settings, database, queue and (in the sandbox) the demo parts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

from release_notifier.db import Database
from release_notifier.settings import Settings

if TYPE_CHECKING:
    from release_notifier.jobs.queue import Queue
    from release_notifier.web.demo import DemoContext

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
