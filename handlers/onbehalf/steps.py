"""/onbehalf: a coordinator enters a survey or a proposal for a resident.

Before any answer, the coordinator says what is entered (an open survey or the
contest), by which channel it came (paper, phone, in person) and which consent
was taken (a signed form or an oral consent); without consent nothing is
stored. The person's name and e-mail for the confirmation are optional. Then a
resident row standing for the person is made, the entry records the channel,
the consent and who entered it, and the very survey or proposal flow residents
use goes on in the coordinator's chat, its answers owned by that person.

Conversation: flow `onbehalf`, steps `what`, `channel`, `consent`, `name`,
`email`; its state keeps what was chosen so far. Once the form starts, the
conversation is the form's own (`survey` or `proposal`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from babel.dates import format_date
from email_validator import EmailNotValidError, validate_email

from handlers.contest import proposal as proposal_flow
from handlers.contest.draft import closed_reply
from handlers.core import flow_state, staff
from handlers.core.callbacks import CallbackData, kind
from handlers.core.context import Context
from handlers.core.events import Button, Kind, Reply
from handlers.core.flow import InvalidAnswer, free_text
from handlers.core.routing import Router
from handlers.onbehalf import person as person_rights
from handlers.surveys import conversation as survey_flow
from storage import conversations
from storage import on_behalf as store

FLOW = "onbehalf"
WHAT, CHANNEL, CONSENT, NAME, EMAIL = "what", "channel", "consent", "name", "email"
STATE_KEYS = ("what", "channel", "consent", "name", "email")
SKIP, NO = "skip", "no"
PROPOSAL_CHOICE = "p"
SURVEY_CHOICE = "s:"
NAME_MAX_LENGTH = 200

router = Router("onbehalf.steps")


@kind(FLOW)
@dataclass(frozen=True)
class OnBehalfPress(CallbackData):
    """A button of the entry's first steps: `onbehalf:<step>:<value>`."""

    step: str
    value: str

    def at_step(self) -> str:
        return self.step


router.cancel_text(FLOW, "onbehalf.cancelled")


# --- what, channel, consent ------------------------------------------------------


@router.command("onbehalf", coordinator_only=True, order=97)
async def onbehalf_command(ctx: Context) -> list[Reply]:
    number = ctx.event.args.strip().lstrip("#")
    if number:
        if not number.isdigit() or len(number) > 9:
            return [ctx.reply("onbehalf.number_expected")]
        return await person_rights.card(ctx, int(number))
    rows = _what_buttons(ctx)
    if not rows:
        return [ctx.reply("onbehalf.nothing_open")]
    resident = await staff.working_row(ctx)
    await conversations.begin(
        ctx.session, resident_id=resident.id, flow=FLOW, step=WHAT, answers=_data({})
    )
    return [ctx.reply("onbehalf.intro", buttons=rows)]


def _what_buttons(ctx: Context) -> list[list[Button]]:
    rows = [
        [
            _button(
                ctx,
                WHAT,
                SURVEY_CHOICE + s.slug,
                "onbehalf.what_survey",
                title=s.title.get(ctx.language),
            )
        ]
        for s in survey_flow.open_surveys(ctx)
    ]
    contest = ctx.services.contest
    if contest is not None and closed_reply(ctx, contest) is None:
        name = contest.name.get(ctx.language)
        rows.append([_button(ctx, WHAT, PROPOSAL_CHOICE, "onbehalf.what_proposal", name=name)])
    return rows


def _button(ctx: Context, step: str, value: str, key: str, **values: object) -> Button:
    return Button(ctx.t(key, **values), OnBehalfPress(step, value).pack())


def _data(state: dict[str, Any]) -> dict[str, Any]:
    return flow_state.FlowData(state).stored()


@router.choice(OnBehalfPress, stateful=True, coordinator_only=True)
async def on_press(ctx: Context, pressed: OnBehalfPress) -> list[Reply]:
    assert ctx.resident is not None
    conversation = await conversations.current(ctx.session, ctx.resident.id)
    assert conversation is not None
    state = flow_state.read(conversation.answers, STATE_KEYS).state
    value = pressed.value
    if pressed.step == WHAT:
        slug = value.removeprefix(SURVEY_CHOICE) if value.startswith(SURVEY_CHOICE) else None
        if value != PROPOSAL_CHOICE and slug not in ctx.services.surveys:
            return [ctx.reply("input.stale_button")]
        state[WHAT] = value
        return [await _move(ctx, conversation, CHANNEL, state)]
    if pressed.step == CHANNEL and value in store.CHANNELS:
        state[CHANNEL] = value
        return [await _move(ctx, conversation, CONSENT, state)]
    if pressed.step == CONSENT and value == NO:
        await conversations.end(ctx.session, ctx.resident.id)
        return [ctx.reply("onbehalf.no_consent")]
    if pressed.step == CONSENT and value in store.CONSENTS:
        state[CONSENT] = value
        return [await _move(ctx, conversation, NAME, state)]
    if pressed.step == NAME and value == SKIP:
        state[NAME] = None
        return [await _move(ctx, conversation, EMAIL, state)]
    if pressed.step == EMAIL and value == SKIP:
        state[EMAIL] = None
        return await _start(ctx, state)
    return [ctx.reply("flow.invalid.use_buttons")]


