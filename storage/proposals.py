"""Proposals of the local-initiatives contest: drafts, submissions, history, scores.

Models and queries live together here; `storage.models` imports this module so
Alembic and the metadata see the tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base
from storage.types import utcnow

DRAFT = "draft"
SUBMITTED = "submitted"
UNDER_REVIEW = "under_review"
CHANGES_REQUESTED = "changes_requested"
ACCEPTED = "accepted"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"
STATUSES = (DRAFT, SUBMITTED, UNDER_REVIEW, CHANGES_REQUESTED, ACCEPTED, REJECTED, WITHDRAWN)
# The applicant may change the proposal only while it is a draft, or when asked to.
EDITABLE = (DRAFT, CHANGES_REQUESTED)


class Proposal(Base):
    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contest: Mapped[str] = mapped_column(String(40), index=True)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(24), default=DRAFT, index=True)
    # Form answers by question id, in the shapes of the survey engine.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Budget lines: [{"item": str, "amount": "1234.50"}] (amounts as decimal strings).
    budget: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # The flow's own marks, apart from the answers: the steps the applicant
    # confirmed ({"budget": true, "files": true}).
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    language: Mapped[str] = mapped_column(String(8), default="pl")
    channel: Mapped[str] = mapped_column(String(16), default="telegram")
    source: Mapped[str] = mapped_column(String(16), default="chat")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    edit_until: Mapped[datetime | None]


class ProposalAttachment(Base):
    __tablename__ = "proposal_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    # Path relative to DATA_DIR.
    path: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProposalHistory(Base):
    """Every change of a proposal: submitted, status changes (with the note), edits."""

    __tablename__ = "proposal_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    actor: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)


class ProposalScore(Base):
    """One coordinator's score of one proposal on one criterion."""

    __tablename__ = "proposal_scores"
    __table_args__ = (UniqueConstraint("proposal_id", "coordinator_id", "criterion"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    coordinator_id: Mapped[int] = mapped_column(BigInteger)
    criterion: Mapped[str] = mapped_column(String(40))
    value: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ContestOutcome(Base):
    """The confirmed selection: one row per proposal decided on."""

    __tablename__ = "contest_outcomes"
    __table_args__ = (UniqueConstraint("contest", "proposal_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contest: Mapped[str] = mapped_column(String(40), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    selected: Mapped[bool]
    rank: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[Any] = mapped_column(Numeric(12, 2), nullable=True)
    note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    announced_at: Mapped[datetime | None]


class ResidentQuestion(Base):
    """A question sent with /ask, and the coordinator's answer."""

    __tablename__ = "resident_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(320))
    text: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[int | None] = mapped_column(BigInteger)


# --- queries ---------------------------------------------------------------------


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


async def counts_by_status(session: AsyncSession, contest: str) -> dict[str, int]:
    rows = await session.execute(
        select(Proposal.status, func.count())
        .where(Proposal.contest == contest)
        .group_by(Proposal.status)
    )
    return {status: count for status, count in rows.all()}


async def detach_resident(
    session: AsyncSession, *, resident_id: int, personal_fields: list[str]
) -> None:
    """For /forget: drafts go; submitted proposals stay as contest records, unlinked,
    without the applicant's contact fields."""
    for proposal in await of_resident(session, resident_id):
        if proposal.status == DRAFT:
            await session.delete(proposal)
            continue
        proposal.answers = {k: v for k, v in proposal.answers.items() if k not in personal_fields}
        proposal.resident_id = None
    await session.flush()
