"""What changed between two submissions of a proposal, for the coordinators.

A proposal is kept as it was at each submission (`storage.proposals.take_snapshot`).
`differences` compares two such versions: the form's fields that changed
(before and after), budget lines added, removed or changed (a line is the same
line when its name or its amount stayed), and files added or removed by name.
`describe` writes them in the reader's language, one line per change.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from handlers.contest import budget as money_rules
from handlers.contest.model import Contest
from handlers.contest.proposal_budget import line_text
from handlers.core import form_runner as runner
from handlers.core.context import Context
from handlers.core.forms import Question
from handlers.core.labels import cut_label
from storage.proposals import ProposalSnapshot

# How much of a long answer a change shows, before and after.
SHOWN = 300


@dataclass(frozen=True)
class Version:
    answers: dict[str, Any]
    budget: list[dict[str, str]]
    files: list[str]

    @classmethod
    def of(cls, snapshot: ProposalSnapshot) -> Version:
        return cls(dict(snapshot.answers), list(snapshot.budget), list(snapshot.files))


Line = money_rules.Line


@dataclass
class Differences:
    fields: list[tuple[str, Any, Any]] = field(default_factory=list)
    lines_added: list[Line] = field(default_factory=list)
    lines_removed: list[Line] = field(default_factory=list)
    lines_changed: list[tuple[Line, Line]] = field(default_factory=list)
    files_added: list[str] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any(
            (
                self.fields,
                self.lines_added,
                self.lines_removed,
                self.lines_changed,
                self.files_added,
                self.files_removed,
            )
        )


def differences(contest: Contest, before: Version, after: Version) -> Differences:
    found = Differences()
    for question in contest.form:
        old, new = before.answers.get(question.id), after.answers.get(question.id)
        if old != new:
            found.fields.append((question.id, old, new))
    _budget(found, money_rules.lines_of(before.budget), money_rules.lines_of(after.budget))
    old_files, new_files = Counter(before.files), Counter(after.files)
    found.files_added = list((new_files - old_files).elements())
    found.files_removed = list((old_files - new_files).elements())
    return found


def _budget(found: Differences, before: list[Line], after: list[Line]) -> None:
    same = Counter(before) & Counter(after)
    old = list((Counter(before) - same).elements())
    new = list((Counter(after) - same).elements())
    # The same line with a new amount, then the same amount under a new name.
    for matches in (
        lambda a, b: a.item == b.item,
        lambda a, b: a.amount == b.amount,
    ):
        for line in list(old):
            partner = next((n for n in new if matches(line, n)), None)
            if partner is not None:
                found.lines_changed.append((line, partner))
                old.remove(line)
                new.remove(partner)
    found.lines_removed, found.lines_added = old, new


def describe(ctx: Context, contest: Contest, found: Differences) -> list[str]:
    """One line per change, in `ctx.language`."""
    if not found:
        return [ctx.t("review.diff_none")]
    lines = []
    for question_id, old, new in found.fields:
        question = contest.question(question_id)
        assert question is not None
        lines.append(
            ctx.t(
                "review.diff_field",
                question=question.text.get(ctx.language),
                before=_answer(ctx, question, old),
                after=_answer(ctx, question, new),
            )
        )

    def money(line: Line) -> str:
        return line_text(ctx, contest, line)

    lines += [ctx.t("review.diff_line_added", line=money(line)) for line in found.lines_added]
    lines += [ctx.t("review.diff_line_removed", line=money(line)) for line in found.lines_removed]
    lines += [
        ctx.t("review.diff_line_changed", before=money(old), after=money(new))
        for old, new in found.lines_changed
    ]
    lines += [ctx.t("review.diff_file_added", name=name) for name in found.files_added]
    lines += [ctx.t("review.diff_file_removed", name=name) for name in found.files_removed]
    return lines


def _answer(ctx: Context, question: Question, value: Any) -> str:
    if value is None:
        return ctx.t("review.diff_no_answer")
    return cut_label(runner.describe(ctx, question, value), SHOWN)
