"""Surveys in the chat: one question at a time, back / skip / resume, from content.

Conversation state: flow `survey`, step `q<index>` (a question) or `q<index>o`
(the free text of "other"); its data keeps the survey slug and the response id as
`state`, and what a multi-press question has so far as `pending`
(`handlers/core/flow_state.py`). Answers themselves are rows in `survey_answers`,
written as they are given.

Each question is one message: ticks, matrix rows, "back" and the corrections after
it edit the message whose button was pressed. A question answered with a button
that had been answered before (the resident went back to correct it) hands its
message on to the next question, so going back never adds messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.dates import format_datetime

from handlers.core import flow, flow_state
from handlers.core import form_runner as runner
from handlers.core.callbacks import CallbackData, kind
from handlers.core.context import Context
from handlers.core.events import Button, Kind, Reply
from handlers.core.flow import InvalidAnswer
from handlers.core.forms import Question, Survey
from handlers.core.routing import Router
from handlers.surveys import next_steps, parts
from storage import conversations, events, survey_privacy
from storage import surveys as store
from storage.models import Conversation, SurveyResponse

SURVEY = "survey"
PICK = "surveys"
STATE_KEYS = ("survey", "response")
router = Router("surveys.conversation")


@kind(SURVEY)
@dataclass(frozen=True)
class SurveyPress(runner.FormPress):
    """A button of a survey question: `survey:<step>:<value>`."""


@kind(PICK, "pick")
@dataclass(frozen=True)
class SurveyPick(CallbackData):
    slug: str


router.cancel_text(SURVEY, "survey.cancelled")


# --- starting ---------------------------------------------------------------


def open_surveys(ctx: Context) -> list[Survey]:
    now = ctx.services.clock()
    return [s for s in ctx.services.surveys.values() if _is_open(s, now)]


def _is_open(survey: Survey, now: datetime) -> bool:
    return (survey.opens is None or survey.opens <= now) and (
        survey.closes is None or now < survey.closes
    )


def _when(ctx: Context, moment: datetime) -> str:
    local = moment.astimezone(ctx.services.timezone)
    return format_datetime(local, "d MMMM y, HH:mm", locale=ctx.language)


@router.command("survey", needs_consent=True, order=35)
async def survey_command(ctx: Context) -> list[Reply]:
    slug = ctx.event.args.strip().lower()
    if slug:
        survey = ctx.services.surveys.get(slug)
        if survey is None:
            return [ctx.reply("survey.unknown", slug=slug[:40]), *_listing(ctx)]
        return await begin(ctx, survey)
    available = open_surveys(ctx)
    if len(available) == 1:
        return await begin(ctx, available[0])
    return _listing(ctx)


def _listing(ctx: Context) -> list[Reply]:
    available = open_surveys(ctx)
    if not available:
        return [ctx.reply("survey.none_open")]
    buttons = [[Button(s.title.get(ctx.language), SurveyPick(s.slug).pack())] for s in available]
    return [ctx.reply("survey.pick", buttons=buttons)]


@router.choice(SurveyPick)
async def on_pick(ctx: Context, pressed: SurveyPick) -> list[Reply]:
    survey = ctx.services.surveys.get(pressed.slug)
    if survey is None:
        return [ctx.reply("input.stale_button")]
    return await begin(ctx, survey)


async def begin(ctx: Context, survey: Survey) -> list[Reply]:
    assert ctx.resident is not None
    now = ctx.services.clock()
    title = survey.title.get(ctx.language)
    if survey.opens is not None and now < survey.opens:
        return [ctx.reply("survey.not_yet_open", title=title, when=_when(ctx, survey.opens))]
    if survey.closes is not None and now >= survey.closes:
        return [ctx.reply("survey.closed", title=title, when=_when(ctx, survey.closes))]
    response = await store.unfinished_response(
        ctx.session, survey=survey.slug, resident_id=ctx.resident.id
    )
    if response is not None:
        return await resume_response(ctx, survey, response)
    if survey.responses == "one" and await _took_part(ctx, survey):
        return [ctx.reply("survey.already_answered", title=title)]
    _, replies = await start_for(
        ctx, survey, resident_id=ctx.resident.id, channel=ctx.event.channel
    )
    return replies


async def resume_response(ctx: Context, survey: Survey, response: SurveyResponse) -> list[Reply]:
    """Carry on with an unfinished response in this chat, at its first unanswered question."""
    opening = ctx.reply("survey.resume", title=survey.title.get(ctx.language))
    answers = await store.answers_of(ctx.session, response.id)
    return [opening, *await _ask_next(ctx, survey, response, answers, None)]


async def start_for(
    ctx: Context, survey: Survey, *, resident_id: int, channel: str
) -> tuple[SurveyResponse, list[Reply]]:
    """A new response owned by `resident_id`, answered in this chat: the intro and the
    first question. A coordinator entering a paper questionnaire owns the
    conversation, the person it stands for owns the response."""
    response = await store.start_response(
        ctx.session,
        survey=survey.slug,
        resident_id=resident_id,
        language=ctx.language,
        channel=channel,
    )
    await events.record(
        ctx.session, "survey_started", resident_id=resident_id, data={"survey": survey.slug}
    )
    opening = Reply(f"{survey.title.get(ctx.language)}\n\n{survey.intro.get(ctx.language)}")
    return response, [opening, *await _ask_next(ctx, survey, response, {}, conversation=None)]


async def _took_part(ctx: Context, survey: Survey) -> bool:
    assert ctx.resident is not None
    finished = await store.finished_count(
        ctx.session, survey=survey.slug, resident_id=ctx.resident.id
    )
    sealed = await survey_privacy.participations(
        ctx.session, survey=survey.slug, resident_id=ctx.resident.id
    )
    return finished + sealed > 0


def describe_survey(services: Any, survey: Survey, counts: dict[str, int] | None) -> str:
    """One line about a survey for the coordinator's terminal."""
    translator, language = services.translator, services.translator.default_language
    now = services.clock()
    state = "open" if _is_open(survey, now) else "closed"
    numbers = counts or {"started": 0, "finished": 0}

    def when(moment: datetime | None) -> str:
        if moment is None:
            return "–"
        local = moment.astimezone(services.timezone)
        return format_datetime(local, "dd.MM.yyyy HH:mm", locale=language)

    return translator.text(
        language,
        "survey.list_line",
        slug=survey.slug,
        title=survey.title.get(language),
        state=translator.text(language, f"survey.state.{state}"),
        opens=when(survey.opens),
        closes=when(survey.closes),
        started=numbers["started"],
        finished=numbers["finished"],
    )


