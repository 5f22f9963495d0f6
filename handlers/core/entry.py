"""The one entry point for every channel: `process_inbound(event)`.

It opens one store session per inbound event, routes the event to a handler,
queues the replies in the outbox, and commits all of it at once. A stored
Telegram update is marked handled in that same transaction; any other
redelivered event (same channel and external id) is recognised and ignored.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core import admin as coordinator
from handlers.core import menu, start, typed_yesno
from handlers.core.context import Context
from handlers.core.events import Inbound, Kind, Reply
from handlers.core.replies import queue_replies
from handlers.core.services import Services
from handlers.routes import ROUTES
from storage import conversations, intake, outbox, receipts, residents
from storage.db import Store

log = logging.getLogger(__name__)

# Telegram's own limit for one message; anything longer is surely not an answer.
MAX_TEXT_LENGTH = 4096


async def process_inbound(
    store: Store,
    services: Services,
    event: Inbound,
    *,
    update: intake.UpdateRef | None = None,
    last_try: bool = True,
) -> list[Reply]:
    """Handle one event; returns the replies that were queued for delivery.

    `update`: the Telegram update (storage.intake) this event came from; it is
    recorded as handled in the same transaction as the effects, which makes a
    redelivery impossible (so no receipt is checked). Unless it is the
    `last_try`, a failure is raised for the caller to try again, not apologised for.
    """
    key = event.external_id or uuid.uuid4().hex
    sender = services.reply_sender
    if sender is not None and not sender.takes(event.channel):
        sender = None
    claimed: list[outbox.Claimed] = []
    try:
        async with store.transaction() as session:
            if update is not None:
                if not await intake.settle(session, update):
                    log.info("update %d was handled already", update.update_id)
                    return []
            elif event.external_id and not await receipts.first_time(
                session, channel=event.channel, external_id=event.external_id
            ):
                log.info("ignoring redelivered %s update %s", event.channel, event.external_id)
                return []
            ctx = await _context(session, services, event)
            replies = await route(ctx)
            queued = await queue_replies(
                session,
                event=event,
                resident=ctx.resident,
                replies=replies,
                key=key,
                claim=sender is not None,
            )
        claimed = queued  # committed: a failed commit hands nothing over
        wrote = outbox.wrote_pending(session)
    except Exception as error:
        if not last_try:
            raise
        log.exception("handling %s event %s failed", event.channel, key)
        replies = await _apologise(store, services, event, key, update, error)
        wrote = bool(replies)
    if claimed and sender is not None:  # committed: delivered from now on
        sender.take(claimed)
    if wrote:  # committed: the sender may claim and deliver them now
        services.on_outbox_written()
    return replies


async def _context(session: AsyncSession, services: Services, event: Inbound) -> Context:
    resident = None
    if event.user_id is not None:
        resident = await residents.find_by_telegram_id(session, event.user_id)
        if resident is not None:
            await residents.mark_reachable(session, resident)
    language = services.translator.language_or_default(
        resident.language if resident else event.language_hint
    )
    return Context(session, event, services, resident, language, ROUTES)


async def route(ctx: Context) -> list[Reply]:
    """The handler's replies; the main menu follows them when a resident's flow ended."""
    flow_before = await _flow(ctx)
    replies = await _route(ctx)
    if (
        flow_before is not None
        and flow_before not in ROUTES.coordinator_flows
        and ctx.consented
        and await _flow(ctx) is None
    ):
        return await menu.with_menu(ctx, replies)
    return replies


async def _flow(ctx: Context) -> str | None:
    if ctx.resident is None:
        return None
    current = await conversations.current(ctx.session, ctx.resident.id)
    return current.flow if current is not None else None


async def _route(ctx: Context) -> list[Reply]:
    event = ctx.event
    if event.kind is Kind.TEXT:
        if not ctx.consented:
            answered = await start.typed_consent(ctx)
            if answered is not None:
                return answered
        pressed = await typed_yesno.as_press(ctx)
        if pressed is not None and await _current_step(ctx, pressed.choice):
            ctx.event = event = pressed
    if event.kind is Kind.COMMAND:
        return await _on_command(ctx)
    if event.kind is Kind.CHOICE:
        return await _on_choice(ctx)
    if event.kind is Kind.TEXT and len(event.text or "") > MAX_TEXT_LENGTH:
        return [ctx.reply("input.too_long", limit=MAX_TEXT_LENGTH)]
    current = await conversations.current(ctx.session, ctx.resident.id) if ctx.resident else None
    if current is not None and current.flow in ROUTES.flows:
        # --- authorization at every step (coordinator flows) ---
        if current.flow in ROUTES.coordinator_flows and not ctx.is_coordinator:
            await conversations.end(ctx.session, current.resident_id)
            return await coordinator.refuse(ctx, f"flow {current.flow}")
        # --- end ---
        return await ROUTES.flows[current.flow](ctx)
    if event.kind is Kind.TEXT and ctx.consented:
        return await menu.with_menu(ctx, [ctx.reply("input.not_understood")])
    if event.kind is Kind.TEXT:
        return [ctx.reply("input.start_first")]
    return [ctx.reply("input.unsupported")]


async def _current_step(ctx: Context, data: str | None) -> bool:
    """Whether a button still belongs to the conversation (always, for a stateless one).

    A typed "tak" under a yes/no of a step already left is an ordinary text then."""
    parsed = ROUTES.parse(data)
    choice = ROUTES.choices.get(parsed.key()) if parsed is not None else None
    if parsed is None or choice is None:
        return False
    if not choice.stateful:
        return True
    assert ctx.resident is not None
    current = await conversations.current(ctx.session, ctx.resident.id)
    return current is not None and (current.flow, current.step) == (
        parsed.prefix,
        parsed.at_step(),
    )


async def _on_command(ctx: Context) -> list[Reply]:
    name = (ctx.event.command or "").lower()
    command = ROUTES.commands.get(name)
    if command is None:
        return [ctx.reply("input.unknown_command", command=name[:50])]
    if command.coordinator_only and not ctx.is_coordinator:
        return await coordinator.refuse(ctx, f"/{name}")
    if command.needs_consent and not ctx.consented:
        return [ctx.reply("input.start_first")]
    return await command.handler(ctx)


async def _on_choice(ctx: Context) -> list[Reply]:
    # Parsed and checked in one place: a garbled, forged or unknown button is stale.
    data = ROUTES.parse(ctx.event.choice)
    choice = ROUTES.choices.get(data.key()) if data is not None else None
    if data is None or choice is None:
        return [ctx.reply("input.stale_button")]
    if choice.coordinator_only:
        if not ctx.is_coordinator:
            return await coordinator.refuse(ctx, f"button {data.key()}")
    elif not ctx.consented and not choice.without_consent:
        # A coordinator filling in a form for someone else (/onbehalf) presses its
        # buttons without being a consenting resident: only at their own step.
        if not (choice.stateful and ctx.is_coordinator):
            return [ctx.reply("input.start_first")]
    if choice.stateful:
        # A coordinator may have no row at all: then nothing is in progress either.
        current = (
            await conversations.current(ctx.session, ctx.resident.id) if ctx.resident else None
        )
        if current is None or (current.flow, current.step) != (data.prefix, data.at_step()):
            return [ctx.reply("input.stale_button")]
    return await choice.handler(ctx, data)


async def _apologise(
    store: Store,
    services: Services,
    event: Inbound,
    key: str,
    update: intake.UpdateRef | None,
    error: Exception,
) -> list[Reply]:
    language = services.translator.language_or_default(event.language_hint)
    replies = [Reply(services.translator.text(language, "error.internal"))]
    try:
        async with store.transaction() as session:
            if update is not None:
                # Set aside with the apology: a poison update must not block the queue.
                await intake.settle(session, update, error=f"{type(error).__name__}: {error}")
            await queue_replies(
                session, event=event, resident=None, replies=replies, key=key + ":error"
            )
    except Exception:
        log.exception("could not even queue the apology for %s", key)
        if update is not None:
            raise  # the intake worker records the failure and sets the update aside
        return []
    return replies
