"""The outbox sender: delivers queued messages once, in order, within limits.

Each channel has a `Transport` (Telegram, terminal, and later e-mail); tests
may swap in a recorder. A row is marked `sending` in one transaction and
`sent` in the next, so a killed process repeats at most the one message whose
API call was in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.errors import PermanentFailure, RecipientGone, RetryLater
from storage import events, outbox, residents
from storage.db import Store
from storage.outbox import Claimed

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# Rows claimed per round; chats in a round are served concurrently.
BATCH = 100
# How often delivered messages are recorded as sent (seconds).
RECORD_EVERY = 0.01
# How often a busy sender looks for due rows besides the replies handed to it (seconds).
STORE_CHECK_EVERY = 0.5


class Transport(Protocol):
    channel: str

    async def deliver(self, recipient: str, payload: dict[str, Any]) -> str | None:
        """Send one message or raise a `bot.errors.DeliveryError`.

        Returns the channel's id of the message when it has one (to edit it later).
        """


class Pacer:
    """Spaces sends to at most `rate` per second overall (0 = no limit), and bulk
    messages to at most one per `per_chat` seconds to the same chat."""

    def __init__(self, rate: float, *, per_chat: float = 1.0) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.per_chat = per_chat
        self._next = 0.0
        self._chat_next: dict[str, float] = {}
        self.paused_until = 0.0

    async def wait(self, recipient: str = "", *, bulk: bool = False) -> None:
        now = time.monotonic()
        start = max(now, self._next, self.paused_until)
        if bulk and recipient:
            start = max(start, self._chat_next.get(recipient, 0.0))
        # The slot is taken before sleeping, so concurrent senders line up behind it.
        self._next = start + self.interval
        if recipient:
            self._chat_next[recipient] = start + self.per_chat
            if len(self._chat_next) > 50_000:
                self._forget_old_chats()
        if start > now:
            await asyncio.sleep(start - now)
        late = self.paused_until - time.monotonic()
        if late > 0:  # a RetryAfter came while this send waited for its slot
            await asyncio.sleep(late)

    def _forget_old_chats(self) -> None:
        now = time.monotonic()
        self._chat_next = {k: v for k, v in self._chat_next.items() if v > now}

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)


def backoff(attempt: int) -> float:
    return float(min(2 ** max(attempt - 1, 0) * 5, 3600))


class OutboxSender:
    def __init__(
        self,
        store: Store,
        transports: Mapping[str, Transport],
        *,
        rate: float = 0.0,
        on_permanent_failure: Callable[[Claimed, str], Awaitable[None]] | None = None,
        concurrency: int = 8,
    ) -> None:
        self.store = store
        self.concurrency = concurrency
        self._delivered: list[tuple[int, str | None]] = []
        self.transports = dict(transports)
        self.pacer = Pacer(rate)
        # Told when a message is refused for good (e.g. SMTP 5xx), to alert coordinators.
        self.on_permanent_failure = on_permanent_failure
        self._wake = asyncio.Event()
        # Rows committed as already claimed for this sender (`take`), and whether
        # the store may hold due rows that must be claimed (`wake`, a timer).
        self._handed: list[Claimed] = []
        self._check_store = True
        self._store_checked = 0.0
        self._running = False

    def wake(self) -> None:
        """Something was queued in the store: claim it."""
        self._check_store = True
        self._wake.set()

    @property
    def taking(self) -> bool:
        return self._running

    def take(self, messages: Sequence[Claimed]) -> None:
        """Deliver rows a handler committed as claimed for this sender (no claim needed).

        Should the process die first, they are `sending` in the store, and the next
        run re-queues them like any message left in flight.
        """
        self._handed.extend(messages)
        self._wake.set()

    async def recover(self) -> None:
        async with self.store.transaction() as session:
            released = await outbox.release_inflight(session)
        if released:
            log.warning("re-queued %d message(s) left in flight by a previous run", released)

    async def drain(self) -> int:
        """Deliver everything due now; returns how many messages were sent.

        Different chats are served concurrently (up to `concurrency` at a time);
        one chat's messages go one after another, in queue order, and each is
        recorded as sent as soon as its own call returns.
        """
        self._check_store = True
        return await self._drain()

    async def _drain(self) -> int:
        sent = 0
        while True:
            claimed, self._handed = self._handed, []
            full = False
            # Handed-over replies need no claim; the store is asked when woken for
            # it, and every so often anyway (retries come due while replies flow).
            if self._check_store or time.monotonic() >= self._store_checked + STORE_CHECK_EVERY:
                self._check_store = False
                self._store_checked = time.monotonic()
                async with self.store.transaction() as session:
                    batch = await outbox.claim_due(
                        session, channels=list(self.transports), limit=BATCH
                    )
                full = len(batch) == BATCH
                self._check_store = full
                # Queue order: replies before bulk, then by id (a chat's own order).
                claimed = sorted(
                    claimed + [Claimed.of(m) for m in batch], key=lambda m: (m.priority, m.id)
                )
            if not claimed:
                return sent
            chats: dict[tuple[str, str], list[Claimed]] = {}
            for message in claimed:
                chats.setdefault((message.channel, message.recipient), []).append(message)
            gate = asyncio.Semaphore(self.concurrency)
            # Stopped by an event, never cancelled: a task cancelled inside a
            # transaction can leave its SQLite connection holding the write lock.
            stop = asyncio.Event()
            recorder = asyncio.create_task(self._record_deliveries(stop))
            try:
                counts = await asyncio.gather(*(self._serve_chat(gate, m) for m in chats.values()))
            finally:
                stop.set()
                await recorder
            sent += sum(counts)
            if not full and not self._handed:
                # Everything due was in this batch; whatever was queued meanwhile
                # woke the sender, which comes straight back (see `run`).
                return sent

    async def _record_deliveries(self, stop: asyncio.Event) -> None:
        """Write deliveries down every few milliseconds, many rows per transaction.

        One transaction per message would make the store the bottleneck; waiting
        longer would widen the window in which a killed process has delivered a
        message without recording it (and sends it again after a restart).
        """
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(RECORD_EVERY):
                    await stop.wait()
            await self._flush_delivered()
        # Deliveries that finished while the last flush was writing would
        # otherwise stay `sending` until some later batch.
        await self._flush_delivered()

    async def _flush_delivered(self) -> None:
        if not self._delivered:
            return
        delivered, self._delivered = self._delivered, []
        async with self.store.transaction() as session:
            await outbox.mark_sent_many(session, delivered)

    async def _serve_chat(self, gate: asyncio.Semaphore, messages: list[Claimed]) -> int:
        async with gate:
            for index, message in enumerate(messages):
                if not await self._deliver_one(message):
                    # Later messages to this chat must wait for the one that failed.
                    for later in messages[index + 1 :]:
                        await self._requeue(later.id, 0.5)
                    return index
            return len(messages)

    async def _requeue(self, message_id: int, delay: float) -> None:
        async with self.store.transaction() as session:
            await outbox.mark_retry(
                session, message_id, delay=timedelta(seconds=delay), error="held behind earlier"
            )

    async def _deliver_one(self, message: Claimed) -> bool:
        transport = self.transports[message.channel]
        await self.pacer.wait(f"{message.channel}:{message.recipient}", bulk=message.priority > 0)
        try:
            external_id = await transport.deliver(message.recipient, message.payload)
        except RetryLater as error:
            if error.flood_control:
                self.pacer.pause(error.delay)
            async with self.store.transaction() as session:
                if message.attempts >= MAX_ATTEMPTS and not error.flood_control:
                    await outbox.mark_failed(session, message.id, error=str(error))
                else:
                    delay = (
                        error.delay
                        if error.flood_control
                        else max(error.delay, backoff(message.attempts))
                    )
                    await outbox.mark_retry(
                        session, message.id, delay=timedelta(seconds=delay), error=str(error)
                    )
            log.info("message %s postponed: %s", message.id, error)
            return False
        except RecipientGone as error:
            async with self.store.transaction() as session:
                await outbox.mark_failed(session, message.id, error=str(error))
                if message.resident_id is not None:
                    await residents.mark_blocked(session, resident_id=message.resident_id)
                    await events.record(session, "blocked_bot", resident_id=message.resident_id)
            log.info("message %s: recipient gone (%s)", message.id, error)
            return False
        except PermanentFailure as error:
            async with self.store.transaction() as session:
                await outbox.mark_failed(session, message.id, error=str(error))
            log.error("message %s refused for good: %s", message.id, error)
            if self.on_permanent_failure is not None:
                await self.on_permanent_failure(message, str(error))
            return False
        self._delivered.append((message.id, external_id))
        return True

    async def run(self, *, idle_seconds: float = 5.0) -> None:
        """Deliver until cancelled; woken at once when a handler queues something."""
        await self.recover()
        self._running = True
        try:
            while True:
                # Cleared before draining, so a wake-up during the drain is not lost.
                self._wake.clear()
                try:
                    await self._drain()
                except Exception:
                    log.exception("outbox sender failed; retrying shortly")
                    self._check_store = True
                    await asyncio.sleep(1)
                if self._wake.is_set():
                    continue  # more was queued while draining
                timeout = await self._until_next_due(idle_seconds)
                # asyncio.timeout, not wait_for: in 3.11 wait_for can swallow a cancel
                # that arrives as its timeout fires, and shutdown would hang here.
                try:
                    async with asyncio.timeout(timeout):
                        await self._wake.wait()
                except TimeoutError:
                    self._check_store = True  # a retry or a scheduled message is due
        finally:
            self._running = False

    async def _until_next_due(self, idle_seconds: float) -> float:
        async with self.store.transaction() as session:
            due = await outbox.next_due_at(session, channels=list(self.transports))
        if due is None:
            return idle_seconds
        wait = (due - datetime.now(UTC)).total_seconds()
        return min(max(wait, 0.05), idle_seconds)
