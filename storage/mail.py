"""The mailbox in the store: messages, threads, attachments, the IMAP checkpoint and
the acknowledgement log. Models and queries live together; `storage.models`
imports this module so Alembic and the metadata see the tables.

Every e-mail is stored once, keyed by its Message-ID (a stable hash when it has
none), whichever way it arrives (IDLE, polling, a full `mail sync`, a resync after
a UIDVALIDITY change). The server is never changed: the checkpoint
`(UIDVALIDITY, last UID)` per folder is how the watcher knows where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any, NamedTuple

from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    any_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Base, Resident
from storage.types import utcnow

OPEN = "open"
HANDLED = "handled"
IN = "in"
OUT = "out"
# Bound IN (...) lists: SQLite and asyncpg both cap the number of parameters.
CHUNK = 500


class MailThread(Base):
    """A conversation by e-mail: one resident (or stranger) and the centre."""

    __tablename__ = "mail_threads"
    __table_args__ = (
        Index("ix_mail_threads_subject_key_counterpart", "subject_key", "counterpart"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    # The subject without Re:/Odp:/Fwd:/PD:, folded; with `counterpart`, the last
    # resort for threading a reply that lost its In-Reply-To and References.
    subject_key: Mapped[str] = mapped_column(String(255), default="")
    # The other side's address (the sender of the first incoming message).
    counterpart: Mapped[str] = mapped_column(String(320), default="")
    status: Mapped[str] = mapped_column(String(16), default=OPEN, index=True)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    # The proposal this thread was linked to or turned into (the contest's reference).
    proposal_ref: Mapped[str | None] = mapped_column(String(64))
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    handled_at: Mapped[datetime | None]
    handled_by: Mapped[int | None] = mapped_column(BigInteger)


class MailMessage(Base):
    """One e-mail, incoming (read over IMAP) or outgoing (sent through the outbox)."""

    __tablename__ = "mail_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("mail_threads.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(3), default=IN)
    # Without the angle brackets; unique: the same e-mail is never stored twice.
    message_id: Mapped[str] = mapped_column(String(500), unique=True)
    folder: Mapped[str | None] = mapped_column(String(200))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    seen: Mapped[bool] = mapped_column(Boolean, default=False)
    in_reply_to: Mapped[str | None] = mapped_column(String(500))
    reference_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    from_name: Mapped[str] = mapped_column(Text, default="")
    from_address: Mapped[str] = mapped_column(String(320), default="", index=True)
    # [[name, address], ...]
    to: Mapped[list[Any]] = mapped_column(JSON, default=list)
    cc: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reply_to: Mapped[list[Any]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(Text, default="")
    date: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    # [[name, value], ...] in the order of the message.
    headers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    auth: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Why no automatic answer may go to it (auto-reply, list, mailer-daemon ...).
    automatic: Mapped[str | None] = mapped_column(String(40))
    parse_error: Mapped[str | None] = mapped_column(Text)
    # The message as received, kept only when it could not be read completely.
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    # Who wrote an outgoing message (a coordinator's Telegram id; None = automatic).
    author_id: Mapped[int | None] = mapped_column(BigInteger)
    # Set by /forget: the content was erased, the row stays so the mail is not
    # imported again from the server.
    erased_at: Mapped[datetime | None]


class MailAttachment(Base):
    __tablename__ = "mail_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("mail_messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(Text, default="")
    content_type: Mapped[str] = mapped_column(String(200), default="application/octet-stream")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    # Relative to DATA_DIR; None when not kept (see `skipped`).
    path: Mapped[str | None] = mapped_column(String(300))
    skipped: Mapped[str | None] = mapped_column(String(32))


class MailCheckpoint(Base):
    """Where the watcher stopped in one folder."""

    __tablename__ = "mail_checkpoints"

    folder: Mapped[str] = mapped_column(String(200), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MailAcknowledgement(Base):
    """An automatic acknowledgement sent: at most one per address and local day."""

    __tablename__ = "mail_acknowledgements"
    __table_args__ = (UniqueConstraint("address", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(320))
    day: Mapped[str] = mapped_column(String(10))
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_messages.id", ondelete="SET NULL")
    )
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- helpers -------------------------------------------------------------------------


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = list(values)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _dialect(session: AsyncSession) -> str:
    return session.sync_session.get_bind().dialect.name


def _among(
    session: AsyncSession, column: ColumnElement[Any], values: list[Any]
) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(array)`: one parameter instead
    of one per value, so that the statement is rendered without a cast for every value
    and is the same for every batch (asyncpg prepares it once)."""
    if _dialect(session) == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


