"""The coordinator's broadcasts, schedule and results announcement, in the chat.

`/broadcast`: type the text (or send a photo / document with a caption), choose
the audience, see a preview with the number of recipients, then send now or at
a chosen time. Progress arrives as one message that updates, with a stop button.
`/schedule` lists what will run when; `/announce` sets the time of the contest
results announcement.

The /broadcast flow (conversation flow `bcast`, data = what was written and the
audience), step by step:

    write     typed text / file  -> audience
    audience  AudiencePick       -> preview
    preview   PreviewChoice      now -> sent; later -> when; drop -> left
    when      typed moment       -> scheduled

`TYPED` below says what a typed message does at each step; each button kind is
valid only at its own step (the router checks, `stateful=True`).
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, tzinfo
from typing import Literal

from babel.dates import format_datetime

from handlers.broadcasts import audiences
from handlers.broadcasts.plan import current_plan
from handlers.broadcasts.plan import subject as plan_subject
from handlers.core.callbacks import CallbackData, kind
from handlers.core.context import Context
from handlers.core.events import Button, Kind, Reply
from handlers.core.flow import InvalidAnswer, parse_text
from handlers.core.forms import Question
from handlers.core.routing import Router
from handlers.core.staff import working_row
from storage import conversations
from storage import schedule as store
from storage.models import Conversation

BROADCAST = "bcast"
WRITE, AUDIENCE, PREVIEW, WHEN = "write", "audience", "preview", "when"
ANNOUNCE = "announce"
router = Router("broadcasts.commands")


@kind(BROADCAST, "stop")
@dataclass(frozen=True)
class BroadcastStop(CallbackData):
    """The stop button under a running broadcast's progress message."""

    broadcast: int


@kind(BROADCAST, AUDIENCE)
@dataclass(frozen=True)
class AudiencePick(CallbackData):
    audience: str


@kind(BROADCAST, PREVIEW)
@dataclass(frozen=True)
class PreviewChoice(CallbackData):
    choice: Literal["now", "later", "drop"]


router.cancel_text(BROADCAST, "broadcast.left")
router.cancel_text(ANNOUNCE, "broadcast.left")
MAX_TEXT = 3500
_DATE = Question.model_validate({"id": "d", "type": "date", "text": "-"})
TIME_FORMATS = ("%H:%M", "%H.%M", "%H")


def _when(ctx: Context, moment: datetime) -> str:
    local = moment.astimezone(ctx.services.timezone)
    return format_datetime(local, "d MMMM y, HH:mm", locale=ctx.language)


def parse_moment(text: str, *, timezone: tzinfo, now: datetime) -> datetime:
    """A moment typed like 15.06.2026 18:00, in the centre's time zone, in the future."""
    date_part, _, time_part = text.strip().partition(" ")
    try:
        day = datetime.fromisoformat(parse_text(_DATE, date_part)).date()
    except InvalidAnswer:
        raise InvalidAnswer("broadcast.invalid_moment") from None
    clock = time(9, 0)
    if time_part.strip():
        for pattern in TIME_FORMATS:
            try:
                clock = datetime.strptime(time_part.strip(), pattern).time()
                break
            except ValueError:
                continue
        else:
            raise InvalidAnswer("broadcast.invalid_moment")
    moment = datetime.combine(day, clock, tzinfo=timezone)
    if moment <= now:
        raise InvalidAnswer("broadcast.moment_past")
    return moment


def _moment(ctx: Context) -> datetime:
    return parse_moment(
        ctx.event.text or "", timezone=ctx.services.timezone, now=ctx.services.clock()
    )


@router.command("broadcast", coordinator_only=True, order=94)
async def broadcast_command(ctx: Context) -> list[Reply]:
    await conversations.begin(
        ctx.session, resident_id=(await working_row(ctx)).id, flow=BROADCAST, step=WRITE
    )
    return [ctx.reply("broadcast.write")]


async def _written(ctx: Context, conversation: Conversation) -> list[Reply]:
    text = (ctx.event.text or "").strip()
    state: dict[str, object] = {}
    if ctx.event.kind is Kind.FILE and ctx.event.file is not None:
        file = ctx.event.file
        if file.content is None:
            raise InvalidAnswer("broadcast.file_too_big")
        state["file"] = {
            "name": file.name or "zalacznik",
            "mime_type": file.mime_type or "application/octet-stream",
            "content_b64": base64.b64encode(file.content).decode(),
        }
    elif ctx.event.kind is not Kind.TEXT:
        raise InvalidAnswer("broadcast.write")
    if not text and "file" not in state:
        raise InvalidAnswer("flow.invalid.empty")
    if len(text) > MAX_TEXT:
        raise InvalidAnswer("flow.invalid.too_long", max=MAX_TEXT, length=len(text))
    state["text"] = text
    await conversations.advance(ctx.session, conversation, step=AUDIENCE, answers=state)
    buttons = [
        [Button(ctx.t(label, **values), AudiencePick(key).pack())]
        for key, label, values in audiences.choices(ctx.services)
    ]
    return [ctx.reply("broadcast.audience", buttons=buttons)]


async def _moment_typed(ctx: Context, conversation: Conversation) -> list[Reply]:
    return await _create(ctx, conversation.answers, _moment(ctx))


# What a typed message does at each step of /broadcast; at the other steps, buttons.
TYPED: dict[str, Callable[[Context, Conversation], Awaitable[list[Reply]]]] = {
    WRITE: _written,
    WHEN: _moment_typed,
}


