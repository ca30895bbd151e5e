"""The `release-notifier` command. Each domain contributes its commands from its own module,
imported only when that command runs (so `run` does not pay for the web or backup stacks)."""

from __future__ import annotations

import importlib
import sys

import click

from release_notifier.logs import configure_logging
from release_notifier.settings import ConfigError

# command name -> "module:attribute"
COMMANDS = {
    "run": "release_notifier.cli.engine:run_command",
    "worker": "release_notifier.cli.worker:worker_command",
    "status": "release_notifier.cli.engine:status_command",
    "db": "release_notifier.cli.engine:db_group",
    "make-key": "release_notifier.cli.engine:make_key",
    "serve": "release_notifier.cli.web:serve",
    "demo": "release_notifier.cli.web:demo",
    "backup": "release_notifier.cli.backup:backup_command",
    "restore": "release_notifier.cli.backup:restore_command",
    "import-seed": "release_notifier.cli.backup:import_seed_command",
    "emulator": "release_notifier.cli.sandbox:emulator_command",
    "rotate-key": "release_notifier.cli.security:rotate_key",
    "copy-database": "release_notifier.cli.transfer:copy_database_command",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--log-level", default=None, help="DEBUG, INFO (default), WARNING or ERROR.")
def cli(log_level: str | None) -> None:
    """Email digests of new releases from the artists you follow on Spotify."""
    configure_logging(log_level or "INFO")


def main() -> None:
    """Entry point: configuration errors end with one line naming the variable (exit 2); a
    database that fails mid-command is one line too (exit 1): transactions keep it whole."""
    from sqlalchemy.exc import SQLAlchemyError

    from release_notifier.db.session import database_error_text

    try:
        code = cli.main(standalone_mode=False)
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)
    except SQLAlchemyError as exc:
        click.echo(f"database error: {database_error_text(exc)}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    if isinstance(code, int):
        sys.exit(code)
