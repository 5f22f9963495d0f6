"""The contest from the coordinators' side: proposals by status, one proposal in full.

`/proposals` counts proposals per status (drafts only as a number: they are the
applicants' own until submitted) and lists each status's proposals as buttons; a
proposal opens with every answer, the budget, its files, its history and the scores
so far, with buttons to change its status (`handlers/contest/review_change.py`) and
to score it (`handlers/contest/review_scores.py`). Browsing needs no state: every
button carries what it shows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel.dates import format_datetime

from handlers.contest import changes, records, scoring
from handlers.contest.budget import money
from handlers.contest.buttons import (
    LISTED,
    ReviewChange,
    ReviewOverview,
    ReviewShow,
    ReviewStatus,
    ScoreShow,
)
from handlers.contest.model import Contest
from handlers.core import flow
from handlers.core import form_runner as runner
from handlers.core.admin import AdminOpen
from handlers.core.context import Context
from handlers.core.events import Button, OutgoingFile, Reply
from handlers.core.routing import Router
from handlers.onbehalf.counts import counts_line
from storage import on_behalf
from storage import proposals as store
from storage import scores as score_store
from storage.proposals import Proposal

PAGE = 15
router = Router("contest.review")


def when(ctx: Context, moment: datetime) -> str:
    local = moment.astimezone(ctx.services.timezone)
    return format_datetime(local, "d MMMM y, HH:mm", locale=ctx.language)


def status_label(ctx: Context, status: str, language: str | None = None) -> str:
    return ctx.services.translator.text(language or ctx.language, f"proposal.status.{status}")


def _capitalised(label: str) -> str:
    """A lower-case label (a status) where it starts a button."""
    return label[:1].upper() + label[1:]


def amount_text(ctx: Context, contest: Contest, value: Any) -> str:
    return money(value, language=ctx.language, currency=contest.currency)


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
async def proposals_from_panel(ctx: Context, pressed: AdminOpen) -> list[Reply]:
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
                ctx.t(
                    "review.status_button",
                    status=_capitalised(status_label(ctx, s)),
                    count=counts[s],
                ),
                ReviewStatus(s, 0).pack(),
            )
        ]
        for s in LISTED
        if counts.get(s)
    ]
    entered = counts_line(
        await on_behalf.proposal_channels(ctx.session, contest.slug),
        ctx.services.translator,
        ctx.language,
    )
    lines += [entered] if entered else []
    text = ctx.t("review.overview", name=contest.name.get(ctx.language), lines="\n".join(lines))
    if not buttons:
        text += "\n\n" + ctx.t("review.nothing_submitted")
    return [Reply(text, buttons)]


@router.choice(ReviewOverview, ReviewStatus, ReviewShow, coordinator_only=True)
async def on_review(
    ctx: Context, pressed: ReviewOverview | ReviewStatus | ReviewShow
) -> list[Reply]:
    contest = ctx.services.contest
    if contest is None:
        return [ctx.reply("review.no_contest")]
    if isinstance(pressed, ReviewOverview):
        return await overview(ctx)
    if isinstance(pressed, ReviewStatus):
        return await listing(ctx, contest, pressed.status, pressed.page)
    proposal = await store.get(ctx.session, pressed.proposal)
    if proposal is None or proposal.contest != contest.slug:
        return [ctx.reply("review.gone")]
    return await show(ctx, contest, proposal)


async def listing(ctx: Context, contest: Contest, status: str, page: int) -> list[Reply]:
    """One status's proposals, a page at a time: each in full (number, title, applicant,
    amount) in the text, and a button with its number and title to open it."""
    found = await store.of_contest(ctx.session, contest.slug, statuses=(status,))
    if not found:
        return [ctx.reply("review.list_empty", status=status_label(ctx, status))]
    shown = found[page * PAGE : (page + 1) * PAGE]
    lines = [ctx.t("review.list_title", status=status_label(ctx, status), count=len(found))]
    buttons = []
    for p in shown:
        number, title = records.label(p), records.title(contest, p)
        lines.append(
            "• "
            + ctx.t(
                "review.proposal_line",
                number=number,
                title=title,
                applicant=records.applicant(contest, p),
                amount=amount_text(ctx, contest, records.amount(p)),
            )
        )
        label = ctx.t("review.proposal_button", number=number, title=title)
        buttons.append([Button(label, ReviewShow(p.id).pack())])
    if (page + 1) * PAGE < len(found):
        buttons.append([Button(ctx.t("review.more"), ReviewStatus(status, page + 1).pack())])
    buttons.append([Button(ctx.t("review.back_to_overview"), ReviewOverview().pack())])
    return [Reply("\n".join(lines), buttons)]


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
        ctx.t("review.budget_line", item=line.item, amount=amount_text(ctx, contest, line.amount))
        for line in lines
    ]
    total = records.amount(proposal)
    parts.append(
        ctx.t(
            "review.budget_total",
            amount=amount_text(ctx, contest, total),
            cap=amount_text(ctx, contest, contest.cap_per_initiative),
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


async def change_sections(
    ctx: Context, contest: Contest, proposal: Proposal
) -> list[tuple[str, list[str]]]:
    """(title, lines) of what the last resubmission changed, compared with the
    submission before it; and of what changed since the last submission (files
    can be, until the deadline), unless the applicant is still making the
    changes asked for. The chat's review view and the panel both show these."""
    kept = await store.snapshots(ctx.session, proposal.id)
    sections: list[tuple[str, list[str]]] = []
    if len(kept) >= 2:
        before, after = (changes.Version.of(s) for s in kept[-2:])
        found = changes.differences(contest, before, after)
        title = ctx.t("review.diff_review_title", when=when(ctx, kept[-1].taken_at))
        sections.append((title, changes.describe(ctx, contest, found)))
    if kept and proposal.status != store.CHANGES_REQUESTED:
        files = [a.name for a in await store.attachments(ctx.session, proposal.id)]
        now = changes.Version(dict(proposal.answers), list(proposal.budget), files)
        found = changes.differences(contest, changes.Version.of(kept[-1]), now)
        if found:
            title = ctx.t("review.diff_since_title", when=when(ctx, kept[-1].taken_at))
            sections.append((title, changes.describe(ctx, contest, found)))
    return sections


