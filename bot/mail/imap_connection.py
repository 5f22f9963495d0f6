"""One IMAP connection with the folder open read-only (aioimaplib's public API), and
the parsing of the server's answers it needs."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import ssl
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aioimaplib

T = TypeVar("T")

# UIDs per `RFC822.SIZE` fetch: for every line of a FETCH answer aioimaplib 2.0.3
# scans all the lines before it again (`FetchCommand.wait_data`), so an answer of N
# lines costs N * N / 2 regex matches; short answers keep that small.
SIZE_CHUNK = 50
COMMAND_TIMEOUT = 30.0

FETCH_START = re.compile(rb"^\d+ FETCH \(")
UID_ITEM = re.compile(rb"\bUID (\d+)")
FLAGS_ITEM = re.compile(rb"\bFLAGS \(([^)]*)\)")
SIZE_ITEM = re.compile(rb"\bRFC822\.SIZE (\d+)")
UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")


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


@dataclass(frozen=True)
class ImapAccount:
    """Where the mailbox is and how to log in (from the settings)."""

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
        self.exists = 0
        self.idle_supported = False

    def _on_lost(self, error: Exception | None) -> None:
        # Every call races this event (see `call`): a wait_server_push() in IDLE ends
        # at once instead of waiting for its time-out.
        self.lost.set()

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
        await self.call(self.client.wait_hello_from_server())
        response = await self.call(self.client.login(a.user, a.password))
        if response.result != "OK":
            raise MailboxError(f"IMAP login as {a.user} refused: {_text(response.lines)}")
        folder = encode_mailbox(a.folder)
        # EXAMINE opens the folder read-only. aioimaplib 2.0.3 sends it as a simple
        # command and leaves its state at AUTH, so its UID FETCH then refuses to run
        # ("command UID illegal in state AUTH"; fixes proposed upstream in
        # iroco-co/aioimaplib PRs #85 and #101, not merged). Its protocol's public
        # `state` is set to what the server is now in.
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
        response = await self.call(self.imap.uid("fetch", uid_set(uids), items))
        if response.result != "OK":
            raise ConnectionLost(f"UID FETCH failed: {_text(response.lines)}")
        return response

    async def fetch(self, uids: Sequence[int]) -> list[Fetched]:
        """The messages `uids`, read with BODY.PEEK[] (their \\Seen flag stays as it is).

        One command at a time: aioimaplib mixes up the answers of pipelined FETCHes.
        """
        response = await self._uid_fetch(uids, "(UID FLAGS BODY.PEEK[])")
        return parse_fetch(response.lines)

    async def idle(self, seconds: float) -> None:
        """Wait until the server reports a change or `seconds` pass (then IDLE ends)."""
        # idle_start() can hang when the server answers with BYE: bounded here.
        idle_task = await self.call(_within(self.imap.idle_start(timeout=seconds), self.timeout))
        try:
            push = await self.call(self.imap.wait_server_push(timeout=seconds + self.timeout))
        except TimeoutError:
            push = None
        except BaseException:
            idle_task.cancel()
            raise
        if any(b"BYE" in bytes(line) for line in _lines(push) if line):
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


def _lines(push: Any) -> list[Any]:
    """The lines of what wait_server_push() gave: a list of lines, or a marker string
    when aioimaplib stopped the wait itself."""
    return push if isinstance(push, list) else []


def _text(lines: Sequence[Any]) -> str:
    return " ".join(bytes(line).decode("utf-8", "replace") for line in lines if line)[:300]
