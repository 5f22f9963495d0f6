"""The event log: an append-only record of what happened."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Event
from storage.types import utcnow


async def record(
    session: AsyncSession,
    kind: str,
    *,
    resident_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    event = Event(kind=kind, resident_id=resident_id, data=data or {}, at=utcnow())
    session.add(event)
    await session.flush()
    return event


async def of_resident(session: AsyncSession, resident_id: int) -> list[Event]:
    return list(
        await session.scalars(
            select(Event).where(Event.resident_id == resident_id).order_by(Event.id)
        )
    )