# --- asking -----------------------------------------------------------------


async def _ask_next(
    ctx: Context,
    survey: Survey,
    response: SurveyResponse,
    answers: dict[str, Any],
    conversation: Conversation | None,
    *,
    replace: bool = False,
) -> list[Reply]:
    question = flow.next_unanswered(survey.questions, answers)
    if question is None:
        return await _finish(ctx, survey, response, answers)
    step = runner.Step.start(survey.questions, question)
    return [await _go(ctx, survey, response, answers, step, conversation, {}, replace=replace)]


async def _go(
    ctx: Context,
    survey: Survey,
    response: SurveyResponse,
    answers: dict[str, Any],
    step: runner.Step,
    conversation: Conversation | None,
    pending: dict[str, Any],
    *,
    replace: bool = False,
) -> Reply:
    """Move the conversation to `step` and show it."""
    state = flow_state.FlowData({"survey": survey.slug, "response": response.id}, pending).stored()
    if conversation is None:
        assert ctx.resident is not None
        await conversations.begin(
            ctx.session, resident_id=ctx.resident.id, flow=SURVEY, step=step.encode(), answers=state
        )
    else:
        await conversations.advance(ctx.session, conversation, step=step.encode(), answers=state)
    question = survey.questions[step.question]
    where = flow.progress(survey.questions, answers, question.id)
    view = runner.View(
        press=SurveyPress,
        heading=ctx.t("survey.progress", number=where.number, total=where.total),
        can_go_back=flow.previous(survey.questions, answers, question.id) is not None,
    )
    reply = runner.render(ctx, view, question, step, answers, pending)
    reply.replace = replace
    return reply


# --- answering --------------------------------------------------------------


@dataclass
class Position:
    survey: Survey
    response: SurveyResponse
    conversation: Conversation
    step: runner.Step
    question: Question
    answers: dict[str, Any]
    pending: dict[str, Any]


