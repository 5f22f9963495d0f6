"""The coordinator's panel (/admin); later capabilities add its actions."""

from __future__ import annotations

import logging

from handlers.callbacks import Callback
from handlers.context import Context
from handlers.events import Reply
from handlers.registry import ADMIN_ACTIONS, PANEL_LINES, choice, command
from storage import events, outbox, residents

log = logging.getLogger(__name__)
ADMIN = "admin"


async def refuse(ctx: Context, what: str) -> list[Reply]:
    """Polite refusal for anyone who is not a coordinator; logged for the record."""
    log.info("refused %s for user %s on %s", what, ctx.event.user_id, ctx.event.channel)
    await events.record(
        ctx.session,
        "admin_refused",
        resident_id=ctx.resident.id if ctx.resident else None,
        data={"what": what, "channel": ctx.event.channel, "user_id": ctx.event.user_id},
    )
    return [ctx.reply("admin.refused")]


@command("admin", coordinator_only=True, order=90)
async def admin(ctx: Context) -> list[Reply]:
    counts = await residents.counts(ctx.session)
    queue = await outbox.status_counts(ctx.session)
    text = ctx.t(
        "admin.panel",
        residents=counts["residents"],
        subscribed=counts["subscribed"],
        blocked=counts["blocked"],
        forgotten=counts["forgotten"],
        pending=queue.get("pending", 0) + queue.get("sending", 0),
        failed=queue.get("failed", 0),
    )
    for line in PANEL_LINES:
        extra = await line(ctx)
        if extra:
            text += "\n" + extra
    buttons = [[ctx.button(a.label_key, ADMIN, a.key)] for a in ADMIN_ACTIONS.values()]
    return [Reply(text, buttons)]


@choice(ADMIN, coordinator_only=True)
async def on_admin(ctx: Context, callback: Callback) -> list[Reply]:
    action = ADMIN_ACTIONS.get(callback.step)
    if action is None:
        return [ctx.reply("input.stale_button")]
    return await action.handler(ctx, callback)