@router.flow(BROADCAST, coordinator_only=True)
async def on_input(ctx: Context) -> list[Reply]:
    assert ctx.resident is not None
    conversation = await conversations.current(ctx.session, ctx.resident.id)
    assert conversation is not None
    step = TYPED.get(conversation.step)
    try:
        if step is None:
            raise InvalidAnswer("flow.invalid.use_buttons")
        return await step(ctx, conversation)
    except InvalidAnswer as error:
        return [ctx.reply(error.key, **error.values)]


async def _current(ctx: Context) -> Conversation:
    assert ctx.resident is not None
    conversation = await conversations.current(ctx.session, ctx.resident.id)
    assert conversation is not None  # the router let a stateful button through
    return conversation


@router.choice(BroadcastStop, coordinator_only=True)
async def on_stop(ctx: Context, pressed: BroadcastStop) -> list[Reply]:
    return await _stop(ctx, pressed.broadcast)


@router.choice(AudiencePick, coordinator_only=True, stateful=True)
async def on_audience(ctx: Context, pressed: AudiencePick) -> list[Reply]:
    if not audiences.is_known(ctx.services, pressed.audience):
        return [ctx.reply("input.stale_button")]
    conversation = await _current(ctx)
    state = {**conversation.answers, "audience": pressed.audience}
    count = len(await audiences.resolve(ctx.session, ctx.services, pressed.audience))
    await conversations.advance(ctx.session, conversation, step=PREVIEW, answers=state)
    preview = ctx.t("broadcast.preview", count=count, text=state.get("text") or "")
    buttons = [
        [Button(ctx.t("broadcast.send_now"), PreviewChoice("now").pack())],
        [Button(ctx.t("broadcast.send_later"), PreviewChoice("later").pack())],
        [Button(ctx.t("broadcast.drop"), PreviewChoice("drop").pack())],
    ]
    return [Reply(preview, buttons)]


@router.choice(PreviewChoice, coordinator_only=True, stateful=True)
async def on_preview(ctx: Context, pressed: PreviewChoice) -> list[Reply]:
    conversation = await _current(ctx)
    if pressed.choice == "now":
        return await _create(ctx, conversation.answers, None)
    if pressed.choice == "later":
        await conversations.advance(
            ctx.session, conversation, step=WHEN, answers=conversation.answers
        )
        return [ctx.reply("broadcast.ask_when")]
    await conversations.end(ctx.session, conversation.resident_id)
    return [ctx.reply("broadcast.dropped")]


async def _create(ctx: Context, state: dict, moment: datetime | None) -> list[Reply]:  # type: ignore[type-arg]
    assert ctx.resident is not None
    broadcast = await store.create_broadcast(
        ctx.session,
        created_by=ctx.event.user_id,
        text=str(state.get("text") or ""),
        audience=str(state["audience"]),
        file=state.get("file"),  # type: ignore[arg-type]
        scheduled_at=moment or ctx.services.clock(),
        progress_channel=ctx.event.channel,
        progress_chat=ctx.event.chat_id,
    )
    await conversations.end(ctx.session, ctx.resident.id)
    ctx.services.on_schedule_changed()
    if moment is None:
        return [ctx.reply("broadcast.queued", number=broadcast.id)]
    return [ctx.reply("broadcast.scheduled", number=broadcast.id, when=_when(ctx, moment))]


async def _stop(ctx: Context, broadcast_id: int) -> list[Reply]:
    broadcast = await store.get_broadcast(ctx.session, broadcast_id)
    if broadcast is None or broadcast.status in (store.DONE, store.CANCELLED):
        return [ctx.reply("broadcast.nothing_to_stop")]
    cancelled = await store.cancel_broadcast(ctx.session, broadcast)
    ctx.services.on_schedule_changed()
    return [ctx.reply("broadcast.stopped", number=broadcast_id, count=cancelled)]


@router.command("schedule", coordinator_only=True, order=95)
async def schedule_command(ctx: Context) -> list[Reply]:
    planned = await current_plan(
        ctx.session,
        surveys=ctx.services.surveys,
        contest=ctx.services.contest,
        rules=ctx.services.schedule_rules,
        now=ctx.services.clock(),
    )
    if not planned:
        return [ctx.reply("schedule.empty")]
    lines = [ctx.t("schedule.title")]
    lines += [
        ctx.t(
            "schedule.line",
            when=_when(ctx, job.run_at),
            what=ctx.t(
                f"schedule.kind.{job.kind}",
                key=job.key,
                title=plan_subject(
                    job,
                    surveys=ctx.services.surveys,
                    contest=ctx.services.contest,
                    language=ctx.language,
                ),
            ),
        )
        for job in planned
    ]
    return [Reply("\n".join(lines))]


@router.command("announce", coordinator_only=True, order=96)
async def announce_command(ctx: Context) -> list[Reply]:
    if ctx.services.contest is None:
        return [ctx.reply("proposal.no_contest")]
    await conversations.begin(
        ctx.session, resident_id=(await working_row(ctx)).id, flow=ANNOUNCE, step=WHEN
    )
    return [ctx.reply("announce.ask")]


@router.flow(ANNOUNCE, coordinator_only=True)
async def on_announce_input(ctx: Context) -> list[Reply]:
    assert ctx.resident is not None and ctx.services.contest is not None
    try:
        moment = _moment(ctx)
    except InvalidAnswer as error:
        return [ctx.reply(error.key, **error.values)]
    await store.set_announcement(
        ctx.session, contest=ctx.services.contest.slug, at=moment, set_by=ctx.event.user_id
    )
    await conversations.end(ctx.session, ctx.resident.id)
    ctx.services.on_schedule_changed()
    return [ctx.reply("announce.set", when=_when(ctx, moment))]
