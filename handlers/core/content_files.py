"""Reading content files (YAML), every problem reported at its line: the shared machinery.

Surveys (`handlers/surveys/files.py`) and the contest (`handlers/contest/files.py`) are
written by coordinators, not programmers. Both need every mistake at once, each with the
line to fix and in words a non-programmer can act on, not pydantic's first error. This
module holds what the two have in common:

- `read_yaml`: the file parsed into YAML nodes (which know their lines) and plain data,
  with YAML's own errors and duplicate keys (which YAML silently accepts) as problems;
- `Source`: the line and a readable label (`questions[4] (id "wiek")`) of any location;
- `validation_problems`: pydantic's errors in a coordinator's words;
- `FormChecks`: what the question model cannot check on its own (unique ids, `show_if`
  pointing at an earlier question with a possible answer, texts in every language);
- small helpers for texts, dates and time zones.

In messages, lists are numbered from 1 as a coordinator counts them.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import TypeAdapter, ValidationError

from handlers.core.forms import ID_PATTERN, Condition, Question, QuestionType

Loc = tuple[str | int, ...]

DATETIME = TypeAdapter(datetime)
_BARE_DATE = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}\s*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CHOICE_TYPES = (QuestionType.SINGLE, QuestionType.MULTIPLE)


@dataclass(frozen=True)
class Problem:
    """One mistake in a content file; `line` is 1-based, None when no line applies."""

    line: int | None
    message: str

    def format(self, path: Path | str) -> str:
        """`PATH:LINE: message`, the form editors and terminals link to."""
        if self.line is None:
            return f"{path}: {self.message}"
        return f"{path}:{self.line}: {self.message}"


# --- reading -------------------------------------------------------------------------


def read_yaml(path: Path, *, empty: str, top_level: str) -> tuple[Source | None, list[Problem]]:
    """The parsed file, or None with the problems that stop reading it.

    `empty` is the message for an empty file, `top_level` names the fields expected at
    the top (for the message when the file is not a mapping). Duplicate keys are
    returned as problems alongside a usable `Source`.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [Problem(None, "cannot read the file: it is not UTF-8 text")]
    except OSError as error:
        reason = error.strerror or str(error)
        return None, [Problem(None, f"cannot read the file: {reason}")]
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        problems = duplicate_keys(node) if node is not None else []
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        return None, [yaml_problem(error)]
    except yaml.YAMLError as error:
        return None, [Problem(None, f"invalid YAML: {error}")]
    except (ValueError, TypeError) as error:  # e.g. a timestamp like 2021-13-01 00:00:00
        return None, [Problem(None, f"invalid YAML value: {error}")]
    finally:
        loader.dispose()
    if node is None:
        return None, [Problem(None, empty)]
    if not isinstance(data, dict):
        message = f"the top level must be a mapping of fields ({top_level}), not {kind(data)}"
        return None, [Problem(node.start_mark.line + 1, message)]
    return Source(node, data), problems


def yaml_problem(error: yaml.MarkedYAMLError) -> Problem:
    mark = error.problem_mark or error.context_mark
    problem = error.problem or error.context or "cannot parse"
    message = f"invalid YAML: {problem}"
    if error.context and error.problem:
        message += f" ({error.context})"
    if "mapping values are not allowed" in problem:
        message += '; a text that contains ": " must be in quotes'
    elif "'\\t'" in problem:
        message += "; indent with spaces, not tabs"
    return Problem(mark.line + 1 if mark else None, message)


def duplicate_keys(root: yaml.Node) -> list[Problem]:
    """YAML silently keeps the last of two equal keys; a coordinator should know."""
    problems: list[Problem] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                stack.append(value)
                if not isinstance(key, yaml.ScalarNode) or key.tag.endswith(":merge"):
                    continue
                line = key.start_mark.line + 1
                if key.value in first:
                    problems.append(
                        Problem(
                            line, f'duplicate key "{key.value}" (first on line {first[key.value]})'
                        )
                    )
                else:
                    first[key.value] = line
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return problems