async def _changes_text(ctx: Context, contest: Contest, proposal: Proposal) -> list[str]:
    parts: list[str] = []
    for title, lines in await change_sections(ctx, contest, proposal):
        parts += [title, *lines, ""]
    return parts


async def _state_text(ctx: Context, contest: Contest, proposal: Proposal) -> str:
    parts = [*await _changes_text(ctx, contest, proposal), ctx.t("review.history_title")]
    for entry in await store.history(ctx.session, proposal.id):
        what = history_what(ctx, entry.kind, entry.to_status)
        if entry.actor is not None:
            what += " (" + ctx.t("review.history_by", actor=entry.actor) + ")"
        parts.append(ctx.t("review.history_line", when=when(ctx, entry.at), what=what))
        if entry.note:
            parts.append(f"    {entry.note}")
    parts += ["", await score_summary(ctx, contest, proposal)]
    return "\n".join(parts)


def history_what(ctx: Context, kind: str, to_status: str | None) -> str:
    if kind in ("created", "resubmitted") or to_status is None:
        return ctx.t(records.history_key(kind), kind=kind)
    return status_label(ctx, to_status)


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
                    ReviewChange(proposal.id, s).pack(),
                )
            ]
            for s in targets
        ]
    if proposal.status in records.SCOREABLE:
        rows.append([Button(ctx.t("review.score_button"), ScoreShow(proposal.id, 0).pack())])
    rows.append(
        [
            Button(
                ctx.t("review.back_to_list"),
                ReviewStatus(proposal.status, 0).pack(),
            )
        ]
    )
    return rows
