"""`serve` (waitress + the queue consumer in one process) and `demo` (the sandbox)."""

from __future__ import annotations

import logging
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import waitress
from flask import Flask

from release_notifier.cli.worker import consume
from release_notifier.db import open_database
from release_notifier.jobs.queue import Queue
from release_notifier.listening import listen, reason, url_host, url_netloc
from release_notifier.logs import configure_logging
from release_notifier.readiness import missing_settings
from release_notifier.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from release_notifier.web.demo import DemoContext

logger = logging.getLogger(__name__)

FC = TypeVar("FC", bound=Callable[..., object] | click.Command)

PRODUCTION_SECRETS = ("flask_secret_key", "cron_secret_key", "db_encryption_key")
WEB_THREADS = 8
QUEUE_WORKERS = 2
# 8000, not 5000: macOS's AirPlay receiver holds 5000. The demo's emulator port is fixed too, so
# that one SSH tunnel forwarding two ports reaches a demo on another machine.
DEFAULT_PORT = 8000
DEMO_EMULATOR_PORT = 8099
DEMO_MAIL_PORT = 2525


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


def warn_what_is_not_set_up(settings: Settings) -> None:
    """One warning per empty setting that people need: `serve` still starts (to be looked at),
    and /healthz answers 503 "not set up" until they are set."""
    for item in missing_settings(settings):
        logger.warning("not set up: %s is not set: %s", item.variable, item.effect)


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


def port_option(name: str, default: int, text: str) -> Callable[[FC], FC]:
    """A port option: 0 to 65535, where 0 picks a free port."""
    return click.option(
        name,
        default=default,
        show_default=True,
        type=click.IntRange(0, 65535),
        help=f"{text} 0 picks a free one.",
    )


def server_options(app: Flask, *, trust_proxy: bool) -> dict[str, Any]:
    """waitress's settings for `app`. Its body limit is the app's MAX_CONTENT_LENGTH, so an
    oversized body is refused (413) as soon as its headers or first bytes arrive, instead of
    being buffered up to waitress's own 1 GiB before the app sees it. X-Forwarded-* are kept
    only when TRUST_PROXY_HEADERS says they are ours."""
    return {
        "threads": WEB_THREADS,
        # waitress refuses a body whose size reaches the limit; the app allows exactly its limit.
        "max_request_body_size": app.config["MAX_CONTENT_LENGTH"] + 1,
        "clear_untrusted_proxy_headers": not trust_proxy,
    }


def bind(host: str, port: int, option: str = "--port") -> socket.socket:
    """Listen on host:port before anything is printed or started; a busy or refused address
    ends the command with one line that names `option`."""
    try:
        return listen(host, port)
    except OSError as exc:
        address, why = url_netloc(host, port), reason(exc)
        raise click.ClickException(
            f"cannot listen on {address}: {why}; choose another port with {option}"
        ) from None


def run_server(
    app: Flask, queue: Queue, listener: socket.socket, *, periodic: bool, trust_proxy: bool
) -> None:
    """Serve `app` with waitress on `listener` in a thread and run the queue consumer in the
    main thread. The consumer owns the signals: Ctrl-C (SIGINT) finishes running tasks, then
    exits. Waitress keeps X-Forwarded-* only when TRUST_PROXY_HEADERS says they are ours.
    """
    server = waitress.create_server(
        app, sockets=[listener], **server_options(app, trust_proxy=trust_proxy)
    )
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    host, port = listener.getsockname()[:2]
    banner = [f"serving on http://{url_netloc(host, port)}"]
    if not periodic:
        banner.append("SCHEDULER_ENABLED=false: no periodic runs; use the cron endpoint or `run`")
    try:
        consume(queue, banner=banner, workers=QUEUE_WORKERS, periodic=periodic)
    finally:
        server.close()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@port_option("--port", DEFAULT_PORT, "Port to listen on.")
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
    settings.require_registrable_redirect_uri()
    listener = bind(host, port)
    warn_what_is_not_set_up(settings)
    try:
        restore_on_boot(settings)
    except RestoreError as exc:
        raise click.ClickException(f"restore at start failed: {exc}") from None
    database = open_database(settings.database_url)
    app = create_app(settings, database)
    app.debug = debug
    queue = app.extensions["release_notifier"].queue
    try:
        run_server(
            app,
            queue,
            listener,
            periodic=settings.scheduler_enabled,
            trust_proxy=settings.trust_proxy_headers,
        )
    finally:
        flush_automatic_backups()  # atexit does not run on SIGTERM


