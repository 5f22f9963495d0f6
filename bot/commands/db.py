"""`lokalnie db upgrade`: the store's schema."""

from __future__ import annotations

import typer

from bot.cli_support import cli_text, configure_logging, guarded
from bot.config import load_settings

db_app = typer.Typer(help=cli_text("cli.help.db"), no_args_is_help=True)


@db_app.command("upgrade", help=cli_text("cli.help.db_upgrade"))
def db_upgrade() -> None:
    from storage.migrate import upgrade

    settings = guarded(load_settings)
    configure_logging(settings)
    upgrade(settings.database_url)
    typer.echo(cli_text("cli.db_upgraded"))
