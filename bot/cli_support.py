"""What every `lokalnie` sub-command shares: its texts in the configured language,
one-line failures, the user errors that become them, logging, local times, and
running work against the configured store.

A module of its own so that a feature's sub-app (e.g. `bot.mail.cli`) imports it
without importing `bot.cli`, which adds those sub-apps.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any, TypeVar

import typer
from babel.dates import format_datetime

from bot import redact
from bot.config import ConfigError, Settings, interface, interface_text, load_settings
from handlers.core.centre import ContentError
from handlers.core.content_files import ContentFileError
from handlers.core.i18n import CatalogueError

T = TypeVar("T")
USER_ERRORS = (ConfigError, ContentError, ContentFileError, CatalogueError)
# `lokalnie --debug ...`: a failure shows its traceback instead of one line.
debug = False


# "04.12.2026 18:00": how the centre writes a moment, in both languages.
MOMENT = "dd.MM.yyyy HH:mm"


def cli_language() -> str:
    """The language the CLI speaks: DEFAULT_LANGUAGE, Polish when unset or unknown."""
    return interface()[1]


def cli_text(key: str, /, **values: object) -> str:
    """A CLI text (help, output, error) from the catalogue of the configured language."""
    return interface_text(key, **values)


def local_time(moment: datetime, timezone: tzinfo) -> str:
    """A moment in the centre's time zone, to the minute: 04.12.2026 18:00."""
    return format_datetime(moment.astimezone(timezone), MOMENT, locale=cli_language())


def fail(message: str) -> None:
    """One clear line, exit status 2, no traceback."""
    # A message quoting a parser's report can span lines; the terminal gets one.
    line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    typer.echo(f"lokalnie: {line}", err=True)
    raise typer.Exit(2)


def user_error_text(error: Exception) -> str:
    """What an operator's mistake says: a content file's in the configured language."""
    if isinstance(error, ContentError | ContentFileError):
        return error.text(cli_text)
    return str(error)


def guarded(action: Callable[[], T]) -> T:
    try:
        return action()
    except USER_ERRORS as error:
        fail(user_error_text(error))
        raise AssertionError("unreachable") from None


def configure_logging(settings: Settings, *, quiet: bool = False) -> None:
    level = logging.WARNING if quiet else getattr(logging, settings.log_level)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Alembic reports each of its plugins at INFO on every start: noise, not news.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    redact.install(settings)


def with_service(work: Callable[[Any], Any]) -> Any:
    """Run `work(service)` against the configured store, migrated first."""
    from bot.app import Service

    settings = guarded(load_settings)
    configure_logging(settings, quiet=True)

    async def main() -> Any:
        service = Service(settings)
        try:
            await service.prepare()
            return await work(service)
        finally:
            await service.close()

    return guarded(lambda: asyncio.run(main()))
