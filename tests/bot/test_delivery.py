"""The outbox sender: order, retries, blocked recipients, recovery after a crash."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.delivery import OutboxSender
from bot.errors import PermanentFailure, RecipientGone, RetryLater
from storage import outbox, residents
from storage.db import Store
from storage.models import OutboxMessage, Resident
from storage.outbox import Claimed


class ScriptedTransport:
    """Records deliveries; raises the scripted errors first."""

    channel = "telegram"

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.delivered: list[tuple[str, str]] = []

    async def deliver(self, recipient: str, payload: dict[str, Any]) -> str | None:
        if self.errors:
            raise self.errors.pop(0)
        self.delivered.append((recipient, payload["text"]))
        return None


async def queue(store: Store, *messages: tuple[str, str], resident_id: int | None = None) -> None:
    async with store.transaction() as session:
        for recipient, text in messages:
            await outbox.enqueue(
                session,
                channel="telegram",
                recipient=recipient,
                payload={"text": text},
                idempotency_key=f"{recipient}:{text}",
                resident_id=resident_id,
            )


async def rows(store: Store) -> list[OutboxMessage]:
    async with store.transaction() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_sender_delivers_in_queue_order_once(database_url: str) -> None:
    store = Store(database_url)
    transport = ScriptedTransport()
    await queue(store, ("1", "a"), ("2", "b"), ("1", "c"))
    sender = OutboxSender(store, {"telegram": transport})
    assert await sender.drain() == 3
    assert await sender.drain() == 0
    # Chats are served side by side; each chat's messages keep their order.
    assert [m for m in transport.delivered if m[0] == "1"] == [("1", "a"), ("1", "c")]
    assert sorted(transport.delivered) == [("1", "a"), ("1", "c"), ("2", "b")]
    assert {r.status for r in await rows(store)} == {"sent"}
    await store.close()


async def test_sender_same_key_is_queued_once(database_url: str) -> None:
    store = Store(database_url)
    await queue(store, ("1", "a"))
    await queue(store, ("1", "a"))
    assert len(await rows(store)) == 1
    await store.close()


async def test_sender_retry_later_holds_the_chat_and_keeps_order(database_url: str) -> None:
    store = Store(database_url)
    transport = ScriptedTransport(RetryLater("busy", delay=0))
    await queue(store, ("1", "first"), ("1", "second"), ("2", "other"))
    sender = OutboxSender(store, {"telegram": transport})
    await sender.drain()
    # The failed first message held back the second one to the same chat.
    assert transport.delivered == [("2", "other")]
    async with store.transaction() as session:
        await session.execute(
            OutboxMessage.__table__.update().values(next_attempt_at=OutboxMessage.created_at)
        )
    await sender.drain()
    assert transport.delivered == [("2", "other"), ("1", "first"), ("1", "second")]
    await store.close()


async def test_sender_recipient_gone_marks_resident_blocked(database_url: str) -> None:
    store = Store(database_url)
    async with store.transaction() as session:
        resident = await residents.create_with_consent(
            session, telegram_id=55, name="Ola", language="pl"
        )
    await queue(store, ("55", "hello"), resident_id=resident.id)
    sender = OutboxSender(store, {"telegram": ScriptedTransport(RecipientGone("blocked"))})
    await sender.drain()
    async with store.transaction() as session:
        blocked = await session.scalar(select(Resident.blocked).where(Resident.id == resident.id))
    assert blocked is True
    assert [r.status for r in await rows(store)] == ["failed"]
    await store.close()


async def test_sender_permanent_failure_is_not_retried(database_url: str) -> None:
    store = Store(database_url)
    transport = ScriptedTransport(PermanentFailure("bad request"))
    await queue(store, ("1", "x"))
    sender = OutboxSender(store, {"telegram": transport})
    await sender.drain()
    await sender.drain()
    [row] = await rows(store)
    assert row.status == "failed" and row.attempts == 1 and row.last_error == "bad request"
    await store.close()


async def test_sender_recover_requeues_rows_left_in_flight(database_url: str) -> None:
    store = Store(database_url)
    await queue(store, ("1", "x"))
    async with store.transaction() as session:
        await outbox.claim_due(session, channels=["telegram"])  # then the process "died"
    transport = ScriptedTransport()
    sender = OutboxSender(store, {"telegram": transport})
    assert await sender.drain() == 0
    await sender.recover()
    assert await sender.drain() == 1
    assert transport.delivered == [("1", "x")]
    await store.close()


@pytest.mark.slow
async def test_sender_reply_overtakes_bulk_queued_earlier(database_url: str) -> None:
    store = Store(database_url)
    async with store.transaction() as session:
        await outbox.enqueue_many(
            session,
            [outbox.Outgoing("telegram", "1", {"text": f"bulk {i}"}, f"b{i}") for i in range(3)],
            priority=1,
        )
    await queue(store, ("1", "reply"))
    transport = ScriptedTransport()
    sender = OutboxSender(store, {"telegram": transport}, concurrency=1)
    assert await sender.drain() == 4
    assert transport.delivered == [
        ("1", "reply"),
        ("1", "bulk 0"),
        ("1", "bulk 1"),
        ("1", "bulk 2"),
    ]
    await store.close()


async def test_enqueue_many_skips_keys_queued_before_and_keeps_order(database_url: str) -> None:
    store = Store(database_url)
    await queue(store, ("2", "b"))  # key "2:b"
    messages = [
        outbox.Outgoing("telegram", recipient, {"text": text}, f"{recipient}:{text}")
        for recipient, text in [("1", "a"), ("2", "b"), ("1", "c")]
    ]
    async with store.transaction() as session:
        await outbox.enqueue_many(session, messages, priority=1, broadcast_id=9)
    async with store.transaction() as session:
        await outbox.enqueue_many(session, messages, priority=1, broadcast_id=9)
    queued = await rows(store)
    assert [(r.recipient, r.payload["text"], r.broadcast_id) for r in queued] == [
        ("2", "b", None),
        ("1", "a", 9),
        ("1", "c", 9),
    ]
    await store.close()


class ParkedTransport(ScriptedTransport):
    """Holds every delivery until released, like a Bot API call in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    async def deliver(self, recipient: str, payload: dict[str, Any]) -> str | None:
        self.started.set()
        await self.release.wait()
        return await super().deliver(recipient, payload)


