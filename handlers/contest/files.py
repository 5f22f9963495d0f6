"""Reading the contest file (`content/contest.yaml`), every problem reported at its line.

The contest is content: a coordinator sets the budget, the dates, the criteria, the
proposal form and the messages to applicants in YAML, and checks the file with
`lokalnie contest check`. Like surveys, every mistake is reported at once with its
line (the machinery is shared: `handlers/core/content_files.py`, `content_wording.py`,
`form_checks.py`), and besides the model (`handlers/contest/model.py`) the file is
checked for what a coordinator could get wrong with money and time:

- a cap per initiative above the whole budget, or so low that even the most winners
  allowed could never use the budget up (a typo like 1000 for 10000);
- amounts with more than two decimal places;
- a closing date without a time (that would close the contest a day early);
- the questions the product relies on (applicant, e-mail, title) missing, of the wrong
  type, optional or hidden behind `show_if`;
- attachment types written as extensions instead of MIME types, and files larger than
  Telegram lets a bot download.

A missing file means "no contest": the bot runs without one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from handlers.contest.model import Attachments, Contest, Criterion, Messages, Winners
from handlers.core.content_files import (
    DATETIME,
    ContentFileError,
    Loc,
    Message,
    Problem,
    Source,
    aware,
    moment,
    moments,
    note,
    read_yaml,
    show,
    sorted_unique,
    text_problems,
    valid,
)
from handlers.core.content_wording import Wording, validation_problems
from handlers.core.form_checks import FormChecks
from handlers.core.forms import Condition, Option, Question, QuestionType, Scale

__all__ = [
    "CONTEST_FILE",
    "ContestFileError",
    "Problem",
    "check_contest_file",
    "find_contest",
    "load_contest",
]

CONTEST_FILE = "contest.yaml"
LANGUAGES = ("pl", "en")
# The Bot API lets a bot download files of at most 20 MB.
TELEGRAM_DOWNLOAD_MB = 20
_MIME = re.compile(r"^[a-z]+/[a-z0-9][a-z0-9.+-]*$")
_EXTENSIONS = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_WORDING = Wording(
    fields=sorted(
        {
            name
            for model in (
                Contest,
                Criterion,
                Winners,
                Attachments,
                Messages,
                Question,
                Option,
                Scale,
                Condition,
            )
            for name in model.model_fields
        }
        | {"in"}
    ),
    lists={
        ("form",): "content.error.needs_questions",
        ("criteria",): "content.error.needs_criteria",
    },
    patterns={
        pattern: "content.error.bad_number_prefix"
        for pattern in [
            getattr(m, "pattern", None) for m in Contest.model_fields["number_prefix"].metadata
        ]
        if pattern
    },
)
_EXAMPLES = {"opens": "2021-05-10 00:00", "closes": "2021-06-07 23:59"}
# The form questions the product relies on: (field naming the id, default id, type,
# why, as a catalogue key).
_REQUIRED = (
    ("applicant_name_field", "wnioskodawca", QuestionType.TEXT, "content.error.why_applicant"),
    ("email_field", "email", QuestionType.EMAIL, "content.error.why_email"),
    ("title_field", "tytul", QuestionType.TEXT, "content.error.why_title"),
)


class ContestFileError(ContentFileError):
    """The contest file has problems; `text()` lists them, one `PATH:LINE: message` a line."""


def load_contest(path: Path, timezone: ZoneInfo) -> Contest:
    """Read and check the contest file; naive opens/closes are taken in `timezone`.

    Raises ContestFileError listing every problem, so the file can be fixed in one go.
    """
    contest, problems = _read(path, timezone)
    if problems or contest is None:
        raise ContestFileError(path, problems)
    return contest


def check_contest_file(path: Path, timezone: ZoneInfo) -> list[Problem]:
    """Every problem of the contest file, empty when it is fine (for the CLI)."""
    return _read(path, timezone)[1]


def find_contest(content_dir: Path, timezone: ZoneInfo) -> tuple[Contest | None, list[Problem]]:
    """The centre's contest, if any: (None, []) when there is no contest file at all.

    For the service: a broken file gives (None, problems), to be logged while the
    rest of the bot keeps running.
    """
    path = content_dir / CONTEST_FILE
    if not path.exists():
        return None, []
    return _read(path, timezone)


def label_warnings(path: Path) -> list[Problem]:
    """Buttons of the contest's form wider than a phone shows (for the CLI; not errors)."""
    source, problems = read_yaml(path, empty=note("content.error.empty_contest"), top_level="")
    if source is None or problems:
        return []
    return FormChecks(source, "form").label_warnings(["pl", "en"])


def _read(path: Path, timezone: ZoneInfo) -> tuple[Contest | None, list[Problem]]:
    source, problems = read_yaml(
        path,
        empty=note("content.error.empty_contest"),
        top_level="slug:, name:, budget_total:, criteria:, form: ...",
    )
    if source is None:
        return None, problems
    contest: Contest | None = None
    whole_file: list[Message] = []
    # Times in the centre's zone before validating: the model compares opens with
    # closes, and a naive and an aware time (one written with an offset) cannot be.
    times = {
        name: aware(value, timezone)
        for name in ("opens", "closes")
        if (value := valid(DATETIME, source.data.get(name))) is not None
    }
    try:
        contest = Contest.model_validate({**source.data, **times})
    except ValidationError as error:
        # The model's own whole-file rules are reported at their lines by _Checks.
        problems += validation_problems(error, source, _WORDING, skip_root=True)
        whole_file = [
            note(str(e["msg"]), **(e.get("ctx") or {})) for e in error.errors() if not e["loc"]
        ]
    problems += _Checks(source, timezone).run()
    if not problems and whole_file:
        problems = [Problem(source.line(()), message) for message in whole_file]
    problems = sorted_unique(problems)
    if problems or contest is None:
        return None, problems
    return contest, []


