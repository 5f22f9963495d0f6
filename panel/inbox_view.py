"""What the inbox pages show: a thread with its messages, attachments and delivery
states, the reply form, the proposals it could be linked to.

Texts are those the mailbox stored: the plain text of each e-mail (HTML mail was
turned into text on arrival, `bot/mail/bodies.py`); a mail's HTML is never
shown. The notes about a sender are the chat card's (`handlers/mailbox/cards.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import filetype

from handlers.core.context import Context
from handlers.mailbox.bridge import mail_for_proposal, proposal_bridge
from handlers.mailbox.cards import message_notes, resident_name, sender_label
from handlers.mailbox.outgoing import delivery_states
from handlers.mailbox.reply import ReplyRefused, reply_check
from handlers.mailbox.subjects import reply_subject
from panel.base import PanelHandler
from panel.feature import coordinator_context
from panel.proposals import INLINE_TYPES
from storage import mail as store
from storage.mail import MailAttachment, MailMessage, MailThread

# What the outbox's status of an outgoing e-mail is called on the page.
DELIVERY = {
    "pending": "mail.state_queued",
    "sending": "mail.state_queued",
    "sent": "mail.state_sent",
    "failed": "mail.state_failed",
    "cancelled": "mail.state_failed",
}
# Enough of a file's start for `filetype` to recognise it.
SNIFF_BYTES = 8192


def state_key(thread: MailThread) -> str:
    return "mail.state_open" if thread.status == store.OPEN else "mail.state_handled"


def reply_message(messages: list[MailMessage]) -> MailMessage | None:
    """The message a reply (or a link to a proposal) answers: the latest incoming one."""
    incoming = [m for m in messages if m.direction == store.IN and m.erased_at is None]
    return incoming[-1] if incoming else None


def inline_type(data_dir: Path, attachment: MailAttachment) -> str | None:
    """The type to show the file as, when its bytes say it is a PDF or a picture.

    What the sender's mail claims is not enough: an HTML page claimed as a PNG
    must not reach the browser as anything it would run or render as a page.
    """
    path = stored_path(data_dir, attachment)
    if path is None:
        return None
    with path.open("rb") as file:
        kind = filetype.guess(file.read(SNIFF_BYTES))
    return kind.mime if kind is not None and kind.mime in INLINE_TYPES else None


def stored_path(data_dir: Path, attachment: MailAttachment) -> Path | None:
    """The attachment's file under DATA_DIR, or None when it was not kept or is gone."""
    if not attachment.path:
        return None
    root = data_dir.resolve()
    path = (root / attachment.path).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


async def thread_view(handler: PanelHandler, thread_id: int, **extra: Any) -> dict[str, Any] | None:
    """Everything the thread template needs, or None when there is no such thread."""
    async with handler.transaction() as session:
        thread = await store.get_thread(session, thread_id)
        if thread is None:
            return None
        ctx = await coordinator_context(session, handler)
        messages = await store.thread_messages(session, thread.id)
        names: dict[int | None, str | None] = {None: None}
        for message in messages:
            if message.resident_id not in names:
                names[message.resident_id] = await resident_name(session, message.resident_id)
        shown = [_message(handler, m, names[m.resident_id]) for m in messages]
        files = await store.attachments_of(session, [m.id for m in messages])
        data_dir = handler.panel.services.data_dir
        for entry in shown:
            entry["files"] = [_file(data_dir, a) for a in files.get(entry["id"], [])]
        states = await delivery_states(
            session, [m.id for m in messages if m.direction == store.OUT]
        )
        for entry in shown:
            state = states.get(entry["id"])
            entry["delivery"] = handler.t(DELIVERY[state]) if state in DELIVERY else ""
            entry["failed"] = state in ("failed", "cancelled")
        answered = reply_message(messages)
        reply = _reply_form(ctx, answered)
        proposals = await _proposal_choices(ctx, answered)
    values: dict[str, Any] = {"notice": [], "error": None, "form": {}}
    values.update(extra)
    ref = thread.proposal_ref or ""
    return {
        **values,
        "thread": {
            "id": thread.id,
            "subject": thread.subject or handler.t("mail.no_subject"),
            "open": thread.status == store.OPEN,
            "state": handler.t(state_key(thread)),
            "proposal_ref": ref,
            "proposal_url": f"/proposals/{ref}" if ref.isdigit() else "",
        },
        "messages": shown,
        # The reply form's mark of the thread as read: see `inbox_actions.ReplyAction`.
        "latest_id": messages[-1].id if messages else 0,
        "reply": reply,
        "proposals": proposals,
    }


def _message(handler: PanelHandler, message: MailMessage, name: str | None) -> dict[str, Any]:
    incoming = message.direction == store.IN
    erased = message.erased_at is not None
    notes: list[str] = []
    if incoming and not erased:
        notes = message_notes(handler.panel.services, handler.language, message, name)
    return {
        "id": message.id,
        "incoming": incoming,
        "erased": erased,
        "sender": sender_label(message) or "?",
        "to": ", ".join(address for _name, address in message.to or [] if address),
        "subject": message.subject,
        "when": handler.when(message.date or message.received_at),
        "text": message.text,
        "notes": notes,
    }


def _file(data_dir: Path, attachment: MailAttachment) -> dict[str, Any]:
    shown_as = inline_type(data_dir, attachment)
    return {
        "id": attachment.id,
        "name": attachment.filename or f"{attachment.id}",
        "kept": stored_path(data_dir, attachment) is not None,
        "image": shown_as is not None and shown_as.startswith("image/"),
        "pdf": shown_as == "application/pdf",
    }


def _reply_form(ctx: Context, message: MailMessage | None) -> dict[str, Any]:
    """To whom and under what subject a reply goes, or why none can."""
    try:
        target = reply_check(ctx, message)
    except ReplyRefused as refused:
        return {"refused": ctx.t(refused.key, **refused.values)}
    assert message is not None
    return {"refused": "", "to": target, "subject": reply_subject(message.subject)}


async def _proposal_choices(ctx: Context, message: MailMessage | None) -> dict[str, Any] | None:
    """The contest's entries this thread's mail could be linked to; None without a contest."""
    bridge = proposal_bridge(ctx.services)
    if bridge is None or message is None:
        return None
    mail = await mail_for_proposal(ctx.session, message)
    return {"candidates": await bridge.candidates(ctx, mail)}
