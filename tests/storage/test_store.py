"""The store keeps working when PostgreSQL restarts under it."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, text

from storage import events
from storage.db import Store
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
