"""Changing a proposal's status from the panel, with a note and a preview.

The same functions as the chat's change (`handlers/contest/review_change.py`):
the same checks, the same history entry and event, and the same message to the
applicant in chat and by e-mail. "Preview" shows that message without changing
anything; "Send" changes the status in one transaction with the audit entry.
"""

from __future__ import annotations

from typing import Any

from handlers.contest import records
from handlers.contest import review_change as change
from handlers.core import flow
from handlers.core.flow import InvalidAnswer
from handlers.core.staff import working_row
from panel import audit
from panel.base import PanelHandler
from panel.feature import coordinator_context
from panel.proposals import detail_page
from storage import proposals as store


class StatusChange(PanelHandler):
    async def post(self, proposal_id: str) -> None:
        contest = self.panel.services.contest
        form = {
            "status": self.get_body_argument("status", ""),
            "until": self.get_body_argument("until", "").strip(),
            "note": self.get_body_argument("note", ""),
        }
        sending = self.get_body_argument("action", "preview") == "send"
        notice: list[str] = []
        preview: str | None = None
        error: str | None = None
        async with self.transaction() as session:
            proposal = await store.get(session, int(proposal_id))
            if contest is None or proposal is None or proposal.contest != contest.slug:
                self.refuse(404, "review.gone")
                return
            ctx = await coordinator_context(session, self)
            try:
                refused = change.change_refused(ctx, proposal, form["status"])
                if refused is not None:
                    raise _Refused(refused.text)
                note = None
                if form["note"].strip():
                    note = flow.free_text(form["note"], min_length=None, max_length=change.MAX_NOTE)
                until = None
                if form["status"] == store.CHANGES_REQUESTED:
                    if not form["until"]:
                        raise InvalidAnswer("panel.until_required")
                    until = change.edit_until(ctx, form["until"])
                if sending:
                    await working_row(ctx)
                    state: dict[str, Any] = {"status": form["status"]}
                    if until is not None:
                        state["until"] = until.isoformat()
                    replies = await change.apply_change(ctx, contest, proposal, state, note)
                    notice = [line for reply in replies for line in reply.text.split("\n")]
                    await audit.record(
                        session,
                        self,
                        "status_change",
                        records.label(proposal),
                        status=form["status"],
                    )
                    form = {}
                else:
                    preview = change.applicant_message(
                        ctx, contest, proposal, note, status=form["status"], until=until
                    )
            except InvalidAnswer as problem:
                error = ctx.t(problem.key, **problem.values)
            except _Refused as problem:
                error = str(problem)
        values = await detail_page(
            self, int(proposal_id), form=form, preview=preview, notice=notice, error=error
        )
        if values is None:
            self.refuse(404, "review.gone")
            return
        self.set_status(400 if error else 200)
        self.render_page("proposal.html", **values)


class _Refused(Exception):
    """A change the chat would refuse too; the message is its text."""


ROUTES = [(r"/proposals/([0-9]+)/status", StatusChange)]
