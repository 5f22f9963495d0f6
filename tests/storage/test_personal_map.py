"""The personal-data map names every table and column of the migrated schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from storage.db import Store
from storage.migrate import upgrade_async
from storage.personal_map import MAP, Forget, kept, personal_columns
from tests.servers.postgres import ThrowawayDatabase


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store of its own: the session's PostgreSQL database has other tests' tables."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/lokalnie.db"
        return
    with ThrowawayDatabase(request.getfixturevalue("postgres_db").server) as database:
        yield database.url


async def test_every_table_and_column_of_the_schema_is_in_the_map(fresh_url: str) -> None:
    await upgrade_async(fresh_url)
    store = Store(fresh_url)
    async with store.engine.connect() as connection:
        schema = await connection.run_sync(
            lambda c: {
                t: {col["name"] for col in inspect(c).get_columns(t)}
                for t in inspect(c).get_table_names()
            }
        )
    await store.close()
    mapped = {name: set(table.columns) for name, table in MAP.items()}
    assert set(schema) - set(mapped) == set(), "tables missing from the map"
    assert set(mapped) - set(schema) == set(), "the map names tables that do not exist"
    for name, columns in schema.items():
        assert columns - mapped[name] == set(), f"{name}: columns missing from the map"
        assert mapped[name] - columns == set(), f"{name}: the map names columns that do not exist"


def test_what_forget_keeps_has_a_reason() -> None:
    for table, column, how in personal_columns():
        if how.forget is Forget.KEEP:
            assert how.reason, f"{table}.{column} is kept without a reason"
    reasons = {(t, c) for t, c, _ in kept()}
    assert ("proposals", "answers") in reasons and ("proposals", "budget") in reasons
