"""Reading survey files (`content/surveys/*.yaml`), every problem reported at its line.

A coordinator writes a survey as YAML and checks it with `lokalnie survey check FILE`;
the bot loads the whole directory when it starts. Both need every mistake at once, each
with the line to fix and in words a non-programmer can act on, not pydantic's first
error. So the file is parsed into YAML nodes (which know their lines), validated against
the content model in `handlers/forms.py`, and then checked for what the model cannot see
on its own: references between questions, the languages of every text, the dates, the
file name.

In messages, questions, options and items are numbered from 1 as a coordinator counts
them: `questions[4] (id "wiek")` is the fourth question.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import TypeAdapter, ValidationError

from handlers.forms import (
    ID_PATTERN,
    Condition,
    Leaders,
    Option,
    Question,
    QuestionType,
    Scale,
    Survey,
)

Loc = tuple[str | int, ...]

_DATETIME = TypeAdapter(datetime)
_BARE_DATE = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}\s*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FIELDS = sorted(
    {
        name
        for model in (Survey, Question, Option, Scale, Condition, Leaders)
        for name in model.model_fields
    }
    | {"in"}
)
_CHOICE_TYPES = (QuestionType.SINGLE, QuestionType.MULTIPLE)


@dataclass(frozen=True)
class Problem:
    """One mistake in a survey file; `line` is 1-based, None when no line applies."""

    line: int | None
    message: str

    def format(self, path: Path | str) -> str:
        """`PATH:LINE: message`, the form editors and terminals link to."""
        if self.line is None:
            return f"{path}: {self.message}"
        return f"{path}:{self.line}: {self.message}"


class SurveyFileError(Exception):
    """A survey file has problems; str() lists them all, one `PATH:LINE: message` a line."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(problem.format(self.path) for problem in self.problems)


@dataclass
class SurveyCatalogue:
    """The surveys the bot can serve, and the files it had to leave out (with why)."""

    surveys: dict[str, Survey] = field(default_factory=dict)
    problems: dict[Path, list[Problem]] = field(default_factory=dict)


def load_survey_file(path: Path, timezone: ZoneInfo) -> Survey:
    """Read and check one survey file; naive opens/closes are taken in `timezone`.

    Raises SurveyFileError listing every problem found, so the coordinator can fix
    the file in one go.
    """
    survey, problems, _ = _read(path, timezone)
    if problems or survey is None:
        raise SurveyFileError(path, problems)
    return survey


def check_survey_file(path: Path, timezone: ZoneInfo) -> list[Problem]:
    """Every problem of one survey file, empty when the file is fine (for the CLI)."""
    return _read(path, timezone)[1]


def load_surveys(directory: Path, timezone: ZoneInfo) -> SurveyCatalogue:
    """Load every `*.yaml` survey in `directory`, keeping the valid ones.

    A broken file must not take the other surveys down: its problems are recorded for
    the bot to log and the rest are served. A missing directory means no surveys yet.
    """
    catalogue = SurveyCatalogue()
    if not directory.is_dir():
        return catalogue
    owners: dict[str, Path] = {}
    for path in sorted(directory.glob("*.yml")):
        catalogue.problems[path] = [
            Problem(None, f"survey files must end in .yaml: rename it to {path.stem}.yaml")
        ]
    for path in sorted(directory.glob("*.yaml")):
        survey, problems, slug_line = _read(path, timezone)
        if survey is not None and not problems and survey.slug in owners:
            problems = [
                Problem(
                    slug_line, f'slug "{survey.slug}" is already used by {owners[survey.slug].name}'
                )
            ]
        if problems or survey is None:
            catalogue.problems[path] = problems
            continue
        owners[survey.slug] = path
        catalogue.surveys[survey.slug] = survey
    return catalogue


# --- reading -------------------------------------------------------------------------


