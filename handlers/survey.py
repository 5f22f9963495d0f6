"""Surveys in the chat: one question at a time, back / skip / resume, from content.

Conversation state: flow `survey`, step `q<index>` (a question), `q<index>.<item>`
(a matrix row) or `q<index>o` (the free text of "other"); `answers` keeps the
survey slug, the response id and what a multi-press question has so far.
Answers themselves are rows in `survey_answers`, written as they are given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.dates import format_datetime

from handlers import flow
from handlers.callbacks import Callback
from handlers.context import Context
from handlers.events import Button, Kind, Reply
from handlers.flow import InvalidAnswer
from handlers.forms import Question, QuestionType, Survey
from handlers.registry import CANCEL_TEXTS, FORGET_HOOKS, choice, command
from handlers.registry import flow as input_flow
from storage import conversations, events
from storage import surveys as store
from storage.models import Conversation, SurveyResponse

SURVEY = "survey"
PICK = "surveys"
BACK, SKIP, DONE = "<", ">", "!"
STEP = re.compile(r"^q(?P<q>\d+)(?:\.(?P<item>\d+)|(?P<other>o))?$")
OTHER_MAX_LENGTH = 500
CANCEL_TEXTS[SURVEY] = "survey.cancelled"


@dataclass(frozen=True)
class Step:
    question: int
    item: int | None = None
    other: bool = False

    def encode(self) -> str:
        if self.other:
            return f"q{self.question}o"
        return f"q{self.question}" + ("" if self.item is None else f".{self.item}")

    @classmethod
    def decode(cls, text: str) -> Step | None:
        match = STEP.match(text)
        if not match:
            return None
        item = match["item"]
        return cls(int(match["q"]), int(item) if item else None, bool(match["other"]))


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


@command("survey", needs_consent=True, order=35)
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
    buttons = [
        [Button(s.title.get(ctx.language), Callback(PICK, "pick", s.slug).pack())]
        for s in available
    ]
    return [ctx.reply("survey.pick", buttons=buttons)]


@choice(PICK)
async def on_pick(ctx: Context, callback: Callback) -> list[Reply]:
    survey = ctx.services.surveys.get(callback.value)
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
        opening = ctx.reply("survey.resume", title=title)
    else:
        if survey.responses == "one" and await store.finished_count(
            ctx.session, survey=survey.slug, resident_id=ctx.resident.id
        ):
            return [ctx.reply("survey.already_answered", title=title)]
        response = await store.start_response(
            ctx.session,
            survey=survey.slug,
            resident_id=ctx.resident.id,
            language=ctx.language,
            channel=ctx.event.channel,
        )
        await events.record(
            ctx.session, "survey_started", resident_id=ctx.resident.id, data={"survey": survey.slug}
        )
        intro = survey.intro.get(ctx.language)
        opening = Reply(f"{title}\n\n{intro}")
    answers = await store.answers_of(ctx.session, response.id)
    return [opening, *await _ask_next(ctx, survey, response, answers, conversation=None)]


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
        return format_datetime(local, "yyyy-MM-dd HH:mm", locale=language)

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
) -> list[Reply]:
    question = flow.next_unanswered(survey.questions, answers)
    if question is None:
        return await _finish(ctx, survey, response)
    step = Step(_index(survey, question), 0 if question.type is QuestionType.MATRIX else None)
    return [await _go(ctx, survey, response, answers, step, conversation, {})]


async def _go(
    ctx: Context,
    survey: Survey,
    response: SurveyResponse,
    answers: dict[str, Any],
    step: Step,
    conversation: Conversation | None,
    pending: dict[str, Any],
    *,
    replace: bool = False,
) -> Reply:
    """Move the conversation to `step` and show it."""
    state = {"survey": survey.slug, "response": response.id, **pending}
    if conversation is None:
        assert ctx.resident is not None
        await conversations.begin(
            ctx.session, resident_id=ctx.resident.id, flow=SURVEY, step=step.encode(), answers=state
        )
    else:
        await conversations.advance(ctx.session, conversation, step=step.encode(), answers=state)
    reply = _render(ctx, survey, answers, step, pending)
    reply.replace = replace
    return reply


def _index(survey: Survey, question: Question) -> int:
    return survey.questions.index(question)


def _render(
    ctx: Context, survey: Survey, answers: dict[str, Any], step: Step, pending: dict[str, Any]
) -> Reply:
    question = survey.questions[step.question]
    where = flow.progress(survey.questions, answers, question.id)
    lines = [ctx.t("survey.progress", number=where.number, total=where.total), ""]
    lines.append(question.text.get(ctx.language))
    if step.other:
        lines += ["", ctx.t("survey.other_prompt")]
        return Reply("\n".join(lines), [_nav(ctx, survey, answers, step, question)])
    if question.help is not None:
        lines += ["", question.help.get(ctx.language)]
    hint = _hint(ctx, question, step)
    if hint:
        lines += ["", hint]
    if question.id in answers and answers[question.id] is not None:
        shown = describe(question, answers[question.id], ctx)
        lines += ["", ctx.t("survey.current_answer", answer=shown)]
    buttons = _buttons(ctx, question, step, pending)
    buttons.append(_nav(ctx, survey, answers, step, question))
    return Reply("\n".join(lines), [row for row in buttons if row])


def _hint(ctx: Context, question: Question, step: Step) -> str:
    kind = question.type
    if kind in (QuestionType.SCALE, QuestionType.MATRIX):
        assert question.scale is not None
        scale = question.scale
        text = ctx.t("survey.hint.scale", min=scale.min, max=scale.max)
        if scale.min_label is not None and scale.max_label is not None:
            text = ctx.t(
                "survey.hint.scale_labels",
                min=scale.min,
                max=scale.max,
                min_label=scale.min_label.get(ctx.language),
                max_label=scale.max_label.get(ctx.language),
            )
        if kind is QuestionType.MATRIX and step.item is not None:
            item = question.items[step.item]
            row = ctx.t("survey.matrix_row", number=step.item + 1, total=len(question.items))
            return f"{row}\n{item.text.get(ctx.language)}\n\n{text}"
        return text
    if kind is QuestionType.MULTIPLE:
        low = question.min_choices if question.min_choices is not None else 1
        high = question.max_choices or len(flow.choice_ids(question))
        return ctx.t("survey.hint.multiple", min=low, max=high)
    if kind is QuestionType.NUMBER and (question.min is not None or question.max is not None):
        return ctx.t(
            "survey.hint.number_range",
            min=flow._plain(question.min),
            max=flow._plain(question.max),
        )
    keys = {
        QuestionType.TEXT: "survey.hint.text",
        QuestionType.NUMBER: "survey.hint.number",
        QuestionType.DATE: "survey.hint.date",
        QuestionType.EMAIL: "survey.hint.email",
        QuestionType.PHONE: "survey.hint.phone",
    }
    return ctx.t(keys[kind]) if kind in keys else ""


def _button(label: str, step: Step, value: str) -> Button:
    return Button(label, Callback(SURVEY, step.encode(), value).pack())


def _buttons(
    ctx: Context, question: Question, step: Step, pending: dict[str, Any]
) -> list[list[Button]]:
    kind = question.type
    if kind in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        chosen = set(pending.get("chosen", []))
        rows = []
        for option_id in flow.choice_ids(question):
            label = _option_label(ctx, question, option_id)
            if kind is QuestionType.MULTIPLE:
                label = ("✅ " if option_id in chosen else "▫️ ") + label
            rows.append([_button(label, step, option_id)])
        if kind is QuestionType.MULTIPLE:
            rows.append([_button(ctx.t("survey.done"), step, DONE)])
        return rows
    if kind in (QuestionType.SCALE, QuestionType.MATRIX):
        assert question.scale is not None
        points = range(question.scale.min, question.scale.max + 1)
        return [[_button(str(p), step, str(p)) for p in points]]
    if kind is QuestionType.YESNO:
        return [[_button(ctx.t("survey.yes"), step, "y"), _button(ctx.t("survey.no"), step, "n")]]
    return []


def _option_label(ctx: Context, question: Question, option_id: str) -> str:
    if option_id == flow.OTHER:
        return ctx.t("survey.other")
    return question.option_text(option_id, ctx.language) or option_id


def _nav(
    ctx: Context, survey: Survey, answers: dict[str, Any], step: Step, question: Question
) -> list[Button]:
    row = []
    first = flow.previous(survey.questions, answers, question.id) is None
    if not first or (step.item or 0) > 0 or step.other:
        row.append(_button(ctx.t("survey.back"), step, BACK))
    if question.optional and not step.other:
        row.append(_button(ctx.t("survey.skip"), step, SKIP))
    return row


def describe(question: Question, value: Any, ctx: Context) -> str:
    """An answer as the resident would read it."""
    if value is None:
        return ctx.t("survey.skipped")
    kind = question.type
    if kind is QuestionType.SINGLE:
        text = _option_label(ctx, question, value["choice"])
        return f"{text}: {value['other']}" if value.get("other") else text
    if kind is QuestionType.MULTIPLE:
        parts = [_option_label(ctx, question, c) for c in value["choices"]]
        if value.get("other"):
            parts[-1] = f"{parts[-1]}: {value['other']}"
        return ", ".join(parts)
    if kind is QuestionType.YESNO:
        return ctx.t("survey.yes" if value else "survey.no")
    if kind is QuestionType.MATRIX:
        return "; ".join(
            f"{question.option_text(item, ctx.language)}: {score}" for item, score in value.items()
        )
    return str(value)


# --- answering --------------------------------------------------------------


@dataclass
class Position:
    survey: Survey
    response: SurveyResponse
    conversation: Conversation
    step: Step
    question: Question
    answers: dict[str, Any]
    pending: dict[str, Any]


async def _position(ctx: Context) -> Position | list[Reply]:
    """Where the resident is; or the replies that end a survey that cannot go on."""
    assert ctx.resident is not None
    conversation = await conversations.current(ctx.session, ctx.resident.id)
    assert conversation is not None and conversation.flow == SURVEY
    state = dict(conversation.answers)
    survey = ctx.services.surveys.get(state.get("survey", ""))
    response = await store.get_response(ctx.session, int(state.get("response", 0)))
    step = Step.decode(conversation.step)
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
    pending = {k: v for k, v in state.items() if k not in ("survey", "response")}
    answers = await store.answers_of(ctx.session, response.id)
    question = survey.questions[step.question]
    return Position(survey, response, conversation, step, question, answers, pending)


@choice(SURVEY, stateful=True)
async def on_choice(ctx: Context, callback: Callback) -> list[Reply]:
    at = await _position(ctx)
    if isinstance(at, list):
        return at
    try:
        return await _choose(ctx, at, callback.value)
    except InvalidAnswer as error:
        return [ctx.reply(error.key, **error.values)]


async def _choose(ctx: Context, at: Position, value: str) -> list[Reply]:
    question, step = at.question, at.step
    if value == BACK:
        return [await _back(ctx, at)]
    if value == SKIP:
        if not question.optional:
            raise InvalidAnswer("flow.invalid.not_optional")
        return await _save(ctx, at, None)
    kind = question.type
    if kind is QuestionType.SINGLE:
        answer = flow.parse_single(question, value)
        if value == flow.OTHER:
            step = Step(step.question, other=True)
            return [
                await _go(
                    ctx,
                    at.survey,
                    at.response,
                    at.answers,
                    step,
                    at.conversation,
                    {"partial": answer},
                )
            ]
        return await _save(ctx, at, answer)
    if kind is QuestionType.MULTIPLE:
        chosen = list(at.pending.get("chosen", []))
        if value != DONE:
            chosen = flow.toggle(question, chosen, value)
            return [
                await _go(
                    ctx,
                    at.survey,
                    at.response,
                    at.answers,
                    step,
                    at.conversation,
                    {"chosen": chosen},
                    replace=True,
                )
            ]
        answer = flow.check_multiple(question, chosen)
        if flow.OTHER in chosen:
            step = Step(step.question, other=True)
            return [
                await _go(
                    ctx,
                    at.survey,
                    at.response,
                    at.answers,
                    step,
                    at.conversation,
                    {"partial": answer},
                )
            ]
        return await _save(ctx, at, answer)
    if kind is QuestionType.SCALE:
        return await _save(ctx, at, flow.parse_scale(question, value))
    if kind is QuestionType.MATRIX:
        return await _matrix_row(ctx, at, flow.parse_scale(question, value))
    if kind is QuestionType.YESNO:
        return await _save(ctx, at, flow.parse_yesno(value))
    raise InvalidAnswer("flow.invalid.type_it")


async def _matrix_row(ctx: Context, at: Position, score: int) -> list[Reply]:
    assert at.step.item is not None
    rows = dict(at.pending.get("rows", {}))
    rows[at.question.items[at.step.item].id] = score
    following = at.step.item + 1
    if following < len(at.question.items):
        step = Step(at.step.question, following)
        return [
            await _go(
                ctx, at.survey, at.response, at.answers, step, at.conversation, {"rows": rows}
            )
        ]
    return await _save(ctx, at, {item.id: rows[item.id] for item in at.question.items})


async def _back(ctx: Context, at: Position) -> Reply:
    step = at.step
    if step.other:
        return await _go(
            ctx,
            at.survey,
            at.response,
            at.answers,
            Step(step.question, 0 if at.question.type is QuestionType.MATRIX else None),
            at.conversation,
            {},
        )
    if step.item:
        return await _go(
            ctx,
            at.survey,
            at.response,
            at.answers,
            Step(step.question, step.item - 1),
            at.conversation,
            {"rows": at.pending.get("rows", {})},
        )
    earlier = flow.previous(at.survey.questions, at.answers, at.question.id)
    if earlier is None:
        return _render(ctx, at.survey, at.answers, step, at.pending)
    first_item = 0 if earlier.type is QuestionType.MATRIX else None
    pending: dict[str, Any] = {}
    previous_answer = at.answers.get(earlier.id)
    if earlier.type is QuestionType.MULTIPLE and previous_answer:
        pending = {"chosen": previous_answer["choices"]}
    return await _go(
        ctx,
        at.survey,
        at.response,
        at.answers,
        Step(_index(at.survey, earlier), first_item),
        at.conversation,
        pending,
    )


async def _save(ctx: Context, at: Position, value: Any) -> list[Reply]:
    await store.save_answer(ctx.session, response=at.response, question=at.question.id, value=value)
    answers = {**at.answers, at.question.id: value}
    dropped = flow.hidden_answers(at.survey.questions, answers)
    await store.remove_answers(ctx.session, response=at.response, questions=dropped)
    for question_id in dropped:
        answers.pop(question_id, None)
    return await _ask_next(ctx, at.survey, at.response, answers, at.conversation)


@input_flow(SURVEY)
async def on_input(ctx: Context) -> list[Reply]:
    """Typed answers (and anything else sent while a question waits)."""
    at = await _position(ctx)
    if isinstance(at, list):
        return at
    text = ctx.event.text if ctx.event.kind is Kind.TEXT else None
    try:
        if text is None:
            raise InvalidAnswer("flow.invalid.type_it")
        if at.step.other:
            other = flow.free_text(text, min_length=None, max_length=OTHER_MAX_LENGTH)
            return await _save(ctx, at, {**at.pending.get("partial", {}), "other": other})
        kind = at.question.type
        if kind is QuestionType.MATRIX:
            return await _matrix_row(ctx, at, flow.parse_scale(at.question, text))
        if kind in (QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.YESNO):
            raise InvalidAnswer("flow.invalid.use_buttons")
        return await _save(ctx, at, flow.parse_text(at.question, text))
    except InvalidAnswer as error:
        return [ctx.reply(error.key, **error.values)]


# --- finishing and privacy ----------------------------------------------------


async def _finish(ctx: Context, survey: Survey, response: SurveyResponse) -> list[Reply]:
    assert ctx.resident is not None
    await store.finish(ctx.session, response)
    await conversations.end(ctx.session, ctx.resident.id)
    await events.record(
        ctx.session, "survey_finished", resident_id=ctx.resident.id, data={"survey": survey.slug}
    )
    return [Reply(survey.outro.get(ctx.language))]


def personal_questions(survey: Survey) -> list[str]:
    """Answers that identify a person: erased by /forget, unlike the other answers."""
    ids = {q.id for q in survey.questions if q.type in (QuestionType.EMAIL, QuestionType.PHONE)}
    if survey.leaders is not None:
        ids |= set(survey.leaders.contact)
    return sorted(ids)


async def _forget_answers(ctx: Context) -> None:
    assert ctx.resident is not None
    personal = {slug: personal_questions(s) for slug, s in ctx.services.surveys.items()}
    await store.detach_resident(ctx.session, resident_id=ctx.resident.id, personal=personal)


FORGET_HOOKS.append(_forget_answers)
