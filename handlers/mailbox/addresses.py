"""/email: a resident proves an e-mail address is theirs, so that the centre links
their e-mails to them (and /mydata, /forget reach those e-mails).

`/email` (or `/email anna@example.pl`) asks for the address; a 6-digit code goes to
it by e-mail (through the outbox), valid for 30 minutes; the resident types the
code back in the chat. A wrong code says how many tries are left; after five, or
once expired, the resident starts again. Typing an address is never proof: anyone
can type anyone's address, and the mail of that address would then reach them.

Conversation state: flow `email`, step `address` (waiting for the address) then
`code` (a code was sent).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email

from handlers.core.context import Context
from handlers.core.events import Kind, Reply
from handlers.core.mail_out import queue_email
from handlers.core.routing import Router
from handlers.mailbox.subjects import new_message_id
from storage import conversations, events
from storage.mail import proofs

FLOW = "email"
ADDRESS, CODE = "address", "code"
CODE_DIGITS = 6
# A new code to the same person at most once a minute: the codes go to an address
# that may not be theirs, and nobody's inbox should fill with them.
RESEND_AFTER = timedelta(minutes=1)

PROBLEMS = {
    "none": "email.code_none",
    "expired": "email.code_expired",
    "spent": "email.code_spent",
}

router = Router("mailbox.addresses")
router.cancel_text(FLOW, "email.cancelled")


@router.command("email", needs_consent=True, order=39)
async def email_command(ctx: Context) -> list[Reply]:
    assert ctx.resident is not None
    if not ctx.services.channels.email_out:
        # The code would wait in the outbox forever: say so instead of promising it.
        return [ctx.reply("email.not_configured")]
    given = ctx.event.args.strip()
    if given and "@" not in given:
        return await _check_code(ctx, given)  # `/email 123456`: the code at once
    if given:
        return await _send_code(ctx, given)
    proven = await proofs.proven_addresses(ctx.session, ctx.resident.id)
    await conversations.begin(ctx.session, resident_id=ctx.resident.id, flow=FLOW, step=ADDRESS)
    if proven:
        return [ctx.reply("email.prompt_more", addresses=", ".join(proven))]
    return [ctx.reply("email.prompt")]


@router.flow(FLOW)
async def on_input(ctx: Context) -> list[Reply]:
    assert ctx.resident is not None
    text = (ctx.event.text or "").strip() if ctx.event.kind is Kind.TEXT else ""
    if not text:
        return [ctx.reply("email.type_it")]
    conversation = await conversations.current(ctx.session, ctx.resident.id)
    if conversation is not None and conversation.step == CODE and "@" not in text:
        return await _check_code(ctx, text)
    return await _send_code(ctx, text)


async def reply_proves(ctx: Context, *, resident_id: int | None, address: str) -> str | None:
    """The Message-ID for an e-mail to `address` (the contest's confirmation) whose
    reply, from that very address, proves it is the resident's; None without one."""
    if resident_id is None or not address:
        return None
    message_id = new_message_id(ctx.services)
    await proofs.expect_reply(
        ctx.session,
        resident_id=resident_id,
        address=address,
        message_id=message_id,
        now=ctx.services.clock(),
    )
    return message_id


async def _send_code(ctx: Context, text: str) -> list[Reply]:
    assert ctx.resident is not None
    try:
        address = validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return [ctx.reply("flow.invalid.email")]
    if address == ctx.services.centre.email.strip().lower():
        return [ctx.reply("email.centre_address")]
    if address in await proofs.proven_addresses(ctx.session, ctx.resident.id):
        await conversations.end(ctx.session, ctx.resident.id)
        return [ctx.reply("email.already", address=address)]
    now = ctx.services.clock()
    pending = await proofs.pending_code(ctx.session, ctx.resident.id)
    if pending is not None and now - pending.created_at < RESEND_AFTER:
        return [ctx.reply("email.wait", address=pending.address)]
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    await proofs.start_code(
        ctx.session, resident_id=ctx.resident.id, address=address, code=code, now=now
    )
    minutes = int(proofs.CODE_VALID.total_seconds() // 60)
    centre = ctx.services.centre.name
    await queue_email(
        ctx.session,
        to=address,
        resident_id=ctx.resident.id,
        subject=ctx.t("email.code_subject", centre=centre),
        text=ctx.t("email.code_body", code=code, count=minutes, centre=centre),
        key=f"email:code:{ctx.resident.id}:{now.isoformat()}",
    )
    current = await conversations.current(ctx.session, ctx.resident.id)
    if current is not None and current.flow == FLOW:
        await conversations.advance(ctx.session, current, step=CODE)
    else:
        await conversations.begin(ctx.session, resident_id=ctx.resident.id, flow=FLOW, step=CODE)
    return [ctx.reply("email.code_sent", address=address, count=minutes)]


async def _check_code(ctx: Context, text: str) -> list[Reply]:
    assert ctx.resident is not None
    digits = "".join(text.split())
    if not (digits.isdigit() and len(digits) == CODE_DIGITS):
        return [ctx.reply("email.code_format")]
    checked = await proofs.check_code(
        ctx.session, resident_id=ctx.resident.id, code=digits, now=ctx.services.clock()
    )
    if checked.problem == "wrong":
        return [ctx.reply("email.code_wrong", left=checked.left)]
    await conversations.end(ctx.session, ctx.resident.id)
    if checked.proven is not None:
        await events.record(ctx.session, "email_proven", resident_id=ctx.resident.id)
        return [ctx.reply("email.proven", address=checked.proven)]
    return [ctx.reply(PROBLEMS.get(checked.problem or "", "email.code_none"))]