@click.command("demo")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address the app and the emulated Spotify listen on (0.0.0.0: every interface).",
)
@port_option("--port", DEFAULT_PORT, "The app's port.")
@port_option("--emulator-port", DEMO_EMULATOR_PORT, "The emulated Spotify's; browsers visit it.")
@port_option("--mail-port", DEMO_MAIL_PORT, "The mail catcher's SMTP port, on 127.0.0.1.")
def demo(host: str, port: int, emulator_port: int, mail_port: int) -> None:
    """The sandbox: Spotify emulator, mail catcher and the app wired to both."""
    from release_notifier.web import create_app

    try:
        from release_notifier.web.demo import demo_settings
    except ModuleNotFoundError as exc:
        raise without_demo_extra(exc) from None
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-connection chatter
    listener = bind(host, port)
    app_url = f"http://{url_netloc(url_host(host), listener.getsockname()[1])}"
    context = start_demo_services_or_explain(
        app_url, host=host, emulator_port=emulator_port, mail_port=mail_port
    )
    folder = Path(tempfile.mkdtemp(prefix="release-notifier-demo-"))
    try:
        settings = demo_settings(context, app_url, folder)
        apply_log_level(settings)
        database = open_database(settings.database_url)
        app = create_app(settings, database, demo=context)
        click.echo(demo_banner(app_url, context.emulator.base_url))
        queue = app.extensions["release_notifier"].queue
        run_server(app, queue, listener, periodic=True, trust_proxy=False)
    finally:
        context.stop()
        shutil.rmtree(folder, ignore_errors=True)


def without_demo_extra(exc: ModuleNotFoundError) -> Exception:
    """A production install lacks the `demo` extra (aiosmtpd, the mail catcher's server): one
    line that says what to install. Any other missing module stays the error it is."""
    if (exc.name or "").partition(".")[0] != "aiosmtpd":
        return exc
    return click.ClickException(
        "the demo needs the `demo` extra (aiosmtpd, for its mail catcher): "
        "run ./scripts/demo, or pip install -e '.[demo]'"
    )


def start_demo_services_or_explain(
    app_url: str, *, host: str, emulator_port: int, mail_port: int
) -> DemoContext:
    """The emulator and mail catcher on their ports; a busy one is one line naming its option."""
    from release_notifier.web.demo import DemoPortBusy, start_demo_services

    try:
        return start_demo_services(
            app_url, date.today(), host=host, emulator_port=emulator_port, mail_port=mail_port
        )
    except DemoPortBusy as exc:
        option = "--emulator-port" if exc.service == "emulator" else "--mail-port"
        raise click.ClickException(
            f"cannot listen on {exc.address} for the {exc.service}: {exc.reason}; "
            f"choose another port with {option}"
        ) from None


def demo_banner(app_url: str, emulator_url: str) -> str:
    return "\n".join(
        [
            "",
            "release-notifier demo: nothing leaves this machine.",
            f"  open        {app_url}/",
            f"  emails      {app_url}/_outbox/ (and pushes, below them)",
            f"  Spotify     {emulator_url} (emulated; log in as ana, ben or cleo;",
            "              dana is not allow-listed, to show that page)",
            "Sign up with any address (e.g. you@example.test), agree at the emulated Spotify,",
            "confirm from the outbox and read your first digest. Your settings page offers the",
            "sandbox's push receiver as a push channel. Ctrl-C stops it all.",
            "",
        ]
    )


commands: list[click.Command] = [serve, demo]
