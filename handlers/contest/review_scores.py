"""Scoring, the ranking and the selection of winners, in the coordinators' chat.

Scoring goes criterion by criterion with the scale as buttons. Every press is
stored at once (per proposal, coordinator and criterion; pressing again replaces
it), so the buttons carry all they need (`ScoreMark(proposal, criterion, mark)`)
and no conversation state is kept: an old button only re-scores its criterion.

`/ranking` shows the weighted scores, how many coordinators scored, and the spread
between them (`handlers/contest/scoring.py`). `/select` proposes winners by rank within the
winner count and the budget, and lets the coordinator tick proposals in and out
before confirming; the ticks live in the coordinator's conversation (flow `rvsel`,
`answers.chosen`), and the confirmed outcome goes to `contest_outcomes`.

The /select flow has one step:

    pick   SelectToggle (tick in/out) -> pick;  SelectConfirm -> confirmed
           typed text -> "use the buttons"

Both buttons are valid only at that step (the router checks, `stateful=True`).
"""

from __future__ import annotations

from typing import Any

from handlers.contest import records, scoring
from handlers.contest.buttons import (
    PICK,
    SELECT,
    RankingOpen,
    ReviewShow,
    ScoreMark,
    ScoreShow,
    SelectConfirm,
    SelectLeave,
    SelectStart,
    SelectToggle,
)
from handlers.contest.marks import save_mark, scored
from handlers.contest.model import Contest
from handlers.contest.review import amount_text, score_summary
from handlers.contest.scoring import Ranked, Selection
from handlers.core.admin import AdminOpen, refuse
from handlers.core.context import Context
from handlers.core.events import Button, Reply
from handlers.core.routing import Router
from handlers.core.staff import working_row
from storage import conversations, events
from storage import proposals as store
from storage import scores as score_store
from storage.proposals import Proposal

POINTS_PER_ROW = 6
router = Router("contest.review_scores")


router.cancel_text(SELECT, "review.select_cancelled")


# --- scoring ------------------------------------------------------------------------------


@router.choice(ScoreShow, ScoreMark, coordinator_only=True)
async def on_score(ctx: Context, pressed: ScoreShow | ScoreMark) -> list[Reply]:
    """Show a criterion (no mark) or store a mark and show the next criterion."""
    contest = ctx.services.contest
    if contest is None:
        return [ctx.reply("input.stale_button")]
    proposal = await store.get(ctx.session, pressed.proposal)
    index = pressed.criterion
    if proposal is None or proposal.contest != contest.slug or index >= len(contest.criteria):
        return [ctx.reply("review.gone")]
    if proposal.status not in records.SCOREABLE:
        return [ctx.reply("review.not_scoreable", number=records.label(proposal))]
    if isinstance(pressed, ScoreShow):
        return [await _criterion(ctx, contest, proposal, index)]
    refused = await save_mark(ctx, contest, proposal, index, pressed.mark)
    if refused is not None:
        return [refused]
    if index + 1 < len(contest.criteria):
        reply = await _criterion(ctx, contest, proposal, index + 1)
        reply.replace = True
        return [reply]
    await scored(ctx, proposal)
    summary = await score_summary(ctx, contest, proposal)
    buttons = [
        [Button(ctx.t("review.ranking_button"), RankingOpen().pack())],
        [Button(ctx.t("review.back_to_proposal"), ReviewShow(proposal.id).pack())],
    ]
    text = ctx.t("review.scored", number=records.label(proposal)) + "\n\n" + summary
    return [Reply(text, buttons, replace=True)]


async def _criterion(ctx: Context, contest: Contest, proposal: Proposal, index: int) -> Reply:
    criterion = contest.criteria[index]
    scale = criterion.scale
    lines = [
        ctx.t(
            "review.score_title",
            number=records.label(proposal),
            title=records.title(contest, proposal),
        ),
        ctx.t(
            "review.criterion",
            index=index + 1,
            count=len(contest.criteria),
            text=criterion.text.get(ctx.language),
            weight=criterion.weight,
        ),
    ]
    if criterion.help is not None:
        lines.append(criterion.help.get(ctx.language))
    if scale.min_label is not None and scale.max_label is not None:
        lines.append(
            ctx.t(
                "survey.hint.scale_labels",
                min=scale.min,
                max=scale.max,
                min_label=scale.min_label.get(ctx.language),
                max_label=scale.max_label.get(ctx.language),
            )
        )
    else:
        lines.append(ctx.t("survey.hint.scale", min=scale.min, max=scale.max))
    mine = {
        s.criterion: s.value
        for s in await score_store.of_proposal(ctx.session, proposal.id)
        if s.coordinator_id == ctx.event.user_id
    }
    if criterion.id in mine:
        lines.append(ctx.t("review.current_mark", mark=mine[criterion.id]))
    points = [
        Button(str(p), ScoreMark(proposal.id, index, p).pack())
        for p in range(scale.min, scale.max + 1)
    ]
    rows = [points[i : i + POINTS_PER_ROW] for i in range(0, len(points), POINTS_PER_ROW)]
    if index > 0:
        back = ScoreShow(proposal.id, index - 1).pack()
        rows.append([Button(ctx.t("survey.back"), back)])
    return Reply("\n\n".join(lines), rows)


