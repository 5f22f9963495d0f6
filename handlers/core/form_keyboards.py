"""The keyboards of a form's questions: options, scales, yes/no and matrix grids.

A button is made by the caller's `press(label, value)`, which packs the form's own
callback data. A matrix grid has two rows per item: the item's label across the
whole width (readable on a phone) and, under it, its scale values with the
chosen one ticked, then "Done" once every row has a value. The label's own
button (value `<index>=`) changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from handlers.core import flow
from handlers.core.context import Context
from handlers.core.events import Button
from handlers.core.flow import DONT_KNOW
from handlers.core.forms import Option, Question, QuestionType

DONE = "!"
TICKED, UNTICKED = "✅ ", "▫️ "
# press(label, value, means=None): `means` "yes"/"no" lets a typed "tak"/"nie" press it.
Press = Callable[..., Button]


def buttons(
    ctx: Context, press: Press, question: Question, pending: dict[str, Any]
) -> list[list[Button]]:
    """The buttons of a choice, scale or yes/no question (ticks as chosen so far)."""
    kind = question.type
    if kind in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        chosen = set(pending.get("chosen", []))
        rows = []
        for option_id in flow.choice_ids(question):
            label = option_label(ctx, question, option_id, short=True)
            if kind is QuestionType.MULTIPLE:
                label = (TICKED if option_id in chosen else UNTICKED) + label
            rows.append([press(label, option_id)])
        if kind is QuestionType.MULTIPLE:
            rows.append([press(ctx.t("survey.done"), DONE)])
        return rows
    if kind is QuestionType.SCALE:
        assert question.scale is not None
        points = range(question.scale.min, question.scale.max + 1)
        rows = [[press(str(p), str(p)) for p in points]]
        if question.dont_know:
            rows.append([press(ctx.t("survey.dont_know"), DONT_KNOW)])
        return rows
    if kind is QuestionType.YESNO:
        return [
            [
                press(ctx.t("survey.yes"), "y", "yes"),
                press(ctx.t("survey.no"), "n", "no"),
            ]
        ]
    return []


def grid(
    ctx: Context, press: Press, question: Question, items: list[Option], pending: dict[str, Any]
) -> list[list[Button]]:
    """Two keyboard rows per item: its label, then its values (the chosen one ticked)."""
    assert question.scale is not None
    rows_given = pending.get("rows", {})
    values = [str(p) for p in range(question.scale.min, question.scale.max + 1)]
    if question.dont_know:
        values.append(DONT_KNOW)
    keyboard: list[list[Button]] = []
    for item in items:
        index = question.items.index(item)
        keyboard.append([press(item.label(ctx.language), f"{index}=")])
        given = rows_given.get(item.id)
        chosen = None if item.id not in rows_given else DONT_KNOW if given is None else str(given)
        mark = TICKED.strip()
        row = [press((mark if v == chosen else "") + v, f"{index}={v}") for v in values]
        keyboard.append(row)
    if all(item.id in rows_given for item in items):
        keyboard.append([press(ctx.t("survey.done"), DONE)])
    return keyboard


def option_label(ctx: Context, question: Question, option_id: str, *, short: bool = False) -> str:
    if option_id == flow.OTHER:
        return ctx.t("survey.other")
    option = question.option(option_id)
    if option is None:
        return option_id
    return option.label(ctx.language) if short else option.text.get(ctx.language)
