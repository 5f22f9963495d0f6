"""Proposals for the local-initiatives contest: the applicant's flow.

`/propose` walks through the contest's form with the same step engine and form
runner as surveys, then the budget lines, the attachments and a summary where
any field can be changed before submitting. Every answer is saved to the draft
at once, so leaving, coming back days later or a restart resumes it.

Conversation: flow `proposal`, step a form step (`q3`, `q3o` ...) or one of
`STEPS` below; its data is described in `handlers/contest/draft.py`. Which
steps the applicant confirmed is kept on the proposal (`progress`), apart from
the answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from handlers.contest import proposal_budget as money_steps
from handlers.contest import proposal_files as file_steps
from handlers.contest import proposal_submit as last_steps
from handlers.contest.buttons import (
    BUDGET,
    BUDGET_LINE,
    FIELDS,
    FILE_REMOVE,
    FILES,
    PROPOSAL,
    SUMMARY,
    BudgetPick,
    BudgetPress,
    FieldPick,
    FilePick,
    FileRemove,
    FilesDone,
    LinePress,
    MineNew,
    ProposalPress,
    SummaryPress,
)
from handlers.contest.draft import (
    STATE_KEYS,
    Goto,
    Onward,
    Outcome,
    Position,
    call_open,
    closed_reply,
    contest_of,
    position,
)
from handlers.contest.model import Contest
from handlers.core import flow, flow_state
from handlers.core import form_runner as runner
from handlers.core.callbacks import CallbackData
from handlers.core.context import Context
from handlers.core.events import Button, Kind, Reply
from handlers.core.flow import InvalidAnswer
from handlers.core.routing import Router
from storage import conversations
from storage import proposals as store
from storage.models import Conversation
from storage.proposals import Proposal


@dataclass(frozen=True)
class FlowStep:
    """One step of the flow: what it shows, what a typed message and a press do."""

    view: Callable[[Context, Contest, Proposal, dict[str, Any]], Awaitable[Reply]]
    typed: Callable[[Context, Position], Awaitable[Outcome]] | None
    pressed: Callable[[Context, Position, Any], Awaitable[Outcome]]


# The steps after the form's questions. A step without `typed` waits for its buttons.
STEPS: dict[str, FlowStep] = {
    BUDGET: FlowStep(money_steps.budget_view, money_steps.budget_line, money_steps.budget_pressed),
    BUDGET_LINE: FlowStep(money_steps.line_view, money_steps.line_typed, money_steps.line_pressed),
    FILES: FlowStep(file_steps.files_view, file_steps.file_sent, file_steps.files_pressed),
    FILE_REMOVE: FlowStep(file_steps.remove_view, None, file_steps.remove_pressed),
    SUMMARY: FlowStep(last_steps.summary_view, None, last_steps.summary_pressed),
    FIELDS: FlowStep(last_steps.fields_view, None, last_steps.field_chosen),
}
# After the last question: each of these until the applicant confirms it, then the summary.
CONFIRMED_IN_ORDER = (BUDGET, FILES)
router = Router("contest.proposal")


router.cancel_text(PROPOSAL, "proposal.left")


@router.cancel_hook
async def _files_left(ctx: Context, conversation: Conversation) -> Reply | None:
    """/cancel while changing the files of a submitted proposal: there is no draft to
    come back to, and each file added or removed is kept already."""
    if conversation.flow != PROPOSAL:
        return None
    if not flow_state.read(conversation.answers, STATE_KEYS).state.get("files_only"):
        return None
    return ctx.reply("proposal.files_left")


# --- starting and resuming -------------------------------------------------------


@router.menu_item("propose", "menu.propose")
async def _propose_now(ctx: Context) -> bool:
    return call_open(ctx)


@router.command("propose", needs_consent=True, order=36)
async def propose(ctx: Context) -> list[Reply]:
    contest = contest_of(ctx)
    if contest is None:
        return [ctx.reply("proposal.no_contest")]
    closed = closed_reply(ctx, contest)
    if closed is not None:
        return [closed]
    assert ctx.resident is not None
    drafts = [
        p
        for p in await store.of_resident(ctx.session, ctx.resident.id)
        if p.contest == contest.slug and p.status == store.DRAFT
    ]
    if drafts and ctx.event.args.strip() != "new":
        draft = drafts[-1]
        title = draft.answers.get(contest.title_field) or ctx.t("proposal.untitled")
        new = Button(ctx.t("proposal.start_new"), MineNew().pack())
        return [
            ctx.reply("proposal.resume", title=title),
            *await resume(ctx, contest, draft),
            Reply(ctx.t("proposal.start_new_hint"), [[new]]),
        ]
    return await start_new(ctx, contest)


async def start_new(ctx: Context, contest: Contest) -> list[Reply]:
    assert ctx.resident is not None
    _, replies = await start_for(
        ctx, contest, resident_id=ctx.resident.id, channel=ctx.event.channel
    )
    return replies


async def start_for(
    ctx: Context, contest: Contest, *, resident_id: int, channel: str
) -> tuple[Proposal, list[Reply]]:
    """A new draft owned by `resident_id`, filled in this chat (by the applicant, or by
    a coordinator taking it over the phone): the intro and the first question."""
    proposal = await store.create_draft(
        ctx.session,
        contest=contest.slug,
        resident_id=resident_id,
        language=ctx.language,
        channel=channel,
    )
    await store.record(ctx.session, proposal, "created")
    intro = Reply(f"{contest.name.get(ctx.language)}\n\n{contest.intro.get(ctx.language)}")
    return proposal, [intro, *await resume(ctx, contest, proposal)]


async def resume(ctx: Context, contest: Contest, proposal: Proposal) -> list[Reply]:
    """Open a draft (or a proposal to change) at the first thing still missing."""
    return [await _go(ctx, contest, proposal, None, _onward(contest, proposal, editing=False))]


async def open_files(ctx: Context, contest: Contest, proposal: Proposal) -> list[Reply]:
    """Only the files of a submitted proposal, to add or remove until the deadline."""
    return [await _go(ctx, contest, proposal, None, Goto(FILES), files_only=True)]


def _onward(contest: Contest, proposal: Proposal, *, editing: bool) -> Goto:
    """The first thing still missing: a question, a step to confirm, the summary."""
    question = flow.next_unanswered(contest.form, proposal.answers)
    if question is not None:
        return Goto(runner.Step.start(contest.form, question).encode(), editing=editing)
    done = proposal.progress or {}
    for step in CONFIRMED_IN_ORDER:
        if not editing and not done.get(step):
            return Goto(step, editing=False)
    return Goto(SUMMARY, editing=False)


async def _go(
    ctx: Context,
    contest: Contest,
    proposal: Proposal,
    conversation: Conversation | None,
    goto: Goto,
    *,
    editing: bool = False,
    files_only: bool = False,
) -> Reply:
    """Move the conversation to the step and show it."""
    assert ctx.resident is not None
    mode = editing if goto.editing is None else goto.editing
    state = {"proposal": proposal.id, "editing": mode, "files_only": files_only}
    stored = flow_state.FlowData(state, goto.pending)
    if conversation is None:
        conversation = await conversations.current(ctx.session, ctx.resident.id)
    if conversation is None or conversation.flow != PROPOSAL:
        await conversations.begin(
            ctx.session,
            resident_id=ctx.resident.id,
            flow=PROPOSAL,
            step=goto.step,
            answers=stored.stored(),
        )
    else:
        await conversations.advance(
            ctx.session, conversation, step=goto.step, answers=stored.stored()
        )
    reply = await _render(ctx, contest, proposal, goto.step, goto.pending)
    reply.replace = goto.replace
    return reply


async def _render(
    ctx: Context, contest: Contest, proposal: Proposal, step: str, pending: dict[str, Any]
) -> Reply:
    if step in STEPS:
        return await STEPS[step].view(ctx, contest, proposal, pending)
    form_step = runner.Step.decode(step)
    assert form_step is not None
    question = contest.form[form_step.question]
    where = flow.progress(contest.form, proposal.answers, question.id)
    view = runner.View(
        press=ProposalPress,
        heading=ctx.t("proposal.progress", number=where.number, total=where.total),
        can_go_back=flow.previous(contest.form, proposal.answers, question.id) is not None,
    )
    return runner.render(ctx, view, question, form_step, proposal.answers, pending)


async def _follow(ctx: Context, at: Position, outcome: Outcome) -> list[Reply]:
    """Carry out what a step decided."""
    if isinstance(outcome, list):
        return outcome
    if isinstance(outcome, Onward):
        outcome = _onward(at.contest, at.proposal, editing=at.editing)
    reply = await _go(
        ctx,
        at.contest,
        at.proposal,
        at.conversation,
        outcome,
        editing=at.editing,
        files_only=at.files_only,
    )
    return [*outcome.said, reply]


# --- what the applicant does ------------------------------------------------------


@router.choice(
    ProposalPress,
    BudgetPress,
    BudgetPick,
    LinePress,
    FilesDone,
    FilePick,
    FileRemove,
    SummaryPress,
    FieldPick,
    stateful=True,
)
async def on_choice(ctx: Context, pressed: CallbackData) -> list[Reply]:
    at = await position(ctx)
    if isinstance(at, list):
        return at
    try:
        if at.step in STEPS:
            outcome = await STEPS[at.step].pressed(ctx, at, pressed)
        else:
            assert isinstance(pressed, ProposalPress)
            outcome = await _form_action(ctx, at, _form_button(at, pressed.value))
    except InvalidAnswer as error:
        return [ctx.reply(error.key, **error.values)]
    return await _follow(ctx, at, outcome)


@router.flow(PROPOSAL)
async def on_input(ctx: Context) -> list[Reply]:
    at = await position(ctx)
    if isinstance(at, list):
        return at
    try:
        if at.step in STEPS:
            typed = STEPS[at.step].typed
            if typed is None:
                raise InvalidAnswer("flow.invalid.use_buttons")
            outcome = await typed(ctx, at)
        else:
            step = runner.Step.decode(at.step)
            assert step is not None
            question = at.contest.form[step.question]
            text = ctx.event.text if ctx.event.kind is Kind.TEXT else None
            outcome = await _form_action(ctx, at, runner.on_text(question, step, at.pending, text))
    except InvalidAnswer as error:
        return [ctx.reply(error.key, **error.values)]
    return await _follow(ctx, at, outcome)


# --- form questions ---------------------------------------------------------------


def _form_button(at: Position, value: str) -> runner.Action:
    step = runner.Step.decode(at.step)
    assert step is not None
    return runner.on_button(at.contest.form[step.question], step, at.pending, value)


async def _form_action(ctx: Context, at: Position, action: runner.Action) -> Outcome:
    step = runner.Step.decode(at.step)
    assert step is not None
    question = at.contest.form[step.question]
    if isinstance(action, runner.Show):
        return Goto(action.step.encode(), action.pending, replace=action.replace)
    if isinstance(action, runner.Back):
        if at.editing:
            return Goto(SUMMARY, editing=False)
        earlier = flow.previous(at.contest.form, at.proposal.answers, question.id)
        if earlier is None:
            return Goto(at.step, at.pending, editing=False)
        back = runner.Step.start(at.contest.form, earlier)
        pending = runner.pending_for(earlier, at.proposal.answers.get(earlier.id))
        return Goto(back.encode(), pending, editing=False)
    await store.set_answer(ctx.session, at.proposal, question.id, action.value)
    hidden = flow.hidden_answers(at.contest.form, at.proposal.answers)
    await store.drop_answers(ctx.session, at.proposal, hidden)
    return Onward()
