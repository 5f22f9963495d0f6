"""Contest proposals for the coordinator's records: CSV, XLSX, JSON, a terminal table.

Everything about every proposal goes out: each form answer, each budget line, each
attachment, each score of each coordinator on each criterion, each status change
with its note, the ranking and the confirmed outcome. The conventions are the survey
exports' (`handlers/surveys/exports.py`): CSV in UTF-8 with a BOM and `;` for Excel in
Polish, cells starting with = + - @ made harmless, times in the centre's zone (ISO
8601 UTC in JSON), column ids above the column names.

- CSV: one row per proposal; budget lines, scores and history in one cell each.
- XLSX (`exports_xlsx.py`): a sheet per kind of thing (proposals, budget lines,
  scores, history, attachments), one row per line, ready for filters and pivot tables.
- JSON: the records as nested data, for tools.
- Table: a short summary per proposal for the terminal; `show_text` is one proposal
  in full.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import Any

from handlers.contest import scoring
from handlers.contest.budget import money
from handlers.contest.model import Contest
from handlers.contest.records import (
    ProposalRecord,
    applicant,
    history_key,
    label,
    number,
    title,
)
from handlers.core.i18n import Translator
from handlers.onbehalf.counts import channel_label
from handlers.surveys.exports import CSV_DELIMITER, csv_cell, question_columns, text_table

TABLE_CELL = 24
LIST_SEPARATOR = " | "


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    value: Callable[[ProposalRecord], Any]


class Texts:
    """The catalogue in one language, and the centre's time zone."""

    def __init__(self, translator: Translator, language: str, timezone: tzinfo) -> None:
        self.translator = translator
        self.language = language
        self.timezone = timezone

    def t(self, key: str, /, **values: object) -> str:
        return self.translator.text(self.language, key, **values)

    def local(self, moment: datetime | None) -> datetime | None:
        if moment is None:
            return None
        return moment.astimezone(self.timezone).replace(tzinfo=None, microsecond=0)

    def status(self, status: str | None) -> str:
        return self.t(f"proposal.status.{status}") if status else ""

    def money(self, amount: Decimal, contest: Contest) -> str:
        return money(amount, language=self.language, currency=contest.currency)

    def when(self, moment: datetime | None) -> str:
        local = self.local(moment)
        return local.strftime("%Y-%m-%d %H:%M") if local else ""


def _score(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), 2)


def criterion_names(contest: Contest, language: str) -> dict[str, str]:
    return {c.id: c.text.get(language) for c in contest.criteria}


# --- the summary and the full grid -----------------------------------------------------


def summary_columns(contest: Contest, texts: Texts) -> list[Column]:
    """The short view: what `lokalnie proposals list` shows."""
    t = texts.t
    return [
        Column("number", t("pexport.number"), lambda r: label(r.proposal)),
        Column("status", t("pexport.status"), lambda r: texts.status(r.proposal.status)),
        Column("title", t("pexport.title"), lambda r: title(contest, r.proposal)),
        Column("applicant", t("pexport.applicant"), lambda r: applicant(contest, r.proposal)),
        Column("amount", t("pexport.amount"), lambda r: r.total),
        Column(
            "submitted_at",
            t("pexport.submitted_at"),
            lambda r: texts.local(r.proposal.submitted_at),
        ),
        Column("rank", t("pexport.rank"), lambda r: r.ranked.rank if r.ranked else None),
        Column("score", t("pexport.score"), lambda r: _score(r.ranked.score) if r.ranked else None),
        Column("scorers", t("pexport.scorers"), lambda r: r.ranked.scorers if r.ranked else 0),
        Column(
            "selected",
            t("pexport.selected"),
            lambda r: (
                None
                if r.outcome is None
                else t("results.yes" if r.outcome.selected else "results.no")
            ),
        ),
    ]