# --- the ranking ------------------------------------------------------------------------


@router.command("ranking", coordinator_only=True, order=95)
async def ranking_command(ctx: Context) -> list[Reply]:
    return await ranking(ctx)


@router.admin_action("ranking", "admin.ranking")
async def ranking_from_panel(ctx: Context, pressed: AdminOpen) -> list[Reply]:
    return await ranking(ctx)


async def ranking(ctx: Context) -> list[Reply]:
    contest = ctx.services.contest
    if contest is None:
        return [ctx.reply("review.no_contest")]
    standing = await records.standing(ctx.session, contest)
    if not standing.ranked:
        return [ctx.reply("review.ranking_empty")]
    low, high = standing.bounds
    lines = [ctx.t("review.ranking_title", name=contest.name.get(ctx.language), low=low, high=high)]
    for entry in standing.ranked:
        proposal = standing.proposal(entry)
        common: dict[str, Any] = {
            "number": records.label(proposal),
            "title": records.title(contest, proposal),
            "amount": amount_text(ctx, contest, entry.amount),
        }
        if entry.score is None:
            lines.append(ctx.t("review.ranking_unscored", **common))
            continue
        lines.append(
            ctx.t(
                "review.ranking_line",
                rank=entry.rank,
                score=records.number(entry.score, ctx.language),
                scorers=entry.scorers,
                spread=records.number(entry.spread, ctx.language),
                **common,
            )
        )
        if entry.unfinished:
            lines.append(ctx.t("review.ranking_unfinished", count=entry.unfinished))
    buttons = [[Button(ctx.t("review.select_button"), SelectStart().pack())]]
    return [Reply("\n".join(lines), buttons)]


# --- the selection ------------------------------------------------------------------------


@router.command("select", coordinator_only=True, order=96)
async def select_command(ctx: Context) -> list[Reply]:
    return await begin_selection(ctx)


async def begin_selection(ctx: Context) -> list[Reply]:
    """Propose winners (or show the confirmed ones again) and let the coordinator adjust."""
    contest = ctx.services.contest
    if contest is None:
        return [ctx.reply("review.no_contest")]
    standing = await records.standing(ctx.session, contest)
    ranked = selectable(standing)
    if not any(entry.rank is not None for entry in ranked):
        return [ctx.reply("review.select_nothing")]
    stored = await score_store.outcome(ctx.session, contest.slug)
    if any(o.announced_at is not None for o in stored):
        return [ctx.reply("review.select_announced")]
    confirmed = [o for o in stored if o.selected]
    if confirmed:
        chosen = [o.proposal_id for o in confirmed]
        opening = ctx.t("review.select_confirmed_before")
    else:
        proposal = scoring.propose(ranked, **limits(contest))
        chosen = list(proposal.chosen)
        opening = ctx.t("review.select_proposed")
    row = await working_row(ctx)
    await conversations.begin(
        ctx.session, resident_id=row.id, flow=SELECT, step=PICK, answers={"chosen": chosen}
    )
    return [_render(ctx, contest, standing, ranked, chosen, opening)]


def selectable(standing: records.Standing) -> list[Ranked]:
    return [e for e in standing.ranked if standing.proposal(e).status in records.SELECTABLE]


def limits(contest: Contest) -> dict[str, Any]:
    return {
        "budget": contest.budget_total,
        "min_winners": contest.winners.min,
        "max_winners": contest.winners.max,
    }


def _render(
    ctx: Context,
    contest: Contest,
    standing: records.Standing,
    ranked: list[Ranked],
    chosen: list[int],
    opening: str,
    *,
    replace: bool = False,
) -> Reply:
    selection = scoring.assess(chosen, ranked, **limits(contest))
    automatic = scoring.propose(ranked, **limits(contest))
    # While the choice is the automatic one, say which better proposals did not fit.
    skipped = automatic.skipped if set(chosen) == set(automatic.chosen) else ()
    lines = [opening, ""]
    buttons = []
    for entry in ranked:
        proposal = standing.proposal(entry)
        ticked = entry.proposal_id in chosen
        mark = "✅" if ticked else "▫️"
        common = {
            "mark": mark,
            "number": records.label(proposal),
            "title": records.title(contest, proposal),
            "amount": amount_text(ctx, contest, entry.amount),
        }
        if entry.rank is None:
            lines.append(ctx.t("review.select_line_unscored", **common))
        else:
            score = records.number(entry.score, ctx.language)
            lines.append(ctx.t("review.select_line", rank=entry.rank, score=score, **common))
        label = f"{mark} {records.label(proposal)}"
        buttons.append([Button(label, SelectToggle(entry.proposal_id).pack())])
    lines += ["", *verdict(ctx, contest, standing, selection, skipped)]
    buttons.append([Button(ctx.t("review.select_confirm"), SelectConfirm().pack())])
    buttons.append([Button(ctx.t("review.select_leave"), SelectLeave().pack())])
    return Reply("\n".join(lines), buttons, replace=replace)


