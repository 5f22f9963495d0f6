"""Messages to someone other than the person who wrote: an applicant, a coordinator.

Replies go back to the chat an event came from (`handlers/core/replies.py`); these
messages go to another person's chat, through the outbox like everything else, in
the same transaction as the change they announce. The chat channel is the one the
bot is running on: Telegram in production, the terminal in `lokalnie chat` (where
every person shares one screen) and in flow tests.
"""

from __future__ import annotations

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.replies import to_payload
from storage import outbox

CHAT_CHANNELS = ("telegram", "console")


def chat_channel(ctx: Context) -> str:
    """The chat channel of this deployment (an e-mail event still answers in Telegram)."""
    return ctx.event.channel if ctx.event.channel in CHAT_CHANNELS else "telegram"


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
        channel=channel or chat_channel(ctx),
        recipient=chat_id,
        resident_id=resident_id,
        payload=to_payload(reply),
        idempotency_key=key,
    )
    return queued is not None