# --- the checkpoint ------------------------------------------------------------------


async def checkpoint(session: AsyncSession, folder: str) -> MailCheckpoint | None:
    return await session.get(MailCheckpoint, folder)


async def save_checkpoint(
    session: AsyncSession, *, folder: str, uidvalidity: int, last_uid: int
) -> None:
    """One upsert: the checkpoint is written with every batch of an import."""
    table = MailCheckpoint.__table__
    values = {
        "folder": folder,
        "uidvalidity": uidvalidity,
        "last_uid": last_uid,
        "updated_at": utcnow(),
    }
    dialect = _dialect(session)
    if dialect in ("sqlite", "postgresql"):
        upsert = sqlite_insert if dialect == "sqlite" else postgresql_insert
        statement = upsert(table).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.folder],
            set_={name: statement.excluded[name] for name in values if name != "folder"},
        )
        await session.execute(statement)
        # The ORM's copy, if one was loaded, must not hide the new values.
        row = session.identity_map.get(session.identity_key(MailCheckpoint, folder))
        if row is not None:
            session.expire(row)
        return
    row = await session.get(MailCheckpoint, folder)
    if row is None:
        session.add(MailCheckpoint(**values))
    else:
        row.uidvalidity = uidvalidity
        row.last_uid = last_uid
        row.updated_at = values["updated_at"]
    await session.flush()


async def prefer_custom_plans(session: AsyncSession) -> None:
    """PostgreSQL: plan this transaction's queries for their actual parameters.

    asyncpg prepares every statement; after five runs PostgreSQL may switch to a
    generic plan, and one made while the mailbox tables were nearly empty (a first
    import) scans the whole table for each `message_id IN (...)` lookup, 8 ms per
    query at 10,000 messages instead of 0.5 ms.
    """
    if _dialect(session) == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


async def plan_as_usual(session: AsyncSession) -> None:
    """PostgreSQL: back to PostgreSQL's own choice of plans, for the writes that follow
    the lookups: an INSERT planned again for every one of thousands of rows costs the
    server more than the rows themselves."""
    if _dialect(session) == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = auto"))


# --- storing ---------------------------------------------------------------------------
#
# A mailbox import stores thousands of messages a minute, so the inserts here skip
# SQLAlchemy's per-parameter statement machinery: each row's values are converted once
# (JSON columns by one reused encoder, the others by their types' own bind processors)
# and go to the driver in one executemany. Ids are reserved before inserting, so none
# has to be read back (SQLite would otherwise need one INSERT ... RETURNING per row to
# keep their order).


class NewMessage(NamedTuple):
    """An incoming message's row, in column order (see `insert_messages`)."""

    thread_id: int
    direction: str
    message_id: str
    folder: str | None
    uidvalidity: int | None
    uid: int | None
    seen: bool
    in_reply_to: str | None
    reference_ids: Sequence[str]
    from_name: str
    from_address: str
    to: Sequence[Sequence[str]]
    cc: Sequence[Sequence[str]]
    reply_to: Sequence[Sequence[str]]
    subject: str
    date: datetime | None
    received_at: datetime
    text: str
    html: str | None
    headers: Sequence[Sequence[str]]
    size: int
    auth: dict[str, str]
    automatic: str | None
    parse_error: str | None
    raw: bytes | None
    resident_id: int | None
    author_id: int | None
    erased_at: datetime | None


class NewAttachment(NamedTuple):
    message_id: int
    filename: str
    content_type: str
    size: int
    sha256: str | None
    path: str | None
    skipped: str | None


