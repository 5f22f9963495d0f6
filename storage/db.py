"""Engine and session factory for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.sqlite_inline import LOCK_WAIT, InlineDBAPI

PAGE_SIZE = 16384


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers work while one writer writes; foreign keys are off in
    # SQLite unless asked. (Waiting for another writer: `storage.sqlite_inline`.)
    # 16 KB pages for a new database (an existing one keeps its own): mail texts run
    # to kilobytes, and with the default 4 KB the bot's process spent a fifth of a
    # mailbox import in the kernel, much of it writing pages to the WAL and back to the
    # file (three times as many calls as with 16 KB).
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA page_size={PAGE_SIZE}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # A deferred transaction that reads, then writes, fails at once with
    # "database is locked" when another connection wrote meanwhile (WAL snapshot);
    # taking the write lock at BEGIN makes it wait for the other writer instead.
    # Sent on the driver's cursor: SQLAlchemy's statement machinery (events,
    # execution context) would cost more than the statement, once per transaction.
    cursor = connection.connection.cursor()
    cursor.execute("BEGIN IMMEDIATE")
    cursor.close()


def make_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # SQLite runs in the loop's thread (see storage.sqlite_inline).
        engine = create_async_engine(url, module=InlineDBAPI())
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    engine = create_async_engine(url, pool_size=5, max_overflow=5)
    event.listen(engine.sync_engine, "checkout", _skip_closed_connection)
    return engine


def _skip_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    # A restarted PostgreSQL closes our idle connections, and asyncpg notices at
    # once (the loop watches their sockets). Taking a fresh one here costs nothing,
    # where `pool_pre_ping` would send a round trip before every transaction.
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


class Store:
    """One engine and its session factory; `transaction()` is the unit of work."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time and every transaction starts with
        # BEGIN IMMEDIATE: queue them here instead of polling the file lock.
        self._one_at_a_time = self.engine.dialect.name == "sqlite"
        self._turns: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed once at the end, or rolled back."""
        if not self._one_at_a_time:
            async with self.sessions() as session, session.begin():
                yield session
            return
        async with self._turn(), self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        lock = self._turns.get(loop)
        if lock is None:
            self._turns = {k: v for k, v in self._turns.items() if not k.is_closed()}
            lock = self._turns[loop] = asyncio.Lock()
        # As long as SQLite itself would wait for a writer: a transaction opened
        # inside another one fails after this instead of hanging.
        async with asyncio.timeout(LOCK_WAIT):
            await lock.acquire()
        try:
            yield
        finally:
            lock.release()

    async def close(self) -> None:
        await self.engine.dispose()
