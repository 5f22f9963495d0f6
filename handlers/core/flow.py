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

from handlers.core.forms import Condition, Question, QuestionType

DEFAULT_MAX_TEXT = 2000
OTHER = "other"


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


def visible(questions: list[Question], answers: dict[str, Any]) -> list[Question]:
    """The questions this respondent is asked, given the answers so far."""
    return [q for q in questions if all(condition_holds(c, answers) for c in q.conditions)]


def next_unanswered(questions: list[Question], answers: dict[str, Any]) -> Question | None:
    for question in visible(questions, answers):
        if question.id not in answers:
            return question
    return None


def hidden_answers(questions: list[Question], answers: dict[str, Any]) -> list[str]:
    """Answers to questions no longer shown (an earlier answer changed): to be dropped."""
    shown = {q.id for q in visible(questions, answers)}
    return [qid for qid in answers if qid not in shown]


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
    shown = [q.id for q in visible(questions, answers)]
    number = shown.index(current) + 1 if current in shown else len(shown)
    return Progress(number, len(shown))


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


def toggle(question: Question, chosen: list[str], option: str) -> list[str]:
    """Multiple choice: press to select, press again to unselect (content order kept)."""
    if option not in choice_ids(question):
        raise InvalidAnswer("flow.invalid.use_buttons")
    picked = set(chosen) ^ {option}
    high = question.max_choices or len(choice_ids(question))
    if len(picked) > high:
        raise InvalidAnswer("flow.invalid.too_many", max=high)
    return [o for o in choice_ids(question) if o in picked]


def check_multiple(question: Question, chosen: list[str]) -> dict[str, Any]:
    low = question.min_choices if question.min_choices is not None else 1
    high = question.max_choices or len(choice_ids(question))
    if len(chosen) < low:
        raise InvalidAnswer("flow.invalid.too_few", min=low)
    if len(chosen) > high:
        raise InvalidAnswer("flow.invalid.too_many", max=high)
    return {"choices": list(chosen)}


def parse_yesno(value: str) -> bool:
    if value not in ("y", "n"):
        raise InvalidAnswer("flow.invalid.use_buttons")
    return value == "y"
