"""The applicant's own proposals: /myproposals, opening, showing and withdrawing one.

A proposal returned for changes opens with the coordinator's note and the
deadline for the changes; a submitted one offers its files to add or remove
while the call is open.

Also what /forget does to proposals: drafts go; submitted ones stay (the grant's
accounting needs them) unlinked, with only the title, closed answers and amounts.
"""

from __future__ import annotations

from handlers.contest import proposal as applicant_flow
from handlers.contest.buttons import (
    MineFiles,
    MineNew,
    MineOpen,
    MineShow,
    MineWithdraw,
    MineWithdrawYes,
)
from handlers.contest.draft import closed_reply, contest_of, editable, files_open, when
from handlers.contest.model import Contest
from handlers.contest.proposal_submit import returned_deadline, summary_text
from handlers.core.context import Context
from handlers.core.events import Button, Reply
from handlers.core.forms import QuestionType
from handlers.core.routing import Router
from storage import erasure, events
from storage import proposals as store
from storage.proposals import Proposal

WITHDRAWABLE = (store.SUBMITTED, store.UNDER_REVIEW, store.CHANGES_REQUESTED)
router = Router("contest.proposal_mine")


@router.command("myproposals", needs_consent=True, order=37)
async def my_proposals(ctx: Context) -> list[Reply]:
    assert ctx.resident is not None
    contest = contest_of(ctx)
    mine = await store.of_resident(ctx.session, ctx.resident.id)
    if contest is None or not mine:
        return [ctx.reply("proposal.none_yet")]
    lines, buttons = [ctx.t("proposal.mine_title")], []
    for proposal in mine:
        title = proposal.answers.get(contest.title_field) or ctx.t("proposal.untitled")
        label = proposal.number or ctx.t("proposal.draft_label")
        status = ctx.t(f"proposal.status.{proposal.status}")
        lines.append(f"• {label}: {title} – {status}")
        if proposal.status == store.CHANGES_REQUESTED:
            lines.append("  " + returned_deadline(ctx, contest, proposal))
        if editable(ctx, contest, proposal):
            buttons.append([ctx.button("proposal.open", MineOpen(proposal.id), label=label)])
        else:
            buttons.append([ctx.button("proposal.show", MineShow(proposal.id), label=label)])
        if proposal.status == store.SUBMITTED and files_open(ctx, contest, proposal):
            buttons.append([ctx.button("proposal.files_open", MineFiles(proposal.id), label=label)])
        if proposal.status in WITHDRAWABLE and ctx.services.clock() < contest.closes:
            buttons.append(
                [ctx.button("proposal.withdraw", MineWithdraw(proposal.id), label=label)]
            )
    return [Reply("\n".join(lines), buttons)]


@router.choice(MineNew)
async def on_new(ctx: Context, pressed: MineNew) -> list[Reply]:
    contest = contest_of(ctx)
    if contest is None:
        return [ctx.reply("proposal.no_contest")]
    closed = closed_reply(ctx, contest)
    return [closed] if closed else await applicant_flow.start_new(ctx, contest)


async def returned(ctx: Context, contest: Contest, proposal: Proposal) -> Reply:
    """Why the proposal came back: the coordinator's note and the deadline for changes."""
    asked = [
        h
        for h in await store.history(ctx.session, proposal.id)
        if h.to_status == store.CHANGES_REQUESTED
    ]
    title = proposal.answers.get(contest.title_field) or ctx.t("proposal.untitled")
    parts = [ctx.t("proposal.returned", number=proposal.number, title=title)]
    note = asked[-1].note if asked else None
    if note:
        parts.append(ctx.t("proposal.returned_note", note=note))
    parts.append(returned_deadline(ctx, contest, proposal))
    parts.append(ctx.t("proposal.returned_how"))
    return Reply("\n\n".join(parts))


@router.choice(MineFiles)
async def on_files(ctx: Context, pressed: MineFiles) -> list[Reply]:
    """A submitted proposal's files, to add or remove while the call is open."""
    assert ctx.resident is not None
    contest = contest_of(ctx)
    if contest is None:
        return [ctx.reply("proposal.no_contest")]
    proposal = await store.get(ctx.session, pressed.proposal)
    if proposal is None or proposal.resident_id != ctx.resident.id:
        return [ctx.reply("input.stale_button")]
    if proposal.status != store.SUBMITTED or not files_open(ctx, contest, proposal):
        return [ctx.reply("proposal.not_editable")]
    return await applicant_flow.open_files(ctx, contest, proposal)


@router.choice(MineOpen, MineShow, MineWithdraw, MineWithdrawYes)
async def on_mine(
    ctx: Context, pressed: MineOpen | MineShow | MineWithdraw | MineWithdrawYes
) -> list[Reply]:
    assert ctx.resident is not None
    contest = contest_of(ctx)
    if contest is None:
        return [ctx.reply("proposal.no_contest")]
    proposal = await store.get(ctx.session, pressed.proposal)
    if proposal is None or proposal.resident_id != ctx.resident.id:
        return [ctx.reply("input.stale_button")]
    if isinstance(pressed, MineOpen):
        if not editable(ctx, contest, proposal):
            return [ctx.reply("proposal.not_editable")]
        if proposal.status == store.CHANGES_REQUESTED:
            return [
                await returned(ctx, contest, proposal),
                *await applicant_flow.resume(ctx, contest, proposal),
            ]
        return await applicant_flow.resume(ctx, contest, proposal)
    if isinstance(pressed, MineShow):
        return [Reply(await summary_text(ctx, contest, proposal))]
    return await _withdraw(ctx, contest, proposal, confirmed=isinstance(pressed, MineWithdrawYes))


async def _withdraw(
    ctx: Context, contest: Contest, proposal: Proposal, *, confirmed: bool
) -> list[Reply]:
    if proposal.status not in WITHDRAWABLE:
        return [ctx.reply("input.stale_button")]
    if ctx.services.clock() >= contest.closes:
        return [ctx.reply("proposal.withdraw_closed", when=when(ctx, contest.closes))]
    if not confirmed:
        yes = Button(ctx.t("proposal.withdraw_yes"), MineWithdrawYes(proposal.id).pack())
        return [ctx.reply("proposal.withdraw_question", number=proposal.number, buttons=[[yes]])]
    await store.record(ctx.session, proposal, "withdrawn", to_status=store.WITHDRAWN)
    await events.record(
        ctx.session,
        "proposal_withdrawn",
        resident_id=proposal.resident_id,
        data={"number": proposal.number},
    )
    return [ctx.reply("proposal.withdrawn", number=proposal.number)]


# Closed answers name no one: they stay in a forgotten applicant's submitted proposal.
KEPT_TYPES = (
    QuestionType.SINGLE,
    QuestionType.MULTIPLE,
    QuestionType.SCALE,
    QuestionType.YESNO,
    QuestionType.NUMBER,
    QuestionType.DATE,
)


def kept_fields(contest: Contest) -> list[str]:
    """Answers a forgotten applicant's submitted proposal keeps: the title (published
    with the results, the grant's name in the accounting) and the closed answers."""
    return [contest.title_field] + [q.id for q in contest.form if q.type in KEPT_TYPES]


async def _forget_proposals(ctx: Context) -> None:
    assert ctx.resident is not None
    contest = contest_of(ctx)
    fields = kept_fields(contest) if contest else []
    paths = await store.forget_resident(
        ctx.session, resident_id=ctx.resident.id, kept_fields=fields
    )
    erasure.delete_files_after_commit(ctx.session, ctx.services.data_dir, paths)


router.forget_hook(_forget_proposals)
