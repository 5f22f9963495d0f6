"""The panel's queries: its signing key, single-use links, sessions and the audit log."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import upsert
from storage.models import PanelAudit, PanelKey, PanelLinkUse, PanelSession
from storage.types import utcnow

KEY_ROW = 1


async def signing_key(session: AsyncSession) -> str:
    """The stored key, made on first need; concurrent first calls agree on one key."""
    insert = upsert.insert_into(upsert.dialect(session), PanelKey.__table__)
    await session.execute(
        insert.values(
            id=KEY_ROW, secret=secrets.token_hex(32), created_at=utcnow()
        ).on_conflict_do_nothing(index_elements=["id"])
    )
    key = await session.scalar(select(PanelKey.secret).where(PanelKey.id == KEY_ROW))
    assert key is not None
    return key


async def use_link(session: AsyncSession, *, nonce: str, coordinator_id: int) -> bool:
    """Record a link as used; False when it was used before."""
    insert = upsert.insert_into(upsert.dialect(session), PanelLinkUse.__table__)
    result = await session.execute(
        insert.values(
            nonce=nonce, coordinator_id=coordinator_id, used_at=utcnow()
        ).on_conflict_do_nothing(index_elements=["nonce"])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def open_session(
    session: AsyncSession, *, token_hash: str, coordinator_id: int, now: datetime
) -> PanelSession:
    row = PanelSession(
        token_hash=token_hash, coordinator_id=coordinator_id, created_at=now, last_seen_at=now
    )
    session.add(row)
    await session.flush()
    return row


async def find_session(session: AsyncSession, token_hash: str) -> PanelSession | None:
    """A session not ended (its idle time is the caller's to judge)."""
    return await session.scalar(
        select(PanelSession).where(
            PanelSession.token_hash == token_hash, PanelSession.ended_at.is_(None)
        )
    )


def touch(row: PanelSession, when: datetime | None = None) -> None:
    row.last_seen_at = when or utcnow()


def end(row: PanelSession) -> None:
    row.ended_at = utcnow()


async def end_sessions_except(session: AsyncSession, coordinator_ids: frozenset[int]) -> int:
    """End every open session of someone no longer a coordinator; how many ended."""
    query = update(PanelSession).where(PanelSession.ended_at.is_(None))
    if coordinator_ids:
        query = query.where(PanelSession.coordinator_id.not_in(coordinator_ids))
    result = await session.execute(query.values(ended_at=utcnow()))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def audit(
    session: AsyncSession,
    *,
    coordinator_id: int,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        PanelAudit(
            coordinator_id=coordinator_id, action=action, target=target, detail=detail, at=utcnow()
        )
    )
    await session.flush()


async def audit_log(session: AsyncSession, *, limit: int = 200) -> list[PanelAudit]:
    """The newest entries first."""
    query = select(PanelAudit).order_by(PanelAudit.at.desc(), PanelAudit.id.desc()).limit(limit)
    return list(await session.scalars(query))
