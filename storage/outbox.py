"""The outbox: messages written with the state change that caused them.

Life of a row: pending -> sending -> sent, or back to pending with a later
`next_attempt_at`, or failed / cancelled. A row left in `sending` by a killed
process is made pending again on start (the only window for a repeat is one
in-flight API call).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Insert, Row, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.redact import redact
from storage import upsert
from storage.models import OutboxMessage
from storage.types import utcnow

# A row whose idempotency key starts with this is deleted once delivered (or given
# up on): the goodbye after /forget, and replies to someone who gave no consent,
# must not leave the chat id behind.
EPHEMERAL = "ephemeral:"


@dataclass(frozen=True)
class Outgoing:
    """One message to queue."""

    channel: str
    recipient: str
    payload: dict[str, Any]
    idempotency_key: str
    resident_id: int | None = None


async def enqueue(
    session: AsyncSession,
    *,
    channel: str,
    recipient: str,
    payload: dict[str, Any],
    idempotency_key: str,
    resident_id: int | None = None,
    not_before: datetime | None = None,
    priority: int = 0,
    broadcast_id: int | None = None,
) -> int | None:
    """Queue a message; its id, or None when a message with this key was queued before."""
    message = Outgoing(channel, recipient, payload, idempotency_key, resident_id)
    message_id = await _insert_one(
        session,
        _values(message, not_before=not_before, priority=priority, broadcast_id=broadcast_id),
    )
    if message_id is not None:
        _note_pending(session)
    return message_id


async def _insert_one(session: AsyncSession, values: dict[str, Any]) -> int | None:
    result = await session.execute(_insert_returning_id(upsert.dialect(session)), values)
    return result.scalar_one_or_none()


def _values(
    message: Outgoing,
    *,
    claimed: bool = False,
    not_before: datetime | None = None,
    priority: int = 0,
    broadcast_id: int | None = None,
) -> dict[str, Any]:
    """The row of a message: pending, or (`claimed`) `sending` on its first attempt."""
    now = utcnow()
    return {
        "channel": message.channel,
        "recipient": message.recipient,
        "resident_id": message.resident_id,
        "payload": message.payload,
        "status": "sending" if claimed else "pending",
        "attempts": 1 if claimed else 0,
        "next_attempt_at": not_before or now,
        "idempotency_key": message.idempotency_key,
        "created_at": now,
        "priority": priority,
        "broadcast_id": broadcast_id,
    }


def _note_pending(session: AsyncSession) -> None:
    session.info["outbox_pending"] = True


def wrote_pending(session: AsyncSession) -> bool:
    """Whether this session queued rows that a sender must claim (to wake it)."""
    return bool(session.info.get("outbox_pending"))


async def last_payload(
    session: AsyncSession, *, resident_id: int, channel: str
) -> dict[str, Any] | None:
    """What the resident was sent last on `channel` (the screen they see now)."""
    payload = await session.scalar(
        select(OutboxMessage.payload)
        .where(OutboxMessage.resident_id == resident_id, OutboxMessage.channel == channel)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    return payload if isinstance(payload, dict) else None


@dataclass(frozen=True)
class Claimed:
    """What a sender needs of a row it claimed."""

    id: int
    channel: str
    recipient: str
    payload: dict[str, Any]
    attempts: int
    resident_id: int | None
    priority: int
    # A reply to someone who gave no consent: deleted once sent, not kept.
    ephemeral: bool = False

    @classmethod
    def of(cls, row: Any) -> Claimed:
        """From an `OutboxMessage` or a row with the same column names."""
        return cls(
            row.id,
            row.channel,
            row.recipient,
            row.payload,
            row.attempts,
            row.resident_id,
            row.priority,
            row.idempotency_key.startswith(EPHEMERAL),
        )


async def enqueue_claimed(session: AsyncSession, message: Outgoing) -> Claimed | None:
    """Queue a message already claimed (`sending`, first attempt), to be handed to the
    running sender once committed (a killed process re-queues it like any row in
    flight): the row as the sender takes it, or None when its key was queued before."""
    message_id = await _insert_one(session, _values(message, claimed=True))
    if message_id is None:
        return None
    return Claimed(
        message_id,
        message.channel,
        message.recipient,
        message.payload,
        attempts=1,
        resident_id=message.resident_id,
        priority=0,
        ephemeral=message.idempotency_key.startswith(EPHEMERAL),
    )


@cache
def _insert_skipping_duplicates(dialect: str) -> Insert:
    """INSERT ... ON CONFLICT (idempotency_key) DO NOTHING in the store's dialect."""
    return upsert.insert_into(dialect, OutboxMessage.__table__).on_conflict_do_nothing(
        index_elements=["idempotency_key"]
    )


@cache
def _insert_returning_id(dialect: str) -> Insert:
    """The same, returning the new row's id (no row when the key was there)."""
    return _insert_skipping_duplicates(dialect).returning(OutboxMessage.__table__.c.id)


async def enqueue_many(
    session: AsyncSession,
    messages: Sequence[Outgoing],
    *,
    priority: int = 0,
    broadcast_id: int | None = None,
) -> None:
    """Queue many messages in one statement; those whose key was queued before are skipped.

    Rows get ids in the order given, so one recipient's messages keep their order.
    """
    if not messages:
        return
    _note_pending(session)
    await session.execute(
        _insert_skipping_duplicates(upsert.dialect(session)),
        [_values(m, priority=priority, broadcast_id=broadcast_id) for m in messages],
    )


_TABLE = OutboxMessage.__table__


