"""Inbound updates already handled: Telegram redelivers after a crash."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage import upsert
from storage.models import InboundReceipt
from storage.types import utcnow


@cache
def _record(dialect: str) -> Any:
    return upsert.insert_into(dialect, InboundReceipt.__table__).on_conflict_do_nothing(
        index_elements=["channel", "external_id"]
    )


async def first_time(session: AsyncSession, *, channel: str, external_id: str) -> bool:
    """Record the update; False when it was already handled (then do nothing)."""
    result = await session.execute(
        _record(upsert.dialect(session)),
        {"channel": channel, "external_id": external_id, "received_at": utcnow()},
    )
    return bool(result.rowcount)
