"""What the scoring part of a proposal's page shows: one's own marks, the others' later.

Blind at first: what the other coordinators gave is shown only once one's own
marks are all saved, so the first scorer does not steer the second.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.contest import records
from handlers.contest.model import Contest
from handlers.contest.review import score_summary
from handlers.core.context import Context
from storage import scores as score_store
from storage.proposals import Proposal, ProposalScore


def complete(contest: Contest, scores: Iterable[ProposalScore], coordinator_id: int) -> bool:
    """Whether `coordinator_id` has marked every criterion (then the others' marks show)."""
    mine = {s.criterion for s in scores if s.coordinator_id == coordinator_id}
    return all(c.id in mine for c in contest.criteria)


async def scoring_view(
    session: AsyncSession, ctx: Context, contest: Contest, proposal: Proposal
) -> dict[str, Any]:
    """The scoring form with one's own marks, and the others' only when one's own are done."""
    coordinator_id = ctx.event.user_id
    assert coordinator_id is not None
    scores = await score_store.of_proposal(session, proposal.id)
    mine = {s.criterion: s for s in scores if s.coordinator_id == coordinator_id}
    done = complete(contest, scores, coordinator_id)
    criteria = [
        {
            "id": c.id,
            "text": c.text.get(ctx.language),
            "help": c.help.get(ctx.language) if c.help else "",
            "weight": c.weight,
            "points": list(range(c.scale.min, c.scale.max + 1)),
            "min_label": c.scale.min_label.get(ctx.language) if c.scale.min_label else "",
            "max_label": c.scale.max_label.get(ctx.language) if c.scale.max_label else "",
            "mine": mine[c.id].value if c.id in mine else None,
            "comment": (mine[c.id].comment or "") if c.id in mine else "",
        }
        for c in contest.criteria
    ]
    texts = {c.id: c.text.get(ctx.language) for c in contest.criteria}
    comments = [
        {
            "by": s.coordinator_id,
            "criterion": texts.get(s.criterion, s.criterion),
            "value": s.value,
            "comment": s.comment,
        }
        for s in scores
        if s.comment and s.coordinator_id != coordinator_id
    ]
    return {
        "scoreable": proposal.status in records.SCOREABLE,
        "criteria": criteria,
        "complete": done,
        "summary": await score_summary(ctx, contest, proposal) if done else "",
        "comments": comments if done else [],
    }