def aware(value: datetime, timezone: ZoneInfo) -> datetime:
    """A naive time from a content file is the centre's local time."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone)
    return value.astimezone(timezone)


def sorted_unique(problems: list[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda problem: (problem.line is not None, problem.line or 0))


def valid(model: Any, raw: Any) -> Any:
    """`raw` validated by a model or TypeAdapter, None if invalid (reported elsewhere)."""
    validate = model.validate_python if isinstance(model, TypeAdapter) else model.model_validate
    try:
        return validate(raw)
    except ValidationError:
        return None


# --- where a problem is: lines and labels --------------------------------------------


class Source:
    """The parsed file twice: YAML nodes for lines, plain data for ids in labels."""

    def __init__(self, root: yaml.Node, data: dict[str, Any]) -> None:
        self.root = root
        self.data = data

    def line(self, loc: Loc) -> int | None:
        """The line of `loc`, or of its nearest parent found in the file."""
        node: yaml.Node = self.root
        line = node.start_mark.line + 1
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                match = [
                    (key, value)
                    for key, value in node.value
                    if isinstance(key, yaml.ScalarNode) and key.value == str(part)
                ]
                if not match:
                    break
                key, node = match[-1]
                line = key.start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if not 0 <= part < len(node.value):
                    break
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                break
        return line

    def label(self, loc: Loc) -> str:
        """`questions[4] (id "wiek").options[2]`: numbered from 1, ids where known."""
        text = ""
        data: Any = self.data
        for part in loc:
            if isinstance(part, int):
                text += f"[{part + 1}]"
                data = data[part] if isinstance(data, list) and 0 <= part < len(data) else None
                if isinstance(data, dict) and isinstance(data.get("id"), str):
                    text += f' (id "{data["id"]}")'
            else:
                text += f".{part}" if text else str(part)
                data = data.get(part) if isinstance(data, dict) else None
        return text

    def value(self, loc: Loc) -> Any:
        data: Any = self.data
        for part in loc:
            if isinstance(part, int) and isinstance(data, list) and 0 <= part < len(data):
                data = data[part]
            elif isinstance(part, str) and isinstance(data, dict) and part in data:
                data = data[part]
            else:
                return None
        return data

    def problem(self, loc: Loc, message: str, *, label: Loc | None = None) -> Problem:
        """A problem at the line of `loc`, prefixed with the label of `label` (or `loc`)."""
        where = self.label(loc if label is None else label)
        return Problem(self.line(loc), f"{where}: {message}" if where else message)


# --- pydantic's errors in a coordinator's words --------------------------------------


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


def show(value: Any) -> str:
    """A value as the coordinator wrote it, shortened for a message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return show(value)