async def _move(ctx: Context, conversation: Any, step: str, state: dict[str, Any]) -> Reply:
    await conversations.advance(ctx.session, conversation, step=step, answers=_data(state))
    skip = [[_button(ctx, step, SKIP, "survey.skip")]]
    if step == CHANNEL:
        rows = [[_button(ctx, CHANNEL, c, f"onbehalf.channel.{c}")] for c in store.CHANNELS]
        return ctx.reply("onbehalf.channel_question", buttons=rows)
    if step == CONSENT:
        rows = [[_button(ctx, CONSENT, c, f"onbehalf.consent.{c}")] for c in (*store.CONSENTS, NO)]
        return ctx.reply("onbehalf.consent_question", buttons=rows)
    if step == NAME:
        return ctx.reply("onbehalf.name_question", buttons=skip)
    return ctx.reply("onbehalf.email_question", buttons=skip)


# --- name and e-mail (typed) -----------------------------------------------------


@router.flow(FLOW, coordinator_only=True)
async def on_typed(ctx: Context) -> list[Reply]:
    assert ctx.resident is not None
    conversation = await conversations.current(ctx.session, ctx.resident.id)
    assert conversation is not None
    state = flow_state.read(conversation.answers, STATE_KEYS).state
    text = ctx.event.text if ctx.event.kind is Kind.TEXT else None
    if conversation.step not in (NAME, EMAIL) or text is None:
        return [ctx.reply("flow.invalid.use_buttons")]
    try:
        if conversation.step == NAME:
            state[NAME] = free_text(text, min_length=None, max_length=NAME_MAX_LENGTH)
            return [await _move(ctx, conversation, EMAIL, state)]
        state[EMAIL] = _email(text)
    except InvalidAnswer as error:
        return [ctx.reply(error.key, **error.values)]
    return await _start(ctx, state)


def _email(text: str) -> str:
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidAnswer("flow.invalid.email") from None


# --- the entry and the form ------------------------------------------------------


async def _start(ctx: Context, state: dict[str, Any]) -> list[Reply]:
    """Store the person and the entry, and hand the chat to the survey or proposal flow."""
    assert ctx.event.user_id is not None and ctx.resident is not None
    what, channel, consent = str(state[WHAT]), str(state[CHANNEL]), str(state[CONSENT])
    is_proposal = what == PROPOSAL_CHOICE
    survey = None if is_proposal else ctx.services.surveys.get(what.removeprefix(SURVEY_CHOICE))
    contest = ctx.services.contest
    if what == PROPOSAL_CHOICE:
        closed = closed_reply(ctx, contest) if contest is not None else None
        if contest is None or closed is not None:
            await conversations.end(ctx.session, ctx.resident.id)
            return [closed or ctx.reply("proposal.no_contest")]
    elif survey is None or survey not in survey_flow.open_surveys(ctx):
        await conversations.end(ctx.session, ctx.resident.id)
        return [ctx.reply("onbehalf.nothing_open")]
    day = store.day_of(ctx.services.clock(), ctx.services.timezone)
    person = await store.create_stand_in(
        ctx.session, name=state.get(NAME), language=ctx.language, day=day
    )
    translator = ctx.services.translator
    language = translator.default_language
    note = translator.text(
        language,
        f"onbehalf.consent_note.{consent}",
        date=format_date(day, "d MMMM y", locale=language),
        channel=translator.text(language, f"onbehalf.via.{channel}"),
    )
    entry = await store.create(
        ctx.session,
        kind=store.PROPOSAL if what == PROPOSAL_CHOICE else store.SURVEY,
        subject=survey.slug if survey is not None else contest.slug if contest else "",
        channel=channel,
        consent=consent,
        consent_note=note,
        resident_id=person.id,
        name=state.get(NAME),
        email=state.get(EMAIL),
        entered_by=ctx.event.user_id,
        day=day,
    )
    if what == PROPOSAL_CHOICE:
        assert contest is not None
        proposal, replies = await proposal_flow.start_for(
            ctx, contest, resident_id=person.id, channel=channel
        )
        entry.proposal_id = proposal.id
        title = contest.name.get(ctx.language)
    else:
        assert survey is not None
        response, replies = await survey_flow.start_for(
            ctx, survey, resident_id=person.id, channel=channel
        )
        entry.response_id = response.id
        title = survey.title.get(ctx.language)
    await ctx.session.flush()
    started = ctx.reply(
        "onbehalf.started",
        number=entry.id,
        title=title,
        channel=ctx.t(f"onbehalf.via.{channel}"),
    )
    return [started, *replies]
