"""Replies become outbox rows: one payload shape for every channel."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.events import Button, Inbound, OutgoingFile, Reply
from handlers.core.labels import fit_keyboard
from storage import outbox
from storage.models import Resident

# The payload key naming the buttons a typed "yes" / "no" stands for.
YES_NO = "yes_no"
YES, NO = "yes", "no"


def to_payload(reply: Reply, *, edit_message_id: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"text": reply.text}
    if reply.replace and edit_message_id:
        payload["edit_message_id"] = edit_message_id
    if reply.buttons:
        rows = fit_keyboard(reply.buttons)
        payload["buttons"] = [[[b.label, b.data] for b in row] for row in rows]
        meant = {b.means: b.data for row in rows for b in row if b.means}
        if set(meant) == {YES, NO}:
            payload[YES_NO] = meant
    if reply.file is not None:
        payload["file"] = file_payload(reply.file)
    if reply.album:
        payload["album"] = [file_payload(file) for file in reply.album]
    return payload


def file_payload(file: OutgoingFile) -> dict[str, str]:
    """A file as plain data for an outbox row (also an e-mail attachment's shape)."""
    return {
        "name": file.name,
        "mime_type": file.mime_type,
        "content_b64": base64.b64encode(file.content).decode(),
    }


def _file(raw: dict[str, Any]) -> OutgoingFile:
    return OutgoingFile(raw["name"], raw["mime_type"], base64.b64decode(raw["content_b64"]))


def from_payload(payload: dict[str, Any]) -> Reply:
    buttons = [[Button(label, data) for label, data in row] for row in payload.get("buttons", [])]
    file = _file(payload["file"]) if payload.get("file") else None
    album = [_file(raw) for raw in payload.get("album") or []]
    return Reply(text=payload.get("text", ""), buttons=buttons, file=file, album=album)


async def queue_replies(
    session: AsyncSession,
    *,
    event: Inbound,
    resident: Resident | None,
    replies: list[Reply],
    key: str,
    claim: bool = False,
) -> list[outbox.Claimed]:
    """Write the replies as outbox rows, back to the chat the event came from: pending,
    or (`claim`) already claimed, returned for the running sender once committed."""
    messages = []
    for index, reply in enumerate(replies):
        key_of_row = f"reply:{event.channel}:{event.chat_id}:{key}:{index}"
        if resident is None and not event.is_coordinator:
            # No consent, nothing kept: the row goes once delivered (storage/outbox.py).
            key_of_row = outbox.EPHEMERAL + key_of_row
        messages.append(
            outbox.Outgoing(
                channel=event.channel,
                recipient=event.chat_id,
                payload=to_payload(reply, edit_message_id=event.message_id),
                idempotency_key=key_of_row,
                resident_id=resident.id if resident else None,
            )
        )
    if not claim:
        await outbox.enqueue_many(session, messages)
        return []
    claimed = [await outbox.enqueue_claimed(session, message) for message in messages]
    return [message for message in claimed if message is not None]
