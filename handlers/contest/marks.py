"""Storing a coordinator's marks: the same checks for the chat's buttons and the web panel."""

from __future__ import annotations

from types import EllipsisType

from handlers.contest import records
from handlers.contest.model import Contest
from handlers.core.context import Context
from handlers.core.events import Reply
from storage import events
from storage import scores as score_store
from storage.proposals import Proposal


async def save_mark(
    ctx: Context,
    contest: Contest,
    proposal: Proposal,
    index: int,
    mark: int,
    comment: str | None | EllipsisType = ...,
) -> Reply | None:
    """Store the coordinator's mark on criterion `index`; the refusal, or None when stored."""
    if proposal.status not in records.SCOREABLE:
        return ctx.reply("review.not_scoreable", number=records.label(proposal))
    criterion = contest.criteria[index]
    if not criterion.scale.min <= mark <= criterion.scale.max:
        return ctx.reply("input.stale_button")
    assert ctx.event.user_id is not None
    await score_store.set_score(
        ctx.session,
        proposal_id=proposal.id,
        coordinator_id=ctx.event.user_id,
        criterion=criterion.id,
        value=mark,
        comment=comment,
    )
    return None


async def scored(ctx: Context, proposal: Proposal) -> None:
    """The event of a coordinator having scored every criterion of `proposal`."""
    await events.record(
        ctx.session,
        "proposal_scored",
        data={"number": proposal.number, "by": ctx.event.user_id},
    )
