"""The centre's own details (content/centre.yaml), used in greetings and the RODO clause."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from handlers.core.content_files import Message, Problem, Render, keys_only, note
from handlers.core.content_wording import error_message


class ContentError(Exception):
    """A content file is missing or wrong: the file, the field and what is wrong as a
    catalogue key with values (`content.error.*`), shown in the operator's language by
    `text()` (str() shows the key)."""

    def __init__(self, path: Path, message: Message, where: str = "") -> None:
        self.path = path
        self.problem = Problem(None, message, where)
        super().__init__(str(self))

    def text(self, text: Render) -> str:
        return self.problem.format(self.path, text)

    def __str__(self) -> str:
        return self.text(keys_only)

    @classmethod
    def unreadable(cls, path: Path, error: OSError) -> ContentError:
        return cls(path, note("content.error.unreadable", reason=error.strerror or str(error)))

    @classmethod
    def bad_yaml(cls, path: Path, error: yaml.YAMLError) -> ContentError:
        """A YAML parser's report in one line: where, and what it expected."""
        if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
            mark = error.problem_mark
            message = note(
                "content.error.syntax_at",
                line=mark.line + 1,
                column=mark.column + 1,
                problem=error.problem,
            )
        else:
            message = note("content.error.syntax", problem=" ".join(str(error).split()))
        return cls(path, message)

    @classmethod
    def invalid(cls, path: Path, error: ValidationError) -> ContentError:
        """The first of pydantic's errors, in a coordinator's words."""
        where, message = error_message(error.errors()[0])
        return cls(path, message, where)


class Localised(BaseModel):
    """A text given in each language; Polish is required, English falls back to it."""

    model_config = ConfigDict(extra="forbid")
    pl: str
    en: str | None = None

    def get(self, language: str) -> str:
        return getattr(self, language, None) or self.pl


class Retention(BaseModel):
    """How long personal data is kept: `months` drives the retention job
    (scheduler/retention_job.py), `text` says the same in the RODO clause."""

    model_config = ConfigDict(extra="forbid")
    # At most 10 years: a longer period is surely a typo (days or a year).
    months: int = Field(gt=0, le=120)
    text: Localised


class Centre(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    # The name as it reads after "czat ..." (Polish needs the genitive there).
    name_in_greeting: Localised
    bot_name: str = "Lokalnie"
    address: str
    email: str
    phone: str | None = None
    website: str | None = None
    data_protection_officer: str
    programme: Localised
    retention: Retention


def load_centre(content_dir: Path) -> Centre:
    path = content_dir / "centre.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ContentError.unreadable(path, error) from None
    except yaml.YAMLError as error:
        raise ContentError.bad_yaml(path, error) from None
    try:
        return Centre.model_validate(raw)
    except ValidationError as error:
        raise ContentError.invalid(path, error) from None
