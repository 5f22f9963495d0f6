"""Proposals: the table (search, status filter, sorting) and one proposal in full.

The texts and numbers come from the chat's own code (`handlers/contest/records.py`,
`handlers/contest/review.py`), so a proposal reads the same in both places;
changing the status is in `panel/proposal_change.py`.
"""

from __future__ import annotations

from typing import Any

from handlers.contest import records
from handlers.contest.buttons import LISTED
from handlers.contest.review import amount_text, change_sections, history_what, status_label
from handlers.core import flow
from handlers.core import form_runner as runner
from handlers.core.context import Context
from panel.base import PanelHandler
from panel.feature import coordinator_context
from panel.scoring import complete, scoring_view
from storage import proposals as store
from storage.proposals import Proposal

SORTS = ("date", "amount", "score")
# Shown inline in the page; anything else is offered as a download.
INLINE_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/gif", "image/webp")


class ProposalList(PanelHandler):
    async def get(self) -> None:
        contest = self.panel.services.contest
        if contest is None:
            self.refuse(404, "review.no_contest")
            return
        query = self.get_query_argument("q", "").strip()
        status = self.get_query_argument("status", "")
        sort = self.get_query_argument("sort", "date")
        sort = sort if sort in SORTS else "date"
        wanted = (status,) if status in LISTED else LISTED
        async with self.transaction() as session:
            found = await store.of_contest(session, contest.slug, statuses=wanted)
            standing = await records.standing(session, contest)
            ctx = await coordinator_context(session, self)
        assert self.coordinator is not None
        me = self.coordinator.coordinator_id
        rows = []
        for proposal in found:
            # Blind: the score shows once one's own marks of the proposal are all in.
            seen = complete(contest, standing.scores.get(proposal.id, []), me)
            entry = standing.of(proposal.id) if seen else None
            row = {
                "id": proposal.id,
                "number": records.label(proposal),
                "title": records.title(contest, proposal),
                "applicant": records.applicant(contest, proposal),
                "status": status_label(ctx, proposal.status),
                "submitted": self.when(proposal.submitted_at),
                "submitted_at": proposal.submitted_at,
                "amount_value": records.amount(proposal),
                "amount": amount_text(ctx, contest, records.amount(proposal)),
                "score_value": entry.score if entry is not None else None,
                "score": records.number(entry.score if entry else None, self.language),
            }
            if _matches(row, query):
                rows.append(row)
        rows.sort(key=_sort_key(sort), reverse=sort != "date")
        self.render_page(
            "proposals.html",
            rows=rows,
            query=query,
            status=status if status in LISTED else "",
            sort=sort,
            statuses=[(s, status_label(ctx, s)) for s in LISTED],
            sorts=[(s, self.t(f"panel.sort.{s}")) for s in SORTS],
        )


def _matches(row: dict[str, Any], query: str) -> bool:
    if not query:
        return True
    needle = query.casefold()
    return any(needle in str(row[k]).casefold() for k in ("number", "title", "applicant"))


def _sort_key(sort: str) -> Any:
    if sort == "amount":
        return lambda row: row["amount_value"]
    if sort == "score":
        return lambda row: (row["score_value"] is not None, row["score_value"] or 0)
    return lambda row: (row["submitted_at"] is None, row["submitted_at"] or 0, row["number"])


def detail(handler: PanelHandler, ctx: Context, proposal: Proposal) -> dict[str, Any]:
    """What the detail page shows of `proposal`, besides its history and files."""
    contest = handler.panel.services.contest
    assert contest is not None
    fields = [
        {
            "question": question.text.get(handler.language),
            "answer": runner.describe(ctx, question, proposal.answers[question.id]),
        }
        for question in flow.visible(contest.form, proposal.answers)
        if question.id in proposal.answers
    ]
    total = records.amount(proposal)
    return {
        "id": proposal.id,
        "number": records.label(proposal),
        "title": records.title(contest, proposal),
        "applicant": records.applicant(contest, proposal),
        "status": proposal.status,
        "status_label": status_label(ctx, proposal.status),
        "submitted": handler.when(proposal.submitted_at),
        "edit_until": handler.when(proposal.edit_until)
        if proposal.status == store.CHANGES_REQUESTED
        else "",
        "fields": fields,
        "budget": [
            {"item": line.item, "amount": amount_text(ctx, contest, line.amount)}
            for line in records.lines(proposal)
        ],
        "total": amount_text(ctx, contest, total),
        "cap": amount_text(ctx, contest, contest.cap_per_initiative),
        "over_cap": total > contest.cap_per_initiative,
        "changeable": proposal.status in records.CHANGEABLE,
        "targets": [(s, status_label(ctx, s)) for s in records.TARGETS if s != proposal.status],
    }


async def detail_page(
    handler: PanelHandler, proposal_id: int, **extra: Any
) -> dict[str, Any] | None:
    """Everything the detail template needs, or None when there is no such proposal."""
    contest = handler.panel.services.contest
    async with handler.transaction() as session:
        proposal = await store.get(session, proposal_id)
        if contest is None or proposal is None or proposal.contest != contest.slug:
            return None
        if proposal.status == store.DRAFT:
            return None
        ctx = await coordinator_context(session, handler)
        history = [
            {
                "when": handler.when(entry.at),
                "what": history_what(ctx, entry.kind, entry.to_status),
                "by": entry.actor,
                "note": entry.note or "",
            }
            for entry in await store.history(session, proposal.id)
        ]
        files = [
            {
                "id": a.id,
                "name": a.name,
                "mime_type": a.mime_type,
                "inline": a.mime_type in INLINE_TYPES,
                "pdf": a.mime_type == "application/pdf",
            }
            for a in await store.attachments(session, proposal.id)
        ]
        scoring = await scoring_view(session, ctx, contest, proposal)
        changed = await change_sections(ctx, contest, proposal)
        values = detail(handler, ctx, proposal)
    defaults: dict[str, Any] = {
        "form": {},
        "preview": None,
        "notice": [],
        "error": None,
        "score_error": None,
    }
    return {
        **defaults,
        "proposal": values,
        "history": history,
        "changes": [{"title": title, "lines": lines} for title, lines in changed],
        "files": files,
        "scoring": scoring,
        **extra,
    }


class ProposalPage(PanelHandler):
    async def get(self, proposal_id: str) -> None:
        values = await detail_page(self, int(proposal_id))
        if values is None:
            self.refuse(404, "review.gone")
            return
        self.render_page("proposal.html", **values)


NAV = ("panel.nav.proposals", "/proposals")
ROUTES = [(r"/proposals", ProposalList), (r"/proposals/([0-9]+)", ProposalPage)]
