"""The proposal flow's budget step, and changing or removing any of its lines.

Budget: each typed line (`item amount`) is checked and added at once; every
line has a button that opens it, `undo` drops the last one, `done` checks the
whole budget against the cap. An opened line (step `bline`, pending: the line's
number and what it was) takes a typed new line ("item – amount") or a bare
amount, or, after its button, a new name alone; each change and the removal are
confirmed first, and "back" returns to the list. Amounts are read by
`handlers/contest/budget.py` as strictly as when adding. The steps return an
`Outcome` for the flow module to carry out.
"""

from __future__ import annotations

from typing import Any

from handlers.contest import budget as money_rules
from handlers.contest.buttons import BUDGET, BUDGET_LINE, BudgetPick, BudgetPress, LinePress
from handlers.contest.draft import Goto, Onward, Outcome, Position
from handlers.contest.model import Contest
from handlers.core.context import Context
from handlers.core.events import Kind, Reply
from handlers.core.flow import InvalidAnswer
from handlers.core.labels import cut_label
from storage import proposals as store
from storage.proposals import Proposal

# How much of an item's name a line's button shows (Telegram cuts longer labels).
LABEL_ITEM = 28


def shown(ctx: Context, contest: Contest) -> dict[str, str]:
    """How amounts are written for this reader: their language, the call's currency."""
    return {"language": ctx.language, "currency": contest.currency}


def line_text(ctx: Context, contest: Contest, line: money_rules.Line) -> str:
    return f"{line.item} – {money_rules.money(line.amount, **shown(ctx, contest))}"


# --- the list -----------------------------------------------------------------------


async def budget_view(
    ctx: Context, contest: Contest, proposal: Proposal, pending: dict[str, Any]
) -> Reply:
    lines = money_rules.lines_of(proposal.budget)
    written = shown(ctx, contest)
    parts = [
        ctx.t(
            "proposal.budget_prompt", cap=money_rules.money(contest.cap_per_initiative, **written)
        )
    ]
    buttons = []
    if lines:
        parts.append("")
        parts += [f"{n}. {line_text(ctx, contest, line)}" for n, line in enumerate(lines, start=1)]
        parts.append(
            ctx.t(
                "proposal.budget_total",
                total=money_rules.money(money_rules.total(lines), **written),
            )
        )
        parts += ["", ctx.t("proposal.budget_pick_hint")]
        buttons = [
            [
                ctx.button(
                    "proposal.budget_line_button",
                    BudgetPick(index),
                    number=index + 1,
                    item=cut_label(line.item, LABEL_ITEM),
                    amount=money_rules.money(line.amount, **shown(ctx, contest)),
                )
            ]
            for index, line in enumerate(lines)
        ]
        buttons.append([ctx.button("proposal.budget_undo", BudgetPress("undo"))])
    buttons.append([ctx.button("proposal.budget_done", BudgetPress("done"))])
    return Reply("\n".join(parts), buttons)


async def budget_line(ctx: Context, at: Position) -> Outcome:
    text = ctx.event.text if ctx.event.kind is Kind.TEXT else None
    if text is None:
        raise InvalidAnswer("flow.invalid.type_it")
    lines = money_rules.lines_of(at.proposal.budget)
    if len(lines) >= money_rules.MAX_LINES:
        raise InvalidAnswer("budget.invalid.too_many_lines", max=money_rules.MAX_LINES)
    line = money_rules.parse_line(
        text,
        cap=at.contest.cap_per_initiative,
        language=ctx.language,
        currency=at.contest.currency,
    )
    await store.set_budget(ctx.session, at.proposal, [*at.proposal.budget, line.as_dict()])
    return Goto(BUDGET)


async def budget_pressed(ctx: Context, at: Position, pressed: BudgetPress | BudgetPick) -> Outcome:
    if isinstance(pressed, BudgetPick):
        if pressed.line >= len(at.proposal.budget):
            raise InvalidAnswer("input.stale_button")
        was = dict(at.proposal.budget[pressed.line])
        return Goto(BUDGET_LINE, {"line": pressed.line, "was": was}, replace=True)
    if pressed.choice == "undo":
        await store.set_budget(ctx.session, at.proposal, at.proposal.budget[:-1])
        return Goto(BUDGET)
    money_rules.check_complete(
        money_rules.lines_of(at.proposal.budget),
        cap=at.contest.cap_per_initiative,
        language=ctx.language,
        currency=at.contest.currency,
    )
    await store.mark_done(ctx.session, at.proposal, BUDGET)
    return Onward()


