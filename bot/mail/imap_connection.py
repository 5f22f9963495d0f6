"""One IMAP connection with the folder open read-only (aioimaplib), and the parsing
of the server's answers it needs.

Kept apart from the watcher so that a fetching process (`bot.mail.fetch_worker`)
imports this and the parser, not the bot.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import logging
import re
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aioimaplib
from aioimaplib import aioimaplib as aioimaplib_core

T = TypeVar("T")

_LIBRARY_LOG = logging.getLogger("aioimaplib.aioimaplib")

# UIDs per `RFC822.SIZE` fetch: for every line of a FETCH answer aioimaplib scans all
# the lines before it again, so an answer of N lines costs N * N / 2 regex matches.
SIZE_CHUNK = 50
COMMAND_TIMEOUT = 30.0
READ_PIECE = 32 * 1024

FETCH_START = re.compile(rb"^\d+ FETCH \(")
UID_ITEM = re.compile(rb"\bUID (\d+)")
FLAGS_ITEM = re.compile(rb"\bFLAGS \(([^)]*)\)")
SIZE_ITEM = re.compile(rb"\bRFC822\.SIZE (\d+)")
UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
UIDNEXT = re.compile(rb"\[UIDNEXT (\d+)\]")
_LOST: list[bytes] = [b"connection lost"]


class MailboxError(Exception):
    """The mailbox cannot be used as configured (login refused, no such folder)."""


class ConnectionLost(Exception):
    """The server closed the connection, said BYE, or stopped answering."""


def encode_mailbox(name: str) -> str:
    """A folder name as IMAP wants it: modified UTF-7 (RFC 3501 5.1.3), quoted if needed."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + data.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    encoded = "".join(out)
    if re.fullmatch(r"[A-Za-z0-9_.&,+\-/]+", encoded):
        return encoded
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def uid_set(uids: Sequence[int]) -> str:
    """`1:5,8,10:12` for sorted UIDs: short command lines for long runs."""
    parts: list[str] = []
    start = previous = None
    for uid in uids:
        if start is None:
            start = previous = uid
        elif uid == previous + 1:  # type: ignore[operator]
            previous = uid
        else:
            parts.append(str(start) if start == previous else f"{start}:{previous}")
            start = previous = uid
    if start is not None:
        parts.append(str(start) if start == previous else f"{start}:{previous}")
    return ",".join(parts)


@dataclass
class Fetched:
    uid: int
    flags: list[str]
    raw: bytes


def parse_fetch(lines: Sequence[Any]) -> list[Fetched]:
    """UID, FLAGS and the literal of each message in a FETCH response."""
    found: list[Fetched] = []
    meta = b""
    literal: bytes | None = None

    def finish() -> None:
        uid = UID_ITEM.search(meta)
        if uid is not None and literal is not None:
            flags = FLAGS_ITEM.search(meta)
            names = flags.group(1).decode("ascii", "replace").split() if flags else []
            found.append(Fetched(int(uid.group(1)), names, literal))

    for line in lines:
        if isinstance(line, bytearray):
            literal = bytes(line)
        elif isinstance(line, bytes) and FETCH_START.match(line):
            finish()
            meta, literal = line, None
        elif isinstance(line, bytes):
            meta += b" " + line
    finish()
    return found


def _search_uids(lines: Sequence[Any]) -> list[int]:
    uids: list[int] = []
    for line in lines[:-1] if len(lines) > 1 else lines:
        if isinstance(line, (bytes, bytearray)):
            tokens = bytes(line).split()
            if tokens and tokens[0].upper() == b"SEARCH":
                tokens = tokens[1:]
            uids.extend(int(t) for t in tokens if t.isdigit())
    return sorted(set(uids))