async def wait_for_statuses(store: Store, wanted: list[str]) -> None:
    for _ in range(500):
        if [r.status for r in await rows(store)] == wanted:
            return
        await asyncio.sleep(0.01)


async def test_running_sender_woken_after_a_commit_delivers_once(database_url: str) -> None:
    store = Store(database_url)
    transport = ScriptedTransport()
    sender = OutboxSender(store, {"telegram": transport})
    task = asyncio.create_task(sender.run(idle_seconds=60))
    await queue(store, ("1", "a"), ("1", "b"))
    sender.wake()  # what `services.on_outbox_written()` does after a handler's commit
    await wait_for_statuses(store, ["sent", "sent"])
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert transport.delivered == [("1", "a"), ("1", "b")]
    assert [r.status for r in await rows(store)] == ["sent", "sent"]
    await store.close()


async def claimed_reply(store: Store, recipient: str, text: str) -> list[Claimed]:
    """What a handler's transaction writes for the running sender (handlers/core/entry.py)."""
    async with store.transaction() as session:
        claimed = await outbox.enqueue_claimed(
            session, outbox.Outgoing("telegram", recipient, {"text": text}, f"{recipient}:{text}")
        )
    assert claimed is not None and claimed.attempts == 1
    return [claimed]


async def test_replies_handed_over_claimed_are_delivered_once(database_url: str) -> None:
    store = Store(database_url)
    transport = ScriptedTransport()
    sender = OutboxSender(store, {"telegram": transport})
    assert not sender.takes("telegram")  # not running: a handler queues replies as pending
    task = asyncio.create_task(sender.run(idle_seconds=60))
    for _ in range(100):
        if sender.takes("telegram"):
            break
        await asyncio.sleep(0.01)
    assert sender.takes("telegram") and not sender.takes("email")
    sender.take(await claimed_reply(store, "1", "a"))
    sender.take(await claimed_reply(store, "1", "b"))
    await wait_for_statuses(store, ["sent", "sent"])
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not sender.takes("telegram")
    assert transport.delivered == [("1", "a"), ("1", "b")]
    assert [r.attempts for r in await rows(store)] == [1, 1]
    await store.close()


@pytest.mark.parametrize("how", ["queued", "handed over claimed"])
async def test_reply_in_flight_when_the_sender_stops_is_sent_once_by_the_next_run(
    database_url: str, how: str
) -> None:
    store = Store(database_url)
    held = ParkedTransport()
    first = OutboxSender(store, {"telegram": held})
    task = asyncio.create_task(first.run(idle_seconds=60))
    if how == "queued":
        await queue(store, ("1", "a"))
        first.wake()
    else:
        first.take(await claimed_reply(store, "1", "a"))
    await asyncio.wait_for(held.started.wait(), 5)
    task.cancel()  # the process goes away while the call is held: nothing was sent
    with pytest.raises(asyncio.CancelledError):
        await task
    transport = ScriptedTransport()
    second = OutboxSender(store, {"telegram": transport})
    await second.recover()
    assert await second.drain() == 1
    assert held.delivered == [] and transport.delivered == [("1", "a")]
    assert [r.status for r in await rows(store)] == ["sent"]
    await store.close()


async def test_busy_sender_still_sends_a_message_that_comes_due(database_url: str) -> None:
    """Replies queued all the time must not keep a row that comes due waiting."""
    store = Store(database_url)
    transport = ScriptedTransport()
    async with store.transaction() as session:
        await outbox.enqueue(
            session,
            channel="telegram",
            recipient="9",
            payload={"text": "later"},
            idempotency_key="later",
            not_before=datetime.now(UTC) + timedelta(seconds=0.3),
        )
    sender = OutboxSender(store, {"telegram": transport})
    task = asyncio.create_task(sender.run())
    for n in range(500):
        if ("9", "later") in transport.delivered[:-1]:
            break  # and a reply went out after it
        await queue(store, ("1", f"reply {n}"))
        sender.wake()
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ("9", "later") in transport.delivered
    # It went out while the replies were still flowing, not once they stopped.
    later = transport.delivered.index(("9", "later"))
    assert later > 0 and transport.delivered[-1][0] == "1"
    await store.close()


async def test_sender_for_one_recipient_leaves_other_chats_queued(database_url: str) -> None:
    """A terminal session shows its own person's messages and leaves the others' queued."""
    store = Store(database_url)
    transport = ScriptedTransport()
    await queue(store, ("1", "for one"), ("2", "for two"))
    sender = OutboxSender(store, {"telegram": transport}, recipient="2")
    assert await sender.drain() == 1
    assert transport.delivered == [("2", "for two")]
    assert [r.status for r in await rows(store)] == ["pending", "sent"]
    await store.close()