def number(value: float | None) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def moment(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


# --- texts and dates -----------------------------------------------------------------


def text_problems(
    source: Source, locations: Iterator[Loc], languages: Sequence[str], owner: str
) -> list[Problem]:
    """Every text present and non-empty in each of `languages` (`owner`: "survey" ...)."""
    problems: list[Problem] = []
    for loc in locations:
        value = source.value(loc)
        if isinstance(value, str):
            if not value.strip():
                problems.append(source.problem(loc, "is empty"))
        elif isinstance(value, dict):
            for language in languages:
                text = value.get(language)
                if text is None:
                    shown = ", ".join(languages)
                    problems.append(
                        source.problem(loc, f'no "{language}" text (the {owner} is in {shown})')
                    )
                elif isinstance(text, str) and not text.strip():
                    problems.append(
                        source.problem(
                            loc + (language,), f'the "{language}" text is empty', label=loc
                        )
                    )
    return problems


def moments(
    source: Source, names: Sequence[str], timezone: ZoneInfo, examples: Mapping[str, str]
) -> tuple[dict[str, datetime], list[Problem]]:
    """The valid, aware times at `names`; a date without a time is a problem.

    A bare date would mean midnight at its start: the classic way to close a day early.
    """
    found: dict[str, datetime] = {}
    problems: list[Problem] = []
    for name in names:
        raw = source.data.get(name)
        if raw is None:
            continue
        if (isinstance(raw, date) and not isinstance(raw, datetime)) or (
            isinstance(raw, str) and _BARE_DATE.match(raw)
        ):
            problems.append(
                source.problem(
                    (name,),
                    f"give a date and time, e.g. {examples[name]}; a date alone "
                    "would mean midnight at its start",
                )
            )
            continue
        value = valid(DATETIME, raw)
        if value is not None:
            found[name] = aware(value, timezone)
    return found, problems


# --- a list of questions (a survey's questions, the proposal form) --------------------


@dataclass
class Entry:
    """One question of the file: where it is, what was written, and the model if valid."""

    index: int
    raw: Any
    id: str | None
    question: Question | None


class FormChecks:
    """Checks of the question list at `key` that need more than one question at a time."""

    def __init__(self, source: Source, key: str) -> None:
        self.source = source
        self.key = key
        self.problems: list[Problem] = []
        raw_questions = source.data.get(key)
        self.entries = [
            Entry(
                i,
                raw,
                raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None,
                valid(Question, raw),
            )
            for i, raw in enumerate(raw_questions if isinstance(raw_questions, list) else [])
        ]
        self.first: dict[str, Entry] = {}
        for entry in self.entries:
            if entry.id is not None:
                self.first.setdefault(entry.id, entry)

    def add(self, loc: Loc, message: str, *, label: Loc | None = None) -> None:
        self.problems.append(self.source.problem(loc, message, label=label))

    def run(self) -> list[Problem]:
        self.unique_ids()
        self.conditions()
        return self.problems

    def unique_ids(self) -> None:
        for entry in self.entries:
            first = self.first.get(entry.id) if entry.id else None
            if first is not None and first is not entry:
                line = self.source.line((self.key, first.index))
                self.add(
                    (self.key, entry.index, "id"),
                    f'the id "{entry.id}" is already used by {self.key}[{first.index + 1}] '
                    f"(line {line}); question ids must be unique",
                    label=(self.key, entry.index),
                )

    def where(self, entry: Entry) -> str:
        return f"{self.key}[{entry.index + 1}], line {self.source.line((self.key, entry.index))}"

    def conditions(self) -> None:
        for entry in self.entries:
            if not isinstance(entry.raw, dict):
                continue
            raw = entry.raw.get("show_if")
            base: Loc = (self.key, entry.index, "show_if")
            items = (
                [(base + (k,), item) for k, item in enumerate(raw)]
                if isinstance(raw, list)
                else [(base, raw)]
                if raw is not None
                else []
            )
            for loc, item in items:
                condition = valid(Condition, item)
                if condition is not None:
                    self.condition(entry, loc, condition, item)

    def condition(self, entry: Entry, loc: Loc, condition: Condition, raw: Any) -> None:
        target = self.first.get(condition.question)
        if target is None:
            self.add(
                loc + ("question",), f'refers to unknown question "{condition.question}"', label=loc
            )
            return
        if target.index >= entry.index:
            where = (
                "this same question"
                if target is entry
                else f'"{condition.question}" ({self.where(target)}), which comes later'
            )
            self.add(
                loc + ("question",),
                f"refers to {where}; show_if may only refer to an earlier question",
                label=loc,
            )
            return
        if condition.answered is not None or target.question is None:
            return
        tests: list[tuple[Loc, list[Any]]] = []
        if condition.equals is not None:
            tests.append((loc + ("equals",), [condition.equals]))
        for name, values in (("in", condition.in_), ("not_in", condition.not_in)):
            if values is None:
                continue
            key = "in_" if isinstance(raw, dict) and "in_" in raw else name
            if not values:
                self.add(loc + (key,), f'"{name}" needs at least one value', label=loc)
            tests.append((loc + (key,), list(values)))
        for value_loc, values in tests:
            for k, value in enumerate(values):
                message = condition_value_problem(target.question, value)
                if message is None:
                    continue
                exact = value_loc if value_loc[-1] == "equals" else value_loc + (k,)
                self.add(exact, message, label=loc)

    def text_locations(self) -> Iterator[Loc]:
        """Every text of every question: the question, its help, options, scale labels."""
        for entry in self.entries:
            if not isinstance(entry.raw, dict):
                continue
            base: Loc = (self.key, entry.index)
            for name in ("text", "help"):
                if entry.raw.get(name) is not None:
                    yield base + (name,)
            for group in ("options", "items"):
                options = entry.raw.get(group)
                for k, option in enumerate(options if isinstance(options, list) else []):
                    if isinstance(option, dict) and option.get("text") is not None:
                        yield base + (group, k, "text")
            scale = entry.raw.get("scale")
            if isinstance(scale, dict):
                for name in ("min_label", "max_label"):
                    if scale.get(name) is not None:
                        yield base + ("scale", name)


def choice_ids(question: Question) -> list[str]:
    ids = [option.id for option in question.options]
    return [*ids, "other"] if question.other else ids


def condition_value_problem(question: Question, value: Any) -> str | None:
    """Why `value` can never be an answer to `question`, or None when it can."""
    kind_ = question.type
    name = f'"{question.id}"'
    if kind_ in CHOICE_TYPES:
        allowed = choice_ids(question)
        if isinstance(value, str) and value in allowed:
            return None
        return f"{show(value)} is not an option of {name} (options: {', '.join(allowed)})"
    if kind_ is QuestionType.YESNO:
        if isinstance(value, bool):
            return None
        return f"{name} is a yesno question: compare with true or false, not {show(value)}"
    if kind_ in (QuestionType.SCALE, QuestionType.NUMBER):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{name} is a {kind_} question: compare with a number, not {show(value)}"
        if kind_ is QuestionType.SCALE and question.scale is not None:
            low, high = float(question.scale.min), float(question.scale.max)
        else:
            low, high = question.min, question.max
        if low is not None and value < low:
            return f"{show(value)} is below the lowest answer to {name} ({number(low)})"
        if high is not None and value > high:
            return f"{show(value)} is above the highest answer to {name} ({number(high)})"
        return None
    if kind_ is QuestionType.MATRIX:
        return f"{name} is a matrix question: show_if can only test it with `answered`"
    if kind_ is QuestionType.DATE:
        if isinstance(value, str) and _ISO_DATE.match(value):
            return None
        return f'{name} is a date question: compare with a date in quotes, e.g. "2021-05-01"'
    if isinstance(value, str):
        return None
    return f"{name} is a {kind_} question: compare with a text, not {show(value)}"
