"""The results of a survey as one printable file, and the charts that go in it.

The report is a self-contained HTML page (charts embedded as PNG data URIs, no
link to anything outside), rendered from `templates/printable.html.j2` with
Jinja2: a coordinator opens it in any browser, shows it on a screen at a
meeting or prints it (A4, a question a page). Every text comes from the
catalogues or the survey content; the template holds only markup, and Jinja's
autoescape keeps residents' answers plain text.

The same charts go to the chat as one album (`handlers.surveys.admin`): they are
drawn once here, each with the survey's title, dates and respondents at its foot.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, Template, select_autoescape

from handlers.core.events import OutgoingFile
from handlers.core.forms import QuestionType, Survey
from handlers.core.i18n import Translator
from handlers.onbehalf.counts import counts_line
from handlers.surveys import results_text
from handlers.surveys.results import CHOICE_TYPES, QuestionSummary, SurveyOverview
from handlers.surveys.results_text import count_label, format_number, percent_text

PNG = "image/png"
HTML = "text/html"
TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Chart:
    """One question's chart, numbered as in the report."""

    number: int
    summary: QuestionSummary
    png: bytes

    def file(self, slug: str) -> OutgoingFile:
        return OutgoingFile(f"{slug}-{self.number:02d}-{self.summary.id}.png", PNG, self.png)


def draw_charts(
    survey: Survey,
    overview: SurveyOverview,
    summaries: Sequence[QuestionSummary],
    translator: Translator,
    language: str,
    timezone: tzinfo,
) -> list[Chart]:
    """A chart per closed question with answers, each carrying where its numbers come from."""
    # Imported when a coordinator asks: matplotlib and numpy are tens of megabytes
    # the running bot need not hold for its residents' conversations.
    from handlers.surveys import charts

    footer = results_text.chart_footer(survey, overview, translator, language, timezone)
    drawn = []
    for number, summary in enumerate(summaries, start=1):
        image = charts.chart_png(
            summary.question,
            summary,
            language=language,
            translator=translator,
            number=number,
            footer=footer,
        )
        if image is not None:
            drawn.append(Chart(number, summary, image))
    return drawn


@dataclass
class Section:
    """What the template shows for one question."""

    number: int
    title: str
    text: str
    notes: list[str]
    chart: str | None
    columns: tuple[str, str, str] = ("", "", "")
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    answers_title: str = ""


def report_name(survey: Survey, translator: Translator, language: str) -> str:
    """The file's name: the survey and what it is, in the reader's language."""
    return f"{survey.slug}-{translator.text(language, 'report.file_name')}.html"


def report_file(
    survey: Survey,
    overview: SurveyOverview,
    summaries: Sequence[QuestionSummary],
    charts: Sequence[Chart],
    translator: Translator,
    language: str,
    timezone: tzinfo,
    *,
    interim: bool = False,
    picked: Sequence[str] = (),
    note: str = "",
) -> OutgoingFile:
    """The whole report as one HTML file.

    `summaries` are what may be shown (the caller leaves out what must not be:
    personal questions; for subscribers, everything but the public part), and
    their open answers are printed as they are. `picked`: open answers a
    coordinator chose to share, in a section of their own. `note`: a line under
    the title saying which responses are counted, when not all of them.
    """

    def t(key: str, **values: object) -> str:
        return translator.text(language, key, **values)

    sections = report_sections(summaries, charts, translator, language)
    title = survey.title.get(language)
    page = _template().render(
        language=language,
        title=title,
        heading=t("report.heading"),
        interim=" ".join(
            p for p in (t("surveyadmin.share_interim_head") if interim else "", note) if p
        ),
        dates=results_text.dates_text(survey, translator, language, timezone),
        respondents=results_text.respondents_text(overview, translator, language),
        entered=counts_line(overview.entered, translator, language) or "",
        method=t("report.method"),
        headlines_title=t("results.headlines"),
        headlines=results_text.headlines(summaries, translator, language),
        contents_title=t("report.contents"),
        footer=results_text.chart_footer(survey, overview, translator, language, timezone),
        sections=sections,
        picked_title=t("surveyadmin.share_picked_head"),
        picked=list(picked),
        chart_alt=t("report.chart_alt"),
    )
    return OutgoingFile(report_name(survey, translator, language), HTML, page.encode("utf-8"))


def report_sections(
    summaries: Sequence[QuestionSummary],
    charts: Sequence[Chart],
    translator: Translator,
    language: str,
) -> list[Section]:
    """What the report shows for each question (the panel's results page shows the same)."""
    images = {chart.number: chart.png for chart in charts}
    return [
        _section(number, summary, images.get(number), translator, language)
        for number, summary in enumerate(summaries, start=1)
    ]


def _section(
    number: int,
    summary: QuestionSummary,
    png: bytes | None,
    translator: Translator,
    language: str,
) -> Section:
    def t(key: str, **values: object) -> str:
        return translator.text(language, key, **values)

    question = summary.question
    section = Section(
        number=number,
        title=question.short_text(language),
        text=summary.text,
        notes=[t("results.answered", answered=summary.answered, skipped=summary.skipped)],
        chart=f"data:{PNG};base64,{base64.b64encode(png).decode()}" if png else None,
    )
    kind = summary.type
    if kind is QuestionType.MULTIPLE:
        section.notes.append(t("results.multiple_note"))
    if kind in CHOICE_TYPES or kind is QuestionType.YESNO or kind is QuestionType.SCALE:
        first = "report.column_point" if kind is QuestionType.SCALE else "report.column_answer"
        section.columns = (t(first), t("report.column_people"), t("report.column_percent"))
        section.rows = [
            (count_label(c, translator, language), str(c.count), percent_text(c.percent))
            for c in summary.counts
        ]
    if summary.stats is not None and kind is QuestionType.SCALE:
        section.notes.append(
            t(
                "results.scale_stats",
                mean=format_number(summary.stats.mean, language),
                median=format_number(summary.stats.median, language),
            )
        )
    elif summary.stats is not None and kind is QuestionType.NUMBER:
        stats = summary.stats
        section.notes.append(
            t(
                "results.number_stats",
                mean=format_number(stats.mean, language),
                median=format_number(stats.median, language),
                min=format_number(stats.minimum, language),
                max=format_number(stats.maximum, language),
            )
        )
    if kind is QuestionType.MATRIX:
        columns = ("report.column_item", "report.column_ratings", "report.column_mean")
        section.columns = (t(columns[0]), t(columns[1]), t(columns[2]))
        section.rows = [
            (
                item.text,
                str(item.answered),
                format_number(item.mean, language) if item.mean is not None else "–",
            )
            for item in summary.items
        ]
        if question.scale is not None:
            low, high = question.scale.min, question.scale.max
            section.notes.append(t("results.matrix_scale", min=low, max=high))
    if summary.answers:
        section.answers = summary.answers
        section.answers_title = t("report.open_answers", count=len(summary.answers))
    elif summary.other_texts:
        section.answers = summary.other_texts
        section.answers_title = t("results.other_texts")
    return section


@cache
def _template() -> Template:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("printable.html.j2")
