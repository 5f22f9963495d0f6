"""The coordinators' inbox in the chat: the buttons of a mail card (reply, mark
handled, show, and with the contest: link to a proposal, turn into one), and
/inbox, the open threads newest first."""

from __future__ import annotations

from babel.dates import format_datetime

from handlers.core.admin import AdminOpen
from handlers.core.context import Context
from handlers.core.events import Button, Reply
from handlers.core.routing import Router
from handlers.mailbox.bridge import proposal_action, proposal_bridge
from handlers.mailbox.buttons import MAIL_BUTTONS, MailButton, MailDone, MailReply, MailShow
from handlers.mailbox.cards import mail_card, resident_name
from handlers.mailbox.reply import start_reply
from storage import mail as store
from storage.mail import MailMessage

INBOX_LIMIT = 10

router = Router("mailbox.inbox")


@router.choice(*MAIL_BUTTONS, coordinator_only=True)
async def on_mail(ctx: Context, pressed: MailButton) -> list[Reply]:
    if isinstance(pressed, MailReply):
        return await start_reply(ctx, pressed.message)
    if isinstance(pressed, MailDone):
        return await mark_thread_handled(ctx, pressed.thread)
    if isinstance(pressed, MailShow):
        return await _show_thread(ctx, pressed.thread)
    if proposal_bridge(ctx.services):
        return await proposal_action(ctx, pressed, pressed.message)
    return [ctx.reply("input.stale_button")]


async def _card(ctx: Context, message: MailMessage) -> Reply:
    thread = await store.get_thread(ctx.session, message.thread_id)
    assert thread is not None
    attachments = (await store.attachments_of(ctx.session, [message.id])).get(message.id, [])
    return mail_card(
        ctx.services,
        ctx.language,
        message,
        thread,
        [a.filename for a in attachments],
        await resident_name(ctx.session, message.resident_id),
    )


async def _show_thread(ctx: Context, thread_id: int) -> list[Reply]:
    message = await store.latest_incoming(ctx.session, thread_id)
    if message is None or message.erased_at is not None:
        return [ctx.reply("mail.gone")]
    return [await _card(ctx, message)]


async def mark_thread_handled(ctx: Context, thread_id: int) -> list[Reply]:
    """Mark a thread handled (the card's button, the panel's)."""
    thread = await store.get_thread(ctx.session, thread_id)
    if thread is None:
        return [ctx.reply("mail.gone")]
    if thread.status == store.HANDLED:
        return [ctx.reply("mail.already_handled")]
    await store.mark_handled(ctx.session, thread, by=ctx.event.user_id)
    return [ctx.reply("mail.handled", subject=thread.subject or ctx.t("mail.no_subject"))]


@router.command("inbox", coordinator_only=True, order=94)
async def inbox(ctx: Context) -> list[Reply]:
    return await inbox_listing(ctx)


@router.admin_action("inbox", "admin.inbox")
async def inbox_from_panel(ctx: Context, pressed: AdminOpen) -> list[Reply]:
    return await inbox_listing(ctx)


async def inbox_listing(ctx: Context) -> list[Reply]:
    count = await store.count_open(ctx.session)
    # Without IMAP "nothing to handle" would mean nothing: no mail is read at all.
    unread = [] if ctx.services.channels.mailbox else [ctx.reply("mail.inbox_not_configured")]
    if count == 0:
        return unread or [ctx.reply("mail.inbox_empty")]
    # Each thread in full in the text; its button (cut to a phone's width) opens it.
    lines, buttons = [ctx.t("mail.inbox_title", count=count)], []
    for thread in await store.open_threads(ctx.session, limit=INBOX_LIMIT):
        latest = await store.latest_incoming(ctx.session, thread.id)
        sender = (latest.from_name or latest.from_address) if latest else thread.counterpart
        when = format_datetime(
            thread.last_message_at.astimezone(ctx.services.timezone), "dd.MM", locale=ctx.language
        )
        label = ctx.t(
            "mail.inbox_line",
            sender=sender or "?",
            subject=thread.subject or ctx.t("mail.no_subject"),
            when=when,
        )
        lines.append(f"• {label}")
        buttons.append([Button(label, MailShow(thread.id).pack())])
    return [*unread, Reply("\n".join(lines), buttons)]
