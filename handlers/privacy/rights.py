"""The resident's rights: see everything stored (/mydata) and erase it (/forget)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from handlers.core.callbacks import CallbackData, kind
from handlers.core.context import Context
from handlers.core.events import OutgoingFile, Reply
from handlers.core.routing import Router
from storage import conversations, events, personal_data, residents

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
    buttons = [
        [ctx.button("forget.yes", ForgetAnswer("yes"))],
        [ctx.button("forget.no", ForgetAnswer("no"))],
    ]
    return [ctx.reply("forget.question", buttons=buttons)]


@router.choice(ForgetAnswer, stateful=True)
async def on_forget(ctx: Context, pressed: ForgetAnswer) -> list[Reply]:
    assert ctx.resident is not None
    await conversations.end(ctx.session, ctx.resident.id)
    if pressed.answer != "yes":
        return [ctx.reply("forget.kept")]
    resident_id = ctx.resident.id
    for hook in ctx.routes.forget_hooks:
        await hook(ctx)
    await residents.forget(ctx.session, ctx.resident)
    await events.record(ctx.session, "forgotten", resident_id=resident_id)
    # The goodbye still reaches the chat, but is not linked to anyone any more.
    ctx.resident = None
    return [ctx.reply("forget.done")]
