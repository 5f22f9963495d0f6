"""A coordinator changes a proposal's status, with a message to the applicant.

Changing a status asks for the date until which edits are allowed (when asking
for changes) and for the coordinator's own words; then, in one transaction, the
history gets the note, the status changes and the applicant is told in chat and
by e-mail: the contest's message for the new status, then the coordinator's note.

The coordinator's note flow (conversation flow `rvnote`; data: the proposal id,
the new status and the date), step by step:

    date   typed date (only when asking for changes)  -> note
    note   typed note, or the NoteSkip button          -> applied
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, time
from typing import Any

from babel.dates import format_datetime

from handlers.contest import records
from handlers.contest.buttons import (
    DATE_STEP,
    NOTE,
    NOTE_STEP,
    NoteSkip,
    ReviewChange,
    ReviewShow,
)
from handlers.contest.model import Contest
from handlers.contest.review import status_label
from handlers.core import flow
from handlers.core.admin import refuse
from handlers.core.context import Context
from handlers.core.events import Button, Kind, Reply
from handlers.core.flow import InvalidAnswer
from handlers.core.forms import Question, QuestionType, Text
from handlers.core.mail_out import queue_email
from handlers.core.notify import tell
from handlers.core.routing import Router
from handlers.core.staff import working_row
from storage import conversations, events, residents
from storage import proposals as store
from storage.models import Conversation
from storage.proposals import Proposal

MAX_NOTE = 2000
# The date asked when requesting changes, read like a date answer of a form.
EDIT_UNTIL = Question(id="edit_until", type=QuestionType.DATE, text=Text(""))
router = Router("contest.review_change")


router.cancel_text(NOTE, "review.note_cancelled")


# --- changing the status ----------------------------------------------------------------


@router.choice(ReviewChange, coordinator_only=True)
async def on_change(ctx: Context, pressed: ReviewChange) -> list[Reply]:
    contest = ctx.services.contest
    if contest is None:
        return [ctx.reply("review.no_contest")]
    proposal = await store.get(ctx.session, pressed.proposal)
    if proposal is None or proposal.contest != contest.slug:
        return [ctx.reply("review.gone")]
    return await begin_change(ctx, contest, proposal, pressed.status)


async def begin_change(
    ctx: Context, contest: Contest, proposal: Proposal, target: str
) -> list[Reply]:
    refused = change_refused(ctx, proposal, target)
    if refused is not None:
        return [refused]
    row = await working_row(ctx)
    step = DATE_STEP if target == store.CHANGES_REQUESTED else NOTE_STEP
    state = {"proposal": proposal.id, "status": target}
    await conversations.begin(ctx.session, resident_id=row.id, flow=NOTE, step=step, answers=state)
    if step == DATE_STEP:
        return [ctx.reply("review.ask_date", number=records.label(proposal))]
    return [_ask_note(ctx, contest, proposal, target)]


def change_refused(ctx: Context, proposal: Proposal, target: str) -> Reply | None:
    """Why `proposal` cannot go to `target` now, or None when it can."""
    if target not in records.TARGETS:
        return ctx.reply("input.stale_button")
    if proposal.status not in records.CHANGEABLE:
        return ctx.reply("review.not_changeable", status=status_label(ctx, proposal.status))
    if proposal.status == target:
        return ctx.reply(
            "review.same_status",
            number=records.label(proposal),
            status=status_label(ctx, target),
        )
    return None


def _ask_note(ctx: Context, contest: Contest, proposal: Proposal, target: str) -> Reply:
    message = getattr(contest.messages, target).get(proposal.language)
    skip = Button(ctx.t("review.no_note"), NoteSkip("skip").pack())
    leave = Button(ctx.t("review.note_leave"), NoteSkip("cancel").pack())
    return ctx.reply(
        "review.ask_note",
        buttons=[[skip], [leave]],
        number=records.label(proposal),
        status=status_label(ctx, target),
        message=message,
    )


async def _position(
    ctx: Context,
) -> tuple[Contest, Proposal, dict[str, Any], Conversation] | list[Reply]:
    """The change in progress, or the replies that end it."""
    assert ctx.resident is not None
    conversation = await conversations.current(ctx.session, ctx.resident.id)
    assert conversation is not None and conversation.flow == NOTE
    if not ctx.is_coordinator:
        await conversations.end(ctx.session, ctx.resident.id)
        return await refuse(ctx, "status note")
    contest = ctx.services.contest
    state = dict(conversation.answers)
    proposal = await store.get(ctx.session, int(state.get("proposal", 0)))
    if contest is None or proposal is None or proposal.contest != contest.slug:
        await conversations.end(ctx.session, ctx.resident.id)
        return [ctx.reply("review.gone")]
    return contest, proposal, state, conversation


async def _date_typed(
    ctx: Context, contest: Contest, proposal: Proposal, state: dict[str, Any], text: str
) -> list[Reply]:
    until = edit_until(ctx, text)
    assert ctx.resident is not None
    conversation = await conversations.current(ctx.session, ctx.resident.id)
    assert conversation is not None
    answers = {**state, "until": until.isoformat()}
    await conversations.advance(ctx.session, conversation, step=NOTE_STEP, answers=answers)
    return [_ask_note(ctx, contest, proposal, state["status"])]


async def _note_typed(
    ctx: Context, contest: Contest, proposal: Proposal, state: dict[str, Any], text: str
) -> list[Reply]:
    note = flow.free_text(text, min_length=None, max_length=MAX_NOTE)
    return await apply_change(ctx, contest, proposal, state, note)


# What a typed message does at each step of the note flow (NoteSkip: the router).
TYPED: dict[
    str, Callable[[Context, Contest, Proposal, dict[str, Any], str], Awaitable[list[Reply]]]
] = {
    DATE_STEP: _date_typed,
    NOTE_STEP: _note_typed,
}


@router.flow(NOTE, coordinator_only=True)
async def on_note_input(ctx: Context) -> list[Reply]:
    at = await _position(ctx)
    if isinstance(at, list):
        return at
    contest, proposal, state, conversation = at
    text = ctx.event.text if ctx.event.kind is Kind.TEXT else None
    try:
        if text is None or conversation.step not in TYPED:
            raise InvalidAnswer("review.type_note")
        return await TYPED[conversation.step](ctx, contest, proposal, state, text)
    except InvalidAnswer as error:
        return [ctx.reply(error.key, **error.values)]


@router.choice(NoteSkip, coordinator_only=True, stateful=True)
async def on_note_choice(ctx: Context, pressed: NoteSkip) -> list[Reply]:
    at = await _position(ctx)
    if isinstance(at, list):
        return at
    contest, proposal, state, conversation = at
    if pressed.choice == "cancel":
        await conversations.end(ctx.session, conversation.resident_id)
        back = Button(ctx.t("review.back_to_proposal"), ReviewShow(proposal.id).pack())
        return [ctx.reply("review.note_cancelled", buttons=[[back]])]
    return await apply_change(ctx, contest, proposal, state, None)


def edit_until(ctx: Context, text: str) -> datetime:
    """The end of the given day in the centre's time zone; today or later."""
    day = date.fromisoformat(flow.parse_text(EDIT_UNTIL, text))
    today = ctx.services.clock().astimezone(ctx.services.timezone).date()
    if day < today:
        raise InvalidAnswer("review.date_past")
    return datetime.combine(day, time(23, 59, 59), tzinfo=ctx.services.timezone)