# --- one line -------------------------------------------------------------------------


async def line_view(
    ctx: Context, contest: Contest, proposal: Proposal, pending: dict[str, Any]
) -> Reply:
    number = int(pending.get("line", 0)) + 1
    [was] = money_rules.lines_of([pending["was"]])
    back = [ctx.button("proposal.line_back", LinePress("back"))]
    if pending.get("remove"):
        text = ctx.t(
            "proposal.line_remove_question", number=number, line=line_text(ctx, contest, was)
        )
        return Reply(text, [[ctx.button("proposal.line_remove_yes", LinePress("yes"))], back])
    if "new" in pending:
        [new] = money_rules.lines_of([pending["new"]])
        text = ctx.t(
            "proposal.line_change_question",
            number=number,
            was=line_text(ctx, contest, was),
            new=line_text(ctx, contest, new),
        )
        return Reply(text, [[ctx.button("proposal.line_change_yes", LinePress("yes"))], back])
    if pending.get("name_only"):
        text = ctx.t(
            "proposal.line_name_prompt",
            number=number,
            line=line_text(ctx, contest, was),
            amount=money_rules.money(was.amount, **shown(ctx, contest)),
            currency=contest.currency,
        )
        return Reply(text, [back])
    text = ctx.t("proposal.line_prompt", number=number, line=line_text(ctx, contest, was))
    return Reply(
        text,
        [
            [ctx.button("proposal.line_name", LinePress("name"))],
            [ctx.button("proposal.line_remove", LinePress("remove"))],
            back,
        ],
    )


async def line_typed(ctx: Context, at: Position) -> Outcome:
    """A new line, a bare amount, or (after "name only") a new name: asks to confirm."""
    text = ctx.event.text if ctx.event.kind is Kind.TEXT else None
    if text is None:
        raise InvalidAnswer("flow.invalid.type_it")
    [was] = money_rules.lines_of([at.pending["was"]])
    cap = at.contest.cap_per_initiative
    if at.pending.get("name_only"):
        new = money_rules.Line(money_rules.item_name(text), was.amount)
    else:
        amount = money_rules.parse_amount(text, cap=cap, **shown(ctx, at.contest))
        new = (
            money_rules.parse_line(text, cap=cap, **shown(ctx, at.contest))
            if amount is None
            else money_rules.Line(was.item, amount)
        )
    pending = {"line": at.pending["line"], "was": at.pending["was"], "new": new.as_dict()}
    return Goto(BUDGET_LINE, pending)


async def line_pressed(ctx: Context, at: Position, pressed: LinePress) -> Outcome:
    kept = {"line": at.pending.get("line"), "was": at.pending.get("was")}
    if pressed.choice == "back":
        return Goto(BUDGET, replace=True)
    if pressed.choice == "name":
        return Goto(BUDGET_LINE, {**kept, "name_only": True}, replace=True)
    if pressed.choice == "remove":
        return Goto(BUDGET_LINE, {**kept, "remove": True}, replace=True)
    return await _apply(ctx, at)


async def _apply(ctx: Context, at: Position) -> Outcome:
    """The confirmed change or removal, if the line is still what was opened."""
    index, was = at.pending.get("line"), at.pending.get("was")
    budget = list(at.proposal.budget)
    still = isinstance(index, int) and index < len(budget) and budget[index] == was
    if not still or not (at.pending.get("remove") or "new" in at.pending):
        return Goto(BUDGET, said=(ctx.reply("input.stale_button"),))
    assert isinstance(index, int)
    if at.pending.get("remove"):
        del budget[index]
        said = ctx.reply("proposal.line_removed", number=index + 1)
    else:
        budget[index] = dict(at.pending["new"])
        said = ctx.reply("proposal.line_changed", number=index + 1)
    await store.set_budget(ctx.session, at.proposal, budget)
    return Goto(BUDGET, said=(said,))
