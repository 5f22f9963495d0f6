"""Scores of contest proposals and the confirmed selection (the contest's outcome).

The tables live in `storage.proposals`; these are the queries the coordinators'
side needs. A score is one coordinator's mark for one proposal on one criterion:
scoring again replaces it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import EllipsisType

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.proposals import ContestOutcome, Proposal, ProposalScore
from storage.types import utcnow


async def set_score(
    session: AsyncSession,
    *,
    proposal_id: int,
    coordinator_id: int,
    criterion: str,
    value: int,
    comment: str | None | EllipsisType = ...,
) -> None:
    """Store the mark, replacing this coordinator's earlier mark on the criterion.

    `comment`: the reason for the mark; left as it was when not given.
    """
    score = await session.scalar(
        select(ProposalScore).where(
            ProposalScore.proposal_id == proposal_id,
            ProposalScore.coordinator_id == coordinator_id,
            ProposalScore.criterion == criterion,
        )
    )
    if score is None:
        session.add(
            ProposalScore(
                proposal_id=proposal_id,
                coordinator_id=coordinator_id,
                criterion=criterion,
                value=value,
                comment=None if comment is ... else comment,
                at=utcnow(),
            )
        )
    else:
        score.value = value
        if comment is not ...:
            score.comment = comment
        score.at = utcnow()
    await session.flush()


async def of_proposal(session: AsyncSession, proposal_id: int) -> list[ProposalScore]:
    return list(
        await session.scalars(
            select(ProposalScore)
            .where(ProposalScore.proposal_id == proposal_id)
            .order_by(ProposalScore.coordinator_id, ProposalScore.id)
        )
    )


async def of_contest(session: AsyncSession, contest: str) -> dict[int, list[ProposalScore]]:
    """Every score in the contest, by proposal id."""
    rows = await session.scalars(
        select(ProposalScore)
        .join(Proposal, Proposal.id == ProposalScore.proposal_id)
        .where(Proposal.contest == contest)
        .order_by(ProposalScore.proposal_id, ProposalScore.coordinator_id, ProposalScore.id)
    )
    found: dict[int, list[ProposalScore]] = {}
    for score in rows:
        found.setdefault(score.proposal_id, []).append(score)
    return found


@dataclass(frozen=True)
class Decision:
    """One proposal's place in a confirmed selection."""

    proposal_id: int
    selected: bool
    rank: int | None
    amount: Decimal


async def store_outcome(
    session: AsyncSession, *, contest: str, decisions: Sequence[Decision], decided_by: int | None
) -> None:
    """Replace the contest's outcome with these decisions (a later confirmation wins)."""
    await session.execute(delete(ContestOutcome).where(ContestOutcome.contest == contest))
    now = utcnow()
    for decision in decisions:
        session.add(
            ContestOutcome(
                contest=contest,
                proposal_id=decision.proposal_id,
                selected=decision.selected,
                rank=decision.rank,
                amount=decision.amount,
                decided_at=now,
                decided_by=decided_by,
            )
        )
    await session.flush()


async def outcome(session: AsyncSession, contest: str) -> list[ContestOutcome]:
    return list(
        await session.scalars(
            select(ContestOutcome)
            .where(ContestOutcome.contest == contest)
            .order_by(ContestOutcome.rank.is_(None), ContestOutcome.rank, ContestOutcome.id)
        )
    )
