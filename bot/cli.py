"""The `lokalnie` command: run, chat, and each feature's sub-app."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, tzinfo
from typing import Annotated

import typer

from bot import cli_support, startup
from bot.cli_support import cli_text, configure_logging, guarded, local_time
from bot.commands.backup import backup_app
from bot.commands.broadcast import broadcast_app, schedule_app
from bot.commands.contest import contest_app, proposals_app
from bot.commands.db import db_app
from bot.commands.panel import panel_app
from bot.commands.privacy import privacy_app
from bot.commands.survey import survey_app
from bot.config import Settings, load_settings
from bot.mail.cli import mail_app
from handlers.core.demo import DEMO_DAYS

# Help texts come from the catalogue of DEFAULT_LANGUAGE; the words typer adds
# itself ("Usage", "Options", "--help") stay as typer prints them.
app = typer.Typer(help=cli_text("cli.help.app"), no_args_is_help=True)


@app.callback()
def options(
    debug: Annotated[bool, typer.Option("--debug", help=cli_text("cli.help.debug"))] = False,
) -> None:
    cli_support.debug = debug


app.add_typer(db_app, name="db")
app.add_typer(survey_app, name="survey")
app.add_typer(contest_app, name="contest")
app.add_typer(proposals_app, name="proposals")
app.add_typer(broadcast_app, name="broadcast")
app.add_typer(schedule_app, name="schedule")
app.add_typer(privacy_app, name="privacy")  # lokalnie privacy report
app.add_typer(mail_app, name="mail")  # lokalnie mail sync|list|show
app.add_typer(panel_app, name="panel")  # lokalnie panel, lokalnie panel link --coordinator ID
app.add_typer(backup_app)  # lokalnie backup --out FILE, lokalnie restore FILE


def _chat(settings: Settings, user: int, coordinator: bool, demo: bool = False) -> None:
    from bot.app import Service

    async def main() -> None:
        service = Service(settings, demo=demo)
        try:
            await service.prepare()
            if service.demo_closes is not None:
                typer.echo(demo_notice(service.demo_closes, settings.timezone_info))
            await service.run_console(user_id=user, coordinator=coordinator)
        finally:
            await service.close()

    asyncio.run(main())


def demo_notice(closes: datetime, timezone: tzinfo) -> str:
    """The line that tells whoever tries the bot that it serves the demo edition."""
    return cli_text("console.demo", until=local_time(closes, timezone))


DemoOption = Annotated[bool, typer.Option("--demo", help=cli_text("cli.help.demo", days=DEMO_DAYS))]


@app.command(help=cli_text("cli.help.run"))
def run(demo: DemoOption = False) -> None:
    settings = guarded(load_settings)
    configure_logging(settings, quiet=not settings.telegram_enabled)
    if not settings.telegram_enabled:
        from handlers.core.i18n import Translator

        texts = guarded(
            lambda: Translator(settings.content_dir / "locales", settings.default_language)
        )
        typer.echo(texts.text(settings.default_language, "console.no_token"))
        guarded(lambda: _chat(settings, 1, False, demo))
        return
    if demo:
        # Residents on Telegram always get the centre's real edition.
        typer.echo(cli_text("cli.demo_not_on_telegram"), err=True)

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


@app.command(help=cli_text("cli.help.chat"))
def chat(
    user: Annotated[int, typer.Option(help=cli_text("cli.help.chat_user"))] = 1,
    coordinator: Annotated[bool, typer.Option(help=cli_text("cli.help.chat_coordinator"))] = False,
    demo: DemoOption = False,
) -> None:
    settings = guarded(load_settings)
    configure_logging(settings, quiet=True)
    guarded(lambda: _chat(settings, user, coordinator, demo))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:
        if cli_support.debug:
            raise
        # Start-up failures the operator fixes get exit status 2, like a bad setting.
        line = (
            cli_support.user_error_text(error)
            if isinstance(error, cli_support.USER_ERRORS)
            else startup.explain(error, _database_url())
        )
        typer.echo(f"lokalnie: {line or startup.unexpected(error)}", err=True)
        sys.exit(2 if line else 1)


def _database_url() -> str | None:
    try:
        return load_settings().database_url
    except Exception:
        return None
