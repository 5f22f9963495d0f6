"""The schema: Alembic migrations on both stores, SQLite tuned for one writer."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from storage.db import Store
from storage.migrate import upgrade_async
from storage.models import Base


async def test_migrations_match_models_on_each_store(database_url: str) -> None:
    await upgrade_async(database_url)  # a second upgrade is a no-op
    store = Store(database_url)
    async with store.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        columns = await connection.run_sync(
            lambda c: {t: {col["name"] for col in inspect(c).get_columns(t)} for t in tables}
        )
    await store.close()
    for table in Base.metadata.sorted_tables:
        assert table.name in tables
        assert columns[table.name] == {c.name for c in table.columns}


async def test_sqlite_store_uses_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/new/lokalnie.db"
    await upgrade_async(url)
    store = Store(url)
    async with store.engine.connect() as connection:
        journal = await connection.scalar(text("PRAGMA journal_mode"))
        timeout = await connection.scalar(text("PRAGMA busy_timeout"))
        foreign_keys = await connection.scalar(text("PRAGMA foreign_keys"))
    await store.close()
    assert (journal, foreign_keys) == ("wal", 1)
    assert timeout >= 5000
