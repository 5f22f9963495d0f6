"""Fetching and parsing mail on other cores during a long catch-up.

A catch-up of hundreds of messages is fetched and parsed by child processes, each
with an IMAP connection of its own, while the bot's process stores what they send
back. The raw messages never pass through the bot's process: a child fetches a batch
of UIDs, parses it, writes the attachments under the data directory, and answers
with the records, in the order it was asked. A child imports the IMAP connection and
the parser alone, not the bot, its CLI or the module that started it (as
`multiprocessing`'s spawn would).

One child is started as a program (`python -m bot.mail.fetch_worker`); once it has
imported all that (about 0.1 s of CPU) and read what to do, it forks the others
(a millisecond each) where the system can fork, so a pool costs one start, not one
per core. Each child talks to the bot over a pair of pipes of its own, its requests
on its stdin.

Frames on those pipes are an 8-byte big-endian length and a pickle:

    hello   (bot -> first child)    Hello (the forked ones inherit it)
            (each child -> bot)     ("ready", pid) or ("error", reason)
    batch   (bot -> child)          [uid, ...]
            (child -> bot)          ("ok", [IncomingMail, ...]) or ("error", reason)

A child leaves when its requests pipe closes, so it never outlives the bot, even after
a SIGKILL, and after its first error. The batches it did not answer fail with
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
from handlers.mailbox.events import IncomingMail

log = logging.getLogger(__name__)

FRAME = struct.Struct(">Q")
# How much less a fetching process counts for the scheduler than the bot's own process
# (os.nice): while a long import keeps every core busy, the bot still answers residents
# at once, and stores what the children send without falling behind.
CHILD_NICENESS = 5
# glibc's malloc: a child allocates and frees buffers of a few hundred KB all the time
# (reads, FETCH answers, pickled batches); above the mmap threshold each is a fresh
# mmap, page faults and munmap, a fifth of a child's CPU. A short-lived process can
# keep them in its heap.
CHILD_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(128 << 20)}
PROJECT_ROOT = Path(__file__).resolve().parents[2]
ATTACHMENTS = "mail/attachments"
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
    # Paths as strings: an import writes few files but checks one for every
    # attachment, and pathlib's objects cost more than the check itself.
    for attachment in mail.attachments:
        if attachment.content is None or attachment.sha256 is None:
            continue
        relative = f"{ATTACHMENTS}/{attachment.sha256[:2]}/{attachment.sha256}"
        target = os.path.join(data_dir, relative)
        if not os.path.exists(target):
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            temporary = f"{os.path.dirname(target)}/.{attachment.sha256}.{os.getpid()}.tmp"
            Path(temporary).write_bytes(attachment.content)
            os.replace(temporary, target)
        attachment.path = relative
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


@dataclass
class _Channel:
    """A child's two pipes: the bot writes `requests` and reads `answers`; the child
    reads `child_requests` and writes `child_answers`."""

    child_requests: int
    requests: int
    answers: int
    child_answers: int

    @classmethod
    def open(cls) -> _Channel:
        child_requests, requests = os.pipe()
        answers, child_answers = os.pipe()
        return cls(child_requests, requests, answers, child_answers)

    def close_child_ends(self) -> None:
        _close(self.child_requests, self.child_answers)
        # Closed once only: the numbers may soon be another file's.
        self.child_requests = self.child_answers = -1

    def close(self) -> None:
        self.close_child_ends()
        _close(self.requests, self.answers)
        self.requests = self.answers = -1


def _close(*descriptors: int) -> None:
    for descriptor in descriptors:
        if descriptor >= 0:
            with contextlib.suppress(OSError):
                os.close(descriptor)


async def _pipe_writer(descriptor: int) -> asyncio.StreamWriter:
    """An asyncio writer on the writing end of a pipe (as a subprocess's stdin is)."""
    loop = asyncio.get_running_loop()
    pipe = os.fdopen(descriptor, "wb", buffering=0)
    try:
        transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, pipe)
    except BaseException:
        pipe.close()
        raise
    return asyncio.StreamWriter(transport, protocol, None, loop)


