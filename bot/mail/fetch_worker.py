"""Fetching and parsing mail on other cores during a long catch-up.

A catch-up of hundreds of messages is fetched and parsed by child processes (`python
-m bot.mail.fetch_worker`), each with an IMAP connection of its own, while the bot's
process stores what they send back. The raw messages never pass through the bot's
process: a child fetches a batch of UIDs, parses it, writes the attachments under
the data directory, and answers with the records, in the order it was asked. A
child imports the IMAP connection and the parser alone, not the bot, its CLI or the
module that started it (as `multiprocessing`'s spawn would).

Frames on the child's stdin and stdout are an 8-byte big-endian length and a pickle:

    hello   (bot -> child)  Hello
            (child -> bot)  ("ready", None) or ("error", reason)
    batch   (bot -> child)  [uid, ...]
            (child -> bot)  ("ok", [IncomingMail, ...]) or ("error", reason)

A child leaves when its stdin closes, so it never outlives the bot, even after a
SIGKILL, and after its first error. The batches it did not answer fail with
`FetcherGone`, and the bot fetches and parses them itself: nothing is lost.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import logging
import os
import pickle
import signal
import stat
import struct
import sys
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from bot.mail.imap_connection import Fetched, ImapAccount, ImapConnection
from bot.mail.parse import parse_mail
from handlers.mail_events import IncomingMail

log = logging.getLogger(__name__)

FRAME = struct.Struct(">Q")
# glibc's malloc: a child allocates and frees buffers of a few hundred KB all the time
# (reads, FETCH answers, pickled batches); above the mmap threshold each is a fresh
# mmap, page faults and munmap, a fifth of a child's CPU. A short-lived process can
# keep them in its heap.
CHILD_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(128 << 20)}
PROJECT_ROOT = Path(__file__).resolve().parents[2]
ATTACHMENTS = Path("mail") / "attachments"
# Time for a child to start, log in and open the folder.
START_TIMEOUT = 60.0


class FetcherGone(Exception):
    """The child stopped, or failed, before answering."""


@dataclass(frozen=True)
class Hello:
    """What a child needs: the mailbox, the UIDVALIDITY the bot saw (a child that
    sees another one refuses to work), where attachments go, and the limits."""

    account: ImapAccount
    uidvalidity: int
    data_dir: Path
    max_attachment_bytes: int
    timeout: float


def write_attachments(mail: IncomingMail, data_dir: Path) -> None:
    """Write the attachments under DATA_DIR/mail/attachments, named by their SHA-256:
    writing one again (after a crash, or the same file in two e-mails) changes nothing."""
    for attachment in mail.attachments:
        if attachment.content is None or attachment.sha256 is None:
            continue
        relative = ATTACHMENTS / attachment.sha256[:2] / attachment.sha256
        target = data_dir / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            temporary.write_bytes(attachment.content)
            os.replace(temporary, target)
        attachment.path = relative.as_posix()
        attachment.content = None  # not kept in memory any longer than needed


def read_fetched(fetched: Sequence[Fetched], hello: Hello) -> list[IncomingMail]:
    """Parse fetched messages into records that say where they came from, with their
    attachments written: what is left is storing them."""
    mails = []
    for item in fetched:
        mail = parse_mail(item.raw, max_attachment_bytes=hello.max_attachment_bytes)
        mail.folder = hello.account.folder
        mail.uidvalidity = hello.uidvalidity
        mail.uid = item.uid
        mail.seen = "\\Seen" in item.flags
        write_attachments(mail, hello.data_dir)
        mails.append(mail)
    return mails


# -- the bot's side -------------------------------------------------------------------


def _frame(value: object) -> bytes:
    payload = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    return FRAME.pack(len(payload)) + payload


class FetchProcess:
    """One child; its batches are answered in the order they were sent.

    Its answers are read by a thread of their own, not by the event loop: while the
    bot's process stores a transaction (SQLite in the loop's thread, a commit that
    waits for the disk) the loop reads nothing, the pipe fills and the child would
    wait instead of fetching on. The thread reads and unpickles while SQLite, which
    lets go of the GIL, works.
    """

    def __init__(self, process: asyncio.subprocess.Process, answers: BinaryIO) -> None:
        self.process = process
        self._loop = asyncio.get_running_loop()
        self._waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._gone: FetcherGone | None = None
        self._finished: asyncio.Future[None] = self._loop.create_future()
        self._reader = threading.Thread(
            target=self._read_answers, args=(answers,), name="mail-fetch-answers", daemon=True
        )
        self._reader.start()

    @classmethod
    async def start(cls, hello: Hello) -> FetchProcess:
        """Start a child and wait until it has the folder open; OSError when this
        system cannot start it, FetcherGone when it cannot open the mailbox."""
        paths = [str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        answers, child_end = os.pipe()
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                __name__,
                stdin=asyncio.subprocess.PIPE,
                stdout=child_end,
                env={**os.environ, **CHILD_MALLOC, "PYTHONPATH": os.pathsep.join(paths)},
            )
        except BaseException:
            os.close(answers)
            raise
        finally:
            os.close(child_end)
        child = cls(process, os.fdopen(answers, "rb"))
        ready = child._expect()
        try:
            child._send(hello)
            async with asyncio.timeout(START_TIMEOUT + hello.timeout):
                await child._drain()
                await ready
        except (Exception, asyncio.CancelledError) as error:
            await child.close()
            if isinstance(error, asyncio.CancelledError):
                raise
            if isinstance(error, FetcherGone):
                raise
            raise FetcherGone(f"fetching process did not start ({type(error).__name__})") from error
        return child

    def _expect(self) -> asyncio.Future[Any]:
        answer: asyncio.Future[Any] = self._loop.create_future()
        if self._gone is not None:
            answer.set_exception(self._gone)
        else:
            self._waiting.append(answer)
        return answer

    def _send(self, value: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(_frame(value))

    async def _drain(self) -> None:
        assert self.process.stdin is not None
        await self.process.stdin.drain()

    async def submit(self, uids: Sequence[int]) -> asyncio.Future[list[IncomingMail]]:
        """Send a batch; the future gives its records (or fails with FetcherGone)."""
        if self._gone is not None:
            raise self._gone
        answer = self._expect()
        try:
            self._send(list(uids))
            await self._drain()
        except (ConnectionError, OSError) as error:
            self._fail(FetcherGone(f"fetching process: {error}"))
        return answer

    def _read_answers(self, answers: BinaryIO) -> None:
        """In the reader thread: each frame, unpickled, to the loop; then the end."""
        ending = "fetching process ended"
        try:
            with answers:
                while True:
                    header = answers.read(FRAME.size)
                    if len(header) < FRAME.size:
                        break
                    (size,) = FRAME.unpack(header)
                    payload = answers.read(size)
                    if len(payload) < size:
                        break
                    self._to_loop(self._deliver, pickle.loads(payload))
        except Exception as error:  # noqa: BLE001 - a broken pipe, a bad frame
            ending = f"fetching process ended ({type(error).__name__})"
        self._to_loop(self._ended, ending)

    def _to_loop(self, callback: Callable[..., None], *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
            self._loop.call_soon_threadsafe(callback, *args)

    def _deliver(self, frame: tuple[str, Any]) -> None:
        status, value = frame
        if status not in ("ok", "ready"):
            self._fail(FetcherGone(f"fetching process: {value}"))
            return
        if self._waiting:
            answer = self._waiting.popleft()
            if not answer.done():
                answer.set_result(value)

    def _ended(self, reason: str) -> None:
        self._fail(FetcherGone(reason))
        if not self._finished.done():
            self._finished.set_result(None)

    def _fail(self, error: FetcherGone) -> None:
        if self._gone is None:
            self._gone = error
        while self._waiting:
            answer = self._waiting.popleft()
            if not answer.done():
                answer.set_exception(error)

    async def close(self) -> None:
        """Close its stdin (it leaves by itself) and wait for it, briefly."""
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        try:
            async with asyncio.timeout(5):
                await self.process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()
        # Its end of the pipe is closed now: the reader thread sees the end.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await asyncio.shield(self._finished)
        self._fail(FetcherGone("fetching process closed"))


FetchHere = Callable[[Sequence[int]], Awaitable[list[IncomingMail]]]


class FetchPool:
    """Children taking batches in turn. A batch no child can take, or whose child
    is gone, is fetched and parsed by the bot's process (`fetch_here`)."""

    def __init__(self, processes: list[FetchProcess]) -> None:
        self.processes = processes
        self._turn = 0

    @classmethod
    async def start(cls, count: int, hello: Hello) -> FetchPool:
        # Started side by side: each takes about 0.1 s to import the parser and log in.
        started = await asyncio.gather(
            *(FetchProcess.start(hello) for _ in range(count)), return_exceptions=True
        )
        processes: list[FetchProcess] = []
        for outcome in started:
            if isinstance(outcome, FetchProcess):
                processes.append(outcome)
            elif isinstance(outcome, (OSError, FetcherGone)):
                log.warning("mailbox: %s; fetching in the bot's process", outcome)
            else:
                await asyncio.gather(*(p.close() for p in processes), return_exceptions=True)
                raise outcome
        return cls(processes)

    async def submit(self, uids: Sequence[int]) -> asyncio.Future[list[IncomingMail]] | None:
        """Send a batch to the next child; None when there is none to take it."""
        while self.processes:
            process = self.processes[self._turn % len(self.processes)]
            self._turn += 1
            try:
                return await process.submit(uids)
            except FetcherGone as error:
                log.warning("mailbox: %s; the others fetch on", error)
                self.processes.remove(process)
                await process.close()
        return None

    async def mails(
        self,
        answer: asyncio.Future[list[IncomingMail]] | None,
        uids: Sequence[int],
        fetch_here: FetchHere,
    ) -> list[IncomingMail]:
        """The records of a batch: the child's answer, or fetched here when it has none."""
        if answer is not None:
            try:
                return await answer
            except FetcherGone as error:
                log.warning("mailbox: %s; fetching its batch in the bot's process", error)
        return await fetch_here(uids)

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self.processes), return_exceptions=True)


