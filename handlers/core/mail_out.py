"""Queueing e-mail: an outbox row of channel "email", delivered by the SMTP transport.

The payload is plain data so handlers stay free of e-mail code; the transport
builds the message with the `email` package (no header injection from text).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage import outbox

CHANNEL = "email"


async def queue_email(
    session: AsyncSession,
    *,
    to: str,
    subject: str,
    text: str,
    key: str,
    resident_id: int | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    bulk: bool = False,
    message_id: str | None = None,
    attachments: list[dict[str, str]] | None = None,
    broadcast_id: int | None = None,
) -> None:
    """Queue one e-mail (`broadcast_id`: a copy of that broadcast, counted in its progress
    and stopped with it); `message_id` (without <>) fixes its Message-ID now, for a
    reply to it to be recognised (otherwise the transport makes one up)."""
    await outbox.enqueue(
        session,
        channel=CHANNEL,
        recipient=to,
        resident_id=resident_id,
        payload={
            "to": to,
            "subject": subject,
            "text": text,
            "in_reply_to": in_reply_to,
            "references": references or [],
            "bulk": bulk,
            **({"message_id": message_id} if message_id else {}),
            # [{"name", "mime_type", "content_b64"}]: a chat message's file or album.
            **({"attachments": attachments} if attachments else {}),
        },
        idempotency_key=key,
        broadcast_id=broadcast_id,
    )
