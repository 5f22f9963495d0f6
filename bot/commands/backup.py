"""`lokalnie backup --out FILE` and `lokalnie restore FILE`: the store, copied and put back."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from bot.cli_support import cli_text, configure_logging, fail, guarded
from bot.config import load_settings

# Merged into the top level (`lokalnie backup`, not `lokalnie backup backup`).
backup_app = typer.Typer()


@backup_app.command("backup", help=cli_text("cli.help.backup"))
def backup_command(
    out: Annotated[Path, typer.Option("--out", help=cli_text("cli.help.backup_out"))],
) -> None:
    from storage import backup

    settings = guarded(load_settings)
    configure_logging(settings, quiet=True)
    try:
        written = backup.backup(settings.database_url, out)
    except backup.BackupError as error:
        fail(cli_text(error.key, **error.values))
        return
    typer.echo(cli_text("cli.backup_done", path=written))


@backup_app.command("restore", help=cli_text("cli.help.restore"))
def restore_command(
    source: Annotated[Path, typer.Argument(help=cli_text("cli.help.restore_source"))],
) -> None:
    from storage import backup

    settings = guarded(load_settings)
    configure_logging(settings, quiet=True)
    try:
        asyncio.run(backup.restore(settings.database_url, source))
    except backup.BackupError as error:
        fail(cli_text(error.key, **error.values))
        return
    typer.echo(cli_text("cli.restore_done", path=source))