# -- the child's side -----------------------------------------------------------------


async def _read_frame(stream: asyncio.StreamReader) -> Any:
    (size,) = FRAME.unpack(await stream.readexactly(FRAME.size))
    return pickle.loads(await stream.readexactly(size))


async def serve(requests: asyncio.StreamReader, answers: BinaryIO) -> None:
    """The child: open the mailbox, then fetch and parse each batch asked for, until
    stdin closes or something fails (then say why and leave)."""

    def answer(status: str, value: object) -> None:
        answers.write(_frame((status, value)))
        answers.flush()

    try:
        hello: Hello = await _read_frame(requests)
    except (asyncio.IncompleteReadError, pickle.UnpicklingError):
        return
    connection = ImapConnection(hello.account, timeout=hello.timeout)
    try:
        await connection.open()
        if connection.uidvalidity != hello.uidvalidity:
            answer("error", f"UIDVALIDITY is {connection.uidvalidity}, not {hello.uidvalidity}")
            return
        answer("ready", None)
        await _batches(connection, hello, requests, answer)
    except Exception as error:  # noqa: BLE001 - told to the bot, which fetches instead
        answer("error", f"{type(error).__name__}: {error}"[:500])
    finally:
        await connection.close()


async def _batches(
    connection: ImapConnection,
    hello: Hello,
    requests: asyncio.StreamReader,
    answer: Callable[[str, object], None],
) -> None:
    # One FETCH at a time: aioimaplib mixes up the answers of pipelined ones.
    while True:
        try:
            uids = await _read_frame(requests)
        except asyncio.IncompleteReadError:  # stdin closed: the bot is done
            return
        answer("ok", read_fetched(await connection.fetch(uids), hello))


