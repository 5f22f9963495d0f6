"""Reading survey files (`content/surveys/*.yaml`), every problem reported at its line.

A coordinator writes a survey as YAML and checks it with `lokalnie survey check FILE`;
the bot loads the whole directory when it starts. Both need every mistake at once, each
with the line to fix and in words a non-programmer can act on, not pydantic's first
error. So the file is parsed into YAML nodes (which know their lines), validated against
the content model in `handlers/core/forms.py`, and then checked for what the model cannot see
on its own: references between questions, the languages of every text, the dates, the
file name. The machinery shared with the contest file is in `handlers/core/content_files.py`,
`content_wording.py` and `form_checks.py`.

Problems are catalogue keys with values (`content.error.*`), rendered in the configured
language where they are shown. In labels, questions, options and items are numbered
from 1 as a coordinator counts them: `questions[4] (id "wiek")` is the fourth question.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from handlers.core.content_files import (
    ContentFileError,
    Loc,
    Problem,
    Source,
    aware,
    moment,
    moments,
    note,
    read_yaml,
    sorted_unique,
    text_problems,
    valid,
)
from handlers.core.content_wording import Wording, validation_problems
from handlers.core.form_checks import CHOICE_TYPES, Entry, FormChecks, choice_ids
from handlers.core.forms import (
    SHORT_TITLE,
    Condition,
    Leaders,
    Option,
    Question,
    QuestionType,
    Scale,
    Survey,
)
from handlers.surveys.parts import is_personal

__all__ = [
    "Problem",
    "SurveyCatalogue",
    "SurveyFileError",
    "check_survey_file",
    "label_warnings",
    "load_survey_file",
    "load_surveys",
]

_WORDING = Wording(
    fields=sorted(
        {
            name
            for model in (Survey, Question, Option, Scale, Condition, Leaders)
            for name in model.model_fields
        }
        | {"in"}
    ),
    lists={("questions",): "content.error.needs_questions"},
)
_EXAMPLES = {"opens": "2021-03-01 00:00", "closes": "2021-04-30 23:59"}


class SurveyFileError(ContentFileError):
    """A survey file has problems; `text()` lists them, one `PATH:LINE: message` a line."""


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


def label_warnings(path: Path) -> list[Problem]:
    """Buttons of a survey file wider than a phone shows (for the CLI; not errors)."""
    source, problems = read_yaml(path, empty=note("content.error.empty_survey"), top_level="")
    if source is None or problems:
        return []
    raw = source.data.get("languages", ["pl", "en"])
    languages = [lang for lang in raw if lang in ("pl", "en")] if isinstance(raw, list) else []
    return FormChecks(source, "questions").label_warnings(languages or ["pl"])


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
            Problem(None, note("content.error.yml_extension", name=f"{path.stem}.yaml"))
        ]
    for path in sorted(directory.glob("*.yaml")):
        survey, problems, slug_line = _read(path, timezone)
        if survey is not None and not problems and survey.slug in owners:
            problems = [
                Problem(
                    slug_line,
                    note(
                        "content.error.slug_taken",
                        slug=survey.slug,
                        file=owners[survey.slug].name,
                    ),
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
    source, problems = read_yaml(
        path,
        empty=note("content.error.empty_survey"),
        top_level="slug:, title:, questions: ...",
    )
    if source is None:
        return None, problems, None
    survey: Survey | None = None
    try:
        survey = Survey.model_validate(source.data)
    except ValidationError as error:
        problems += validation_problems(error, source, _WORDING)
    problems += _Checks(path, source, timezone).run()
    problems = sorted_unique(problems)
    slug_line = source.line(("slug",))
    if problems or survey is None:
        return None, problems, slug_line
    update = {
        name: aware(getattr(survey, name), timezone)
        for name in ("opens", "closes")
        if getattr(survey, name) is not None
    }
    return survey.model_copy(update=update), [], slug_line


# --- what the model cannot check on its own ------------------------------------------


class _Checks(FormChecks):
    """Cross-checks that need the whole file; each works on whatever parts are valid."""

    def __init__(self, path: Path, source: Source, timezone: ZoneInfo) -> None:
        super().__init__(source, "questions")
        self.path = path
        self.data = source.data
        self.timezone = timezone

    def run(self) -> list[Problem]:
        self.slug()
        self.unique_ids()
        self.conditions()
        self.items_from()
        self.leaders()
        self.anonymous()
        self.texts()
        self.shorts()
        self.dates()
        return self.problems

    def slug(self) -> None:
        slug = self.data.get("slug")
        if isinstance(slug, str) and slug != self.path.stem:
            self.add(
                ("slug",),
                note(
                    "content.error.slug_file_name",
                    slug=slug,
                    file=f"{slug}.yaml",
                    stem=self.path.stem,
                ),
            )

    def leaders(self) -> None:
        raw = self.data.get("leaders")
        leaders = valid(Leaders, raw)
        if leaders is None:
            return
        base: Loc = ("leaders",)
        interest = self.known(base + ("interest",), leaders.interest)
        if interest is not None and interest.question is not None:
            question = interest.question
            if question.type not in CHOICE_TYPES:
                self.add(
                    base + ("interest",),
                    note("content.error.interest_type", question=question.id, type=question.type),
                    label=base,
                )
            else:
                allowed = choice_ids(question)
                for k, value in enumerate(leaders.values):
                    if value not in allowed:
                        self.add(
                            base + ("values", k),
                            note(
                                "content.error.not_an_option",
                                value=f'"{value}"',
                                question=question.id,
                                options=", ".join(allowed),
                            ),
                            label=base,
                        )
        if not leaders.values:
            self.add(base + ("values",), note("content.error.needs_option_id"), label=base)
        consent = self.known(base + ("consent",), leaders.consent)
        if (
            consent is not None
            and consent.question is not None
            and consent.question.type is not QuestionType.YESNO
        ):
            self.add(
                base + ("consent",),
                note(
                    "content.error.consent_type",
                    question=leaders.consent,
                    type=consent.question.type,
                ),
                label=base,
            )
        for k, question_id in enumerate(leaders.contact):
            self.known(base + ("contact", k), question_id)

    def anonymous(self) -> None:
        """An anonymous survey asks for a name, phone or e-mail only in its contact part.

        The contact part is the `leaders` section: its consent question and its
        `contact` questions, stored apart from the answers and only with consent.
        """
        if self.data.get("anonymous") is not True:
            return
        leaders = valid(Leaders, self.data.get("leaders"))
        apart = set(leaders.contact) if leaders is not None else set()
        for k, raw in enumerate(self.data.get("questions") or []):
            question = valid(Question, raw)
            if question is None:
                continue
            loc: Loc = ("questions", k)
            if is_personal(question) and question.id not in apart:
                self.add(
                    loc,
                    note("content.error.anonymous_personal", question=question.id),
                )
            elif (
                question.id in apart
                and leaders is not None
                and not any(
                    c.question == leaders.consent and c.equals is True for c in question.conditions
                )
            ):
                self.add(
                    loc,
                    note(
                        "content.error.contact_before_consent",
                        question=question.id,
                        show_if=f"show_if: {{question: {leaders.consent}, equals: true}}",
                    ),
                )

    def known(self, loc: Loc, question_id: str) -> Entry | None:
        entry = self.first.get(question_id)
        if entry is None:
            message = note("content.error.unknown_question", question=question_id)
            self.add(loc, message, label=("leaders",))
        return entry

    def texts(self) -> None:
        raw_languages = self.data.get("languages", ["pl", "en"])
        if isinstance(raw_languages, list) and not raw_languages:
            self.add(("languages",), note("content.error.needs_language"))
        languages = (
            [lang for lang in raw_languages if lang in ("pl", "en")]
            if isinstance(raw_languages, list)
            else []
        )
        self.problems += text_problems(
            self.source, self.text_locations(), languages, "content.error.no_text_survey"
        )

    def shorts(self) -> None:
        """A short title heads a chart: a few words, not the question again."""
        for k, raw in enumerate(self.data.get("questions") or []):
            short = raw.get("short") if isinstance(raw, dict) else None
            texts = short.items() if isinstance(short, dict) else [(None, short)]
            for language, text in texts:
                if isinstance(text, str) and len(text.strip()) > SHORT_TITLE:
                    loc: Loc = ("questions", k, "short")
                    self.add(
                        loc + ((language,) if language else ()),
                        note(
                            "content.error.short_title",
                            most=SHORT_TITLE,
                            length=len(text.strip()),
                        ),
                        label=loc,
                    )

    def text_locations(self) -> Iterator[Loc]:
        yield from (("title",), ("intro",), ("outro",))
        yield from super().text_locations()

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
