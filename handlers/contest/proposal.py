"""Proposals for the local-initiatives contest, from the applicant's side.

`/propose` walks through the contest's form with the same step engine and form
runner as surveys, then the budget lines, the attachments and a summary where
any field can be changed before submitting. Every answer is saved to the draft
at once, so leaving, coming back days later or a restart resumes it.

Conversation state: flow `proposal`; step a form step (`q3`, `q3o` ...), or
`budget`, `files`, `summary`, `fields`; `answers` keeps the proposal id,
whether a field is being corrected from the summary, and a multi-press
question's answer so far.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.dates import format_datetime

from handlers.contest import budget as money_rules
from handlers.contest.model import Contest
from handlers.core import flow
from handlers.core import form_runner as runner
from handlers.core.callbacks import Callback
from handlers.core.context import Context
from handlers.core.events import Button, Kind, Reply
from handlers.core.flow import InvalidAnswer
from handlers.core.forms import QuestionType
from handlers.core.mail_out import queue_email
from handlers.core.notify import tell
from handlers.core.routing import Router
from storage import conversations, events
from storage import proposals as store
from storage.models import Conversation
from storage.proposals import Proposal

PROPOSAL = "proposal"
MINE = "myprop"
BUDGET, FILES, SUMMARY, FIELDS = "budget", "files", "summary", "fields"
BUDGET_DONE, FILES_DONE = "_budget_done", "_files_done"
router = Router("contest.proposal")


router.cancel_text(PROPOSAL, "proposal.left")
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _contest(ctx: Context) -> Contest | None:
    return ctx.services.contest


def _when(ctx: Context, moment: datetime) -> str:
    local = moment.astimezone(ctx.services.timezone)
    return format_datetime(local, "d MMMM y, HH:mm", locale=ctx.language)


def _closed_reply(ctx: Context, contest: Contest) -> Reply | None:
    """Why no submission is possible now, or None while the contest is open."""
    now = ctx.services.clock()
    name = contest.name.get(ctx.language)
    if contest.opens is not None and now < contest.opens:
        return ctx.reply("proposal.not_yet_open", name=name, when=_when(ctx, contest.opens))
    if now >= contest.closes:
        return ctx.reply("proposal.closed", name=name, when=_when(ctx, contest.closes))
    return None


def _editable(ctx: Context, contest: Contest, proposal: Proposal) -> bool:
    now = ctx.services.clock()
    if proposal.status == store.DRAFT:
        return now < contest.closes
    if proposal.status == store.CHANGES_REQUESTED:
        return proposal.edit_until is None or now < proposal.edit_until
    return False


# --- starting and resuming -------------------------------------------------------


@router.command("propose", needs_consent=True, order=36)
async def propose(ctx: Context) -> list[Reply]:
    contest = _contest(ctx)
    if contest is None:
        return [ctx.reply("proposal.no_contest")]
    closed = _closed_reply(ctx, contest)
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
        new = Button(ctx.t("proposal.start_new"), Callback(MINE, "new", "-").pack())
        return [
            ctx.reply("proposal.resume", title=title),
            *await _continue(ctx, contest, draft),
            Reply(ctx.t("proposal.start_new_hint"), [[new]]),
        ]
    return await _start_new(ctx, contest)


async def _start_new(ctx: Context, contest: Contest) -> list[Reply]:
    assert ctx.resident is not None
    proposal = await store.create_draft(
        ctx.session,
        contest=contest.slug,
        resident_id=ctx.resident.id,
        language=ctx.language,
        channel=ctx.event.channel,
    )
    await store.record(ctx.session, proposal, "created")
    intro = Reply(f"{contest.name.get(ctx.language)}\n\n{contest.intro.get(ctx.language)}")
    return [intro, *await _continue(ctx, contest, proposal)]


async def _continue(
    ctx: Context,
    contest: Contest,
    proposal: Proposal,
    conversation: Conversation | None = None,
    *,
    editing: bool = False,
) -> list[Reply]:
    """Show the first thing still missing: a question, the budget, the files, the summary."""
    question = flow.next_unanswered(contest.form, proposal.answers)
    if question is not None:
        step = runner.Step.start(contest.form, question)
        return [await _go(ctx, contest, proposal, step.encode(), conversation, {}, editing=editing)]
    if not editing and not proposal.answers.get(BUDGET_DONE):
        return [await _go(ctx, contest, proposal, BUDGET, conversation, {})]
    if not editing and not proposal.answers.get(FILES_DONE):
        return [await _go(ctx, contest, proposal, FILES, conversation, {})]
    return [await _go(ctx, contest, proposal, SUMMARY, conversation, {})]


async def _go(
    ctx: Context,
    contest: Contest,
    proposal: Proposal,
    step: str,
    conversation: Conversation | None,
    pending: dict[str, Any],
    *,
    editing: bool = False,
    replace: bool = False,
) -> Reply:
    """Move the conversation to `step` and show it."""
    assert ctx.resident is not None
    state = {"proposal": proposal.id, "editing": editing, **pending}
    if conversation is None:
        conversation = await conversations.current(ctx.session, ctx.resident.id)
    if conversation is None or conversation.flow != PROPOSAL:
        await conversations.begin(
            ctx.session, resident_id=ctx.resident.id, flow=PROPOSAL, step=step, answers=state
        )
    else:
        await conversations.advance(ctx.session, conversation, step=step, answers=state)
    reply = await _render(ctx, contest, proposal, step, pending)
    reply.replace = replace
    return reply


async def _render(
    ctx: Context, contest: Contest, proposal: Proposal, step: str, pending: dict[str, Any]
) -> Reply:
    if step == BUDGET:
        return _budget_view(ctx, contest, proposal)
    if step == FILES:
        return await _files_view(ctx, contest, proposal)
    if step == SUMMARY:
        return await _summary_view(ctx, contest, proposal)
    if step == FIELDS:
        return _fields_view(ctx, contest, proposal)
    form_step = runner.Step.decode(step)
    assert form_step is not None
    question = contest.form[form_step.question]
    where = flow.progress(contest.form, proposal.answers, question.id)
    view = runner.View(
        flow_name=PROPOSAL,
        heading=ctx.t("proposal.progress", number=where.number, total=where.total),
        can_go_back=flow.previous(contest.form, proposal.answers, question.id) is not None,
    )
    return runner.render(ctx, view, question, form_step, proposal.answers, pending)


def _button(ctx: Context, label_key: str, step: str, value: str, **values: object) -> Button:
    return Button(ctx.t(label_key, **values), Callback(PROPOSAL, step, value).pack())


# --- where the applicant is -------------------------------------------------------


@dataclass
class Position:
    contest: Contest
    proposal: Proposal
    conversation: Conversation
    step: str
    editing: bool
    pending: dict[str, Any]


async def _position(ctx: Context) -> Position | list[Reply]:
    assert ctx.resident is not None
    conversation = await conversations.current(ctx.session, ctx.resident.id)
    assert conversation is not None and conversation.flow == PROPOSAL
    state = dict(conversation.answers)
    contest = _contest(ctx)
    proposal = await store.get(ctx.session, int(state.get("proposal", 0)))
    if contest is None or proposal is None or proposal.resident_id != ctx.resident.id:
        await conversations.end(ctx.session, ctx.resident.id)
        return [ctx.reply("proposal.gone")]
    if not _editable(ctx, contest, proposal):
        await conversations.end(ctx.session, ctx.resident.id)
        if proposal.status == store.CHANGES_REQUESTED:
            assert proposal.edit_until is not None
            return [ctx.reply("proposal.edits_closed", when=_when(ctx, proposal.edit_until))]
        closed = _closed_reply(ctx, contest)
        return [closed] if closed else [ctx.reply("proposal.gone")]
    pending = {k: v for k, v in state.items() if k not in ("proposal", "editing")}
    return Position(
        contest, proposal, conversation, conversation.step, bool(state.get("editing")), pending
    )


@router.choice(PROPOSAL, stateful=True)
async def on_choice(ctx: Context, callback: Callback) -> list[Reply]:
    at = await _position(ctx)
    if isinstance(at, list):
        return at
    try:
        if at.step == BUDGET:
            return await _budget_button(ctx, at, callback.value)
        if at.step == FILES:
            return await _files_button(ctx, at, callback.value)
        if at.step == SUMMARY:
            return await _summary_button(ctx, at, callback.value)
        if at.step == FIELDS:
            return await _field_chosen(ctx, at, callback.value)
        return await _form_action(ctx, at, _form_button(at, callback.value))
    except InvalidAnswer as error:
        return [ctx.reply(error.key, **error.values)]


@router.flow(PROPOSAL)
async def on_input(ctx: Context) -> list[Reply]:
    at = await _position(ctx)
    if isinstance(at, list):
        return at
    text = ctx.event.text if ctx.event.kind is Kind.TEXT else None
    try:
        if at.step == FILES:
            return await _file_sent(ctx, at)
        if at.step == BUDGET:
            if text is None:
                raise InvalidAnswer("flow.invalid.type_it")
            return await _budget_line(ctx, at, text)
        if at.step in (SUMMARY, FIELDS):
            raise InvalidAnswer("flow.invalid.use_buttons")
        step = runner.Step.decode(at.step)
        assert step is not None
        question = at.contest.form[step.question]
        return await _form_action(ctx, at, runner.on_text(question, step, at.pending, text))
    except InvalidAnswer as error:
        return [ctx.reply(error.key, **error.values)]


# --- form questions ---------------------------------------------------------------


def _form_button(at: Position, value: str) -> runner.Action:
    step = runner.Step.decode(at.step)
    assert step is not None
    return runner.on_button(at.contest.form[step.question], step, at.pending, value)


async def _form_action(ctx: Context, at: Position, action: runner.Action) -> list[Reply]:
    step = runner.Step.decode(at.step)
    assert step is not None
    question = at.contest.form[step.question]
    if isinstance(action, runner.Show):
        return [
            await _go(
                ctx,
                at.contest,
                at.proposal,
                action.step.encode(),
                at.conversation,
                action.pending,
                editing=at.editing,
                replace=action.replace,
            )
        ]
    if isinstance(action, runner.Back):
        if at.editing:
            return [await _go(ctx, at.contest, at.proposal, SUMMARY, at.conversation, {})]
        earlier = flow.previous(at.contest.form, at.proposal.answers, question.id)
        if earlier is None:
            return [await _go(ctx, at.contest, at.proposal, at.step, at.conversation, at.pending)]
        back = runner.Step.start(at.contest.form, earlier)
        pending = runner.pending_for(earlier, at.proposal.answers.get(earlier.id))
        return [await _go(ctx, at.contest, at.proposal, back.encode(), at.conversation, pending)]
    await store.set_answer(ctx.session, at.proposal, question.id, action.value)
    hidden = flow.hidden_answers(
        at.contest.form, {k: v for k, v in at.proposal.answers.items() if not k.startswith("_")}
    )
    await store.drop_answers(ctx.session, at.proposal, hidden)
    return await _continue(ctx, at.contest, at.proposal, at.conversation, editing=at.editing)


# --- budget -----------------------------------------------------------------------


def _budget_view(ctx: Context, contest: Contest, proposal: Proposal) -> Reply:
    lines = money_rules.lines_of(proposal.budget)
    parts = [
        ctx.t(
            "proposal.budget_prompt",
            cap=money_rules.money(contest.cap_per_initiative),
            currency=contest.currency,
        )
    ]
    if lines:
        parts.append("")
        parts += [
            f"{n}. {line.item} – {money_rules.money(line.amount)} {contest.currency}"
            for n, line in enumerate(lines, start=1)
        ]
        parts.append(
            ctx.t(
                "proposal.budget_total",
                total=money_rules.money(money_rules.total(lines)),
                currency=contest.currency,
            )
        )
    buttons = [[_button(ctx, "proposal.budget_done", BUDGET, "done")]]
    if lines:
        buttons.insert(0, [_button(ctx, "proposal.budget_undo", BUDGET, "undo")])
    return Reply("\n".join(parts), buttons)


async def _budget_line(ctx: Context, at: Position, text: str) -> list[Reply]:
    lines = money_rules.lines_of(at.proposal.budget)
    if len(lines) >= money_rules.MAX_LINES:
        raise InvalidAnswer("budget.invalid.too_many_lines", max=money_rules.MAX_LINES)
    line = money_rules.parse_line(text, cap=at.contest.cap_per_initiative)
    await store.set_budget(ctx.session, at.proposal, [*at.proposal.budget, line.as_dict()])
    return [
        await _go(ctx, at.contest, at.proposal, BUDGET, at.conversation, {}, editing=at.editing)
    ]


async def _budget_button(ctx: Context, at: Position, value: str) -> list[Reply]:
    if value == "undo":
        await store.set_budget(ctx.session, at.proposal, at.proposal.budget[:-1])
        return [
            await _go(ctx, at.contest, at.proposal, BUDGET, at.conversation, {}, editing=at.editing)
        ]
    if value != "done":
        raise InvalidAnswer("flow.invalid.use_buttons")
    money_rules.check_complete(
        money_rules.lines_of(at.proposal.budget), cap=at.contest.cap_per_initiative
    )
    await store.set_answer(ctx.session, at.proposal, BUDGET_DONE, True)
    return await _continue(ctx, at.contest, at.proposal, at.conversation, editing=at.editing)


# --- attachments --------------------------------------------------------------------


async def _files_view(ctx: Context, contest: Contest, proposal: Proposal) -> Reply:
    rules = contest.attachments
    stored = await store.attachments(ctx.session, proposal.id)
    parts = [ctx.t("proposal.files_prompt", max_files=rules.max_files, max_mb=rules.max_megabytes)]
    if stored:
        parts += ["", ctx.t("proposal.files_list", names=", ".join(a.name for a in stored))]
    key = "proposal.files_done" if stored else "proposal.files_none"
    return Reply("\n".join(parts), [[_button(ctx, key, FILES, "done")]])


async def _file_sent(ctx: Context, at: Position) -> list[Reply]:
    file = ctx.event.file
    if ctx.event.kind is not Kind.FILE or file is None:
        raise InvalidAnswer("proposal.files_send_file")
    rules = at.contest.attachments
    stored = await store.attachments(ctx.session, at.proposal.id)
    if len(stored) >= rules.max_files:
        raise InvalidAnswer("proposal.files_too_many", max_files=rules.max_files)
    mime = file.mime_type or "application/octet-stream"
    if mime not in rules.types:
        raise InvalidAnswer("proposal.files_wrong_type")
    limit = int(rules.max_megabytes * 1024 * 1024)
    if file.content is None or len(file.content) > limit:
        raise InvalidAnswer("proposal.files_too_big", max_mb=rules.max_megabytes)
    number = len(stored) + 1
    extension = {"application/pdf": ".pdf", "image/png": ".png"}.get(mime, ".jpg")
    name = SAFE_NAME.sub("_", file.name or f"zalacznik-{number}{extension}")[:120]
    relative = f"attachments/{at.proposal.id}/{number:02d}-{name}"
    path = ctx.services.data_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(file.content)
    await store.add_attachment(
        ctx.session,
        proposal=at.proposal,
        name=name,
        mime_type=mime,
        size=len(file.content),
        path=relative,
    )
    return [
        ctx.reply("proposal.files_saved", name=name),
        await _go(ctx, at.contest, at.proposal, FILES, at.conversation, {}, editing=at.editing),
    ]


async def _files_button(ctx: Context, at: Position, value: str) -> list[Reply]:
    if value != "done":
        raise InvalidAnswer("flow.invalid.use_buttons")
    await store.set_answer(ctx.session, at.proposal, FILES_DONE, True)
    return await _continue(ctx, at.contest, at.proposal, at.conversation, editing=at.editing)


# --- summary, corrections, submission -------------------------------------------------


async def summary_text(ctx: Context, contest: Contest, proposal: Proposal) -> str:
    """Every field of a proposal as the applicant (and the e-mail) shows it."""
    parts = []
    if proposal.number:
        parts.append(ctx.t("proposal.number_line", number=proposal.number))
    for question in flow.visible(contest.form, proposal.answers):
        if question.id in proposal.answers:
            answer = runner.describe(ctx, question, proposal.answers[question.id])
            parts.append(f"• {question.text.get(ctx.language)}\n  {answer}")
    lines = money_rules.lines_of(proposal.budget)
    parts.append(ctx.t("proposal.summary_budget"))
    parts += [
        f"  – {line.item}: {money_rules.money(line.amount)} {contest.currency}" for line in lines
    ]
    parts.append(
        ctx.t(
            "proposal.budget_total",
            total=money_rules.money(money_rules.total(lines)),
            currency=contest.currency,
        )
    )
    stored = await store.attachments(ctx.session, proposal.id)
    names = ", ".join(a.name for a in stored) or ctx.t("proposal.no_files")
    parts.append(ctx.t("proposal.files_list", names=names))
    return "\n".join(parts)


async def _summary_view(ctx: Context, contest: Contest, proposal: Proposal) -> Reply:
    text = ctx.t("proposal.summary_intro") + "\n\n" + await summary_text(ctx, contest, proposal)
    submit_key = (
        "proposal.resubmit" if proposal.status == store.CHANGES_REQUESTED else "proposal.submit"
    )
    buttons = [
        [_button(ctx, submit_key, SUMMARY, "submit")],
        [_button(ctx, "proposal.edit", SUMMARY, "edit")],
        [_button(ctx, "proposal.later", SUMMARY, "later")],
    ]
    return Reply(text[:4000], buttons)


def _fields_view(ctx: Context, contest: Contest, proposal: Proposal) -> Reply:
    rows = [
        [
            _button(
                ctx,
                "proposal.field",
                FIELDS,
                question.id,
                text=question.text.get(ctx.language)[:60],
            )
        ]
        for question in flow.visible(contest.form, proposal.answers)
    ]
    rows.append([_button(ctx, "proposal.field_budget", FIELDS, BUDGET)])
    rows.append([_button(ctx, "proposal.field_files", FIELDS, FILES)])
    rows.append([_button(ctx, "survey.back", FIELDS, SUMMARY)])
    return Reply(ctx.t("proposal.which_field"), rows)


async def _field_chosen(ctx: Context, at: Position, value: str) -> list[Reply]:
    if value in (BUDGET, FILES, SUMMARY):
        return [
            await _go(
                ctx, at.contest, at.proposal, value, at.conversation, {}, editing=value != SUMMARY
            )
        ]
    question = at.contest.question(value)
    if question is None:
        raise InvalidAnswer("flow.invalid.use_buttons")
    step = runner.Step.start(at.contest.form, question)
    pending = runner.pending_for(question, at.proposal.answers.get(question.id))
    return [
        await _go(
            ctx, at.contest, at.proposal, step.encode(), at.conversation, pending, editing=True
        )
    ]


async def _summary_button(ctx: Context, at: Position, value: str) -> list[Reply]:
    if value == "edit":
        return [await _go(ctx, at.contest, at.proposal, FIELDS, at.conversation, {})]
    if value == "later":
        await conversations.end(ctx.session, at.conversation.resident_id)
        return [ctx.reply("proposal.saved_for_later")]
    if value != "submit":
        raise InvalidAnswer("flow.invalid.use_buttons")
    money_rules.check_complete(
        money_rules.lines_of(at.proposal.budget), cap=at.contest.cap_per_initiative
    )
    if flow.next_unanswered(at.contest.form, at.proposal.answers) is not None:
        return await _continue(ctx, at.contest, at.proposal, at.conversation)
    return await _submit(ctx, at)


async def _submit(ctx: Context, at: Position) -> list[Reply]:
    proposal, contest = at.proposal, at.contest
    resubmission = proposal.status == store.CHANGES_REQUESTED
    if not resubmission:
        proposal.number = await store.next_number(
            ctx.session, contest=contest.slug, prefix=contest.number_prefix
        )
        proposal.submitted_at = ctx.services.clock()
    await store.record(
        ctx.session,
        proposal,
        "resubmitted" if resubmission else "submitted",
        to_status=store.SUBMITTED,
    )
    await conversations.end(ctx.session, at.conversation.resident_id)
    await events.record(
        ctx.session,
        "proposal_submitted",
        resident_id=proposal.resident_id,
        data={"number": proposal.number},
    )
    summary = await summary_text(ctx, contest, proposal)
    title = proposal.answers.get(contest.title_field, "")
    done = ctx.t("proposal.submitted", number=proposal.number, title=title)
    message = contest.messages.submitted.get(ctx.language)
    email = proposal.answers.get(contest.email_field)
    replies = [Reply(f"{done}\n\n{message}"), Reply(summary[:4000])]
    if email:
        await queue_email(
            ctx.session,
            to=email,
            resident_id=proposal.resident_id,
            subject=ctx.t("proposal.email_subject", number=proposal.number, title=title),
            text=f"{done}\n\n{message}\n\n{summary}",
            key=f"proposal:{proposal.id}:{len(await store.history(ctx.session, proposal.id))}",
        )
        replies.append(ctx.reply("proposal.email_sent", email=email))
    await _tell_coordinators(ctx, proposal, title, resubmission)
    return replies


async def _tell_coordinators(
    ctx: Context, proposal: Proposal, title: str, resubmission: bool
) -> None:
    key = "proposal.coordinator_resubmitted" if resubmission else "proposal.coordinator_new"
    translator = ctx.services.translator
    text = translator.text(translator.default_language, key, number=proposal.number, title=title)
    stamp = proposal.updated_at.isoformat()
    for chat_id in sorted(ctx.services.coordinator_ids):
        await tell(
            ctx,
            chat_id=str(chat_id),
            reply=Reply(text),
            key=f"proposal-notice:{proposal.id}:{stamp}:{chat_id}",
        )


# --- the applicant's list ---------------------------------------------------------------


@router.command("myproposals", needs_consent=True, order=37)
async def my_proposals(ctx: Context) -> list[Reply]:
    assert ctx.resident is not None
    contest = _contest(ctx)
    mine = await store.of_resident(ctx.session, ctx.resident.id)
    if contest is None or not mine:
        return [ctx.reply("proposal.none_yet")]
    lines, buttons = [ctx.t("proposal.mine_title")], []
    for proposal in mine:
        title = proposal.answers.get(contest.title_field) or ctx.t("proposal.untitled")
        label = proposal.number or ctx.t("proposal.draft_label")
        status = ctx.t(f"proposal.status.{proposal.status}")
        lines.append(f"• {label}: {title} – {status}")
        if _editable(ctx, contest, proposal):
            buttons.append(
                [
                    Button(
                        ctx.t("proposal.open", label=label),
                        Callback(MINE, "open", str(proposal.id)).pack(),
                    )
                ]
            )
        else:
            buttons.append(
                [
                    Button(
                        ctx.t("proposal.show", label=label),
                        Callback(MINE, "show", str(proposal.id)).pack(),
                    )
                ]
            )
        if proposal.status in (store.SUBMITTED, store.UNDER_REVIEW, store.CHANGES_REQUESTED) and (
            ctx.services.clock() < contest.closes
        ):
            buttons.append(
                [
                    Button(
                        ctx.t("proposal.withdraw", label=label),
                        Callback(MINE, "withdraw", str(proposal.id)).pack(),
                    )
                ]
            )
    return [Reply("\n".join(lines), buttons)]


@router.choice(MINE)
async def on_mine(ctx: Context, callback: Callback) -> list[Reply]:
    assert ctx.resident is not None
    contest = _contest(ctx)
    if contest is None:
        return [ctx.reply("proposal.no_contest")]
    if callback.step == "new":
        closed = _closed_reply(ctx, contest)
        return [closed] if closed else await _start_new(ctx, contest)
    proposal = await store.get(ctx.session, int(callback.value or 0))
    if proposal is None or proposal.resident_id != ctx.resident.id:
        return [ctx.reply("input.stale_button")]
    if callback.step == "open":
        if not _editable(ctx, contest, proposal):
            return [ctx.reply("proposal.not_editable")]
        return await _continue(ctx, contest, proposal)
    if callback.step == "show":
        return [Reply(await summary_text(ctx, contest, proposal))]
    return await _withdraw(ctx, contest, proposal, confirmed=callback.step == "withdraw_yes")


async def _withdraw(
    ctx: Context, contest: Contest, proposal: Proposal, *, confirmed: bool
) -> list[Reply]:
    if proposal.status not in (store.SUBMITTED, store.UNDER_REVIEW, store.CHANGES_REQUESTED):
        return [ctx.reply("input.stale_button")]
    if ctx.services.clock() >= contest.closes:
        return [ctx.reply("proposal.withdraw_closed", when=_when(ctx, contest.closes))]
    if not confirmed:
        yes = Button(
            ctx.t("proposal.withdraw_yes"), Callback(MINE, "withdraw_yes", str(proposal.id)).pack()
        )
        return [ctx.reply("proposal.withdraw_question", number=proposal.number, buttons=[[yes]])]
    await store.record(ctx.session, proposal, "withdrawn", to_status=store.WITHDRAWN)
    await events.record(
        ctx.session,
        "proposal_withdrawn",
        resident_id=proposal.resident_id,
        data={"number": proposal.number},
    )
    return [ctx.reply("proposal.withdrawn", number=proposal.number)]


def personal_fields(contest: Contest) -> list[str]:
    """Form answers that identify the applicant beyond their name: e-mail and phone."""
    kinds = (QuestionType.EMAIL, QuestionType.PHONE)
    return [q.id for q in contest.form if q.type in kinds]


async def _forget_proposals(ctx: Context) -> None:
    assert ctx.resident is not None
    contest = _contest(ctx)
    fields = personal_fields(contest) if contest else []
    await store.detach_resident(ctx.session, resident_id=ctx.resident.id, personal_fields=fields)


router.forget_hook(_forget_proposals)


async def resume_for_changes(ctx: Context, proposal: Proposal) -> list[Reply]:
    """Open a proposal the coordinator asked to change (used by the review side)."""
    contest = _contest(ctx)
    assert contest is not None
    return await _continue(ctx, contest, proposal)