def _read(path: Path, timezone: ZoneInfo) -> tuple[Survey | None, list[Problem], int | None]:
    """The survey (None when it has problems), its problems and the line of its slug."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [Problem(None, "cannot read the file: it is not UTF-8 text")], None
    except OSError as error:
        reason = error.strerror or str(error)
        return None, [Problem(None, f"cannot read the file: {reason}")], None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        problems = _duplicate_keys(node) if node is not None else []
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        return None, [_yaml_problem(error)], None
    except yaml.YAMLError as error:
        return None, [Problem(None, f"invalid YAML: {error}")], None
    except (ValueError, TypeError) as error:  # e.g. a timestamp like 2021-13-01 00:00:00
        return None, [Problem(None, f"invalid YAML value: {error}")], None
    finally:
        loader.dispose()
    if node is None:
        return None, [Problem(None, "the file is empty; a survey starts with `slug:`")], None
    if not isinstance(data, dict):
        message = (
            "the top level must be a mapping of fields (slug:, title:, questions: ...), "
            f"not {_kind(data)}"
        )
        return None, [Problem(node.start_mark.line + 1, message)], None
    source = _Source(node, data)
    survey: Survey | None = None
    try:
        survey = Survey.model_validate(data)
    except ValidationError as error:
        problems += _validation_problems(error, source)
    problems += _Checks(path, source, timezone).run()
    problems = _sorted_unique(problems)
    slug_line = source.line(("slug",))
    if problems or survey is None:
        return None, problems, slug_line
    update = {
        name: _aware(getattr(survey, name), timezone)
        for name in ("opens", "closes")
        if getattr(survey, name) is not None
    }
    return survey.model_copy(update=update), [], slug_line


def _yaml_problem(error: yaml.MarkedYAMLError) -> Problem:
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


def _duplicate_keys(root: yaml.Node) -> list[Problem]:
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


def _aware(value: datetime, timezone: ZoneInfo) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone)
    return value.astimezone(timezone)


def _sorted_unique(problems: list[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda problem: (problem.line is not None, problem.line or 0))


# --- where a problem is: lines and labels --------------------------------------------


class _Source:
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


def _validation_problems(error: ValidationError, source: _Source) -> list[Problem]:
    """Every pydantic error, with union branches that don't fit the value dropped."""
    problems: list[Problem] = []
    unions: dict[Loc, bool] = {}  # union location -> some branch fitted the value
    for err in error.errors():
        raw: Loc = tuple(err["loc"])
        tags = [i for i, part in enumerate(raw) if _is_tag(part)]
        if tags and raw[tags[0]] != "[key]":
            prefix = raw[: tags[0]]
            fits = _branch_fits(str(raw[tags[0]]), source.value(prefix))
            unions[prefix] = unions.get(prefix, False) or fits
            if not fits:
                continue
        loc = tuple(part for part in raw if not _is_tag(part))
        problems.append(_friendly(err, loc, is_key="[key]" in raw, source=source))
    for prefix, fitted in unions.items():
        if fitted:
            continue
        if prefix and prefix[-1] == "show_if":
            message = "should be a condition (question: ..., equals: ...) or a list of them"
        else:
            message = "should be a text, or one text per language (pl: ..., en: ...)"
        problems.append(source.problem(prefix, f"{message}, not {_kind(source.value(prefix))}"))
    return problems


def _friendly(err: Any, loc: Loc, *, is_key: bool, source: _Source) -> Problem:
    kind: str = err["type"]
    got = err.get("input")
    ctx = err.get("ctx") or {}
    parent = loc[:-1]
    if kind == "missing":
        return source.problem(parent, f'missing "{loc[-1]}"')
    if kind == "extra_forbidden":
        message = f'unknown field "{loc[-1]}"'
        close = difflib.get_close_matches(str(loc[-1]), _FIELDS, n=1)
        if close:
            message += f' (did you mean "{close[0]}"?)'
        return source.problem(loc, message, label=parent)
    if is_key:
        return source.problem(loc, f"unknown language {_show(got)}: use pl or en", label=parent)
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == ID_PATTERN:
        message = (
            f"{_show(got)} is not a valid id: use lowercase letters a-z, digits, "
            '"-" and "_" (no spaces or Polish letters, at most 40 characters)'
        )
    elif kind == "enum" and loc and loc[-1] == "type":
        types = ", ".join(str(member) for member in QuestionType)
        message = f"unknown question type {_show(got)}; use one of: {types}"
    elif kind in ("value_error", "assertion_error"):
        message = str(ctx.get("error") or err["msg"])
        message = message.removeprefix(f"{loc[-1]} ") if loc else message
    elif kind == "string_type":
        message = f"should be a text, not {_kind(got)}"
        if isinstance(got, bool):
            message += " (put it in quotes: YAML reads yes/no/on/off as true/false)"
    elif kind in ("list_type", "too_short") and loc == ("questions",):
        message = "needs a list of at least one question"
    elif kind == "list_type":
        message = f'should be a list (one "- " item a line), not {_kind(got)}'
    elif kind in ("dict_type", "model_type", "model_attributes_type"):
        message = f"should be a mapping (name: value lines), not {_kind(got)}"
    elif kind.startswith(("datetime_", "date_")):
        message = f"should be a date and time like 2021-04-30 23:59, not {_show(got)}"
    elif kind.startswith("bool_"):
        message = f"should be true or false, not {_show(got)}"
    elif kind.startswith("int_"):
        message = f"should be a whole number, not {_show(got)}"
    elif kind.startswith("float_"):
        message = f"should be a number, not {_show(got)}"
    else:
        message = str(err["msg"]).replace("Input should", "should")
        message = message[:1].lower() + message[1:]
        if kind == "literal_error":
            message += f", not {_show(got)}"
    return source.problem(loc, message)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return _show(value)