class FetchProcess:
    """One child; its batches are answered in the order they were sent.

    Its answers are read by a thread of their own, not by the event loop: while the
    bot's process stores a transaction (SQLite in the loop's thread, a commit that
    waits for the disk) the loop reads nothing, the pipe fills and the child would
    wait instead of fetching on. The thread reads and unpickles while SQLite, which
    lets go of the GIL, works.
    """

    def __init__(
        self,
        requests: asyncio.StreamWriter,
        answers: BinaryIO,
        process: asyncio.subprocess.Process | None,
    ) -> None:
        self.requests = requests
        # The child the bot started; None for one it forked (not the bot's child).
        self.process = process
        self.pid: int | None = process.pid if process is not None else None
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
        """Start one child and wait until it has the folder open; OSError when this
        system cannot start it, FetcherGone when it cannot open the mailbox."""
        (outcome,) = await cls.start_family(1, hello)
        if isinstance(outcome, FetcherGone):
            raise outcome
        return outcome

    @classmethod
    async def start_family(cls, count: int, hello: Hello) -> list[FetchProcess | FetcherGone]:
        """Start `count` children (the first forks the others) and wait until each has
        the folder open: each is a FetchProcess, or the FetcherGone that says why it is
        not. OSError when this system cannot start the first."""
        if hasattr(os, "fork"):
            return await cls._start_first([_Channel.open() for _ in range(count)], hello)
        outcomes: list[FetchProcess | FetcherGone] = []
        for _ in range(count):  # each one started as a program
            outcomes += await cls._start_first([_Channel.open()], hello)
        return outcomes

    @classmethod
    async def _start_first(
        cls, channels: list[_Channel], hello: Hello
    ) -> list[FetchProcess | FetcherGone]:
        """Start a child on the first channel; it forks one for each of the others."""
        first, *others = channels
        paths = [str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                __name__,
                *(f"{c.child_requests},{c.child_answers}" for c in others),
                stdin=first.child_requests,
                stdout=first.child_answers,
                pass_fds=[fd for c in others for fd in (c.child_requests, c.child_answers)],
                env={**os.environ, **CHILD_MALLOC, "PYTHONPATH": os.pathsep.join(paths)},
            )
        except BaseException:
            for channel in channels:
                channel.close()
            raise
        children: list[FetchProcess] = []
        try:
            for channel in channels:
                channel.close_child_ends()
            for number, channel in enumerate(channels):
                answers = os.fdopen(channel.answers, "rb")
                channel.answers = -1
                try:
                    requests = await _pipe_writer(channel.requests)
                except BaseException:
                    answers.close()
                    raise
                finally:
                    channel.requests = -1
                children.append(cls(requests, answers, process if number == 0 else None))
        except BaseException:
            for channel in channels:
                channel.close()
            await asyncio.gather(*(c.close() for c in children), return_exceptions=True)
            if not children:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
            raise
        readies = [child._expect() for child in children]
        outcomes: list[FetchProcess | FetcherGone] = []
        try:
            children[0]._send(hello)
            async with asyncio.timeout(START_TIMEOUT + hello.timeout):
                await children[0]._drain()
                pids = await asyncio.gather(*readies, return_exceptions=True)
        except asyncio.CancelledError:
            await asyncio.gather(*(c.close() for c in children), return_exceptions=True)
            raise
        except Exception as error:  # noqa: BLE001 - a timeout, a closed pipe
            gone = FetcherGone(f"fetching process did not start ({type(error).__name__})")
            await asyncio.gather(*(c.close() for c in children), return_exceptions=True)
            return [gone for _ in children]
        for child, pid in zip(children, pids, strict=True):
            if isinstance(pid, BaseException):
                await child.close()
                outcomes.append(
                    pid if isinstance(pid, FetcherGone) else FetcherGone(f"fetching process: {pid}")
                )
            else:
                child.pid = child.pid or pid
                outcomes.append(child)
        return outcomes

    @property
    def exited(self) -> bool:
        """Whether the child has left (closed its end of the answers pipe)."""
        return self._finished.done()

    def _expect(self) -> asyncio.Future[Any]:
        answer: asyncio.Future[Any] = self._loop.create_future()
        if self._gone is not None:
            answer.set_exception(self._gone)
        else:
            self._waiting.append(answer)
        return answer

    def _send(self, value: object) -> None:
        self.requests.write(_frame(value))

    async def _drain(self) -> None:
        await self.requests.drain()

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

    def finish(self) -> None:
        """No more batches: close its requests pipe. It answers those it has, then logs
        out and leaves, while the bot stores them."""
        if not self.requests.is_closing():
            self.requests.close()

    async def close(self) -> None:
        """Close its requests pipe (it leaves by itself) and wait for it, briefly."""
        self.finish()
        if not await self._left(5):
            if self.pid is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(self.pid, signal.SIGKILL)
            await self._left(5)
        if self.process is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await self.process.wait()
        self._fail(FetcherGone("fetching process closed"))

    async def _left(self, seconds: float) -> bool:
        """Wait until the child has closed its end of the answers pipe (it has left)."""
        try:
            async with asyncio.timeout(seconds):
                await asyncio.shield(self._finished)
        except TimeoutError:
            return False
        return True


FetchHere = Callable[[Sequence[int]], Awaitable[list[IncomingMail]]]


