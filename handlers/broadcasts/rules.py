"""The scheduling rules in `content/schedule.yaml`: reminder offsets and the grace period."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from handlers.core.centre import ContentError
from handlers.core.forms import rule

DURATION = re.compile(r"^\s*(?P<n>\d+)\s*(?P<unit>[dhm])\s*$")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_duration(text: str) -> timedelta:
    match = DURATION.match(str(text))
    if not match:
        raise rule("content.error.duration", value=text)
    return timedelta(**{UNITS[match["unit"]]: int(match["n"])})


class ScheduleRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    survey_reminders: list[timedelta] = Field(default_factory=list)
    contest_reminders: list[timedelta] = Field(default_factory=list)
    grace_period: timedelta = timedelta(hours=12)

    @field_validator("survey_reminders", "contest_reminders", mode="before")
    @classmethod
    def _offsets(cls, value: object) -> object:
        if isinstance(value, list):
            return [v if isinstance(v, timedelta) else parse_duration(v) for v in value]
        return value

    @field_validator("grace_period", mode="before")
    @classmethod
    def _grace(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value


def load_rules(content_dir: Path) -> ScheduleRules:
    """The rules, or the defaults when the file is absent."""
    path = content_dir / "schedule.yaml"
    if not path.exists():
        return ScheduleRules()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return ScheduleRules.model_validate(raw)
    except yaml.YAMLError as error:
        raise ContentError.bad_yaml(path, error) from None
    except ValidationError as error:
        raise ContentError.invalid(path, error) from None
