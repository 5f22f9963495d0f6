"""The step engine: which question comes next, and what an answer means.

Pure functions over a form's questions and the answers so far, shared by every
form (surveys now, the proposal form later). Rendering a question to a reply
and storing answers are the callers' business; this module decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import phonenumbers
from babel.numbers import format_decimal
from email_validator import EmailNotValidError, validate_email

from handlers.core.forms import Condition, Option, Question, QuestionType

DEFAULT_MAX_TEXT = 2000
OTHER = "other"
# "Hard to say / does not apply": a button value and what a resident may type for it.
DONT_KNOW = "?"
DONT_KNOW_TYPED = frozenset({"?", "-", "x"})
SEPARATORS = re.compile(r"[\s,;]+")


class InvalidAnswer(Exception):
    """An answer that does not fit the question; `key` names the catalogue text."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def _comparable(value: Any) -> list[Any]:
    if isinstance(value, dict) and "choice" in value:
        return [value["choice"]]
    if isinstance(value, dict) and "choices" in value:
        return list(value["choices"])
    return [value]


def condition_holds(condition: Condition, answers: dict[str, Any]) -> bool:
    value = answers.get(condition.question)
    if condition.answered is not None:
        return (value is not None) is condition.answered
    if value is None:
        return False
    given = _comparable(value)
    if condition.equals is not None:
        return condition.equals in given
    if condition.in_ is not None:
        return any(v in condition.in_ for v in given)
    assert condition.not_in is not None
    return all(v not in condition.not_in for v in given)


def shown_items(question: Question, answers: dict[str, Any]) -> list[Option]:
    """The rows of a matrix this respondent rates: all, or those chosen in `items_from`."""
    if question.items_from is None:
        return list(question.items)
    value = answers.get(question.items_from)
    chosen = set(value.get("choices") or []) if isinstance(value, dict) else set()
    return [item for item in question.items if item.id in chosen]


def _has_rows(question: Question, answers: dict[str, Any]) -> bool:
    return question.items_from is None or bool(shown_items(question, answers))


def visible(questions: list[Question], answers: dict[str, Any]) -> list[Question]:
    """The questions this respondent is asked, given the answers so far."""
    return [
        q
        for q in questions
        if all(condition_holds(c, answers) for c in q.conditions) and _has_rows(q, answers)
    ]


def next_unanswered(questions: list[Question], answers: dict[str, Any]) -> Question | None:
    for question in visible(questions, answers):
        if question.id not in answers:
            return question
    return None


def hidden_answers(questions: list[Question], answers: dict[str, Any]) -> list[str]:
    """Answers to questions no longer shown (an earlier answer changed): to be dropped."""
    shown = {q.id: q for q in visible(questions, answers)}
    return [
        qid
        for qid, value in answers.items()
        if qid not in shown or _rows_changed(shown[qid], value, answers)
    ]


def _rows_changed(question: Question, value: Any, answers: dict[str, Any]) -> bool:
    """A matrix rated for other rows than it shows now (its `items_from` answer changed)."""
    if question.items_from is None or not isinstance(value, dict):
        return False
    return set(value) != {item.id for item in shown_items(question, answers)}


def previous(questions: list[Question], answers: dict[str, Any], current: str) -> Question | None:
    shown = visible(questions, answers)
    ids = [q.id for q in shown]
    if current in ids:
        index = ids.index(current)
        return shown[index - 1] if index > 0 else None
    answered = [q for q in shown if q.id in answers]
    return answered[-1] if answered else None


@dataclass(frozen=True)
class Progress:
    number: int
    total: int


def progress(questions: list[Question], answers: dict[str, Any], current: str) -> Progress:
    """ "Question 4 of 17": the total counts every question that may still be asked.

    A question waiting on an answer not given yet counts as asked, so the total only
    shrinks as answers rule questions out, and the number only grows as the resident
    goes on: the counter never jumps back ("13 of 13", then "14 of 14").
    """
    shown = [q.id for q in still_possible(questions, answers)]
    number = shown.index(current) + 1 if current in shown else len(shown)
    return Progress(number, len(shown))


