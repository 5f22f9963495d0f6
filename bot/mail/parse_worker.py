"""MIME parsing on other cores during a long catch-up.

A catch-up of hundreds of messages parses them in child processes (`python -m
bot.mail.parse_worker`) while the bot's process fetches the next batches and stores
the parsed ones. A child imports the parser alone (not the bot, its CLI or whatever
module started the bot, as `multiprocessing`'s spawn would), reads batches of raw
messages from its stdin and writes the parsed records to its stdout, in order:

    request:  8-byte big-endian length, pickle of (max_attachment_bytes, [raw, ...])
    answer:   8-byte big-endian length, pickle of [IncomingMail, ...]

A child leaves when its stdin closes, so it never outlives the bot, even after a
SIGKILL. When a child dies, its batches fail with `ParserGone` and the caller parses
them itself; nothing is lost.
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
import struct
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from bot.mail.parse import parse_mail
from handlers.mail_events import IncomingMail

log = logging.getLogger(__name__)

FRAME = struct.Struct(">Q")
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ParserGone(Exception):
    """The parser process stopped before answering."""


def parse_many(raws: Sequence[bytes], max_attachment_bytes: int) -> list[IncomingMail]:
    """Parse a batch, here or in a child."""
    return [parse_mail(raw, max_attachment_bytes=max_attachment_bytes) for raw in raws]


class ParserProcess:
    """One child process; batches are answered in the order they were sent."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._waiting: collections.deque[asyncio.Future[list[IncomingMail]]] = collections.deque()
        self._gone: ParserGone | None = None
        self._reader = asyncio.ensure_future(self._read_answers())

    @classmethod
    async def start(cls) -> ParserProcess:
        """Start a child; OSError when this system cannot."""
        paths = [str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
        )
        return cls(process)

    async def submit(
        self, raws: Sequence[bytes], max_attachment_bytes: int
    ) -> asyncio.Future[list[IncomingMail]]:
        """Send a batch; the future gives its records (or fails with ParserGone)."""
        if self._gone is not None:
            raise self._gone
        assert self.process.stdin is not None
        payload = pickle.dumps((max_attachment_bytes, list(raws)), pickle.HIGHEST_PROTOCOL)
        answer: asyncio.Future[list[IncomingMail]] = asyncio.get_running_loop().create_future()
        self._waiting.append(answer)
        try:
            self.process.stdin.write(FRAME.pack(len(payload)) + payload)
            await self.process.stdin.drain()
        except (ConnectionError, OSError) as error:
            self._fail(ParserGone(f"parser process: {error}"))
        return answer

    async def _read_answers(self) -> None:
        assert self.process.stdout is not None
        try:
            while True:
                (size,) = FRAME.unpack(await self.process.stdout.readexactly(FRAME.size))
                records = pickle.loads(await self.process.stdout.readexactly(size))
                if self._waiting:
                    answer = self._waiting.popleft()
                    if not answer.done():
                        answer.set_result(records)
        except asyncio.CancelledError:
            self._fail(ParserGone("parser process closed"))
            raise
        except Exception as error:  # noqa: BLE001 - EOF, a broken pipe, a bad frame
            self._fail(ParserGone(f"parser process ended ({type(error).__name__})"))

    def _fail(self, error: ParserGone) -> None:
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
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


class ParserPool:
    """Child processes taking batches in turn; `parse` falls back to this process when
    there are none or the one chosen is gone."""

    def __init__(self, processes: list[ParserProcess], max_attachment_bytes: int) -> None:
        self.processes = processes
        self.max_attachment_bytes = max_attachment_bytes
        self._turn = 0

    @classmethod
    async def start(cls, count: int, max_attachment_bytes: int) -> ParserPool:
        processes: list[ParserProcess] = []
        for _ in range(count):
            try:
                processes.append(await ParserProcess.start())
            except OSError as error:  # no processes here: parse in this one
                log.warning("mailbox: no parser process (%s); parsing in the bot's process", error)
                break
        return cls(processes, max_attachment_bytes)

    async def submit(self, raws: Sequence[bytes]) -> asyncio.Future[list[IncomingMail]] | None:
        """Send a batch to the next child; None when there is none to take it."""
        while self.processes:
            process = self.processes[self._turn % len(self.processes)]
            self._turn += 1
            try:
                return await process.submit(raws, self.max_attachment_bytes)
            except ParserGone as error:
                log.warning("mailbox: %s; the others parse on", error)
                self.processes.remove(process)
                await process.close()
        return None

    async def parsed(
        self, answer: asyncio.Future[list[IncomingMail]] | None, raws: Sequence[bytes]
    ) -> list[IncomingMail]:
        """The records of a batch: the child's answer, or parsed here when it has none."""
        if answer is not None:
            try:
                return await answer
            except ParserGone as error:
                log.warning("mailbox: %s; parsing its batch in the bot's process", error)
        return parse_many(raws, self.max_attachment_bytes)

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self.processes), return_exceptions=True)


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    """The child's loop: until stdin closes, parse each batch and answer it."""
    while True:
        header = requests.read(FRAME.size)
        if len(header) < FRAME.size:
            return
        (size,) = FRAME.unpack(header)
        payload = requests.read(size)
        if len(payload) < size:
            return
        max_attachment_bytes, raws = pickle.loads(payload)
        records = pickle.dumps(parse_many(raws, max_attachment_bytes), pickle.HIGHEST_PROTOCOL)
        answers.write(FRAME.pack(len(records)))
        answers.write(records)
        answers.flush()


def main() -> None:
    # Ctrl-C in a terminal reaches the whole process group: the bot decides, and this
    # process leaves when the bot closes its stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The parser's modules stay for good: full collections need not walk them.
    gc.freeze()
    # The answers get a descriptor of their own; anything a library prints goes to stderr
    # instead of into the frames.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        serve(sys.stdin.buffer, answers)
    except BrokenPipeError:  # the bot is gone
        pass


if __name__ == "__main__":
    main()
