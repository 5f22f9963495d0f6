"""What every `lokalnie` sub-command shares: one clear error line, the service, output.

Kept apart from `bot/cli.py` so a feature's sub-app can use these without
importing the root command (which imports every sub-app).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

from bot.config import ConfigError, Settings, load_settings
from handlers.core.centre import ContentError
from handlers.core.i18n import CatalogueError

T = TypeVar("T")
USER_ERRORS = (ConfigError, ContentError, CatalogueError)
FORMATS = ("table", "json", "csv", "xlsx")


def fail(message: str) -> None:
    """One clear line, exit status 2, no traceback."""
    typer.echo(f"lokalnie: {message}", err=True)
    raise typer.Exit(2)


def guarded(action: Callable[[], T]) -> T:
    """Run `action`; a configuration or content error becomes one line and exit 2."""
    try:
        return action()
    except USER_ERRORS as error:
        fail(str(error))
        raise AssertionError("unreachable") from None


def setup_logging(settings: Settings, *, quiet: bool = False) -> None:
    """Log at the configured level, or only warnings for commands that print results."""
    level = logging.WARNING if quiet else getattr(logging, settings.log_level)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)


def with_service(work: Callable[[Any], Any]) -> Any:
    """Run `work(service)` against the configured store, migrated first."""
    from bot.app import Service

    settings = guarded(load_settings)
    setup_logging(settings, quiet=True)

    async def main() -> Any:
        service = Service(settings)
        try:
            await service.prepare()
            return await work(service)
        finally:
            await service.close()

    return guarded(lambda: asyncio.run(main()))


def write_out(content: bytes, out: Path | None) -> None:
    """Write to `out` and print its name, or write the bytes to stdout."""
    if out is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    else:
        out.write_bytes(content)
        typer.echo(f"{out}")


def check_format(format: str, out: Path | None, formats: tuple[str, ...] = FORMATS) -> None:
    """Refuse an unknown --format, and XLSX without a file to write it to."""
    if format not in formats:
        fail(f"--format must be {', '.join(formats[:-1])} or {formats[-1]}, not '{format}'")
    if format == "xlsx" and out is None:
        fail("--format xlsx needs --out FILE")
