"""`/panel`: a coordinator asks for a one-time link to the web panel.

The link is made by the panel (`Services.panel_link`, set when the panel is
configured); this command only hands it over, in whatever chat it was asked in.
"""

from __future__ import annotations

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.routing import Router

router = Router("core.panel_access")
# How long a link works; the panel refuses it after that (panel/links.py).
LINK_MINUTES = 10


@router.command("panel", coordinator_only=True, order=99)
async def panel_command(ctx: Context) -> list[Reply]:
    make_link = ctx.services.panel_link
    if make_link is None or ctx.event.user_id is None:
        return [ctx.reply("panel.not_configured")]
    return [ctx.reply("panel.link", link=make_link(ctx.event.user_id), minutes=LINK_MINUTES)]
