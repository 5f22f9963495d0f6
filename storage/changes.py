"""Hearing another process's writes: a CLI command changes the store, the running bot
notices within about a second and re-plans (instead of at its next periodic replan).

- PostgreSQL: the writing transaction calls `announce()`, i.e. `pg_notify`, which
  the server delivers when (and only if) that transaction commits; the bot holds
  one connection that LISTENs (asyncpg's `add_listener` on the driver connection
  SQLAlchemy hands out).
- SQLite has no messages between processes. `PRAGMA data_version` on one
  connection changes whenever another connection commits, and reading it costs
  no I/O beyond a shared-memory check, so the bot polls it on one dedicated
  connection. Any other connection's commit moves it, the bot's own pool
  included: a busy bot reacts at most once per poll, and the reaction (a replan,
  a wake-up of the outbox sender) is idempotent and coalesced by its receivers.

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
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
    # SQLite: the commit itself moves every other connection's data_version.


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
        last = await _data_version(driver)
        while True:
            await asyncio.sleep(self.poll_every)
            now = await _data_version(driver)
            if now != last:
                last = now
                self.on_change()


async def _data_version(driver: Any) -> int:
    # Outside any transaction (the connection is in autocommit): each read sees
    # the latest commit of every other connection.
    async with driver.execute("PRAGMA data_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0])
