"""Residents' questions to the coordinators (/ask) and the coordinators' answers."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.proposals import ResidentQuestion
from storage.types import utcnow


async def ask(
    session: AsyncSession, *, resident_id: int | None, channel: str, chat_id: str, text: str
) -> ResidentQuestion:
    question = ResidentQuestion(
        resident_id=resident_id, channel=channel, chat_id=chat_id, text=text, asked_at=utcnow()
    )
    session.add(question)
    await session.flush()
    return question


async def get(session: AsyncSession, question_id: int) -> ResidentQuestion | None:
    return await session.get(ResidentQuestion, question_id)


async def unanswered(session: AsyncSession, *, limit: int | None = None) -> list[ResidentQuestion]:
    """Oldest first: the one waiting longest is answered first."""
    query = (
        select(ResidentQuestion)
        .where(ResidentQuestion.answered_at.is_(None))
        .order_by(ResidentQuestion.asked_at, ResidentQuestion.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(await session.scalars(query))


async def count_unanswered(session: AsyncSession) -> int:
    count = await session.scalar(select(func.count()).where(ResidentQuestion.answered_at.is_(None)))
    return int(count or 0)


async def answer(
    session: AsyncSession, question: ResidentQuestion, *, text: str, by: int | None
) -> None:
    question.answer = text
    question.answered_at = utcnow()
    question.answered_by = by
    await session.flush()


async def of_resident(session: AsyncSession, resident_id: int) -> list[ResidentQuestion]:
    return list(
        await session.scalars(
            select(ResidentQuestion)
            .where(ResidentQuestion.resident_id == resident_id)
            .order_by(ResidentQuestion.id)
        )
    )


async def forget_resident(session: AsyncSession, resident_id: int) -> list[int]:
    """For /forget: the person's questions and the answers to them go (a question is
    free text about the person, often with a phone number). Returns their ids, whose
    notices to coordinators the caller deletes too."""
    ids = list(
        await session.scalars(
            select(ResidentQuestion.id).where(ResidentQuestion.resident_id == resident_id)
        )
    )
    if ids:
        await session.execute(delete(ResidentQuestion).where(ResidentQuestion.id.in_(ids)))
    return ids
