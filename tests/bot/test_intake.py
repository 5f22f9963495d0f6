"""The intake worker: stored updates handled in order, each marked once; an update
that keeps failing is set aside with its error, and the ones behind it go on."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from sqlalchemy import select
from telegram import Update

from bot.intake import MAX_ATTEMPTS, IntakeWorker, Pending, save
from handlers.core.events import Inbound
from storage import intake
from storage.db import Store
from storage.models import InboundUpdate

BOT = 7000000001


def message(update_id: int, chat: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private", "first_name": "Ewa"},
            "from": {"id": chat, "is_bot": False, "first_name": "Ewa"},
            "text": text,
        },
    }


async def rows(store: Store) -> list[InboundUpdate]:
    async with store.transaction() as session:
        return list(await session.scalars(select(InboundUpdate).order_by(InboundUpdate.id)))


async def test_updates_are_handled_in_order_and_a_poison_one_is_set_aside(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(database_url)
    seen: list[tuple[str, bool]] = []

    async def process(event: Inbound, ref: intake.UpdateRef, last_try: bool) -> None:
        seen.append((event.text or "", last_try))
        if event.text == "poison":
            raise RuntimeError("cannot handle this")
        async with store.transaction() as session:
            await intake.settle(session, ref)

    async with store.transaction() as session:
        updates = [message(1, 11, "first"), message(2, 11, "poison"), message(3, 12, "third")]
        await intake.store(session, bot_id=BOT, updates=[(u["update_id"], 11, u) for u in updates])
        # Telegram sending one again changes nothing.
        await intake.store(session, bot_id=BOT, updates=[(3, 12, message(3, 12, "third"))])
    worker = IntakeWorker(store, None, process, frozenset())
    task = asyncio.create_task(worker.run())
    try:
        with caplog.at_level(logging.WARNING, logger="bot.intake"):
            for _ in range(200):
                if all(r.handled_at is not None for r in await rows(store)):
                    break
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        stored = await rows(store)
        async with store.transaction() as session:
            offset = await intake.next_offset(session, bot_id=BOT, since=stored[0].received_at)
        await store.close()
    tries = [("poison", n == MAX_ATTEMPTS - 1) for n in range(MAX_ATTEMPTS)]
    assert seen == [("first", False), *tries, ("third", False)]
    assert [r.update_id for r in stored] == [1, 2, 3]
    first, poison, third = stored
    assert first.data == {} and first.chat_id is None and first.last_error is None
    assert poison.attempts == MAX_ATTEMPTS and "cannot handle this" in (poison.last_error or "")
    assert poison.data["message"]["text"] == "poison"  # kept to be looked into
    assert third.data == {}
    assert offset == 4
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "set aside" in error.getMessage()


async def test_an_update_stored_while_the_worker_starts_is_handled_once_after_older_ones(
    database_url: str,
) -> None:
    """Rows a stopped run left are read at start; a batch the poller commits meanwhile
    is handed over in memory: nothing twice, nothing out of order."""
    store = Store(database_url)
    seen: list[str] = []

    async def process(event: Inbound, ref: intake.UpdateRef, last_try: bool) -> None:
        seen.append(event.text or "")
        async with store.transaction() as session:
            assert await intake.settle(session, ref)

    async with store.transaction() as session:
        left = [message(1, 11, "left by the last run"), message(2, 12, "also left")]
        await intake.store(session, bot_id=BOT, updates=[(u["update_id"], 11, u) for u in left])
    worker = IntakeWorker(store, None, process, frozenset())
    new = message(3, 11, "new")
    # Committed before the worker's first read: both the read and the hand-over see it.
    stored = await save(store, BOT, [(Update.de_json(new, None), new)])
    again = await save(store, BOT, [(Update.de_json(new, None), new)])
    assert len(stored) == 1 and again == []  # Telegram sending it again stores nothing
    worker.accept(stored)
    task = asyncio.create_task(worker.run())
    try:
        for _ in range(200):
            if len(seen) >= 3 and all(r.handled_at is not None for r in await rows(store)):
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await store.close()
    assert seen == ["left by the last run", "also left", "new"]


def fresh(data: dict) -> Pending:
    """An update as the poller hands it over: parsed, not stored."""
    return Pending(BOT, data["update_id"], None, None, update=Update.de_json(data, None))


async def test_polled_updates_are_stored_by_their_handling_and_a_failed_one_with_its_content(
    database_url: str,
) -> None:
    """The poller confirms a batch once each update is handled or stored: a handled
    one is stored emptied in its handling's transaction, one whose handling failed is
    stored with its content to be tried again, and one Telegram sends again after it
    was handled is not handled twice."""
    store = Store(database_url)
    seen: list[tuple[str, bool]] = []
    content_at_retry: list[dict] = []

    async def process(event: Inbound, ref: intake.UpdateRef, last_try: bool) -> None:
        if event.text == "flaky" and ref.row_id is None:
            raise RuntimeError("the first try fails")
        if ref.row_id is not None:
            content_at_retry.extend(r.data for r in await rows(store) if r.id == ref.row_id)
        async with store.transaction() as session:
            seen.append((event.text or "", await intake.settle(session, ref)))

    worker = IntakeWorker(store, None, process, frozenset())
    task = asyncio.create_task(worker.run())
    try:
        batch = [message(1, 11, "first"), message(2, 12, "flaky"), message(3, 11, "third")]
        await asyncio.wait_for(worker.accept([fresh(u) for u in batch]), 30)
        stored = await rows(store)
        await asyncio.wait_for(worker.accept([fresh(message(1, 11, "first"))]), 30)
        again = await rows(store)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await store.close()
    assert seen == [("first", True), ("flaky", True), ("third", True), ("first", False)]
    assert [r.update_id for r in stored] == [1, 2, 3]
    assert all(r.handled_at is not None and r.data == {} for r in stored)
    [flaky] = [r for r in stored if r.update_id == 2]
    assert flaky.attempts == 1 and "the first try fails" in (flaky.last_error or "")
    assert content_at_retry[0]["message"]["text"] == "flaky"
    assert len(again) == 3
