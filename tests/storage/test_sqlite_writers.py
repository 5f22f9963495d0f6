"""Two processes writing one SQLite file (the bot and a CLI command) take turns:
neither sees "database is locked", and every write of both is kept. Only a lock held
past busy_timeout fails a transaction, as a database error that writes nothing."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from storage import db, events
from storage.db import Store
from storage.models import Event

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 60

# Each transaction reads, then writes, then holds the lock a moment: the shape that
# fails at once under SQLite's default deferred BEGIN when another process wrote.
WRITER = """
import asyncio, sys
from sqlalchemy import func, select
from storage import events
from storage.db import Store
from storage.models import Event

async def main(url, rounds):
    store = Store(url)
    for i in range(rounds):
        async with store.transaction() as session:
            seen = await session.scalar(select(func.count()).select_from(Event))
            await events.record(session, "cli", data={"i": i, "seen": seen})
            await asyncio.sleep(0.002)
    await store.close()

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


async def bot_writes(store: Store, task: int) -> None:
    for i in range(ROUNDS):
        async with store.transaction() as session:
            seen = await session.scalar(select(func.count()).select_from(Event))
            await events.record(session, "bot", data={"task": task, "i": i, "seen": seen})
            await asyncio.sleep(0.002)


async def test_cli_and_bot_writing_at_once_both_wait_their_turn(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cli = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WRITER,
        sqlite_url,
        str(ROUNDS * 2),
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await asyncio.gather(*(bot_writes(store, task) for task in range(3)))
        _, errors = await cli.communicate()
        assert (cli.returncode, errors.decode()) == (0, "")
        async with store.transaction() as session:
            counts = dict(
                (await session.execute(select(Event.kind, func.count()).group_by(Event.kind))).all()
            )
    finally:
        await store.close()
    assert counts == {"bot": ROUNDS * 3, "cli": ROUNDS * 2}


async def test_a_transaction_cancelled_half_way_keeps_nothing_and_blocks_no_one(
    sqlite_url: str,
) -> None:
    """A task cancelled inside a transaction (a shutdown, a time-out) leaves neither its
    write nor an open transaction on the pooled connection for the next one."""
    store = Store(sqlite_url)
    wrote = asyncio.Event()

    async def cancelled_writer() -> None:
        async with store.transaction() as session:
            await events.record(session, "cancelled")
            wrote.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(cancelled_writer())
    await wrote.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    for i in range(3):  # the same pooled connection serves these
        async with store.transaction() as session:
            await events.record(session, "kept", data={"i": i})
    await store.close()
    other = Store(sqlite_url)  # what is in the file, seen by a fresh connection
    async with other.transaction() as session:
        kinds = list(await session.scalars(select(Event.kind).order_by(Event.id)))
    await other.close()
    assert kinds == ["kept", "kept", "kept"]


async def test_a_write_lock_held_too_long_fails_as_a_database_error_and_the_store_goes_on(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another connection (a CLI command's) keeping the write lock past busy_timeout:
    the transaction fails with SQLAlchemy's OperationalError (what callers catch),
    writes nothing, and the next one, once the lock is free, works on the same pooled
    connection."""
    monkeypatch.setattr(db, "BUSY_TIMEOUT", 0.2)
    store = Store(sqlite_url)
    async with store.transaction() as session:
        await events.record(session, "before")
    other = sqlite3.connect(sqlite_url.removeprefix("sqlite+aiosqlite:///"), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="database is locked"):
            async with store.transaction() as session:
                await events.record(session, "while locked")
        other.execute("ROLLBACK")
        async with store.transaction() as session:
            await events.record(session, "after")
        async with store.transaction() as session:
            kinds = list(await session.scalars(select(Event.kind).order_by(Event.id)))
    finally:
        other.close()
        await store.close()
    assert kinds == ["before", "after"]


async def test_transactions_cancelled_at_any_moment_even_while_beginning_block_no_one(
    sqlite_url: str,
) -> None:
    """A shutdown may cancel a transaction at any moment, also while its BEGIN is on its
    way to aiosqlite's thread: the next transactions still begin, and keep their writes."""
    store = Store(sqlite_url)

    async def writer() -> None:
        async with store.transaction() as session:
            await events.record(session, "cancelled")

    try:
        for moment in range(40):
            task = asyncio.create_task(writer())
            # From its first steps (BEGIN on its way) to a few milliseconds in.
            for _ in range(moment % 8):
                await asyncio.sleep(0)
            await asyncio.sleep(moment // 8 * 0.001)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            async with store.transaction() as session:
                await events.record(session, "kept", data={"after": moment})
        async with store.transaction() as session:
            kept = list(await session.scalars(select(Event.data).where(Event.kind == "kept")))
    finally:
        await store.close()
    assert [d["after"] for d in kept] == list(range(40))
