"""The ranking (weighted mean and spread) and the selection of winners with a budget bar.

The numbers are the chat's (`records.standing`, `scoring.propose` and
`scoring.assess`), and so are the rules and the confirmation
(`review_scores.confirm`: within the budget, at most the maximum of winners;
fewer than the minimum is a warning). The choice is adjusted with check boxes;
"Recount" shows its total without storing anything, "Confirm" stores the outcome.
Blind like a proposal's page: a proposal's score shows once one's own marks are in.
"""

from __future__ import annotations

from typing import Any

from handlers.contest import records, scoring
from handlers.contest import review_scores as selection_rules
from handlers.contest.review import amount_text
from handlers.core.staff import working_row
from panel import audit
from panel.base import PanelHandler
from panel.feature import coordinator_context
from panel.scoring import complete
from storage import scores as score_store


class Ranking(PanelHandler):
    async def get(self) -> None:
        await self.show(self._chosen(), notice=[])

    async def post(self) -> None:
        """Confirm the selection ticked in the form."""
        contest = self.panel.services.contest
        if contest is None:
            self.refuse(404, "review.no_contest")
            return
        chosen = self._chosen() or []
        async with self.transaction() as session:
            ctx = await coordinator_context(session, self)
            standing = await records.standing(session, contest)
            ranked = selection_rules.selectable(standing)
            before = {o.id for o in await score_store.outcome(session, contest.slug)}
            await working_row(ctx)
            replies = await selection_rules.confirm(ctx, contest, ranked, chosen)
            after = await score_store.outcome(session, contest.slug)
            if {o.id for o in after} != before:  # stored anew: confirmed
                selected = sum(1 for o in after if o.selected)
                await audit.record(session, self, "selection", contest.slug, selected=selected)
        await self.show(chosen, notice=[r.text for r in replies])

    def _chosen(self) -> list[int] | None:
        values = self.get_arguments("chosen")
        return (
            [int(v) for v in values if v.isdigit()]
            if values or self.get_argument("recount", "")
            else None
        )

    async def show(self, chosen: list[int] | None, *, notice: list[str]) -> None:
        contest = self.panel.services.contest
        if contest is None:
            self.refuse(404, "review.no_contest")
            return
        assert self.coordinator is not None
        me = self.coordinator.coordinator_id
        async with self.transaction() as session:
            ctx = await coordinator_context(session, self)
            standing = await records.standing(session, contest)
            stored = await score_store.outcome(session, contest.slug)
        ranked = selection_rules.selectable(standing)
        limits = selection_rules.limits(contest)
        if chosen is None:
            confirmed = [o.proposal_id for o in stored if o.selected]
            chosen = confirmed or list(scoring.propose(ranked, **limits).chosen)
        picked = scoring.assess(chosen, ranked, **limits)
        can_choose = {entry.proposal_id for entry in ranked}
        low, high = standing.bounds
        rows: list[dict[str, Any]] = []
        for entry in standing.ranked:
            proposal = standing.proposal(entry)
            seen = complete(contest, standing.scores.get(proposal.id, []), me)
            rows.append(
                {
                    "id": proposal.id,
                    "rank": entry.rank if entry.rank is not None else "",
                    "number": records.label(proposal),
                    "title": records.title(contest, proposal),
                    "score": records.number(entry.score, self.language) if seen else "",
                    "spread": records.number(entry.spread, self.language) if seen else "",
                    "scorers": entry.scorers,
                    "amount": amount_text(ctx, contest, entry.amount),
                    "selectable": entry.proposal_id in can_choose,
                    "chosen": entry.proposal_id in picked.chosen,
                    "hidden": not seen,
                }
            )
        self.render_page(
            "ranking.html",
            rows=rows,
            low=low,
            high=high,
            total=float(picked.total),
            budget=float(picked.budget),
            verdict=selection_rules.verdict(ctx, contest, standing, picked, ()),
            allowed=picked.allowed,
            notice=notice,
            winners=(contest.winners.min, contest.winners.max),
        )


NAV = ("panel.nav.ranking", "/ranking")
ROUTES = [(r"/ranking", Ranking)]