def _read_in_pieces(protocol: Any) -> None:
    """Hand what the socket gave to aioimaplib READ_PIECE bytes at a time, straight to
    its response handler.

    For every line of a read, aioimaplib copies the rest of that read (`partition`,
    then slicing), so its work grows with the square of the read's size. The event
    loop reads up to 256 KB at once when the process was busy meanwhile; in 32 KB
    pieces the same FETCH responses cost it a third to a quarter of the CPU. TCP may
    split the stream anywhere, so aioimaplib takes pieces as they come.

    Its `data_received` also formats every read as text for a debug line, even with
    debug logging off (about 3 microseconds per KB, a quarter of its whole work on a
    FETCH): the pieces skip that line unless its debug logging is on.
    """
    whole = protocol.data_received
    handle = whole if _LIBRARY_LOG.isEnabledFor(logging.DEBUG) else _quiet_handler(protocol)

    def data_received(data: bytes) -> None:
        if len(data) <= READ_PIECE:
            handle(data)
            return
        for start in range(0, len(data), READ_PIECE):
            handle(data[start : start + READ_PIECE])

    protocol.data_received = data_received


def _quiet_handler(protocol: Any) -> Callable[[bytes], None]:
    """aioimaplib's `data_received` without its debug line; the library's own method
    where its internals are not the ones this was written against."""
    incomplete_read = getattr(aioimaplib_core, "IncompleteRead", None)
    handle_responses = getattr(protocol, "_handle_responses", None)
    handle_line = getattr(protocol, "_handle_line", None)
    if (
        incomplete_read is None
        or handle_responses is None
        or handle_line is None
        or not hasattr(protocol, "incomplete_line")
        or not hasattr(protocol, "current_command")
    ):
        return protocol.data_received

    def feed(data: bytes) -> None:
        try:
            handle_responses(protocol.incomplete_line + data, handle_line, protocol.current_command)
            protocol.incomplete_line = b""
            protocol.current_command = None
        except incomplete_read as incomplete:
            protocol.current_command = incomplete.cmd
            protocol.incomplete_line = incomplete.data

    return feed


class _FetchCommand(aioimaplib_core.FetchCommand):
    """aioimaplib's FETCH, but `wait_data` picks up where it stopped, and the time-out
    is not re-armed for every line.

    The library's scans every line received so far, for each new line, to find the
    last message's start and check its parentheses: an answer of N lines costs N * N / 2
    regex matches (a 50-message answer, 150 lines, about 11,000). Lines are only ever
    appended, so counting from where the last call stopped gives the same answer.
    """

    def __init__(self, *args: Any, **options: Any) -> None:
        super().__init__(*args, **options)
        self._scanned = 0
        self._depth = 0

    # aioimaplib re-arms its time-out (cancel, then call_later) for every line and every
    # piece of a literal, five times per message. Here the timer stays armed and, when
    # it fires, looks at when data last came: a command times out after the same
    # silence as before.
    def _set_timer(self) -> None:
        self._last_data = self._loop.time()
        super()._set_timer()

    def _reset_timer(self) -> None:
        self._last_data = self._loop.time()

    def _timeout_callback(self) -> None:
        silent = self._loop.time() - self._last_data
        if self._timeout is not None and silent < self._timeout:
            self._timer = self._loop.call_later(self._timeout - silent, self._timeout_callback)
            return
        super()._timeout_callback()

    def wait_data(self) -> bool:
        lines = self._resp_lines
        for line in itertools.islice(lines, self._scanned, None):
            if isinstance(line, bytes):
                if self.FETCH_MESSAGE_DATA_RE.match(line):
                    self._depth = 0
                self._depth += line.count(b"(") - line.count(b")")
        self._scanned = len(lines)
        return self._depth != 0


@dataclass(frozen=True)
class ImapAccount:
    """Where the mailbox is and how to log in (from the settings; picklable, so a
    fetching process gets it too)."""

    host: str
    port: int
    user: str
    password: str
    security: str
    folder: str

    @classmethod
    def of(cls, settings: Any) -> ImapAccount:
        """From `bot.config.Settings` (IMAP_HOST, IMAP_USER ... must be set)."""
        assert settings.imap_host and settings.imap_user
        password = settings.imap_password
        return cls(
            host=settings.imap_host,
            port=settings.imap_port,
            user=settings.imap_user,
            password=password.get_secret_value() if password else "",
            security=settings.imap_security,
            folder=settings.imap_folder,
        )


