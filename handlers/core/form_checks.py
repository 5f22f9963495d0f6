"""Checks of a list of questions (a survey's questions, the proposal form) as a whole.

The question model checks one question at a time; these need the list: ids used
once, `show_if` and `items_from` pointing at an earlier question and at an answer
it can have, and where every text of every question is (for the language checks).
`label_warnings` finds button labels too wide for a phone: a warning, since the
form still works, only with labels cut short.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from handlers.core.content_files import Loc, Message, Problem, Source, note, show, valid
from handlers.core.forms import Condition, Question, QuestionType

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CHOICE_TYPES = (QuestionType.SINGLE, QuestionType.MULTIPLE)
# Characters of a button that fills a keyboard row which a narrow phone (360 px)
# shows before cutting it with "…" (options and matrix items get a row each; the
# tick in front of a multiple-choice option takes two more).
BUTTON_WIDTH = 30


@dataclass
class Entry:
    """One question of the file: where it is, what was written, and the model if valid."""

    index: int
    raw: Any
    id: str | None
    question: Question | None


class FormChecks:
    """Checks of the question list at `key` that need more than one question at a time."""

    def __init__(self, source: Source, key: str) -> None:
        self.source = source
        self.key = key
        self.problems: list[Problem] = []
        raw_questions = source.data.get(key)
        self.entries = [
            Entry(
                i,
                raw,
                raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None,
                valid(Question, raw),
            )
            for i, raw in enumerate(raw_questions if isinstance(raw_questions, list) else [])
        ]
        self.first: dict[str, Entry] = {}
        for entry in self.entries:
            if entry.id is not None:
                self.first.setdefault(entry.id, entry)

    def add(self, loc: Loc, message: Message, *, label: Loc | None = None) -> None:
        self.problems.append(self.source.problem(loc, message, label=label))

    def run(self) -> list[Problem]:
        self.unique_ids()
        self.conditions()
        self.items_from()
        return self.problems

    def unique_ids(self) -> None:
        for entry in self.entries:
            first = self.first.get(entry.id) if entry.id else None
            if first is not None and first is not entry:
                line = self.source.line((self.key, first.index))
                self.add(
                    (self.key, entry.index, "id"),
                    note(
                        "content.error.duplicate_question_id",
                        id=entry.id,
                        first=f"{self.key}[{first.index + 1}]",
                        line=line,
                    ),
                    label=(self.key, entry.index),
                )

    def conditions(self) -> None:
        for entry in self.entries:
            if not isinstance(entry.raw, dict):
                continue
            raw = entry.raw.get("show_if")
            base: Loc = (self.key, entry.index, "show_if")
            items = (
                [(base + (k,), item) for k, item in enumerate(raw)]
                if isinstance(raw, list)
                else [(base, raw)]
                if raw is not None
                else []
            )
            for loc, item in items:
                condition = valid(Condition, item)
                if condition is not None:
                    self.condition(entry, loc, condition, item)

    def condition(self, entry: Entry, loc: Loc, condition: Condition, raw: Any) -> None:
        target = self.first.get(condition.question)
        if target is None:
            self.add(
                loc + ("question",),
                note("content.error.unknown_question", question=condition.question),
                label=loc,
            )
            return
        if target.index >= entry.index:
            message = (
                note("content.error.show_if_itself")
                if target is entry
                else note(
                    "content.error.show_if_later",
                    question=condition.question,
                    at=f"{self.key}[{target.index + 1}]",
                    line=self.source.line((self.key, target.index)),
                )
            )
            self.add(loc + ("question",), message, label=loc)
            return
        if condition.answered is not None or target.question is None:
            return
        tests: list[tuple[Loc, list[Any]]] = []
        if condition.equals is not None:
            tests.append((loc + ("equals",), [condition.equals]))
        for name, values in (("in", condition.in_), ("not_in", condition.not_in)):
            if values is None:
                continue
            key = "in_" if isinstance(raw, dict) and "in_" in raw else name
            if not values:
                self.add(loc + (key,), note("content.error.needs_value", name=name), label=loc)
            tests.append((loc + (key,), list(values)))
        for value_loc, values in tests:
            for k, value in enumerate(values):
                message = condition_value_problem(target.question, value)
                if message is None:
                    continue
                exact = value_loc if value_loc[-1] == "equals" else value_loc + (k,)
                self.add(exact, message, label=loc)

    def items_from(self) -> None:
        """A matrix's `items_from` names an earlier multiple choice sharing its ids."""
        for entry in self.entries:
            question = entry.question
            if question is None or question.items_from is None:
                continue
            loc: Loc = (self.key, entry.index, "items_from")
            target = self.first.get(question.items_from)
            if target is None or target.index >= entry.index:
                self.add(loc, note("content.error.items_from_later", question=question.items_from))
                continue
            source = target.question
            if source is None:
                continue
            if source.type is not QuestionType.MULTIPLE:
                message = note(
                    "content.error.items_from_type", question=source.id, type=source.type
                )
                self.add(loc, message)
                continue
            options = {option.id for option in source.options}
            missing = [item.id for item in question.items if item.id not in options]
            if missing:
                message = note(
                    "content.error.items_not_options",
                    items=", ".join(missing),
                    question=source.id,
                    options=", ".join(sorted(options)),
                )
                self.add(loc, message)

    def label_warnings(self, languages: list[str]) -> list[Problem]:
        """Buttons wider than a phone shows: write a `short:` label for them."""
        warnings = []
        for entry in self.entries:
            question = entry.question
            if question is None:
                continue
            # The tick in front of a multiple-choice option takes two characters.
            width = BUTTON_WIDTH - (2 if question.type is QuestionType.MULTIPLE else 0)
            for group in ("options", "items"):
                for k, option in enumerate(getattr(question, group)):
                    for language in languages:
                        label = option.label(language)
                        if len(label) <= width:
                            continue
                        field = "short" if option.short is not None else "text"
                        warnings.append(
                            self.source.problem(
                                (self.key, entry.index, group, k, field),
                                note(
                                    "content.warning.button_width",
                                    language=language,
                                    length=len(label),
                                    width=width,
                                ),
                            )
                        )
        return warnings

    def text_locations(self) -> Iterator[Loc]:
        """Every text of every question: the question, its help, options, scale labels."""
        for entry in self.entries:
            if not isinstance(entry.raw, dict):
                continue
            base: Loc = (self.key, entry.index)
            for name in ("text", "short", "help"):
                if entry.raw.get(name) is not None:
                    yield base + (name,)
            for group in ("options", "items"):
                options = entry.raw.get(group)
                for k, option in enumerate(options if isinstance(options, list) else []):
                    for name in ("text", "short"):
                        if isinstance(option, dict) and option.get(name) is not None:
                            yield base + (group, k, name)
            scale = entry.raw.get("scale")
            if isinstance(scale, dict):
                for name in ("min_label", "max_label"):
                    if scale.get(name) is not None:
                        yield base + ("scale", name)


