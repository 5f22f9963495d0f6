"""A coordinator's reply to an e-mail, in the chat: the text typed becomes the
e-mail, after a preview; it is stored in the thread and queued to be sent.

Conversation state: flow `mailreply`, step `text` (waiting for the text) then
`confirm` (preview shown); `answers` = {"message": id, "draft": text}.
"""

from __future__ import annotations

from babel.dates import format_datetime

from handlers.core.context import Context
from handlers.core.events import Button, Kind, Reply
from handlers.core.routing import Router
from handlers.core.staff import working_row
from handlers.mailbox.buttons import REPLY, ReplyConfirm
from handlers.mailbox.cards import from_ourselves, sender_label
from handlers.mailbox.outgoing import queue_email, store_outgoing
from handlers.mailbox.subjects import reply_subject
from storage import conversations
from storage import mail as store
from storage.mail import MailMessage

TEXT, CONFIRM = "text", "confirm"
QUOTE_CHARS = 4000

router = Router("mailbox.reply")
router.cancel_text(REPLY, "mail.reply_cancelled")


def _reply_target(message: MailMessage, own: str) -> str:
    if message.direction == store.IN:
        for _name, address in message.reply_to or []:
            if address:
                return str(address)
        return message.from_address
    for _name, address in message.to or []:
        if address and address != own:
            return str(address)
    return ""


def _to_ourselves(ctx: Context, message: MailMessage, target: str) -> bool:
    """A reply to our own address would come back to us (or reach whoever forged it)."""
    own = {ctx.services.centre.email.strip().lower()} - {""}
    if from_ourselves(ctx.services, message):
        own.add(message.from_address.lower())
    return target.lower() in own


class ReplyRefused(Exception):
    """No reply may go to this message; `key` (with `values`) says why."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def reply_check(ctx: Context, message: MailMessage | None) -> str:
    """The address a reply to `message` goes to; ReplyRefused when none may go."""
    if message is None or message.erased_at is not None:
        raise ReplyRefused("mail.gone")
    target = _reply_target(message, ctx.services.centre.email.lower())
    if not target:
        raise ReplyRefused("mail.reply_no_address")
    if _to_ourselves(ctx, message, target):
        raise ReplyRefused("mail.reply_to_self", recipient=target)
    if not ctx.services.channels.email_out:
        raise ReplyRefused("mail.reply_no_smtp")
    return target


async def send_reply(ctx: Context, message: MailMessage | None, text: str) -> MailMessage:
    """Store `text` (with the quoted message) as the answer to `message`, queue it, and
    mark the thread handled; the stored outgoing message. The chat's reply and the
    panel's both end here."""
    target = reply_check(ctx, message)
    assert message is not None
    body = text + "\n\n" + _quote(ctx, message)
    outgoing = await store_outgoing(
        ctx.session,
        ctx.services,
        thread_id=message.thread_id,
        original=message,
        to=target,
        text=body,
        author_id=ctx.event.user_id,
    )
    await queue_email(ctx.session, outgoing)
    thread = await store.get_thread(ctx.session, message.thread_id)
    if thread is not None and thread.status != store.HANDLED:
        await store.mark_handled(ctx.session, thread, by=ctx.event.user_id)
    return outgoing


async def start_reply(ctx: Context, message_id: int) -> list[Reply]:
    """The card's reply button: ask for the text."""
    message = await store.get_message(ctx.session, message_id)
    if message is None or message.erased_at is not None:
        return [ctx.reply("mail.gone")]
    # A conversation belongs to a row; a coordinator who never consented gets a working one.
    await working_row(ctx)
    assert ctx.resident is not None
    try:
        target = reply_check(ctx, message)
    except ReplyRefused as refused:
        return [ctx.reply(refused.key, **refused.values)]
    await conversations.begin(
        ctx.session,
        resident_id=ctx.resident.id,
        flow=REPLY,
        step=TEXT,
        answers={"message": message.id},
    )
    subject = reply_subject(message.subject)
    return [ctx.reply("mail.reply_prompt", recipient=target, subject=subject)]


@router.flow(REPLY, coordinator_only=True)
async def on_reply_input(ctx: Context) -> list[Reply]:
    assert ctx.resident is not None
    conversation = await conversations.current(ctx.session, ctx.resident.id)
    assert conversation is not None
    if not ctx.is_coordinator:
        await conversations.end(ctx.session, ctx.resident.id)
        return [ctx.reply("admin.refused")]
    text = (ctx.event.text or "").strip() if ctx.event.kind is Kind.TEXT else ""
    if not text:
        return [ctx.reply("mail.reply_text_only")]
    message = await store.get_message(ctx.session, int(conversation.answers.get("message", 0)))
    if message is None or message.erased_at is not None:
        await conversations.end(ctx.session, ctx.resident.id)
        return [ctx.reply("mail.gone")]
    answers = {**conversation.answers, "draft": text}
    await conversations.advance(ctx.session, conversation, step=CONFIRM, answers=answers)
    target = _reply_target(message, ctx.services.centre.email.lower())
    buttons = [
        [
            Button(ctx.t("mail.btn_send"), ReplyConfirm("send").pack(), "yes"),
            Button(ctx.t("mail.btn_cancel"), ReplyConfirm("cancel").pack(), "no"),
        ]
    ]
    return [
        ctx.reply(
            "mail.reply_preview",
            buttons=buttons,
            recipient=target,
            subject=reply_subject(message.subject),
            text=text,
        )
    ]


@router.choice(ReplyConfirm, coordinator_only=True)
async def on_reply_choice(ctx: Context, pressed: ReplyConfirm) -> list[Reply]:
    current = await conversations.current(ctx.session, ctx.resident.id) if ctx.resident else None
    if current is None or (current.flow, current.step) != (REPLY, CONFIRM):
        return [ctx.reply("input.stale_button")]
    assert ctx.resident is not None
    await conversations.end(ctx.session, ctx.resident.id)
    if pressed.answer != "send":
        return [ctx.reply("mail.reply_cancelled")]
    message = await store.get_message(ctx.session, int(current.answers.get("message", 0)))
    text = str(current.answers.get("draft", ""))
    try:
        outgoing = await send_reply(ctx, message, text)
    except ReplyRefused as refused:
        # e.g. a draft from before a restart without SMTP
        return [ctx.reply(refused.key, **refused.values)]
    return [ctx.reply("mail.reply_queued", recipient=outgoing.to[0][1])]


def _quote(ctx: Context, message: MailMessage) -> str:
    when = message.date or message.received_at
    header = ctx.t(
        "mail.reply_quote",
        date=format_datetime(
            when.astimezone(ctx.services.timezone), "d MMMM y, HH:mm", locale=ctx.language
        ),
        sender=sender_label(message),
    )
    quoted = "\n".join("> " + line for line in message.text[:QUOTE_CHARS].splitlines())
    return f"{header}\n{quoted}"
