"""Inbound updates already handled: Telegram redelivers after a crash."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboundReceipt
from storage.types import utcnow


async def first_time(session: AsyncSession, *, channel: str, external_id: str) -> bool:
    """Record the update; False when it was already handled (then do nothing)."""
    seen = await session.scalar(
        select(InboundReceipt.id).where(
            InboundReceipt.channel == channel, InboundReceipt.external_id == external_id
        )
    )
    if seen is not None:
        return False
    session.add(InboundReceipt(channel=channel, external_id=external_id, received_at=utcnow()))
    await session.flush()
    return True
