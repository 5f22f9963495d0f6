"""Contest proposals as a workbook: one sheet per kind of thing, one row per line.

The proposals sheet has the CSV's columns (`handlers.contest.exports`); budget
lines, scores, history and attachments get a sheet each, ready for filters
and pivot tables. Amounts are numbers with two decimals, not text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, tzinfo
from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_symbol
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from handlers.contest.exports import Column, Texts, criterion_names, full_columns, summary_columns
from handlers.contest.model import Contest
from handlers.contest.records import ProposalRecord, history_key, label
from handlers.core.i18n import Translator
from handlers.surveys.exports_xlsx import put_cell


def to_xlsx(
    contest: Contest,
    records: Sequence[ProposalRecord],
    *,
    language: str,
    translator: Translator,
    timezone: tzinfo = UTC,
    full: bool = True,
) -> bytes:
    texts = Texts(translator, language, timezone)
    t, names = texts.t, criterion_names(contest, language)
    # Amounts stay numbers; the cell format shows them as the language writes money.
    amounts = f'#,##0.00 "{get_currency_symbol(contest.currency, locale=language)}"'
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = t("pexport.sheet_proposals")
    grid = full_columns(contest, texts) if full else summary_columns(contest, texts)
    _grid_sheet(sheet, grid, records, amounts)
    if not full:
        return _saved(book)
    _rows_sheet(
        book.create_sheet(t("pexport.sheet_budget")),
        [t("pexport.number"), t("pexport.item"), t("pexport.amount")],
        [[label(r.proposal), line.item, line.amount] for r in records for line in r.lines],
        amounts,
    )
    _rows_sheet(
        book.create_sheet(t("pexport.sheet_scores")),
        [
            t("pexport.number"),
            t("pexport.coordinator"),
            t("pexport.criterion"),
            t("pexport.mark"),
            t("pexport.at"),
        ],
        [
            [
                label(r.proposal),
                s.coordinator_id,
                names.get(s.criterion, s.criterion),
                s.value,
                texts.local(s.at),
            ]
            for r in records
            for s in r.scores
        ],
    )
    _rows_sheet(
        book.create_sheet(t("pexport.sheet_history")),
        [
            t("pexport.number"),
            t("pexport.at"),
            t("pexport.kind"),
            t("pexport.from_status"),
            t("pexport.to_status"),
            t("pexport.coordinator"),
            t("pexport.note"),
        ],
        [
            [
                label(r.proposal),
                texts.local(h.at),
                texts.t(history_key(h.kind), kind=h.kind),
                texts.status(h.from_status),
                texts.status(h.to_status),
                h.actor,
                h.note,
            ]
            for r in records
            for h in r.history
        ],
    )
    _rows_sheet(
        book.create_sheet(t("pexport.sheet_attachments")),
        [t("pexport.number"), t("pexport.file"), t("pexport.file_type"), t("pexport.file_size")],
        [[label(r.proposal), a.name, a.mime_type, a.size] for r in records for a in r.attachments],
    )
    return _saved(book)


def _saved(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(sheet: Worksheet, row: int, column: int, value: Any, amounts: str = "#,##0.00") -> None:
    if isinstance(value, Decimal):
        put_cell(sheet, row, column, float(value), amounts)
    else:
        put_cell(sheet, row, column, value)


def _grid_sheet(
    sheet: Worksheet, grid: list[Column], records: Sequence[ProposalRecord], amounts: str
) -> None:
    for index, column in enumerate(grid, start=1):
        _cell(sheet, 1, index, column.key)
        _cell(sheet, 2, index, column.header)
        sheet.cell(row=1, column=index).font = Font(color="777777")
        sheet.cell(row=2, column=index).font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(index)].width = min(
            max(len(column.header) * 0.8, 12), 40
        )
    for row, record in enumerate(records, start=3):
        for index, column in enumerate(grid, start=1):
            _cell(sheet, row, index, column.value(record), amounts)
    sheet.freeze_panes = "B3"


def _rows_sheet(
    sheet: Worksheet, headers: list[str], rows: list[list[Any]], amounts: str = "#,##0.00"
) -> None:
    for index, header in enumerate(headers, start=1):
        _cell(sheet, 1, index, header)
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(index)].width = 18
    for row, values in enumerate(rows, start=2):
        for index, value in enumerate(values, start=1):
            _cell(sheet, row, index, value, amounts)
    sheet.freeze_panes = "A2"
