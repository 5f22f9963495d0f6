"""E-mail the centre sends in a thread: a coordinator's reply or the automatic
acknowledgement. Each is stored in its thread and queued as an outbox row of
channel "email", with its Message-ID fixed now, In-Reply-To, References and a
"Re:" subject."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.services import Services
from handlers.mailbox.content import MailContent
from handlers.mailbox.events import IncomingMail
from handlers.mailbox.subjects import new_message_id, real_id, reply_subject
from storage import mail as store
from storage import outbox
from storage.mail import MailMessage
from storage.models import Resident
from storage.types import utcnow

EMAIL_CHANNEL = "email"
MAX_REFERENCES = 20


def local_day(services: Services) -> str:
    return services.clock().astimezone(services.timezone).date().isoformat()


async def store_outgoing(
    session: AsyncSession,
    services: Services,
    *,
    thread_id: int,
    original: MailMessage,
    to: str,
    text: str,
    author_id: int | None,
) -> MailMessage:
    """Store an e-mail answering `original` in its thread (the thread counts it)."""
    now = utcnow()
    references = [r for r in original.reference_ids or [] if r]
    original_id = real_id(original.message_id)
    if original_id and original_id not in references:
        references.append(original_id)
    outgoing = MailMessage(
        thread_id=thread_id,
        direction=store.OUT,
        message_id=new_message_id(services),
        in_reply_to=original_id,
        reference_ids=references[-MAX_REFERENCES:],
        from_name=services.centre.name,
        from_address=services.centre.email.lower(),
        to=[["", to]],
        cc=[],
        reply_to=[],
        subject=reply_subject(original.subject),
        date=now,
        received_at=now,
        text=text,
        headers=[],
        size=len(text.encode()),
        auth={},
        resident_id=original.resident_id,
        author_id=author_id,
        seen=True,
    )
    session.add(outgoing)
    thread = await store.get_thread(session, thread_id)
    if thread is not None:
        thread.message_count = (thread.message_count or 0) + 1
        thread.last_message_at = now
    await session.flush()
    return outgoing


async def queue_email(
    session: AsyncSession, message: MailMessage, *, auto_submitted: str | None = None
) -> None:
    """The outbox row that sends a stored outgoing e-mail."""
    payload: dict[str, Any] = {
        "subject": message.subject,
        "text": message.text,
        "message_id": message.message_id,
        "in_reply_to": message.in_reply_to,
        "references": list(message.reference_ids or []),
    }
    if auto_submitted:
        payload["auto_submitted"] = auto_submitted
    await outbox.enqueue(
        session,
        channel=EMAIL_CHANNEL,
        recipient=message.to[0][1],
        resident_id=message.resident_id,
        payload=payload,
        idempotency_key=outbox_key(message.id),
    )


def outbox_key(message_id: int) -> str:
    """The outbox row's key of a stored outgoing e-mail."""
    return f"mail:out:{message_id}"


async def delivery_states(session: AsyncSession, message_ids: list[int]) -> dict[int, str]:
    """The outbox status of each stored outgoing e-mail (pending, sending, sent,
    failed, cancelled); an e-mail whose row is gone (kept past retention) is left out."""
    keys = {outbox_key(message_id): message_id for message_id in message_ids}
    found = await outbox.statuses(session, list(keys))
    return {keys[key]: status for key, status in found.items()}


async def acknowledge(
    session: AsyncSession,
    services: Services,
    content: MailContent,
    own_addresses: frozenset[str],
    mail: IncomingMail,
    row: MailMessage,
    done: set[str],
) -> None:
    """The automatic acknowledgement of a new thread, where RFC 3834 allows one: not
    to automatic mail, not to ourselves, at most once per address and local day."""
    target = mail.answer_to.address
    if mail.automatic or not target or target in own_addresses or target in done:
        return
    if mail.sender.address in own_addresses:
        return
    day = local_day(services)
    if await store.acknowledged_on(session, address=target, day=day):
        return
    done.add(target)
    language = services.translator.default_language
    if row.resident_id is not None:
        resident = await session.get(Resident, row.resident_id)
        if resident is not None:
            language = resident.language
    text = content.acknowledgement.text.get(language).format(
        centre=services.centre.name, subject=mail.subject or ""
    )
    outgoing = await store_outgoing(
        session,
        services,
        thread_id=row.thread_id,
        original=row,
        to=target,
        text=text,
        author_id=None,
    )
    await store.record_acknowledgement(session, address=target, day=day, message_id=row.id)
    await queue_email(session, outgoing, auto_submitted="auto-replied")
