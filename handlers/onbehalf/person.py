"""An entry afterwards: carrying on with it, and the person's rights.

A coordinator who stops an entry half-way (/cancel, "later") is told its number,
and `/onbehalf <number>` lets them carry on where they stopped. Someone without
a smartphone cannot send /mydata or /forget; they ask the centre (in person, by
phone, on paper), and a coordinator opens their entry the same way: a file with
everything stored about them to print, or the erasure /forget does, after a
confirmation that says it cannot be undone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Literal

from babel.dates import format_date

from handlers.contest import proposal as proposal_flow
from handlers.contest.buttons import PROPOSAL
from handlers.contest.draft import closed_reply, editable
from handlers.core import flow_state, staff
from handlers.core.callbacks import CallbackData, kind
from handlers.core.context import Context
from handlers.core.events import OutgoingFile, Reply
from handlers.core.routing import Router
from handlers.surveys import conversation as survey_flow
from handlers.surveys.conversation import SURVEY
from storage import erasure, events, personal_data, proposals, residents, surveys
from storage import on_behalf as store
from storage.models import Conversation, EntryOnBehalf, Resident

router = Router("onbehalf.person")


@kind("obperson")
@dataclass(frozen=True)
class PersonPress(CallbackData):
    """`obperson:<what>:<entry>`: the person's data, or their erasure (asked, then done)."""

    what: Literal["resume", "data", "forget", "yes", "no"]
    entry: int


async def card(ctx: Context, number: int) -> list[Reply]:
    """An entry as the coordinator sees it, with the person's rights as buttons."""
    found = await _entry_and_person(ctx, number)
    if found is None:
        return [ctx.reply("onbehalf.unknown_entry", number=number)]
    entry, person = found
    text = ctx.t(
        "onbehalf.card",
        number=entry.id,
        date=format_date(entry.entered_on, "d MMMM y", locale=ctx.language),
        channel=ctx.t(f"onbehalf.via.{entry.channel}"),
        note=entry.consent_note,
    )
    if person is None:
        return [Reply(f"{text}\n\n{ctx.t('onbehalf.person_forgotten')}")]
    buttons = []
    if entry.status == store.OPEN and entry.entered_by == ctx.event.user_id:
        buttons.append([ctx.button("onbehalf.resume", PersonPress("resume", entry.id))])
    buttons += [
        [ctx.button("onbehalf.person_data", PersonPress("data", entry.id))],
        [ctx.button("onbehalf.person_forget", PersonPress("forget", entry.id))],
    ]
    return [Reply(text, buttons)]


async def _entry_and_person(
    ctx: Context, number: int
) -> tuple[EntryOnBehalf, Resident | None] | None:
    entry = await store.get(ctx.session, number)
    if entry is None:
        return None
    person = await residents.get(ctx.session, entry.resident_id) if entry.resident_id else None
    if person is not None and person.forgotten_at is not None:
        person = None
    return entry, person


@router.choice(PersonPress, coordinator_only=True)
async def on_press(ctx: Context, pressed: PersonPress) -> list[Reply]:
    found = await _entry_and_person(ctx, pressed.entry)
    if found is None or found[1] is None:
        return [ctx.reply("onbehalf.person_forgotten")]
    entry, person = found
    if pressed.what == "resume":
        return await _resume(ctx, entry)
    if pressed.what == "data":
        data = await personal_data.collect(ctx.session, person)
        content = json.dumps(data, ensure_ascii=False, indent=2).encode()
        name = f"dane-{entry.id}.json" if ctx.language == "pl" else f"data-{entry.id}.json"
        await events.record(
            ctx.session, "data_exported", resident_id=person.id, data={"by": "coordinator"}
        )
        file = OutgoingFile(name, "application/json", content)
        return [Reply(ctx.t("onbehalf.person_data_caption", number=entry.id), file=file)]
    if pressed.what == "forget":
        buttons = [
            [ctx.button("onbehalf.person_forget_yes", PersonPress("yes", entry.id))],
            [ctx.button("onbehalf.person_forget_no", PersonPress("no", entry.id))],
        ]
        return [ctx.reply("onbehalf.person_forget_question", buttons=buttons, number=entry.id)]
    if pressed.what == "no":
        return [ctx.reply("onbehalf.person_kept")]
    await _erase(ctx, person)
    return [ctx.reply("onbehalf.person_forgotten_now", number=entry.id)]


async def _resume(ctx: Context, entry: EntryOnBehalf) -> list[Reply]:
    """Back to an unfinished entry, at its first unanswered question."""
    if entry.status != store.OPEN or entry.entered_by != ctx.event.user_id:
        return [ctx.reply("input.stale_button")]
    await staff.working_row(ctx)
    if entry.kind == store.SURVEY:
        survey = ctx.services.surveys.get(entry.subject)
        response = await surveys.get_response(ctx.session, entry.response_id or 0)
        if survey is None or response is None or response.status != surveys.STARTED:
            return [ctx.reply("survey.gone")]
        return await survey_flow.resume_response(ctx, survey, response)
    contest = ctx.services.contest
    proposal = await proposals.get(ctx.session, entry.proposal_id or 0)
    if contest is None or proposal is None:
        return [ctx.reply("proposal.gone")]
    if not editable(ctx, contest, proposal):
        return [closed_reply(ctx, contest) or ctx.reply("proposal.gone")]
    return await proposal_flow.resume(ctx, contest, proposal)


@router.cancel_hook
async def _paused(ctx: Context, conversation: Conversation) -> Reply | None:
    """/cancel in a form entered for someone: how to come back to it."""
    if not ctx.is_coordinator or conversation.flow not in (SURVEY, PROPOSAL):
        return None
    state = flow_state.read(conversation.answers, ("survey", "response", "proposal")).state
    if conversation.flow == SURVEY:
        entry = await store.open_for_response(ctx.session, int(state.get("response", 0)))
    else:
        entry = await store.for_proposal(ctx.session, int(state.get("proposal", 0)))
    if entry is None or entry.status != store.OPEN or entry.entered_by != ctx.event.user_id:
        return None
    return ctx.reply("onbehalf.paused", number=entry.id)


async def _erase(ctx: Context, person: Resident) -> None:
    """What a confirmed /forget does, for a person who has no chat of their own."""
    entries = await store.of_resident(ctx.session, person.id)
    addresses = [e.email for e in entries if e.email]
    names = [e.name for e in entries if e.name]
    prefixes = [f"onbehalf:{e.id}" for e in entries]
    for proposal in await proposals.of_resident(ctx.session, person.id):
        prefixes += [f"proposal:{proposal.id}:", f"proposal-notice:{proposal.id}:"]
    theirs = replace(ctx, resident=person)
    for hook in ctx.routes.forget_hooks:
        await hook(theirs)
    await erasure.purge_outbox(
        ctx.session,
        resident_id=person.id,
        chats=[],
        addresses=addresses,
        key_prefixes=prefixes,
        identifiers=addresses + names,
    )
    await residents.forget(ctx.session, person)
    await events.record(ctx.session, "forgotten", resident_id=person.id, data={"by": "coordinator"})
