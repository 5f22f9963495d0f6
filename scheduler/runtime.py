"""What every job gets: the running service, and a way to queue one bulk message.

A bulk message goes to the recipient's channel (chat or e-mail, with an
unsubscribe line) under a key derived from the job and the recipient, so a
job that runs twice queues nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from babel.dates import format_datetime

from handlers.core.mail_out import queue_email
from handlers.core.services import Services
from storage import outbox
from storage.audiences import CHAT, Recipient
from storage.db import Store

BULK = 1
PROGRESS_EVERY = 5.0


@dataclass
class JobRuntime:
    store: Store
    services: Services
    wake_sender: Callable[[], None] = field(default=lambda: None)
    progress_every: float = PROGRESS_EVERY


def channel_of(services: Services, recipient: Recipient) -> str:
    """The outbox channel for a recipient: their chat is the chat channel this process serves."""
    return services.chat_channel if recipient.channel == CHAT else recipient.channel


def translated(services: Services, language: str, key: str, **values: object) -> str:
    """A catalogue text in the recipient's language."""
    return services.translator.text(language, key, **values)


def when(services: Services, moment: datetime, language: str) -> str:
    """A moment in the centre's time zone, as a resident reads a date."""
    local = moment.astimezone(services.timezone)
    return format_datetime(local, "d MMMM y, HH:mm", locale=language)


def bulk_email(services: Services, language: str, text: str, subject: str = "") -> tuple[str, str]:
    """The subject and body of a bulk e-mail: the text with an unsubscribe line below."""
    unsubscribe = translated(services, language, "broadcast.unsubscribe_line")
    return subject or text[:60], f"{text}\n\n--\n{unsubscribe}"


async def send(
    session: Any,
    services: Services,
    recipient: Recipient,
    text: str,
    key: str,
    *,
    subject: str = "",
    file: dict[str, Any] | None = None,
    album: list[dict[str, Any]] | None = None,
    broadcast_id: int | None = None,
) -> bool:
    """Queue one bulk message on the recipient's channel; False if queued before.

    By e-mail the file and the album's pictures are attachments of the one message.
    """
    if recipient.channel == "email":
        before = await outbox.find(session, key)
        subject, body = bulk_email(services, recipient.language, text, subject)
        await queue_email(
            session,
            to=recipient.address,
            subject=subject,
            text=body,
            key=key,
            resident_id=recipient.resident_id,
            bulk=True,
            attachments=[*(album or []), *([file] if file else [])],
            broadcast_id=broadcast_id,
        )
        return before is None
    payload: dict[str, Any] = {"text": text}
    if file:
        payload["file"] = file
    if album:
        payload["album"] = album
    queued = await outbox.enqueue(
        session,
        channel=channel_of(services, recipient),
        recipient=recipient.address,
        payload=payload,
        idempotency_key=key,
        resident_id=recipient.resident_id,
        priority=BULK,
        broadcast_id=broadcast_id,
    )
    return queued is not None
