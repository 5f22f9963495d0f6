"""Which responses a coordinator looks at: by channel, by day, by an answer to a closed question.

A filter narrows the responses before any number is counted, so the results,
charts, report and exports of a filtered view are the chat's own, of fewer
people. The channel is narrowed in the store (`results.load_results`); the days
and answers here, on the loaded responses.

- Days are the centre's calendar days of when a response was started, both
  ends included.
- An answer is a question id and one of its answer values: an option id (single
  or multiple choice, "other" included), "yes"/"no", or a scale point. A
  response matches when that value is among its answer; several answers must
  all match.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from handlers.core.forms import Question, QuestionType, Survey
from handlers.core.i18n import Translator
from handlers.surveys.parts import answer_part, is_personal
from handlers.surveys.results import NO, OTHER, YES
from storage.on_behalf import CHANNELS as ENTERED

# Every channel a response can come by: the chat's, then entries made on behalf of residents.
CHANNELS = ("telegram", "email", "console", *ENTERED)
FILTER_TYPES = (QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.YESNO, QuestionType.SCALE)


@dataclass(frozen=True)
class ResponseFilter:
    channels: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    # (question id, answer value) pairs that must all match.
    answers: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not (self.channels or self.since or self.until or self.answers)

    def apply(self, responses: Sequence[Any], timezone: tzinfo) -> list[Any]:
        """The responses (already narrowed by channel) that started on the days and match."""
        return [r for r in responses if self._on_days(r, timezone) and self._answered(r)]

    def _on_days(self, response: Any, timezone: tzinfo) -> bool:
        if self.since is None and self.until is None:
            return True
        started: datetime = response.started_at
        if started.tzinfo is None:
            started = started.replace(tzinfo=UTC)
        day = started.astimezone(timezone).date()
        return (self.since is None or day >= self.since) and (
            self.until is None or day <= self.until
        )

    def _answered(self, response: Any) -> bool:
        return all(value in tokens(response.answers.get(qid)) for qid, value in self.answers)


def tokens(value: Any) -> set[str]:
    """The values an answer stands for: option ids, "yes"/"no" or a scale point."""
    if value is None:
        return set()
    if isinstance(value, bool):
        return {YES if value else NO}
    if isinstance(value, dict):
        picked = value.get("choices") if "choices" in value else [value.get("choice")]
        return {str(p) for p in picked or [] if p is not None}
    if isinstance(value, float) and value.is_integer():
        return {str(int(value))}
    return {str(value)}


@dataclass(frozen=True)
class AnswerChoice:
    """One answer a view can be narrowed to, as a form offers it."""

    question: str
    value: str
    question_text: str
    label: str

    @property
    def key(self) -> str:
        return f"{self.question}={self.value}"


def answer_choices(survey: Survey, translator: Translator, language: str) -> list[AnswerChoice]:
    """Every answer of every closed, not personal question of the answer part."""
    found = []
    for question in answer_part(survey).questions:
        if question.type not in FILTER_TYPES or is_personal(question):
            continue
        title = question.short_text(language)
        for value, label in _values(question, translator, language):
            found.append(AnswerChoice(question.id, value, title, label))
    return found


def _values(question: Question, translator: Translator, language: str) -> list[tuple[str, str]]:
    if question.type is QuestionType.YESNO:
        return [
            (YES, translator.text(language, "results.yes")),
            (NO, translator.text(language, "results.no")),
        ]
    if question.type is QuestionType.SCALE:
        scale = question.scale
        return [(str(p), str(p)) for p in range(scale.min, scale.max + 1)] if scale else []
    values = [(o.id, question.option_text(o.id, language) or o.id) for o in question.options]
    if question.other:
        values.append((OTHER, translator.text(language, "results.other")))
    return values


def parse_answer(key: str, choices: Sequence[AnswerChoice]) -> tuple[str, str] | None:
    """A "question=value" from a link, if it is one of the offered answers."""
    for choice in choices:
        if choice.key == key:
            return choice.question, choice.value
    return None
