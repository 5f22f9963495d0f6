"""The content model of a form: a survey (and later the proposal form).

A form is a list of questions; the step engine in `handlers/core/flow.py` asks them
one at a time. Texts are `Text`: one string for every language, or a mapping
`{pl: ..., en: ...}` (Polish first). These pydantic models are what a content
file must match; `handlers/surveys/files.py` reads the YAML and reports every
problem with its line.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator
from pydantic_core import PydanticCustomError

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
# A question's short title heads its chart and its line in a summary.
SHORT_TITLE = 60
# The pydantic error type of a broken content rule (see `rule`).
CONTENT_RULE = "content_rule"


class Text(RootModel[str | dict[Literal["pl", "en"], str]]):
    """A text in one or more languages."""

    def get(self, language: str) -> str:
        if isinstance(self.root, str):
            return self.root
        return self.root.get(language) or self.root.get("pl") or next(iter(self.root.values()))

    def languages(self) -> set[str] | None:
        """None means 'the same text for every language'."""
        return None if isinstance(self.root, str) else set(self.root)


class QuestionType(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    SCALE = "scale"
    MATRIX = "matrix"
    TEXT = "text"
    NUMBER = "number"
    YESNO = "yesno"
    DATE = "date"
    EMAIL = "email"
    PHONE = "phone"


def rule(key: str, /, **values: Any) -> PydanticCustomError:
    """A content rule broken: its catalogue key (`content.error.*`) and values, which
    the file checks render in the coordinator's language."""
    return PydanticCustomError(CONTENT_RULE, key, values)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(Strict):
    id: str = Field(pattern=ID_PATTERN)
    text: Text
    # What the button shows when `text` is too long for it (and results keep `text`).
    short: Text | None = None
    # Multiple choice: this option ("none of them") cannot go with any other one.
    exclusive: bool = False

    def label(self, language: str) -> str:
        """The text of this option's button."""
        return (self.short or self.text).get(language)


class Scale(Strict):
    min: int = 1
    max: int = 5
    min_label: Text | None = None
    max_label: Text | None = None

    @model_validator(mode="after")
    def _range(self) -> Scale:
        if not self.min < self.max or self.max - self.min > 10:
            raise rule("content.error.scale_range")
        return self


