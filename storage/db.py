"""Engine and session factory for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
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

# How long a transaction waits for another connection's write lock (a CLI command,
# a migration, the bot's own other writer) before it fails with "database is
# locked". The longest writes are seconds (a mailbox import batch, queueing a
# broadcast to thousands of residents); half a minute covers them with room to
# spare, and still ends a real deadlock with an error instead of hanging forever.
# aiosqlite runs each connection in its own thread, so this wait never blocks the loop.
BUSY_TIMEOUT = 30.0
# Mail texts run to kilobytes: with SQLite's default 4 KB pages the bot spent a fifth
# of a mailbox import in the kernel, writing pages to the WAL and back to the file
# (three times as many calls as with 16 KB). A file made earlier keeps its own size.
PAGE_SIZE = 16384


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy's recipe for SQLite transactions ("Enabling Non-Legacy SQLite
    # Transactional Modes"): the driver emits no BEGIN of its own; `_sqlite_begin` does.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # page_size first: it cannot change once the file is in WAL mode.
    cursor.execute(f"PRAGMA page_size={PAGE_SIZE}")
    # WAL lets readers work while one writer writes; NORMAL is durable across a
    # process crash (the bot's case) and only an OS crash may lose the last commits.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Foreign keys (and their ON DELETE) are off in SQLite unless asked.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # A deferred transaction that reads, then writes, fails at once with "database
    # is locked" when another connection wrote meanwhile (its WAL snapshot is stale,
    # and SQLite cannot wait that out); taking the write lock at BEGIN makes it wait
    # for the other writer (busy_timeout) instead.
    # Through SQLAlchemy's own execution, as its recipe has it: a task cancelled while
    # the BEGIN is on its way then has its connection discarded. Sent past it (one trip
    # to aiosqlite's thread instead of three), the BEGIN still ran after the cancel and
    # left the pooled connection inside a transaction.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_reset(dbapi_connection: Any, record: Any, _state: Any) -> None:
    # A transaction left open (its task cancelled half-way) must not reach the next
    # user of the connection; after a commit or a rollback there is nothing to undo.
    if record.driver_connection.in_transaction:
        dbapi_connection.rollback()


def make_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and "uri" not in parsed.query:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # A file that cannot be created or opened fails here, in the caller's
            # thread; in aiosqlite's worker thread it can outlive the event loop and
            # print a stray traceback after the real error.
            sqlite3.connect(parsed.database).close()
        # The pool's own reset is a ROLLBACK after every transaction, even one just
        # committed: one more trip to aiosqlite's thread each time. `_sqlite_reset`
        # rolls back only what is still open (SQLAlchemy's "custom reset" recipe).
        engine = create_async_engine(url, pool_reset_on_return=None)
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        event.listen(engine.sync_engine, "reset", _sqlite_reset)
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
        # SQLite has one writer at a time and every transaction starts with BEGIN
        # IMMEDIATE. Within the process, tasks queue here and the next one goes in
        # the moment the last one commits; left to SQLite, each would hold a pooled
        # connection and poll the lock with sleeps of up to 100 ms. Another process
        # (a CLI command) is still waited for by SQLite's busy_timeout.
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
        async with asyncio.timeout(BUSY_TIMEOUT):
            await lock.acquire()
        try:
            yield
        finally:
            lock.release()

    async def close(self) -> None:
        await self.engine.dispose()