@dataclass(slots=True, eq=False)
class ThreadState:
    """A thread as storing mail sees it: a new one (`id` None until inserted) or a
    stored one. Plain data: an import touches thousands of threads, and ORM objects
    cost more than the rows."""

    id: int | None
    subject: str
    subject_key: str
    counterpart: str
    status: str
    resident_id: int | None
    message_count: int
    created_at: datetime
    last_message_at: datetime


_THREAD_STATE = tuple(f.name for f in fields(ThreadState))
_NEW_THREAD = (*_THREAD_STATE[1:], "proposal_ref", "handled_at", "handled_by")


async def known_message_ids(session: AsyncSession, message_ids: Iterable[str]) -> set[str]:
    return set(await threads_of_message_ids(session, message_ids))


async def threads_of_message_ids(
    session: AsyncSession, message_ids: Iterable[str]
) -> dict[str, int]:
    """Message-ID -> thread id, for the ids that are stored."""
    found: dict[str, int] = {}
    for chunk in _chunks(set(message_ids)):
        rows = await session.execute(
            select(MailMessage.message_id, MailMessage.thread_id).where(
                _among(session, MailMessage.message_id, chunk)
            )
        )
        found.update({message_id: thread_id for message_id, thread_id in rows.all()})
    return found


async def threads_by_subject(
    session: AsyncSession, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """(subject key, counterpart) -> the most recent such thread."""
    wanted = {k for k in keys if k[0] and k[1]}
    found: dict[tuple[str, str], int] = {}
    for chunk in _chunks({k[0] for k in wanted}):
        rows = await session.execute(
            select(MailThread.id, MailThread.subject_key, MailThread.counterpart)
            .where(_among(session, MailThread.subject_key, chunk))
            .order_by(MailThread.last_message_at, MailThread.id)
        )
        for thread_id, key, counterpart in rows.all():
            if (key, counterpart) in wanted:
                found[(key, counterpart)] = thread_id
    return found


async def residents_by_email(session: AsyncSession, addresses: Iterable[str]) -> dict[str, int]:
    """Lower-case address -> resident id, for residents who gave that address."""
    found: dict[str, int] = {}
    for chunk in _chunks({a.lower() for a in addresses if a}):
        rows = await session.execute(
            select(func.lower(Resident.email), Resident.id).where(
                _among(session, func.lower(Resident.email, type_=String), chunk),
                Resident.forgotten_at.is_(None),
            )
        )
        found.update({address: resident_id for address, resident_id in rows.all()})
    return found


async def thread_states(session: AsyncSession, thread_ids: Iterable[int]) -> dict[int, ThreadState]:
    """The stored threads among `thread_ids`, by id."""
    columns = [MailThread.__table__.c[name] for name in _THREAD_STATE]
    found: dict[int, ThreadState] = {}
    for chunk in _chunks(set(thread_ids)):
        rows = await session.execute(select(*columns).where(_among(session, MailThread.id, chunk)))
        for row in rows.all():
            found[row[0]] = ThreadState(*row)
    return found


async def insert_threads(session: AsyncSession, threads: Sequence[ThreadState]) -> None:
    """Insert new threads in the order given; each gets its id set."""
    rows = [
        (
            t.subject,
            t.subject_key,
            t.counterpart,
            t.status,
            t.resident_id,
            t.message_count,
            t.created_at,
            t.last_message_at,
            None,
            None,
            None,
        )
        for t in threads
    ]
    ids = await _insert_rows(session, MailThread.__table__, _NEW_THREAD, rows)
    for thread, thread_id in zip(threads, ids, strict=True):
        thread.id = thread_id


async def insert_messages(session: AsyncSession, rows: Sequence[NewMessage]) -> list[int]:
    """Insert many messages at once (a bulk import stores thousands); their ids, in the
    order given."""
    return await _insert_rows(session, MailMessage.__table__, NewMessage._fields, rows)


async def insert_attachments(session: AsyncSession, rows: Sequence[NewAttachment]) -> None:
    await _insert_rows(session, MailAttachment.__table__, NewAttachment._fields, rows, ids=False)


_UPDATE_THREAD = (
    update(MailThread.__table__)
    .where(MailThread.__table__.c.id == bindparam("thread"))
    .values(
        status=bindparam("new_status"),
        message_count=bindparam("new_count"),
        last_message_at=bindparam("new_last", type_=MailThread.__table__.c.last_message_at.type),
        resident_id=bindparam("new_resident"),
    )
)


async def update_threads(session: AsyncSession, threads: Sequence[ThreadState]) -> None:
    """Write the counters, state and date of many stored threads in one executemany."""
    if not threads:
        return
    await session.execute(
        _UPDATE_THREAD,
        [
            {
                "thread": t.id,
                "new_status": t.status,
                "new_count": t.message_count,
                "new_last": t.last_message_at,
                "new_resident": t.resident_id,
            }
            for t in threads
        ],
    )
    # A copy the ORM loaded earlier in this session shows the new values, as if loaded
    # again (expiring it instead would make the next plain attribute read do IO).
    for thread in threads:
        loaded = session.identity_map.get(session.identity_key(MailThread, thread.id))
        if loaded is not None:
            for name in ("status", "message_count", "last_message_at", "resident_id"):
                set_committed_value(loaded, name, getattr(thread, name))


def json_text(value: Any) -> str:
    """`json.dumps(value)`, the text SQLAlchemy's JSON type stores, without its set-up
    per call (an encoder object, a dict of markers): a third of the cost."""
    if _JSON_ENCODER is None:
        return json.dumps(value)
    if not value and type(value) in (list, tuple):
        return "[]"
    return "".join(_JSON_ENCODER(value, 0))


def _json_refused(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# json.dumps's own C encoder with its default settings (ensure_ascii, ", " and ": ",
# no sorting, NaN allowed); without the circular-reference check, which rows of
# strings do not need. None where the interpreter has no C accelerator.
_JSON_ENCODER = (
    c_make_encoder(
        None, _json_refused, encode_basestring_ascii, None, ": ", ", ", False, False, True
    )
    if c_make_encoder is not None
    else None
)


@dataclass(frozen=True)
class _Insert:
    """How rows of some columns of a table go to one dialect's driver."""

    sql: str | None  # None: the dialect's parameters are not positional
    converters: tuple[tuple[int, Callable[[Any], Any]], ...]
    columns: tuple[str, ...]


_INSERTS: dict[tuple[str, str, tuple[str, ...]], _Insert] = {}


def _prepared_insert(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> _Insert:
    key = (dialect.name, table.name, columns)
    found = _INSERTS.get(key)
    if found is None:
        converters = []
        for position, name in enumerate(columns):
            type_ = table.c[name].type
            if isinstance(type_, JSON):
                converter = json_text
            else:
                converter = type_.dialect_impl(dialect).bind_processor(dialect)
            if converter is not None:
                converters.append((position, converter))
        found = _INSERTS[key] = _Insert(
            _insert_sql(dialect, table, columns), tuple(converters), columns
        )
    return found


def _insert_sql(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> str | None:
    if dialect.paramstyle == "qmark":
        marks = ["?"] * len(columns)
    elif dialect.paramstyle == "numeric_dollar":
        marks = [f"${n}" for n in range(1, len(columns) + 1)]
    else:
        return None
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    return f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join(marks)})"


async def _insert_rows(
    session: AsyncSession,
    table: Table,
    columns: tuple[str, ...],
    rows: Sequence[Sequence[Any]],
    *,
    ids: bool = True,
) -> list[int]:
    """Insert `rows` (values in the order of `columns`); with `ids`, their new ids in
    the same order."""
    if not rows:
        return []
    connection = await session.connection()
    dialect = connection.dialect
    prepared = _prepared_insert(dialect, table, (*columns, "id") if ids else columns)
    reserved = await _reserve_ids(session, table, len(rows)) if ids else None
    if prepared.sql is None or (ids and reserved is None):
        return await _insert_returning_ids(session, table, columns, rows, ids=ids)
    # Column by column: map() keeps the loops in C, and a scalar column's values repeat
    # (one received_at per batch, a few dates, two flags), so each distinct one is
    # converted once.
    columns = [list(column) for column in zip(*rows, strict=True)]
    if reserved is not None:
        columns.append(reserved)
    for position, convert in prepared.converters:
        if convert is json_text:
            columns[position] = list(map(json_text, columns[position]))
        else:
            converted = {value: convert(value) for value in set(columns[position])}
            columns[position] = list(map(converted.__getitem__, columns[position]))
    values = list(zip(*columns, strict=True))
    copy = await _copier(connection)
    if copy is not None:
        await copy(table.name, records=values, columns=prepared.columns)
    else:
        await connection.exec_driver_sql(prepared.sql, values)
    return reserved or []


async def _copier(connection: AsyncConnection) -> Callable[..., Any] | None:
    """asyncpg's binary COPY on PostgreSQL, else None. The server writes copied rows
    without running an INSERT for each: on the import benchmark, its CPU for a
    message's rows fell by about 40 %. Only inside the session's transaction (the
    driver begins it with the first statement), so that a rollback takes them back."""
    if connection.dialect.name != "postgresql":
        return None
    driver = (await connection.get_raw_connection()).driver_connection
    copy = getattr(driver, "copy_records_to_table", None)
    return copy if copy is not None and driver.is_in_transaction() else None


_NEXT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"
)


async def _reserve_ids(session: AsyncSession, table: Table, count: int) -> list[int] | None:
    """`count` unused ids of `table`, ascending: those the database would have given."""
    dialect = _dialect(session)
    if dialect == "sqlite":
        # Every transaction here holds the write lock from its BEGIN IMMEDIATE
        # (`storage.db`), so nobody else takes these; SQLite itself gives max + 1.
        top = await session.scalar(select(func.max(table.c.id)))
        start = (top or 0) + 1
        return list(range(start, start + count))
    if dialect == "postgresql":
        rows = await session.execute(_NEXT_IDS, {"table": table.name, "count": count})
        return sorted(rows.scalars().all())
    return None


async def _insert_returning_ids(
    session: AsyncSession,
    table: Table,
    columns: tuple[str, ...],
    rows: Sequence[Sequence[Any]],
    *,
    ids: bool = True,
) -> list[int]:
    """Any other database: SQLAlchemy's INSERT ... RETURNING in as few statements as
    the database allows in order ("insertmanyvalues")."""
    parameters = [dict(zip(columns, row, strict=True)) for row in rows]
    if not ids:
        await session.execute(insert(table), parameters)
        return []
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    result = await session.execute(statement, parameters)
    return list(result.scalars().all())


async def get_thread(session: AsyncSession, thread_id: int) -> MailThread | None:
    return await session.get(MailThread, thread_id)


async def get_message(session: AsyncSession, message_id: int) -> MailMessage | None:
    return await session.get(MailMessage, message_id)


async def by_message_id(session: AsyncSession, message_id: str) -> MailMessage | None:
    return await session.scalar(select(MailMessage).where(MailMessage.message_id == message_id))


async def latest_incoming(session: AsyncSession, thread_id: int) -> MailMessage | None:
    return await session.scalar(
        select(MailMessage)
        .where(MailMessage.thread_id == thread_id, MailMessage.direction == IN)
        .order_by(MailMessage.id.desc())
        .limit(1)
    )


async def thread_messages(session: AsyncSession, thread_id: int) -> list[MailMessage]:
    return list(
        await session.scalars(
            select(MailMessage).where(MailMessage.thread_id == thread_id).order_by(MailMessage.id)
        )
    )


async def attachments_of(
    session: AsyncSession, message_ids: Sequence[int]
) -> dict[int, list[MailAttachment]]:
    found: dict[int, list[MailAttachment]] = {}
    for chunk in _chunks(message_ids):
        for attachment in await session.scalars(
            select(MailAttachment)
            .where(MailAttachment.message_id.in_(chunk))
            .order_by(MailAttachment.id)
        ):
            found.setdefault(attachment.message_id, []).append(attachment)
    return found


# --- the coordinators' view ------------------------------------------------------------


async def open_threads(session: AsyncSession, *, limit: int = 10) -> list[MailThread]:
    return list(
        await session.scalars(
            select(MailThread)
            .where(MailThread.status == OPEN)
            .order_by(MailThread.last_message_at.desc(), MailThread.id.desc())
            .limit(limit)
        )
    )


async def count_open(session: AsyncSession) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(MailThread).where(MailThread.status == OPEN)
        )
        or 0
    )


