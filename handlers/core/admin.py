"""The coordinator's panel (/admin); later capabilities add its actions."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from handlers.core import mail_out
from handlers.core.callbacks import CallbackData, kind
from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.routing import Router
from storage import events, outbox, residents

log = logging.getLogger(__name__)


@kind("admin")
@dataclass(frozen=True)
class AdminOpen(CallbackData):
    """A button of the /admin panel: which action it opens."""

    action_key: str


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


router = Router("core.admin")


@router.command("admin", coordinator_only=True, order=90)
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
    text += "\n\n" + await channel_lines(ctx)
    for line in ctx.routes.panel_lines:
        extra = await line(ctx)
        if extra:
            text += "\n" + extra
    buttons = [
        [ctx.button(a.label_key, AdminOpen(a.key))] for a in ctx.routes.admin_actions.values()
    ]
    return [Reply(text, buttons)]


async def channel_lines(ctx: Context) -> str:
    """Which channels work, and what an unconfigured one means for the queue."""
    channels = ctx.services.channels

    def state(on: bool) -> str:
        return ctx.t("admin.channel_on" if on else "admin.channel_off")

    lines = [
        ctx.t(
            "admin.channels",
            telegram=state(channels.telegram),
            email_out=state(channels.email_out),
            mailbox=state(channels.mailbox),
        )
    ]
    if not channels.email_out:
        lines.append(ctx.t("admin.email_off_hint"))
        # Rows queued before SMTP went away (or by the CLI) wait until it is back.
        stuck = await outbox.status_counts(ctx.session, channel=mail_out.CHANNEL)
        waiting = stuck.get("pending", 0) + stuck.get("sending", 0)
        if waiting:
            lines.append(ctx.t("admin.email_stuck", count=waiting))
    if not channels.mailbox:
        lines.append(ctx.t("admin.mailbox_off_hint"))
    return "\n".join(lines)


@router.choice(AdminOpen, coordinator_only=True)
async def on_admin(ctx: Context, pressed: AdminOpen) -> list[Reply]:
    action = ctx.routes.admin_actions.get(pressed.action_key)
    if action is None:
        return [ctx.reply("input.stale_button")]
    return await action.handler(ctx, pressed)
