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

from handlers.core.content_files import Loc, Message, Problem, Source, kind, note, show
from handlers.core.forms import CONTENT_RULE, ID_PATTERN, QuestionType


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
    `lists`: message keys for lists that must not be empty, by location;
    `patterns`: message keys for text patterns other than ids, by pattern (the
    message gets the value written as `value`).
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
        key = (
            "content.error.not_condition"
            if prefix and prefix[-1] == "show_if"
            else "content.error.not_text_or_languages"
        )
        problems.append(source.problem(prefix, note(key, got=kind(source.value(prefix)))))
    return problems


def error_message(err: Any) -> tuple[str, Message]:
    """One pydantic error of a file read without lines (centre.yaml, mail.yaml ...):
    the dotted field and what is wrong with it."""
    loc = tuple(part for part in err["loc"] if not _is_tag(part))
    field = ".".join(str(part) for part in loc)
    if err["type"] == "missing":
        return ".".join(str(part) for part in loc[:-1]), note(
            "content.error.missing_field", field=loc[-1]
        )
    if err["type"] == "extra_forbidden":
        return ".".join(str(part) for part in loc[:-1]), note(
            "content.error.unknown_field", field=loc[-1]
        )
    ctx = err.get("ctx") or {}
    return field, _message(err["type"], err.get("input"), ctx, err, loc, Wording(fields=()))


def _friendly(err: Any, loc: Loc, *, is_key: bool, source: Source, wording: Wording) -> Problem:
    kind_: str = err["type"]
    got = err.get("input")
    ctx = err.get("ctx") or {}
    parent = loc[:-1]
    if kind_ == "missing":
        return source.problem(parent, note("content.error.missing_field", field=loc[-1]))
    if kind_ == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), list(wording.fields), n=1)
        message = (
            note("content.error.unknown_field_like", field=loc[-1], like=close[0])
            if close
            else note("content.error.unknown_field", field=loc[-1])
        )
        return source.problem(loc, message, label=parent)
    if is_key:
        return source.problem(
            loc, note("content.error.unknown_language", value=show(got)), label=parent
        )
    return source.problem(loc, _message(kind_, got, ctx, err, loc, wording))


# Pydantic's limits on a value, by error type: the message key and the limit's name.
_LIMITS = {
    "greater_than": ("content.error.greater_than", "gt"),
    "greater_than_equal": ("content.error.at_least", "ge"),
    "less_than": ("content.error.less_than", "lt"),
    "less_than_equal": ("content.error.at_most", "le"),
    "string_too_short": ("content.error.text_too_short", "min_length"),
    "string_too_long": ("content.error.text_too_long", "max_length"),
    "too_short": ("content.error.list_too_short", "min_length"),
    "too_long": ("content.error.list_too_long", "max_length"),
}


def _message(
    kind_: str, got: Any, ctx: dict[str, Any], err: Any, loc: Loc, wording: Wording
) -> Message:
    """The message of one pydantic error that is about a value (not a field name)."""
    if kind_ == CONTENT_RULE:
        return note(str(err["msg"]), **ctx)
    if kind_ == "string_pattern_mismatch" and ctx.get("pattern") == ID_PATTERN:
        return note("content.error.bad_id", value=show(got))
    if kind_ == "string_pattern_mismatch" and ctx.get("pattern") in wording.patterns:
        return note(wording.patterns[ctx["pattern"]], value=show(got))
    if kind_ == "enum" and loc and loc[-1] == "type":
        types = ", ".join(str(member) for member in QuestionType)
        return note("content.error.unknown_type", value=show(got), types=types)
    if kind_ == "string_type":
        if isinstance(got, bool):
            return note("content.error.not_text_bool", got=kind(got))
        return note("content.error.not_text", got=kind(got))
    if kind_ in ("list_type", "too_short") and loc in wording.lists:
        return note(wording.lists[loc])
    if kind_ == "list_type":
        return note("content.error.not_list", got=kind(got))
    if kind_ in ("dict_type", "model_type", "model_attributes_type"):
        return note("content.error.not_mapping", got=kind(got))
    for prefix, key in (
        (("datetime_", "date_"), "content.error.not_datetime"),
        (("bool_",), "content.error.not_bool"),
        (("int_",), "content.error.not_whole"),
        (("float_",), "content.error.not_number"),
        (("decimal_",), "content.error.not_amount"),
    ):
        if kind_.startswith(prefix):
            return note(key, got=show(got))
    if kind_ in _LIMITS:
        key, name = _LIMITS[kind_]
        return note(key, limit=ctx.get(name), got=show(got))
    if kind_ == "literal_error":
        # Pydantic lists the values as "'one' or 'many'": the "or" is English.
        expected = str(ctx.get("expected", "")).replace(" or ", ", ")
        return note("content.error.not_one_of", expected=expected, got=show(got))
    # A rule of pydantic's we have no words for: its own, in English.
    return note("content.error.other", detail=str(err["msg"]))
