"""The contest's results announced: each applicant their own outcome, subscribers the list."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from handlers.contest import budget as money
from handlers.core.mail_out import queue_email
from scheduler.runtime import JobRuntime, send, translated
from storage import proposals as contest_store
from storage import schedule as store
from storage.audiences import CHAT, Recipient, subscribers
from storage.models import Resident
from storage.types import utcnow


async def announcement(runtime: JobRuntime, session: Any, slug: str, job_id: str) -> str:
    """Each applicant learns their own outcome; subscribers get the funded initiatives."""
    services = runtime.services
    contest = services.contest
    if contest is None or contest.slug != slug:
        return "contest gone"
    outcomes = list(
        await session.scalars(
            select(contest_store.ContestOutcome)
            .where(contest_store.ContestOutcome.contest == slug)
            .order_by(contest_store.ContestOutcome.rank)
        )
    )
    funded: list[tuple[str, str, Decimal]] = []
    told = 0
    for outcome in outcomes:
        proposal = await contest_store.get(session, outcome.proposal_id)
        if proposal is None:
            continue
        title = proposal.answers.get(contest.title_field, "")
        if outcome.selected:
            funded.append(
                (
                    title,
                    proposal.answers.get(contest.applicant_name_field, ""),
                    money.total(money.lines_of(proposal.budget)),
                )
            )
        language = proposal.language
        messages = contest.messages
        verdict = (messages.accepted if outcome.selected else messages.rejected).get(language)
        text = translated(
            services,
            language,
            "announcement.personal",
            number=proposal.number,
            title=title,
            verdict=verdict,
        )
        if outcome.note:
            text += "\n\n" + translated(services, language, "announcement.note", note=outcome.note)
        resident = (
            await session.get(Resident, proposal.resident_id) if proposal.resident_id else None
        )
        if resident is not None and resident.telegram_id is not None:
            await send(
                session,
                services,
                Recipient(resident.id, CHAT, str(resident.telegram_id), language),
                text,
                f"{job_id}:applicant:{proposal.id}",
            )
        email = proposal.answers.get(contest.email_field)
        if email:
            await queue_email(
                session,
                to=email,
                subject=translated(
                    services, language, "announcement.subject", number=proposal.number
                ),
                text=text,
                key=f"{job_id}:applicant-mail:{proposal.id}",
                resident_id=proposal.resident_id,
            )
        outcome.announced_at = utcnow()
        told += 1
    for person in await subscribers(session):
        lines = [
            f"• {title} – {who} ("
            + money.money(amount, language=person.language, currency=contest.currency)
            + ")"
            for title, who, amount in funded
        ]
        text = translated(
            services,
            person.language,
            "announcement.public",
            name=contest.name.get(person.language),
            list="\n".join(lines),
        )
        await send(session, services, person, text, f"{job_id}:public:{person.resident_id}")
    for announcement in await store.announcements(session):
        if announcement.contest == slug:
            announcement.done_at = utcnow()
    return f"told {told} applicants, {len(funded)} funded"
