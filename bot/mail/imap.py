"""The mailbox watcher: IMAP (aioimaplib) -> `parse_mail` -> `handlers.mailbox.inbox.receive_mail`.

It logs in (IMAP4 over TLS, or plain on loopback for tests: aioimaplib has no
STARTTLS), opens the folder read-only (EXAMINE), catches up from the checkpoint
in the store, then waits with IDLE, re-issued every `IMAP_IDLE_SECONDS`, or
polls every `IMAP_POLL_SECONDS` when the server has no IDLE. Messages are only
read with `BODY.PEEK[]`: nothing on the server changes.

A batch of messages is stored, with the notifications and acknowledgements it
causes and the new checkpoint `(UIDVALIDITY, last UID)`, in one transaction: a
process killed at any moment repeats at most the batch in flight, and that one
is recognised by its Message-ID. A new UIDVALIDITY means the server renumbered
the folder: everything is read again and deduplicated by Message-ID.

A long catch-up (200 messages or more) is fetched and parsed by fetching processes
(`bot.mail.fetch_worker`), one per core, each with its own read-only connection;
this process stores what they send back, in order. A process that fails hands its
batches back, and they are fetched here.

The first import of a folder (no checkpoint yet) notifies nobody: a mailbox
with years of mail must not flood the coordinators' chat. Mail that was already
read on the server counts as handled then.

Lost connections, server restarts and time-outs reconnect with exponential
backoff; nothing here ever stops the rest of the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any, TypeVar

import aioimaplib

from bot.config import Settings
from bot.mail.fetch_worker import FetchHere, FetchPool, Hello, read_fetched
from bot.mail.imap_connection import (
    COMMAND_TIMEOUT,
    ConnectionLost,
    ImapAccount,
    ImapConnection,
    MailboxError,
)
from bot.mail.parse import unparsed
from handlers.core.services import Services
from handlers.mailbox.events import IncomingMail
from handlers.mailbox.inbox import MailContent, MailPolicy, Received, receive_mail
from storage import mail as mail_store
from storage.db import Store

log = logging.getLogger(__name__)

T = TypeVar("T")

# Messages per UID FETCH in a catch-up. Each batch costs a round trip, a frame to and
# from a fetching process and a place in a transaction; with FETCH answers read in
# linear time (`imap_connection._FetchCommand`) a larger batch only amortises that
# (a 10,000-message import: 200 per batch is 15-20 % faster than 50). BATCH_BYTES
# bounds the memory whatever the count.
BATCH_MESSAGES = 200
BATCH_BYTES = 8 * 1024 * 1024
# Fetched batches waiting for the store, and how much one transaction takes of them:
# each commit has a fixed cost (a dozen statements), so a store that falls behind the
# fetches catches up in larger transactions. The bytes are upper bounds (see _batches).
QUEUED_FETCHES = 8
STORE_MESSAGES = 400
STORE_BYTES = 64 * 1024 * 1024
# UIDs whose large messages one SEARCH finds: the first batches go out without waiting
# for the sizes of a whole folder.
SEARCH_CHUNK = 2000

# Catch-ups at least this long are fetched and parsed by other processes (other cores).
POOL_THRESHOLD = 200


def fetch_processes() -> int:
    """How many fetching processes a long catch-up starts: one per core (at most four).

    Storing is the lighter part (about a third of a fetching process's CPU per
    message), so the bot's process waits most of the time; on two cores two fetching
    processes import 1.7 times as fast as one, and a third one is slower again.
    """
    return max(1, min(4, os.cpu_count() or 1))


async def _discard(starting: asyncio.Future[FetchPool] | None) -> None:
    """Stop, or close, a pool started for a catch-up that turned out short (or failed)."""
    if starting is None:
        return
    starting.cancel()
    await asyncio.wait({starting})
    if not starting.cancelled() and starting.exception() is None:
        await starting.result().close()


class _StartingPool:
    """The fetching processes of a catch-up, once they are ready; until then (and
    when they could not start) batches go to nobody and are fetched here."""

    def __init__(self, starting: asyncio.Future[FetchPool] | None) -> None:
        self._starting = starting
        self._pool = FetchPool([])

    async def submit(self, uids: Sequence[int]) -> asyncio.Future[list[IncomingMail]] | None:
        if self._starting is not None and self._starting.done():
            starting, self._starting = self._starting, None
            self._pool = starting.result()  # a failure to start fails the catch-up
        return await self._pool.submit(uids)

    async def mails(
        self, answer: Any, uids: Sequence[int], fetch_here: FetchHere
    ) -> list[IncomingMail]:
        return await self._pool.mails(answer, uids, fetch_here)

    def finish(self) -> None:
        """Every batch has been sent (a pool still starting is left to `close`)."""
        self._pool.finish()

    async def close(self) -> None:
        starting, self._starting = self._starting, None
        await _discard(starting)
        await self._pool.close()


@contextlib.contextmanager
def _collector_spared(count: int) -> Iterator[None]:
    """During a long catch-up, keep the garbage collector's full passes off the objects
    that were alive before it (the whole bot: SQLAlchemy, PTB, content ...).

    An import allocates millions of short-lived objects, and every full pass walked
    that heap again: about 0.1 ms per message, as much as fetching one. `gc.freeze()`
    sets those objects aside until the import ends; what the import itself leaves
    behind is collected as usual.
    """
    if count < POOL_THRESHOLD:
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@dataclass
class SyncReport:
    """What one catch-up did (also what `lokalnie mail sync` prints)."""

    total: int = 0
    stored: int = 0
    duplicates: int = 0
    problems: int = 0
    resynced: bool = False
    errors: list[str] = field(default_factory=list)


Progress = Callable[[int, int], None]


def own_addresses(settings: Settings, services: Services) -> frozenset[str]:
    candidates = [services.centre.email, settings.mail_from, settings.imap_user, settings.smtp_user]
    found = {parseaddr(c)[1].lower() for c in candidates if c}
    return frozenset(a for a in found if "@" in a)


class MailboxWatcher:
    """Keeps the store in step with one IMAP folder; `run()` never returns by itself."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        services: Services,
        *,
        content: MailContent | None = None,
        reconnect_min: float = 1.0,
        reconnect_max: float = 300.0,
        batch_messages: int = BATCH_MESSAGES,
        timeout: float = COMMAND_TIMEOUT,
    ) -> None:
        self.settings = settings
        self.store = store
        self.services = services
        self.content = content
        self.reconnect_min = reconnect_min
        self.reconnect_max = reconnect_max
        self.batch_messages = batch_messages
        self.timeout = timeout
        self.folder = settings.imap_folder
        self.own = own_addresses(settings, services)
        self.connected = asyncio.Event()  # set while a connection is open (for tests)

    # -- the loop -----------------------------------------------------------------------

    async def run(self) -> None:
        delay = self.reconnect_min
        while True:
            connection = ImapConnection(ImapAccount.of(self.settings), timeout=self.timeout)
            try:
                await connection.open()
                log.info(
                    "mailbox %s@%s/%s open (UIDVALIDITY %s, %s messages, %s)",
                    self.settings.imap_user,
                    self.settings.imap_host,
                    self.folder,
                    connection.uidvalidity,
                    connection.exists,
                    "IDLE" if connection.idle_supported else "polling",
                )
                self.connected.set()
                await self.catch_up(connection)
                delay = self.reconnect_min
                await self._watch(connection)
            except asyncio.CancelledError:
                raise
            except MailboxError as error:
                log.error("mailbox: %s; trying again later", error)
                delay = max(delay, min(60.0, self.reconnect_max))
            except (ConnectionLost, TimeoutError, OSError, aioimaplib.AioImapException) as error:
                log.warning("mailbox connection: %s: %s", type(error).__name__, error)
            except Exception:
                log.exception("mailbox watcher failed; reconnecting")
            finally:
                self.connected.clear()
                await connection.close()
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.reconnect_max)

    async def _watch(self, connection: ImapConnection) -> None:
        while True:
            if connection.idle_supported:
                await connection.idle(self.settings.imap_idle_seconds)
            else:
                await connection.wait(self.settings.imap_poll_seconds)
            await self.catch_up(connection)

    # -- catching up ---------------------------------------------------------------------

    async def sync(self, *, progress: Progress | None = None) -> SyncReport:
        """Connect, import everything new once, disconnect (`lokalnie mail sync`).

        A bulk import: it tells nobody and acknowledges nothing.
        """
        return await self._once(progress=progress, notify=False)

    async def catch_up_once(self) -> SyncReport:
        """Connect, catch up as the running watcher does (notifications too), disconnect."""
        return await self._once(progress=None, notify=True)

    async def _once(self, *, progress: Progress | None, notify: bool) -> SyncReport:
        connection = ImapConnection(ImapAccount.of(self.settings), timeout=self.timeout)
        try:
            await connection.open()
            return await self.catch_up(connection, progress=progress, notify=notify)
        finally:
            await connection.close()

    async def catch_up(
        self,
        connection: ImapConnection,
        *,
        progress: Progress | None = None,
        notify: bool = True,
    ) -> SyncReport:
        report = SyncReport()
        async with self.store.transaction() as session:
            saved = await mail_store.checkpoint(session, self.folder)
        last = 0
        if saved is not None and saved.uidvalidity == connection.uidvalidity:
            last = saved.last_uid
        elif saved is not None:
            log.warning(
                "mailbox %s: UIDVALIDITY changed (%s -> %s): reading it again",
                self.folder,
                saved.uidvalidity,
                connection.uidvalidity,
            )
            report.resynced = True
        # When the folder, as it was opened, already holds a long catch-up, the fetching
        # processes start (about 0.1 s) while the server searches; this process fetches
        # the first batches itself until they are ready.
        hello = self._hello(connection)
        starting = None
        if connection.uidnext - last - 1 >= POOL_THRESHOLD:
            starting = asyncio.ensure_future(FetchPool.start(fetch_processes(), hello))
        try:
            uids = await connection.uids_after(last)
            report.total = len(uids)
            if progress is not None:
                progress(0, report.total)
            if not uids:
                if saved is None or report.resynced:
                    await self._save_checkpoint(connection.uidvalidity, last)
                return report
            if len(uids) < POOL_THRESHOLD:
                await _discard(starting)
                starting = None
            elif starting is None:
                starting = asyncio.ensure_future(FetchPool.start(fetch_processes(), hello))
            policy = MailPolicy(
                notify=notify and saved is not None,
                acknowledgement=self.content if self.settings.mail_acknowledge else None,
                own_addresses=self.own,
                baseline=saved is None,
            )
            pool = _StartingPool(starting)
            try:
                with _collector_spared(len(uids)):
                    await self._pipeline(connection, uids, hello, pool, policy, report, progress)
            finally:
                starting = None  # the pipeline's now
                await pool.close()
        finally:
            await _discard(starting)
        return report

    def _hello(self, connection: ImapConnection) -> Hello:
        return Hello(
            account=connection.account,
            uidvalidity=connection.uidvalidity,
            data_dir=self.settings.data_dir,
            max_attachment_bytes=self.settings.mail_attachment_max_bytes,
            timeout=self.timeout,
        )

    async def _pipeline(
        self,
        connection: ImapConnection,
        uids: list[int],
        hello: Hello,
        pool: _StartingPool,
        policy: MailPolicy,
        report: SyncReport,
        progress: Progress | None,
    ) -> None:
        """Fetch the next batches while earlier ones are parsed and stored.

        Long catch-ups are fetched and parsed by other processes (other cores), each
        with its own connection; this process stores what they send back. Short ones,
        and batches a fetching process could not answer, are fetched and parsed here.
        """
        talking = asyncio.Lock()  # one command at a time on this process's connection

        async def fetch_here(batch: Sequence[int]) -> list[IncomingMail]:
            async with talking:
                fetched = await connection.fetch(batch)
            return read_fetched(fetched, hello)

        async def raw_here(uid: int) -> bytes:
            async with talking:
                fetched = await connection.fetch([uid])
            return fetched[0].raw if fetched else b""

        async def sizes_over(chunk: Sequence[int], threshold: int) -> dict[int, int]:
            async with talking:
                return await connection.sizes_over(chunk, threshold)

        queue: asyncio.Queue[tuple[list[int], int, Any] | None] = asyncio.Queue(QUEUED_FETCHES)

        async def produce() -> None:
            async for batch, weight in self._batches(sizes_over, uids):
                answer = await pool.submit(batch)
                if answer is None:
                    answer = asyncio.ensure_future(fetch_here(batch))
                    await asyncio.wait({answer})  # fetched before the next is asked for
                await queue.put((batch, weight, answer))
            # The fetching processes log out and leave while the last batches are stored.
            pool.finish()
            await queue.put(None)

        async def consume() -> None:
            done = 0
            finished = False
            while not finished:
                item = await queue.get()
                if item is None:
                    break
                # Whatever else is already asked for joins this transaction: a store that
                # falls behind catches up with fewer, larger commits.
                items = [item]
                size = item[1]
                while not queue.empty() and sum(len(i[0]) for i in items) < STORE_MESSAGES:
                    if size >= STORE_BYTES:
                        break
                    following = queue.get_nowait()
                    if following is None:
                        finished = True
                        break
                    items.append(following)
                    size += following[1]
                batch = [uid for i in items for uid in i[0]]
                mails = [m for i in items for m in await pool.mails(i[2], i[0], fetch_here)]
                received = await self._store(connection, batch, mails, policy, raw_here)
                report.stored += len(received.stored)
                report.duplicates += received.duplicates
                report.problems += received.problems
                done += len(batch)
                if progress is not None:
                    progress(done, report.total)

        tasks = [asyncio.ensure_future(produce()), asyncio.ensure_future(consume())]
        try:
            finished, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in finished:
                task.result()  # the first failure, as itself
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _batches(
        self,
        sizes_over: Callable[[Sequence[int], int], Awaitable[dict[int, int]]],
        uids: list[int],
    ) -> AsyncIterator[tuple[list[int], int]]:
        """Batches of at most `batch_messages` messages and at most BATCH_BYTES (unless
        one message is larger), with an upper bound of their size in bytes.

        Only the sizes of messages larger than a batch's share of BATCH_BYTES are
        asked for; the others count as that share.
        """
        share = max(1, BATCH_BYTES // self.batch_messages)
        batch: list[int] = []
        weight = 0
        for start in range(0, len(uids), SEARCH_CHUNK):
            chunk = uids[start : start + SEARCH_CHUNK]
            large = await sizes_over(chunk, share)
            for uid in chunk:
                size = large.get(uid, share)
                if batch and (len(batch) >= self.batch_messages or weight + size > BATCH_BYTES):
                    yield batch, weight
                    batch, weight = [], 0
                batch.append(uid)
                weight += size
        if batch:
            yield batch, weight

    async def _store(
        self,
        connection: ImapConnection,
        batch: list[int],
        mails: list[IncomingMail],
        policy: MailPolicy,
        raw_of: Callable[[int], Awaitable[bytes]],
    ) -> Received:
        try:
            received = await self._commit(mails, connection.uidvalidity, max(batch), policy)
        except Exception:
            if len(mails) <= 1:
                raise
            # One bad message must not hold the others back: store them one by one.
            log.exception("mailbox: storing a batch failed; storing its messages one by one")
            received = Received()
            for mail in mails:
                one = await self._commit_alone(mail, policy, raw_of)
                received.stored += one.stored
                received.duplicates += one.duplicates
                received.problems += one.problems
            await self._save_checkpoint(connection.uidvalidity, max(batch))
        self.services.on_outbox_written()
        return received

    async def _commit(
        self, mails: list[IncomingMail], uidvalidity: int, last_uid: int, policy: MailPolicy
    ) -> Received:
        async with self.store.transaction() as session:
            received = await receive_mail(session, self.services, mails, policy)
            await mail_store.save_checkpoint(
                session, folder=self.folder, uidvalidity=uidvalidity, last_uid=last_uid
            )
        return received

    async def _commit_alone(
        self,
        mail: IncomingMail,
        policy: MailPolicy,
        raw_of: Callable[[int], Awaitable[bytes]],
    ) -> Received:
        try:
            async with self.store.transaction() as session:
                return await receive_mail(session, self.services, [mail], policy)
        except Exception as error:
            log.exception("mailbox: message UID %s could not be stored as read", mail.uid)
            reason = f"not storable: {type(error).__name__}: {error}"[:500]
        # Kept raw with the reason; the raw bytes are fetched again when this process
        # did not fetch them itself.
        raw = mail.raw
        if raw is None and mail.uid is not None:
            raw = await raw_of(mail.uid)
        fallback = unparsed(raw or b"", reason)
        fallback.message_id = mail.message_id
        fallback.folder = mail.folder
        fallback.uidvalidity = mail.uidvalidity
        fallback.uid = mail.uid
        # If even this fails the store itself is in trouble: let the watcher back off.
        async with self.store.transaction() as session:
            return await receive_mail(session, self.services, [fallback], policy)

    async def _save_checkpoint(self, uidvalidity: int, last_uid: int) -> None:
        async with self.store.transaction() as session:
            await mail_store.save_checkpoint(
                session, folder=self.folder, uidvalidity=uidvalidity, last_uid=last_uid
            )
