"""Anonymous surveys in the store: finished responses cut from the resident.

While a resident answers, their response is linked to them (to resume it).
`seal` runs when an anonymous survey is finished:
- the contact part (consent, interest, contact details) moves to a
  `SurveyContact` row, linked to the resident only when they agreed to be
  contacted; those answers leave `survey_answers`;
- a `SurveyParticipation` row keeps "this resident took part" (no time, no
  response id), so they cannot answer twice and /mydata can tell them;
- the response loses its resident, and its times (and its answers' times) are
  cut to the day, so they cannot be matched with the resident's other traces.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SurveyAnswer, SurveyContact, SurveyParticipation, SurveyResponse
from storage.surveys import FINISHED, answers_of, remove_answers
from storage.types import utcnow


@dataclass(frozen=True)
class ContactPart:
    """Which questions of a survey form its contact part (from the content)."""

    survey: str
    consent: str | None = None
    details: tuple[str, ...] = ()
    interest: str | None = None
    interest_values: tuple[str, ...] = ()

    @property
    def questions(self) -> list[str]:
        return [self.consent, *self.details] if self.consent else list(self.details)


def _day(moment: datetime | None) -> datetime:
    moment = moment or utcnow()
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)


def _tokens(value: Any) -> list[str]:
    if isinstance(value, dict):
        picked = value.get("choices") if "choices" in value else [value.get("choice")]
        return [str(p) for p in picked or [] if p is not None]
    return [] if value is None else [str(value)]


async def seal(session: AsyncSession, response: SurveyResponse, part: ContactPart) -> None:
    """Cut a finished anonymous response from its resident (see the module docstring)."""
    resident_id = response.resident_id
    day = _day(response.finished_at)
    answers = await answers_of(session, response.id)
    # Without a resident (erased by /forget) there is nobody to contact: the
    # contact answers only go.
    if resident_id is not None and part.consent is not None and part.consent in answers:
        agreed = answers[part.consent] is True
        interest = [
            t for t in _tokens(answers.get(part.interest or "")) if t in part.interest_values
        ]
        details = {q: answers[q] for q in part.details if answers.get(q) not in (None, "")}
        session.add(
            SurveyContact(
                survey=part.survey,
                resident_id=resident_id if agreed else None,
                consent=agreed,
                interest=interest if agreed else [],
                details=details if agreed else {},
                given_on=day,
            )
        )
    await remove_answers(session, response=response, questions=part.questions)
    if resident_id is not None:
        session.add(SurveyParticipation(survey=part.survey, resident_id=resident_id))
    response.resident_id = None
    response.started_at = response.updated_at = response.finished_at = day
    await session.execute(
        update(SurveyAnswer).where(SurveyAnswer.response_id == response.id).values(answered_at=day)
    )
    await session.flush()


async def seal_finished(session: AsyncSession, part: ContactPart) -> int:
    """Seal every finished response still linked or still holding contact answers.

    For the responses kept before sealing existed, or before a survey was made
    anonymous; running it again changes nothing.
    """
    holding = select(SurveyAnswer.response_id).where(
        SurveyAnswer.question.in_(part.questions or [""])
    )
    responses = list(
        await session.scalars(
            select(SurveyResponse).where(
                SurveyResponse.survey == part.survey,
                SurveyResponse.status == FINISHED,
                SurveyResponse.resident_id.is_not(None) | SurveyResponse.id.in_(holding),
            )
        )
    )
    for response in responses:
        await seal(session, response, part)
    return len(responses)


async def participations(session: AsyncSession, *, survey: str, resident_id: int) -> int:
    return (
        await session.scalar(
            select(func.count()).where(
                SurveyParticipation.survey == survey, SurveyParticipation.resident_id == resident_id
            )
        )
        or 0
    )


async def participated_in(session: AsyncSession, resident_id: int) -> list[str]:
    """The anonymous surveys a resident finished (for /mydata)."""
    rows = await session.scalars(
        select(SurveyParticipation.survey)
        .where(SurveyParticipation.resident_id == resident_id)
        .order_by(SurveyParticipation.id)
    )
    return list(rows)


async def contacts_of(session: AsyncSession, resident_id: int) -> list[SurveyContact]:
    return list(
        await session.scalars(
            select(SurveyContact)
            .where(SurveyContact.resident_id == resident_id)
            .order_by(SurveyContact.id)
        )
    )


async def volunteers(session: AsyncSession, survey: str) -> list[SurveyContact]:
    """Contact records of people who agreed to be contacted, oldest first."""
    return list(
        await session.scalars(
            select(SurveyContact)
            .where(SurveyContact.survey == survey, SurveyContact.consent.is_(True))
            .order_by(SurveyContact.id)
        )
    )


async def forget(session: AsyncSession, resident_id: int) -> None:
    """For /forget: the participation marks and the contact records go."""
    await session.execute(
        delete(SurveyParticipation).where(SurveyParticipation.resident_id == resident_id)
    )
    await session.execute(delete(SurveyContact).where(SurveyContact.resident_id == resident_id))