def still_possible(questions: list[Question], answers: dict[str, Any]) -> list[Question]:
    """The questions asked already or that may still be asked, given the answers so far."""
    maybe: set[str] = set()
    possible = []
    for question in questions:
        if _could_show(question, answers, maybe):
            maybe.add(question.id)
            possible.append(question)
    return possible


def _could_show(question: Question, answers: dict[str, Any], maybe: set[str]) -> bool:
    for condition in question.conditions:
        waiting = condition.question not in answers and condition.question in maybe
        if not waiting and not condition_holds(condition, answers):
            return False
    source = question.items_from
    if source is not None and not shown_items(question, answers):
        return source not in answers and source in maybe
    return True


# --- answers typed as text -------------------------------------------------

DATE_FORMATS = (
    re.compile(r"^(?P<d>\d{1,2})[./-](?P<m>\d{1,2})[./-](?P<y>\d{4})$"),
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
)


def parse_scale(question: Question, text: str) -> int:
    assert question.scale is not None
    low, high = question.scale.min, question.scale.max
    try:
        value = int(text.strip())
    except ValueError:
        raise InvalidAnswer("flow.invalid.scale", min=low, max=high) from None
    if not low <= value <= high:
        raise InvalidAnswer("flow.invalid.scale", min=low, max=high)
    return value


def _number(question: Question, text: str) -> int | float:
    # Digits grouped with any space ("100 000", also non-breaking) read as one number.
    raw = "".join(text.split()).replace(",", ".")
    try:
        number = float(raw)
    except ValueError:
        raise InvalidAnswer("flow.invalid.number") from None
    if question.integer:
        if not number.is_integer():
            raise InvalidAnswer("flow.invalid.integer")
        number = int(number)
    low, high = question.min, question.max
    if (low is not None and number < low) or (high is not None and number > high):
        raise InvalidAnswer("flow.invalid.range", min=plain_number(low), max=plain_number(high))
    return number


def plain_number(value: float | None, language: str | None = None) -> str:
    """A limit as the reader's language writes it (grouped: 100 000 in Polish) when
    `language` is given, else as the content file has it."""
    if value is None:
        return "…"
    if language is not None:
        return format_decimal(value, locale=language)
    return str(int(value)) if float(value).is_integer() else str(value)


def _date(text: str) -> str:
    for pattern in DATE_FORMATS:
        match = pattern.match(text.strip())
        if match:
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"])).isoformat()
            except ValueError:
                break
    raise InvalidAnswer("flow.invalid.date")


def _email(text: str) -> str:
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidAnswer("flow.invalid.email") from None


