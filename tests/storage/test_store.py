"""The store keeps working when PostgreSQL restarts under it, and opens SQLite files
it did not make."""

from __future__ import annotations

import asyncio
import sqlite3

from sqlalchemy import select, text

from storage import events
from storage.db import PAGE_SIZE, Store
from storage.models import Event


async def test_store_carries_on_after_postgresql_dropped_its_connections(pg_url: str) -> None:
    store = Store(pg_url)
    async with store.transaction() as session:
        await events.record(session, "before")
    # What a server restart does to the pooled connections.
    other = Store(pg_url)
    async with other.engine.connect() as connection:
        dropped = await connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    await other.close()
    assert dropped >= 1
    await asyncio.sleep(0.2)
    async with store.transaction() as session:
        await events.record(session, "after")
    async with store.transaction() as session:
        kinds = list(await session.scalars(select(Event.kind).order_by(Event.id)))
    await store.close()
    assert kinds == ["before", "after"]


async def test_a_sqlite_file_made_with_other_pages_keeps_them_and_its_rows(tmp_path) -> None:
    """New files get `PAGE_SIZE` pages; a file an earlier version made with SQLite's
    default pages opens as it is, in WAL mode, and its rows stay readable."""
    old_file = tmp_path / "old.db"
    with sqlite3.connect(old_file) as old:
        old.execute("PRAGMA page_size=4096")
        old.execute("CREATE TABLE notes (body TEXT)")
        old.execute("INSERT INTO notes VALUES ('zażółć')")
    new = Store(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    kept = Store(f"sqlite+aiosqlite:///{old_file}")
    try:
        async with new.transaction() as session:
            await session.execute(text("CREATE TABLE notes (body TEXT)"))
        async with new.engine.connect() as connection:
            assert await connection.scalar(text("PRAGMA page_size")) == PAGE_SIZE
        async with kept.transaction() as session:
            await session.execute(text("INSERT INTO notes VALUES ('gęślą')"))
        async with kept.engine.connect() as connection:
            assert await connection.scalar(text("PRAGMA page_size")) == 4096
            assert await connection.scalar(text("PRAGMA journal_mode")) == "wal"
            bodies = list(await connection.scalars(text("SELECT body FROM notes")))
        assert bodies == ["zażółć", "gęślą"]
    finally:
        await new.close()
        await kept.close()
