"""Survey results as plain text: the short summary, the per-question texts, volunteers.

The numbers come from `handlers.surveys.results`; this module only words
them (catalogue texts, rounded percentages, text bars). The short summary is
one message a phone shows whole; the full numbers are in the report file
(`handlers.surveys.report`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import tzinfo

from babel.dates import format_date, format_interval
from babel.numbers import format_decimal

from handlers.core.forms import Question, QuestionType, Survey, cut_at_word
from handlers.core.i18n import Translator
from handlers.onbehalf.counts import counts_line
from handlers.surveys.results import (
    CHOICE_TYPES,
    NO,
    OTHER,
    YES,
    Count,
    QuestionSummary,
    Stats,
    SurveyOverview,
    Volunteer,
)

# Built-in answer labels that are not content: their text comes from the catalogues.
BUILTIN_LABELS = {OTHER: "results.other", YES: "results.yes", NO: "results.no"}
TEXT_TYPES = (QuestionType.TEXT, QuestionType.DATE, QuestionType.EMAIL, QuestionType.PHONE)
# Headline findings in the short summary, and the longest answer text quoted in one.
HEADLINES = 5
HEADLINE_LABEL = 40
BAR_WIDTH = 10
SHOWN_ANSWERS = 10
SHOWN_ANSWER_LENGTH = 300


def format_number(value: float, language: str) -> str:
    """A number as the coordinator writes it (decimal comma in Polish), 2 decimals at most."""
    return format_decimal(round(value, 2), format="#,##0.##", locale=language)


def count_label(count: Count, translator: Translator, language: str) -> str:
    """The text of a bar: content text, or a catalogue text for other/yes/no."""
    if count.label is not None:
        return count.label
    key = BUILTIN_LABELS.get(count.id)
    return translator.text(language, key) if key else count.id


def percent_text(percent: float) -> str:
    """A percentage rounded half up, as people expect (12.5 -> 13%)."""
    return f"{int(percent + 0.5)}%"


def bar(percent: float, width: int = BAR_WIDTH) -> str:
    """A short text bar, e.g. '████░░░░░░' for 40%."""
    filled = int(max(0.0, min(percent, 100.0)) * width / 100 + 0.5)
    return "█" * filled + "░" * (width - filled)


def overview_text(
    survey: Survey, overview: SurveyOverview, translator: Translator, language: str
) -> str:
    """The head of the results message: the survey and how many answered it."""
    text = translator.text(
        language,
        "results.overview",
        title=survey.title.get(language),
        started=overview.started,
        finished=overview.finished,
        unfinished=overview.unfinished,
    )
    entered = counts_line(overview.entered, translator, language)
    return f"{text}\n{entered}" if entered else text


def question_summary_text(
    summary: QuestionSummary, translator: Translator, language: str, *, number: int | None = None
) -> str:
    """One question's results as plain text (no Markdown), readable in Telegram."""

    def t(key: str, **values: object) -> str:
        return translator.text(language, key, **values)

    title = f"{number}. {summary.text}" if number is not None else summary.text
    lines = [title, t("results.answered", answered=summary.answered, skipped=summary.skipped)]
    kind = summary.type
    if summary.answered == 0:
        return "\n".join(lines)
    if kind is QuestionType.SCALE:
        if summary.stats:
            lines.append(_scale_stats(summary.stats, translator, language))
        lines += _scale_ends(summary.question, language)
        # Points are short: one line each, like a small histogram.
        lines += [
            f"{c.id} {bar(c.percent)} {c.count} ({percent_text(c.percent)})" for c in summary.counts
        ]
    elif kind in CHOICE_TYPES or kind is QuestionType.YESNO:
        if kind is QuestionType.MULTIPLE:
            lines.append(t("results.multiple_note"))
        lines += _count_lines(summary.counts, translator, language)
        if summary.other_texts:
            lines.append(t("results.other_texts"))
            lines += _answer_lines(summary.other_texts, translator, language)
    elif kind is QuestionType.MATRIX:
        for item in summary.items:
            mean = format_number(item.mean, language) if item.mean is not None else "–"
            lines.append(item.text)
            lines.append(t("results.item_stats", mean=mean, count=item.answered))
    elif kind is QuestionType.NUMBER and summary.stats:
        stats = summary.stats
        lines.append(
            t(
                "results.number_stats",
                mean=format_number(stats.mean, language),
                median=format_number(stats.median, language),
                min=format_number(stats.minimum, language),
                max=format_number(stats.maximum, language),
            )
        )
    elif kind in TEXT_TYPES:
        lines += _answer_lines(summary.answers, translator, language)
    return "\n".join(lines)


