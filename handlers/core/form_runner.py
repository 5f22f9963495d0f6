"""Showing a form's question and reading the answer: shared by surveys and proposals.

The step engine (`handlers/core/flow.py`) decides what comes next; this module turns
a question into a reply with buttons and turns a button press or a typed
message into an action for the caller: store this value, show another step of
the same question (the "other" text, the next matrix row, a ticked option), or
go back to the previous question. Storing answers is the caller's business, so
a survey response and a proposal draft use the same code.

Steps are encoded `q<index>` (a question), `q<index>.<row>` (a matrix row) or
`q<index>o` (the free text of "other"), and carried in the buttons' callback
data (a `FormPress`, one kind per form) so a stale button is recognised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from handlers.core import flow
from handlers.core.callbacks import CallbackData
from handlers.core.context import Context
from handlers.core.events import Button, Reply
from handlers.core.flow import InvalidAnswer
from handlers.core.forms import Question, QuestionType

BACK, SKIP, DONE = "<", ">", "!"
OTHER_MAX_LENGTH = 500
STEP = re.compile(r"^q(?P<q>\d+)(?:\.(?P<item>\d+)|(?P<other>o))?$")


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

    @classmethod
    def start(cls, questions: list[Question], question: Question) -> Step:
        first_row = 0 if question.type is QuestionType.MATRIX else None
        return cls(questions.index(question), first_row)


@dataclass(frozen=True)
class FormPress(CallbackData):
    """A button of a form's question; each form declares its own kind of it (`@kind`)."""

    step: str
    value: str

    def at_step(self) -> str:
        return self.step

    def check(self) -> bool:
        return Step.decode(self.step) is not None


# --- what a press or a message means ------------------------------------------


@dataclass(frozen=True)
class Save:
    """The question is answered with `value` (None: skipped)."""

    value: Any


@dataclass(frozen=True)
class Show:
    """Stay on the question, at another step, with this much of the answer so far."""

    step: Step
    pending: dict[str, Any] = field(default_factory=dict)
    replace: bool = False


@dataclass(frozen=True)
class Back:
    """Leave for the previous question (what that is, the caller knows)."""


Action = Save | Show | Back


def on_button(question: Question, step: Step, pending: dict[str, Any], value: str) -> Action:
    """A button pressed on `question`; raises `InvalidAnswer` for what does not fit."""
    if value == BACK:
        if step.other:
            return Show(Step(step.question, 0 if question.type is QuestionType.MATRIX else None))
        if step.item:
            return Show(Step(step.question, step.item - 1), {"rows": pending.get("rows", {})})
        return Back()
    if value == SKIP:
        if not question.optional:
            raise InvalidAnswer("flow.invalid.not_optional")
        return Save(None)
    kind = question.type
    if kind is QuestionType.SINGLE:
        answer = flow.parse_single(question, value)
        if value == flow.OTHER:
            return Show(Step(step.question, other=True), {"partial": answer})
        return Save(answer)
    if kind is QuestionType.MULTIPLE:
        chosen = list(pending.get("chosen", []))
        if value != DONE:
            return Show(step, {"chosen": flow.toggle(question, chosen, value)}, replace=True)
        answer = flow.check_multiple(question, chosen)
        if flow.OTHER in chosen:
            return Show(Step(step.question, other=True), {"partial": answer})
        return Save(answer)
    if kind is QuestionType.SCALE:
        return Save(flow.parse_scale(question, value))
    if kind is QuestionType.MATRIX:
        return _matrix_row(question, step, pending, flow.parse_scale(question, value))
    if kind is QuestionType.YESNO:
        return Save(flow.parse_yesno(value))
    raise InvalidAnswer("flow.invalid.type_it")


def on_text(question: Question, step: Step, pending: dict[str, Any], text: str | None) -> Action:
    """A message typed while `question` waits; raises `InvalidAnswer` for what does not fit."""
    if text is None:
        raise InvalidAnswer("flow.invalid.type_it")
    if step.other:
        other = flow.free_text(text, min_length=None, max_length=OTHER_MAX_LENGTH)
        return Save({**pending.get("partial", {}), "other": other})
    kind = question.type
    if kind is QuestionType.MATRIX:
        return _matrix_row(question, step, pending, flow.parse_scale(question, text))
    if kind in (QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.YESNO):
        raise InvalidAnswer("flow.invalid.use_buttons")
    return Save(flow.parse_text(question, text))


