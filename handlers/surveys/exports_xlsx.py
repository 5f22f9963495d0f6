"""The survey workbook: the responses, the questions and the per-question summary.

The response grid is the CSV's (`handlers.surveys.exports.columns`); this
module lays it out in sheets for Excel, keeping text as text so a resident's
answer can never run as a formula.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from handlers.core.forms import Question, QuestionType, Survey
from handlers.core.i18n import Translator
from handlers.surveys.exports import TYPE_KEYS, columns
from handlers.surveys.parts import answer_part
from handlers.surveys.results import OTHER, QuestionSummary, overview, summarise
from handlers.surveys.results_text import count_label
from storage.surveys import StoredResponse


def to_xlsx(
    survey: Survey,
    responses: Sequence[StoredResponse],
    *,
    language: str,
    translator: Translator,
    timezone: tzinfo = UTC,
) -> bytes:
    """A workbook: responses (one row each), the questions, and the per-question summary."""

    def t(key: str, **values: object) -> str:
        return translator.text(language, key, **values)

    survey = answer_part(survey)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = t("export.sheet_responses")
    _responses_sheet(sheet, survey, responses, language, translator, timezone)
    _questions_sheet(book.create_sheet(t("export.sheet_questions")), survey, language, translator)
    _summary_sheet(
        book.create_sheet(t("export.sheet_summary")), survey, responses, language, translator
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def put_cell(sheet: Worksheet, row: int, column: int, value: Any, number_format: str = "") -> None:
    """Write a cell; text stays text (openpyxl would take '=...' for a formula)."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    elif isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    if number_format:
        cell.number_format = number_format


def _responses_sheet(
    sheet: Worksheet,
    survey: Survey,
    responses: Sequence[StoredResponse],
    language: str,
    translator: Translator,
    timezone: tzinfo,
) -> None:
    grid = columns(survey, language=language, translator=translator, timezone=timezone)
    bold = Font(bold=True)
    for index, column in enumerate(grid, start=1):
        put_cell(sheet, 1, index, column.key)
        put_cell(sheet, 2, index, column.header)
        sheet.cell(row=1, column=index).font = Font(color="777777")
        header = sheet.cell(row=2, column=index)
        header.font = bold
        header.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[get_column_letter(index)].width = min(
            max(len(column.header) * 0.6, 12), 40
        )
    for row, response in enumerate(responses, start=3):
        for index, column in enumerate(grid, start=1):
            put_cell(sheet, row, index, column.value(response))
    sheet.freeze_panes = "B3"
    last = get_column_letter(len(grid))
    sheet.auto_filter.ref = f"A2:{last}{max(len(responses) + 2, 3)}"


def _questions_sheet(
    sheet: Worksheet, survey: Survey, language: str, translator: Translator
) -> None:
    def t(key: str) -> str:
        return translator.text(language, key)

    headers = [
        t("export.question_id"),
        t("export.question_type"),
        t("export.question_text"),
        t("export.question_options"),
    ]
    for index, header in enumerate(headers, start=1):
        put_cell(sheet, 1, index, header)
        sheet.cell(row=1, column=index).font = Font(bold=True)
    for row, question in enumerate(survey.questions, start=2):
        values = [
            question.id,
            t(TYPE_KEYS[question.type]),
            question.text.get(language),
            "\n".join(_choice_lines(question, language, translator)),
        ]
        for index, value in enumerate(values, start=1):
            put_cell(sheet, row, index, value)
            sheet.cell(row=row, column=index).alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCD", (14, 18, 60, 50), strict=True):
        sheet.column_dimensions[letter].width = width


def _choice_lines(question: Question, language: str, translator: Translator) -> list[str]:
    lines = [f"{o.id}: {o.text.get(language)}" for o in [*question.options, *question.items]]
    if question.other:
        lines.append(OTHER + ": " + translator.text(language, "results.other"))
    scale = question.scale
    if scale is not None:
        lines.append(f"{scale.min}–{scale.max}")
        for point, label in ((scale.min, scale.min_label), (scale.max, scale.max_label)):
            if label is not None:
                lines.append(f"{point} = {label.get(language)}")
    return lines


def _summary_sheet(
    sheet: Worksheet,
    survey: Survey,
    responses: Sequence[StoredResponse],
    language: str,
    translator: Translator,
) -> None:
    def t(key: str) -> str:
        return translator.text(language, key)

    counts = overview(responses)
    put_cell(sheet, 1, 1, survey.title.get(language))
    sheet.cell(row=1, column=1).font = Font(bold=True, size=13)
    for row, (key, value) in enumerate(
        [
            ("export.started_count", counts.started),
            ("export.finished_count", counts.finished),
            ("export.unfinished_count", counts.unfinished),
        ],
        start=2,
    ):
        put_cell(sheet, row, 1, t(key))
        put_cell(sheet, row, 2, value)
    put_cell(sheet, 5, 1, t("export.percent_note"))
    headers = [
        "export.question_id",
        "export.question_text",
        "export.answer",
        "export.count",
        "export.percent",
        "export.mean",
        "export.median",
        "export.min",
        "export.max",
    ]
    for index, key in enumerate(headers, start=1):
        put_cell(sheet, 7, index, t(key))
        sheet.cell(row=7, column=index).font = Font(bold=True)
    row = 8
    for summary in summarise(survey, responses, language=language):
        for values in _summary_rows(summary, language, translator):
            for index, value in enumerate(values, start=1):
                put_cell(sheet, row, index, value, "0%" if index == 5 and value is not None else "")
            row += 1
    sheet.freeze_panes = "A8"
    for letter, width in zip("ABCDEFGHI", (14, 50, 40, 10, 14, 10, 10, 10, 10), strict=True):
        sheet.column_dimensions[letter].width = width


def _summary_rows(
    summary: QuestionSummary, language: str, translator: Translator
) -> list[list[Any]]:
    """Rows of the summary sheet for one question (percent as a fraction for Excel)."""

    def t(key: str) -> str:
        return translator.text(language, key)

    stats = summary.stats
    first: list[Any] = [summary.id, summary.text, t("export.answered"), summary.answered]
    first += [None] * 5
    if stats is not None:
        first[5:7] = [round(stats.mean, 2), stats.median]
        if summary.type is QuestionType.NUMBER:
            first[7:9] = [stats.minimum, stats.maximum]
    rows = [first, [None, None, t("export.skipped"), summary.skipped, None, None, None]]
    for count in summary.counts:
        label = count_label(count, translator, language)
        rows.append([None, None, label, count.count, count.percent / 100])
    for item in summary.items:
        mean = round(item.mean, 2) if item.mean is not None else None
        rows.append([None, None, item.text, item.answered, None, mean, item.median])
    return rows