async def mark_handled(session: AsyncSession, thread: MailThread, *, by: int | None) -> None:
    thread.status = HANDLED
    thread.handled_at = utcnow()
    thread.handled_by = by
    await session.flush()


async def list_messages(
    session: AsyncSession, *, limit: int = 50, offset: int = 0, unhandled: bool = False
) -> list[tuple[MailMessage, MailThread]]:
    query = select(MailMessage, MailThread).join(MailThread, MailMessage.thread_id == MailThread.id)
    if unhandled:
        query = query.where(MailThread.status == OPEN)
    rows = await session.execute(query.order_by(MailMessage.id.desc()).limit(limit).offset(offset))
    return [(message, thread) for message, thread in rows.all()]


# --- acknowledgements -------------------------------------------------------------------


async def acknowledged_on(session: AsyncSession, *, address: str, day: str) -> bool:
    found = await session.scalar(
        select(MailAcknowledgement.id).where(
            MailAcknowledgement.address == address, MailAcknowledgement.day == day
        )
    )
    return found is not None


async def record_acknowledgement(
    session: AsyncSession, *, address: str, day: str, message_id: int
) -> None:
    session.add(
        MailAcknowledgement(address=address, day=day, message_id=message_id, sent_at=utcnow())
    )
    await session.flush()


