"""Storing incoming mail in batches: the lookups a batch needs, its inserts, and the
IMAP checkpoint written in the same transaction.

Ids come from the database: messages go in with one executemany per batch and
their ids are read back by Message-ID; threads are ORM objects flushed with the
batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, any_, bindparam, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.mail.models import (
    IN,
    MailAttachment,
    MailCheckpoint,
    MailMessage,
    MailThread,
)
from storage.types import utcnow

# Bound IN (...) lists: SQLite and asyncpg both cap the number of parameters.
CHUNK = 500


def chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = list(values)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _among(
    session: AsyncSession, column: ColumnElement[Any], values: list[Any]
) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(array)`: one parameter instead
    of one per value, so the statement is the same for every batch (asyncpg prepares
    it once)."""
    if _dialect(session) == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


# --- the checkpoint ------------------------------------------------------------------


async def checkpoint(session: AsyncSession, folder: str) -> MailCheckpoint | None:
    return await session.get(MailCheckpoint, folder)


async def save_checkpoint(
    session: AsyncSession, *, folder: str, uidvalidity: int, last_uid: int
) -> None:
    row = await session.get(MailCheckpoint, folder)
    if row is None:
        row = MailCheckpoint(folder=folder)
        session.add(row)
    row.uidvalidity = uidvalidity
    row.last_uid = last_uid
    row.updated_at = utcnow()
    await session.flush()


async def prefer_custom_plans(session: AsyncSession) -> None:
    """PostgreSQL: plan this transaction's lookups for their actual parameters.

    asyncpg prepares every statement; after five runs PostgreSQL may switch to a
    generic plan, and one made while the mailbox tables were nearly empty (a first
    import) scans the whole table for each lookup by Message-ID.
    """
    if _dialect(session) == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


async def plan_as_usual(session: AsyncSession) -> None:
    """PostgreSQL: back to its own choice of plans for the writes after the lookups."""
    if _dialect(session) == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = auto"))


# --- lookups -------------------------------------------------------------------------


async def threads_of_message_ids(
    session: AsyncSession, message_ids: Iterable[str]
) -> dict[str, int]:
    """Message-ID -> thread id, for the ids that are stored."""
    found: dict[str, int] = {}
    for chunk in chunks(set(message_ids)):
        rows = await session.execute(
            select(MailMessage.message_id, MailMessage.thread_id).where(
                _among(session, MailMessage.message_id, chunk)
            )
        )
        found.update({message_id: thread_id for message_id, thread_id in rows.all()})
    return found


async def known_message_ids(session: AsyncSession, message_ids: Iterable[str]) -> set[str]:
    return set(await threads_of_message_ids(session, message_ids))


async def threads_by_subject(
    session: AsyncSession, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """(subject key, counterpart) -> the most recent such thread."""
    wanted = {k for k in keys if k[0] and k[1]}
    found: dict[tuple[str, str], int] = {}
    for chunk in chunks({k[0] for k in wanted}):
        rows = await session.execute(
            select(MailThread.id, MailThread.subject_key, MailThread.counterpart)
            .where(_among(session, MailThread.subject_key, chunk))
            .order_by(MailThread.last_message_at, MailThread.id)
        )
        for thread_id, key, counterpart in rows.all():
            if (key, counterpart) in wanted:
                found[(key, counterpart)] = thread_id
    return found


async def threads_by_id(session: AsyncSession, thread_ids: Iterable[int]) -> dict[int, MailThread]:
    """The stored threads among `thread_ids` (the session's own copies when loaded)."""
    found: dict[int, MailThread] = {}
    for chunk in chunks(set(thread_ids)):
        for thread in await session.scalars(
            select(MailThread).where(_among(session, MailThread.id, chunk))
        ):
            found[thread.id] = thread
    return found


# --- inserts -------------------------------------------------------------------------


@dataclass(kw_only=True)
class NewMessage:
    """An incoming message's row (the columns of `MailMessage` that storing sets)."""

    thread_id: int
    message_id: str
    direction: str = IN
    folder: str | None = None
    uidvalidity: int | None = None
    uid: int | None = None
    seen: bool = False
    in_reply_to: str | None = None
    reference_ids: list[str] = field(default_factory=list)
    from_name: str = ""
    from_address: str = ""
    to: list[list[str]] = field(default_factory=list)
    cc: list[list[str]] = field(default_factory=list)
    reply_to: list[list[str]] = field(default_factory=list)
    subject: str = ""
    date: datetime | None = None
    received_at: datetime = field(default_factory=utcnow)
    text: str = ""
    html: str | None = None
    headers: list[list[str]] = field(default_factory=list)
    size: int = 0
    auth: dict[str, str] = field(default_factory=dict)
    automatic: str | None = None
    parse_error: str | None = None
    raw: bytes | None = None
    resident_id: int | None = None


@dataclass(kw_only=True)
class NewAttachment:
    message_id: int  # the stored message's id
    filename: str
    content_type: str
    size: int
    sha256: str | None = None
    path: str | None = None
    skipped: str | None = None


def _values(row: Any) -> dict[str, Any]:
    """A row's columns and values (`dataclasses.asdict` without its deep copies: the
    lists and texts go to the database as they are)."""
    return {name.name: getattr(row, name.name) for name in fields(row)}


async def insert_messages(session: AsyncSession, rows: Sequence[NewMessage]) -> list[int]:
    """Insert a batch of messages; the ids the database gave them, in the order given.

    One executemany, then one query for the ids by Message-ID (unique): with
    `RETURNING` in the order of the rows, SQLAlchemy sends SQLite one INSERT per row.
    """
    if not rows:
        return []
    await session.execute(insert(MailMessage), [_values(row) for row in rows])
    ids: dict[str, int] = {}
    for chunk in chunks([row.message_id for row in rows]):
        found = await session.execute(
            select(MailMessage.message_id, MailMessage.id).where(
                _among(session, MailMessage.message_id, chunk)
            )
        )
        ids.update({message_id: row_id for message_id, row_id in found.all()})
    return [ids[row.message_id] for row in rows]


async def insert_attachments(session: AsyncSession, rows: Sequence[NewAttachment]) -> None:
    if rows:
        await session.execute(insert(MailAttachment), [_values(row) for row in rows])


def as_message(row_id: int, row: NewMessage) -> MailMessage:
    """A stored message as an object (outside the session), for cards and replies."""
    return MailMessage(id=row_id, **_values(row))
