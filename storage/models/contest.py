"""The local-initiatives contest: proposals, their files, history and scores, the
outcome, and residents' questions."""

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
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
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


class ProposalSnapshot(Base):
    """A proposal as it was submitted, each time: what the coordinators compare."""

    __tablename__ = "proposal_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "submitted" or "resubmitted", like the history row of the same moment.
    kind: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    budget: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # The attachments' names, in order.
    files: Mapped[list[Any]] = mapped_column(JSON, default=list)


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
    # The coordinator's reason for the mark (given in the web panel).
    comment: Mapped[str | None] = mapped_column(Text)
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