class FetchPool:
    """Children taking batches in turn. A batch no child can take, or whose child
    is gone, is fetched and parsed by the bot's process (`fetch_here`)."""

    def __init__(self, processes: list[FetchProcess]) -> None:
        self.processes = processes
        self._turn = 0

    @classmethod
    async def start(cls, count: int, hello: Hello) -> FetchPool:
        if count < 1:
            return cls([])
        try:
            started = await FetchProcess.start_family(count, hello)
        except OSError as error:
            log.warning("mailbox: no fetching process (%s); fetching in the bot's process", error)
            return cls([])
        processes: list[FetchProcess] = []
        for outcome in started:
            if isinstance(outcome, FetchProcess):
                processes.append(outcome)
            else:
                log.warning("mailbox: %s; fetching in the bot's process", outcome)
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

    def finish(self) -> None:
        """Every batch has been sent: the children may leave once they have answered."""
        for process in self.processes:
            process.finish()

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self.processes), return_exceptions=True)


# -- the child's side -----------------------------------------------------------------


async def _read_frame(stream: asyncio.StreamReader) -> Any:
    (size,) = FRAME.unpack(await stream.readexactly(FRAME.size))
    return pickle.loads(await stream.readexactly(size))


def _read_exactly(descriptor: int, size: int) -> bytes | None:
    """`size` bytes from a descriptor, or None at its end: read with os.read, so that
    nothing after them is taken from the pipe into a buffer."""
    chunks = []
    while size:
        chunk = os.read(descriptor, size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _read_hello(descriptor: int) -> Hello | None:
    header = _read_exactly(descriptor, FRAME.size)
    if header is None:
        return None
    payload = _read_exactly(descriptor, FRAME.unpack(header)[0])
    if payload is None:
        return None
    try:
        # (A `bot.mail.fetch_worker.Hello`: this module runs as __main__.)
        hello: Hello = pickle.loads(payload)
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None
    return hello


def _fork_siblings(specs: Sequence[str], answers: BinaryIO) -> list[int]:
    """In the first child: fork one child for each other channel ("requests,answers"
    descriptors); the pids of those forked. Returns in every process; in a forked one
    (with []), stdin and `answers` are then its own channel's. A fork that fails
    closes its channel: the bot sees that child gone and fetches its share itself."""
    channels = [tuple(int(fd) for fd in spec.split(",")) for spec in specs]
    forked = []
    for index, (requests, child_answers) in enumerate(channels):
        try:
            pid = os.fork()
        except OSError:
            pid = -1
        if pid == 0:
            os.dup2(requests, sys.stdin.fileno())
            os.dup2(child_answers, answers.fileno())
            # Its own channel's originals, and the channels not forked yet (the
            # earlier ones' were closed before this fork).
            for descriptor in (fd for channel in channels[index:] for fd in channel):
                os.close(descriptor)
            return []
        if pid > 0:
            forked.append(pid)
        os.close(requests)
        os.close(child_answers)
    return forked


async def serve(hello: Hello, requests: asyncio.StreamReader, answers: BinaryIO) -> None:
    """The child: open the mailbox, then fetch and parse each batch asked for, until
    its requests end or something fails (then say why and leave)."""

    def answer(status: str, value: object) -> None:
        answers.write(_frame((status, value)))
        answers.flush()

    connection = ImapConnection(hello.account, timeout=hello.timeout)
    try:
        await connection.open()
        if connection.uidvalidity != hello.uidvalidity:
            answer("error", f"UIDVALIDITY is {connection.uidvalidity}, not {hello.uidvalidity}")
            return
        answer("ready", os.getpid())
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
        except asyncio.IncompleteReadError:  # the requests ended: the bot is done
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
    # process leaves when the bot closes its requests.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # The answers get a descriptor of their own; anything a library prints goes to
    # stderr instead of into the frames.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    hello = _read_hello(sys.stdin.fileno())
    if hello is None:
        return
    # The modules stay for good: full collections need not walk them, and the forked
    # children share their pages.
    gc.freeze()
    with contextlib.suppress(OSError):
        os.nice(CHILD_NICENESS)
    forked = _fork_siblings(sys.argv[1:], answers)
    _widen_pipe(answers.fileno())

    async def run() -> None:
        await serve(hello, await _stdin(), answers)

    with contextlib.suppress(BrokenPipeError):  # the bot is gone
        asyncio.run(run())
    # The answers are flushed one by one: nothing is left to tidy up but the forked
    # ones, which leave with their own requests. Closing the answers first lets the
    # bot see this one done while it waits; waiting for them passes their CPU time on
    # to the bot, as its own children's.
    with contextlib.suppress(OSError):
        answers.close()
    for pid in forked:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    sys.stderr.flush()
    # (A forked child must not run its parent's exit handlers.)
    os._exit(0)


if __name__ == "__main__":
    main()
