"""Messages to someone other than the person who wrote: an applicant, a coordinator.

Replies go back to the chat an event came from (`handlers/core/replies.py`); these
messages go to another person's chat, through the outbox like everything else, in
the same transaction as the change they announce. Unless the caller knows the
person's channel (a question remembers where it was asked), they go to the chat
channel this process serves (`Services.chat_channel`): Telegram under `lokalnie
run`, the terminal under `lokalnie chat`, where each session shows its own
person's messages.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.replies import to_payload
from handlers.core.services import Services
from storage import outbox, residents


async def tell(
    ctx: Context,
    *,
    chat_id: str,
    reply: Reply,
    key: str,
    resident_id: int | None = None,
    channel: str | None = None,
) -> bool:
    """Queue `reply` for another chat; False when it was queued before (same key)."""
    queued = await outbox.enqueue(
        ctx.session,
        channel=channel or ctx.services.chat_channel,
        recipient=chat_id,
        resident_id=resident_id,
        payload=to_payload(reply),
        idempotency_key=key,
    )
    return queued is not None


async def coordinator_languages(session: AsyncSession, services: Services) -> dict[int, str]:
    """Each coordinator's language: the one they chose, else the centre's default."""
    chosen = await residents.languages_of(session, services.coordinator_ids)
    pick = services.translator.language_or_default
    return {cid: pick(chosen.get(cid)) for cid in services.coordinator_ids}
