"""The sandbox: a Spotify emulator with the demo catalogue, a mail catcher, settings for both."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from cryptography.fernet import Fernet

from release_notifier.sandbox.catalogue import DemoCatalogue, load_demo_catalogue
from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.sandbox.mailcatcher import MailCatcher
from release_notifier.sandbox.wiring import sandbox_settings
from release_notifier.settings import Settings


@dataclass
class DemoContext:
    """The sandbox's parts the app shows: the emulator's accounts and the caught mail."""

    emulator: SpotifyEmulator
    mail: MailCatcher
    catalogue: DemoCatalogue | None = field(default=None)

    def stop(self) -> None:
        self.mail.stop()
        self.emulator.stop()


def start_demo_services(app_url: str, today: date) -> DemoContext:
    """Start the emulator (demo catalogue, our callback registered) and the mail catcher."""
    emulator = SpotifyEmulator(redirect_uris=[f"{app_url}/auth/callback"]).start()
    catalogue = load_demo_catalogue(emulator, today)
    mail = MailCatcher().start()
    return DemoContext(emulator=emulator, mail=mail, catalogue=catalogue)


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
        backup_s3_url="",
        dropbox_refresh_token="",
    )
