"""Survey responses and answers."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage import upsert
from storage.models import Resident, SurveyAnswer, SurveyResponse
from storage.types import utcnow

STARTED = "started"
FINISHED = "finished"


async def start_response(
    session: AsyncSession, *, survey: str, resident_id: int, language: str, channel: str
) -> SurveyResponse:
    now = utcnow()
    response = SurveyResponse(
        survey=survey,
        resident_id=resident_id,
        status=STARTED,
        language=language,
        channel=channel,
        started_at=now,
        updated_at=now,
    )
    session.add(response)
    await session.flush()
    return response


_RESPONSE = select(SurveyResponse).where(SurveyResponse.id == bindparam("response_id"))


async def get_response(session: AsyncSession, response_id: int) -> SurveyResponse | None:
    return await session.scalar(_RESPONSE, {"response_id": response_id})


async def unfinished_response(
    session: AsyncSession, *, survey: str, resident_id: int
) -> SurveyResponse | None:
    return await session.scalar(
        select(SurveyResponse)
        .where(
            SurveyResponse.survey == survey,
            SurveyResponse.resident_id == resident_id,
            SurveyResponse.status == STARTED,
        )
        .order_by(SurveyResponse.id.desc())
        .limit(1)
    )


async def finished_count(session: AsyncSession, *, survey: str, resident_id: int) -> int:
    return (
        await session.scalar(
            select(func.count()).where(
                SurveyResponse.survey == survey,
                SurveyResponse.resident_id == resident_id,
                SurveyResponse.status == FINISHED,
            )
        )
        or 0
    )


_ANSWERS_OF = select(SurveyAnswer.question, SurveyAnswer.value).where(
    SurveyAnswer.response_id == bindparam("response_id")
)


_RESPONSE_WITH_ANSWERS = (
    select(SurveyResponse, SurveyAnswer.question, SurveyAnswer.value)
    .outerjoin(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
    .where(SurveyResponse.id == bindparam("response_id"))
)


async def response_with_answers(
    session: AsyncSession, response_id: int
) -> tuple[SurveyResponse | None, dict[str, Any]]:
    """A response and its answers in one round trip: every step of a survey needs both."""
    rows = (await session.execute(_RESPONSE_WITH_ANSWERS, {"response_id": response_id})).all()
    if not rows:
        return None, {}
    # A response with no answers yet is one row without a question (the outer join).
    return rows[0][0], {question: value for _, question, value in rows if question is not None}


async def answers_of(session: AsyncSession, response_id: int) -> dict[str, Any]:
    rows = await session.execute(_ANSWERS_OF, {"response_id": response_id})
    return {question: value for question, value in rows.all()}


@cache
def _upsert_answer(dialect: str) -> Any:
    statement = upsert.insert_into(dialect, SurveyAnswer.__table__)
    return statement.on_conflict_do_update(
        index_elements=["response_id", "question"],
        set_={"value": statement.excluded.value, "answered_at": statement.excluded.answered_at},
    )


_TOUCH_RESPONSE = (
    update(SurveyResponse.__table__)
    .where(SurveyResponse.__table__.c.id == bindparam("response_id"))
    .values(updated_at=bindparam("now"))
)


async def save_answer(
    session: AsyncSession, *, response: SurveyResponse, question: str, value: Any
) -> None:
    """Store or replace one answer (None records a skipped optional question)."""
    now = utcnow()
    await session.execute(
        _upsert_answer(upsert.dialect(session)),
        {"response_id": response.id, "question": question, "value": value, "answered_at": now},
    )
    await session.execute(_TOUCH_RESPONSE, {"response_id": response.id, "now": now})
    set_committed_value(response, "updated_at", now)


async def remove_answers(
    session: AsyncSession, *, response: SurveyResponse, questions: list[str]
) -> None:
    """Forget answers to questions that are no longer shown (a condition changed)."""
    if questions:
        await session.execute(
            delete(SurveyAnswer).where(
                SurveyAnswer.response_id == response.id, SurveyAnswer.question.in_(questions)
            )
        )


async def finish(session: AsyncSession, response: SurveyResponse) -> None:
    now = utcnow()
    response.status = FINISHED
    response.finished_at = now
    response.updated_at = now
    await session.flush()


async def counts(session: AsyncSession) -> dict[str, dict[str, int]]:
    """Per survey slug: how many responses were started and finished."""
    rows = await session.execute(
        select(SurveyResponse.survey, SurveyResponse.status, func.count()).group_by(
            SurveyResponse.survey, SurveyResponse.status
        )
    )
    result: dict[str, dict[str, int]] = {}
    for survey, status, count in rows.all():
        entry = result.setdefault(survey, {"started": 0, "finished": 0})
        entry["started"] += count
        if status == FINISHED:
            entry["finished"] += count
    return result


@dataclass
class StoredResponse:
    id: int
    survey: str
    resident_id: int | None
    resident_name: str | None
    telegram_id: int | None
    status: str
    language: str
    channel: str
    started_at: Any
    finished_at: Any
    answers: dict[str, Any]


_RESPONSE_COLUMNS = (
    SurveyResponse.id,
    SurveyResponse.survey,
    SurveyResponse.resident_id,
    SurveyResponse.status,
    SurveyResponse.language,
    SurveyResponse.channel,
    SurveyResponse.started_at,
    SurveyResponse.finished_at,
)


async def all_responses(
    session: AsyncSession, survey: str, *, channels: Collection[str] | None = None
) -> list[StoredResponse]:
    """Every response of a survey with its answers, oldest first; `channels` keeps only
    those that came by these channels (e.g. "paper", entered on behalf of a resident)."""
    # Plain rows, not ORM objects: a survey's responses and answers run to tens of thousands.
    wanted = [SurveyResponse.survey == survey]
    if channels is not None:
        wanted.append(SurveyResponse.channel.in_(list(channels)))
    query = (
        select(*_RESPONSE_COLUMNS, Resident.name, Resident.telegram_id)
        .outerjoin(Resident, Resident.id == SurveyResponse.resident_id)
        .where(*wanted)
        .order_by(SurveyResponse.id)
    )
    rows = (await session.execute(query)).all()
    answers: dict[int, dict[str, Any]] = {row.id: {} for row in rows}
    if rows:
        found = await session.execute(
            select(SurveyAnswer.response_id, SurveyAnswer.question, SurveyAnswer.value)
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .where(*wanted)
        )
        for response_id, question, value in found.all():
            answers[response_id][question] = value
    return [
        StoredResponse(
            id=row.id,
            survey=row.survey,
            resident_id=row.resident_id,
            resident_name=row.name,
            telegram_id=row.telegram_id,
            status=row.status,
            language=row.language,
            channel=row.channel,
            started_at=row.started_at,
            finished_at=row.finished_at,
            answers=answers[row.id],
        )
        for row in rows
    ]


async def of_resident(session: AsyncSession, resident_id: int) -> list[StoredResponse]:
    slugs = await session.scalars(
        select(SurveyResponse.survey).where(SurveyResponse.resident_id == resident_id).distinct()
    )
    found: list[StoredResponse] = []
    for slug in slugs:
        found += [r for r in await all_responses(session, slug) if r.resident_id == resident_id]
    return found


async def detach_resident(
    session: AsyncSession, *, resident_id: int, personal: dict[str, list[str]]
) -> None:
    """For /forget: erase identifying answers, keep the rest without a link to the person."""
    responses = list(
        await session.scalars(
            select(SurveyResponse).where(SurveyResponse.resident_id == resident_id)
        )
    )
    for response in responses:
        questions = personal.get(response.survey, [])
        if questions:
            await remove_answers(session, response=response, questions=questions)
        response.resident_id = None
    await session.flush()


async def fingerprint(session: AsyncSession, survey: str) -> tuple[Any, ...]:
    """What changes whenever a survey's results could: responses and answers added,
    changed (an answer's time moves on) or removed (their counts drop), responses
    finished or sealed. Cheap next to loading them all; a view kept under the
    same fingerprint shows the same numbers."""
    responses = (
        await session.execute(
            select(
                func.count(SurveyResponse.id),
                func.max(SurveyResponse.id),
                func.max(SurveyResponse.updated_at),
                func.count(SurveyResponse.finished_at),
            ).where(SurveyResponse.survey == survey)
        )
    ).one()
    answers = (
        await session.execute(
            select(
                func.count(SurveyAnswer.id),
                func.max(SurveyAnswer.id),
                func.max(SurveyAnswer.answered_at),
            )
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .where(SurveyResponse.survey == survey)
        )
    ).one()
    return (*responses, *answers)