def full_columns(contest: Contest, texts: Texts) -> list[Column]:
    """Every field: the summary, each form answer, then budget, files, scores, history."""
    t, names = texts.t, criterion_names(contest, texts.language)
    found = summary_columns(contest, texts)
    found += [
        Column("edit_until", t("pexport.edit_until"), lambda r: texts.local(r.proposal.edit_until)),
        Column("language", t("export.language"), lambda r: r.proposal.language),
        Column("channel", t("export.channel"), lambda r: channel_label(r.proposal.channel, t)),
        Column("resident", t("export.resident"), lambda r: r.proposal.resident_id),
        Column(
            "spread", t("pexport.spread"), lambda r: _score(r.ranked.spread) if r.ranked else None
        ),
    ]
    for question in contest.form:
        found += [
            Column(c.key, c.header, c.value)  # type: ignore[arg-type]  # reads r.answers
            for c in question_columns(question, texts.language, texts.translator)
        ]
    found += [
        Column(
            "budget",
            t("pexport.budget_lines"),
            lambda r: LIST_SEPARATOR.join(
                f"{line.item}: {texts.money(line.amount, contest)}" for line in r.lines
            ),
        ),
        Column(
            "attachments",
            t("pexport.attachments"),
            lambda r: LIST_SEPARATOR.join(a.name for a in r.attachments),
        ),
        Column(
            "scores",
            t("pexport.scores"),
            lambda r: LIST_SEPARATOR.join(
                f"{s.coordinator_id} {names.get(s.criterion, s.criterion)}: {s.value}"
                for s in r.scores
            ),
        ),
        Column(
            "history",
            t("pexport.history"),
            lambda r: LIST_SEPARATOR.join(_history_entry(texts, h) for h in r.history),
        ),
    ]
    return found


def _history_entry(texts: Texts, entry: Any) -> str:
    """`2021-06-01 12:00 do poprawy (900001): note`, as the chat's history reads."""
    if entry.kind in ("created", "resubmitted") or not entry.to_status:
        what = texts.t(history_key(entry.kind), kind=entry.kind)
    else:
        what = texts.status(entry.to_status)
    text = f"{texts.when(entry.at)} {what}"
    if entry.actor is not None:
        text += f" ({entry.actor})"
    if entry.note:
        text += f": {entry.note}"
    return text


# --- CSV ---------------------------------------------------------------------------------


def to_csv(
    contest: Contest,
    records: Sequence[ProposalRecord],
    *,
    language: str,
    translator: Translator,
    timezone: tzinfo = UTC,
    full: bool = True,
) -> bytes:
    texts = Texts(translator, language, timezone)
    grid = full_columns(contest, texts) if full else summary_columns(contest, texts)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow([c.key for c in grid])
    writer.writerow([csv_cell(c.header, language) for c in grid])
    for record in records:
        writer.writerow([_csv_value(c.value(record), language) for c in grid])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_value(value: Any, language: str) -> str:
    if isinstance(value, Decimal):
        text = f"{value:.2f}"
        return text.replace(".", ",") if language == "pl" else text
    return csv_cell(value, language)


# --- JSON --------------------------------------------------------------------------------


