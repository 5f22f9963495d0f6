"""Pydantic's validation errors in a content file, in a coordinator's words.

Each error becomes one `Problem` at the line of the field, with the field's readable
label (`handlers/core/content_files.py`), a suggestion for a misspelt field, and union
branches that do not fit what was written left out.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from handlers.core.content_files import Loc, Problem, Source, kind, show
from handlers.core.forms import ID_PATTERN, QuestionType


def _is_tag(part: str | int) -> bool:
    """Pydantic names union branches in `loc` ('str', 'list[...]', 'function-after[...]')."""
    return isinstance(part, str) and (
        part in ("str", "int", "float", "bool") or "[" in part or "(" in part or part[:1].isupper()
    )


def _branch_fits(tag: str, value: Any) -> bool:
    if tag == "str":
        return isinstance(value, str)
    if tag.startswith("list["):
        return isinstance(value, list)
    return isinstance(value, dict)


@dataclass(frozen=True)
class Wording:
    """What differs between kinds of file in the error messages.

    `fields`: every field name a file may use (to suggest one for a typo);
    `lists`: messages for lists that must not be empty, by location;
    `patterns`: messages for text patterns other than ids, by pattern.
    """

    fields: Sequence[str]
    lists: Mapping[Loc, str] = field(default_factory=dict)
    patterns: Mapping[str, str] = field(default_factory=dict)


def validation_problems(
    error: ValidationError, source: Source, wording: Wording, *, skip_root: bool = False
) -> list[Problem]:
    """Every pydantic error, with union branches that don't fit the value dropped.

    `skip_root` leaves out the model's own whole-file checks (errors without a
    location), for callers that report the same mistakes at their lines.
    """
    problems: list[Problem] = []
    unions: dict[Loc, bool] = {}  # union location -> some branch fitted the value
    for err in error.errors():
        raw: Loc = tuple(err["loc"])
        if skip_root and not raw:
            continue
        tags = [i for i, part in enumerate(raw) if _is_tag(part)]
        if tags and raw[tags[0]] != "[key]":
            prefix = raw[: tags[0]]
            fits = _branch_fits(str(raw[tags[0]]), source.value(prefix))
            unions[prefix] = unions.get(prefix, False) or fits
            if not fits:
                continue
        loc = tuple(part for part in raw if not _is_tag(part))
        problems.append(_friendly(err, loc, is_key="[key]" in raw, source=source, wording=wording))
    for prefix, fitted in unions.items():
        if fitted:
            continue
        if prefix and prefix[-1] == "show_if":
            message = "should be a condition (question: ..., equals: ...) or a list of them"
        else:
            message = "should be a text, or one text per language (pl: ..., en: ...)"
        problems.append(source.problem(prefix, f"{message}, not {kind(source.value(prefix))}"))
    return problems


def _friendly(err: Any, loc: Loc, *, is_key: bool, source: Source, wording: Wording) -> Problem:
    kind_: str = err["type"]
    got = err.get("input")
    ctx = err.get("ctx") or {}
    parent = loc[:-1]
    if kind_ == "missing":
        return source.problem(parent, f'missing "{loc[-1]}"')
    if kind_ == "extra_forbidden":
        message = f'unknown field "{loc[-1]}"'
        close = difflib.get_close_matches(str(loc[-1]), list(wording.fields), n=1)
        if close:
            message += f' (did you mean "{close[0]}"?)'
        return source.problem(loc, message, label=parent)
    if is_key:
        return source.problem(loc, f"unknown language {show(got)}: use pl or en", label=parent)
    if kind_ == "string_pattern_mismatch" and ctx.get("pattern") == ID_PATTERN:
        message = (
            f"{show(got)} is not a valid id: use lowercase letters a-z, digits, "
            '"-" and "_" (no spaces or Polish letters, at most 40 characters)'
        )
    elif kind_ == "string_pattern_mismatch" and ctx.get("pattern") in wording.patterns:
        message = f"{show(got)} {wording.patterns[ctx['pattern']]}"
    elif kind_ == "enum" and loc and loc[-1] == "type":
        types = ", ".join(str(member) for member in QuestionType)
        message = f"unknown question type {show(got)}; use one of: {types}"
    elif kind_ in ("value_error", "assertion_error"):
        message = str(ctx.get("error") or err["msg"])
        message = message.removeprefix(f"{loc[-1]} ") if loc else message
    elif kind_ == "string_type":
        message = f"should be a text, not {kind(got)}"
        if isinstance(got, bool):
            message += " (put it in quotes: YAML reads yes/no/on/off as true/false)"
    elif kind_ in ("list_type", "too_short") and loc in wording.lists:
        message = wording.lists[loc]
    elif kind_ == "list_type":
        message = f'should be a list (one "- " item a line), not {kind(got)}'
    elif kind_ in ("dict_type", "model_type", "model_attributes_type"):
        message = f"should be a mapping (name: value lines), not {kind(got)}"
    elif kind_.startswith(("datetime_", "date_")):
        message = f"should be a date and time like 2021-04-30 23:59, not {show(got)}"
    elif kind_.startswith("bool_"):
        message = f"should be true or false, not {show(got)}"
    elif kind_.startswith("int_"):
        message = f"should be a whole number, not {show(got)}"
    elif kind_.startswith("float_"):
        message = f"should be a number, not {show(got)}"
    elif kind_.startswith("decimal_"):
        message = (
            "should be an amount written like 30000 or 2500.50 "
            f"(no spaces, no currency), not {show(got)}"
        )
    else:
        message = str(err["msg"]).replace("Input should", "should")
        message = message[:1].lower() + message[1:]
        if kind_ == "literal_error":
            message += f", not {show(got)}"
    return source.problem(loc, message)
