"""Proposals of the local-initiatives contest: drafts, submissions, history, scores.

The queries. The models and statuses are defined in `storage.models.contest` and
offered here too, where callers have always found them (hence `__all__`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.contest import (
    ACCEPTED,
    CHANGES_REQUESTED,
    DRAFT,
    EDITABLE,
    REJECTED,
    STATUSES,
    SUBMITTED,
    UNDER_REVIEW,
    WITHDRAWN,
    ContestOutcome,
    Proposal,
    ProposalAttachment,
    ProposalHistory,
    ProposalScore,
    ProposalSnapshot,
    ResidentQuestion,
)
from storage.types import utcnow

__all__ = [
    "ACCEPTED",
    "CHANGES_REQUESTED",
    "DRAFT",
    "EDITABLE",
    "REJECTED",
    "STATUSES",
    "SUBMITTED",
    "UNDER_REVIEW",
    "WITHDRAWN",
    "ContestOutcome",
    "Proposal",
    "ProposalAttachment",
    "ProposalHistory",
    "ProposalScore",
    "ProposalSnapshot",
    "ResidentQuestion",
    "create_draft",
    "get",
    "by_number",
    "of_resident",
    "of_contest",
    "touch",
    "set_answer",
    "drop_answers",
    "set_budget",
    "record",
    "next_number",
    "history",
    "attachments",
    "add_attachment",
    "remove_attachment",
    "take_snapshot",
    "snapshots",
    "counts_by_status",
    "forget_resident",
]


async def create_draft(
    session: AsyncSession, *, contest: str, resident_id: int | None, language: str, channel: str
) -> Proposal:
    now = utcnow()
    proposal = Proposal(
        contest=contest,
        resident_id=resident_id,
        status=DRAFT,
        answers={},
        budget=[],
        language=language,
        channel=channel,
        created_at=now,
        updated_at=now,
    )
    session.add(proposal)
    await session.flush()
    return proposal


async def get(session: AsyncSession, proposal_id: int) -> Proposal | None:
    return await session.get(Proposal, proposal_id)


async def by_number(session: AsyncSession, number: str) -> Proposal | None:
    return await session.scalar(select(Proposal).where(Proposal.number == number))


async def of_resident(session: AsyncSession, resident_id: int) -> list[Proposal]:
    return list(
        await session.scalars(
            select(Proposal).where(Proposal.resident_id == resident_id).order_by(Proposal.id)
        )
    )


async def of_contest(
    session: AsyncSession, contest: str, *, statuses: tuple[str, ...] | None = None
) -> list[Proposal]:
    query = select(Proposal).where(Proposal.contest == contest)
    if statuses:
        query = query.where(Proposal.status.in_(statuses))
    return list(await session.scalars(query.order_by(Proposal.id)))


async def touch(session: AsyncSession, proposal: Proposal) -> None:
    proposal.updated_at = utcnow()
    await session.flush()


async def set_answer(session: AsyncSession, proposal: Proposal, question: str, value: Any) -> None:
    # A new dict, so the JSON column is seen as changed.
    proposal.answers = {**proposal.answers, question: value}
    await touch(session, proposal)


async def mark_done(session: AsyncSession, proposal: Proposal, step: str) -> None:
    """The applicant confirmed `step` of the flow (e.g. the budget is complete)."""
    proposal.progress = {**(proposal.progress or {}), step: True}
    await touch(session, proposal)


async def drop_answers(session: AsyncSession, proposal: Proposal, questions: list[str]) -> None:
    if questions:
        proposal.answers = {k: v for k, v in proposal.answers.items() if k not in questions}
        await touch(session, proposal)


async def set_budget(
    session: AsyncSession, proposal: Proposal, lines: list[dict[str, str]]
) -> None:
    proposal.budget = [dict(line) for line in lines]
    await touch(session, proposal)


async def record(
    session: AsyncSession,
    proposal: Proposal,
    kind: str,
    *,
    to_status: str | None = None,
    actor: int | None = None,
    note: str | None = None,
) -> None:
    """Write a history row; with `to_status`, also change the status."""
    from_status = proposal.status
    if to_status is not None:
        proposal.status = to_status
    session.add(
        ProposalHistory(
            proposal_id=proposal.id,
            at=utcnow(),
            kind=kind,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            note=note,
        )
    )
    await touch(session, proposal)


async def next_number(session: AsyncSession, *, contest: str, prefix: str) -> str:
    """`PREFIX-007`: one more than the highest number given in this contest."""
    numbers = await session.scalars(
        select(Proposal.number).where(Proposal.contest == contest, Proposal.number.is_not(None))
    )
    highest = max((int(n.rsplit("-", 1)[1]) for n in numbers if n), default=0)
    return f"{prefix}-{highest + 1:03d}"


async def history(session: AsyncSession, proposal_id: int) -> list[ProposalHistory]:
    return list(
        await session.scalars(
            select(ProposalHistory)
            .where(ProposalHistory.proposal_id == proposal_id)
            .order_by(ProposalHistory.id)
        )
    )


async def attachments(session: AsyncSession, proposal_id: int) -> list[ProposalAttachment]:
    return list(
        await session.scalars(
            select(ProposalAttachment)
            .where(ProposalAttachment.proposal_id == proposal_id)
            .order_by(ProposalAttachment.id)
        )
    )


async def add_attachment(
    session: AsyncSession, *, proposal: Proposal, name: str, mime_type: str, size: int, path: str
) -> ProposalAttachment:
    attachment = ProposalAttachment(
        proposal_id=proposal.id,
        name=name,
        mime_type=mime_type,
        size=size,
        path=path,
        created_at=utcnow(),
    )
    session.add(attachment)
    await touch(session, proposal)
    return attachment


async def remove_attachment(
    session: AsyncSession, proposal: Proposal, attachment_id: int
) -> ProposalAttachment | None:
    """Delete one of the proposal's files (its row); the caller deletes the file itself."""
    attachment = await session.get(ProposalAttachment, attachment_id)
    if attachment is None or attachment.proposal_id != proposal.id:
        return None
    await session.delete(attachment)
    await touch(session, proposal)
    return attachment


