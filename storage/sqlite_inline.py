"""SQLite driven from the event loop's own thread, behind SQLAlchemy's aiosqlite dialect.

aiosqlite runs every call (execute, fetch, close, commit) in a worker thread and
wakes the loop for each result: three thread hand-offs per statement, which cost
more than the statements themselves (an indexed SQLite query on a local file takes
microseconds). This driver gives SQLAlchemy the same awaitable interface but runs
each call at once, in the loop's thread.

Why that is safe here:
* A statement never waits for another process's lock, because the only place that
  takes the write lock is the `BEGIN IMMEDIATE` that starts every transaction
  (`storage.db`), and there a busy database is retried with `asyncio.sleep`, so the
  loop keeps running while another process (a CLI command) finishes its write.
  Everything inside a transaction then runs with the lock held; a short
  `busy_timeout` covers the rare WAL housekeeping waits.
* Within the process, `storage.db.Store` lets one transaction at a time in, so two
  tasks never compete for the lock by polling.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
)

# How long `BEGIN IMMEDIATE` keeps trying while another process writes (seconds).
LOCK_WAIT = 30.0
# The longest a statement may block the loop on SQLite's own busy handler (ms).
BUSY_TIMEOUT_MS = 50


class InlineCursor:
    """An aiosqlite-shaped cursor whose awaitables complete without waiting."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        if sql.lstrip()[:5].upper() == "BEGIN":
            await _begin(self._cursor, sql)
        elif parameters is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


async def _begin(cursor: sqlite3.Cursor, sql: str) -> None:
    """Start a transaction, waiting for another process's write without blocking the loop."""
    deadline = time.monotonic() + LOCK_WAIT
    pause = 0.002
    while True:
        try:
            cursor.execute(sql)
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.05)


class InlineConnection:
    """An aiosqlite-shaped connection over a plain `sqlite3.Connection`."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    @property
    def isolation_level(self) -> str | None:
        return self._connection.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._connection.isolation_level = value

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._connection.cursor())

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._connection.create_function(*args, **kwargs)

    async def commit(self) -> None:
        self._connection.commit()

    async def rollback(self) -> None:
        self._connection.rollback()

    async def close(self) -> None:
        self._connection.close()

    def stop(self) -> None:
        self._connection.close()


class _AdaptedConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    # aiosqlite's setter posts to its worker thread; there is none here.
    @property
    def isolation_level(self) -> str | None:
        return self._connection.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._connection.isolation_level = value


class InlineDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module SQLAlchemy's aiosqlite dialect is given (`module=`)."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *args: Any, **kwargs: Any) -> _AdaptedConnection:
        kwargs.pop("async_creator_fn", None)
        # The pool may close a connection from the garbage collector's thread.
        kwargs["check_same_thread"] = False
        # Transactions are started by SQLAlchemy's "begin" event, not by the driver.
        kwargs["isolation_level"] = None
        connection = sqlite3.connect(*args, **kwargs)
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return _AdaptedConnection(self, InlineConnection(connection))
