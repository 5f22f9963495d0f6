"""The proposal flow's last steps: the summary, corrections, and the submission.

The summary shows every field with buttons to submit, to correct a field
(the `fields` step lists them) or to leave it for later. Submitting numbers the
proposal, ends the conversation, confirms by chat and e-mail and tells the
coordinators, in the one transaction of the press.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from handlers.contest import budget as money_rules
from handlers.contest import changes
from handlers.contest.buttons import BUDGET, FIELDS, FILES, SUMMARY, FieldPick, SummaryPress
from handlers.contest.draft import Goto, Onward, Outcome, Position, deadline, when
from handlers.contest.model import Contest
from handlers.contest.notices import tell_coordinators
from handlers.core import flow
from handlers.core import form_runner as runner
from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.flow import InvalidAnswer
from handlers.core.mail_out import queue_email
from handlers.mailbox.addresses import reply_proves
from storage import conversations, events
from storage import proposals as store
from storage.proposals import Proposal, ProposalSnapshot


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
    shown = {"language": ctx.language, "currency": contest.currency}
    parts += [f"  – {line.item}: {money_rules.money(line.amount, **shown)}" for line in lines]
    parts.append(
        ctx.t("proposal.budget_total", total=money_rules.money(money_rules.total(lines), **shown))
    )
    stored = await store.attachments(ctx.session, proposal.id)
    names = ", ".join(a.name for a in stored) or ctx.t("proposal.no_files")
    parts.append(ctx.t("proposal.files_list", names=names))
    return "\n".join(parts)


async def summary_view(
    ctx: Context, contest: Contest, proposal: Proposal, pending: dict[str, Any]
) -> Reply:
    head = [ctx.t("proposal.summary_intro")]
    if proposal.status == store.CHANGES_REQUESTED:
        head.append(returned_deadline(ctx, contest, proposal))
    text = "\n".join(head) + "\n\n" + await summary_text(ctx, contest, proposal)
    submit_key = (
        "proposal.resubmit" if proposal.status == store.CHANGES_REQUESTED else "proposal.submit"
    )
    buttons = [
        [ctx.button(submit_key, SummaryPress("submit"))],
        [ctx.button("proposal.edit", SummaryPress("edit"))],
        [ctx.button("proposal.later", SummaryPress("later"))],
    ]
    return Reply(text[:4000], buttons)


def returned_deadline(ctx: Context, contest: Contest, proposal: Proposal) -> str:
    """Until when a proposal returned for changes can be changed and sent again."""
    limit = deadline(contest, proposal)
    if limit is None:
        return ctx.t("proposal.returned_no_deadline")
    return ctx.t("proposal.returned_deadline", when=when(ctx, limit))


async def fields_view(
    ctx: Context, contest: Contest, proposal: Proposal, pending: dict[str, Any]
) -> Reply:
    rows = [
        [ctx.button("proposal.field", FieldPick(question.id), text=question.text.get(ctx.language))]
        for question in flow.visible(contest.form, proposal.answers)
    ]
    rows.append([ctx.button("proposal.field_budget", FieldPick(BUDGET))])
    rows.append([ctx.button("proposal.field_files", FieldPick(FILES))])
    rows.append([ctx.button("survey.back", FieldPick(SUMMARY))])
    return Reply(ctx.t("proposal.which_field"), rows)


async def field_chosen(ctx: Context, at: Position, pressed: FieldPick) -> Outcome:
    if pressed.field in (BUDGET, FILES, SUMMARY):
        return Goto(pressed.field, editing=pressed.field != SUMMARY)
    question = at.contest.question(pressed.field)
    if question is None:
        raise InvalidAnswer("flow.invalid.use_buttons")
    step = runner.Step.start(at.contest.form, question)
    pending = runner.pending_for(question, at.proposal.answers.get(question.id))
    return Goto(step.encode(), pending, editing=True)


async def summary_pressed(ctx: Context, at: Position, pressed: SummaryPress) -> Outcome:
    if pressed.choice == "edit":
        return Goto(FIELDS, editing=False)
    if pressed.choice == "later":
        await conversations.end(ctx.session, at.conversation.resident_id)
        return [ctx.reply("proposal.saved_for_later")]
    money_rules.check_complete(
        money_rules.lines_of(at.proposal.budget),
        cap=at.contest.cap_per_initiative,
        language=ctx.language,
        currency=at.contest.currency,
    )
    if flow.next_unanswered(at.contest.form, at.proposal.answers) is not None:
        return Onward()
    return await submit(ctx, at)


async def submit(ctx: Context, at: Position) -> list[Reply]:
    proposal, contest = at.proposal, at.contest
    resubmission = proposal.status == store.CHANGES_REQUESTED
    if not resubmission:
        proposal.number = await store.next_number(
            ctx.session, contest=contest.slug, prefix=contest.number_prefix
        )
        proposal.submitted_at = ctx.services.clock()
    kind = "resubmitted" if resubmission else "submitted"
    await store.record(ctx.session, proposal, kind, to_status=store.SUBMITTED)
    # Kept as submitted, so the coordinators see what the next submission changes.
    earlier = await store.snapshots(ctx.session, proposal.id)
    latest = await store.take_snapshot(ctx.session, proposal, kind)
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
    if email and not ctx.services.channels.email_out:
        # Not queued: with no SMTP it would wait in the outbox forever, and a
        # confirmation sent weeks later, once SMTP is set up, would only confuse.
        replies.append(ctx.reply("proposal.email_not_configured"))
    elif email:
        # A reply to this e-mail from the same address proves the address is theirs.
        message_id = await reply_proves(ctx, resident_id=proposal.resident_id, address=email)
        hint = f"\n\n{ctx.t('proposal.email_reply_proves')}" if message_id else ""
        await queue_email(
            ctx.session,
            to=email,
            resident_id=proposal.resident_id,
            subject=ctx.t("proposal.email_subject", number=proposal.number, title=title),
            text=f"{done}\n\n{message}\n\n{summary}{hint}",
            key=f"proposal:{proposal.id}:{len(await store.history(ctx.session, proposal.id))}",
            message_id=message_id,
        )
        replies.append(ctx.reply("proposal.email_queued", email=email))
    previous = earlier[-1] if earlier else None
    await tell_coordinators(
        ctx,
        contest,
        proposal,
        "proposal.coordinator_resubmitted" if resubmission else "proposal.coordinator_new",
        occasion=proposal.updated_at.isoformat(),
        details=(
            (lambda language: _changes(ctx, contest, previous, latest, language))
            if resubmission
            else None
        ),
    )
    for hook in ctx.routes.finish_hooks:
        replies += await hook(ctx, "proposal", proposal.id)
    return replies


def _changes(
    ctx: Context,
    contest: Contest,
    earlier: ProposalSnapshot | None,
    latest: ProposalSnapshot,
    language: str,
) -> list[str]:
    """What changed since the previous submission, in a coordinator's `language`."""
    reader = replace(ctx, language=language)
    if earlier is None:
        return [reader.t("review.diff_no_earlier")]
    found = changes.differences(contest, changes.Version.of(earlier), changes.Version.of(latest))
    return [reader.t("review.diff_title"), *changes.describe(reader, contest, found)]