async def take_snapshot(session: AsyncSession, proposal: Proposal, kind: str) -> ProposalSnapshot:
    """Keep the proposal as it is now submitted: answers, budget and the files' names."""
    files = [a.name for a in await attachments(session, proposal.id)]
    snapshot = ProposalSnapshot(
        proposal_id=proposal.id,
        taken_at=utcnow(),
        kind=kind,
        answers=dict(proposal.answers),
        budget=[dict(line) for line in proposal.budget],
        files=files,
    )
    session.add(snapshot)
    await session.flush()
    return snapshot


async def snapshots(session: AsyncSession, proposal_id: int) -> list[ProposalSnapshot]:
    """The proposal as submitted each time, oldest first."""
    return list(
        await session.scalars(
            select(ProposalSnapshot)
            .where(ProposalSnapshot.proposal_id == proposal_id)
            .order_by(ProposalSnapshot.id)
        )
    )


async def counts_by_status(session: AsyncSession, contest: str) -> dict[str, int]:
    rows = await session.execute(
        select(Proposal.status, func.count())
        .where(Proposal.contest == contest)
        .group_by(Proposal.status)
    )
    return {status: count for status, count in rows.all()}


async def forget_resident(
    session: AsyncSession, *, resident_id: int, kept_fields: list[str]
) -> list[str]:
    """For /forget; returns the attachment files to delete once committed.

    Drafts go. A submitted proposal stays as a record of the grant procedure,
    unlinked: number, status, dates, the answers in `kept_fields` (the title and
    closed answers, decided by the contest) and the budget's amounts; the other
    answers, the budget items' text, notes in its history and outcome, comments on
    its scores, its snapshots and its files go (see `storage.personal_map`).
    """
    paths: list[str] = []
    for proposal in await of_resident(session, resident_id):
        files = await attachments(session, proposal.id)
        paths += [a.path for a in files]
        await session.execute(
            delete(ProposalSnapshot).where(ProposalSnapshot.proposal_id == proposal.id)
        )
        if proposal.status == DRAFT:
            await session.delete(proposal)
            continue
        for attachment in files:
            await session.delete(attachment)
        proposal.answers = {k: v for k, v in proposal.answers.items() if k in kept_fields}
        proposal.budget = [{"item": "", "amount": line.get("amount")} for line in proposal.budget]
        proposal.resident_id = None
        await session.execute(
            update(ProposalHistory)
            .where(ProposalHistory.proposal_id == proposal.id)
            .values(note=None)
        )
        await session.execute(
            update(ContestOutcome)
            .where(ContestOutcome.proposal_id == proposal.id)
            .values(note=None)
        )
        await session.execute(
            update(ProposalScore)
            .where(ProposalScore.proposal_id == proposal.id)
            .values(comment=None)
        )
    await session.flush()
    return paths