def _scale_stats(stats: Stats, translator: Translator, language: str) -> str:
    return translator.text(
        language,
        "results.scale_stats",
        mean=format_number(stats.mean, language),
        median=format_number(stats.median, language),
    )


def _scale_ends(question: Question, language: str) -> list[str]:
    """'1 = poor, 5 = great' when the survey names the ends of the scale."""
    scale = question.scale
    if scale is None:
        return []
    ends = [
        f"{point} = {label.get(language)}"
        for point, label in ((scale.min, scale.min_label), (scale.max, scale.max_label))
        if label is not None
    ]
    return [", ".join(ends)] if ends else []


def _count_lines(counts: Iterable[Count], translator: Translator, language: str) -> list[str]:
    lines = []
    for count in counts:
        lines.append(count_label(count, translator, language))
        lines.append(f"{bar(count.percent)} {count.count} ({percent_text(count.percent)})")
    return lines


def _answer_lines(answers: list[str], translator: Translator, language: str) -> list[str]:
    lines = []
    for answer in answers[-SHOWN_ANSWERS:]:
        text = " ".join(answer.split())
        if len(text) > SHOWN_ANSWER_LENGTH:
            text = text[: SHOWN_ANSWER_LENGTH - 1] + "…"
        lines.append(f"• {text}")
    if len(answers) > SHOWN_ANSWERS:
        lines.append(translator.text(language, "results.more", count=len(answers) - SHOWN_ANSWERS))
    return lines


def summary_text(
    survey: Survey,
    overview: SurveyOverview,
    summaries: Sequence[QuestionSummary],
    translator: Translator,
    language: str,
) -> str:
    """The whole summary as one plain text (for a file or the terminal)."""
    return "\n\n".join(
        [overview_text(survey, overview, translator, language)]
        + [
            question_summary_text(s, translator, language, number=n)
            for n, s in enumerate(summaries, start=1)
        ]
    )


# --- the short summary and what every chart says about its source ----------------------


def survey_dates(survey: Survey, language: str, timezone: tzinfo) -> str:
    """When the survey ran, as dates in the centre's time zone ("" when it has none)."""
    opens, closes = (
        moment.astimezone(timezone).date() if moment is not None else None
        for moment in (survey.opens, survey.closes)
    )
    if opens is not None and closes is not None:
        return format_interval(opens, closes, "yMMMMd", locale=language)
    single = opens or closes
    return format_date(single, "long", locale=language) if single is not None else ""


def dates_text(survey: Survey, translator: Translator, language: str, timezone: tzinfo) -> str:
    """'1 marca – 30 kwietnia 2021', 'od 1 marca 2021', 'do …', or "" without dates."""
    dates = survey_dates(survey, language, timezone)
    if not dates or (survey.opens is not None and survey.closes is not None):
        return dates
    key = "results.dates_from" if survey.opens is not None else "results.dates_until"
    return translator.text(language, key, date=dates)


def respondents_text(overview: SurveyOverview, translator: Translator, language: str) -> str:
    return translator.text(
        language, "results.respondents", started=overview.started, finished=overview.finished
    )