def to_json(contest: Contest, records: Sequence[ProposalRecord]) -> bytes:
    data = {
        "contest": contest.slug,
        "currency": contest.currency,
        "budget_total": str(contest.budget_total),
        "criteria": [
            {"id": c.id, "weight": str(c.weight), "min": c.scale.min, "max": c.scale.max}
            for c in contest.criteria
        ],
        "proposals": [record_json(r) for r in records],
    }
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def record_json(record: ProposalRecord) -> dict[str, Any]:
    proposal, ranked, outcome = record.proposal, record.ranked, record.outcome
    return {
        "id": proposal.id,
        "number": proposal.number,
        "status": proposal.status,
        "resident_id": proposal.resident_id,
        "language": proposal.language,
        "channel": proposal.channel,
        "created_at": _iso(proposal.created_at),
        "submitted_at": _iso(proposal.submitted_at),
        "edit_until": _iso(proposal.edit_until),
        "answers": proposal.answers,
        "budget": [{"item": line.item, "amount": f"{line.amount:.2f}"} for line in record.lines],
        "budget_total": f"{record.total:.2f}",
        "attachments": [
            {"name": a.name, "mime_type": a.mime_type, "size": a.size, "path": a.path}
            for a in record.attachments
        ],
        "history": [
            {
                "at": _iso(h.at),
                "kind": h.kind,
                "from_status": h.from_status,
                "to_status": h.to_status,
                "actor": h.actor,
                "note": h.note,
            }
            for h in record.history
        ],
        "scores": [
            {
                "coordinator": s.coordinator_id,
                "criterion": s.criterion,
                "value": s.value,
                "at": _iso(s.at),
            }
            for s in record.scores
        ],
        "ranking": None
        if ranked is None
        else {
            "rank": ranked.rank,
            "score": _score(ranked.score),
            "scorers": ranked.scorers,
            "spread": _score(ranked.spread),
        },
        "outcome": None
        if outcome is None
        else {
            "selected": outcome.selected,
            "rank": outcome.rank,
            "amount": None if outcome.amount is None else f"{Decimal(outcome.amount):.2f}",
            "decided_at": _iso(outcome.decided_at),
            "decided_by": outcome.decided_by,
        },
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


# --- the terminal ------------------------------------------------------------------------


def to_table(
    contest: Contest,
    records: Sequence[ProposalRecord],
    *,
    language: str,
    translator: Translator,
    timezone: tzinfo = UTC,
) -> str:
    """A plain table of the summary columns, with the column names below."""
    texts = Texts(translator, language, timezone)
    grid = summary_columns(contest, texts)
    cells = [[_table_cell(c.value(r), texts, contest) for c in grid] for r in records]
    return text_table(grid, cells)


def _table_cell(value: Any, texts: Texts, contest: Contest) -> str:
    if isinstance(value, Decimal):
        return texts.money(value, contest)
    text = " ".join(_csv_value(value, texts.language).lstrip("'").split())
    return text if len(text) <= TABLE_CELL else text[: TABLE_CELL - 1] + "…"


def show_text(
    contest: Contest,
    record: ProposalRecord,
    *,
    language: str,
    translator: Translator,
    timezone: tzinfo = UTC,
) -> str:
    """One proposal in full, for the terminal."""
    texts = Texts(translator, language, timezone)
    t, names = texts.t, criterion_names(contest, language)
    proposal = record.proposal
    lines = [
        f"{label(proposal)} – {title(contest, proposal)}",
        f"{t('pexport.status')}: {texts.status(proposal.status)}",
        f"{t('pexport.submitted_at')}: {texts.when(proposal.submitted_at) or '–'}",
    ]
    if proposal.edit_until is not None:
        lines.append(f"{t('pexport.edit_until')}: {texts.when(proposal.edit_until)}")
    lines.append("")
    for question in contest.form:
        for column in question_columns(question, language, translator):
            value = column.value(record)  # type: ignore[arg-type]  # reads record.answers
            if value is not None:
                lines.append(f"{column.header}: {value}")
    lines += ["", t("pexport.budget_lines") + ":"]
    lines += [f"  – {line.item}: {texts.money(line.amount, contest)}" for line in record.lines]
    lines.append(f"  = {texts.money(record.total, contest)}")
    lines += ["", t("pexport.attachments") + ":"]
    lines += [f"  – {a.name} ({a.mime_type}, {a.size} B): {a.path}" for a in record.attachments]
    lines += ["", t("pexport.scores") + ":"]
    lines += [
        f"  – {s.coordinator_id}: {names.get(s.criterion, s.criterion)} = {s.value}"
        for s in record.scores
    ]
    if record.ranked is not None and record.ranked.score is not None:
        bounds = scoring.scale(scoring.rules(contest.criteria))
        lines.append(
            f"  {t('pexport.rank')}: {record.ranked.rank}, {t('pexport.score')}: "
            f"{number(record.ranked.score, language)} ({bounds[0]}–{bounds[1]}), "
            f"{t('pexport.spread')}: {number(record.ranked.spread, language)}"
        )
    lines += ["", t("pexport.history") + ":"]
    lines += [f"  – {_history_entry(texts, h)}" for h in record.history]
    return "\n".join(lines) + "\n"
