"""Broadcasts, announcements and the record of scheduled jobs that ran.

Models and queries together; `storage.models` imports this module.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, Text, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, OutboxMessage
from storage.types import utcnow

DRAFT, SCHEDULED, SENDING, DONE, CANCELLED = "draft", "scheduled", "sending", "done", "cancelled"


class Broadcast(Base):
    """A coordinator's message to an audience; recipients are expanded into the outbox."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    # Optional photo or document: {"name", "mime_type", "content_b64"}.
    file: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Further messages each recipient gets after the first, in order:
    # [{"text": ..., "file": {...} | None}] (e.g. survey results and their charts).
    extra: Mapped[list[Any] | None] = mapped_column(JSON)
    audience: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default=DRAFT, index=True)
    scheduled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Recipients written to the outbox (the expansion resumes after a crash).
    total: Mapped[int] = mapped_column(Integer, default=0)
    expanded: Mapped[bool] = mapped_column(default=False)
    # Where the coordinator watches the progress (channel and chat).
    progress_channel: Mapped[str | None] = mapped_column(String(16))
    progress_chat: Mapped[str | None] = mapped_column(String(320))


class Announcement(Base):
    """When the contest results are announced (set by the coordinator)."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contest: Mapped[str] = mapped_column(String(40), unique=True)
    at: Mapped[datetime]
    set_by: Mapped[int | None] = mapped_column(BigInteger)
    done_at: Mapped[datetime | None]


class JobRun(Base):
    """A scheduled job that has run: written with its effects, so it never runs twice."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(200), unique=True)
    ran_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str | None] = mapped_column(Text)


# --- queries ---------------------------------------------------------------------


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