class Condition(Strict):
    """`show_if`: the question is asked only when an earlier answer matches.

    Exactly one of `equals`, `in_` (written `in`), `not_in` or `answered`.
    For multiple choice, `equals`/`in` match when any chosen option matches.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    question: str
    equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    not_in: list[Any] | None = None
    answered: bool | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        given = [
            self.equals is not None,
            self.in_ is not None,
            self.not_in is not None,
            self.answered is not None,
        ]
        if sum(given) != 1:
            raise rule("content.error.show_if_one")
        return self


class Question(Strict):
    id: str = Field(pattern=ID_PATTERN)
    type: QuestionType
    text: Text
    # A few words naming the question in results ("Rating of the centre"); without it
    # the question's text is cut at a word.
    short: Text | None = None
    help: Text | None = None
    optional: bool = False
    # Collects data that identifies a person (a name, an address): never shared,
    # and in an anonymous survey only allowed in the contact part (`leaders`).
    personal: bool = False
    show_if: Condition | list[Condition] | None = None
    # single / multiple
    options: list[Option] = Field(default_factory=list)
    other: bool = False
    min_choices: int | None = Field(default=None, ge=0)
    max_choices: int | None = Field(default=None, ge=1)
    # scale / matrix
    scale: Scale | None = None
    # Offer "hard to say / does not apply" next to the scale (stored as no rating).
    dont_know: bool = False
    items: list[Option] = Field(default_factory=list)
    # matrix: rate only the items chosen in this earlier multiple-choice question
    # (items and options share their ids); none chosen: the matrix is not asked.
    items_from: str | None = Field(default=None, pattern=ID_PATTERN)
    # text
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=1, le=4000)
    # number
    min: float | None = None
    max: float | None = None
    integer: bool = True

    @model_validator(mode="after")
    def _shape(self) -> Question:
        kind = self.type
        if kind in (QuestionType.SINGLE, QuestionType.MULTIPLE):
            if len(self.options) < 2:
                raise rule("content.error.options_min", type=str(kind))
            ids = [o.id for o in self.options]
            if len(set(ids)) != len(ids):
                raise rule("content.error.option_ids_unique")
            if "other" in ids and self.other:
                raise rule("content.error.other_reserved")
        elif self.options or self.other:
            raise rule("content.error.options_only_choice", type=str(kind))
        if kind is QuestionType.MULTIPLE:
            top = len(self.options) + (1 if self.other else 0)
            low, high = self.min_choices or 0, self.max_choices or top
            if low > high or high > top:
                raise rule("content.error.choices_range")
        elif self.min_choices is not None or self.max_choices is not None:
            raise rule("content.error.choices_only_multiple")
        if kind is not QuestionType.MULTIPLE and any(o.exclusive for o in self.options):
            raise rule("content.error.exclusive_only_multiple")
        if kind in (QuestionType.SCALE, QuestionType.MATRIX):
            if self.scale is None:
                raise rule("content.error.scale_needed", type=str(kind))
        elif self.scale is not None or self.dont_know:
            raise rule("content.error.scale_only")
        if kind is QuestionType.MATRIX:
            if len(self.items) < 1:
                raise rule("content.error.items_needed")
            ids = [i.id for i in self.items]
            if len(set(ids)) != len(ids):
                raise rule("content.error.item_ids_unique")
        elif self.items or self.items_from is not None:
            raise rule("content.error.items_only_matrix")
        if any(item.exclusive for item in self.items):
            raise rule("content.error.exclusive_only_multiple")
        if kind is not QuestionType.TEXT and (self.min_length or self.max_length):
            raise rule("content.error.length_only_text")
        if kind is not QuestionType.NUMBER and (self.min is not None or self.max is not None):
            raise rule("content.error.min_max_only_number")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise rule("content.error.min_above_max")
        return self

    @property
    def conditions(self) -> list[Condition]:
        if self.show_if is None:
            return []
        return self.show_if if isinstance(self.show_if, list) else [self.show_if]

    def short_text(self, language: str) -> str:
        """The question's short title: `short`, or its text cut at a word with "…"."""
        if self.short is not None:
            return self.short.get(language)
        return cut_at_word(self.text.get(language), SHORT_TITLE)

    def option(self, option_id: str) -> Option | None:
        for option in [*self.options, *self.items]:
            if option.id == option_id:
                return option
        return None

    def option_text(self, option_id: str, language: str) -> str | None:
        for option in [*self.options, *self.items]:
            if option.id == option_id:
                return option.text.get(language)
        return None


def cut_at_word(text: str, limit: int) -> str:
    """`text` on one line, at most `limit` characters, cut after a whole word with "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if " " in head:
        head = head[: head.rindex(" ")]
    return head.rstrip(" ,;:–-") + "…"


class Leaders(Strict):
    """How to find residents who would lead or join an initiative."""

    interest: str
    values: list[str]
    consent: str
    contact: list[str] = Field(default_factory=list)


class Survey(Strict):
    slug: str = Field(pattern=ID_PATTERN)
    title: Text
    intro: Text
    outro: Text
    opens: datetime | None = None
    closes: datetime | None = None
    anonymous: bool = False
    responses: Literal["one", "many"] = "one"
    languages: list[Literal["pl", "en"]] = Field(default_factory=lambda: ["pl", "en"])
    leaders: Leaders | None = None
    questions: list[Question] = Field(min_length=1)

    def question(self, question_id: str) -> Question | None:
        for question in self.questions:
            if question.id == question_id:
                return question
        return None
