"""The mailbox watcher: IMAP (aioimaplib) -> `parse_mail` -> `receive_mail` (handlers).

It logs in (IMAP4 over TLS, or plain on loopback for tests: aioimaplib has no
STARTTLS), opens the folder read-only (EXAMINE), catches up from the checkpoint
in the store, then waits with IDLE, re-issued every `IMAP_IDLE_SECONDS`, or
polls every `IMAP_POLL_SECONDS` when the server has no IDLE. Messages are only
read with `BODY.PEEK[]`: nothing on the server changes.

A catch-up fetches batches of messages by UID, one command at a time; while one
batch is stored the next is parsed and the one after it fetched. Parsing runs in
the event loop's thread one message at a time, yielding to the loop after each:
a batch of 200 is a few hundred milliseconds of CPU, which a resident's chat
would otherwise wait for. (A worker thread measured worse: replies waited up to
0.4-0.8 s against 0.1 s; see benchmarks/README.md.)

A batch is stored, with the notifications and acknowledgements it causes and
the new checkpoint `(UIDVALIDITY, last UID)`, in one transaction: a process
killed at any moment repeats at most the batch in flight, and that one is
recognised by its Message-ID. A new UIDVALIDITY means the server renumbered the
folder: everything is read again and deduplicated by Message-ID.

The first import of a folder (no checkpoint yet) notifies nobody: a mailbox
with years of mail must not flood the coordinators' chat. Mail that was already
read on the server counts as handled then.

Lost connections, server restarts and time-outs reconnect with exponential
backoff; nothing here ever stops the rest of the bot.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr

import aioimaplib

from bot.config import Settings
from bot.mail.attachments import read_fetched
from bot.mail.imap_connection import (
    COMMAND_TIMEOUT,
    ConnectionLost,
    Fetched,
    ImapAccount,
    ImapConnection,
    MailboxError,
)
from bot.mail.parse import unparsed
from handlers.core.services import Services
from handlers.mailbox.content import MailContent
from handlers.mailbox.events import IncomingMail
from handlers.mailbox.receiving import MailPolicy, Received, receive_mail
from storage import mail as mail_store
from storage.db import Store

log = logging.getLogger(__name__)

# Messages per UID FETCH, and per transaction, in a catch-up. BATCH_BYTES bounds the
# memory whatever the count. On SQLite a resident's reply waits for the batch being
# stored (one writer at a time), once for each of its transactions: a batch must stay
# short (see benchmarks/README.md, `mail_import`).
BATCH_MESSAGES = 50
BATCH_BYTES = 8 * 1024 * 1024
# Batches waiting between the stages (fetched for the parser, parsed for the store).
QUEUED_BATCHES = 2
# UIDs whose large messages one SEARCH finds: the first batches go out without waiting
# for the sizes of a whole folder.
SEARCH_CHUNK = 2000


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
        uids = await connection.uids_after(last)
        report.total = len(uids)
        if progress is not None:
            progress(0, report.total)
        if not uids:
            if saved is None or report.resynced:
                await self._save_checkpoint(connection.uidvalidity, last)
            return report
        policy = MailPolicy(
            notify=notify and saved is not None,
            acknowledgement=self.content if self.settings.mail_acknowledge else None,
            own_addresses=self.own,
            baseline=saved is None,
            authserv_id=self.settings.mail_authserv_id,
        )
        await self._import(connection, uids, policy, report, progress)
        return report

    async def _import(
        self,
        connection: ImapConnection,
        uids: list[int],
        policy: MailPolicy,
        report: SyncReport,
        progress: Progress | None,
    ) -> None:
        """Three stages, a batch apart: fetching, parsing, storing."""
        talking = asyncio.Lock()  # one command at a time on the connection
        uidvalidity = connection.uidvalidity

        async def sizes_over(chunk: Sequence[int], threshold: int) -> dict[int, int]:
            async with talking:
                return await connection.sizes_over(chunk, threshold)

        async def raw_of(uid: int) -> bytes:
            async with talking:
                fetched = await connection.fetch([uid])
            return fetched[0].raw if fetched else b""

        fetched: asyncio.Queue[tuple[list[int], list[Fetched]] | None] = asyncio.Queue(
            QUEUED_BATCHES
        )
        parsed: asyncio.Queue[tuple[list[int], list[IncomingMail]] | None] = asyncio.Queue(
            QUEUED_BATCHES
        )

        async def fetch() -> None:
            async for batch, _weight in self._batches(sizes_over, uids):
                async with talking:
                    found = await connection.fetch(batch)
                await fetched.put((batch, found))
            await fetched.put(None)

        async def parse() -> None:
            while (next_batch := await fetched.get()) is not None:
                batch, found = next_batch
                mails = []
                for item in found:
                    mails.append(self._read(item, uidvalidity))
                    # The loop's other work (a resident's chat) waits at most for one
                    # message's parse, about a millisecond, not for a whole batch's.
                    await asyncio.sleep(0)
                await parsed.put((batch, mails))
            await parsed.put(None)

        async def store() -> None:
            done = 0
            while (item := await parsed.get()) is not None:
                batch, mails = item
                received = await self._store(uidvalidity, batch, mails, policy, raw_of)
                report.stored += len(received.stored)
                report.duplicates += received.duplicates
                report.problems += received.problems
                done += len(batch)
                if progress is not None:
                    progress(done, report.total)

        tasks = [asyncio.ensure_future(stage()) for stage in (fetch, parse, store)]
        try:
            finished, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in finished:
                task.result()  # the first failure, as itself
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _read(self, item: Fetched, uidvalidity: int) -> IncomingMail:
        """A fetched message parsed, with its attachments written under DATA_DIR."""
        return read_fetched(
            item,
            folder=self.folder,
            uidvalidity=uidvalidity,
            data_dir=self.settings.data_dir,
            max_attachment_bytes=self.settings.mail_attachment_max_bytes,
        )

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
        uidvalidity: int,
        batch: list[int],
        mails: list[IncomingMail],
        policy: MailPolicy,
        raw_of: Callable[[int], Awaitable[bytes]],
    ) -> Received:
        try:
            received = await self._commit(mails, uidvalidity, max(batch), policy)
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
            await self._save_checkpoint(uidvalidity, max(batch))
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
        # Kept raw with the reason; the raw bytes (kept in the record only when parsing
        # found a problem) are fetched again.
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
