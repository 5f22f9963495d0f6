"""The terminal channel behind `lokalnie chat`: the same conversations, a rehearsal.

Buttons are pressed by typing their key, a letter ([a], [b], ... [z], [aa] ...), never
a number: whatever a person types with digits (a scale value "5", options "1, 3, 5",
an age, an amount) reaches the conversation as typed text, exactly as it would from
Telegram, so a key can never be taken for an answer. `/attach PATH` sends a file as
a document. A coordinator's session also shows, marked with the chat they are for,
the messages its actions queue for other people; they stay queued for those people.
"""

from __future__ import annotations

import asyncio
import mimetypes
import string
import sys
from collections.abc import Awaitable, Callable, Iterator
from itertools import count, product
from pathlib import Path
from typing import Any, TextIO

from handlers.core.events import Inbound, IncomingFile, Kind, Reply
from handlers.core.replies import from_payload
from storage import outbox
from storage.db import Store

CHANNEL = "console"
ATTACH = "attach"
# Like Telegram: a bigger file arrives without its bytes and the handler says it is too big.
MAX_ATTACHMENT = 20 * 1024 * 1024
# At most this many messages for other people are shown after one action.
OTHERS_SHOWN = 5
MARGIN = "  │ "

Texts = Callable[..., str]


class ConsoleProblem(Exception):
    """Something typed that the terminal itself refuses (e.g. a missing file)."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key, self.values = key, values


def button_keys() -> Iterator[str]:
    """a, b, ... z, aa, ab, ...: as many keys as there are buttons."""
    for length in count(1):
        for letters in product(string.ascii_lowercase, repeat=length):
            yield "".join(letters)


class ConsoleTransport:
    """Prints replies; remembers each chat's last buttons so a key presses one."""

    channel = CHANNEL

    def __init__(self, out: TextIO, downloads: Path, texts: Texts) -> None:
        self.out = out
        self.downloads = downloads
        self.texts = texts
        self.buttons: dict[str, dict[str, str]] = {}

    async def deliver(self, recipient: str, payload: dict[str, Any]) -> str | None:
        self.render(recipient, from_payload(payload))
        return None

    def render(self, recipient: str, reply: Reply) -> None:
        print(file=self.out)
        print(reply.text, file=self.out)
        keys = button_keys()
        pressed: dict[str, str] = {}
        for row in reply.buttons:
            shown = []
            for button in row:
                key = next(keys)
                pressed[key] = button.data
                shown.append(f"[{key}] {button.label}")
            print("  " + "   ".join(shown), file=self.out)
        if pressed:
            self.buttons[recipient] = pressed
        # An album is its pictures saved side by side, one path a line.
        for file in [*reply.album, *([reply.file] if reply.file is not None else [])]:
            self.downloads.mkdir(parents=True, exist_ok=True)
            path = self.downloads / file.name
            path.write_bytes(file.content)
            print(f"  -> {path}", file=self.out)
        self.out.flush()

    def render_for_other(self, recipient: str, reply: Reply) -> None:
        """A message for someone else: marked, indented, its buttons not pressable here."""
        print(file=self.out)
        print(self.texts("console.for_other", chat=recipient), file=self.out)
        for line in reply.text.splitlines() or [""]:
            print((MARGIN + line).rstrip(), file=self.out)
        for row in reply.buttons:
            print(MARGIN + "   ".join(f"[{button.label}]" for button in row), file=self.out)
        if reply.file is not None:
            print(
                MARGIN + self.texts("console.for_other_file", name=reply.file.name), file=self.out
            )
        self.out.flush()

    def say(self, key: str, **values: object) -> None:
        """A line from the terminal itself (not from the bot)."""
        print(file=self.out)
        print(self.texts(key, **values), file=self.out)
        self.out.flush()


def parse_line(
    line: str, *, chat_id: str, user_id: int, coordinator: bool, buttons: dict[str, str]
) -> Inbound | None:
    """A typed line becomes an event: `/attach PATH`, `/command`, a button key, or text.

    Raises ConsoleProblem when `/attach` cannot send the file."""
    text = line.strip()
    if not text:
        return None
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "chat_id": chat_id,
        "user_id": user_id,
        "display_name": None,
        "is_coordinator": coordinator,
    }
    if text.startswith("/") and len(text) > 1:
        head, _, args = text[1:].partition(" ")
        if head == ATTACH:
            return Inbound(kind=Kind.FILE, file=read_attachment(args), **common)
        return Inbound(kind=Kind.COMMAND, command=head, args=args.strip(), text=text, **common)
    choice = buttons.get(text.lower())
    if choice is not None:
        return Inbound(kind=Kind.CHOICE, choice=choice, **common)
    return Inbound(kind=Kind.TEXT, text=text, **common)


def read_attachment(typed: str) -> IncomingFile:
    """The file at a typed path (quotes and ~ allowed), as a sent document."""
    raw = typed.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        raw = raw[1:-1]
    if not raw:
        raise ConsoleProblem("console.attach_usage")
    path = Path(raw).expanduser()
    if not path.is_file():
        raise ConsoleProblem("console.attach_missing", path=raw)
    try:
        size = path.stat().st_size
        content = path.read_bytes() if size <= MAX_ATTACHMENT else None
    except OSError as error:
        raise ConsoleProblem("console.attach_unreadable", path=raw, error=error.strerror) from None
    mime_type, _ = mimetypes.guess_type(path.name)
    return IncomingFile(
        ref=f"{CHANNEL}:{path.resolve()}",
        name=path.name,
        mime_type=mime_type or "application/octet-stream",
        size=size,
        content=content,
    )


class OthersPreview:
    """Shows, in a coordinator's terminal, what was just queued for other chats."""

    def __init__(self, store: Store, transport: ConsoleTransport, recipient: str) -> None:
        self.store = store
        self.transport = transport
        self.recipient = recipient
        self.seen = 0

    async def start(self) -> None:
        """Only what is queued from now on: older messages are not this session's doing."""
        async with self.store.transaction() as session:
            self.seen = await outbox.last_id(session)

    async def show(self) -> None:
        async with self.store.transaction() as session:
            found = await outbox.for_others_since(
                session,
                channel=CHANNEL,
                recipient=self.recipient,
                after_id=self.seen,
                limit=OTHERS_SHOWN,
            )
        self.seen = found.last_id
        for row in found.rows:
            self.transport.render_for_other(row.recipient, from_payload(row.payload))
        if found.total > len(found.rows):
            self.transport.say("console.for_others_more", count=found.total)


async def chat_loop(
    *,
    user_id: int,
    coordinator: bool,
    transport: ConsoleTransport,
    handle: Callable[[Inbound], Awaitable[Any]],
    deliver: Callable[[], Awaitable[Any]],
    read_line: Callable[[], Awaitable[str | None]] | None = None,
) -> None:
    """Read lines until end of input; every reply is delivered before the next prompt."""
    chat_id = str(user_id)
    reader = read_line or _stdin_line
    await deliver()
    while True:
        line = await reader()
        if line is None:
            return
        try:
            event = parse_line(
                line,
                chat_id=chat_id,
                user_id=user_id,
                coordinator=coordinator,
                buttons=transport.buttons.get(chat_id, {}),
            )
        except ConsoleProblem as problem:
            transport.say(problem.key, **problem.values)
            continue
        if event is None:
            continue
        await handle(event)
        await deliver()


async def _stdin_line() -> str | None:
    def read() -> str | None:
        try:
            return input("> ")
        except EOFError:
            return None

    if not sys.stdin.isatty():
        line = await asyncio.to_thread(sys.stdin.readline)
        return line if line else None
    return await asyncio.to_thread(read)
