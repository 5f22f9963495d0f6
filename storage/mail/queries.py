"""Reading the mailbox for the coordinators (threads, cards, /inbox, the CLI), the
acknowledgement log, and a resident's mail for /mydata and /forget."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.mail.ingest import chunks
from storage.mail.models import (
    HANDLED,
    IN,
    OPEN,
    MailAcknowledgement,
    MailAttachment,
    MailMessage,
    MailThread,
)
from storage.types import utcnow


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
    for chunk in chunks(message_ids):
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


def _theirs(resident_id: int, addresses: Sequence[str]) -> Any:
    """Mail linked to the resident, or from one of `addresses`: the addresses the
    resident has proven (see `storage.personal_data.proven_addresses`)."""
    condition = MailMessage.resident_id == resident_id
    if addresses:
        condition = or_(condition, MailMessage.from_address.in_([a.lower() for a in addresses]))
    return condition


async def of_resident(
    session: AsyncSession, resident_id: int, addresses: Sequence[str]
) -> list[MailMessage]:
    return list(
        await session.scalars(
            select(MailMessage)
            .where(_theirs(resident_id, addresses), MailMessage.erased_at.is_(None))
            .order_by(MailMessage.id)
        )
    )


async def forget_resident(
    session: AsyncSession, resident_id: int, addresses: Sequence[str]
) -> list[str]:
    """Erase the content of a resident's e-mails; returns attachment files no longer used.

    The rows stay, emptied, so a resync of the mailbox does not import the mail
    again; the copy on the mail server is the centre's to delete.
    """
    messages = await of_resident(session, resident_id, addresses)
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
    if addresses:
        await session.execute(
            delete(MailAcknowledgement).where(
                MailAcknowledgement.address.in_([a.lower() for a in addresses])
            )
        )
    await session.flush()
    still_used = set()
    for chunk in chunks(paths):
        still_used.update(
            await session.scalars(select(MailAttachment.path).where(MailAttachment.path.in_(chunk)))
        )
    return sorted(paths - still_used)
