"""The proposal flow's shared parts: where the applicant is, and what a step decides.

A step's handler (the budget, the files, the summary ...) does its work and
returns an `Outcome`: replies that end the flow, `Goto` a step, or `Onward` to
the first thing still missing. `handlers/contest/proposal.py` owns the table of
steps and carries the outcome out (moves the conversation, shows the step), so
no step module needs to know the others.

Conversation data (`handlers/core/flow_state.py`): `state` keeps the proposal id,
whether a field is being corrected from the summary, and whether only the files
are open (a submitted proposal); `pending` keeps what a multi-press question has
so far (or the budget line, the file being changed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from babel.dates import format_datetime

from handlers.contest.buttons import PROPOSAL
from handlers.contest.model import Contest
from handlers.core import flow_state
from handlers.core.context import Context
from handlers.core.events import Reply
from storage import conversations, on_behalf
from storage import proposals as store
from storage.models import Conversation
from storage.proposals import Proposal

STATE_KEYS = ("proposal", "editing", "files_only")
# Files can be added and removed in these, until the deadline.
FILES_OPEN = (store.DRAFT, store.SUBMITTED, store.CHANGES_REQUESTED)


def contest_of(ctx: Context) -> Contest | None:
    return ctx.services.contest


def when(ctx: Context, moment: datetime) -> str:
    local = moment.astimezone(ctx.services.timezone)
    return format_datetime(local, "d MMMM y, HH:mm", locale=ctx.language)


def closed_reply(ctx: Context, contest: Contest) -> Reply | None:
    """Why no submission is possible now, or None while the contest is open."""
    now = ctx.services.clock()
    name = contest.name.get(ctx.language)
    if contest.opens is not None and now < contest.opens:
        return ctx.reply("proposal.not_yet_open", name=name, when=when(ctx, contest.opens))
    if now >= contest.closes:
        return ctx.reply("proposal.closed", name=name, when=when(ctx, contest.closes))
    return None


def call_open(ctx: Context) -> bool:
    """Whether a proposal can be submitted now (a contest is set and its call is open)."""
    contest = contest_of(ctx)
    return contest is not None and closed_reply(ctx, contest) is None


def deadline(contest: Contest, proposal: Proposal) -> datetime | None:
    """Until when the applicant may change it: the date the coordinator set when
    returning it (None if they set none), else the call's close."""
    if proposal.status == store.CHANGES_REQUESTED:
        return proposal.edit_until
    return contest.closes


def _before_deadline(ctx: Context, contest: Contest, proposal: Proposal) -> bool:
    limit = deadline(contest, proposal)
    return limit is None or ctx.services.clock() < limit


def editable(ctx: Context, contest: Contest, proposal: Proposal) -> bool:
    """The whole proposal can be changed: a draft, or one returned for changes."""
    return proposal.status in store.EDITABLE and _before_deadline(ctx, contest, proposal)


def files_open(ctx: Context, contest: Contest, proposal: Proposal) -> bool:
    """Its files can be added or removed: also after submitting, until the deadline."""
    return proposal.status in FILES_OPEN and _before_deadline(ctx, contest, proposal)


@dataclass
class Position:
    contest: Contest
    proposal: Proposal
    conversation: Conversation
    step: str
    editing: bool
    pending: dict[str, Any]
    files_only: bool = False


async def position(ctx: Context) -> Position | list[Reply]:
    """Where the applicant is; or the replies that end a flow that cannot go on."""
    assert ctx.resident is not None
    conversation = await conversations.current(ctx.session, ctx.resident.id)
    assert conversation is not None and conversation.flow == PROPOSAL
    data = flow_state.read(conversation.answers, STATE_KEYS)
    contest = contest_of(ctx)
    proposal = await store.get(ctx.session, int(data.state.get("proposal", 0)))
    if contest is None or proposal is None or not await _may_fill(ctx, proposal):
        await conversations.end(ctx.session, ctx.resident.id)
        return [ctx.reply("proposal.gone")]
    files_only = bool(data.state.get("files_only"))
    if not (files_open if files_only else editable)(ctx, contest, proposal):
        await conversations.end(ctx.session, ctx.resident.id)
        if proposal.status == store.CHANGES_REQUESTED:
            assert proposal.edit_until is not None
            return [ctx.reply("proposal.edits_closed", when=when(ctx, proposal.edit_until))]
        closed = closed_reply(ctx, contest)
        return [closed] if closed else [ctx.reply("proposal.gone")]
    editing = bool(data.state.get("editing"))
    return Position(
        contest, proposal, conversation, conversation.step, editing, data.pending, files_only
    )


async def _may_fill(ctx: Context, proposal: Proposal) -> bool:
    """The applicant, or the coordinator who enters it on the applicant's behalf."""
    assert ctx.resident is not None
    if proposal.resident_id == ctx.resident.id:
        return True
    return ctx.is_coordinator and ctx.event.user_id == await on_behalf.entered_by(
        ctx.session, proposal_id=proposal.id
    )


@dataclass(frozen=True)
class Goto:
    """Show `step` next; `said` goes before it, `editing` None keeps the current mode."""

    step: str
    pending: dict[str, Any] = field(default_factory=dict)
    editing: bool | None = None
    replace: bool = False
    said: tuple[Reply, ...] = ()


@dataclass(frozen=True)
class Onward:
    """Show the first thing still missing (the summary, when correcting a field)."""


Outcome = list[Reply] | Goto | Onward