async def _position(ctx: Context) -> Position | list[Reply]:
    """Where the resident is; or the replies that end a survey that cannot go on."""
    assert ctx.resident is not None
    conversation = await conversations.current(ctx.session, ctx.resident.id)
    assert conversation is not None and conversation.flow == SURVEY
    data = flow_state.read(conversation.answers, STATE_KEYS)
    survey = ctx.services.surveys.get(str(data.state.get("survey", "")))
    response, answers = await store.response_with_answers(
        ctx.session, int(data.state.get("response", 0))
    )
    step = runner.Step.decode(conversation.step)
    if (
        survey is None
        or response is None
        or response.status != store.STARTED
        or step is None
        or step.question >= len(survey.questions)
    ):
        await conversations.end(ctx.session, ctx.resident.id)
        return [ctx.reply("survey.gone")]
    if survey.closes is not None and ctx.services.clock() >= survey.closes:
        await conversations.end(ctx.session, ctx.resident.id)
        title = survey.title.get(ctx.language)
        return [ctx.reply("survey.closed", title=title, when=_when(ctx, survey.closes))]
    question = survey.questions[step.question]
    return Position(survey, response, conversation, step, question, answers, data.pending)


@router.choice(SurveyPress, stateful=True)
async def on_choice(ctx: Context, pressed: SurveyPress) -> list[Reply]:
    at = await _position(ctx)
    if isinstance(at, list):
        return at
    try:
        action = runner.on_button(at.question, at.step, at.pending, pressed.value, at.answers)
    except InvalidAnswer as error:
        return [ctx.reply(error.key, **error.values)]
    return await _act(ctx, at, action, pressed=True)


@router.flow(SURVEY)
async def on_input(ctx: Context) -> list[Reply]:
    """Typed answers (and anything else sent while a question waits)."""
    at = await _position(ctx)
    if isinstance(at, list):
        return at
    text = ctx.event.text if ctx.event.kind is Kind.TEXT else None
    try:
        action = runner.on_text(at.question, at.step, at.pending, text, at.answers)
    except InvalidAnswer as error:
        return [ctx.reply(error.key, **error.values)]
    return await _act(ctx, at, action, pressed=False)


async def _act(ctx: Context, at: Position, action: runner.Action, *, pressed: bool) -> list[Reply]:
    if isinstance(action, runner.Save):
        # A correction (the question had an answer) keeps to the message it was made in.
        revisited = pressed and at.question.id in at.answers
        return await _save(ctx, at, action.value, replace=revisited)
    if isinstance(action, runner.Show):
        return [
            await _go(
                ctx,
                at.survey,
                at.response,
                at.answers,
                action.step,
                at.conversation,
                action.pending,
                replace=action.replace,
            )
        ]
    earlier = flow.previous(at.survey.questions, at.answers, at.question.id)
    if earlier is None:
        return [
            await _go(
                ctx,
                at.survey,
                at.response,
                at.answers,
                at.step,
                at.conversation,
                at.pending,
                replace=True,
            )
        ]
    step = runner.Step.start(at.survey.questions, earlier)
    pending = runner.pending_for(earlier, at.answers.get(earlier.id))
    return [
        await _go(
            ctx, at.survey, at.response, at.answers, step, at.conversation, pending, replace=True
        )
    ]


async def _save(ctx: Context, at: Position, value: Any, *, replace: bool) -> list[Reply]:
    await store.save_answer(ctx.session, response=at.response, question=at.question.id, value=value)
    answers = {**at.answers, at.question.id: value}
    dropped = flow.hidden_answers(at.survey.questions, answers)
    await store.remove_answers(ctx.session, response=at.response, questions=dropped)
    for question_id in dropped:
        answers.pop(question_id, None)
    return await _ask_next(ctx, at.survey, at.response, answers, at.conversation, replace=replace)


# --- finishing and privacy ----------------------------------------------------


async def _finish(
    ctx: Context, survey: Survey, response: SurveyResponse, answers: dict[str, Any]
) -> list[Reply]:
    assert ctx.resident is not None
    owner = response.resident_id
    await store.finish(ctx.session, response)
    await conversations.end(ctx.session, ctx.resident.id)
    # Before sealing: a hook may still need to know whose response it is.
    after: list[Reply] = []
    for hook in ctx.routes.finish_hooks:
        after += await hook(ctx, SURVEY, response.id)
    part = parts.contact_part(survey)
    if part is not None:
        await survey_privacy.seal(ctx.session, response, part)
    # In an anonymous survey even the log must not say who finished when.
    who = None if survey.anonymous else owner
    await events.record(
        ctx.session, "survey_finished", resident_id=who, data={"survey": survey.slug}
    )
    return [await next_steps.closing(ctx, survey, answers), *after]


async def _forget_answers(ctx: Context) -> None:
    assert ctx.resident is not None
    personal = {slug: parts.personal_questions(s) for slug, s in ctx.services.surveys.items()}
    await store.detach_resident(ctx.session, resident_id=ctx.resident.id, personal=personal)
    await survey_privacy.forget(ctx.session, ctx.resident.id)


router.forget_hook(_forget_answers)
