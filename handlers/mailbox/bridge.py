"""The contest bridge: how the mailbox hands an e-mail to the contest (link it to a
proposal, or turn it into one), without importing the contest.

The contest registers a `ProposalBridge` (`register_proposal_bridge`); the cards
then show its buttons, and `proposal_action` answers them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Context
from handlers.core.events import Button, Reply
from handlers.core.services import Services
from handlers.mailbox.buttons import MailLink, MailMake, MailPick
from handlers.mailbox.verdicts import authenticated
from storage import mail as store
from storage.mail import MailMessage


@dataclass(frozen=True)
class MailFile:
    name: str
    content_type: str
    size: int
    # Relative to DATA_DIR (`Services.data_dir`); None when the file was over the cap.
    path: str | None


@dataclass(frozen=True)
class MailForProposal:
    """An incoming e-mail as the contest code sees it."""

    message_id: int
    thread_id: int
    sender_name: str
    sender_address: str
    subject: str
    text: str
    received_at: datetime
    # The resident who proved the sender's address; None for an unproven sender,
    # whose mail must not be filed as anyone's.
    resident_id: int | None
    attachments: list[MailFile] = field(default_factory=list)


class ProposalBridge(Protocol):
    """What the contest (handlers/contest/from_mail.py) provides to the mailbox.

    `ref` is the contest's short reference of a proposal (its id or number, at
    most 30 characters: it travels in a button's 64-byte callback data); `label`
    is what a coordinator reads ("#2026/3 Warsztaty ceramiki").
    """

    async def candidates(self, ctx: Context, mail: MailForProposal) -> list[tuple[str, str]]:
        """Proposals this e-mail could belong to, best first: [(ref, label)], at most 8."""
        ...

    async def link(self, ctx: Context, mail: MailForProposal, ref: str) -> str | None:
        """Attach the e-mail (text and files) to proposal `ref`; its label, None if gone."""
        ...

    async def create(self, ctx: Context, mail: MailForProposal) -> tuple[str, str] | None:
        """Turn the e-mail into a contest entry (with its attachments); (ref, label)."""
        ...


# At most one: the contest registers itself with `register_proposal_bridge`.
PROPOSAL_FROM_MAIL: list[ProposalBridge] = []


def register_proposal_bridge(bridge: ProposalBridge) -> None:
    PROPOSAL_FROM_MAIL[:] = [bridge]


def proposal_bridge(services: Services) -> ProposalBridge | None:
    """The bridge, when there is one and a contest to put e-mails into."""
    if PROPOSAL_FROM_MAIL and services.contest is not None:
        return PROPOSAL_FROM_MAIL[0]
    return None


async def mail_for_proposal(session: AsyncSession, message: MailMessage) -> MailForProposal:
    attachments = (await store.attachments_of(session, [message.id])).get(message.id, [])
    return MailForProposal(
        message_id=message.id,
        thread_id=message.thread_id,
        sender_name=message.from_name,
        sender_address=message.from_address,
        subject=message.subject,
        text=message.text,
        received_at=message.received_at,
        # A proven address is not enough to file the mail as the resident's: the
        # From: line could be forged, unless our provider vouched for it.
        resident_id=message.resident_id if authenticated(message) else None,
        attachments=[MailFile(a.filename, a.content_type, a.size, a.path) for a in attachments],
    )


async def proposal_action(
    ctx: Context, pressed: MailLink | MailPick | MailMake, message_id: int
) -> list[Reply]:
    """The card's contest buttons: link (pick a proposal), pick, make."""
    bridge = proposal_bridge(ctx.services)
    assert bridge is not None
    message = await store.get_message(ctx.session, message_id)
    if message is None or message.erased_at is not None:
        return [ctx.reply("mail.gone")]
    mail = await mail_for_proposal(ctx.session, message)
    thread = await store.get_thread(ctx.session, message.thread_id)
    assert thread is not None
    if isinstance(pressed, MailLink):
        options = await bridge.candidates(ctx, mail)
        if not options:
            return [ctx.reply("mail.link_none")]
        buttons = [[Button(label, MailPick(message_id, ref).pack())] for ref, label in options[:8]]
        return [ctx.reply("mail.link_pick", buttons=buttons)]
    if isinstance(pressed, MailPick):
        ref = pressed.ref
        label = await bridge.link(ctx, mail, ref)
        if label is None:
            return [ctx.reply("input.stale_button")]
        thread.proposal_ref = ref[:64]
        await ctx.session.flush()
        return [ctx.reply("mail.linked", label=label)]
    made = await bridge.create(ctx, mail)
    if made is None:
        return [ctx.reply("mail.proposal_failed")]
    ref, label = made
    thread.proposal_ref = ref[:64]
    if thread.status != store.HANDLED:
        await store.mark_handled(ctx.session, thread, by=ctx.event.user_id)
    return [ctx.reply("mail.made", label=label)]
