"""The resident's rights: see everything stored (/mydata) and erase it (/forget)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.callbacks import CallbackData, kind
from handlers.core.context import Context
from handlers.core.events import OutgoingFile, Reply
from handlers.core.routing import Router
from storage import (
    conversations,
    erasure,
    events,
    intake,
    mail,
    personal_data,
    proposals,
    questions,
    residents,
)
from storage.models import Resident

FORGET = "forget"
CONFIRM = "confirm"


@kind(FORGET, CONFIRM)
@dataclass(frozen=True)
class ForgetAnswer(CallbackData):
    answer: Literal["yes", "no"]


router = Router("privacy.rights")


@router.command("mydata", order=60)
async def mydata(ctx: Context) -> list[Reply]:
    if ctx.resident is None:
        return [ctx.reply("mydata.nothing")]
    data = await personal_data.collect(ctx.session, ctx.resident)
    for taken in data.get("anonymous_surveys_taken", []):
        survey = ctx.services.surveys.get(taken["survey"])
        title = survey.title.get(ctx.language) if survey else taken["survey"]
        taken["note"] = ctx.t("mydata.anonymous_survey", title=title)
    content = json.dumps(data, ensure_ascii=False, indent=2).encode()
    file = OutgoingFile(name="mydata.json", mime_type="application/json", content=content)
    await events.record(ctx.session, "data_exported", resident_id=ctx.resident.id)
    return [Reply(ctx.t("mydata.caption"), file=file)]


@router.command("forget", order=70)
async def forget(ctx: Context) -> list[Reply]:
    if ctx.resident is None:
        return [ctx.reply("forget.nothing")]
    await conversations.begin(ctx.session, resident_id=ctx.resident.id, flow=FORGET, step=CONFIRM)
    buttons = ctx.yes_no("forget.yes", ForgetAnswer("yes"), "forget.no", ForgetAnswer("no"))
    return [ctx.reply("forget.question", buttons=buttons)]


@router.choice(ForgetAnswer, stateful=True)
async def on_forget(ctx: Context, pressed: ForgetAnswer) -> list[Reply]:
    assert ctx.resident is not None
    await conversations.end(ctx.session, ctx.resident.id)
    if pressed.answer != "yes":
        return [ctx.reply("forget.kept")]
    resident = ctx.resident
    footprint = await _footprint(ctx.session, resident)
    for hook in ctx.routes.forget_hooks:
        await hook(ctx)
    await erasure.purge_outbox(ctx.session, resident_id=resident.id, **footprint)
    if resident.telegram_id is not None:
        # A private chat's id is the person's id.
        await intake.forget_chat(ctx.session, resident.telegram_id)
    await residents.forget(ctx.session, resident)
    await events.record(ctx.session, "forgotten", resident_id=resident.id)
    # The goodbye still reaches the chat, but is not linked to anyone, and its row
    # goes once delivered.
    erasure.purge_replies_once_delivered(
        ctx.session, channel=ctx.event.channel, chat=ctx.event.chat_id
    )
    ctx.resident = None
    return [ctx.reply("forget.done")]


async def _footprint(session: AsyncSession, resident: Resident) -> dict[str, list[str]]:
    """Where the person shows in the outbox, read before the features erase their rows:
    their chats and proven addresses, and the keys of coordinators' notices about
    their questions (handlers/mailbox/questions.py), proposals
    (handlers/contest/proposal_submit.py) and e-mails (handlers/mailbox/cards.py)."""
    addresses = await personal_data.proven_addresses(session, resident)
    chats = [str(resident.telegram_id)] if resident.telegram_id is not None else []
    asked = await questions.of_resident(session, resident.id)
    chats += [q.chat_id for q in asked if q.chat_id and q.chat_id not in chats]
    prefixes = [f"ask:{q.id}:" for q in asked]
    for proposal in await proposals.of_resident(session, resident.id):
        prefixes += [f"proposal:{proposal.id}:", f"proposal-notice:{proposal.id}:"]
    for message in await mail.of_resident(session, resident.id, addresses):
        prefixes.append(f"mail:new:{message.id}:")
    return {
        "chats": chats,
        "addresses": addresses,
        "key_prefixes": prefixes,
        # A coordinator's prompt to answer a question quotes it whole.
        "identifiers": chats + addresses + [q.text for q in asked],
    }
