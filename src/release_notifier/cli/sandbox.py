"""`release-notifier emulator`: a local Spotify to point the app at during development."""

from __future__ import annotations

import contextlib
import signal
import threading
from types import FrameType

import click

from release_notifier import clock
from release_notifier.sandbox.catalogue import load_demo_catalogue
from release_notifier.sandbox.emulator import PROFILES, SpotifyEmulator


def environment_lines(emulator: SpotifyEmulator) -> list[str]:
    """The settings that point release-notifier at `emulator`, as shell exports."""
    return [
        f"export SPOTIFY_API_BASE_URL={emulator.api_base_url}",
        f"export SPOTIFY_ACCOUNTS_BASE_URL={emulator.accounts_base_url}",
        f"export SPOTIPY_CLIENT_ID={emulator.client_id}",
        f"export SPOTIPY_CLIENT_SECRET={emulator.client_secret}",
    ]


def _stop_on_sigterm() -> threading.Event:
    """An event that SIGTERM sets (Ctrl-C arrives as KeyboardInterrupt instead)."""
    stopped = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, on_signal)
    return stopped


@click.command("emulator")
@click.option(
    "--port",
    default=8099,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port on 127.0.0.1 (0: any free port).",
)
@click.option(
    "--demo-catalogue/--empty",
    "demo",
    default=True,
    show_default=True,
    help="Start with the demo artists, releases and accounts, or with nothing.",
)
@click.option(
    "--profile",
    type=click.Choice(PROFILES),
    default="dev_new",
    show_default=True,
    help="dev_new: a development-mode app as of 2026; extended: extended quota mode.",
)
@click.option("--client-id", default="sandbox-client-id", show_default=True)
@click.option("--client-secret", default="sandbox-client-secret", show_default=True)
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    help="Registered redirect URI (repeatable). Default: any https or 127.0.0.1 URI.",
)
def emulator_command(
    port: int,
    demo: bool,
    profile: str,
    client_id: str,
    client_secret: str,
    redirect_uris: tuple[str, ...],
) -> None:
    """Run the Spotify emulator (Web API and Accounts) in the foreground; Ctrl-C stops it."""
    try:
        emulator = SpotifyEmulator(
            profile=profile,
            client_id=client_id,
            client_secret=client_secret,
            redirect_uris=list(redirect_uris) or None,
            port=port,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--redirect-uri") from None
    catalogue = load_demo_catalogue(emulator, clock.utcnow().date()) if demo else None
    try:
        emulator.start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    stopped = _stop_on_sigterm()
    click.echo(f"Spotify emulator ({profile}) on {emulator.base_url}; Ctrl-C stops it.")
    click.echo("Point release-notifier at it with:")
    for line in environment_lines(emulator):
        click.echo(f"  {line}")
    if catalogue is not None:
        click.echo(
            f"Sandbox accounts: {', '.join(catalogue.allowlisted)} (allow-listed), "
            f"{', '.join(catalogue.not_allowlisted)} (not allow-listed)"
        )
    try:
        with contextlib.suppress(KeyboardInterrupt):
            stopped.wait()
    finally:
        emulator.stop()
        click.echo("Spotify emulator stopped.")


commands: list[click.Command] = [emulator_command]
