"""`serve` (waitress + the queue consumer in one process) and `demo` (the sandbox)."""

from __future__ import annotations

import logging
import shutil
import socket
import tempfile
import threading
from datetime import date
from pathlib import Path

import click
import waitress
from flask import Flask

from release_notifier.cli.worker import consume
from release_notifier.db import open_database
from release_notifier.jobs.queue import Queue
from release_notifier.logs import configure_logging
from release_notifier.settings import ConfigError, Settings, load_settings

logger = logging.getLogger(__name__)

PRODUCTION_SECRETS = ("flask_secret_key", "cron_secret_key", "db_encryption_key")
WEB_THREADS = 8
QUEUE_WORKERS = 2


def apply_log_level(settings: Settings) -> None:
    """LOG_LEVEL applies unless `--log-level` was given on the command line."""
    if click.get_current_context().find_root().params.get("log_level") is None:
        configure_logging(settings.log_level)


def require_production_secrets(settings: Settings) -> None:
    """Refuse to serve for real without the three secrets, naming each one missing."""
    missing = [name.upper() for name in PRODUCTION_SECRETS if not getattr(settings, name)]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise ConfigError(
            f"{', '.join(missing)} {verb} not set; `serve` needs them (make keys with "
            f"`release-notifier make-key`; see docs/configuration.md), or use --debug"
        )


def debug_settings(settings: Settings) -> Settings:
    """For --debug only: throwaway secrets where none are set (links break on restart)."""
    from cryptography.fernet import Fernet

    generated = {
        "flask_secret_key": Fernet.generate_key().decode(),
        "cron_secret_key": Fernet.generate_key().decode(),
        "db_encryption_key": Fernet.generate_key().decode(),
    }
    missing = {name: value for name, value in generated.items() if not getattr(settings, name)}
    if missing:
        logger.warning("debug: using throwaway %s", ", ".join(n.upper() for n in missing))
    return settings.model_copy(update=missing)


def run_server(app: Flask, queue: Queue, host: str, port: int, *, periodic: bool) -> None:
    """Serve `app` with waitress in a thread and run the queue consumer in the main thread.

    The consumer owns the signals: Ctrl-C (SIGINT) finishes running tasks, then exits.
    """
    server = waitress.create_server(app, host=host, port=port, threads=WEB_THREADS)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    banner = [f"serving on http://{host}:{server.effective_port}"]
    if not periodic:
        banner.append("SCHEDULER_ENABLED=false: no periodic runs; use the cron endpoint or `run`")
    try:
        consume(queue, banner=banner, workers=QUEUE_WORKERS, periodic=periodic)
    finally:
        server.close()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--debug", is_flag=True, help="Development: debug mode, throwaway secrets if unset.")
def serve(host: str, port: int, debug: bool) -> None:
    """Serve the web app and do the periodic work in this one process."""
    from release_notifier.backup import restore_on_boot
    from release_notifier.backup.auto import flush_automatic_backups
    from release_notifier.backup.errors import RestoreError
    from release_notifier.web import create_app

    settings = load_settings()
    apply_log_level(settings)
    if debug:
        settings = debug_settings(settings)
    else:
        require_production_secrets(settings)
    try:
        restore_on_boot(settings)
    except RestoreError as exc:
        raise click.ClickException(f"restore at start failed: {exc}") from None
    database = open_database(settings.database_url)
    app = create_app(settings, database)
    app.debug = debug
    queue = app.extensions["release_notifier"].queue
    try:
        run_server(app, queue, host, port, periodic=settings.scheduler_enabled)
    finally:
        flush_automatic_backups()  # atexit does not run on SIGTERM


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@click.command("demo")
@click.option("--port", default=5000, show_default=True, type=int, help="0 picks a free port.")
def demo(port: int) -> None:
    """The sandbox: Spotify emulator, mail catcher and the app wired to both, on 127.0.0.1."""
    from release_notifier.web import create_app
    from release_notifier.web.demo import demo_settings, start_demo_services

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-connection chatter
    host = "127.0.0.1"
    port = port or free_port(host)
    app_url = f"http://{host}:{port}"
    folder = Path(tempfile.mkdtemp(prefix="release-notifier-demo-"))
    context = start_demo_services(app_url, date.today())
    try:
        settings = demo_settings(context, app_url, folder)
        apply_log_level(settings)
        database = open_database(settings.database_url)
        app = create_app(settings, database, demo=context)
        click.echo(demo_banner(app_url, context.emulator.base_url))
        run_server(app, app.extensions["release_notifier"].queue, host, port, periodic=True)
    finally:
        context.stop()
        shutil.rmtree(folder, ignore_errors=True)


def demo_banner(app_url: str, emulator_url: str) -> str:
    return "\n".join(
        [
            "",
            "release-notifier demo: nothing leaves this machine.",
            f"  open        {app_url}/",
            f"  emails      {app_url}/_outbox/",
            f"  Spotify     {emulator_url} (emulated; log in as ana, ben or cleo;",
            "              dana is not allow-listed, to show that page)",
            "Sign up with any address (e.g. you@example.test), agree at the emulated Spotify,",
            "confirm from the outbox and read your first digest. Ctrl-C stops it all.",
            "",
        ]
    )


commands: list[click.Command] = [serve, demo]
