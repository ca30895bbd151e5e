"""The `release-notifier` command. Each domain contributes its commands from its own module."""

from __future__ import annotations

import importlib
import sys

import click

from release_notifier.logs import configure_logging
from release_notifier.settings import ConfigError

# Modules that define a module-level `commands: list[click.Command]`.
COMMAND_MODULES = [
    "release_notifier.cli.engine",
    "release_notifier.cli.web",
    "release_notifier.cli.backup",
    "release_notifier.cli.sandbox",
    "release_notifier.cli.security",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--log-level", default=None, help="DEBUG, INFO (default), WARNING or ERROR.")
def cli(log_level: str | None) -> None:
    """Email digests of new releases from the artists you follow on Spotify."""
    configure_logging(log_level or "INFO")


def _register() -> None:
    for name in COMMAND_MODULES:
        for command in importlib.import_module(name).commands:
            cli.add_command(command)


def main() -> None:
    """Entry point: configuration errors end with one line naming the variable, exit 2."""
    _register()
    try:
        code = cli.main(standalone_mode=False)
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    if isinstance(code, int):
        sys.exit(code)
