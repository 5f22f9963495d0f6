"""The content model of the local-initiatives contest (`content/contest.yaml`).

The proposal form reuses the survey question model (`handlers.core.forms.Question`)
and the step engine; the budget and the attachments are the two steps a
survey does not have, and come after the questions.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from handlers.core.forms import ID_PATTERN, Question, Scale, Text, rule


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Criterion(Strict):
    """A scoring criterion: coordinators score each proposal on its scale."""

    id: str = Field(pattern=ID_PATTERN)
    text: Text
    help: Text | None = None
    weight: Decimal = Field(gt=0)
    scale: Scale


class Winners(Strict):
    min: int = Field(ge=1)
    max: int = Field(ge=1)

    @model_validator(mode="after")
    def _order(self) -> Winners:
        if self.min > self.max:
            raise rule("content.error.winners_order")
        return self


class Attachments(Strict):
    max_files: int = Field(default=5, ge=0, le=20)
    max_megabytes: Decimal = Field(default=Decimal(10), gt=0, le=50)
    types: list[str] = Field(default_factory=lambda: ["application/pdf", "image/jpeg", "image/png"])


class Messages(Strict):
    """What the applicant reads when the status of their proposal changes."""

    submitted: Text
    under_review: Text
    changes_requested: Text
    accepted: Text
    rejected: Text
    withdrawn: Text


class Contest(Strict):
    slug: str = Field(pattern=ID_PATTERN)
    name: Text
    intro: Text
    number_prefix: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]{0,19}$")
    currency: str = "PLN"
    budget_total: Decimal = Field(gt=0)
    cap_per_initiative: Decimal = Field(gt=0)
    winners: Winners
    opens: datetime | None = None
    closes: datetime
    criteria: list[Criterion] = Field(min_length=1)
    form: list[Question] = Field(min_length=1)
    attachments: Attachments = Field(default_factory=Attachments)
    messages: Messages
    # Form question ids the rest of the product relies on.
    title_field: str = "tytul"
    email_field: str = "email"
    applicant_name_field: str = "wnioskodawca"

    @model_validator(mode="after")
    def _consistent(self) -> Contest:
        if self.cap_per_initiative > self.budget_total:
            raise rule("content.error.cap_above_budget")
        if self.opens is not None and self.opens >= self.closes:
            raise rule("content.error.opens_after_closes")
        ids = [q.id for q in self.form]
        for field in (self.title_field, self.email_field, self.applicant_name_field):
            if field not in ids:
                raise rule("content.error.form_lacks", question=field)
        return self

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.form if q.id == question_id), None)