async def apply_change(
    ctx: Context, contest: Contest, proposal: Proposal, state: dict[str, Any], note: str | None
) -> list[Reply]:
    """History, status, the applicant told in chat and by e-mail: one transaction."""
    assert ctx.resident is not None
    await conversations.end(ctx.session, ctx.resident.id)
    target = str(state.get("status"))
    if proposal.status not in records.CHANGEABLE or target not in records.TARGETS:
        return [ctx.reply("review.not_changeable", status=status_label(ctx, proposal.status))]
    if target == store.CHANGES_REQUESTED:
        until = state.get("until")
        proposal.edit_until = datetime.fromisoformat(until) if until else None
    await store.record(
        ctx.session, proposal, "status", to_status=target, actor=ctx.event.user_id, note=note
    )
    await events.record(
        ctx.session,
        "proposal_status_changed",
        resident_id=proposal.resident_id,
        data={"number": proposal.number, "status": target, "by": ctx.event.user_id},
    )
    number = records.label(proposal)
    lines = [ctx.t("review.status_changed", number=number, status=status_label(ctx, target))]
    lines += await notify_applicant(ctx, contest, proposal, note)
    return [Reply("\n".join(lines))]


def applicant_message(
    ctx: Context,
    contest: Contest,
    proposal: Proposal,
    note: str | None,
    *,
    status: str,
    until: datetime | None,
) -> str:
    """What the applicant reads when `proposal` goes to `status` (also shown as a preview)."""
    language = proposal.language
    texts = ctx.services.translator
    parts = [
        texts.text(
            language,
            "review.applicant_header",
            contest=contest.name.get(language),
            number=records.label(proposal),
            title=records.title(contest, proposal),
        ),
        getattr(contest.messages, status).get(language),
    ]
    if note:
        parts.append(texts.text(language, "review.applicant_note", note=note))
    if status == store.CHANGES_REQUESTED and until is not None:
        local = until.astimezone(ctx.services.timezone)
        day = format_datetime(local, "d MMMM y", locale=language)
        parts.append(texts.text(language, "review.applicant_edit_until", when=day))
    return "\n\n".join(parts)


async def notify_applicant(
    ctx: Context, contest: Contest, proposal: Proposal, note: str | None
) -> list[str]:
    """The contest's message for the new status and the note, in chat and by e-mail.

    Returns what the coordinator should know about the delivery.
    """
    language = proposal.language
    texts = ctx.services.translator
    message = applicant_message(
        ctx, contest, proposal, note, status=proposal.status, until=proposal.edit_until
    )
    key = f"review:{proposal.id}:{len(await store.history(ctx.session, proposal.id))}"
    told: list[str] = []
    resident = (
        await residents.get(ctx.session, proposal.resident_id) if proposal.resident_id else None
    )
    if resident is not None and resident.telegram_id is not None:
        await tell(
            ctx,
            chat_id=str(resident.telegram_id),
            reply=Reply(message),
            key=key + ":chat",
            resident_id=resident.id,
        )
        told.append(ctx.t("review.delivered_chat"))
    address = records.email(contest, proposal)
    if address and not ctx.services.channels.email_out:
        # Not queued: it would wait in the outbox forever; the coordinator can write.
        warnings = [ctx.t("review.email_not_configured", email=address)]
        return (told or [ctx.t("review.not_delivered")]) + warnings
    if address:
        centre = ctx.services.centre
        await queue_email(
            ctx.session,
            to=address,
            subject=texts.text(
                language,
                "review.email_subject",
                number=records.label(proposal),
                status=status_label(ctx, proposal.status, language),
            ),
            text=texts.text(
                language, "review.email_body", text=message, centre=centre.name, email=centre.email
            ),
            key=key + ":email",
            resident_id=proposal.resident_id,
        )
        told.append(ctx.t("review.delivered_email", email=address))
    if not told:
        told.append(ctx.t("review.not_delivered"))
    return told
