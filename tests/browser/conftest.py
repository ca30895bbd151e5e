"""Headless Chromium (Debian's, through Playwright) against the demo sandbox served for real."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import waitress

from release_notifier.db import open_database
from release_notifier.jobs.queue import build_queue
from release_notifier.web import create_app
from release_notifier.web.demo import DemoContext, demo_settings, start_demo_services

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium per test process; skipped when Debian's chromium is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's `chromium` package to run these")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningDemo:
    url: str
    context: DemoContext


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[RunningDemo]:
    """What `release-notifier demo` starts: emulator, mail catcher, app, queue consumer."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    context = start_demo_services(url, date.today())
    settings = demo_settings(context, url, tmp_path)
    database = open_database(settings.database_url)
    queue = build_queue(settings, database)
    app = create_app(settings, database, demo=context, queue=queue)
    server = waitress.create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    consumer = queue.consumer(workers=2, periodic=False)
    consumer._set_signal_handlers = lambda: None  # type: ignore[method-assign]  # pytest's own
    consumer.start()
    try:
        yield RunningDemo(url=url, context=context)
    finally:
        consumer.stop(graceful=True)
        server.close()
        context.stop()
        database.dispose()


@pytest.fixture
def page(browser: object, demo: RunningDemo) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1000, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def shot(page: object, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot under test-output/browser/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)  # type: ignore[attr-defined]
    return path
