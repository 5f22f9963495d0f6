"""The contest from the coordinators' side: proposals by status, one proposal in full,
and a change of status with a message to the applicant.

`/proposals` counts proposals per status (drafts only as a number: they are the
applicants' own until submitted) and lists each status's proposals as buttons; a
proposal opens with every answer, the budget, its files, its history and the scores
so far. Changing a status asks for the date until which edits are allowed (when
asking for changes) and for the coordinator's own words; then, in one transaction,
the history gets the note, the status changes and the applicant is told in chat and
by e-mail: the contest's message for the new status, then the coordinator's note.

Conversation state of a status change: flow `rvnote`, step `date` or `note`;
`answers` keeps the proposal id, the new status and the date. Browsing needs no
state: every button carries what it shows.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from babel.dates import format_datetime

from handlers.contest import records, scoring
from handlers.contest.budget import money
from handlers.contest.model import Contest
from handlers.core import flow
from handlers.core import form_runner as runner
from handlers.core.admin import refuse
from handlers.core.callbacks import Callback
from handlers.core.context import Context
from handlers.core.events import Button, Kind, OutgoingFile, Reply
from handlers.core.flow import InvalidAnswer
from handlers.core.forms import Question, QuestionType, Text
from handlers.core.mail_out import queue_email
from handlers.core.notify import tell
from handlers.core.routing import Router
from handlers.core.staff import working_row
from storage import conversations, events, residents
from storage import proposals as store
from storage import scores as score_store
from storage.proposals import Proposal

REVIEW = "rv"
NOTE = "rvnote"
SCORE = "rs"  # the scoring buttons (handlers/contest/review_scores.py)
DATE_STEP, NOTE_STEP, SKIP = "date", "note", "skip"
PAGE = 15
MAX_NOTE = 2000
LISTED = tuple(s for s in store.STATUSES if s != store.DRAFT)
# The date asked when requesting changes, read like a date answer of a form.
EDIT_UNTIL = Question(id="edit_until", type=QuestionType.DATE, text=Text(""))
router = Router("contest.review")


router.cancel_text(NOTE, "review.note_cancelled")


def when(ctx: Context, moment: datetime) -> str:
    local = moment.astimezone(ctx.services.timezone)
    return format_datetime(local, "d MMMM y, HH:mm", locale=ctx.language)


def status_label(ctx: Context, status: str, language: str | None = None) -> str:
    return ctx.services.translator.text(language or ctx.language, f"proposal.status.{status}")


def amount_text(contest: Contest, value: Any) -> str:
    return f"{money(value)} {contest.currency}"


# --- the overview and the lists -------------------------------------------------------


@router.command("proposals", coordinator_only=True, order=94)
async def proposals_command(ctx: Context) -> list[Reply]:
    contest = ctx.services.contest
    if contest is None:
        return [ctx.reply("review.no_contest")]
    wanted = ctx.event.args.strip().upper()
    if wanted:
        proposal = await store.by_number(ctx.session, wanted)
        if proposal is None or proposal.contest != contest.slug:
            return [ctx.reply("review.unknown_number", number=wanted[:40]), *await overview(ctx)]
        return await show(ctx, contest, proposal)
    return await overview(ctx)


@router.admin_action("proposals", "admin.proposals")
async def proposals_from_panel(ctx: Context, callback: Callback) -> list[Reply]:
    return await overview(ctx)


async def overview(ctx: Context) -> list[Reply]:
    """How many proposals are in each status, with a button per non-empty status."""
    contest = ctx.services.contest
    if contest is None:
        return [ctx.reply("review.no_contest")]
    counts = await store.counts_by_status(ctx.session, contest.slug)
    lines = [
        ctx.t("review.count_line", status=status_label(ctx, s), count=counts.get(s, 0))
        for s in store.STATUSES
    ]
    buttons = [
        [
            Button(
                ctx.t("review.status_button", status=status_label(ctx, s), count=counts[s]),
                Callback(REVIEW, "st", f"{s}.0").pack(),
            )
        ]
        for s in LISTED
        if counts.get(s)
    ]
    text = ctx.t("review.overview", name=contest.name.get(ctx.language), lines="\n".join(lines))
    if not buttons:
        text += "\n\n" + ctx.t("review.nothing_submitted")
    return [Reply(text, buttons)]


@router.choice(REVIEW, coordinator_only=True)
async def on_review(ctx: Context, callback: Callback) -> list[Reply]:
    contest = ctx.services.contest
    if contest is None:
        return [ctx.reply("review.no_contest")]
    if callback.step == "all":
        return await overview(ctx)
    if callback.step == "st":
        status, _, page = callback.value.partition(".")
        if status not in LISTED or not page.isdigit():
            return [ctx.reply("input.stale_button")]
        return await listing(ctx, contest, status, int(page))
    identifier, _, target = callback.value.partition(".")
    proposal = await store.get(ctx.session, int(identifier)) if identifier.isdigit() else None
    if proposal is None or proposal.contest != contest.slug:
        return [ctx.reply("review.gone")]
    if callback.step == "p":
        return await show(ctx, contest, proposal)
    if callback.step == "ch":
        return await begin_change(ctx, contest, proposal, target)
    return [ctx.reply("input.stale_button")]


async def listing(ctx: Context, contest: Contest, status: str, page: int) -> list[Reply]:
    """One status's proposals as buttons (number, title, applicant, amount), a page at a time."""
    found = await store.of_contest(ctx.session, contest.slug, statuses=(status,))
    if not found:
        return [ctx.reply("review.list_empty", status=status_label(ctx, status))]
    shown = found[page * PAGE : (page + 1) * PAGE]
    buttons = [
        [
            Button(
                ctx.t(
                    "review.proposal_button",
                    number=records.label(p),
                    title=records.title(contest, p)[:32],
                    applicant=records.applicant(contest, p)[:24],
                    amount=amount_text(contest, records.amount(p)),
                ),
                Callback(REVIEW, "p", str(p.id)).pack(),
            )
        ]
        for p in shown
    ]
    if (page + 1) * PAGE < len(found):
        buttons.append(
            [Button(ctx.t("review.more"), Callback(REVIEW, "st", f"{status}.{page + 1}").pack())]
        )
    buttons.append([Button(ctx.t("review.back_to_overview"), Callback(REVIEW, "all").pack())])
    text = ctx.t("review.list_title", status=status_label(ctx, status), count=len(found))
    return [Reply(text, buttons)]


