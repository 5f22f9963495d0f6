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


# --- the panel's inbox: pages of threads, unhandled first -------------------------------


def _matching(search: str) -> Any:
    """Threads whose subject, other side's address or a sender's name contains `search`."""
    like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    named = select(MailMessage.thread_id).where(
        MailMessage.direction == IN, MailMessage.from_name.ilike(like, escape="\\")
    )
    return or_(
        MailThread.subject.ilike(like, escape="\\"),
        MailThread.counterpart.ilike(like, escape="\\"),
        MailThread.id.in_(named),
    )


async def thread_page(
    session: AsyncSession, *, search: str = "", limit: int = 50, offset: int = 0
) -> list[MailThread]:
    """One page of threads: the open ones first, then the handled, newest first in each.

    Each part is read along the `last_message_at` (and `status`) indexes with a
    LIMIT: a page never loads the whole mailbox.
    """
    newest = (MailThread.last_message_at.desc(), MailThread.id.desc())
    matching = [_matching(search)] if search else []
    open_count = int(
        await session.scalar(
            select(func.count()).select_from(MailThread).where(MailThread.status == OPEN, *matching)
        )
        or 0
    )
    found: list[MailThread] = []
    if offset < open_count:
        found = list(
            await session.scalars(
                select(MailThread)
                .where(MailThread.status == OPEN, *matching)
                .order_by(*newest)
                .limit(limit)
                .offset(offset)
            )
        )
    room = limit - len(found)
    if room > 0:
        found += await session.scalars(
            select(MailThread)
            .where(MailThread.status != OPEN, *matching)
            .order_by(*newest)
            .limit(room)
            .offset(max(0, offset - open_count))
        )
    return found


async def latest_senders(
    session: AsyncSession, thread_ids: Sequence[int]
) -> dict[int, tuple[str, str]]:
    """(name, address) of the latest incoming message of each thread."""
    if not thread_ids:
        return {}
    latest = (
        select(func.max(MailMessage.id))
        .where(MailMessage.thread_id.in_(list(thread_ids)), MailMessage.direction == IN)
        .group_by(MailMessage.thread_id)
    )
    rows = await session.execute(
        select(MailMessage.thread_id, MailMessage.from_name, MailMessage.from_address).where(
            MailMessage.id.in_(latest)
        )
    )
    return {thread_id: (name, address) for thread_id, name, address in rows.all()}


async def get_attachment(session: AsyncSession, attachment_id: int) -> MailAttachment | None:
    return await session.get(MailAttachment, attachment_id)


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
    condition = MailMessage.resident_id == resident_id
    if addresses:
        proven = [a.lower() for a in addresses]
        condition = or_(condition, MailMessage.from_address.in_(proven))
    return condition


async def of_resident(
    session: AsyncSession, resident_id: int, addresses: Sequence[str]
) -> list[MailMessage]:
    """A resident's mail: linked to them, or from an address they proved (only those:
    see `storage.mail.proofs`), whenever it arrived."""
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