def verdict(
    ctx: Context,
    contest: Contest,
    standing: records.Standing,
    selection: Selection,
    skipped: tuple[int, ...],
) -> list[str]:
    lines = [
        ctx.t(
            "review.select_total",
            count=len(selection.chosen),
            total=amount_text(ctx, contest, selection.total),
            budget=amount_text(ctx, contest, selection.budget),
            remaining=amount_text(ctx, contest, selection.remaining),
        )
    ]
    if skipped:
        numbers = ", ".join(records.label(standing.proposals[pid]) for pid in skipped)
        lines.append(ctx.t("review.select_skipped", numbers=numbers))
    if selection.over_budget:
        lines.append(ctx.t("review.select_over_budget"))
    if selection.too_many:
        lines.append(ctx.t("review.select_too_many", max=selection.max_winners))
    if selection.too_few:
        lines.append(ctx.t("review.select_too_few", min=selection.min_winners))
    return lines


@router.choice(RankingOpen, coordinator_only=True)
async def on_ranking(ctx: Context, pressed: RankingOpen) -> list[Reply]:
    return await ranking(ctx)


@router.choice(SelectStart, coordinator_only=True)
async def on_select_start(ctx: Context, pressed: SelectStart) -> list[Reply]:
    return await begin_selection(ctx)


@router.choice(SelectToggle, SelectConfirm, SelectLeave, coordinator_only=True, stateful=True)
async def on_select(
    ctx: Context, pressed: SelectToggle | SelectConfirm | SelectLeave
) -> list[Reply]:
    contest = ctx.services.contest
    assert ctx.resident is not None  # the router let a stateful button through
    if isinstance(pressed, SelectLeave):
        await conversations.end(ctx.session, ctx.resident.id)
        return [ctx.reply("review.select_cancelled")]
    conversation = await conversations.current(ctx.session, ctx.resident.id)
    if contest is None or conversation is None:
        return [ctx.reply("input.stale_button")]
    standing = await records.standing(ctx.session, contest)
    ranked = selectable(standing)
    chosen = [int(pid) for pid in conversation.answers.get("chosen", [])]
    if isinstance(pressed, SelectConfirm):
        return await confirm(ctx, contest, ranked, chosen)
    picked = pressed.proposal
    if picked not in {e.proposal_id for e in ranked}:
        return [ctx.reply("input.stale_button")]
    chosen = [pid for pid in chosen if pid != picked] if picked in chosen else [*chosen, picked]
    await conversations.advance(ctx.session, conversation, step=PICK, answers={"chosen": chosen})
    opening = ctx.t("review.select_adjusted")
    return [_render(ctx, contest, standing, ranked, chosen, opening, replace=True)]


async def confirm(
    ctx: Context, contest: Contest, ranked: list[Ranked], chosen: list[int]
) -> list[Reply]:
    selection = scoring.assess(chosen, ranked, **limits(contest))
    stored = await score_store.outcome(ctx.session, contest.slug)
    if any(o.announced_at is not None for o in stored):
        return [ctx.reply("review.select_announced")]
    if selection.over_budget:
        return [ctx.reply("review.select_refused_budget")]
    if selection.too_many:
        return [ctx.reply("review.select_refused_count", max=selection.max_winners)]
    decisions = [
        score_store.Decision(
            proposal_id=entry.proposal_id,
            selected=entry.proposal_id in selection.chosen,
            rank=entry.rank,
            amount=entry.amount,
        )
        for entry in ranked
    ]
    await score_store.store_outcome(
        ctx.session, contest=contest.slug, decisions=decisions, decided_by=ctx.event.user_id
    )
    assert ctx.resident is not None
    await conversations.end(ctx.session, ctx.resident.id)
    await events.record(
        ctx.session,
        "contest_outcome_confirmed",
        data={"contest": contest.slug, "selected": len(selection.chosen), "by": ctx.event.user_id},
    )
    return [
        ctx.reply(
            "review.select_done",
            count=len(selection.chosen),
            total=amount_text(ctx, contest, selection.total),
        )
    ]


@router.flow(SELECT, coordinator_only=True)
async def on_select_input(ctx: Context) -> list[Reply]:
    """Typing while the selection is open: it waits for buttons (or /cancel)."""
    if not ctx.is_coordinator:
        assert ctx.resident is not None
        await conversations.end(ctx.session, ctx.resident.id)
        return await refuse(ctx, "selection")
    return [ctx.reply("review.select_use_buttons")]
