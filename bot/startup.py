"""Start-up failures: one line naming what is wrong and what to do, never a traceback.

`explain()` turns the errors an operator meets when the bot or a command starts
(the store unreachable, a database that does not exist, an SQLite file that
cannot be created, a refused bot token) into that line; `lokalnie` prints it
and exits with status 2. Anything else is a fault of ours: one line too, exit
status 1, and `--debug` shows the traceback.

A network that is down at start is not the operator's fault to fix by hand:
`retry_with_backoff()` tries again, with a log line per attempt.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import socket
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from telegram.error import InvalidToken, TelegramError

log = logging.getLogger(__name__)
T = TypeVar("T")


def explain(error: BaseException, database_url: str | None) -> str | None:
    """The one line for a start-up failure the operator must fix, or None."""
    # Imported here: the Telegram adapter uses this module for its retries only.
    from bot.cli_support import cli_text

    where = _where(database_url)
    server = where.get("server") or cli_text("cli.startup.some_server")
    for cause in _causes(error):
        if isinstance(cause, asyncpg.InvalidCatalogNameError):
            database = where.get("database") or "?"
            return cli_text("cli.startup.no_database", database=database, server=server)
        if isinstance(
            cause, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
        ):
            return cli_text("cli.startup.login_refused", server=server, detail=cause)
        if isinstance(cause, asyncpg.CannotConnectNowError):
            return cli_text("cli.startup.server_starting", server=server)
        if isinstance(cause, socket.gaierror):
            return cli_text("cli.startup.unknown_host", detail=cause.strerror)
        if isinstance(cause, ConnectionRefusedError) or (
            isinstance(cause, OSError) and cause.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH)
        ):
            return cli_text("cli.startup.refused", server=server)
        if where.get("sqlite") and _sqlite_unopenable(cause):
            return cli_text("cli.startup.sqlite", database=where["database"])
        if isinstance(cause, OSError) and cause.errno == errno.EADDRINUSE:
            return cli_text("cli.startup.address_in_use", detail=cause.strerror)
        if isinstance(cause, InvalidToken):
            return cli_text("cli.startup.bad_token")
        if isinstance(cause, TelegramError):
            # Its causes (a refused connection) are the Bot API's, not the store's.
            return cli_text("cli.startup.bot_api", detail=cause)
    return None


def unexpected(error: BaseException) -> str:
    """The one line for a failure that is not the operator's to fix."""
    from bot.cli_support import cli_text

    first = (str(error).strip().splitlines() or [""])[0][:300]
    detail = f"{type(error).__name__}: {first}" if first else type(error).__name__
    return cli_text("cli.startup.unexpected", detail=detail)


async def retry_with_backoff(
    action: Callable[[], Awaitable[T]],
    *,
    what: str,
    retry_on: tuple[type[BaseException], ...],
    first: float = 1.0,
    most: float = 60.0,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """`action()`, tried again after 1, 2, 4 ... (at most `most`) seconds while it
    fails with `retry_on`; every failed attempt is one log line. Cancel to give up."""
    delay = first
    attempt = 1
    while True:
        try:
            return await action()
        except retry_on as error:
            log.warning(
                "%s failed (attempt %d: %s); trying again in %.0f s", what, attempt, error, delay
            )
        await sleep(delay)
        delay = min(delay * 2, most)
        attempt += 1


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, what it wraps (SQLAlchemy's `.orig`) and what caused it."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, DBAPIError):
            pending.append(current.orig)
        pending += [current.__cause__, current.__context__]


def _sqlite_unopenable(error: BaseException) -> bool:
    if isinstance(error, sqlite3.OperationalError):
        return "unable to open" in str(error) or "readonly" in str(error)
    return isinstance(error, FileExistsError | NotADirectoryError | PermissionError)


def _where(database_url: str | None) -> dict[str, str]:
    if not database_url:
        return {}
    try:
        url = make_url(database_url)
    except ArgumentError:
        return {}
    if url.get_backend_name() == "sqlite":
        return {"sqlite": "yes", "database": url.database or ":memory:", "server": "SQLite"}
    return {
        "server": f"{url.host or 'localhost'}:{url.port or 5432}",
        "database": url.database or "",
    }


def settle_memory() -> None:
    """Leave what start-up made (modules, content, catalogues) out of the collector's rounds.

    A full collection walks every live object: with the bot and panel loaded it took
    some 80-100 ms, a pause every reply in flight waits out (three or four a minute
    with residents answering at Telegram's cap), and a panel page building a few
    thousand ORM objects triggered one every few requests. Frozen objects are never
    collected: only what exists once, at start, is frozen.
    """
    gc.collect()
    gc.freeze()
