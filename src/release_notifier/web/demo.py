"""The sandbox: a Spotify emulator with the demo catalogue, a mail catcher, a push catcher and
settings for all three.

Imported only by the `demo` command and tests: it loads the emulator and aiosmtpd (the `demo`
extra), which a production install does not have."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from cryptography.fernet import Fernet
from flask import Flask

from release_notifier.listening import reason, url_host, url_netloc
from release_notifier.sandbox.catalogue import DemoCatalogue, load_demo_catalogue
from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.sandbox.mailcatcher import MailCatcher
from release_notifier.sandbox.pushcatcher import PushCatcher
from release_notifier.sandbox.wiring import sandbox_settings
from release_notifier.settings import Settings
from release_notifier.web import outbox


@dataclass
class DemoContext:
    """The sandbox's parts the app shows: the emulator's accounts, the caught mail and pushes."""

    emulator: SpotifyEmulator
    mail: MailCatcher
    catalogue: DemoCatalogue | None = field(default=None)
    pushes: PushCatcher | None = field(default=None)

    def register_pages(self, app: Flask) -> None:
        """Add the demo's own pages (the outbox) to `app`."""
        app.register_blueprint(outbox.bp)

    def stop(self) -> None:
        if self.pushes is not None:
            self.pushes.stop()
        self.mail.stop()
        self.emulator.stop()


class DemoPortBusy(Exception):
    """The emulator's or the mail catcher's address could not be listened on."""

    def __init__(self, service: str, address: str, reason: str) -> None:
        super().__init__(f"{service} cannot listen on {address}: {reason}")
        self.service, self.address, self.reason = service, address, reason


def start_demo_services(
    app_url: str,
    today: date,
    *,
    host: str = "127.0.0.1",
    emulator_port: int = 0,
    mail_port: int = 0,
) -> DemoContext:
    """Start the emulator on `host` (demo catalogue, our callback registered) and the mail
    catcher on 127.0.0.1 (only the app talks to it). Port 0 picks a free one; a busy port
    raises DemoPortBusy and leaves nothing running."""
    emulator = SpotifyEmulator(
        redirect_uris=[f"{app_url}/auth/callback"],
        host=host,
        url_host=url_host(host),
        port=emulator_port,
        any_http_redirect_host=True,  # the app may be at http://<this machine>:8000
    )
    try:
        emulator.start()
    except OSError as exc:
        address = url_netloc(host, emulator_port)
        raise DemoPortBusy("emulator", address, reason(exc)) from None
    catalogue = load_demo_catalogue(emulator, today)
    mail = MailCatcher(port=mail_port or None)
    try:
        mail.start()
    except OSError as exc:
        emulator.stop()
        address = url_netloc(mail.host, mail_port)
        raise DemoPortBusy("mail catcher", address, reason(exc)) from None
    pushes = PushCatcher().start()  # 127.0.0.1, any free port: only the app posts to it
    return DemoContext(emulator=emulator, mail=mail, catalogue=catalogue, pushes=pushes)


def demo_settings(demo: DemoContext, app_url: str, folder: Path) -> Settings:
    """Settings wired to the sandbox: fresh keys, a SQLite file and queue under `folder`."""
    return sandbox_settings(
        demo.emulator,
        demo.mail,
        spotipy_redirect_uri=f"{app_url}/auth/callback",
        flask_secret_key=secrets.token_urlsafe(32),
        cron_secret_key=secrets.token_urlsafe(32),
        db_encryption_key=Fernet.generate_key().decode(),
        database_url=f"sqlite:///{folder / 'site.db'}",
        huey_sqlite_path=str(folder / "queue.db"),
        backup_dir=str(folder / "backups"),
        mail_from="release-notifier@demo.release-notifier.test",
        public_base_url=app_url,
        channel_allow_local_hosts=True,  # the demo's push catcher listens on 127.0.0.1
        backup_s3_url="",
        dropbox_refresh_token="",
    )
