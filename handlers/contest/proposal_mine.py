"""The applicant's own proposals: /myproposals, opening, showing and withdrawing one.

A proposal returned for changes opens with the coordinator's note and the
deadline for the changes; a submitted one offers its files to add or remove
while the call is open.

A withdrawal asks first (with a way back) and can be undone while the call is
open: the proposal returns to the status it had, both steps in its history.

Also what /forget does to proposals: drafts go; submitted ones stay (the grant's
accounting needs them) unlinked, with only the title, closed answers and amounts.
"""

from __future__ import annotations

from handlers.contest import proposal as applicant_flow
from handlers.contest.buttons import (
    MineFiles,
    MineNew,
    MineOpen,
    MineRestore,
    MineShow,
    MineWithdraw,
    MineWithdrawNo,
    MineWithdrawYes,
)
from handlers.contest.draft import closed_reply, contest_of, editable, files_open, when
from handlers.contest.model import Contest
from handlers.contest.notices import tell_coordinators
from handlers.contest.proposal_submit import returned_deadline, summary_text
from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.forms import QuestionType
from handlers.core.menu import with_menu
from handlers.core.routing import Router
from storage import erasure, events
from storage import proposals as store
from storage.proposals import Proposal

WITHDRAWABLE = (store.SUBMITTED, store.UNDER_REVIEW, store.CHANGES_REQUESTED)
# The proposal's history rows of a withdrawal and of its undoing.
WITHDRAWN_KIND, RESTORED_KIND = "withdrawn", "withdrawal_undone"
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
        if ctx.services.clock() < contest.closes:
            if proposal.status in WITHDRAWABLE:
                buttons.append(
                    [ctx.button("proposal.withdraw", MineWithdraw(proposal.id), label=label)]
                )
            elif proposal.status == store.WITHDRAWN:
                buttons.append(
                    [ctx.button("proposal.restore", MineRestore(proposal.id), label=label)]
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


async def _own(ctx: Context, proposal_id: int) -> tuple[Contest, Proposal] | list[Reply]:
    """The contest and the applicant's own proposal a button names; else what to say."""
    assert ctx.resident is not None
    contest = contest_of(ctx)
    if contest is None:
        return [ctx.reply("proposal.no_contest")]
    proposal = await store.get(ctx.session, proposal_id)
    if proposal is None or proposal.resident_id != ctx.resident.id:
        return [ctx.reply("input.stale_button")]
    return contest, proposal


@router.choice(MineFiles)
async def on_files(ctx: Context, pressed: MineFiles) -> list[Reply]:
    """A submitted proposal's files, to add or remove while the call is open."""
    found = await _own(ctx, pressed.proposal)
    if isinstance(found, list):
        return found
    contest, proposal = found
    if proposal.status != store.SUBMITTED or not files_open(ctx, contest, proposal):
        return [ctx.reply("proposal.not_editable")]
    return await applicant_flow.open_files(ctx, contest, proposal)


Pressed = MineOpen | MineShow | MineWithdraw | MineWithdrawYes | MineWithdrawNo | MineRestore


@router.choice(MineOpen, MineShow, MineWithdraw, MineWithdrawYes, MineWithdrawNo, MineRestore)
async def on_mine(ctx: Context, pressed: Pressed) -> list[Reply]:
    found = await _own(ctx, pressed.proposal)
    if isinstance(found, list):
        return found
    contest, proposal = found
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
    if isinstance(pressed, MineWithdrawNo):
        kept = ctx.reply("proposal.withdraw_kept", number=proposal.number)
        return await with_menu(ctx, [kept])
    if isinstance(pressed, MineRestore):
        return await _restore(ctx, contest, proposal)
    return await _withdraw(ctx, contest, proposal, confirmed=isinstance(pressed, MineWithdrawYes))


async def _withdraw(
    ctx: Context, contest: Contest, proposal: Proposal, *, confirmed: bool
) -> list[Reply]:
    if proposal.status not in WITHDRAWABLE:
        return [ctx.reply("input.stale_button")]
    if ctx.services.clock() >= contest.closes:
        return [ctx.reply("proposal.withdraw_closed", when=when(ctx, contest.closes))]
    until = when(ctx, contest.closes)
    if not confirmed:
        buttons = ctx.yes_no(
            "proposal.withdraw_yes",
            MineWithdrawYes(proposal.id),
            "proposal.withdraw_no",
            MineWithdrawNo(proposal.id),
        )
        return [
            ctx.reply(
                "proposal.withdraw_question", number=proposal.number, when=until, buttons=buttons
            )
        ]
    await store.record(ctx.session, proposal, WITHDRAWN_KIND, to_status=store.WITHDRAWN)
    await tell_coordinators(
        ctx,
        contest,
        proposal,
        "proposal.coordinator_withdrawn",
        occasion=proposal.updated_at.isoformat(),
    )
    await events.record(
        ctx.session,
        "proposal_withdrawn",
        resident_id=proposal.resident_id,
        data={"number": proposal.number},
    )
    undo = ctx.button("proposal.restore_now", MineRestore(proposal.id))
    return [ctx.reply("proposal.withdrawn", number=proposal.number, when=until, buttons=[[undo]])]


async def _restore(ctx: Context, contest: Contest, proposal: Proposal) -> list[Reply]:
    """Undo the withdrawal: back to the status the proposal had, while the call is open."""
    if proposal.status != store.WITHDRAWN:
        return [ctx.reply("proposal.restore_not_withdrawn", number=proposal.number)]
    if ctx.services.clock() >= contest.closes:
        return [ctx.reply("proposal.restore_closed", when=when(ctx, contest.closes))]
    history = await store.history(ctx.session, proposal.id)
    withdrawals = [h for h in history if h.to_status == store.WITHDRAWN]
    before = withdrawals[-1].from_status if withdrawals else None
    if before not in WITHDRAWABLE:
        # Withdrawn by a coordinator, or from a status the applicant cannot return to.
        return [ctx.reply("proposal.restore_closed", when=when(ctx, contest.closes))]
    await store.record(ctx.session, proposal, RESTORED_KIND, to_status=before)
    await tell_coordinators(
        ctx,
        contest,
        proposal,
        "proposal.coordinator_restored",
        occasion=proposal.updated_at.isoformat(),
    )
    await events.record(
        ctx.session,
        "proposal_restored",
        resident_id=proposal.resident_id,
        data={"number": proposal.number},
    )
    status = ctx.t(f"proposal.status.{before}")
    return [ctx.reply("proposal.restored", number=proposal.number, status=status)]


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