# --- one proposal -----------------------------------------------------------------------


async def show(ctx: Context, contest: Contest, proposal: Proposal) -> list[Reply]:
    """Every field, the budget, the files, the history, the scores, and what can be done."""
    return [
        Reply(_fields_text(ctx, contest, proposal)),
        *await _attachments(ctx, proposal),
        Reply(await _state_text(ctx, contest, proposal), _actions(ctx, contest, proposal)),
    ]


def _fields_text(ctx: Context, contest: Contest, proposal: Proposal) -> str:
    parts = [
        ctx.t(
            "review.header",
            number=records.label(proposal),
            title=records.title(contest, proposal),
            status=status_label(ctx, proposal.status),
        )
    ]
    if proposal.submitted_at is not None:
        parts.append(ctx.t("review.submitted_at", when=when(ctx, proposal.submitted_at)))
    if proposal.edit_until is not None and proposal.status == store.CHANGES_REQUESTED:
        parts.append(ctx.t("review.edit_until", when=when(ctx, proposal.edit_until)))
    parts.append("")
    for question in flow.visible(contest.form, proposal.answers):
        if question.id in proposal.answers:
            answer = runner.describe(ctx, question, proposal.answers[question.id])
            parts.append(f"• {question.text.get(ctx.language)}\n  {answer}")
    parts += ["", ctx.t("review.budget_title")]
    lines = records.lines(proposal)
    parts += [
        ctx.t("review.budget_line", item=line.item, amount=amount_text(contest, line.amount))
        for line in lines
    ]
    total = records.amount(proposal)
    parts.append(
        ctx.t(
            "review.budget_total",
            amount=amount_text(contest, total),
            cap=amount_text(contest, contest.cap_per_initiative),
        )
    )
    if total > contest.cap_per_initiative:
        parts.append(ctx.t("review.over_cap"))
    return "\n".join(parts)


