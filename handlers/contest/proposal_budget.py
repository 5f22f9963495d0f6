"""The proposal flow's budget and attachments steps.

Budget: each typed line (`item amount`) is checked and added at once; `undo`
drops the last one, `done` checks the whole budget against the cap. Files: each
file sent is checked (count, size, and the type read from its bytes by
`file_types`), stored under DATA_DIR and listed; `done` moves on (no files is
allowed). Both steps return an `Outcome` for the
flow module to carry out.
"""

from __future__ import annotations

import re

from handlers.contest import budget as money_rules
from handlers.contest import file_types
from handlers.contest.buttons import BUDGET, FILES, BudgetPress, FilesDone
from handlers.contest.draft import Goto, Onward, Outcome, Position
from handlers.contest.model import Contest
from handlers.core.context import Context
from handlers.core.events import Kind, Reply
from handlers.core.flow import InvalidAnswer
from storage import proposals as store
from storage.proposals import Proposal

SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


# --- budget -----------------------------------------------------------------------


async def budget_view(ctx: Context, contest: Contest, proposal: Proposal) -> Reply:
    lines = money_rules.lines_of(proposal.budget)
    shown = {"language": ctx.language, "currency": contest.currency}
    parts = [
        ctx.t("proposal.budget_prompt", cap=money_rules.money(contest.cap_per_initiative, **shown))
    ]
    if lines:
        parts.append("")
        parts += [
            f"{n}. {line.item} – {money_rules.money(line.amount, **shown)}"
            for n, line in enumerate(lines, start=1)
        ]
        parts.append(
            ctx.t(
                "proposal.budget_total", total=money_rules.money(money_rules.total(lines), **shown)
            )
        )
    buttons = [[ctx.button("proposal.budget_done", BudgetPress("done"))]]
    if lines:
        buttons.insert(0, [ctx.button("proposal.budget_undo", BudgetPress("undo"))])
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


async def budget_pressed(ctx: Context, at: Position, pressed: BudgetPress) -> Outcome:
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


# --- attachments --------------------------------------------------------------------


async def files_view(ctx: Context, contest: Contest, proposal: Proposal) -> Reply:
    rules = contest.attachments
    stored = await store.attachments(ctx.session, proposal.id)
    parts = [
        ctx.t(
            "proposal.files_prompt",
            max_files=rules.max_files,
            max_mb=rules.max_megabytes,
            accepted=file_types.accepted_names(rules.types),
        )
    ]
    if stored:
        parts += ["", ctx.t("proposal.files_list", names=", ".join(a.name for a in stored))]
    key = "proposal.files_done" if stored else "proposal.files_none"
    return Reply("\n".join(parts), [[ctx.button(key, FilesDone("done"))]])


async def file_sent(ctx: Context, at: Position) -> Outcome:
    file = ctx.event.file
    rules = at.contest.attachments
    if ctx.event.kind is not Kind.FILE or file is None:
        raise InvalidAnswer(
            "proposal.files_send_file", accepted=file_types.accepted_names(rules.types)
        )
    stored = await store.attachments(ctx.session, at.proposal.id)
    if len(stored) >= rules.max_files:
        raise InvalidAnswer("proposal.files_too_many", count=rules.max_files)
    limit = int(rules.max_megabytes * 1024 * 1024)
    if file.content is None or len(file.content) > limit:
        raise InvalidAnswer("proposal.files_too_big", max_mb=rules.max_megabytes)
    # The type from the bytes, never the client's mime_type or the file's name.
    detected = file_types.detect(file.content, rules.types)
    if detected is None:
        raise InvalidAnswer(
            "proposal.files_wrong_type", accepted=file_types.accepted_names(rules.types)
        )
    number = len(stored) + 1
    name = file_types.stored_name(file.name, detected, number, safe=SAFE_NAME)
    relative = f"attachments/{at.proposal.id}/{number:02d}-{name}"
    path = ctx.services.data_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(file.content)
    await store.add_attachment(
        ctx.session,
        proposal=at.proposal,
        name=name,
        mime_type=detected.mime_type,
        size=len(file.content),
        path=relative,
    )
    return Goto(FILES, said=(ctx.reply("proposal.files_saved", name=name),))


async def files_pressed(ctx: Context, at: Position, pressed: FilesDone) -> Outcome:
    await store.mark_done(ctx.session, at.proposal, FILES)
    return Onward()