class ImapConnection:
    """One logged-in connection with the folder open read-only.

    aioimaplib does not fail a pending command when the connection drops; every
    call here races the connection-lost callback, so a dead server is noticed at
    once instead of after a time-out.
    """

    def __init__(self, account: ImapAccount, *, timeout: float = COMMAND_TIMEOUT) -> None:
        self.account = account
        self.timeout = timeout
        self.lost = asyncio.Event()
        self.client: aioimaplib.IMAP4 | None = None
        self.uidvalidity = 0
        # The UID the next message will get, as the folder was opened (0: not told).
        self.uidnext = 0
        self.exists = 0
        self.idle_supported = False

    def _on_lost(self, error: Exception | None) -> None:
        self.lost.set()
        if self.client is not None:
            # Wakes a wait_server_push() that would otherwise wait for the IDLE time-out.
            self.client.protocol.idle_queue.put_nowait(_LOST)

    async def call(self, awaitable: Awaitable[T]) -> T:
        task = asyncio.ensure_future(awaitable)
        if self.lost.is_set():
            task.cancel()
            raise ConnectionLost("connection lost")
        lost = asyncio.ensure_future(self.lost.wait())
        try:
            done, _pending = await asyncio.wait({task, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not task.done():
                task.cancel()
        if task in done:
            return task.result()
        raise ConnectionLost("connection lost")

    async def open(self) -> None:
        a = self.account
        context = ssl.create_default_context() if a.security == "ssl" else None
        # IMAP4 with an SSL context is what IMAP4_SSL builds, plus the lost-connection hook.
        self.client = aioimaplib.IMAP4(
            host=a.host,
            port=a.port,
            timeout=self.timeout,
            conn_lost_cb=self._on_lost,
            ssl_context=context,
        )
        _read_in_pieces(self.client.protocol)
        await self.call(self.client.wait_hello_from_server())
        response = await self.call(self.client.login(a.user, a.password))
        if response.result != "OK":
            raise MailboxError(f"IMAP login as {a.user} refused: {_text(response.lines)}")
        folder = encode_mailbox(a.folder)
        # EXAMINE opens the folder read-only; aioimaplib tracks state only for SELECT.
        response = await self.call(self.client.examine(folder))
        if response.result == "OK":
            self.client.protocol.state = aioimaplib.SELECTED
        else:
            response = await self.call(self.client.select(folder))
        if response.result != "OK":
            raise MailboxError(f"IMAP folder {a.folder!r}: {_text(response.lines)}")
        for line in response.lines:
            if isinstance(line, bytes):
                match = UIDVALIDITY.search(line)
                if match:
                    self.uidvalidity = int(match.group(1))
                match = UIDNEXT.search(line)
                if match:
                    self.uidnext = int(match.group(1))
                if line.endswith(b" EXISTS"):
                    self.exists = int(line.split()[0])
        if not self.uidvalidity:
            raise MailboxError(f"IMAP folder {a.folder!r}: the server gave no UIDVALIDITY")
        self.idle_supported = self.client.has_capability("IDLE")

    @property
    def imap(self) -> aioimaplib.IMAP4:
        assert self.client is not None
        return self.client

    async def uids_after(self, last_uid: int) -> list[int]:
        response = await self.call(self.imap.uid_search(f"UID {last_uid + 1}:*", charset=None))
        if response.result != "OK":
            raise ConnectionLost(f"UID SEARCH failed: {_text(response.lines)}")
        # "n:*" always includes the last message, even when its UID is below n.
        return [uid for uid in _search_uids(response.lines) if uid > last_uid]

    async def sizes(self, uids: Sequence[int]) -> dict[int, int]:
        sizes: dict[int, int] = {}
        for start in range(0, len(uids), SIZE_CHUNK):
            chunk = uids[start : start + SIZE_CHUNK]
            response = await self._uid_fetch(chunk, "(UID RFC822.SIZE)")
            for line in response.lines:
                if isinstance(line, bytes) and FETCH_START.match(line):
                    uid, size = UID_ITEM.search(line), SIZE_ITEM.search(line)
                    if uid and size:
                        sizes[int(uid.group(1))] = int(size.group(1))
        return sizes

    async def sizes_over(self, uids: Sequence[int], threshold: int) -> dict[int, int]:
        """The sizes of the messages among `uids` larger than `threshold` bytes: one
        SEARCH finds the few, and only theirs are fetched."""
        if not uids:
            return {}
        wanted = set(uids)
        response = await self.call(
            self.imap.uid_search(f"UID {min(uids)}:{max(uids)} LARGER {threshold}", charset=None)
        )
        if response.result != "OK":
            raise ConnectionLost(f"UID SEARCH failed: {_text(response.lines)}")
        large = [uid for uid in _search_uids(response.lines) if uid in wanted]
        return await self.sizes(large)

    async def _uid_fetch(self, uids: Sequence[int], items: str) -> aioimaplib.Response:
        """`UID FETCH` as `IMAP4.uid("fetch", ...)` sends it, with the cheaper command."""
        protocol = self.imap.protocol
        command = _FetchCommand(
            protocol.new_tag(),
            uid_set(uids),
            items,
            prefix="UID",
            loop=protocol.loop,
            timeout=self.imap.timeout,
        )
        return await self.call(protocol.execute(command))

    async def fetch(self, uids: Sequence[int]) -> list[Fetched]:
        response = await self._uid_fetch(uids, "(UID FLAGS BODY.PEEK[])")
        if response.result != "OK":
            raise ConnectionLost(f"UID FETCH failed: {_text(response.lines)}")
        return parse_fetch(response.lines)

    async def idle(self, seconds: float) -> None:
        """Wait until the server reports a change or `seconds` pass (then IDLE ends)."""
        queue = self.imap.protocol.idle_queue
        while not queue.empty():
            queue.get_nowait()
        # idle_start() can hang when the server answers with BYE: bounded here.
        idle_task = await self.call(_within(self.imap.idle_start(timeout=seconds), self.timeout))
        try:
            push = await self.call(self.imap.wait_server_push(timeout=seconds + self.timeout))
        except TimeoutError:
            push = None
        except BaseException:
            idle_task.cancel()
            raise
        if push is _LOST or any(b"BYE" in bytes(line) for line in push or [] if line):
            # The server is going away: no DONE, no waiting for an answer that won't come.
            idle_task.cancel()
            raise ConnectionLost("the server ended the IDLE session")
        try:
            if self.imap.has_pending_idle():
                self.imap.idle_done()
            await self.call(_within(idle_task, self.timeout))
        finally:
            if not idle_task.done():
                idle_task.cancel()

    async def wait(self, seconds: float) -> None:
        """Sleep for a poll interval, but wake up when the connection drops; then NOOP."""
        with contextlib.suppress(TimeoutError):
            await _within(self.lost.wait(), seconds)
        await self.call(self.imap.noop())

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        if not self.lost.is_set():
            with contextlib.suppress(Exception):
                if client.has_pending_idle():
                    client.idle_done()
                await _within(client.logout(), 2)
        transport = getattr(client.protocol, "transport", None)
        if transport is not None:
            transport.close()


async def _within(awaitable: Awaitable[T], seconds: float) -> T:
    """`awaitable`, or TimeoutError after `seconds`.

    asyncio.timeout, not wait_for: in 3.11 wait_for can swallow a cancel that
    arrives as its timeout fires, and the bot's shutdown would hang on the watcher.
    """
    async with asyncio.timeout(seconds):
        return await awaitable


def _text(lines: Sequence[Any]) -> str:
    return " ".join(bytes(line).decode("utf-8", "replace") for line in lines if line)[:300]
