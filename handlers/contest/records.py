"""Proposals as the coordinators read them: names, amounts, marks, ranking, full records.

Shared by the chat (`handlers/contest/review.py`, `handlers/contest/review_scores.py`) and the
exports (`handlers/contest/exports.py`), so a proposal's title, applicant and
amount read the same everywhere, and the ranking is computed one way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from babel.numbers import format_decimal
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.contest import budget, scoring
from handlers.contest.model import Contest
from handlers.contest.scoring import Candidate, Ranked
from storage import proposals as store
from storage import scores as score_store
from storage.proposals import (
    ContestOutcome,
    Proposal,
    ProposalAttachment,
    ProposalHistory,
    ProposalScore,
)

# Submitted or later, and not withdrawn: what coordinators score and rank.
SCOREABLE = (
    store.SUBMITTED,
    store.UNDER_REVIEW,
    store.CHANGES_REQUESTED,
    store.ACCEPTED,
    store.REJECTED,
)
# Statuses a coordinator can set, and from which (a draft or a withdrawn proposal
# belongs to the applicant).
TARGETS = (store.UNDER_REVIEW, store.CHANGES_REQUESTED, store.ACCEPTED, store.REJECTED)
CHANGEABLE = SCOREABLE
# A formally rejected proposal is ranked but never selected.
SELECTABLE = tuple(s for s in SCOREABLE if s != store.REJECTED)


# What can happen to a proposal (`storage.proposals.record`), each named in the
# catalogue as `review.history.<kind>`; a kind not listed reads "review.history.other".
HISTORY_KINDS = ("created", "submitted", "resubmitted", "status", "withdrawn", "mail_linked")


def history_key(kind: str) -> str:
    """The catalogue key naming a history entry's kind (give it `kind=` too)."""
    return f"review.history.{kind}" if kind in HISTORY_KINDS else "review.history.other"


def title(contest: Contest, proposal: Proposal) -> str:
    value = proposal.answers.get(contest.title_field)
    return value if isinstance(value, str) else ""


def applicant(contest: Contest, proposal: Proposal) -> str:
    value = proposal.answers.get(contest.applicant_name_field)
    return value if isinstance(value, str) else ""


def email(contest: Contest, proposal: Proposal) -> str | None:
    value = proposal.answers.get(contest.email_field)
    return value if isinstance(value, str) and value else None


def label(proposal: Proposal) -> str:
    """The proposal's number, or `#id` for a draft (which has none yet)."""
    return proposal.number or f"#{proposal.id}"


def lines(proposal: Proposal) -> list[budget.Line]:
    return budget.lines_of(proposal.budget or [])


def amount(proposal: Proposal) -> Decimal:
    """What the proposal asks for: the total of its budget lines."""
    return budget.total(lines(proposal))


def marks(scores: Iterable[ProposalScore]) -> dict[int, dict[str, int]]:
    """Marks by coordinator, then by criterion."""
    found: dict[int, dict[str, int]] = {}
    for score in scores:
        found.setdefault(score.coordinator_id, {})[score.criterion] = score.value
    return found


def candidates(
    proposals: Iterable[Proposal], scores: dict[int, list[ProposalScore]]
) -> list[Candidate]:
    return [
        Candidate(p.id, amount(p), p.submitted_at, marks(scores.get(p.id, []))) for p in proposals
    ]


@dataclass(frozen=True)
class Standing:
    """The contest's ranking with the proposals it is about."""

    ranked: list[Ranked]
    proposals: dict[int, Proposal]
    bounds: tuple[int, int]
    # The scores it was computed from, by proposal id (pages show them without a second query).
    scores: dict[int, list[ProposalScore]] = field(default_factory=dict)
    _by_id: dict[int, Ranked] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {r.proposal_id: r for r in self.ranked})

    def proposal(self, entry: Ranked) -> Proposal:
        return self.proposals[entry.proposal_id]

    def of(self, proposal_id: int) -> Ranked | None:
        return self._by_id.get(proposal_id)


async def standing(session: AsyncSession, contest: Contest) -> Standing:
    """Every scoreable proposal of the contest, ranked."""
    found = await store.of_contest(session, contest.slug, statuses=SCOREABLE)
    scores = await score_store.of_contest(session, contest.slug)
    rules = scoring.rules(contest.criteria)
    ranked = scoring.rank(candidates(found, scores), rules)
    return Standing(ranked, {p.id: p for p in found}, scoring.scale(rules), scores)


def number(value: Fraction | Decimal | float | None, language: str) -> str:
    """A score or spread with two decimals in the reader's language (4,25 / 4.25)."""
    if value is None:
        return "–"
    return format_decimal(round(float(value), 2), format="0.00", locale=language)


@dataclass
class ProposalRecord:
    """Everything about one proposal, for the exports and `lokalnie proposals show`."""

    proposal: Proposal
    lines: list[budget.Line]
    total: Decimal
    attachments: list[ProposalAttachment]
    history: list[ProposalHistory]
    scores: list[ProposalScore]
    ranked: Ranked | None
    outcome: ContestOutcome | None

    @property
    def answers(self) -> dict[str, Any]:
        """The form answers (the survey exports' columns read them from here)."""
        return self.proposal.answers


async def records(
    session: AsyncSession,
    contest: Contest,
    *,
    drafts: bool = False,
    numbers: Sequence[str] = (),
) -> list[ProposalRecord]:
    """Full records of the contest's proposals (submitted ones unless `drafts`)."""
    statuses = None if drafts else tuple(s for s in store.STATUSES if s != store.DRAFT)
    found = await store.of_contest(session, contest.slug, statuses=statuses)
    if numbers:
        found = [p for p in found if p.number in numbers]
    scores = await score_store.of_contest(session, contest.slug)
    ranked = (await standing(session, contest)).ranked
    outcome = {o.proposal_id: o for o in await score_store.outcome(session, contest.slug)}
    result = []
    for proposal in found:
        proposal_lines = lines(proposal)
        result.append(
            ProposalRecord(
                proposal=proposal,
                lines=proposal_lines,
                total=budget.total(proposal_lines),
                attachments=await store.attachments(session, proposal.id),
                history=await store.history(session, proposal.id),
                scores=scores.get(proposal.id, []),
                ranked=next((r for r in ranked if r.proposal_id == proposal.id), None),
                outcome=outcome.get(proposal.id),
            )
        )
    return result