def _phone(text: str) -> str:
    try:
        number = phonenumbers.parse(text.strip(), "PL")
    except phonenumbers.NumberParseException:
        raise InvalidAnswer("flow.invalid.phone") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidAnswer("flow.invalid.phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def free_text(text: str, *, min_length: int | None, max_length: int | None) -> str:
    value = text.strip()
    if not value:
        raise InvalidAnswer("flow.invalid.empty")
    top = max_length or DEFAULT_MAX_TEXT
    if len(value) > top:
        raise InvalidAnswer("flow.invalid.too_long", max=top, length=len(value))
    if min_length and len(value) < min_length:
        raise InvalidAnswer("flow.invalid.too_short", min=min_length)
    return value


def parse_text(question: Question, text: str) -> Any:
    """The stored value for a typed answer, or `InvalidAnswer` saying what is expected."""
    kind = question.type
    if kind is QuestionType.TEXT:
        return free_text(text, min_length=question.min_length, max_length=question.max_length)
    if kind is QuestionType.NUMBER:
        return _number(question, text)
    if kind in (QuestionType.SCALE, QuestionType.MATRIX):
        return parse_scale(question, text)
    if kind is QuestionType.DATE:
        return _date(text)
    if kind is QuestionType.EMAIL:
        return _email(text)
    if kind is QuestionType.PHONE:
        return _phone(text)
    raise InvalidAnswer("flow.invalid.use_buttons")


# --- answers given with buttons --------------------------------------------


def choice_ids(question: Question) -> list[str]:
    ids = [option.id for option in question.options]
    return [*ids, OTHER] if question.other else ids


def parse_single(question: Question, option: str) -> dict[str, Any]:
    if option not in choice_ids(question):
        raise InvalidAnswer("flow.invalid.use_buttons")
    return {"choice": option}


def exclusive_ids(question: Question) -> set[str]:
    """Options that go alone ("none of them"): choosing one clears the others."""
    return {option.id for option in question.options if option.exclusive}


def toggle(question: Question, chosen: list[str], option: str) -> list[str]:
    """Multiple choice: press to select, press again to unselect (content order kept).

    An exclusive option clears every other one; any other option clears it.
    """
    if option not in choice_ids(question):
        raise InvalidAnswer("flow.invalid.use_buttons")
    picked = set(chosen) ^ {option}
    if option in picked:
        alone = exclusive_ids(question)
        picked = {option} if option in alone else picked - alone
    high = question.max_choices or len(choice_ids(question))
    if len(picked) > high:
        raise _too_many(high)
    return [o for o in choice_ids(question) if o in picked]


def _too_many(high: int) -> InvalidAnswer:
    if high == 1:
        return InvalidAnswer("flow.invalid.too_many_one")
    return InvalidAnswer("flow.invalid.too_many", max=high)


def check_multiple(question: Question, chosen: list[str]) -> dict[str, Any]:
    low = question.min_choices if question.min_choices is not None else 1
    high = question.max_choices or len(choice_ids(question))
    ids = choice_ids(question)
    if len(chosen) < low:
        if low == 1:
            raise InvalidAnswer("flow.invalid.too_few_one")
        raise InvalidAnswer("flow.invalid.too_few", min=low)
    if len(chosen) > high:
        raise _too_many(high)
    alone = [c for c in chosen if c in exclusive_ids(question)]
    if alone and len(chosen) > 1:
        raise InvalidAnswer("flow.invalid.exclusive", number=ids.index(alone[0]) + 1)
    return {"choices": [o for o in ids if o in chosen]}


def parse_numbers(question: Question, text: str) -> list[str]:
    """Options typed by their numbers, counted from the top ("1, 3, 5")."""
    ids = choice_ids(question)
    picked: list[str] = []
    for token in SEPARATORS.split(text.strip()):
        if not token:
            continue
        if not token.isdigit() or not 1 <= int(token) <= len(ids):
            raise InvalidAnswer("flow.invalid.numbers", max=len(ids))
        if ids[int(token) - 1] not in picked:
            picked.append(ids[int(token) - 1])
    if not picked:
        raise InvalidAnswer("flow.invalid.numbers", max=len(ids))
    if question.type is QuestionType.SINGLE and len(picked) > 1:
        raise InvalidAnswer("flow.invalid.one_number", max=len(ids))
    return picked


def parse_grid(question: Question, items: list[Option], text: str) -> dict[str, int | None]:
    """A whole matrix typed as one rating per row, top to bottom ("5 4 3 ? 2")."""
    assert question.scale is not None
    low, high = question.scale.min, question.scale.max
    tokens = [t for t in SEPARATORS.split(text.strip()) if t]
    if len(tokens) != len(items):
        raise InvalidAnswer("flow.invalid.grid_count", count=len(items), given=len(tokens))
    rows: dict[str, int | None] = {}
    for item, token in zip(items, tokens, strict=True):
        if question.dont_know and token.lower() in DONT_KNOW_TYPED:
            rows[item.id] = None
            continue
        if not token.lstrip("-").isdigit() or not low <= int(token) <= high:
            key = "flow.invalid.grid_value_dk" if question.dont_know else "flow.invalid.grid_value"
            raise InvalidAnswer(key, value=token[:12], min=low, max=high)
        rows[item.id] = int(token)
    return rows


def parse_yesno(value: str) -> bool:
    if value not in ("y", "n"):
        raise InvalidAnswer("flow.invalid.use_buttons")
    return value == "y"
