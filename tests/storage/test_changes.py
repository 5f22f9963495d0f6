"""The change watcher hears a commit made through another engine (another process's
view of the store), on SQLite and PostgreSQL, and keeps hearing after its connection
is cut."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from storage import schedule
from storage.changes import CHANNEL, ChangeWatcher, announce
from storage.db import Store
from tests.e2e.conftest import wait_until


async def queue_broadcast(url: str) -> None:
    """What `lokalnie broadcast send` does, through an engine of its own."""
    other = Store(url)
    try:
        async with other.transaction() as session:
            await schedule.create_broadcast(
                session,
                created_by=None,
                text="x",
                audience="subscribers",
                scheduled_at=datetime.now(UTC),
            )
            await announce(session)
    finally:
        await other.close()


@contextlib.asynccontextmanager
async def watching(url: str, **options: float):  # noqa: ANN201
    store = Store(url)
    heard: list[int] = []
    watcher = ChangeWatcher(store, lambda: heard.append(1), poll_every=0.1, **options)
    task = asyncio.create_task(watcher.run())
    try:
        yield store, heard
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await store.close()


async def test_watcher_hears_another_engines_commit(database_url: str) -> None:
    async with watching(database_url) as (_, heard):
        await asyncio.sleep(0.5)  # connected and listening
        assert heard == []
        await queue_broadcast(database_url)
        await wait_until(lambda: heard, timeout=10)


async def test_watcher_ignores_commits_that_announce_nothing(database_url: str) -> None:
    """The bot's own busy writes (answers, outbox rows) cause no replans; a CLI
    change, which announces, still does."""
    async with watching(database_url) as (store, heard):
        await asyncio.sleep(0.5)
        for _ in range(3):
            async with store.transaction() as session:
                await schedule.create_broadcast(
                    session,
                    created_by=None,
                    text="y",
                    audience="subscribers",
                    scheduled_at=datetime.now(UTC),
                )
            await asyncio.sleep(0.2)  # two polls after each commit
        assert heard == []
        await queue_broadcast(database_url)
        await wait_until(lambda: heard, timeout=10)


@pytest.mark.slow
async def test_watcher_listens_again_after_its_connection_is_cut(pg_url: str) -> None:
    async with watching(pg_url, retry_every=0.2) as (store, heard):
        await asyncio.sleep(0.5)
        async with store.transaction() as session:
            await session.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE :listen AND pid <> pg_backend_pid()"
                ),
                {"listen": f"%LISTEN%{CHANNEL}%"},
            )
        # The reconnect itself reports a change (one may have been missed).
        await wait_until(lambda: heard, timeout=10)
        heard.clear()
        await asyncio.sleep(0.5)
        await queue_broadcast(pg_url)
        await wait_until(lambda: heard, timeout=10)
