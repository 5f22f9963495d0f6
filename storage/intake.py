"""Telegram updates as they came, kept until handled: the durable intake.

An update is stored here before Telegram is told it arrived (the next getUpdates
offset, or a webhook's 200); the worker handles the rows oldest first and marks
each in the transaction of its effects. A crash at any point therefore loses no
confirmed update and handles none twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.redact import redact
from storage import upsert
from storage.models import InboundUpdate
from storage.types import utcnow


@dataclass(frozen=True)
class UpdateRef:
    """The Telegram update an event came from: a stored row (`row_id`), or one fresh
    from this run's poller (`row_id` None), stored only by the transaction that
    handles it (see `settle`)."""

    bot_id: int
    update_id: int
    row_id: int | None = None


@cache
def _insert(dialect: str) -> Any:
    """Store a row unless Telegram's update id is there already."""
    return upsert.insert_into(dialect, InboundUpdate.__table__).on_conflict_do_nothing(
        index_elements=["bot_id", "update_id"]
    )


@cache
def _insert_returning_ids(dialect: str) -> Any:
    table = InboundUpdate.__table__
    return _insert(dialect).returning(table.c.id, table.c.update_id)


def _row(
    bot_id: int, update_id: int, chat_id: int | None, data: dict[str, Any], now: datetime
) -> dict[str, Any]:
    return {
        "bot_id": bot_id,
        "update_id": update_id,
        "chat_id": chat_id,
        "data": data,
        "received_at": now,
        "attempts": 0,
    }


async def store(
    session: AsyncSession, *, bot_id: int, updates: Sequence[tuple[int, int | None, dict[str, Any]]]
) -> dict[int, int]:
    """Store (update id, chat id, raw JSON) rows; one Telegram redelivered is ignored.

    Returns {update id: row id} of the rows stored now (a redelivered one is not there)."""
    if not updates:
        return {}
    now = utcnow()
    result = await session.execute(
        _insert_returning_ids(upsert.dialect(session)),
        [_row(bot_id, update_id, chat_id, data, now) for update_id, chat_id, data in updates],
    )
    return {int(update_id): int(row_id) for row_id, update_id in result.all()}


async def next_offset(session: AsyncSession, *, bot_id: int, since: datetime) -> int | None:
    """The getUpdates offset that confirms everything stored (None: nothing stored
    since `since`)."""
    last = await session.scalar(
        select(func.max(InboundUpdate.update_id)).where(
            InboundUpdate.bot_id == bot_id, InboundUpdate.received_at >= since
        )
    )
    return None if last is None else int(last) + 1


async def unhandled(session: AsyncSession) -> list[InboundUpdate]:
    """Every unhandled row in arrival order (those a stopped run left: handled one at a
    time in this order, they keep every chat's updates in order)."""
    rows = await session.scalars(
        select(InboundUpdate).where(InboundUpdate.handled_at.is_(None)).order_by(InboundUpdate.id)
    )
    return list(rows)


_TABLE = InboundUpdate.__table__
# Built once: the handler's transaction marks every update with one of these.
_MARK_HANDLED = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"), _TABLE.c.handled_at.is_(None))
    .values(handled_at=bindparam("now"), data={}, chat_id=None)
)
_SET_ASIDE = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"), _TABLE.c.handled_at.is_(None))
    .values(handled_at=bindparam("now"), last_error=bindparam("error"))
)


async def settle(session: AsyncSession, ref: UpdateRef, *, error: str | None = None) -> bool:
    """Record in the handling transaction that the update is handled: a stored row is
    marked (`mark_handled`); a fresh one is stored as handled, its content never written.
    False when it was handled already (then nothing is to be done)."""
    if ref.row_id is not None:
        return await mark_handled(session, ref.row_id, error=error)
    now = utcnow()
    result = await session.execute(
        _insert(upsert.dialect(session)),
        _row(ref.bot_id, ref.update_id, None, {}, now)
        | {"handled_at": now, "last_error": None if error is None else redact(error)[:2000]},
    )
    # Nothing inserted: an earlier run stored it, and handled it before this one's turn.
    # The row count tells, where RETURNING would take one more trip to fetch the row.
    return bool(result.rowcount)


async def mark_handled(session: AsyncSession, row_id: int, *, error: str | None = None) -> bool:
    """Handled: the update's content is emptied at once (what is kept of the person is
    what handling stored, nothing more); the row stays a week so that Telegram
    redelivering the same update id is still recognised. An update set aside with
    an `error` keeps its content for that week, to be looked into. False when the
    row was handled already (then nothing is to be done)."""
    values: dict[str, Any] = {"row_id": row_id, "now": utcnow()}
    if error is None:
        result = await session.execute(_MARK_HANDLED, values)
    else:
        result = await session.execute(_SET_ASIDE, {**values, "error": redact(error)[:2000]})
    return bool(result.rowcount)  # False: it was handled already


async def record_failure(session: AsyncSession, row_id: int, error: str) -> int:
    """Count a failed attempt; returns how many attempts have failed so far."""
    await session.execute(
        update(InboundUpdate)
        .where(InboundUpdate.id == row_id)
        .values(attempts=InboundUpdate.attempts + 1, last_error=redact(error)[:2000])
    )
    attempts = await session.scalar(
        select(InboundUpdate.attempts).where(InboundUpdate.id == row_id)
    )
    return int(attempts or 0)


async def forget_chat(session: AsyncSession, chat_id: int) -> None:
    """/forget: the person's updates set aside with an error go (handled ones are
    already empty; unhandled ones are what they wrote after, still to be answered)."""
    await session.execute(
        delete(InboundUpdate).where(
            InboundUpdate.chat_id == chat_id, InboundUpdate.handled_at.is_not(None)
        )
    )
