"""Hearing another process's writes: a CLI command changes the store, the running bot
notices within about a second and re-plans (instead of at its next periodic replan).

- PostgreSQL: the writing transaction calls `announce()`, i.e. `pg_notify`, which
  the server delivers when (and only if) that transaction commits; the bot holds
  one connection that LISTENs (asyncpg's `add_listener` on the driver connection
  SQLAlchemy hands out).
- SQLite has no messages between processes. The announcing transaction counts
  up the database's `user_version` (a header field SQLite leaves to the
  application, written with the transaction). The bot polls `PRAGMA
  data_version` on one dedicated connection: it moves on any other connection's
  commit, the bot's own pool included, and reading it costs no I/O beyond a
  shared-memory check. Only when it moved is `user_version` read, and only a
  new count is a change: the bot's own busy commits cause no replans.

A lost connection (a restarted PostgreSQL) is retried; after a reconnect the
bot reacts once, since a notification may have been missed meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.db import Store

log = logging.getLogger(__name__)

CHANNEL = "lokalnie_changes"
POLL_EVERY = 0.5
RETRY_EVERY = 5.0


async def announce(session: AsyncSession) -> None:
    """Tell a running bot about this transaction's changes once it commits."""
    dialect = session.bind.dialect.name if session.bind is not None else ""
    if dialect == "postgresql":
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
    elif dialect == "sqlite":
        # A pragma takes no bound parameters; the value is our own integer. The
        # write lock (BEGIN IMMEDIATE) makes the read-and-count-up safe.
        count = int(await session.scalar(text("PRAGMA user_version")) or 0)
        await session.execute(text(f"PRAGMA user_version = {(count + 1) % 2**31}"))


class ChangeWatcher:
    """Calls `on_change` soon after another connection commits a change."""

    def __init__(
        self,
        store: Store,
        on_change: Callable[[], None],
        *,
        poll_every: float = POLL_EVERY,
        retry_every: float = RETRY_EVERY,
    ) -> None:
        self.store = store
        self.on_change = on_change
        self.poll_every = poll_every
        self.retry_every = retry_every

    async def run(self) -> None:
        postgres = self.store.engine.dialect.name == "postgresql"
        while True:
            try:
                async with self.store.engine.connect() as connection:
                    try:
                        if postgres:
                            await self._listen(connection)
                        else:
                            await self._poll(connection)
                    finally:
                        # Never back into the pool: it may LISTEN, or be broken.
                        with contextlib.suppress(Exception):
                            await connection.invalidate()
            except Exception as error:
                log.warning(
                    "not hearing other processes' changes (%s); retrying in %.0f s",
                    error,
                    self.retry_every,
                )
            await asyncio.sleep(self.retry_every)
            self.on_change()

    async def _listen(self, connection: AsyncConnection) -> None:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection

        def heard(*_: object) -> None:
            self.on_change()

        lost = asyncio.Event()
        driver.add_termination_listener(lambda *_: lost.set())
        await driver.add_listener(CHANNEL, heard)
        # asyncpg notices a closed socket at once (the loop watches it) and calls the
        # termination listener; the check of is_closed() is a second guard.
        while not driver.is_closed():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.retry_every):
                    await lost.wait()
        raise ConnectionError("the listening connection was closed")

    async def _poll(self, connection: AsyncConnection) -> None:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        last = await _pragma(driver, "data_version")
        announced = await _pragma(driver, "user_version")
        while True:
            await asyncio.sleep(self.poll_every)
            now = await _pragma(driver, "data_version")
            if now == last:
                continue
            last = now
            count = await _pragma(driver, "user_version")
            if count != announced:
                announced = count
                self.on_change()


async def _pragma(driver: Any, name: str) -> int:
    # Outside any transaction (the connection is in autocommit): each read sees
    # the latest commit of every other connection.
    async with driver.execute(f"PRAGMA {name}") as cursor:
        row = await cursor.fetchone()
    return int(row[0])
