"""/cancel: leave whatever conversation one is in (the main menu follows, entry.py)."""

from __future__ import annotations

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.menu import with_menu
from handlers.core.routing import Router
from storage import conversations

router = Router("core.cancel")


@router.command("cancel", order=80)
async def cancel(ctx: Context) -> list[Reply]:
    current = await conversations.current(ctx.session, ctx.resident.id) if ctx.resident else None
    if current is None:
        return await with_menu(ctx, [ctx.reply("cancel.nothing")])
    for hook in ctx.routes.cancel_hooks:
        instead = await hook(ctx, current)
        if instead is not None:
            await conversations.end(ctx.session, current.resident_id)
            return [instead]
    await conversations.end(ctx.session, current.resident_id)
    return [ctx.reply(ctx.routes.cancel_texts.get(current.flow, "cancel.done"))]
