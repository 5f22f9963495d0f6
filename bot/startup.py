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
FIX_URL = "or correct DATABASE_URL in .env"
CHECK_URL = "check DATABASE_URL in .env"


def explain(error: BaseException, database_url: str | None) -> str | None:
    """The one line for a start-up failure the operator must fix, or None."""
    where = _where(database_url)
    for cause in _causes(error):
        if isinstance(cause, asyncpg.InvalidCatalogNameError):
            database = where.get("database") or "?"
            return (
                f"the database '{database}' does not exist on {where['server']}: "
                f"create it (createdb {database}) {FIX_URL}"
            )
        if isinstance(
            cause, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
        ):
            return f"PostgreSQL at {where['server']} refused the login ({cause}): {CHECK_URL}"
        if isinstance(cause, asyncpg.CannotConnectNowError):
            return f"PostgreSQL at {where['server']} is starting or shutting down: try again soon"
        if isinstance(cause, socket.gaierror):
            return f"the database host in DATABASE_URL is unknown ({cause.strerror}): {CHECK_URL}"
        if isinstance(cause, ConnectionRefusedError) or (
            isinstance(cause, OSError) and cause.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH)
        ):
            return (
                f"cannot reach the database server at {where['server']} (connection refused): "
                f"start PostgreSQL {FIX_URL}"
            )
        if where.get("sqlite") and _sqlite_unopenable(cause):
            return (
                f"cannot create or open the SQLite database {where['database']}: make its "
                f"folder writable {FIX_URL}"
            )
        if isinstance(cause, OSError) and cause.errno == errno.EADDRINUSE:
            return (
                f"the webhook's address is already in use ({cause.strerror}): stop the other "
                "program or choose another WEBHOOK_PORT"
            )
        if isinstance(cause, InvalidToken):
            return "Telegram refused TELEGRAM_BOT_TOKEN: copy the token from @BotFather into .env"
        if isinstance(cause, TelegramError):
            # Its causes (a refused connection) are the Bot API's, not the store's.
            return (
                f"the Telegram Bot API failed while the bot was starting ({cause}): "
                "check the network and TELEGRAM_API_BASE_URL, then start again"
            )
    return None


def unexpected(error: BaseException) -> str:
    """The one line for a failure that is not the operator's to fix."""
    first = (str(error).strip().splitlines() or [""])[0][:300]
    detail = f"{type(error).__name__}: {first}" if first else type(error).__name__
    return f"unexpected error ({detail}); run again with --debug to see where"


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
        return {"server": "the configured server"}
    try:
        url = make_url(database_url)
    except ArgumentError:
        return {"server": "the configured server"}
    if url.get_backend_name() == "sqlite":
        return {"sqlite": "yes", "database": url.database or ":memory:", "server": "SQLite"}
    return {
        "server": f"{url.host or 'localhost'}:{url.port or 5432}",
        "database": url.database or "",
    }
