"""The centre's own details (content/centre.yaml), used in greetings and the RODO clause."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ContentError(Exception):
    """A content file is missing or wrong; the message names the file and the field."""


def yaml_problem(error: yaml.YAMLError) -> str:
    """A YAML parser's report in one line: where, and what it expected."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"line {mark.line + 1}, column {mark.column + 1}: {error.problem}"
    return " ".join(str(error).split())


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
        raise ContentError(f"{path}: cannot read ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise ContentError(f"{path}: not valid YAML ({yaml_problem(error)})") from None
    try:
        return Centre.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ContentError(f"{path}: {field}: {first['msg']}") from None
