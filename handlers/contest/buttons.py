"""The contest's buttons, as typed callback data (see `handlers/core/callbacks.py`).

The applicant's side: the proposal flow (`proposal:<step>:...`, valid only at
that step) and /myproposals (`myprop:...`). The coordinators' side: browsing
(`rv:...`), the status note (`rvnote:...`), scoring (`rs:...`) and the
ranking and selection (`rvsel:...`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from handlers.core.callbacks import CallbackData, kind
from handlers.core.form_runner import FormPress
from storage import proposals as store

PROPOSAL = "proposal"
MINE = "myprop"
REVIEW = "rv"
NOTE = "rvnote"
SCORE = "rs"
SELECT = "rvsel"
# The proposal flow's steps after the form's questions.
BUDGET, FILES, SUMMARY, FIELDS = "budget", "files", "summary", "fields"
# One budget line being changed or removed; one file being removed.
BUDGET_LINE, FILE_REMOVE = "bline", "frm"
# The steps of the coordinator's status change.
DATE_STEP, NOTE_STEP = "date", "note"
# The step of /select.
PICK = "pick"
LISTED = tuple(s for s in store.STATUSES if s != store.DRAFT)


# --- the applicant ------------------------------------------------------------------


@kind(PROPOSAL)
@dataclass(frozen=True)
class ProposalPress(FormPress):
    """A button of a form question: `proposal:<q step>:<value>`."""


@kind(PROPOSAL, BUDGET)
@dataclass(frozen=True)
class BudgetPress(CallbackData):
    choice: Literal["undo", "done"]


@kind(PROPOSAL, "bpick")
@dataclass(frozen=True)
class BudgetPick(CallbackData):
    """Open budget line number `line` (from 0) to change or remove it."""

    line: int

    def at_step(self) -> str:
        return BUDGET


@kind(PROPOSAL, BUDGET_LINE)
@dataclass(frozen=True)
class LinePress(CallbackData):
    """On one budget line: type only its name, remove it, confirm, or back to the list."""

    choice: Literal["name", "remove", "yes", "back"]


@kind(PROPOSAL, FILES)
@dataclass(frozen=True)
class FilesDone(CallbackData):
    """No more files."""

    choice: Literal["done"]


@kind(PROPOSAL, "fpick")
@dataclass(frozen=True)
class FilePick(CallbackData):
    """Remove the attachment with this id (asks first)."""

    attachment: int

    def at_step(self) -> str:
        return FILES


@kind(PROPOSAL, FILE_REMOVE)
@dataclass(frozen=True)
class FileRemove(CallbackData):
    """Confirm removing the file, or keep it."""

    choice: Literal["yes", "back"]


@kind(PROPOSAL, SUMMARY)
@dataclass(frozen=True)
class SummaryPress(CallbackData):
    choice: Literal["submit", "edit", "later"]


@kind(PROPOSAL, FIELDS)
@dataclass(frozen=True)
class FieldPick(CallbackData):
    """Which part to correct: a question id, or the budget, the files, back to the summary."""

    field: str


@kind(MINE, "new")
@dataclass(frozen=True)
class MineNew(CallbackData):
    """Start another proposal although a draft exists."""


@kind(MINE, "open")
@dataclass(frozen=True)
class MineOpen(CallbackData):
    proposal: int


@kind(MINE, "files")
@dataclass(frozen=True)
class MineFiles(CallbackData):
    """Add or remove files of a submitted proposal while the call is open."""

    proposal: int


@kind(MINE, "show")
@dataclass(frozen=True)
class MineShow(CallbackData):
    proposal: int


@kind(MINE, "withdraw")
@dataclass(frozen=True)
class MineWithdraw(CallbackData):
    proposal: int


@kind(MINE, "withdraw_yes")
@dataclass(frozen=True)
class MineWithdrawYes(CallbackData):
    proposal: int


@kind(MINE, "withdraw_no")
@dataclass(frozen=True)
class MineWithdrawNo(CallbackData):
    """Keep the proposal in the contest (the way back from the withdrawal question)."""

    proposal: int


@kind(MINE, "restore")
@dataclass(frozen=True)
class MineRestore(CallbackData):
    """Undo a withdrawal while the call is open."""

    proposal: int


# --- the coordinators -----------------------------------------------------------------


@kind(REVIEW, "all")
@dataclass(frozen=True)
class ReviewOverview(CallbackData):
    """Back to the counts per status."""


@kind(REVIEW, "st")
@dataclass(frozen=True)
class ReviewStatus(CallbackData):
    """One status's proposals, a page at a time."""

    status: str
    page: int

    def check(self) -> bool:
        return self.status in LISTED


@kind(REVIEW, "p")
@dataclass(frozen=True)
class ReviewShow(CallbackData):
    proposal: int


@kind(REVIEW, "ch")
@dataclass(frozen=True)
class ReviewChange(CallbackData):
    """Move a proposal to `status` (asks for the date and the note first)."""

    proposal: int
    status: str

    def check(self) -> bool:
        return self.status in store.STATUSES


@kind(NOTE, NOTE_STEP)
@dataclass(frozen=True)
class NoteSkip(CallbackData):
    """Change the status without a note of one's own, or leave without a change."""

    choice: Literal["skip", "cancel"]


@kind(SCORE, "c")
@dataclass(frozen=True)
class ScoreShow(CallbackData):
    """Show criterion number `criterion` (from 0) of a proposal with its scale."""

    proposal: int
    criterion: int


@kind(SCORE, "m")
@dataclass(frozen=True)
class ScoreMark(CallbackData):
    """Give `mark` on criterion number `criterion` of a proposal."""

    proposal: int
    criterion: int
    mark: int


@kind(SELECT, "rank")
@dataclass(frozen=True)
class RankingOpen(CallbackData):
    pass


@kind(SELECT, "start")
@dataclass(frozen=True)
class SelectStart(CallbackData):
    pass


@kind(SELECT, PICK)
@dataclass(frozen=True)
class SelectToggle(CallbackData):
    """Tick a proposal in or out of the selection."""

    proposal: int


@kind(SELECT, "ok")
@dataclass(frozen=True)
class SelectConfirm(CallbackData):
    def at_step(self) -> str:
        return PICK


@kind(SELECT, "leave")
@dataclass(frozen=True)
class SelectLeave(CallbackData):
    """Leave the selection without confirming anything."""

    def at_step(self) -> str:
        return PICK
