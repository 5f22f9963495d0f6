"""`lokalnie db upgrade`: the store's schema."""

from __future__ import annotations

import typer

from bot.cli_support import configure_logging, guarded
from bot.config import load_settings

db_app = typer.Typer(help="The store.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the store's schema up to date (the bot also does this on start)."""
    from storage.migrate import upgrade

    settings = guarded(load_settings)
    configure_logging(settings)
    upgrade(settings.database_url)
    typer.echo("lokalnie: the store is up to date")
