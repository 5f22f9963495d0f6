"""Durable intake: Telegram is told an update arrived only once it is in the store.

PTB's Updater confirms an update (the next getUpdates offset) before the
application has handled it, and its webhook server answers 200 before our
commit; a crash then loses the update. Here the poller hands each batch to the
worker and asks for the next offset only once every update of it is handled
(recorded in the transaction of its effects, see
`handlers.core.entry.process_inbound`) or, when its handling failed, stored to be
tried again. The webhook answers 200 only after the row is committed, and the
worker handles the stored rows in order, marking each in the transaction of its
effects. One transaction per update where polling: storing first and handling
after took two.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import tornado.httpserver
import tornado.web
from telegram import Update
from telegram.error import Conflict, NetworkError, RetryAfter

from bot.startup import retry_with_backoff
from bot.telegram import answer_callback, to_inbound, with_content
from handlers.core.events import Inbound
from storage import intake
from storage.db import Store
from storage.types import utcnow

log = logging.getLogger(__name__)

# Seconds a getUpdates long poll waits for news.
POLL_TIMEOUT = 10
# Tries of an update that keeps failing before it is set aside (marked, logged).
MAX_ATTEMPTS = 3
# Telegram picks update ids afresh after a week without updates: an older stored
# offset could then be above every new update, so it is not used.
OFFSET_VALID = timedelta(days=6)

# (inbound, the update it came from, last try) -> handled; raises on failure unless
# last try.
Process = Callable[[Inbound, intake.UpdateRef, bool], Awaitable[object]]


@dataclass(frozen=True)
class Pending:
    """An update the worker is to handle: a committed row (`row_id`), or one fresh
    from this run's poller (`row_id` None), stored by the transaction that handles it."""

    bot_id: int
    update_id: int
    row_id: int | None
    # The raw JSON of a stored row (None when fresh: `update` is there).
    data: dict[str, Any] | None
    attempts: int = 0
    # Parsed already when it comes from this run's poller or webhook.
    update: Update | None = None
    # Done once this update and those before it are handled or stored (set on the
    # last of a batch): the poller confirms the batch to Telegram then.
    durable: asyncio.Future[None] | None = field(default=None, compare=False)

    @property
    def ref(self) -> intake.UpdateRef:
        return intake.UpdateRef(self.bot_id, self.update_id, self.row_id)


# Told of the rows a batch stored, once committed.
OnStored = Callable[[list[Pending]], object]


def _chat_id(update: Update) -> int | None:
    chat = update.effective_chat
    return chat.id if chat is not None else None


async def save(
    store: Store, bot_id: int, updates: list[tuple[Update, dict[str, Any]]]
) -> list[Pending]:
    """Store a batch (update, raw JSON) in one transaction; returns the rows stored now
    (an update Telegram sent again is not among them)."""
    rows = [(u.update_id, _chat_id(u), data) for u, data in updates]
    async with store.transaction() as session:
        ids = await intake.store(session, bot_id=bot_id, updates=rows)
    return [
        Pending(bot_id, u.update_id, ids[u.update_id], data, update=u)
        for u, data in updates
        if u.update_id in ids
    ]


class Poller:
    """getUpdates in a loop; the offset confirms only updates handled or stored."""

    def __init__(self, store: Store, bot: Any, worker: IntakeWorker) -> None:
        self.store = store
        self.bot = bot
        self.worker = worker

    async def _start_offset(self) -> int | None:
        async with self.store.transaction() as session:
            return await intake.next_offset(
                session, bot_id=self.bot.id, since=utcnow() - OFFSET_VALID
            )

    async def run(self) -> None:
        await retry_with_backoff(
            lambda: self.bot.delete_webhook(),
            what="removing the webhook",
            retry_on=(NetworkError, RetryAfter),
        )
        offset = await self._start_offset()
        while True:
            updates = await retry_with_backoff(
                functools.partial(
                    self.bot.get_updates,
                    offset=offset,
                    timeout=POLL_TIMEOUT,
                    allowed_updates=Update.ALL_TYPES,
                ),
                what="fetching updates from Telegram",
                # Conflict: another getUpdates (an old process) still running.
                retry_on=(NetworkError, RetryAfter, Conflict),
            )
            if not updates:
                continue
            # Meanwhile Telegram keeps what arrives; the next call fetches it at once.
            await self.worker.accept(
                [Pending(self.bot.id, u.update_id, None, None, update=u) for u in updates]
            )
            offset = updates[-1].update_id + 1