def chart_footer(
    survey: Survey,
    overview: SurveyOverview,
    translator: Translator,
    language: str,
    timezone: tzinfo,
) -> str:
    """Where a chart's numbers come from: the survey, its dates and who answered."""
    parts = [
        survey.title.get(language),
        dates_text(survey, translator, language, timezone),
        respondents_text(overview, translator, language),
    ]
    return " · ".join(part for part in parts if part)


def headlines(
    summaries: Sequence[QuestionSummary],
    translator: Translator,
    language: str,
    *,
    limit: int = HEADLINES,
) -> list[str]:
    """A line for each of the first closed questions with answers: what stood out."""
    lines = []
    for summary in summaries:
        line = _headline(summary, translator, language)
        if line is not None:
            lines.append(line)
        if len(lines) == limit:
            break
    return lines


def _headline(summary: QuestionSummary, translator: Translator, language: str) -> str | None:
    if summary.answered == 0:
        return None
    question = summary.question
    title = question.short_text(language)
    kind = summary.type
    if kind in CHOICE_TYPES or kind is QuestionType.YESNO:
        top = max(summary.counts, key=lambda c: c.count, default=None)
        if top is None or top.count == 0:
            return None
        return translator.text(
            language,
            "results.headline_choice",
            question=title,
            label=cut_at_word(count_label(top, translator, language), HEADLINE_LABEL),
            percent=percent_text(top.percent),
        )
    scale = question.scale
    if kind is QuestionType.SCALE and summary.stats is not None and scale is not None:
        return translator.text(
            language,
            "results.headline_scale",
            question=title,
            mean=format_number(summary.stats.mean, language),
            min=scale.min,
            max=scale.max,
        )
    rated = [item for item in summary.items if item.mean is not None]
    if kind is QuestionType.MATRIX and rated and scale is not None:
        best = max(rated, key=lambda item: item.mean or 0.0)
        assert best.mean is not None
        return translator.text(
            language,
            "results.headline_matrix",
            question=title,
            label=cut_at_word(best.text, HEADLINE_LABEL),
            mean=format_number(best.mean, language),
            min=scale.min,
            max=scale.max,
        )
    return None


def short_summary(
    survey: Survey,
    overview: SurveyOverview,
    summaries: Sequence[QuestionSummary],
    translator: Translator,
    language: str,
    timezone: tzinfo,
    *,
    open_answers: bool,
) -> str:
    """One message: the survey, its dates, who answered, what stood out, what the file holds."""

    def t(key: str, **values: object) -> str:
        return translator.text(language, key, **values)

    head = [t("results.summary_title", title=survey.title.get(language))]
    dates = dates_text(survey, translator, language, timezone)
    if dates:
        head.append(dates)
    head.append(respondents_text(overview, translator, language))
    entered = counts_line(overview.entered, translator, language)
    if entered:
        head.append(entered)  # paper, phone and in-person entries, reported apart
    blocks = ["\n".join(head)]
    found = headlines(summaries, translator, language)
    if found:
        blocks.append("\n".join([t("results.headlines"), *(f"• {line}" for line in found)]))
    elif overview.started == 0:
        blocks.append(t("results.nobody_yet"))
    blocks.append(t("results.summary_file_open" if open_answers else "results.summary_file"))
    return "\n\n".join(blocks)


def leaders_text(
    survey: Survey, volunteers: Sequence[Volunteer], translator: Translator, language: str
) -> str:
    """The volunteers as a plain-text list the coordinator can act on."""
    if not volunteers:
        return translator.text(language, "results.leaders_none")
    questions = {q.id: q.text.get(language) for q in survey.questions}
    lines = [translator.text(language, "results.leaders_title", count=len(volunteers))]
    for volunteer in volunteers:
        lines.append("")
        # Never the Telegram id: the name and the contact details they chose to give.
        if volunteer.resident_id is None:
            lines.append(translator.text(language, "results.leader_erased"))
        elif volunteer.name:
            lines.append(volunteer.name)
        lines.append(", ".join(volunteer.interest))
        for qid, value in volunteer.contact.items():
            lines.append(f"{questions.get(qid, qid)}: {value}")
    return "\n".join(lines)
