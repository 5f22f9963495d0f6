"""The `lokalnie` command: run, chat, db."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer

from bot.config import ConfigError, Settings, load_settings
from handlers.content import ContentError
from handlers.i18n import CatalogueError

app = typer.Typer(help="Lokalnie: the culture centre's chatbot.", no_args_is_help=True)
db_app = typer.Typer(help="The store.", no_args_is_help=True)
app.add_typer(db_app, name="db")

T = TypeVar("T")
USER_ERRORS = (ConfigError, ContentError, CatalogueError)


def fail(message: str) -> None:
    """One clear line, exit status 2, no traceback."""
    typer.echo(f"lokalnie: {message}", err=True)
    raise typer.Exit(2)


def guarded(action: Callable[[], T]) -> T:
    try:
        return action()
    except USER_ERRORS as error:
        fail(str(error))
        raise AssertionError("unreachable") from None


def _logging(settings: Settings, *, quiet: bool = False) -> None:
    level = logging.WARNING if quiet else getattr(logging, settings.log_level)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _chat(settings: Settings, user: int, coordinator: bool) -> None:
    from bot.app import Service

    async def main() -> None:
        service = Service(settings)
        try:
            await service.prepare()
            await service.run_console(user_id=user, coordinator=coordinator)
        finally:
            await service.close()

    asyncio.run(main())


@app.command()
def run() -> None:
    """Start the bot: Telegram when a token is configured, else the terminal chat."""
    settings = guarded(load_settings)
    _logging(settings, quiet=not settings.telegram_enabled)
    if not settings.telegram_enabled:
        from handlers.i18n import Translator

        texts = guarded(
            lambda: Translator(settings.content_dir / "locales", settings.default_language)
        )
        typer.echo(texts.text(settings.default_language, "console.no_token"))
        guarded(lambda: _chat(settings, 1, False))
        return

    from bot.app import Service, install_stop_signals

    async def main() -> None:
        service = Service(settings)
        try:
            await service.prepare()
            stop = asyncio.Event()
            install_stop_signals(stop)
            await service.run_telegram(stop)
        finally:
            await service.close()

    guarded(lambda: asyncio.run(main()))


@app.command()
def chat(
    user: Annotated[int, typer.Option(help="Be this resident (a Telegram-like user id).")] = 1,
    coordinator: Annotated[bool, typer.Option(help="Act as a coordinator.")] = False,
) -> None:
    """Talk to the bot in this terminal, on the configured store."""
    settings = guarded(load_settings)
    _logging(settings, quiet=True)
    guarded(lambda: _chat(settings, user, coordinator))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the store's schema up to date (the bot also does this on start)."""
    from storage.migrate import upgrade

    settings = guarded(load_settings)
    _logging(settings)
    upgrade(settings.database_url)
    typer.echo("lokalnie: the store is up to date")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