async def _stdin() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**26)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


ANSWER_PIPE_BYTES = 1 << 20


def _widen_pipe(descriptor: int) -> None:
    """Let the pipe to the bot hold a whole answer or two (a batch of 200 is about two
    megabytes in pieces): fewer waits for the bot's reader. Linux only (F_SETPIPE_SZ);
    elsewhere the pipe keeps its size."""
    try:
        import fcntl

        fcntl.fcntl(descriptor, getattr(fcntl, "F_SETPIPE_SZ", 1031), ANSWER_PIPE_BYTES)
    except (ImportError, OSError):
        pass


def main() -> None:
    mode = os.fstat(sys.stdin.fileno()).st_mode
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        sys.exit("bot.mail.fetch_worker is started by the mailbox watcher, with a pipe on stdin")
    # Ctrl-C in a terminal reaches the whole process group: the bot decides, and this
    # process leaves when the bot closes its stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # The modules stay for good: full collections need not walk them.
    gc.freeze()
    # The answers get a descriptor of their own; anything a library prints goes to
    # stderr instead of into the frames.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    _widen_pipe(answers.fileno())

    async def run() -> None:
        await serve(await _stdin(), answers)

    with contextlib.suppress(BrokenPipeError):  # the bot is gone
        asyncio.run(run())


if __name__ == "__main__":
    main()
