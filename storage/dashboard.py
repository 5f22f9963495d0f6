"""Counts for the panel's dashboard: survey responses by day, open mail threads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.mail.models import OPEN, MailThread
from storage.models import SurveyResponse


async def finished_since(session: AsyncSession, since: datetime) -> list[datetime]:
    """When each survey response finished since `since` (the caller groups them by day)."""
    query = select(SurveyResponse.finished_at).where(SurveyResponse.finished_at >= since)
    return [moment for moment in await session.scalars(query) if moment is not None]


async def open_threads(session: AsyncSession) -> int:
    """Mail threads nobody has marked handled yet."""
    query = select(func.count()).select_from(MailThread).where(MailThread.status == OPEN)
    return int(await session.scalar(query) or 0)
