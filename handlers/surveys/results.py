"""Survey results for the coordinator: counts, percentages, means, volunteers.

Everything here is a pure function of the survey content and the stored
responses (only `load_results` touches the store), so the same numbers feed
the Telegram summary (`results_text`), the charts and the exports.

Rules a coordinator can rely on:
- Answers of finished AND unfinished responses are counted (a resident who
  stopped half way still told us something); `SurveyOverview` says how many
  responses were started and how many finished.
- A question is *answered* when its answer is stored and not None, *skipped*
  when the resident skipped an optional question (stored None). Questions a
  resident never saw (a `show_if` hid them, or they stopped before) count in
  neither.
- Percentages are of the residents who answered that question (not of all
  responses), so a skipped or hidden question does not dilute them. For
  multiple choice one person may pick several options, so they add up to more
  than 100%.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.forms import Question, QuestionType, Survey
from handlers.surveys.parts import answer_part, contact_ids
from storage import on_behalf, survey_privacy
from storage.surveys import FINISHED, StoredResponse, all_responses

OTHER = "other"
YES = "yes"
NO = "no"
CHOICE_TYPES = (QuestionType.SINGLE, QuestionType.MULTIPLE)


@dataclass(frozen=True)
class SurveyOverview:
    """How many responses were started (all of them) and how many were finished."""

    started: int
    finished: int
    # Finished responses entered by a coordinator, per channel (paper, phone, in person).
    entered: dict[str, int] = field(default_factory=dict)

    @property
    def unfinished(self) -> int:
        return self.started - self.finished


@dataclass(frozen=True)
class Count:
    """One bar: an option, a scale point, yes or no.

    `label` is the content text in the summary's language; None for the
    built-in labels (`other`, `yes`, `no`), which `count_label` translates.
    """

    id: str
    label: str | None
    count: int
    percent: float


@dataclass(frozen=True)
class Stats:
    count: int
    mean: float
    median: float
    minimum: float
    maximum: float


@dataclass(frozen=True)
class ItemSummary:
    """One row of a matrix question."""

    id: str
    text: str
    answered: int
    mean: float | None
    median: float | None
    distribution: list[Count]


@dataclass
class QuestionSummary:
    question: Question
    text: str
    answered: int
    skipped: int
    counts: list[Count] = field(default_factory=list)
    other_texts: list[str] = field(default_factory=list)
    stats: Stats | None = None
    items: list[ItemSummary] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.question.id

    @property
    def type(self) -> QuestionType:
        return self.question.type


@dataclass(frozen=True)
class Volunteer:
    """A resident who would lead or join an initiative and agreed to be contacted.

    `name` is the resident's name in a named survey; None in an anonymous one
    (there the contact answers they typed in say who they are) and when the
    resident erased their data (/forget). `resident_id` is for reaching them
    through the bot (the "volunteers" audience); it is never shown.
    """

    response_id: int
    resident_id: int | None
    name: str | None
    interest: list[str]
    contact: dict[str, str]


async def load_results(
    session: AsyncSession, survey: Survey, *, channels: Collection[str] | None = None
) -> list[StoredResponse]:
    """Every stored response of the survey (of `channels` only, when given), oldest first.

    For an anonymous survey only the answer part: the contact answers of a
    response still in progress are left out, like those moved out on finishing.
    """
    responses = await all_responses(session, survey.slug, channels=channels)
    if survey.anonymous:
        apart = set(contact_ids(survey))
        for response in responses:
            response.answers = {q: v for q, v in response.answers.items() if q not in apart}
    return responses


def overview(responses: Sequence[StoredResponse]) -> SurveyOverview:
    """Started (all) and finished response counts."""
    return SurveyOverview(
        started=len(responses),
        finished=sum(1 for r in responses if r.status == FINISHED),
        entered=on_behalf.count_by_channel(r.channel for r in responses if r.status == FINISHED),
    )


def summarise(
    survey: Survey, responses: Sequence[StoredResponse], *, language: str
) -> list[QuestionSummary]:
    """One summary per question of the answer part, in the order of the survey."""
    return [_summarise_question(q, responses, language) for q in answer_part(survey).questions]


def _summarise_question(
    question: Question, responses: Sequence[StoredResponse], language: str
) -> QuestionSummary:
    values: list[Any] = []
    skipped = 0
    for response in responses:
        if question.id not in response.answers:
            continue
        value = response.answers[question.id]
        if value is None:
            skipped += 1
        else:
            values.append(value)
    summary = QuestionSummary(
        question=question,
        text=question.text.get(language),
        answered=len(values),
        skipped=skipped,
    )
    kind = question.type
    if kind in CHOICE_TYPES:
        _choices(summary, values, language)
    elif kind is QuestionType.SCALE:
        numbers = [v for v in values if _is_number(v)]
        summary.counts = _distribution(question, numbers, len(values))
        summary.stats = _stats(numbers)
    elif kind is QuestionType.MATRIX:
        _matrix(summary, values, language)
    elif kind is QuestionType.NUMBER:
        summary.stats = _stats([v for v in values if _is_number(v)])
    elif kind is QuestionType.YESNO:
        yes = sum(1 for v in values if v is True)
        no = sum(1 for v in values if v is False)
        summary.counts = [
            Count(YES, None, yes, _percent(yes, len(values))),
            Count(NO, None, no, _percent(no, len(values))),
        ]
    else:
        summary.answers = [str(v) for v in values if str(v).strip()]
    return summary


def _choices(summary: QuestionSummary, values: list[Any], language: str) -> None:
    question = summary.question
    chosen: Counter[str] = Counter()
    for value in values:
        if not isinstance(value, dict):
            continue
        if question.type is QuestionType.SINGLE:
            picked = [value.get("choice")]
        else:
            picked = value.get("choices") or []
        # A person counts once per option even if a stored list repeats it.
        for option_id in {str(p) for p in picked if p is not None}:
            chosen[option_id] += 1
        other = value.get("other")
        if isinstance(other, str) and other.strip():
            summary.other_texts.append(other.strip())
    answered = summary.answered
    ids = [option.id for option in question.options]
    if question.other or chosen[OTHER]:
        ids.append(OTHER)
    # Options no longer in the content (edited after answers came in) go last.
    ids += sorted(set(chosen) - set(ids))
    summary.counts = [
        Count(
            option_id,
            _option_label(question, option_id, language),
            chosen[option_id],
            _percent(chosen[option_id], answered),
        )
        for option_id in ids
    ]


def _option_label(question: Question, option_id: str, language: str) -> str | None:
    if option_id == OTHER:
        return None
    return question.option_text(option_id, language) or option_id


def _matrix(summary: QuestionSummary, values: list[Any], language: str) -> None:
    question = summary.question
    rows = [v for v in values if isinstance(v, dict)]
    item_ids = [item.id for item in question.items]
    item_ids += sorted({k for row in rows for k in row} - set(item_ids))
    for item_id in item_ids:
        numbers = [row[item_id] for row in rows if _is_number(row.get(item_id))]
        stats = _stats(numbers)
        summary.items.append(
            ItemSummary(
                id=item_id,
                text=question.option_text(item_id, language) or item_id,
                answered=len(numbers),
                mean=stats.mean if stats else None,
                median=stats.median if stats else None,
                distribution=_distribution(question, numbers, len(numbers)),
            )
        )


def _distribution(question: Question, numbers: list[float], answered: int) -> list[Count]:
    counter = Counter(numbers)
    scale = question.scale
    points: list[float] = list(range(scale.min, scale.max + 1)) if scale else []
    points += sorted(set(counter) - set(points))
    return [
        Count(_point_id(p), _point_id(p), counter[p], _percent(counter[p], answered))
        for p in points
    ]


def _point_id(point: float) -> str:
    return str(int(point)) if float(point).is_integer() else str(point)


def _stats(numbers: list[float]) -> Stats | None:
    if not numbers:
        return None
    return Stats(
        count=len(numbers),
        mean=statistics.fmean(numbers),
        median=statistics.median(numbers),
        minimum=min(numbers),
        maximum=max(numbers),
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _percent(count: int, total: int) -> float:
    return 100.0 * count / total if total else 0.0


# --- volunteers ------------------------------------------------------------


def leaders(
    survey: Survey, responses: Sequence[StoredResponse], *, language: str = "pl"
) -> list[Volunteer]:
    """Residents who chose an interest value that counts AND said yes to being contacted.

    From the responses' answers: for a named survey (an anonymous one keeps its
    contact part apart, see `volunteers`). One entry per resident (their latest
    qualifying response).
    """
    rule = survey.leaders
    if rule is None:
        return []
    interest_question = survey.question(rule.interest)
    wanted = {str(v) for v in rule.values}
    found: dict[object, Volunteer] = {}
    for response in responses:
        if response.answers.get(rule.consent) is not True:
            continue
        tokens = _tokens(response.answers.get(rule.interest))
        matched = [t for t in tokens if t in wanted]
        if not matched:
            continue
        interest = [
            (interest_question.option_text(t, language) if interest_question else None) or t
            for t in matched
        ]
        contact = {
            qid: str(response.answers[qid])
            for qid in rule.contact
            if response.answers.get(qid) not in (None, "")
        }
        known = response.resident_id is not None and (
            response.telegram_id is not None or response.resident_name is not None
        )
        volunteer = Volunteer(
            response_id=response.id,
            resident_id=response.resident_id if known else None,
            name=response.resident_name if known else None,
            interest=interest,
            contact=contact,
        )
        key = response.resident_id if response.resident_id is not None else ("r", response.id)
        found[key] = volunteer  # responses are oldest first: the latest wins
    return list(found.values())


async def volunteers(
    session: AsyncSession, survey: Survey, *, language: str = "pl"
) -> list[Volunteer]:
    """The volunteers of a survey: from its contact records when anonymous."""
    if not survey.anonymous:
        return leaders(survey, await load_results(session, survey), language=language)
    rule = survey.leaders
    if rule is None:
        return []
    interest_question = survey.question(rule.interest)
    found = []
    for record in await survey_privacy.volunteers(session, survey.slug):
        if not record.interest:
            continue
        found.append(
            Volunteer(
                response_id=record.id,
                resident_id=record.resident_id,
                name=None,
                interest=[
                    (interest_question.option_text(t, language) if interest_question else None) or t
                    for t in record.interest
                ],
                contact={q: str(v) for q, v in record.details.items() if q in rule.contact},
            )
        )
    return found


def _tokens(value: Any) -> list[str]:
    """The option ids (or yes/no, or a number) an answer stands for."""
    if value is None:
        return []
    if isinstance(value, bool):
        return [YES if value else NO]
    if isinstance(value, dict):
        if "choices" in value:
            return [str(c) for c in value.get("choices") or []]
        if "choice" in value:
            return [str(value["choice"])]
        return []
    return [str(value)]