@cache
def _claim(dialect: str, one_recipient: bool) -> Any:
    """UPDATE ... RETURNING of the next due rows, built once per dialect."""
    conditions = [
        _TABLE.c.status == "pending",
        _TABLE.c.next_attempt_at <= bindparam("now"),
        _TABLE.c.channel.in_(bindparam("channels", expanding=True)),
    ]
    if one_recipient:
        conditions.append(_TABLE.c.recipient == bindparam("only_recipient"))
    due = (
        select(_TABLE.c.id)
        .where(*conditions)
        # Replies to people in a conversation overtake bulk messages.
        .order_by(_TABLE.c.priority, _TABLE.c.id)
        .limit(bindparam("limit"))
    )
    if dialect != "sqlite":
        # A second sender (never expected, but harmless) skips rows this one holds.
        due = due.with_for_update(skip_locked=True)
    return (
        update(_TABLE)
        .where(_TABLE.c.id.in_(due.scalar_subquery()))
        .values(status="sending", attempts=_TABLE.c.attempts + 1)
        .returning(*_TABLE.c)
    )


async def claim_due(
    session: AsyncSession,
    *,
    channels: Sequence[str],
    limit: int = 50,
    recipient: str | None = None,
) -> list[Row[Any]]:
    """Take due rows in queue order and mark them `sending` (committed by the caller).

    One UPDATE ... RETURNING: no ORM objects are loaded or flushed for a batch.
    The returned rows carry the columns by name, `attempts` already counted.
    `recipient`: only rows for that chat (a terminal session serves one person).
    """
    values: dict[str, Any] = {"now": utcnow(), "channels": list(channels), "limit": limit}
    if recipient is not None:
        values["only_recipient"] = recipient
    result = await session.execute(_claim(upsert.dialect(session), recipient is not None), values)
    # RETURNING comes in no promised order; the queue order is restored here.
    return sorted(result.all(), key=lambda row: (row.priority, row.id))


# Built once: every delivered message is marked with one of these.
_MARK_SENT = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("message_id"))
    .values(
        status="sent",
        sent_at=bindparam("now"),
        last_error=None,
        external_id=bindparam("external_id"),
    )
)
_DELETE = delete(_TABLE).where(_TABLE.c.id == bindparam("message_id"))


async def mark_sent(
    session: AsyncSession,
    message_id: int,
    *,
    external_id: str | None = None,
    ephemeral: bool | None = None,
) -> None:
    """Sent: kept as sent, or (an ephemeral reply) deleted. `ephemeral` None: not
    known to the caller, so both are tried."""
    if ephemeral:
        await session.execute(_DELETE, {"message_id": message_id})
        return
    await session.execute(
        _MARK_SENT, {"message_id": message_id, "now": utcnow(), "external_id": external_id}
    )
    if ephemeral is None:
        await _drop_ephemeral(session, [message_id])


async def _drop_ephemeral(session: AsyncSession, ids: list[int]) -> None:
    await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.id.in_(ids), OutboxMessage.idempotency_key.startswith(EPHEMERAL)
        )
    )


async def mark_retry(
    session: AsyncSession, message_id: int, *, delay: timedelta, error: str
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status="pending", next_attempt_at=utcnow() + delay, last_error=redact(error)[:2000])
    )


async def mark_failed(session: AsyncSession, message_id: int, *, error: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status="failed", last_error=redact(error)[:2000])
    )
    await _drop_ephemeral(session, [message_id])


async def release_inflight(session: AsyncSession) -> int:
    """Rows a killed process left in `sending` go back to the queue."""
    result = await session.execute(
        update(OutboxMessage).where(OutboxMessage.status == "sending").values(status="pending")
    )
    return result.rowcount or 0


async def next_due_at(session: AsyncSession, *, channels: Sequence[str]) -> datetime | None:
    return await session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status == "pending", OutboxMessage.channel.in_(channels)
        )
    )


async def find(session: AsyncSession, idempotency_key: str) -> OutboxMessage | None:
    return await session.scalar(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
    )


async def statuses(session: AsyncSession, keys: Sequence[str]) -> dict[str, str]:
    """The status of the rows with these idempotency keys (by the keys' unique index)."""
    if not keys:
        return {}
    rows = await session.execute(
        select(OutboxMessage.idempotency_key, OutboxMessage.status).where(
            OutboxMessage.idempotency_key.in_(list(keys))
        )
    )
    return {key: status for key, status in rows.all()}


async def status_counts(session: AsyncSession, *, channel: str | None = None) -> dict[str, int]:
    """Messages per status, of one channel when given."""
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    if channel is not None:
        query = query.where(OutboxMessage.channel == channel)
    rows = await session.execute(query)
    return {status: count for status, count in rows.all()}


async def last_id(session: AsyncSession) -> int:
    """The newest row's id (0 when the outbox is empty): a mark to look from later."""
    return await session.scalar(select(func.max(OutboxMessage.id))) or 0


@dataclass(frozen=True)
class OthersSince:
    """Messages queued for other chats of a channel after a mark (a terminal preview)."""

    rows: list[Row[Any]]
    total: int
    last_id: int


async def for_others_since(
    session: AsyncSession, *, channel: str, recipient: str, after_id: int, limit: int
) -> OthersSince:
    """Rows of `channel` for anyone but `recipient` with an id above `after_id`, in
    queue order: the first `limit` of them, how many there are and the newest id.
    Whatever their status: another session may have delivered them already."""
    others = (
        OutboxMessage.channel == channel,
        OutboxMessage.recipient != recipient,
        OutboxMessage.id > after_id,
    )
    total, newest = (
        await session.execute(select(func.count(), func.max(OutboxMessage.id)).where(*others))
    ).one()
    rows = await session.execute(
        select(OutboxMessage.id, OutboxMessage.recipient, OutboxMessage.payload)
        .where(*others)
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return OthersSince(rows=list(rows.all()), total=total, last_id=newest or after_id)
