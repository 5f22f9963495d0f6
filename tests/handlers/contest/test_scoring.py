"""Ranking and selection: weighted scores, ties, spread, and the budget's say in who wins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

from handlers.contest import scoring
from handlers.contest.files import load_contest
from handlers.contest.scoring import Candidate, Rule

CONTEST = Path(__file__).resolve().parents[3] / "content" / "contest.yaml"
# Two criteria on 0-5: aims weigh 3, originality 1.
RULES = [Rule("cele", Fraction(3), 0, 5), Rule("nowe", Fraction(1), 0, 5)]
T0 = datetime(2021, 6, 1, 12, 0, tzinfo=UTC)


def candidate(
    proposal_id: int,
    marks: dict[int, dict[str, int]],
    *,
    amount: str = "5000",
    minutes: int = 0,
) -> Candidate:
    return Candidate(proposal_id, Decimal(amount), T0 + timedelta(minutes=minutes), marks)


def both(cele: int, nowe: int) -> dict[str, int]:
    return {"cele": cele, "nowe": nowe}


def test_total_weighted_mean_on_each_criterion_scale() -> None:
    # (3×4/5 + 1×2/5) / 4 = 14/20
    assert scoring.total(RULES, both(4, 2)) == Fraction(7, 10)
    mixed = [Rule("a", Fraction(1), 0, 5), Rule("b", Fraction(1), 1, 10)]
    assert scoring.total(mixed, {"a": 5, "b": 1}) == Fraction(1, 2)


def test_total_missing_criterion_is_no_total() -> None:
    assert scoring.total(RULES, {"cele": 5}) is None


def test_rank_weighted_average_over_coordinators_and_spread() -> None:
    ranked = scoring.rank([candidate(1, {10: both(5, 5), 20: both(3, 1)})], RULES)
    [entry] = ranked
    # Totals: 1 and (9/5 + 1/5)/4 = 1/2; mean 3/4 on 0-5 is 3.75; spread 0.5 × 5.
    assert entry.score == Fraction(15, 4)
    assert entry.spread == Fraction(5, 2)
    assert entry.scorers == 2 and entry.rank == 1


def test_rank_higher_weight_criterion_decides_the_order() -> None:
    strong_aims = candidate(1, {10: both(5, 0)})
    original = candidate(2, {10: both(0, 5)})
    ranked = scoring.rank([original, strong_aims], RULES)
    assert [r.proposal_id for r in ranked] == [1, 2]


def test_rank_tie_goes_to_the_earlier_submission() -> None:
    late = candidate(1, {10: both(4, 4)}, minutes=30)
    early = candidate(2, {10: both(4, 4)}, minutes=5)
    ranked = scoring.rank([late, early], RULES)
    assert [(r.proposal_id, r.rank) for r in ranked] == [(2, 1), (1, 2)]
    assert ranked[0].score == ranked[1].score


def test_rank_unfinished_scoring_is_ignored_and_counted() -> None:
    entry = candidate(1, {10: both(5, 5), 20: {"cele": 0}})
    [ranked] = scoring.rank([entry], RULES)
    assert ranked.score == 5 and ranked.scorers == 1 and ranked.unfinished == 1
    assert ranked.spread == 0


def test_rank_unscored_proposals_come_last_without_a_rank() -> None:
    ranked = scoring.rank([candidate(1, {}), candidate(2, {10: both(1, 1)})], RULES)
    assert [(r.proposal_id, r.rank, r.score) for r in ranked] == [
        (2, 1, Fraction(1)),
        (1, None, None),
    ]


def test_rank_mixed_scales_are_shown_in_percent() -> None:
    mixed = [Rule("a", Fraction(1), 0, 5), Rule("b", Fraction(1), 1, 10)]
    [entry] = scoring.rank([candidate(1, {10: {"a": 5, "b": 10}})], mixed)
    assert scoring.scale(mixed) == (0, 100)
    assert entry.score == 100


def test_propose_takes_the_best_within_max_winners() -> None:
    entries = [candidate(i, {10: both(5 - i, 3)}, amount="1000") for i in range(1, 6)]
    ranked = scoring.rank(entries, RULES)
    selection = scoring.propose(ranked, budget=Decimal(30000), min_winners=1, max_winners=3)
    assert selection.chosen == (1, 2, 3)
    assert selection.total == Decimal(3000) and selection.allowed


def test_propose_budget_forces_a_lower_ranked_choice() -> None:
    first = candidate(1, {10: both(5, 5)}, amount="10000")
    second = candidate(2, {10: both(4, 4)}, amount="10000")
    third = candidate(3, {10: both(3, 3)}, amount="9000")
    fourth = candidate(4, {10: both(2, 2)}, amount="8000")
    ranked = scoring.rank([first, second, third, fourth], RULES)
    selection = scoring.propose(ranked, budget=Decimal(30000), min_winners=3, max_winners=7)
    # 10 000 + 10 000 + 9 000 leaves 1 000: the fourth does not fit.
    assert selection.chosen == (1, 2, 3)
    tight = scoring.propose(ranked, budget=Decimal(28000), min_winners=3, max_winners=7)
    # The third (9 000) no longer fits after 20 000; the fourth (8 000) takes its place.
    assert tight.chosen == (1, 2, 4)
    assert tight.skipped == (3,)
    assert tight.total == Decimal(28000) and tight.remaining == 0


def test_propose_fewer_than_min_winners_fit_is_flagged() -> None:
    entries = [candidate(i, {10: both(5 - i, 1)}, amount="12000") for i in range(1, 5)]
    ranked = scoring.rank(entries, RULES)
    selection = scoring.propose(ranked, budget=Decimal(30000), min_winners=3, max_winners=7)
    assert selection.chosen == (1, 2)
    assert selection.too_few and selection.allowed


def test_propose_never_picks_unscored_proposals() -> None:
    ranked = scoring.rank([candidate(1, {}), candidate(2, {10: both(1, 1)})], RULES)
    selection = scoring.propose(ranked, budget=Decimal(30000), min_winners=1, max_winners=7)
    assert selection.chosen == (2,)


def test_assess_adjusted_selection_over_budget_or_too_many_is_not_allowed() -> None:
    entries = [candidate(i, {10: both(5, i % 5)}, amount="10000") for i in range(1, 5)]
    ranked = scoring.rank(entries, RULES)
    options = {"budget": Decimal(30000), "min_winners": 1, "max_winners": 3}
    over = scoring.assess([1, 2, 3, 4], ranked, **options)
    assert over.over_budget and over.too_many and not over.allowed
    fine = scoring.assess([4, 1], ranked, **options)
    assert fine.allowed and set(fine.chosen) == {1, 4} and fine.total == Decimal(20000)


def test_rules_from_the_shipped_contest_share_one_scale() -> None:
    contest = load_contest(CONTEST, ZoneInfo("Europe/Warsaw"))
    found = scoring.rules(contest.criteria)
    assert len(found) == 5 and scoring.scale(found) == (0, 5)
    perfect = {rule.id: 5 for rule in found}
    assert scoring.total(found, perfect) == 1
