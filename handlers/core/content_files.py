"""Reading content files (YAML), every problem reported at its line: the shared machinery.

Surveys (`handlers/surveys/files.py`) and the contest (`handlers/contest/files.py`) are
written by coordinators, not programmers. Both need every mistake at once, each with the
line to fix and in words a non-programmer can act on, not pydantic's first error. This
module holds what the two have in common:

- `read_yaml`: the file parsed into YAML nodes (which know their lines) and plain data,
  with YAML's own errors and duplicate keys (which YAML silently accepts) as problems;
- `Source`: the line and a readable label (`questions[4] (id "wiek")`) of any location;
- small helpers for texts, dates and time zones;
- in `content_wording.py`, `validation_problems`: pydantic's errors in a coordinator's
  words;
- in `form_checks.py`, `FormChecks`: what the question model cannot check on its own
  (unique ids, `show_if` pointing at an earlier question with a possible answer, texts
  in every language).

Problems carry catalogue keys with values (`content.error.*`), not sentences: the CLI
and the bot render them in the configured language. In labels, lists are numbered from
1 as a coordinator counts them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import TypeAdapter, ValidationError

Loc = tuple[str | int, ...]

DATETIME = TypeAdapter(datetime)
_BARE_DATE = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}\s*$")


# A catalogue's text function: `text(key, **values)`, e.g. the CLI's `cli_text`.
Render = Callable[..., str]


@dataclass(frozen=True)
class Message:
    """A catalogue key and its values; a value may itself be a Message (a phrase)."""

    key: str
    values: tuple[tuple[str, Any], ...] = ()

    def render(self, text: Render) -> str:
        values = {
            name: value.render(text) if isinstance(value, Message) else value
            for name, value in self.values
        }
        return text(self.key, **values)

    def value(self, name: str) -> Any:
        return dict(self.values)[name]


def note(key: str, /, **values: Any) -> Message:
    """A message for the coordinator: `note("content.error.empty_text")`."""
    return Message(key, tuple(values.items()))


def keys_only(key: str, /, **values: Any) -> str:
    """A rendering without a catalogue (logs of last resort): the key and its values."""
    shown = ", ".join(f"{name}={value}" for name, value in values.items())
    return f"{key} ({shown})" if shown else key


@dataclass(frozen=True)
class Problem:
    """One mistake in a content file; `line` is 1-based, None when no line applies.

    `where` is the label of the field (`questions[4] (id "wiek").text`), empty for
    the file as a whole.
    """

    line: int | None
    message: Message
    where: str = ""

    def text(self, text: Render) -> str:
        body = self.message.render(text)
        return f"{self.where}: {body}" if self.where else body

    def format(self, path: Path | str, text: Render = keys_only) -> str:
        """`PATH:LINE: message`, the form editors and terminals link to."""
        if self.line is None:
            return f"{path}: {self.text(text)}"
        return f"{path}:{self.line}: {self.text(text)}"


# --- reading -------------------------------------------------------------------------


def read_yaml(path: Path, *, empty: Message, top_level: str) -> tuple[Source | None, list[Problem]]:
    """The parsed file, or None with the problems that stop reading it.

    `empty` is the message for an empty file, `top_level` names the fields expected at
    the top (for the message when the file is not a mapping). Duplicate keys are
    returned as problems alongside a usable `Source`.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [Problem(None, note("content.error.not_utf8"))]
    except OSError as error:
        reason = error.strerror or str(error)
        return None, [Problem(None, note("content.error.unreadable", reason=reason))]
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        problems = duplicate_keys(node) if node is not None else []
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        return None, [yaml_problem(error)]
    except yaml.YAMLError as error:
        return None, [Problem(None, note("content.error.syntax", problem=str(error)))]
    except (ValueError, TypeError) as error:  # e.g. a timestamp like 2021-13-01 00:00:00
        return None, [Problem(None, note("content.error.yaml_value", problem=str(error)))]
    finally:
        loader.dispose()
    if node is None:
        return None, [Problem(None, empty)]
    if not isinstance(data, dict):
        message = note("content.error.top_level", fields=top_level, got=kind(data))
        return None, [Problem(node.start_mark.line + 1, message)]
    return Source(node, data), problems


def yaml_problem(error: yaml.MarkedYAMLError) -> Problem:
    mark = error.problem_mark or error.context_mark
    problem = error.problem or error.context or "cannot parse"
    if error.context and error.problem:
        problem += f" ({error.context})"
    key = "content.error.syntax"
    if "mapping values are not allowed" in problem:
        key = "content.error.yaml_quotes"
    elif "'\\t'" in problem:
        key = "content.error.yaml_tabs"
    return Problem(mark.line + 1 if mark else None, note(key, problem=problem))


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
                    message = note(
                        "content.error.duplicate_key", key=key.value, first=first[key.value]
                    )
                    problems.append(Problem(line, message))
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


class ContentFileError(Exception):
    """A content file has problems; `text()` lists them all, one `PATH:LINE: message` a
    line, in a catalogue's language (str() shows the keys)."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = list(problems)
        super().__init__(str(self))

    def text(self, text: Render) -> str:
        return "\n".join(problem.format(self.path, text) for problem in self.problems)

    def __str__(self) -> str:
        return self.text(keys_only)


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

    def problem(self, loc: Loc, message: Message, *, label: Loc | None = None) -> Problem:
        """A problem at the line of `loc`, labelled with `label` (or `loc`)."""
        return Problem(self.line(loc), message, self.label(loc if label is None else label))


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


def kind(value: Any) -> Message | str:
    if isinstance(value, dict):
        return note("content.error.kind_mapping")
    if isinstance(value, list):
        return note("content.error.kind_list")
    return show(value)


def moment(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


# --- texts and dates -----------------------------------------------------------------


def text_problems(
    source: Source, locations: Iterator[Loc], languages: Sequence[str], missing: str
) -> list[Problem]:
    """Every text present and non-empty in each of `languages`; `missing` is the key
    of the message for a text missing in one language (it names the file's kind)."""
    problems: list[Problem] = []
    for loc in locations:
        value = source.value(loc)
        if isinstance(value, str):
            if not value.strip():
                problems.append(source.problem(loc, note("content.error.empty_text")))
        elif isinstance(value, dict):
            for language in languages:
                text = value.get(language)
                if text is None:
                    shown = ", ".join(languages)
                    message = note(missing, language=language, languages=shown)
                    problems.append(source.problem(loc, message))
                elif isinstance(text, str) and not text.strip():
                    problems.append(
                        source.problem(
                            loc + (language,),
                            note("content.error.empty_language_text", language=language),
                            label=loc,
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
                source.problem((name,), note("content.error.date_only", example=examples[name]))
            )
            continue
        value = valid(DATETIME, raw)
        if value is not None:
            found[name] = aware(value, timezone)
    return found, problems
