"""The contest's side of the mailbox: link an e-mail to a proposal, or make one of it.

Applications that arrive by e-mail become contest entries (status submitted,
with a number and the e-mail's attachments), so they are reviewed and scored
with the rest. The mailbox calls this through `handlers.mailbox.bridge`.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.contest.model import Contest
from handlers.core.context import Context
from handlers.mailbox.bridge import MailForProposal, register_proposal_bridge
from storage import proposals as store
from storage.proposals import Proposal

MAX_CANDIDATES = 8
TEXT_FIELD = "opis"
ENTRY_STATUSES = tuple(s for s in store.STATUSES if s != store.DRAFT)


def _label(contest: Contest, proposal: Proposal) -> str:
    title = str(proposal.answers.get(contest.title_field) or "")
    # Cut at a word when it is a button (handlers/core/labels.py).
    return f"{proposal.number or proposal.id} {title}".strip()


def _sender_of(contest: Contest, proposal: Proposal) -> str:
    return str(proposal.answers.get(contest.email_field) or "").lower()


class ContestMailBridge:
    async def candidates(self, ctx: Context, mail: MailForProposal) -> list[tuple[str, str]]:
        contest = ctx.services.contest
        if contest is None:
            return []
        entries = await store.of_contest(ctx.session, contest.slug, statuses=ENTRY_STATUSES)
        sender = mail.sender_address.lower()

        def rank(proposal: Proposal) -> tuple[int, int]:
            same_person = _sender_of(contest, proposal) == sender or (
                mail.resident_id is not None and proposal.resident_id == mail.resident_id
            )
            return (0 if same_person else 1, -proposal.id)

        best = sorted(entries, key=rank)[:MAX_CANDIDATES]
        return [(str(p.id), _label(contest, p)) for p in best]

    async def link(self, ctx: Context, mail: MailForProposal, ref: str) -> str | None:
        contest = ctx.services.contest
        proposal = await store.get(ctx.session, int(ref)) if ref.isdigit() else None
        if contest is None or proposal is None:
            return None
        await store.record(ctx.session, proposal, "mail_linked", note=mail.subject[:500])
        await _attach(ctx.session, proposal, mail)
        return _label(contest, proposal)

    async def create(self, ctx: Context, mail: MailForProposal) -> tuple[str, str] | None:
        contest = ctx.services.contest
        if contest is None:
            return None
        proposal = await store.create_draft(
            ctx.session,
            contest=contest.slug,
            resident_id=mail.resident_id,
            language=ctx.services.translator.default_language,
            channel="email",
        )
        proposal.source = "email"
        answers = {
            contest.applicant_name_field: mail.sender_name or mail.sender_address,
            contest.email_field: mail.sender_address,
            contest.title_field: (mail.subject or mail.sender_address)[:100],
        }
        if contest.question(TEXT_FIELD) is not None:
            answers[TEXT_FIELD] = mail.text[:4000]
        proposal.answers = answers
        proposal.number = await store.next_number(
            ctx.session, contest=contest.slug, prefix=contest.number_prefix
        )
        proposal.submitted_at = mail.received_at
        await store.record(
            ctx.session,
            proposal,
            "submitted",
            to_status=store.SUBMITTED,
            actor=ctx.event.user_id,
            note=mail.subject[:500],
        )
        await _attach(ctx.session, proposal, mail)
        await store.take_snapshot(ctx.session, proposal, "submitted")
        return str(proposal.id), _label(contest, proposal)


async def _attach(session: AsyncSession, proposal: Proposal, mail: MailForProposal) -> None:
    """The e-mail's files become the proposal's (the same stored files, not copies)."""
    for file in mail.attachments:
        if file.path is not None:
            await store.add_attachment(
                session,
                proposal=proposal,
                name=file.name[:255],
                mime_type=file.content_type[:100],
                size=file.size,
                path=file.path,
            )


def install() -> None:
    """Give the mailbox the contest's side: called once by `handlers.routes`."""
    register_proposal_bridge(ContestMailBridge())
