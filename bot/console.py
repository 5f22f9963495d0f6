"""The terminal channel behind `lokalnie chat`: the same conversations, numbered choices."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO

from handlers.core.events import Inbound, Kind, Reply
from handlers.core.replies import from_payload

CHANNEL = "console"


class ConsoleTransport:
    """Prints replies; remembers each chat's last buttons so a number picks one."""

    channel = CHANNEL

    def __init__(self, out: TextIO, downloads: Path) -> None:
        self.out = out
        self.downloads = downloads
        self.buttons: dict[str, list[str]] = {}

    async def deliver(self, recipient: str, payload: dict[str, Any]) -> str | None:
        self.render(recipient, from_payload(payload))
        return None

    def render(self, recipient: str, reply: Reply) -> None:
        print(file=self.out)
        print(reply.text, file=self.out)
        flat = [button for row in reply.buttons for button in row]
        if flat:
            self.buttons[recipient] = [button.data for button in flat]
            for number, button in enumerate(flat, start=1):
                print(f"  [{number}] {button.label}", file=self.out)
        # An album is its pictures saved side by side, one path a line.
        for file in [*reply.album, *([reply.file] if reply.file is not None else [])]:
            self.downloads.mkdir(parents=True, exist_ok=True)
            path = self.downloads / file.name
            path.write_bytes(file.content)
            print(f"  -> {path}", file=self.out)
        self.out.flush()


def parse_line(
    line: str, *, chat_id: str, user_id: int, coordinator: bool, buttons: list[str]
) -> Inbound | None:
    """A typed line becomes an event: `/command`, a choice number, or text."""
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
        return Inbound(kind=Kind.COMMAND, command=head, args=args.strip(), text=text, **common)
    if text.isdigit() and 1 <= int(text) <= len(buttons):
        return Inbound(kind=Kind.CHOICE, choice=buttons[int(text) - 1], **common)
    return Inbound(kind=Kind.TEXT, text=text, **common)


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
        event = parse_line(
            line,
            chat_id=chat_id,
            user_id=user_id,
            coordinator=coordinator,
            buttons=transport.buttons.get(chat_id, []),
        )
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