# --- what the model cannot check on its own ------------------------------------------


@dataclass
class _Entry:
    index: int
    raw: Any
    id: str | None
    question: Question | None


class _Checks:
    """Cross-checks that need the whole file; each works on whatever parts are valid."""

    def __init__(self, path: Path, source: _Source, timezone: ZoneInfo) -> None:
        self.path = path
        self.source = source
        self.data = source.data
        self.timezone = timezone
        self.problems: list[Problem] = []
        raw_questions = self.data.get("questions")
        self.entries = [
            _Entry(
                i,
                raw,
                raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None,
                _valid(Question, raw),
            )
            for i, raw in enumerate(raw_questions if isinstance(raw_questions, list) else [])
        ]
        self.first: dict[str, _Entry] = {}
        for entry in self.entries:
            if entry.id is not None:
                self.first.setdefault(entry.id, entry)

    def add(self, loc: Loc, message: str, *, label: Loc | None = None) -> None:
        self.problems.append(self.source.problem(loc, message, label=label))

    def run(self) -> list[Problem]:
        self.slug()
        self.unique_ids()
        self.conditions()
        self.leaders()
        self.texts()
        self.dates()
        return self.problems

    def slug(self) -> None:
        slug = self.data.get("slug")
        if isinstance(slug, str) and slug != self.path.stem:
            self.add(
                ("slug",),
                f'"{slug}" must match the file name: rename the file to '
                f'{slug}.yaml or change the slug to "{self.path.stem}"',
            )

    def unique_ids(self) -> None:
        for entry in self.entries:
            first = self.first.get(entry.id) if entry.id else None
            if first is not None and first is not entry:
                line = self.source.line(("questions", first.index))
                self.add(
                    ("questions", entry.index, "id"),
                    f'the id "{entry.id}" is already used by questions[{first.index + 1}] '
                    f"(line {line}); question ids must be unique",
                    label=("questions", entry.index),
                )

    def where(self, entry: _Entry) -> str:
        return f"questions[{entry.index + 1}], line {self.source.line(('questions', entry.index))}"

    def conditions(self) -> None:
        for entry in self.entries:
            if not isinstance(entry.raw, dict):
                continue
            raw = entry.raw.get("show_if")
            base: Loc = ("questions", entry.index, "show_if")
            items = (
                [(base + (k,), item) for k, item in enumerate(raw)]
                if isinstance(raw, list)
                else [(base, raw)]
                if raw is not None
                else []
            )
            for loc, item in items:
                condition = _valid(Condition, item)
                if condition is not None:
                    self.condition(entry, loc, condition, item)

    def condition(self, entry: _Entry, loc: Loc, condition: Condition, raw: Any) -> None:
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
                message = _condition_value_problem(target.question, value)
                if message is None:
                    continue
                exact = value_loc if value_loc[-1] == "equals" else value_loc + (k,)
                self.add(exact, message, label=loc)

    def leaders(self) -> None:
        raw = self.data.get("leaders")
        leaders = _valid(Leaders, raw)
        if leaders is None:
            return
        base: Loc = ("leaders",)
        interest = self.known(base + ("interest",), leaders.interest)
        if interest is not None and interest.question is not None:
            question = interest.question
            if question.type not in _CHOICE_TYPES:
                self.add(
                    base + ("interest",),
                    f'"{question.id}" is a {question.type} question; '
                    "it must be single or multiple choice",
                    label=base,
                )
            else:
                allowed = _choice_ids(question)
                for k, value in enumerate(leaders.values):
                    if value not in allowed:
                        self.add(
                            base + ("values", k),
                            f'"{value}" is not an option of "{question.id}" '
                            f"(options: {', '.join(allowed)})",
                            label=base,
                        )
        if not leaders.values:
            self.add(base + ("values",), "needs at least one option id", label=base)
        consent = self.known(base + ("consent",), leaders.consent)
        if (
            consent is not None
            and consent.question is not None
            and consent.question.type is not QuestionType.YESNO
        ):
            self.add(
                base + ("consent",),
                f'"{leaders.consent}" is a {consent.question.type} '
                "question; consent must be a yesno question",
                label=base,
            )
        for k, question_id in enumerate(leaders.contact):
            self.known(base + ("contact", k), question_id)

    def known(self, loc: Loc, question_id: str) -> _Entry | None:
        entry = self.first.get(question_id)
        if entry is None:
            self.add(loc, f'refers to unknown question "{question_id}"', label=("leaders",))
        return entry

    def texts(self) -> None:
        raw_languages = self.data.get("languages", ["pl", "en"])
        if isinstance(raw_languages, list) and not raw_languages:
            self.add(("languages",), "needs at least one language (pl, en)")
        languages = (
            [lang for lang in raw_languages if lang in ("pl", "en")]
            if isinstance(raw_languages, list)
            else []
        )
        for loc in self.text_locations():
            value = self.source.value(loc)
            if isinstance(value, str):
                if not value.strip():
                    self.add(loc, "is empty")
            elif isinstance(value, dict):
                for language in languages:
                    text = value.get(language)
                    if text is None:
                        shown = ", ".join(languages)
                        self.add(loc, f'no "{language}" text (the survey is in {shown})')
                    elif isinstance(text, str) and not text.strip():
                        self.add(loc + (language,), f'the "{language}" text is empty', label=loc)

    def text_locations(self) -> Iterator[Loc]:
        yield from (("title",), ("intro",), ("outro",))
        for entry in self.entries:
            if not isinstance(entry.raw, dict):
                continue
            base: Loc = ("questions", entry.index)
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

    def dates(self) -> None:
        moments: dict[str, datetime] = {}
        for name in ("opens", "closes"):
            raw = self.data.get(name)
            if raw is None:
                continue
            if (isinstance(raw, date) and not isinstance(raw, datetime)) or (
                isinstance(raw, str) and _BARE_DATE.match(raw)
            ):
                example = "2021-04-30 23:59" if name == "closes" else "2021-03-01 00:00"
                self.add(
                    (name,),
                    f"give a date and time, e.g. {example}; a date alone "
                    "would mean midnight at its start",
                )
                continue
            moment = _valid(_DATETIME, raw)
            if moment is not None:
                moments[name] = _aware(moment, self.timezone)
        if "opens" in moments and "closes" in moments and moments["closes"] <= moments["opens"]:
            self.add(
                ("closes",),
                f"{_moment(moments['closes'])} must be later than opens "
                f"({_moment(moments['opens'])})",
            )


