"""The schema: Alembic migrations on both stores, SQLite tuned for one writer."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text

from storage import events
from storage.db import Store
from storage.migrate import alembic_config, upgrade_async
from storage.models import Event
from storage.registry import metadata


async def test_migrations_match_models_on_each_store(database_url: str) -> None:
    await upgrade_async(database_url)  # a second upgrade is a no-op
    store = Store(database_url)
    async with store.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        columns = await connection.run_sync(
            lambda c: {t: {col["name"] for col in inspect(c).get_columns(t)} for t in tables}
        )
        # PostgreSQL lists a unique constraint's own index too: that is not an index
        # the models declare.
        indexes = await connection.run_sync(
            lambda c: {
                t: {
                    ix["name"]
                    for ix in inspect(c).get_indexes(t)
                    if not ix.get("duplicates_constraint")
                }
                for t in tables
            }
        )
    dialect = store.engine.dialect.name
    await store.close()
    if dialect == "sqlite":  # the session's PostgreSQL database has other tests' tables
        # Every table the migrations make has its model registered.
        assert tables - {"alembic_version"} == set(metadata.tables)
    for table in metadata.sorted_tables:
        assert columns[table.name] == {c.name for c in table.columns}
        assert indexes[table.name] == {ix.name for ix in table.indexes}, table.name


async def test_sqlite_store_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/new/lokalnie.db"
    await upgrade_async(url)
    store = Store(url)
    async with store.engine.connect() as connection:
        journal = await connection.scalar(text("PRAGMA journal_mode"))
        foreign_keys = await connection.scalar(text("PRAGMA foreign_keys"))
    await store.close()
    assert (journal, foreign_keys) == ("wal", 1)


async def test_sqlite_store_waits_for_another_process_write_without_freezing(
    tmp_path: Path,
) -> None:
    """A CLI command writing meanwhile: the bot's write waits, the bot keeps running."""
    url = f"sqlite+aiosqlite:///{tmp_path}/lokalnie.db"
    await upgrade_async(url)
    store = Store(url)
    other = sqlite3.connect(tmp_path / "lokalnie.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO events (at, kind, data) VALUES ('2026-01-01 00:00:00', 'cli', '{}')")

    async def bot_write() -> None:
        async with store.transaction() as session:
            await events.record(session, "bot")

    write = asyncio.create_task(bot_write())
    ticks = 0
    for _ in range(20):  # the loop keeps turning while the other writer holds the lock
        await asyncio.sleep(0.01)
        ticks += 1
    assert ticks == 20 and not write.done()
    other.execute("COMMIT")
    await asyncio.wait_for(write, 10)
    async with store.transaction() as session:
        kinds = set(await session.scalars(select(Event.kind)))
    other.close()
    await store.close()
    assert kinds == {"cli", "bot"}


async def test_postgresql_mail_texts_compressed_with_lz4_where_the_server_has_it(
    pg_url: str,
) -> None:
    store = Store(pg_url)
    async with store.engine.connect() as connection:
        try:
            await connection.execute(text("SET default_toast_compression = 'lz4'"))
            expected = "l"
        except Exception:  # noqa: BLE001 - a server built without lz4
            await connection.rollback()
            expected = ""
        found = await connection.execute(
            text(
                "SELECT attname, attcompression::text FROM pg_attribute "
                "WHERE attrelid = 'mail_messages'::regclass "
                "AND attname IN ('text', 'html', 'raw', 'subject')"
            )
        )
        methods = dict(found.all())
    await store.close()

    assert methods == {"text": expected, "html": expected, "raw": expected, "subject": ""}


def test_migration_scripts_have_one_head() -> None:
    """Parallel migrations are joined by a merge revision, so `upgrade head` is defined."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://"))
    assert len(scripts.get_heads()) == 1, scripts.get_heads()


def test_models_import_no_query_module() -> None:
    """The models depend on nothing above them, so no query module can make a cycle."""
    probe = (
        "import sys, storage.models;"
        "print(sorted(m for m in sys.modules if m.startswith('storage.')"
        " and not m.startswith('storage.models')))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert found.stdout.strip() == "['storage.types']"
