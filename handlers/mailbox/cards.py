"""What coordinators are told about mail: the card of an incoming e-mail (new mail
notifications, /inbox), and a delivery failure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.events import Button, Reply
from handlers.core.notify import coordinator_languages
from handlers.core.replies import to_payload
from handlers.core.services import Services
from handlers.mailbox.bridge import proposal_bridge
from handlers.mailbox.buttons import MailButton, MailDone, MailLink, MailMake, MailReply
from handlers.mailbox.events import IncomingMail
from handlers.mailbox.verdicts import FAILED_VERDICTS, authenticated
from storage import mail as store
from storage import outbox
from storage.db import Store
from storage.mail import MailMessage, MailThread
from storage.models import Resident

PREVIEW_LINES = 8
PREVIEW_CHARS = 700
# `MailMessage.automatic` of mail "from" one of our own addresses (centre.yaml e-mail,
# MAIL_FROM, the mailbox logins): Lokalnie did not send it, so it is flagged, never
# acknowledged, and never answered (the answer would go to ourselves or to a forger).
OWN_SENDER = "own address"


def from_ourselves(services: Services, message: MailMessage) -> bool:
    own = services.centre.email.strip().lower()
    return message.automatic == OWN_SENDER or bool(own and message.from_address.lower() == own)


def _preview(text: str) -> str:
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(">"):
            continue
        lines.append(stripped[:PREVIEW_CHARS])
        if len(lines) >= PREVIEW_LINES:
            break
    preview = "\n".join(lines)
    return preview if len(preview) <= PREVIEW_CHARS else preview[: PREVIEW_CHARS - 1] + "…"


def sender_label(message: MailMessage) -> str:
    if message.from_name and message.from_address:
        return f"{message.from_name} <{message.from_address}>"
    return message.from_address or message.from_name


def message_notes(
    services: Services, language: str, message: MailMessage, resident_name: str | None
) -> list[str]:
    """What a coordinator must know of an e-mail's sender and state: whether the address
    is ours, proven or only claimed, failed authentication, a part that was unreadable."""

    def t(key: str, **values: object) -> str:
        return services.translator.text(language, key, **values)

    parts = []
    if from_ourselves(services, message):
        parts.append(t("mail.own_sender", address=message.from_address))
    elif resident_name is not None:
        parts.append(t("mail.from_resident", name=resident_name or "?"))
        if not authenticated(message):
            # The address is theirs, but anyone can write it in From:.
            parts.append(t("mail.sender_not_authenticated"))
    else:
        # Nobody proved this address: the From: line is only the sender's claim.
        parts.append(t("mail.sender_unverified"))
    failed = {k: v for k, v in (message.auth or {}).items() if v in FAILED_VERDICTS}
    if failed:
        verdicts = ", ".join(f"{k.upper()}={v}" for k, v in sorted(failed.items()))
        parts.append(t("mail.auth_failed", verdicts=verdicts))
    if message.parse_error:
        parts.append(t("mail.unreadable", reason=message.parse_error[:200]))
    return parts


def mail_card(
    services: Services,
    language: str,
    message: MailMessage,
    thread: MailThread,
    attachment_names: Sequence[str],
    resident_name: str | None = None,
    position: int | None = None,
) -> Reply:
    """What a coordinator sees of one incoming e-mail, with its buttons; `position` is
    the message's place in its thread (the thread's length when not given)."""

    def t(key: str, **values: object) -> str:
        return services.translator.text(language, key, **values)

    subject = message.subject or t("mail.no_subject")
    count = position if position is not None else thread.message_count
    key = "mail.new" if count <= 1 else "mail.new_in_thread"
    parts = [
        t(
            key,
            sender=sender_label(message) or "?",
            subject=subject,
            count=count,
            preview=_preview(message.text) or t("mail.no_text"),
        )
    ]
    if attachment_names:
        parts.append(t("mail.attachments", names=", ".join(attachment_names)))
    parts += message_notes(services, language, message, resident_name)
    if thread.proposal_ref:
        parts.append(t("mail.thread_linked", ref=thread.proposal_ref))

    def button(label: str, pressed: MailButton) -> Button:
        return Button(t(label), pressed.pack())

    buttons = [[button("mail.btn_reply", MailReply(message.id))]]
    if thread.status != store.HANDLED:
        buttons[0].append(button("mail.btn_done", MailDone(thread.id)))
    if proposal_bridge(services) is not None:
        buttons.append(
            [
                button("mail.btn_link", MailLink(message.id)),
                button("mail.btn_make", MailMake(message.id)),
            ]
        )
    return Reply("\n\n".join(parts), buttons)


async def resident_name(session: AsyncSession, resident_id: int | None) -> str | None:
    """The name a card shows for a linked resident; None when there is none."""
    if resident_id is None:
        return None
    resident = await session.get(Resident, resident_id)
    return (resident.name or "") if resident else None


async def notify(
    session: AsyncSession,
    services: Services,
    languages: dict[int, str],
    mail: IncomingMail,
    row: MailMessage,
    position: int,
) -> None:
    """A card of a new e-mail for every coordinator, keyed by the stored message."""
    thread = await store.get_thread(session, row.thread_id)
    assert thread is not None
    names = [a.filename for a in mail.attachments]
    name = await resident_name(session, row.resident_id)
    for coordinator_id in sorted(services.coordinator_ids):
        card = mail_card(services, languages[coordinator_id], row, thread, names, name, position)
        await outbox.enqueue(
            session,
            channel=services.chat_channel,
            recipient=str(coordinator_id),
            payload=to_payload(card),
            idempotency_key=f"mail:new:{row.id}:{coordinator_id}",
        )


async def report_delivery_failure(
    database: Store,
    services: Services,
    *,
    recipient: str,
    payload: dict[str, Any],
    error: str,
    key: str,
) -> None:
    """Tell every coordinator that an e-mail was refused for good (SMTP 5xx, login)."""
    async with database.transaction() as session:
        languages = await coordinator_languages(session, services)
        for coordinator_id in sorted(services.coordinator_ids):
            text = services.translator.text(
                languages[coordinator_id],
                "mail.send_failed",
                recipient=recipient,
                subject=str(payload.get("subject") or ""),
                error=error[:300],
            )
            await outbox.enqueue(
                session,
                channel=services.chat_channel,
                recipient=str(coordinator_id),
                payload={"text": text},
                idempotency_key=f"mail:failed:{key}:{coordinator_id}"[:200],
            )
    services.on_outbox_written()
