"""Ranking and selecting contest proposals: pure functions over scores and budgets.

Each coordinator scores each proposal on each criterion of the contest. A
coordinator's *total* for a proposal is the weighted mean of their marks, each mark
first placed on its criterion's scale (so a 0-5 and a 1-10 criterion can be mixed):

    total = Σ weight × (mark − scale.min) / (scale.max − scale.min) / Σ weight

Only complete scorings count (every criterion marked): a coordinator who stopped
half-way would otherwise pull the proposal down or up by accident. The proposal's
score is the mean of the coordinators' totals, which is the same as the weighted
mean over criteria of each criterion's mean mark; the *spread* is the highest
total minus the lowest, which shows where the coordinators disagree and should
talk. Scores are shown on the contest's scale (e.g. 0-5 when every criterion uses
it; 0-100 when the criteria use different scales).

Arithmetic is exact (fractions): two proposals with the same marks tie exactly, and
a tie goes to the earlier submission.

Selection proposes winners greedily by rank: take the next proposal if it still
fits the remaining budget and the number of winners allows, otherwise skip it and
try the next one down. The coordinator then confirms or adjusts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from handlers.contest.model import Criterion

PERCENT_SCALE = (0, 100)


@dataclass(frozen=True)
class Rule:
    """A criterion as scoring needs it."""

    id: str
    weight: Fraction
    low: int
    high: int


@dataclass(frozen=True)
class Candidate:
    """A proposal to rank: its amount, when it was submitted, and its marks.

    `marks` maps a coordinator's id to their marks by criterion id.
    """

    proposal_id: int
    amount: Decimal
    submitted_at: datetime | None
    marks: Mapping[int, Mapping[str, int]]


@dataclass(frozen=True)
class Ranked:
    """A proposal's place: `rank` and `score` are None until someone scored it fully."""

    proposal_id: int
    rank: int | None
    score: Fraction | None
    spread: Fraction | None
    scorers: int
    unfinished: int
    amount: Decimal
    submitted_at: datetime | None


@dataclass(frozen=True)
class Selection:
    """A set of winners with what the coordinator must know before confirming it."""

    chosen: tuple[int, ...]
    # Better-ranked proposals left out because they no longer fit the budget.
    skipped: tuple[int, ...]
    total: Decimal
    budget: Decimal
    min_winners: int
    max_winners: int

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.total

    @property
    def over_budget(self) -> bool:
        return self.total > self.budget

    @property
    def too_many(self) -> bool:
        return len(self.chosen) > self.max_winners

    @property
    def too_few(self) -> bool:
        return len(self.chosen) < self.min_winners

    @property
    def allowed(self) -> bool:
        """Within the contest's rules (fewer than the minimum is a warning, not a ban)."""
        return not (self.over_budget or self.too_many)


def rules(criteria: Iterable[Criterion]) -> list[Rule]:
    """The contest's criteria as scoring needs them."""
    return [Rule(c.id, Fraction(c.weight), c.scale.min, c.scale.max) for c in criteria]


def scale(criteria: Sequence[Rule]) -> tuple[int, int]:
    """The scale scores are shown on: the criteria's own when they share one."""
    scales = {(rule.low, rule.high) for rule in criteria}
    return scales.pop() if len(scales) == 1 else PERCENT_SCALE


def total(criteria: Sequence[Rule], marks: Mapping[str, int]) -> Fraction | None:
    """One coordinator's weighted total, 0..1; None unless every criterion is marked."""
    if not criteria or any(rule.id not in marks for rule in criteria):
        return None
    weights = sum((rule.weight for rule in criteria), Fraction(0))
    weighted = sum(
        (
            rule.weight * Fraction(marks[rule.id] - rule.low, rule.high - rule.low)
            for rule in criteria
        ),
        Fraction(0),
    )
    return weighted / weights


def _on_scale(value: Fraction, bounds: tuple[int, int]) -> Fraction:
    low, high = bounds
    return low + value * (high - low)


def rank(candidates: Iterable[Candidate], criteria: Sequence[Rule]) -> list[Ranked]:
    """Scored proposals best first (ties: earlier submission), then the unscored ones."""
    bounds = scale(criteria)
    found = []
    for candidate in candidates:
        totals = [
            value
            for value in (total(criteria, marks) for marks in candidate.marks.values())
            if value is not None
        ]
        unfinished = len(candidate.marks) - len(totals)
        score = spread = None
        if totals:
            score = _on_scale(sum(totals, Fraction(0)) / len(totals), bounds)
            spread = (max(totals) - min(totals)) * (bounds[1] - bounds[0])
        found.append((candidate, score, spread, len(totals), unfinished))

    def order(item: tuple[Candidate, Fraction | None, Any, int, int]) -> tuple[Any, ...]:
        candidate, score = item[0], item[1]
        submitted = candidate.submitted_at
        return (
            score is None,
            -(score or 0),
            submitted is None,
            submitted or datetime.min,
            candidate.proposal_id,
        )

    found.sort(key=order)
    ranked = []
    place = 0
    for candidate, score, spread, scorers, unfinished in found:
        if score is not None:
            place += 1
        ranked.append(
            Ranked(
                proposal_id=candidate.proposal_id,
                rank=place if score is not None else None,
                score=score,
                spread=spread,
                scorers=scorers,
                unfinished=unfinished,
                amount=candidate.amount,
                submitted_at=candidate.submitted_at,
            )
        )
    return ranked


def propose(
    ranked: Sequence[Ranked], *, budget: Decimal, min_winners: int, max_winners: int
) -> Selection:
    """Winners by rank within the budget: a proposal that no longer fits is skipped
    and a lower-ranked one that does fit takes its place. Unscored proposals are
    never proposed (the coordinator may still add them)."""
    chosen: list[int] = []
    skipped: list[int] = []
    spent = Decimal(0)
    for entry in ranked:
        if entry.rank is None or len(chosen) >= max_winners:
            continue
        if spent + entry.amount <= budget:
            chosen.append(entry.proposal_id)
            spent += entry.amount
        else:
            skipped.append(entry.proposal_id)
    return Selection(tuple(chosen), tuple(skipped), spent, budget, min_winners, max_winners)


def assess(
    chosen: Iterable[int],
    ranked: Sequence[Ranked],
    *,
    budget: Decimal,
    min_winners: int,
    max_winners: int,
) -> Selection:
    """A selection the coordinator adjusted: in rank order, with its total."""
    wanted = set(chosen)
    picked = [entry for entry in ranked if entry.proposal_id in wanted]
    spent = sum((entry.amount for entry in picked), Decimal(0))
    return Selection(
        tuple(entry.proposal_id for entry in picked), (), spent, budget, min_winners, max_winners
    )
