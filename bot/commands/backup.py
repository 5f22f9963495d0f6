"""`lokalnie backup --out FILE` and `lokalnie restore FILE`: the store, copied and put back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli_support import configure_logging, fail, guarded
from bot.config import load_settings

# Merged into the top level (`lokalnie backup`, not `lokalnie backup backup`).
backup_app = typer.Typer()


@backup_app.command("backup")
def backup_command(
    out: Annotated[Path, typer.Option("--out", help="Write the copy to this file.")],
) -> None:
    """Copy the store to a file, consistently, also while the bot runs."""
    from storage import backup

    settings = guarded(load_settings)
    configure_logging(settings, quiet=True)
    try:
        written = backup.backup(settings.database_url, out)
    except backup.BackupError as error:
        fail(str(error))
        return
    typer.echo(f"lokalnie: the store is copied to {written}")


@backup_app.command("restore")
def restore_command(
    source: Annotated[Path, typer.Argument(help="A file made by `lokalnie backup`.")],
) -> None:
    """Put a backup into an empty store (refused when the store has data)."""
    from storage import backup

    settings = guarded(load_settings)
    configure_logging(settings, quiet=True)
    try:
        backup.restore(settings.database_url, source)
    except backup.BackupError as error:
        fail(str(error))
        return
    typer.echo(
        f"lokalnie: the store is restored from {source} (the bot updates its schema on start)"
    )
