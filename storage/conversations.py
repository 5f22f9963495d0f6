"""The conversation a resident is in the middle of (one at a time)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation
from storage.types import utcnow


async def current(session: AsyncSession, resident_id: int) -> Conversation | None:
    return await session.scalar(select(Conversation).where(Conversation.resident_id == resident_id))


async def begin(
    session: AsyncSession,
    *,
    resident_id: int,
    flow: str,
    step: str,
    answers: dict[str, Any] | None = None,
) -> Conversation:
    """Start a flow, replacing whatever the resident was doing before."""
    await session.execute(delete(Conversation).where(Conversation.resident_id == resident_id))
    conversation = Conversation(
        resident_id=resident_id, flow=flow, step=step, answers=answers or {}, updated_at=utcnow()
    )
    session.add(conversation)
    await session.flush()
    return conversation


async def advance(
    session: AsyncSession,
    conversation: Conversation,
    *,
    step: str,
    answers: dict[str, Any] | None = None,
) -> None:
    conversation.step = step
    if answers is not None:
        # A new dict, so SQLAlchemy sees the JSON column change.
        conversation.answers = dict(answers)
    conversation.updated_at = utcnow()
    await session.flush()


async def end(session: AsyncSession, resident_id: int) -> bool:
    """Leave the current flow; tells whether there was one."""
    result = await session.execute(
        delete(Conversation).where(Conversation.resident_id == resident_id)
    )
    return bool(result.rowcount)