def _amount(raw: Any) -> Decimal | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _whole(raw: Any) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None


class _Checks(FormChecks):
    """Cross-checks of the contest file; each works on whatever parts are valid."""

    def __init__(self, source: Source, timezone: ZoneInfo) -> None:
        super().__init__(source, "form")
        self.data = source.data
        self.timezone = timezone

    def run(self) -> list[Problem]:
        self.unique_ids()
        self.conditions()
        self.required_questions()
        self.criteria()
        self.money()
        self.dates()
        self.attachments()
        self.problems += text_problems(
            self.source, self.text_locations(), LANGUAGES, "content.error.no_text_contest"
        )
        return self.problems

    def required_questions(self) -> None:
        for field, default, expected, why_key in _REQUIRED:
            why = note(why_key)
            question_id = self.data.get(field, default)
            if not isinstance(question_id, str):
                continue
            entry = self.first.get(question_id)
            if entry is None:
                if self.entries:
                    self.add(
                        ("form",),
                        note("content.error.form_lacks_why", question=question_id, why=why),
                    )
                continue
            question = entry.question
            if question is None:
                continue
            base: Loc = ("form", entry.index)
            if question.type is not expected:
                self.add(
                    base + ("type",),
                    note(
                        "content.error.required_type",
                        expected=expected,
                        why=why,
                        type=question.type,
                    ),
                    label=base,
                )
            if question.optional or question.conditions:
                where = "optional" if question.optional else "show_if"
                self.add(
                    base + (where,),
                    note("content.error.required_answer", why=why, field=where),
                    label=base,
                )

    def criteria(self) -> None:
        raw = self.data.get("criteria")
        first: dict[str, int] = {}
        for index, item in enumerate(raw if isinstance(raw, list) else []):
            criterion_id = item.get("id") if isinstance(item, dict) else None
            if not isinstance(criterion_id, str):
                continue
            if criterion_id in first:
                line = self.source.line(("criteria", first[criterion_id]))
                self.add(
                    ("criteria", index, "id"),
                    note(
                        "content.error.duplicate_criterion_id",
                        id=criterion_id,
                        first=f"criteria[{first[criterion_id] + 1}]",
                        line=line,
                    ),
                    label=("criteria", index),
                )
            else:
                first[criterion_id] = index

    def money(self) -> None:
        total = self.amount("budget_total")
        cap = self.amount("cap_per_initiative")
        currency = self.data.get("currency", "PLN")
        if not (isinstance(currency, str) and re.fullmatch(r"[A-Z]{3}", currency)):
            self.add(("currency",), note("content.error.currency", value=show(currency)))
        winners = self.data.get("winners")
        most = _whole(winners.get("max")) if isinstance(winners, dict) else None
        if total is None or cap is None or total <= 0 or cap <= 0:
            return
        if cap > total:
            self.add(
                ("cap_per_initiative",),
                note("content.error.cap_above_total", cap=cap, total=total),
            )
        elif most is not None and most >= 1 and most * cap < total:
            self.add(
                ("cap_per_initiative",),
                note(
                    "content.error.cap_too_low",
                    most=most,
                    cap=cap,
                    reachable=most * cap,
                    total=total,
                ),
            )

    def amount(self, name: str) -> Decimal | None:
        raw = self.data.get(name)
        value = _amount(raw)
        if value is None:
            return None
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            self.add((name,), note("content.error.decimal_places", value=show(raw)))
        return value

    def dates(self) -> None:
        found, problems = moments(self.source, ("opens", "closes"), self.timezone, _EXAMPLES)
        self.problems += problems
        if "opens" in found and "closes" in found and found["closes"] <= found["opens"]:
            self.add(
                ("closes",),
                note(
                    "content.error.closes_before_opens",
                    closes=moment(found["closes"]),
                    opens=moment(found["opens"]),
                ),
            )

    def attachments(self) -> None:
        raw = self.data.get("attachments")
        if not isinstance(raw, dict):
            return
        size = _amount(raw.get("max_megabytes"))
        if size is not None and size > TELEGRAM_DOWNLOAD_MB:
            self.add(
                ("attachments", "max_megabytes"),
                note("content.error.file_too_large", size=size, most=TELEGRAM_DOWNLOAD_MB),
                label=("attachments",),
            )
        types = raw.get("types")
        for index, value in enumerate(types if isinstance(types, list) else []):
            if not isinstance(value, str) or _MIME.match(value):
                continue
            extension = value.strip().lstrip(".")
            suggestion = _EXTENSIONS.get(extension.lower())
            message = (
                note(
                    "content.error.file_type_like",
                    value=show(value),
                    extension=extension,
                    type=suggestion,
                )
                if suggestion
                else note("content.error.file_type", value=show(value))
            )
            self.add(("attachments", "types", index), message, label=("attachments", "types"))

    def text_locations(self) -> Iterator[Loc]:
        yield from (("name",), ("intro",))
        raw = self.data.get("criteria")
        for index, item in enumerate(raw if isinstance(raw, list) else []):
            if not isinstance(item, dict):
                continue
            for name in ("text", "help"):
                if item.get(name) is not None:
                    yield ("criteria", index, name)
            scale = item.get("scale")
            if isinstance(scale, dict):
                for name in ("min_label", "max_label"):
                    if scale.get(name) is not None:
                        yield ("criteria", index, "scale", name)
        yield from super().text_locations()
        messages = self.data.get("messages")
        if isinstance(messages, dict):
            for name in Messages.model_fields:
                if messages.get(name) is not None:
                    yield ("messages", name)
