"""Broadcasts, announcements and the record of scheduled jobs that ran: the queries.

The models and statuses are defined in `storage.models.schedule` and offered here
too, where callers have always found them (hence `__all__`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.core import OutboxMessage
from storage.models.schedule import (
    CANCELLED,
    DONE,
    DRAFT,
    SCHEDULED,
    SENDING,
    Announcement,
    Broadcast,
    JobRun,
)
from storage.types import utcnow

__all__ = [
    "CANCELLED",
    "DONE",
    "DRAFT",
    "SCHEDULED",
    "SENDING",
    "Announcement",
    "Broadcast",
    "JobRun",
    "create_broadcast",
    "get_broadcast",
    "broadcasts",
    "progress",
    "cancel_broadcast",
    "job_ran",
    "record_job",
    "set_announcement",
    "announcements",
]


async def create_broadcast(
    session: AsyncSession,
    *,
    created_by: int | None,
    text: str,
    audience: str,
    file: dict[str, Any] | None = None,
    extra: list[dict[str, Any]] | None = None,
    scheduled_at: datetime | None = None,
    progress_channel: str | None = None,
    progress_chat: str | None = None,
) -> Broadcast:
    broadcast = Broadcast(
        created_by=created_by,
        text=text,
        file=file,
        extra=extra,
        audience=audience,
        status=SCHEDULED,
        scheduled_at=scheduled_at,
        created_at=utcnow(),
        total=0,
        expanded=False,
        progress_channel=progress_channel,
        progress_chat=progress_chat,
    )
    session.add(broadcast)
    await session.flush()
    return broadcast


async def get_broadcast(session: AsyncSession, broadcast_id: int) -> Broadcast | None:
    return await session.get(Broadcast, broadcast_id)


async def broadcasts(session: AsyncSession, *, statuses: tuple[str, ...] = ()) -> list[Broadcast]:
    query = select(Broadcast).order_by(Broadcast.id)
    if statuses:
        query = query.where(Broadcast.status.in_(statuses))
    return list(await session.scalars(query))


async def progress(session: AsyncSession, broadcast_id: int) -> dict[str, int]:
    """How many of a broadcast's messages are sent, waiting, failed (blocked) or cancelled."""
    rows = await session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.broadcast_id == broadcast_id)
        .group_by(OutboxMessage.status)
    )
    counts = {status: count for status, count in rows.all()}
    return {
        "sent": counts.get("sent", 0),
        "waiting": counts.get("pending", 0) + counts.get("sending", 0),
        "failed": counts.get("failed", 0),
        "cancelled": counts.get("cancelled", 0),
    }


async def cancel_broadcast(session: AsyncSession, broadcast: Broadcast) -> int:
    """Stop a broadcast: messages not yet sent are cancelled; returns how many."""
    broadcast.status = CANCELLED
    broadcast.finished_at = utcnow()
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.broadcast_id == broadcast.id, OutboxMessage.status == "pending")
        .values(status="cancelled")
    )
    await session.flush()
    return result.rowcount or 0


async def job_ran(session: AsyncSession, job_id: str) -> bool:
    return await session.scalar(select(JobRun.id).where(JobRun.job_id == job_id)) is not None


async def record_job(session: AsyncSession, job_id: str, outcome: str | None = None) -> None:
    session.add(JobRun(job_id=job_id, ran_at=utcnow(), outcome=outcome))
    await session.flush()


async def set_announcement(
    session: AsyncSession, *, contest: str, at: datetime, set_by: int | None
) -> Announcement:
    existing = await session.scalar(select(Announcement).where(Announcement.contest == contest))
    if existing is None:
        existing = Announcement(contest=contest, at=at, set_by=set_by)
        session.add(existing)
    else:
        existing.at, existing.set_by, existing.done_at = at, set_by, None
    await session.flush()
    return existing


async def announcements(session: AsyncSession) -> list[Announcement]:
    return list(await session.scalars(select(Announcement).order_by(Announcement.id)))