# --- a resident's mail: /mydata and /forget -----------------------------------------------


def _theirs(resident_id: int, email: str | None) -> Any:
    condition = MailMessage.resident_id == resident_id
    if email:
        address = email.lower()
        condition = or_(condition, MailMessage.from_address == address)
    return condition


async def of_resident(
    session: AsyncSession, resident_id: int, email: str | None
) -> list[MailMessage]:
    return list(
        await session.scalars(
            select(MailMessage)
            .where(_theirs(resident_id, email), MailMessage.erased_at.is_(None))
            .order_by(MailMessage.id)
        )
    )


async def forget_resident(session: AsyncSession, resident_id: int, email: str | None) -> list[str]:
    """Erase the content of a resident's e-mails; returns attachment files no longer used.

    The rows stay, emptied, so a resync of the mailbox does not import the mail
    again; the copy on the mail server is the centre's to delete.
    """
    messages = await of_resident(session, resident_id, email)
    if not messages:
        return []
    ids = [m.id for m in messages]
    thread_ids = {m.thread_id for m in messages}
    by_message = await attachments_of(session, ids)
    doomed = [a for group in by_message.values() for a in group]
    paths = {a.path for a in doomed if a.path}
    now = utcnow()
    for message in messages:
        message.subject = ""
        message.from_name = ""
        message.from_address = ""
        message.to = []
        message.cc = []
        message.reply_to = []
        message.text = ""
        message.html = None
        message.headers = []
        message.raw = None
        message.reference_ids = []
        message.resident_id = None
        message.erased_at = now
    for attachment in doomed:
        await session.delete(attachment)
    await session.execute(
        update(MailThread)
        .where(MailThread.id.in_(thread_ids))
        .values(subject="", subject_key="", counterpart="", resident_id=None)
    )
    if email:
        await session.execute(
            delete(MailAcknowledgement).where(MailAcknowledgement.address == email.lower())
        )
    await session.flush()
    still_used = set()
    for chunk in _chunks(paths):
        still_used.update(
            await session.scalars(select(MailAttachment.path).where(MailAttachment.path.in_(chunk)))
        )
    return sorted(paths - still_used)