async def _attachments(ctx: Context, proposal: Proposal) -> list[Reply]:
    """The applicant's files, read from DATA_DIR, each sent as a file."""
    found = await store.attachments(ctx.session, proposal.id)
    replies = []
    for number, attachment in enumerate(found, start=1):
        path = ctx.services.data_dir / attachment.path
        try:
            content = path.read_bytes()
        except OSError:
            replies.append(ctx.reply("review.attachment_missing", name=attachment.name))
            continue
        caption = ctx.t(
            "review.attachment_caption",
            number=records.label(proposal),
            index=number,
            count=len(found),
            name=attachment.name,
        )
        file = OutgoingFile(attachment.name, attachment.mime_type, content)
        replies.append(Reply(caption, file=file))
    return replies


async def _state_text(ctx: Context, contest: Contest, proposal: Proposal) -> str:
    parts = [ctx.t("review.history_title")]
    for entry in await store.history(ctx.session, proposal.id):
        what = _history_what(ctx, entry.kind, entry.to_status)
        if entry.actor is not None:
            what += " (" + ctx.t("review.history_by", actor=entry.actor) + ")"
        parts.append(ctx.t("review.history_line", when=when(ctx, entry.at), what=what))
        if entry.note:
            parts.append(f"    {entry.note}")
    parts += ["", await score_summary(ctx, contest, proposal)]
    return "\n".join(parts)


def _history_what(ctx: Context, kind: str, to_status: str | None) -> str:
    if kind in ("created", "resubmitted"):
        return ctx.t(f"review.history.{kind}")
    if to_status is not None:
        return status_label(ctx, to_status)
    return kind


async def score_summary(ctx: Context, contest: Contest, proposal: Proposal) -> str:
    """The scores so far: each coordinator's total and marks, and the overall result."""
    scores = await score_store.of_proposal(ctx.session, proposal.id)
    if not scores:
        return ctx.t("review.scores_none")
    rules = scoring.rules(contest.criteria)
    low, high = scoring.scale(rules)
    lines = [ctx.t("review.scores_title")]
    for coordinator, marks in records.marks(scores).items():
        total = scoring.total(rules, marks)
        shown = ", ".join(
            f"{c.text.get(ctx.language)} {marks.get(c.id, '–')}" for c in contest.criteria
        )
        key = "review.scores_line" if total is not None else "review.scores_unfinished"
        on_scale = None if total is None else low + total * (high - low)
        lines.append(
            ctx.t(
                key,
                coordinator=coordinator,
                total=records.number(on_scale, ctx.language),
                high=high,
                marks=shown,
            )
        )
    standing = await records.standing(ctx.session, contest)
    entry = standing.of(proposal.id)
    if entry is not None and entry.score is not None:
        lines.append(
            ctx.t(
                "review.scores_summary",
                score=records.number(entry.score, ctx.language),
                high=high,
                scorers=entry.scorers,
                spread=records.number(entry.spread, ctx.language),
                rank=entry.rank,
            )
        )
    return "\n".join(lines)


def _actions(ctx: Context, contest: Contest, proposal: Proposal) -> list[list[Button]]:
    rows: list[list[Button]] = []
    if proposal.status in records.CHANGEABLE:
        targets = [s for s in records.TARGETS if s != proposal.status]
        rows += [
            [
                Button(
                    ctx.t(f"review.to.{s}"),
                    Callback(REVIEW, "ch", f"{proposal.id}.{s}").pack(),
                )
            ]
            for s in targets
        ]
    if proposal.status in records.SCOREABLE:
        rows.append(
            [Button(ctx.t("review.score_button"), Callback(SCORE, f"{proposal.id}.0").pack())]
        )
    rows.append(
        [
            Button(
                ctx.t("review.back_to_list"),
                Callback(REVIEW, "st", f"{proposal.status}.0").pack(),
            )
        ]
    )
    return rows


