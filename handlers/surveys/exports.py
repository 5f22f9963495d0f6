"""Survey exports for the diagnosis report: CSV, XLSX, JSON, a terminal table, open answers.

The workbook is laid out in `handlers/surveys/exports_xlsx.py`; the rest is here.

Choices made for the coordinator (a library employee with Excel in Polish):
- CSV is UTF-8 with a BOM (without it Excel reads UTF-8 as cp1250 and breaks
  the Polish letters), `;` between fields (Excel with a Polish locale splits
  on `;`, because `,` is its decimal separator) and a decimal comma for Polish
  (a point for English). Cells that start with = + - @ get a leading
  apostrophe, so a resident's answer can never run as a formula in Excel.
- The response grid (CSV and the XLSX "Responses" sheet) has two header rows:
  stable column ids for tools (`q1`, `q1.other`, `grid.item`), then the
  question texts for people. One row per response; a matrix has one column
  per item, a multiple choice one column listing the chosen options (`; `)
  plus a column with the "other" text. Skipped and unseen questions are empty
  cells; JSON keeps the difference (null vs. absent).
- Times are shown in the centre's time zone in CSV/XLSX/table, and as ISO 8601
  UTC in JSON.
- For an anonymous survey no export contains the resident id, name or
  Telegram id, nor the contact part (consent, name, phone, e-mail: kept in a
  record of its own). The open answers file never says who wrote what.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from handlers.core.forms import Question, QuestionType, Survey
from handlers.core.i18n import Translator
from handlers.onbehalf.counts import channel_label
from handlers.surveys.parts import answer_part, is_personal
from handlers.surveys.results import CHOICE_TYPES, OTHER
from storage.surveys import FINISHED, StoredResponse

CSV_DELIMITER = ";"
LIST_SEPARATOR = "; "
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TABLE_CELL = 18
TYPE_KEYS = {
    QuestionType.SINGLE: "export.type_single",
    QuestionType.MULTIPLE: "export.type_multiple",
    QuestionType.SCALE: "export.type_scale",
    QuestionType.MATRIX: "export.type_matrix",
    QuestionType.TEXT: "export.type_text",
    QuestionType.NUMBER: "export.type_number",
    QuestionType.YESNO: "export.type_yesno",
    QuestionType.DATE: "export.type_date",
    QuestionType.EMAIL: "export.type_email",
    QuestionType.PHONE: "export.type_phone",
}


@dataclass(frozen=True)
class Column:
    """One column of the response grid: a stable key, a header, and how to read a cell."""

    key: str
    header: str
    value: Callable[[StoredResponse], Any]


def columns(
    survey: Survey, *, language: str, translator: Translator, timezone: tzinfo = UTC
) -> list[Column]:
    """The columns of the response grid; identity columns only for non-anonymous surveys."""

    def t(key: str, **values: object) -> str:
        return translator.text(language, key, **values)

    def local(moment: datetime | None) -> datetime | None:
        if moment is None:
            return None
        return moment.astimezone(timezone).replace(tzinfo=None, microsecond=0)

    status = {True: t("export.finished"), False: t("export.unfinished")}
    found = [Column("response", t("export.response"), lambda r: r.id)]
    if not survey.anonymous:
        found += [
            Column("resident", t("export.resident"), lambda r: r.resident_id),
            Column("name", t("export.name"), lambda r: r.resident_name),
            Column("telegram_id", t("export.telegram_id"), lambda r: r.telegram_id),
        ]
    found += [
        Column("status", t("export.status"), lambda r: status[r.status == FINISHED]),
        Column("language", t("export.language"), lambda r: r.language),
        Column("channel", t("export.channel"), lambda r: channel_label(r.channel, t)),
        Column("started_at", t("export.started_at"), lambda r: local(r.started_at)),
        Column("finished_at", t("export.finished_at"), lambda r: local(r.finished_at)),
    ]
    # An anonymous survey's contact part is never in the same row as its answers.
    for question in answer_part(survey).questions:
        found += question_columns(question, language, translator)
    return found


def question_columns(question: Question, language: str, translator: Translator) -> list[Column]:
    qid = question.id
    text = question.text.get(language)
    other_label = translator.text(language, "results.other")

    def answer(response: StoredResponse) -> Any:
        return response.answers.get(qid)

    def label(option_id: Any) -> str:
        if option_id == OTHER:
            return other_label
        return question.option_text(str(option_id), language) or str(option_id)

    def other(response: StoredResponse) -> str | None:
        value = answer(response)
        return value.get("other") if isinstance(value, dict) else None

    other_column = Column(
        f"{qid}.other", translator.text(language, "export.other_column", question=text), other
    )
    kind = question.type
    if kind is QuestionType.SINGLE:

        def single(response: StoredResponse) -> str | None:
            value = answer(response)
            if isinstance(value, dict) and value.get("choice") is not None:
                return label(value["choice"])
            return None

        return [Column(qid, text, single)] + ([other_column] if question.other else [])
    if kind is QuestionType.MULTIPLE:

        def multiple(response: StoredResponse) -> str | None:
            value = answer(response)
            if isinstance(value, dict) and value.get("choices") is not None:
                return LIST_SEPARATOR.join(label(c) for c in value["choices"])
            return None

        return [Column(qid, text, multiple)] + ([other_column] if question.other else [])
    if kind is QuestionType.MATRIX:
        # A row rated "hard to say" is kept as null; a row never shown is absent.
        dont_know = translator.text(language, "export.dont_know")

        def cell(response: StoredResponse, item_id: str) -> Any:
            value = answer(response)
            if not isinstance(value, dict) or item_id not in value:
                return None
            return dont_know if value[item_id] is None else value[item_id]

        return [
            Column(
                f"{qid}.{item.id}",
                f"{text} – {item.text.get(language)}",
                lambda r, item_id=item.id: cell(r, item_id),
            )
            for item in question.items
        ]
    if kind is QuestionType.YESNO:
        yes = translator.text(language, "results.yes")
        no = translator.text(language, "results.no")
        return [Column(qid, text, lambda r: {True: yes, False: no}.get(answer(r)))]
    if kind is QuestionType.DATE:
        return [Column(qid, text, lambda r: _as_date(answer(r)))]
    if kind in (QuestionType.SCALE, QuestionType.NUMBER):
        return [Column(qid, text, answer)]
    return [Column(qid, text, lambda r: None if answer(r) is None else str(answer(r)))]


def _as_date(value: Any) -> date | str | None:
    if not isinstance(value, str):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        return value


# --- CSV --------------------------------------------------------------------


def to_csv(
    survey: Survey,
    responses: Sequence[StoredResponse],
    *,
    language: str,
    translator: Translator,
    timezone: tzinfo = UTC,
) -> bytes:
    """The response grid for Excel in Polish: UTF-8 with BOM, `;`, decimal comma."""
    grid = columns(survey, language=language, translator=translator, timezone=timezone)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow([c.key for c in grid])
    writer.writerow([csv_cell(c.header, language) for c in grid])
    for response in responses:
        writer.writerow([csv_cell(c.value(response), language) for c in grid])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def csv_cell(value: Any, language: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = f"{value:.10g}"
        return text.replace(".", ",") if language == "pl" else text
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


# --- JSON -------------------------------------------------------------------


def to_json(survey: Survey, responses: Sequence[StoredResponse], *, language: str = "pl") -> bytes:
    """Every response in the stored answer shapes, for tools; no identity if anonymous."""
    survey = answer_part(survey)
    kept = {q.id for q in survey.questions}
    data = {
        "survey": survey.slug,
        "title": survey.title.get(language),
        "anonymous": survey.anonymous,
        "questions": [
            {
                "id": q.id,
                "type": str(q.type),
                "text": q.text.get(language),
                **(
                    {"options": {o.id: o.text.get(language) for o in q.options}}
                    if q.options
                    else {}
                ),
                **({"items": {i.id: i.text.get(language) for i in q.items}} if q.items else {}),
            }
            for q in survey.questions
        ],
        "responses": [_json_response(survey, r, kept) for r in responses],
    }
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def _json_response(survey: Survey, response: StoredResponse, kept: set[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": response.id}
    if not survey.anonymous:
        entry["respondent"] = {
            "resident_id": response.resident_id,
            "name": response.resident_name,
            "telegram_id": response.telegram_id,
        }
    entry |= {
        "status": "finished" if response.status == FINISHED else "unfinished",
        "language": response.language,
        "channel": response.channel,
        "started_at": _iso(response.started_at),
        "finished_at": _iso(response.finished_at),
        "answers": {q: v for q, v in response.answers.items() if q in kept},
    }
    return entry


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


# --- terminal table -----------------------------------------------------------


def to_table(
    survey: Survey,
    responses: Sequence[StoredResponse],
    *,
    language: str,
    translator: Translator,
    timezone: tzinfo = UTC,
) -> str:
    """A plain text table for the terminal: short cells, column ids, and a legend below."""
    grid = [
        c
        for c in columns(survey, language=language, translator=translator, timezone=timezone)
        if c.key not in ("language", "channel", "started_at", "resident", "telegram_id")
    ]
    cells = [[_table_cell(c.value(r), language) for c in grid] for r in responses]
    return text_table(grid, cells)


def text_table(grid: Sequence[Any], cells: list[list[str]]) -> str:
    """Aligned columns headed by the columns' keys, with a legend of their headers below."""
    rows = [[c.key for c in grid], *cells]
    widths = [max(len(row[i]) for row in rows) for i in range(len(grid))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    lines.append("")
    lines += [f"{c.key}: {c.header}" for c in grid]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _table_cell(value: Any, language: str) -> str:
    text = " ".join(csv_cell(value, language).lstrip("'").split())
    return text if len(text) <= TABLE_CELL else text[: TABLE_CELL - 1] + "…"


# --- open answers -----------------------------------------------------------


def open_answers_text(
    survey: Survey, responses: Sequence[StoredResponse], *, language: str, translator: Translator
) -> bytes:
    """All answers written in residents' own words (open questions and "other"), per question.

    Never names who wrote an answer: this file is for reading and quoting in
    the diagnosis report. E-mail and phone answers are contact data, not
    opinions, and are left out.
    """

    def t(key: str, **values: object) -> str:
        return translator.text(language, key, **values)

    lines = [t("export.open_title", title=survey.title.get(language)), t("export.open_intro")]
    found = False
    for number, question in enumerate(answer_part(survey).questions, start=1):
        if is_personal(question):
            continue
        text = question.text.get(language)
        if question.type is QuestionType.TEXT:
            heading = f"{number}. {text}"
            answers = [r.answers.get(question.id) for r in responses]
        elif question.type in CHOICE_TYPES and question.other:
            heading = str(number) + ". " + t("export.other_column", question=text)
            answers = [_other_text(r.answers.get(question.id)) for r in responses]
        else:
            continue
        written = [a.strip() for a in answers if isinstance(a, str) and a.strip()]
        if not written:
            continue
        found = True
        lines += ["", "", heading, t("export.open_count", count=len(written))]
        for answer in written:
            body = "\n  ".join(line.rstrip() for line in answer.splitlines())
            lines += ["", f"- {body}"]
    if not found:
        lines += ["", t("export.open_none")]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _other_text(value: Any) -> str | None:
    return value.get("other") if isinstance(value, dict) else None