def _valid(model: Any, raw: Any) -> Any:
    """`raw` validated by a model or TypeAdapter, None if invalid (reported elsewhere)."""
    validate = model.validate_python if isinstance(model, TypeAdapter) else model.model_validate
    try:
        return validate(raw)
    except ValidationError:
        return None


def _choice_ids(question: Question) -> list[str]:
    ids = [option.id for option in question.options]
    return [*ids, "other"] if question.other else ids


def _condition_value_problem(question: Question, value: Any) -> str | None:
    """Why `value` can never be an answer to `question`, or None when it can."""
    kind = question.type
    name = f'"{question.id}"'
    if kind in _CHOICE_TYPES:
        allowed = _choice_ids(question)
        if isinstance(value, str) and value in allowed:
            return None
        return f"{_show(value)} is not an option of {name} (options: {', '.join(allowed)})"
    if kind is QuestionType.YESNO:
        if isinstance(value, bool):
            return None
        return f"{name} is a yesno question: compare with true or false, not {_show(value)}"
    if kind in (QuestionType.SCALE, QuestionType.NUMBER):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{name} is a {kind} question: compare with a number, not {_show(value)}"
        if kind is QuestionType.SCALE and question.scale is not None:
            low, high = float(question.scale.min), float(question.scale.max)
        else:
            low, high = question.min, question.max
        if low is not None and value < low:
            return f"{_show(value)} is below the lowest answer to {name} ({_number(low)})"
        if high is not None and value > high:
            return f"{_show(value)} is above the highest answer to {name} ({_number(high)})"
        return None
    if kind is QuestionType.MATRIX:
        return f"{name} is a matrix question: show_if can only test it with `answered`"
    if kind is QuestionType.DATE:
        if isinstance(value, str) and _ISO_DATE.match(value):
            return None
        return f'{name} is a date question: compare with a date in quotes, e.g. "2021-05-01"'
    if isinstance(value, str):
        return None
    return f"{name} is a {kind} question: compare with a text, not {_show(value)}"


def _number(value: float | None) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _moment(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")