# --- changing the status ----------------------------------------------------------------


async def begin_change(
    ctx: Context, contest: Contest, proposal: Proposal, target: str
) -> list[Reply]:
    if target not in records.TARGETS:
        return [ctx.reply("input.stale_button")]
    if proposal.status not in records.CHANGEABLE:
        return [ctx.reply("review.not_changeable", status=status_label(ctx, proposal.status))]
    if proposal.status == target:
        return [
            ctx.reply(
                "review.same_status",
                number=records.label(proposal),
                status=status_label(ctx, target),
            )
        ]
    row = await working_row(ctx)
    step = DATE_STEP if target == store.CHANGES_REQUESTED else NOTE_STEP
    state = {"proposal": proposal.id, "status": target}
    await conversations.begin(ctx.session, resident_id=row.id, flow=NOTE, step=step, answers=state)
    if step == DATE_STEP:
        return [ctx.reply("review.ask_date", number=records.label(proposal))]
    return [_ask_note(ctx, contest, proposal, target)]


def _ask_note(ctx: Context, contest: Contest, proposal: Proposal, target: str) -> Reply:
    message = getattr(contest.messages, target).get(proposal.language)
    skip = Button(ctx.t("review.no_note"), Callback(NOTE, NOTE_STEP, SKIP).pack())
    return ctx.reply(
        "review.ask_note",
        buttons=[[skip]],
        number=records.label(proposal),
        status=status_label(ctx, target),
        message=message,
    )


async def _position(ctx: Context) -> tuple[Contest, Proposal, dict[str, Any], str] | list[Reply]:
    """The change in progress, or the replies that end it."""
    assert ctx.resident is not None
    conversation = await conversations.current(ctx.session, ctx.resident.id)
    assert conversation is not None and conversation.flow == NOTE
    if not ctx.is_coordinator:
        await conversations.end(ctx.session, ctx.resident.id)
        return await refuse(ctx, "status note")
    contest = ctx.services.contest
    state = dict(conversation.answers)
    proposal = await store.get(ctx.session, int(state.get("proposal", 0)))
    if contest is None or proposal is None or proposal.contest != contest.slug:
        await conversations.end(ctx.session, ctx.resident.id)
        return [ctx.reply("review.gone")]
    return contest, proposal, state, conversation.step


@router.flow(NOTE)
async def on_note_input(ctx: Context) -> list[Reply]:
    at = await _position(ctx)
    if isinstance(at, list):
        return at
    contest, proposal, state, step = at
    text = ctx.event.text if ctx.event.kind is Kind.TEXT else None
    try:
        if text is None:
            raise InvalidAnswer("review.type_note")
        if step == DATE_STEP:
            until = _edit_until(ctx, text)
            assert ctx.resident is not None
            conversation = await conversations.current(ctx.session, ctx.resident.id)
            assert conversation is not None
            await conversations.advance(
                ctx.session,
                conversation,
                step=NOTE_STEP,
                answers={**state, "until": until.isoformat()},
            )
            return [_ask_note(ctx, contest, proposal, state["status"])]
        note = flow.free_text(text, min_length=None, max_length=MAX_NOTE)
    except InvalidAnswer as error:
        return [ctx.reply(error.key, **error.values)]
    return await apply_change(ctx, contest, proposal, state, note)


@router.choice(NOTE, coordinator_only=True)
async def on_note_choice(ctx: Context, callback: Callback) -> list[Reply]:
    # Checked here rather than by the router: a coordinator may have no row at all.
    current = await conversations.current(ctx.session, ctx.resident.id) if ctx.resident else None
    if current is None or (current.flow, current.step) != (NOTE, callback.step):
        return [ctx.reply("input.stale_button")]
    at = await _position(ctx)
    if isinstance(at, list):
        return at
    contest, proposal, state, _ = at
    if callback.value != SKIP:
        return [ctx.reply("input.stale_button")]
    return await apply_change(ctx, contest, proposal, state, None)


