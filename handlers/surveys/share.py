"""Sharing a survey's results with the subscribers: a preview first, then send or cancel.

What leaves the coordinators is the public part only (`handlers.surveys.parts`):
the overview and the aggregates of closed questions, with their charts. No
personal or contact question, no free text of "other", no open answer, unless
the coordinator ticks single open answers in the preview (none by default).

1. "📣 Share the results" (after /results). If the survey is still open, the
   coordinator first confirms that these are interim results (then marked so).
2. The preview: exactly the messages the subscribers will get (a short summary,
   the charts as one album, the report file), then the open answers with a tick
   button each (the ticked ones go word for word into the report), and "send" /
   "cancel". The preview lives in
   the coordinator's conversation (flow `rshare`): the survey, the interim mark,
   the open answers offered, the ticked ones and a digest of the aggregates.
3. "Send" rebuilds the messages; if new answers changed them since the preview,
   a fresh preview is shown instead of sending something the coordinator has not
   seen. Every press and typed line is checked against the coordinator list of
   that moment (the buttons are `coordinator_only`; the flow checks typed text).
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

from babel.dates import format_datetime
from sqlalchemy import event

from handlers.broadcasts import audiences
from handlers.core.admin import refuse
from handlers.core.context import Context
from handlers.core.events import Button, Reply
from handlers.core.forms import QuestionType, Survey
from handlers.core.replies import to_payload
from handlers.core.routing import Router
from handlers.core.staff import working_row
from handlers.surveys import parts, results
from handlers.surveys.admin import result_messages
from handlers.surveys.buttons import (
    PREVIEW,
    SHARE,
    ResultsShare,
    ShareCancel,
    ShareInterim,
    ShareSend,
    ShareToggle,
)
from storage import conversations, schedule
from storage import events as event_log

AUDIENCE = "subscribers"
# Open answers offered for picking: the latest ones, short, so that the list,
# its buttons and the question fit one Telegram message (4096 characters).
MAX_OFFERED = 20
PER_ROW = 5
ANSWER_LENGTH = 150

router = Router("surveys.share")
router.cancel_text(SHARE, "surveyadmin.share_cancelled")


def _open_now(ctx: Context, survey: Survey) -> bool:
    now = ctx.services.clock()
    return (survey.opens is None or survey.opens <= now) and (
        survey.closes is None or now < survey.closes
    )


@router.choice(ResultsShare, ShareInterim, coordinator_only=True)
async def on_share(ctx: Context, pressed: ResultsShare | ShareInterim) -> list[Reply]:
    survey = ctx.services.surveys.get(pressed.slug)
    if survey is None:
        return [ctx.reply("input.stale_button")]
    # A survey closed since the interim question was asked has final results.
    interim = _open_now(ctx, survey)
    if interim and not isinstance(pressed, ShareInterim):
        return [_interim_question(ctx, survey)]
    return await _preview(ctx, survey, interim=interim)


def _interim_question(ctx: Context, survey: Survey) -> Reply:
    title = survey.title.get(ctx.language)
    if survey.closes is None:
        text = ctx.t("surveyadmin.share_still_open_undated", title=title)
    else:
        local = survey.closes.astimezone(ctx.services.timezone)
        when = format_datetime(local, "d MMMM y, HH:mm", locale=ctx.language)
        text = ctx.t("surveyadmin.share_still_open", title=title, when=when)
    buttons = [
        [Button(ctx.t("surveyadmin.share_interim_yes"), ShareInterim(survey.slug).pack(), "yes")],
        [Button(ctx.t("surveyadmin.share_no"), ShareCancel().pack(), "no")],
    ]
    return Reply(text, buttons)


# --- what the subscribers get -------------------------------------------------------


@dataclasses.dataclass
class Outward:
    """The messages for the subscribers and the open answers a coordinator may pick."""

    replies: list[Reply]
    offered: list[str]
    digest: str


async def _outward(
    ctx: Context, survey: Survey, *, interim: bool, picked: list[str] | None = None
) -> Outward:
    responses = await results.load_results(ctx.session, survey)
    overview = results.overview(responses)
    summaries = results.summarise(survey, responses, language=ctx.language)
    public = [
        # The free texts of "other" are open answers: only picked ones are sent.
        dataclasses.replace(s, other_texts=[])
        for s in summaries
        if parts.is_public(survey, s.question)
    ]
    messages = result_messages(
        ctx,
        survey,
        overview,
        public,
        report_caption=ctx.t("surveyadmin.report_shared"),
        interim=interim,
        picked=picked,
    )
    offered: list[str] = []
    for summary in summaries:
        if parts.is_pickable(survey, summary.question):
            free = summary.answers if summary.type is QuestionType.TEXT else summary.other_texts
            offered += [_short(answer) for answer in free if answer.strip()]
    # What the numbers are, not how they look: the report of a send also holds the picks.
    digest = hashlib.sha256(repr((overview, public, interim)).encode()).hexdigest()
    return Outward(messages.replies(), offered[-MAX_OFFERED:], digest)


def _short(answer: str) -> str:
    text = " ".join(answer.split())
    return text if len(text) <= ANSWER_LENGTH else text[: ANSWER_LENGTH - 1] + "…"


def _picked(offered: list[str], picked: list[int]) -> list[str]:
    return [offered[i] for i in sorted(set(picked)) if 0 <= i < len(offered)]


# --- the preview ------------------------------------------------------------------


async def _preview(
    ctx: Context, survey: Survey, *, interim: bool, note: str | None = None
) -> list[Reply]:
    outward = await _outward(ctx, survey, interim=interim)
    count = len(await audiences.resolve(ctx.session, ctx.services, AUDIENCE))
    state = {
        "survey": survey.slug,
        "interim": interim,
        "offered": outward.offered,
        "picked": [],
        "digest": outward.digest,
    }
    row = await working_row(ctx)
    await conversations.begin(
        ctx.session, resident_id=row.id, flow=SHARE, step=PREVIEW, answers=state
    )
    head = ctx.t("surveyadmin.share_preview", count=count)
    return [
        Reply(f"{note}\n\n{head}" if note else head),
        *outward.replies,
        _decision(ctx, outward.offered, [], count),
    ]


def _decision(ctx: Context, offered: list[str], picked: list[int], count: int) -> Reply:
    """The open answers to tick (none by default), then send / cancel."""
    lines: list[str] = []
    buttons: list[list[Button]] = []
    if offered:
        lines.append(ctx.t("surveyadmin.share_open_list", count=len(offered)))
        row: list[Button] = []
        for index, answer in enumerate(offered):
            mark = "☑" if index in picked else "☐"
            lines.append(f"{mark} {index + 1}. {answer}")
            row.append(Button(f"{mark} {index + 1}", ShareToggle(index).pack()))
            if len(row) == PER_ROW:
                buttons.append(row)
                row = []
        if row:
            buttons.append(row)
        # The ticked lines are sent word for word under this heading.
        heading = ctx.t("surveyadmin.share_picked_head")
        lines += ["", ctx.t("surveyadmin.share_picked_note", heading=heading, count=len(picked))]
    lines.append(ctx.t("surveyadmin.share_question", count=count))
    buttons.append(
        [
            Button(ctx.t("surveyadmin.share_yes"), ShareSend().pack(), "yes"),
            Button(ctx.t("surveyadmin.share_no"), ShareCancel().pack(), "no"),
        ]
    )
    return Reply("\n".join(lines), buttons)


async def _state(ctx: Context) -> tuple[Any, dict[str, Any], Survey] | None:
    assert ctx.resident is not None  # a stateful button: the conversation exists
    current = await conversations.current(ctx.session, ctx.resident.id)
    if current is None:
        return None
    state = dict(current.answers)
    survey = ctx.services.surveys.get(str(state.get("survey", "")))
    if survey is None:
        return None
    return current, state, survey


@router.choice(ShareToggle, stateful=True, coordinator_only=True)
async def on_toggle(ctx: Context, pressed: ShareToggle) -> list[Reply]:
    found = await _state(ctx)
    if found is None or pressed.index >= len(found[1].get("offered", [])):
        return [ctx.reply("input.stale_button")]
    current, state, _ = found
    picked = [int(i) for i in state.get("picked", [])]
    if pressed.index in picked:
        picked.remove(pressed.index)
    else:
        picked.append(pressed.index)
    state["picked"] = sorted(picked)
    await conversations.advance(ctx.session, current, step=PREVIEW, answers=state)
    count = len(await audiences.resolve(ctx.session, ctx.services, AUDIENCE))
    reply = _decision(ctx, list(state["offered"]), state["picked"], count)
    reply.replace = True
    return [reply]


@router.choice(ShareSend, stateful=True, coordinator_only=True)
async def on_send(ctx: Context, pressed: ShareSend) -> list[Reply]:
    found = await _state(ctx)
    if found is None:
        return [ctx.reply("input.stale_button")]
    _, state, survey = found
    interim = bool(state.get("interim"))
    if _open_now(ctx, survey) and not interim:
        return [_interim_question(ctx, survey)]
    picked = _picked(list(state.get("offered", [])), list(state.get("picked", [])))
    outward = await _outward(ctx, survey, interim=interim, picked=picked)
    if outward.digest != state.get("digest"):
        return await _preview(ctx, survey, interim=interim, note=ctx.t("surveyadmin.share_changed"))
    broadcast = await _queue(ctx, outward.replies)
    assert ctx.resident is not None
    await conversations.end(ctx.session, ctx.resident.id)
    await event_log.record(
        ctx.session,
        "survey_results_shared",
        data={
            "survey": survey.slug,
            "broadcast": broadcast,
            "interim": interim,
            "open_answers": len(state.get("picked", [])),
        },
    )
    return [ctx.reply("broadcast.queued", number=broadcast)]


async def _queue(ctx: Context, replies: list[Reply]) -> int:
    """One broadcast to the subscribers: the first message, the rest as its extra parts."""
    payloads = [to_payload(reply) for reply in replies]
    first = payloads[0]
    extra = [
        {"text": p["text"], "file": p.get("file"), "album": p.get("album")} for p in payloads[1:]
    ]
    broadcast = await schedule.create_broadcast(
        ctx.session,
        created_by=ctx.event.user_id,
        text=first["text"],
        audience=AUDIENCE,
        extra=extra,
        scheduled_at=ctx.services.clock(),
        progress_channel=ctx.event.channel,
        progress_chat=ctx.event.chat_id,
    )
    # The scheduler plans from the store in its own session: told before this
    # transaction commits, it may not see the broadcast yet (PostgreSQL).
    changed = ctx.services.on_schedule_changed
    event.listen(ctx.session.sync_session, "after_commit", lambda _: changed(), once=True)
    return broadcast.id


@router.choice(ShareCancel, coordinator_only=True)
async def on_cancel(ctx: Context, pressed: ShareCancel) -> list[Reply]:
    if ctx.resident is not None:
        current = await conversations.current(ctx.session, ctx.resident.id)
        if current is not None and current.flow == SHARE:
            await conversations.end(ctx.session, ctx.resident.id)
    return [ctx.reply("surveyadmin.share_cancelled")]


@router.flow(SHARE, coordinator_only=True)
async def on_typed(ctx: Context) -> list[Reply]:
    """Typing during the preview: it waits for a button (or /cancel)."""
    assert ctx.resident is not None
    if not ctx.is_coordinator:
        await conversations.end(ctx.session, ctx.resident.id)
        return await refuse(ctx, "sharing results")
    return [ctx.reply("surveyadmin.share_use_buttons")]
