"""Drive the real handlers through the terminal channel's parsing, on a real store."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, select

from bot.app import Service
from bot.config import Settings
from bot.console import CHANNEL, parse_line
from bot.delivery import OutboxSender
from handlers.core.events import Inbound, Kind, Reply
from handlers.core.i18n import Translator
from handlers.core.replies import from_payload
from storage.registry import metadata
from tests.conftest import CONTENT


class RecordingTransport:
    """A transport that keeps what it would have shown (the console's fake)."""

    channel = CHANNEL

    def __init__(self) -> None:
        self.delivered: list[tuple[str, Reply]] = []

    async def deliver(self, recipient: str, payload: dict[str, Any]) -> str | None:
        self.delivered.append((recipient, from_payload(payload)))
        return None


_update_ids = itertools.count(1)


@dataclass
class Person:
    """One resident (or coordinator) typing into the chat."""

    harness: ChatHarness
    user_id: int
    coordinator: bool = False
    name: str | None = "Anna"
    language_hint: str | None = "pl"
    seen: list[Reply] = field(default_factory=list)

    async def send(self, line: str) -> list[Reply]:
        event = parse_line(
            line,
            chat_id=str(self.user_id),
            user_id=self.user_id,
            coordinator=self.coordinator,
            buttons={},
        )
        assert event is not None
        return await self.deliver(event)

    async def press(self, label: str) -> list[Reply]:
        """Press the button whose label contains `label` on the latest message that has it."""
        for reply in reversed(self.seen):
            for row in reply.buttons:
                for button in row:
                    if label.lower() in button.label.lower():
                        return await self.choose(button.data)
        raise AssertionError(f"no button like {label!r} in {[r.text[:40] for r in self.seen]}")

    async def choose(self, data: str) -> list[Reply]:
        return await self.deliver(self._event(Kind.CHOICE, choice=data))

    async def send_kind(self, kind: Kind, **values: Any) -> list[Reply]:
        return await self.deliver(self._event(kind, **values))

    def _event(self, kind: Kind, **values: Any) -> Inbound:
        return Inbound(
            channel=CHANNEL,
            chat_id=str(self.user_id),
            user_id=self.user_id,
            kind=kind,
            is_coordinator=self.coordinator,
            **values,
        )

    async def deliver(self, event: Inbound) -> list[Reply]:
        event = replace(
            event,
            display_name=self.name,
            language_hint=self.language_hint,
            external_id=event.external_id or f"test-{next(_update_ids)}",
        )
        before = len(self.harness.transport.delivered)
        await self.harness.service.handle(event)
        await self.harness.sender.drain()
        replies = [
            reply
            for recipient, reply in self.harness.transport.delivered[before:]
            if recipient == str(self.user_id)
        ]
        self.seen.extend(replies)
        return replies


class ChatHarness:
    def __init__(self, service: Service) -> None:
        self.service = service
        # Like `lokalnie chat`: people are reached in the terminal.
        service.services.chat_channel = CHANNEL
        self.transport = RecordingTransport()
        self.sender = OutboxSender(service.store, {CHANNEL: self.transport})

    def person(self, user_id: int, **values: Any) -> Person:
        return Person(self, user_id, **values)

    async def row_counts(self) -> dict[str, int]:
        """Rows per table, to show that something changed nothing."""
        counts = {}
        async with self.service.store.transaction() as session:
            for table in metadata.sorted_tables:
                counts[table.name] = await session.scalar(select(func.count()).select_from(table))
        return counts


def texts(replies: list[Reply]) -> str:
    return "\n".join(reply.text for reply in replies)


def said(key: str, language: str = "pl", **values: Any) -> str:
    """The catalogue's text for a key, so a test checks the message, not its wording."""
    return str(Translator(CONTENT / "locales", "pl").text(language, key, **values))


def with_mail(settings: Settings, *, smtp: bool = True, imap: bool = True) -> Settings:
    """The settings of a centre whose e-mail is configured (nothing connects in tests)."""
    values: dict[str, Any] = {}
    if smtp:
        values |= {"smtp_host": "127.0.0.1", "mail_from": "osrodek@example.pl"}
    if imap:
        values |= {"imap_host": "127.0.0.1", "imap_user": "osrodek@example.pl"}
    return settings.model_copy(update=values)
