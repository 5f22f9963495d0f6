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
from collections.abc import Awaitable, Callable, Mapping
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


class Transport(Protocol):
    channel: str

    async def deliver(self, recipient: str, payload: dict[str, Any]) -> str | None:
        """Send one message or raise a `bot.errors.DeliveryError`.

        Returns the channel's id of the message when it has one (to edit it later).
        """


class Pacer:
    """About `rate` sends a second overall (0 = no limit), and bulk messages at most
    one per `per_chat` seconds to the same chat.

    A token bucket holding a second's worth of sends, refilled at `rate`: the model
    python-telegram-bot's own rate limiter uses for Telegram's "about 30 messages per
    second". Sends keep to the rate on average; a moment nobody sends in is not lost,
    so replies arriving unevenly just under the cap rarely wait, where a strict
    one-second window makes a good share of them wait up to a second. Should
    Telegram still answer 429, its retry_after pauses every send (`pause`).
    """

    def __init__(
        self,
        rate: float,
        *,
        per_chat: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = max(rate, 0.0)
        self.capacity = max(1.0, self.rate)
        self.per_chat = per_chat
        self.clock = clock
        self.sleep = sleep
        self._tokens = self.capacity
        self._filled_at = clock()
        self._chat_next: dict[str, float] = {}
        self.paused_until = 0.0

    async def wait(self, recipient: str = "", *, bulk: bool = False) -> None:
        while True:
            now = self.clock()
            start = max(now, self.paused_until)
            if bulk and recipient:
                start = max(start, self._chat_next.get(recipient, 0.0))
            if self.rate:
                self._refill(now)
                if self._tokens < 1.0:
                    start = max(start, now + (1.0 - self._tokens) / self.rate)
            if start <= now:
                break
            await self.sleep(start - now)
        # No await since the check: the send is counted before anyone else looks.
        if self.rate:
            self._tokens -= 1.0
        if recipient:
            self._chat_next[recipient] = now + self.per_chat
            if len(self._chat_next) > 50_000:
                self._forget_old_chats()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._filled_at) * self.rate)
        self._filled_at = now

    def _forget_old_chats(self) -> None:
        now = self.clock()
        self._chat_next = {k: v for k, v in self._chat_next.items() if v > now}

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.clock() + seconds)


def backoff(attempt: int) -> float:
    return float(min(2 ** max(attempt - 1, 0) * 5, 3600))


class OutboxSender:
    """Claims due rows in queue order and delivers them; woken when rows are queued.

    Each chat with claimed rows has one worker delivering them in order; up to
    `concurrency` chats are served at a time. The sender claims again whenever it
    is woken, also while workers are busy, so a new reply joins the chats being
    served instead of waiting for a whole batch to finish.
    """

    def __init__(
        self,
        store: Store,
        transports: Mapping[str, Transport],
        *,
        rate: float = 0.0,
        on_permanent_failure: Callable[[Claimed, str], Awaitable[None]] | None = None,
        concurrency: int = 8,
        recipient: str | None = None,
    ) -> None:
        self.store = store
        self.transports = dict(transports)
        # Only this recipient's rows (a terminal session shows its own person's chat).
        self.recipient = recipient
        self.pacer = Pacer(rate)
        # Told when a message is refused for good (e.g. SMTP 5xx), to alert coordinators.
        self.on_permanent_failure = on_permanent_failure
        self._wake = asyncio.Event()
        self._gate = asyncio.Semaphore(concurrency)
        # Claimed rows not delivered yet, per chat, and the chat's worker.
        self._queues: dict[tuple[str, str], list[Claimed]] = {}
        self._workers: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._held = 0
        self._sent = 0
        self._next_due: datetime | None = None
        self._running = False

    def wake(self) -> None:
        """Something was queued in the store: claim it."""
        self._wake.set()

    def takes(self, channel: str) -> bool:
        """Whether a handler may hand this sender its replies already claimed: while
        it runs, for a channel it delivers (and not when it serves only one chat)."""
        return self._running and self.recipient is None and channel in self.transports

    def take(self, replies: list[Claimed]) -> None:
        """Committed rows already claimed by a handler: delivered like claimed ones,
        without a claiming transaction of their own."""
        self._hand_out(replies)

    async def recover(self) -> None:
        async with self.store.transaction() as session:
            released = await outbox.release_inflight(session)
        if released:
            log.warning("re-queued %d message(s) left in flight by a previous run", released)

    async def drain(self) -> int:
        """Deliver everything due now; returns how many messages were sent.

        Different chats are served concurrently; one chat's messages go one after
        another, in queue order, and each is recorded as sent as soon as its own
        call returns.
        """
        before = self._sent
        while await self._claim() or self._workers:
            await asyncio.wait(list(self._workers.values()))
        return self._sent - before

    async def _claim(self) -> int:
        """Claim due rows (at most BATCH held at a time) and hand them to their chats."""
        room = BATCH - self._held
        if room <= 0:
            return 0  # a worker wakes the sender when it has delivered some
        async with self.store.transaction() as session:
            rows = await outbox.claim_due(
                session, channels=list(self.transports), limit=room, recipient=self.recipient
            )
            # In the same transaction: when to look again if nothing wakes us.
            self._next_due = await outbox.next_due_at(session, channels=list(self.transports))
        self._hand_out([Claimed.of(row) for row in rows])
        return len(rows)

    def _hand_out(self, messages: list[Claimed]) -> None:
        for message in messages:
            chat = (message.channel, message.recipient)
            self._queues.setdefault(chat, []).append(message)
            if chat not in self._workers:
                self._workers[chat] = asyncio.create_task(self._serve_chat(chat))
        self._held += len(messages)

    async def _serve_chat(self, chat: tuple[str, str]) -> None:
        queue = self._queues[chat]
        try:
            async with self._gate:
                while queue:
                    message = queue.pop(0)
                    if self._held >= BATCH:
                        self._wake.set()  # room again: claim what is left due
                    self._held -= 1
                    if await self._deliver_one(message):
                        self._sent += 1
                        continue
                    # Later messages to this chat must wait for the one that failed.
                    later, queue[:] = list(queue), []
                    self._held -= len(later)
                    for row in later:
                        await self._requeue(row.id, 0.5)
        finally:
            del self._queues[chat]
            del self._workers[chat]

    async def _stop_workers(self) -> None:
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

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
        async with self.store.transaction() as session:
            await outbox.mark_sent(
                session, message.id, external_id=external_id, ephemeral=message.ephemeral
            )
        return True

    async def run(self, *, idle_seconds: float = 5.0) -> None:
        """Deliver until cancelled; woken at once when a handler queues something."""
        await self.recover()
        self._running = True
        try:
            while True:
                # Cleared before claiming, so a wake-up meanwhile is not lost.
                self._wake.clear()
                try:
                    await self._claim()
                    # When full, a worker wakes the sender as soon as there is room.
                    full = self._held >= BATCH
                    timeout = idle_seconds if full else self._until_next_due(idle_seconds)
                except Exception:
                    log.exception("outbox sender failed; retrying shortly")
                    await asyncio.sleep(1)
                    continue
                # asyncio.timeout, not wait_for: in 3.11 wait_for can swallow a cancel
                # that arrives as its timeout fires, and shutdown would hang here.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await self._wake.wait()
        finally:
            self._running = False
            await self._stop_workers()

    def _until_next_due(self, idle_seconds: float) -> float:
        due = self._next_due
        if due is None:
            return idle_seconds
        wait = (due - datetime.now(UTC)).total_seconds()
        return min(max(wait, 0.05), idle_seconds)
