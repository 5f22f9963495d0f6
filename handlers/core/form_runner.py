"""Showing a form's question and reading the answer: shared by surveys and proposals.

The step engine (`handlers/core/flow.py`) decides what comes next; this module turns
a question into a reply with buttons and turns a button press or a typed
message into an action for the caller: store this value, show the same question
again with more of the answer (a ticked option, a rated matrix row, the "other"
text), or go back to the previous question. Storing answers is the caller's
business, so a survey response and a proposal draft use the same code.

A question is one message. Ticking options and rating matrix rows edit it in
place (`Show(replace=True)`); a matrix keyboard has two rows per item, the item's
label (full width, readable on a phone) and its scale values under it, then
"Done" once every row has a value (a matrix left with one row is answered by
one tap, like a scale). A practised resident may type the numbers of
the options ("1, 3, 5") or all ratings of a matrix at once ("5 4 3 ? 2").

Steps are encoded `q<index>` (a question) or `q<index>o` (the free text of
"other"), and carried in the buttons' callback data (a `FormPress`, one kind per
form) so a stale button is recognised. `q<index>.<row>` (a matrix row asked on its
own, as stored by older versions) is still read, as the whole matrix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from handlers.core import flow
from handlers.core import form_keyboards as keyboards
from handlers.core.callbacks import CallbackData
from handlers.core.context import Context
from handlers.core.events import Button, Reply
from handlers.core.flow import DONT_KNOW, InvalidAnswer
from handlers.core.form_keyboards import DONE, option_label
from handlers.core.forms import Question, QuestionType

__all__ = [
    "BACK",
    "DONE",
    "SKIP",
    "Action",
    "Back",
    "FormPress",
    "Save",
    "Show",
    "Step",
    "View",
    "button",
    "describe",
    "on_button",
    "on_text",
    "option_label",
    "pending_for",
    "render",
]

BACK, SKIP = "<", ">"
OTHER_MAX_LENGTH = 500
STEP = re.compile(r"^q(?P<q>\d+)(?:\.(?P<item>\d+)|(?P<other>o))?$")
# A matrix button: `<item index>=<value>`; `<item index>=` is the item's label.
CELL = re.compile(r"^(?P<item>\d+)=(?P<value>\d+|\?)?$")
# Answered with buttons (the others are typed).
PRESSED = (QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.SCALE, QuestionType.YESNO)


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
        return cls(questions.index(question))


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


def on_button(
    question: Question,
    step: Step,
    pending: dict[str, Any],
    value: str,
    answers: dict[str, Any] | None = None,
) -> Action:
    """A button pressed on `question`; raises `InvalidAnswer` for what does not fit.

    `answers` are the form's answers so far (a matrix rates the items they leave).
    """
    here = Step(step.question)
    if value == BACK:
        if step.other:
            return Show(here, _chosen_again(pending.get("partial")), replace=True)
        return Back()
    if value == SKIP:
        if not question.optional:
            raise InvalidAnswer("flow.invalid.not_optional")
        return Save(None)
    kind = question.type
    if kind is QuestionType.SINGLE:
        return _after_choice(here, flow.parse_single(question, value), replace=True)
    if kind is QuestionType.MULTIPLE:
        chosen = list(pending.get("chosen", []))
        if value != DONE:
            return Show(here, {"chosen": flow.toggle(question, chosen, value)}, replace=True)
        return _after_choice(here, flow.check_multiple(question, chosen), replace=True)
    if kind is QuestionType.SCALE:
        if value == DONT_KNOW and question.dont_know:
            return Save(None)
        return Save(flow.parse_scale(question, value))
    if kind is QuestionType.MATRIX:
        return _matrix_press(question, here, pending, value, answers or {})
    if kind is QuestionType.YESNO:
        return Save(flow.parse_yesno(value))
    raise InvalidAnswer("flow.invalid.type_it")


def on_text(
    question: Question,
    step: Step,
    pending: dict[str, Any],
    text: str | None,
    answers: dict[str, Any] | None = None,
) -> Action:
    """A message typed while `question` waits; raises `InvalidAnswer` for what does not fit."""
    if text is None:
        raise InvalidAnswer("flow.invalid.type_it")
    if step.other:
        other = flow.free_text(text, min_length=None, max_length=OTHER_MAX_LENGTH)
        return Save({**pending.get("partial", {}), "other": other})
    kind = question.type
    here = Step(step.question)
    if kind is QuestionType.MATRIX:
        return Save(flow.parse_grid(question, flow.shown_items(question, answers or {}), text))
    if kind is QuestionType.SINGLE:
        [choice] = flow.parse_numbers(question, text)
        return _after_choice(here, flow.parse_single(question, choice), replace=False)
    if kind is QuestionType.MULTIPLE:
        answer = flow.check_multiple(question, flow.parse_numbers(question, text))
        return _after_choice(here, answer, replace=False)
    if kind is QuestionType.SCALE and question.dont_know:
        if text.strip().lower() in flow.DONT_KNOW_TYPED:
            return Save(None)
    if kind is QuestionType.YESNO:
        raise InvalidAnswer("flow.invalid.use_buttons")
    return Save(flow.parse_text(question, text))


def _after_choice(here: Step, answer: dict[str, Any], *, replace: bool) -> Action:
    """A choice made; with "other" among it, its text is asked next (same message)."""
    if flow.OTHER in answer.get("choices", [answer.get("choice")]):
        other = Step(here.question, other=True)
        return Show(other, {"partial": answer}, replace=replace)
    return Save(answer)


def _chosen_again(partial: Any) -> dict[str, Any]:
    """Back from the "other" text: the options ticked before are still ticked."""
    if isinstance(partial, dict) and isinstance(partial.get("choices"), list):
        return {"chosen": list(partial["choices"])}
    return {}


def _matrix_press(
    question: Question, here: Step, pending: dict[str, Any], value: str, answers: dict[str, Any]
) -> Action:
    items = flow.shown_items(question, answers)
    rows = dict(pending.get("rows", {}))
    if value == DONE:
        if any(item.id not in rows for item in items):
            raise InvalidAnswer("flow.invalid.grid_incomplete")
        return Save({item.id: rows[item.id] for item in items})
    cell = CELL.match(value)
    if cell is None or int(cell["item"]) >= len(question.items):
        raise InvalidAnswer("flow.invalid.use_buttons")
    item = question.items[int(cell["item"])]
    if item not in items:
        raise InvalidAnswer("flow.invalid.use_buttons")
    if cell["value"] == DONT_KNOW:
        if not question.dont_know:
            raise InvalidAnswer("flow.invalid.use_buttons")
        rows[item.id] = None
    elif cell["value"] is not None:
        rows[item.id] = flow.parse_scale(question, cell["value"])
    if len(items) == 1 and item.id in rows:
        # One row to rate is a scale: one tap answers it, no "Done" needed.
        return Save({item.id: rows[item.id]})
    return Show(here, {"rows": rows}, replace=True)


def pending_for(question: Question, answer: Any) -> dict[str, Any]:
    """What a question shows as already chosen when the resident comes back to it."""
    if question.type is QuestionType.MULTIPLE and answer:
        return {"chosen": list(answer["choices"])}
    if question.type is QuestionType.MATRIX and isinstance(answer, dict):
        return {"rows": dict(answer)}
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
    hint = _hint(ctx, question)
    if hint:
        lines += ["", hint]
    if answers.get(question.id) is not None and question.type is not QuestionType.MATRIX:
        shown = describe(ctx, question, answers[question.id])
        key = "survey.current_answer" if question.type in PRESSED else "survey.current_typed"
        lines += ["", ctx.t(key, answer=shown)]
    here = Step(step.question)

    def press(label: str, value: str, means: str | None = None) -> Button:
        return button(view, label, here, value, means)

    if question.type is QuestionType.MATRIX:
        buttons = keyboards.grid(ctx, press, question, flow.shown_items(question, answers), pending)
    else:
        buttons = keyboards.buttons(ctx, press, question, pending)
    buttons.append(_nav(ctx, view, step, question))
    return Reply("\n".join(lines), [row for row in buttons if row])


def _hint(ctx: Context, question: Question) -> str:
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
        if kind is QuestionType.MATRIX:
            text += " " + ctx.t("survey.hint.matrix")
            if question.dont_know:
                text += " " + ctx.t("survey.hint.matrix_dont_know", mark=DONT_KNOW)
        return text
    if kind is QuestionType.MULTIPLE:
        low = question.min_choices if question.min_choices is not None else 1
        high = question.max_choices or len(flow.choice_ids(question))
        if low == 1 and question.max_choices is None:
            return ctx.t("survey.hint.multiple_any")
        key = "survey.hint.multiple_one" if low == 1 else "survey.hint.multiple"
        return ctx.t(key, min=low, max=high)
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


def button(view: View, label: str, step: Step, value: str, means: str | None = None) -> Button:
    return Button(label, view.press(step.encode(), value).pack(), means)


def _nav(ctx: Context, view: View, step: Step, question: Question) -> list[Button]:
    row = []
    if view.can_go_back or step.other:
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
            f"{question.option_text(item, ctx.language)}: "
            f"{ctx.t('survey.dont_know') if score is None else score}"
            for item, score in value.items()
        )
    return str(value)