def choice_ids(question: Question) -> list[str]:
    ids = [option.id for option in question.options]
    return [*ids, "other"] if question.other else ids


def condition_value_problem(question: Question, value: Any) -> Message | None:
    """Why `value` can never be an answer to `question`, or None when it can."""
    kind_ = question.type
    name = question.id
    if kind_ in CHOICE_TYPES:
        allowed = choice_ids(question)
        if isinstance(value, str) and value in allowed:
            return None
        return note(
            "content.error.not_an_option",
            value=show(value),
            question=name,
            options=", ".join(allowed),
        )
    if kind_ is QuestionType.YESNO:
        if isinstance(value, bool):
            return None
        return note("content.error.compare_yesno", question=name, value=show(value))
    if kind_ in (QuestionType.SCALE, QuestionType.NUMBER):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return note(
                "content.error.compare_number", question=name, type=kind_, value=show(value)
            )
        if kind_ is QuestionType.SCALE and question.scale is not None:
            low, high = float(question.scale.min), float(question.scale.max)
        else:
            low, high = question.min, question.max
        if low is not None and value < low:
            return note(
                "content.error.below_lowest", value=show(value), question=name, low=number(low)
            )
        if high is not None and value > high:
            return note(
                "content.error.above_highest", value=show(value), question=name, high=number(high)
            )
        return None
    if kind_ is QuestionType.MATRIX:
        return note("content.error.compare_matrix", question=name)
    if kind_ is QuestionType.DATE:
        if isinstance(value, str) and _ISO_DATE.match(value):
            return None
        return note("content.error.compare_date", question=name)
    if isinstance(value, str):
        return None
    return note("content.error.compare_text", question=name, type=kind_, value=show(value))


def number(value: float | None) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
