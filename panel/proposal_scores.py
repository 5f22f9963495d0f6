"""Scoring a proposal in the panel: a mark and a comment per criterion, blind at first.

The marks are stored by the chat's own function (`handlers/contest/marks.py`,
the same checks as the chat's buttons). What the others gave is shown only once
one's own marks are all saved, so the first scorer does not steer the second.
"""

from __future__ import annotations

from handlers.contest import records
from handlers.contest.marks import save_mark, scored
from handlers.contest.model import Contest
from panel import audit
from panel.base import PanelHandler
from panel.feature import coordinator_context
from panel.proposals import detail_page
from storage import proposals as store

MAX_COMMENT = 1000


class SaveScores(PanelHandler):
    async def post(self, proposal_id: str) -> None:
        contest = self.panel.services.contest
        error: str | None = None
        notice: list[str] = []
        try:
            async with self.transaction() as session:
                proposal = await store.get(session, int(proposal_id))
                if contest is None or proposal is None or proposal.contest != contest.slug:
                    self.refuse(404, "review.gone")
                    return
                ctx = await coordinator_context(session, self)
                marks = self._marks(contest)
                if marks is None:
                    error = ctx.t("panel.score_every_criterion")
                else:
                    for index, (mark, comment) in enumerate(marks):
                        refused = await save_mark(ctx, contest, proposal, index, mark, comment)
                        if refused is not None:
                            # Nothing of this form is kept: the transaction is rolled back.
                            raise _Refused(refused.text)
                    await scored(ctx, proposal)
                    await audit.record(session, self, "scored", records.label(proposal))
                    notice = [ctx.t("review.scored", number=records.label(proposal))]
        except _Refused as problem:
            error = str(problem)
        values = await detail_page(self, int(proposal_id), notice=notice, score_error=error)
        if values is None:
            self.refuse(404, "review.gone")
            return
        self.set_status(400 if error else 200)
        self.render_page("proposal.html", **values)

    def _marks(self, contest: Contest) -> list[tuple[int, str | None]] | None:
        """(mark, comment) per criterion, or None when a mark is missing or not a number."""
        found = []
        for criterion in contest.criteria:
            raw = self.get_body_argument(f"mark_{criterion.id}", "").strip()
            if not raw.lstrip("-").isdigit():
                return None
            comment = self.get_body_argument(f"comment_{criterion.id}", "").strip()
            found.append((int(raw), comment[:MAX_COMMENT] or None))
        return found


class _Refused(Exception):
    """A mark the chat would refuse too; the message is its text."""


ROUTES = [(r"/proposals/([0-9]+)/scores", SaveScores)]