class IntakeWorker:
    """Handles stored updates one at a time, oldest first: a chat's stay in order."""

    def __init__(
        self, store: Store, bot: Any, process: Process, coordinator_ids: frozenset[int]
    ) -> None:
        self.store = store
        self.bot = bot
        self.process = process
        self.coordinator_ids = coordinator_ids
        self._queue: deque[Pending] = deque()
        self._wake = asyncio.Event()
        self._answers: set[asyncio.Task[None]] = set()

    def accept(self, rows: list[Pending]) -> asyncio.Future[None]:
        """Updates from the poller or rows the webhook committed, handled after those
        before; the future is done once each of them is handled or stored."""
        durable = asyncio.get_running_loop().create_future()
        if not rows:
            durable.set_result(None)
            return durable
        self._queue.extend([*rows[:-1], replace(rows[-1], durable=durable)])
        self._wake.set()
        return durable

    async def _recover(self) -> None:
        """Rows a previous run stored and did not handle go first. Rows accepted
        meanwhile may be read here too: each is queued once, in arrival order."""
        async with self.store.transaction() as session:
            rows = await intake.unhandled(session)
        queued = {row.row_id for row in self._queue}
        left = [
            Pending(r.bot_id, r.update_id, r.id, r.data, r.attempts)
            for r in rows
            if r.id not in queued
        ]
        # Older than anything this run accepted (a fresh update Telegram sent again
        # after a crash finds its row handled by then).
        self._queue = deque([*left, *self._queue])

    async def run(self) -> None:
        try:
            await self._recover()
            while True:
                while self._queue:
                    row = self._queue[0]
                    again = await self._handle(row)
                    if again is None:
                        self._queue.popleft()
                    else:  # stored; tried again before anything after it, keeping the order
                        self._queue[0] = row = again
                    if row.durable is not None and not row.durable.done():
                        row.durable.set_result(None)
                self._wake.clear()
                await self._wake.wait()
        finally:
            for task in list(self._answers):
                task.cancel()

    async def _handle(self, row: Pending) -> Pending | None:
        """The row to try again (stored) when handling failed; None when done."""
        attempts = row.attempts
        last_try = attempts + 1 >= MAX_ATTEMPTS
        try:
            update = row.update or Update.de_json(row.data, self.bot)
            if update.callback_query is not None and attempts == 0:
                # Stops the button's spinner beside the handling (the answer comes
                # through the outbox), so its round trip holds up no update.
                task = asyncio.create_task(answer_callback(update.callback_query))
                self._answers.add(task)
                task.add_done_callback(self._answers.discard)
            inbound = to_inbound(update, bot_id=row.bot_id, coordinator_ids=self.coordinator_ids)
            if inbound is None:
                async with self.store.transaction() as session:
                    await intake.settle(session, row.ref)
                return None
            if inbound.file is not None:
                # Part of the handling: a download cut short is done again.
                inbound = await with_content(self.bot, inbound)
            await self.process(inbound, row.ref, last_try)
        except Exception as error:  # one poison update must not block the queue
            return await self._failed(row, error, last_try)
        return None

    async def _failed(self, row: Pending, error: Exception, last_try: bool) -> Pending | None:
        detail = f"{type(error).__name__}: {error}"
        async with self.store.transaction() as session:
            row_id = row.row_id
            if row_id is None and row.update is not None:
                # Fresh: stored now, with its content, to be tried again.
                update = row.update
                ids = await intake.store(
                    session,
                    bot_id=row.bot_id,
                    updates=[(row.update_id, _chat_id(update), update.to_dict())],
                )
                row_id = ids.get(row.update_id)
            if row_id is None:  # an earlier run's row: it had its turn before this one
                return None
            await intake.record_failure(session, row_id, detail)
            if last_try:
                await intake.mark_handled(session, row_id, error=detail)
        if last_try:
            log.error("update row %d set aside after %d attempts: %s", row_id, MAX_ATTEMPTS, detail)
            return None
        log.warning("handling update row %d failed, will try again: %s", row_id, detail)
        await asyncio.sleep(0.5)
        return replace(row, row_id=row_id, attempts=row.attempts + 1)


class _WebhookHandler(tornado.web.RequestHandler):
    """Telegram's POST: 200 only once the update is committed."""

    def initialize(self, intake_server: WebhookServer) -> None:
        self.intake_server = intake_server

    async def post(self) -> None:
        server = self.intake_server
        if self.request.headers.get("X-Telegram-Bot-Api-Secret-Token") != server.secret:
            self.send_error(403)
            return
        try:
            data = json.loads(self.request.body)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            update = Update.de_json(data, server.bot)
        except (ValueError, TypeError, KeyError) as error:
            log.warning("malformed webhook request refused: %s", error)
            self.send_error(400)
            return
        # An error here is a 500: Telegram sends the update again.
        stored = await save(server.store, server.bot.id, [(update, data)])
        server.on_stored(stored)
        self.set_status(200)
        self.finish()


class WebhookServer:
    """Our own small HTTP server on WEBHOOK_LISTEN:WEBHOOK_PORT, path /`path`."""

    def __init__(self, store: Store, bot: Any, *, secret: str, on_stored: OnStored) -> None:
        self.store = store
        self.bot = bot
        self.secret = secret
        self.on_stored = on_stored
        self.server: tornado.httpserver.HTTPServer | None = None

    def listen(self, *, listen: str, port: int, path: str) -> None:
        app = tornado.web.Application([(f"/{path}", _WebhookHandler, {"intake_server": self})])
        self.server = tornado.httpserver.HTTPServer(app)
        self.server.listen(port, address=listen)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            await self.server.close_all_connections()