def _edit_until(ctx: Context, text: str) -> datetime:
    """The end of the given day in the centre's time zone; today or later."""
    day = date.fromisoformat(flow.parse_text(EDIT_UNTIL, text))
    today = ctx.services.clock().astimezone(ctx.services.timezone).date()
    if day < today:
        raise InvalidAnswer("review.date_past")
    return datetime.combine(day, time(23, 59, 59), tzinfo=ctx.services.timezone)


async def apply_change(
    ctx: Context, contest: Contest, proposal: Proposal, state: dict[str, Any], note: str | None
) -> list[Reply]:
    """History, status, the applicant told in chat and by e-mail: one transaction."""
    assert ctx.resident is not None
    await conversations.end(ctx.session, ctx.resident.id)
    target = str(state.get("status"))
    if proposal.status not in records.CHANGEABLE or target not in records.TARGETS:
        return [ctx.reply("review.not_changeable", status=status_label(ctx, proposal.status))]
    if target == store.CHANGES_REQUESTED:
        until = state.get("until")
        proposal.edit_until = datetime.fromisoformat(until) if until else None
    await store.record(
        ctx.session, proposal, "status", to_status=target, actor=ctx.event.user_id, note=note
    )
    await events.record(
        ctx.session,
        "proposal_status_changed",
        resident_id=proposal.resident_id,
        data={"number": proposal.number, "status": target, "by": ctx.event.user_id},
    )
    number = records.label(proposal)
    lines = [ctx.t("review.status_changed", number=number, status=status_label(ctx, target))]
    lines += await notify_applicant(ctx, contest, proposal, note)
    return [Reply("\n".join(lines))]


async def notify_applicant(
    ctx: Context, contest: Contest, proposal: Proposal, note: str | None
) -> list[str]:
    """The contest's message for the new status and the note, in chat and by e-mail.

    Returns what the coordinator should know about the delivery.
    """
    language = proposal.language
    texts = ctx.services.translator
    parts = [
        texts.text(
            language,
            "review.applicant_header",
            contest=contest.name.get(language),
            number=records.label(proposal),
            title=records.title(contest, proposal),
        ),
        getattr(contest.messages, proposal.status).get(language),
    ]
    if note:
        parts.append(texts.text(language, "review.applicant_note", note=note))
    if proposal.status == store.CHANGES_REQUESTED and proposal.edit_until is not None:
        local = proposal.edit_until.astimezone(ctx.services.timezone)
        day = format_datetime(local, "d MMMM y", locale=language)
        parts.append(texts.text(language, "review.applicant_edit_until", when=day))
    message = "\n\n".join(parts)
    key = f"review:{proposal.id}:{len(await store.history(ctx.session, proposal.id))}"
    told: list[str] = []
    resident = (
        await residents.get(ctx.session, proposal.resident_id) if proposal.resident_id else None
    )
    if resident is not None and resident.telegram_id is not None:
        await tell(
            ctx,
            chat_id=str(resident.telegram_id),
            reply=Reply(message),
            key=key + ":chat",
            resident_id=resident.id,
        )
        told.append(ctx.t("review.delivered_chat"))
    address = records.email(contest, proposal)
    if address:
        centre = ctx.services.centre
        await queue_email(
            ctx.session,
            to=address,
            subject=texts.text(
                language,
                "review.email_subject",
                number=records.label(proposal),
                status=status_label(ctx, proposal.status, language),
            ),
            text=texts.text(
                language, "review.email_body", text=message, centre=centre.name, email=centre.email
            ),
            key=key + ":email",
            resident_id=proposal.resident_id,
        )
        told.append(ctx.t("review.delivered_email", email=address))
    if not told:
        told.append(ctx.t("review.not_delivered"))
    return told