def _matrix_row(question: Question, step: Step, pending: dict[str, Any], score: int) -> Action:
    assert step.item is not None
    rows = dict(pending.get("rows", {}))
    rows[question.items[step.item].id] = score
    if step.item + 1 < len(question.items):
        return Show(Step(step.question, step.item + 1), {"rows": rows})
    return Save({item.id: rows[item.id] for item in question.items})


def pending_for(question: Question, answer: Any) -> dict[str, Any]:
    """What a question shows as already chosen when the resident comes back to it."""
    if question.type is QuestionType.MULTIPLE and answer:
        return {"chosen": list(answer["choices"])}
    return {}


# --- showing a question -------------------------------------------------------


@dataclass(frozen=True)
class View:
    """How a form shows its questions: its kind of button, the heading, the way back."""

    press: type[FormPress]
    heading: str
    can_go_back: bool


def render(
    ctx: Context,
    view: View,
    question: Question,
    step: Step,
    answers: dict[str, Any],
    pending: dict[str, Any],
) -> Reply:
    lines = [view.heading, ""] if view.heading else []
    lines.append(question.text.get(ctx.language))
    if step.other:
        lines += ["", ctx.t("survey.other_prompt")]
        return Reply("\n".join(lines), [_nav(ctx, view, step, question)])
    if question.help is not None:
        lines += ["", question.help.get(ctx.language)]
    hint = _hint(ctx, question, step)
    if hint:
        lines += ["", hint]
    if answers.get(question.id) is not None:
        shown = describe(ctx, question, answers[question.id])
        lines += ["", ctx.t("survey.current_answer", answer=shown)]
    buttons = _buttons(ctx, view, question, step, pending)
    buttons.append(_nav(ctx, view, step, question))
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
            min=flow.plain_number(question.min, ctx.language),
            max=flow.plain_number(question.max, ctx.language),
        )
    keys = {
        QuestionType.TEXT: "survey.hint.text",
        QuestionType.NUMBER: "survey.hint.number",
        QuestionType.DATE: "survey.hint.date",
        QuestionType.EMAIL: "survey.hint.email",
        QuestionType.PHONE: "survey.hint.phone",
    }
    return ctx.t(keys[kind]) if kind in keys else ""


def button(view: View, label: str, step: Step, value: str) -> Button:
    return Button(label, view.press(step.encode(), value).pack())


def _buttons(
    ctx: Context, view: View, question: Question, step: Step, pending: dict[str, Any]
) -> list[list[Button]]:
    kind = question.type
    if kind in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        chosen = set(pending.get("chosen", []))
        rows = []
        for option_id in flow.choice_ids(question):
            label = option_label(ctx, question, option_id)
            if kind is QuestionType.MULTIPLE:
                label = ("✅ " if option_id in chosen else "▫️ ") + label
            rows.append([button(view, label, step, option_id)])
        if kind is QuestionType.MULTIPLE:
            rows.append([button(view, ctx.t("survey.done"), step, DONE)])
        return rows
    if kind in (QuestionType.SCALE, QuestionType.MATRIX):
        assert question.scale is not None
        points = range(question.scale.min, question.scale.max + 1)
        return [[button(view, str(p), step, str(p)) for p in points]]
    if kind is QuestionType.YESNO:
        return [
            [
                button(view, ctx.t("survey.yes"), step, "y"),
                button(view, ctx.t("survey.no"), step, "n"),
            ]
        ]
    return []


def option_label(ctx: Context, question: Question, option_id: str) -> str:
    if option_id == flow.OTHER:
        return ctx.t("survey.other")
    return question.option_text(option_id, ctx.language) or option_id


def _nav(ctx: Context, view: View, step: Step, question: Question) -> list[Button]:
    row = []
    if view.can_go_back or (step.item or 0) > 0 or step.other:
        row.append(button(view, ctx.t("survey.back"), step, BACK))
    if question.optional and not step.other:
        row.append(button(view, ctx.t("survey.skip"), step, SKIP))
    return row


def describe(ctx: Context, question: Question, value: Any) -> str:
    """An answer as the resident would read it."""
    if value is None:
        return ctx.t("survey.skipped")
    kind = question.type
    if kind is QuestionType.SINGLE:
        text = option_label(ctx, question, value["choice"])
        return f"{text}: {value['other']}" if value.get("other") else text
    if kind is QuestionType.MULTIPLE:
        parts = [option_label(ctx, question, c) for c in value["choices"]]
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
