"""Exports for the diagnosis report: what a coordinator opens in Excel, or hands to a tool."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from handlers.core.forms import Survey
from handlers.core.i18n import Translator
from handlers.surveys.exports import (
    open_answers_text,
    question_columns,
    to_csv,
    to_json,
    to_table,
)
from handlers.surveys.exports_xlsx import to_xlsx
from storage.surveys import StoredResponse
from tests.handlers.survey_fixture import sample_survey
from tests.handlers.surveys.answered_survey import FORMULA, build_survey, fill

WARSAW = ZoneInfo("Europe/Warsaw")
IDENTITY = ("Anna", "Bartek", "Celina", "555001", "555002", "555003")


@pytest.fixture
async def anonymous(sqlite_url: str) -> tuple[Survey, list[StoredResponse]]:
    survey = build_survey(anonymous=True)
    return survey, await fill(sqlite_url, survey)


def read_csv(data: bytes) -> list[dict[str, str]]:
    """Parse like Excel in Polish would: BOM, `;`; keyed by the first (id) header row."""
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    keys, _texts, *body = rows
    return [dict(zip(keys, row, strict=True)) for row in body]


async def test_csv_opens_in_polish_excel(answered: Any, translator: Translator) -> None:
    survey, responses = answered
    data = to_csv(survey, responses, language="pl", translator=translator, timezone=WARSAW)
    rows = read_csv(data)
    assert len(rows) == 4
    anna, bartek, celina, darek = rows
    assert anna["name"] == "Anna" and anna["telegram_id"] == "555001"
    assert anna["status"] == "ukończona" and celina["status"] == "nieukończona"
    assert anna["often"] == "Raz w tygodniu"
    assert bartek["often"] == "Inne" and bartek["often.other"] == "Raz w roku, na dożynkach"
    assert anna["interests"] == "Muzyka; Rękodzieło"
    assert bartek["interests"] == "Teatr; Inne" and bartek["interests.other"] == "Szachy"
    assert (anna["offer"], anna["grid.cinema"], anna["grid.dance"]) == ("4", "5", "3")
    assert celina["grid.dance"] == ""  # not answered
    assert anna["hours"] == "2,5"  # decimal comma for Polish Excel
    assert (anna["contact_ok"], bartek["contact_ok"]) == ("Tak", "Nie")
    assert anna["idea"] == "Więcej koncertów w parku,\nnajlepiej latem"
    assert anna["visit"] == "2025-03-01"
    assert bartek["idea"] == "" and bartek["email"] == ""  # skipped / never shown
    # A resident's answer must never run as a formula in Excel.
    assert darek["idea"] == "'" + FORMULA
    assert anna["phone"] == "'+48 600 100 200"
    # Darek erased his data: his answers stay, his identity does not.
    assert (darek["resident"], darek["name"], darek["telegram_id"]) == ("", "", "")
    started = datetime.strptime(anna["started_at"], "%Y-%m-%d %H:%M")
    utc = responses[0].started_at
    assert started == utc.astimezone(WARSAW).replace(tzinfo=None, second=0, microsecond=0)
    texts = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))[1]
    assert "Jak często bywasz w ośrodku? – wpisane w „Inne”" in texts
    assert "Oceń zajęcia – Kino plenerowe" in texts


async def test_csv_in_english_uses_decimal_point(answered: Any, translator: Translator) -> None:
    survey, responses = answered
    rows = read_csv(to_csv(survey, responses, language="en", translator=translator))
    assert rows[0]["hours"] == "2.5"
    assert rows[0]["often"] == "Weekly" and rows[0]["status"] == "finished"


async def test_xlsx_has_responses_questions_and_summary(
    answered: Any, translator: Translator
) -> None:
    survey, responses = answered
    data = to_xlsx(survey, responses, language="pl", translator=translator, timezone=WARSAW)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Odpowiedzi", "Pytania", "Podsumowanie"]

    sheet = book["Odpowiedzi"]
    keys = [c.value for c in sheet[1]]
    texts = [c.value for c in sheet[2]]
    assert keys[:4] == ["response", "resident", "name", "telegram_id"]
    assert texts[:3] == ["Nr odpowiedzi", "Nr mieszkańca", "Imię"]
    rows = [dict(zip(keys, [c.value for c in row], strict=True)) for row in sheet.iter_rows(3)]
    assert len(rows) == 4
    anna, bartek, _, darek = rows
    assert (anna["name"], anna["telegram_id"], anna["often"]) == ("Anna", 555001, "Raz w tygodniu")
    assert (anna["offer"], anna["grid.cinema"], anna["hours"]) == (4, 5, 2.5)
    assert anna["visit"] == datetime(2025, 3, 1)  # a real date Excel can sort
    assert isinstance(anna["started_at"], datetime)
    assert bartek["interests.other"] == "Szachy" and bartek["idea"] is None
    # Text stays text: no formula in the workbook.
    idea = next(c for c in sheet[6] if c.column == keys.index("idea") + 1)
    assert (idea.value, idea.data_type) == (FORMULA, "s")
    assert darek["name"] is None

    questions = [[c.value for c in row] for row in book["Pytania"].iter_rows()]
    assert questions[0] == [
        "Identyfikator pytania",
        "Rodzaj pytania",
        "Treść pytania",
        "Odpowiedzi do wyboru",
    ]
    assert questions[1][:3] == ["often", "jednokrotny wybór", "Jak często bywasz w ośrodku?"]
    assert "other: Inne" in questions[1][3]
    assert questions[3][3] == "1–5\n1 = Źle\n5 = Świetnie"

    summary = [[c.value for c in row] for row in book["Podsumowanie"].iter_rows()]
    assert summary[0][0] == "Diagnoza potrzeb kulturalnych"
    assert summary[1][:2] == ["Rozpoczęte ankiety", 4]
    assert summary[2][:2] == ["Ukończone", 3]
    assert summary[3][:2] == ["Nieukończone", 1]
    header = summary.index(
        [
            "Identyfikator pytania",
            "Treść pytania",
            "Odpowiedź",
            "Liczba",
            "Procent odpowiadających",
            "Średnia",
            "Mediana",
            "Najmniej",
            "Najwięcej",
        ]
    )
    per_question: dict[str, list[list[Any]]] = {}
    current = ""
    for row in summary[header + 1 :]:
        current = row[0] or current
        per_question.setdefault(current, []).append(row)
    often = per_question["often"]
    assert often[0][2:4] == ["Odpowiedzi", 4]
    assert often[1][2:4] == ["Pominięte", 0]
    assert [r[2:5] for r in often[2:]] == [
        ["Raz w tygodniu", 2, 0.5],
        ["Raz w miesiącu", 1, 0.25],
        ["Rzadziej", 0, 0],
        ["Inne", 1, 0.25],
    ]
    assert per_question["offer"][0][5:7] == [3.75, 4]
    assert per_question["hours"][0][5:9] == [5.5, 4, 2.5, 10]
    assert [r[2:6] for r in per_question["grid"][2:]] == [
        ["Kino plenerowe", 4, None, 4],
        ["Zajęcia taneczne", 3, None, 3],
    ]
    percent_cell = book["Podsumowanie"].cell(row=header + 4, column=5)  # "Raz w tygodniu"
    assert percent_cell.number_format == "0%"


async def test_xlsx_in_english(answered: Any, translator: Translator) -> None:
    survey, responses = answered
    data = to_xlsx(survey, responses, language="en", translator=translator)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Responses", "Questions", "Summary"]
    assert book["Responses"]["J3"].value == "Weekly"


async def test_json_keeps_stored_shapes_and_identity(answered: Any) -> None:
    survey, responses = answered
    data = json.loads(to_json(survey, responses))
    assert data["survey"] == "diagnoza" and data["anonymous"] is False
    anna, bartek, celina, darek = data["responses"]
    assert anna["respondent"] == {"resident_id": 1, "name": "Anna", "telegram_id": 555001}
    assert darek["respondent"] == {"resident_id": None, "name": None, "telegram_id": None}
    assert [r["status"] for r in data["responses"]] == [
        "finished",
        "finished",
        "unfinished",
        "finished",
    ]
    assert anna["answers"]["interests"] == {"choices": ["music", "crafts"]}
    assert bartek["answers"]["often"] == {"choice": "other", "other": "Raz w roku, na dożynkach"}
    assert bartek["answers"]["idea"] is None  # skipped
    assert "email" not in bartek["answers"]  # never shown
    assert anna["answers"]["contact_ok"] is True and anna["answers"]["hours"] == 2.5
    assert datetime.fromisoformat(anna["started_at"]).utcoffset() is not None
    assert celina["finished_at"] is None


async def test_anonymous_survey_exports_never_identify_anyone(
    anonymous: Any, translator: Translator
) -> None:
    survey, responses = anonymous
    data = json.loads(to_json(survey, responses))
    assert all("respondent" not in r for r in data["responses"])
    assert data["anonymous"] is True
    as_text = {
        "json": to_json(survey, responses).decode(),
        "csv": to_csv(survey, responses, language="pl", translator=translator).decode("utf-8-sig"),
        "table": to_table(survey, responses, language="pl", translator=translator),
        "open": open_answers_text(survey, responses, language="pl", translator=translator).decode(),
    }
    book = load_workbook(
        io.BytesIO(to_xlsx(survey, responses, language="pl", translator=translator))
    )
    as_text["xlsx"] = "\n".join(
        str(c.value) for sheet in book for row in sheet.iter_rows() for c in row
    )
    for kind, text in as_text.items():
        for secret in IDENTITY:
            assert secret not in text, (kind, secret)
    header = read_csv(to_csv(survey, responses, language="pl", translator=translator))[0]
    assert not {"resident", "name", "telegram_id"} & set(header)


async def test_terminal_table(answered: Any, translator: Translator) -> None:
    survey, responses = answered
    table = to_table(survey, responses, language="pl", translator=translator)
    lines = table.splitlines()
    assert lines[0].startswith("response | name ")
    assert set(lines[1]) <= {"-", "+"}
    assert lines[2].startswith("1        | Anna ")
    assert "Więcej koncertów …" in lines[2]  # long cells are cut
    assert "\n" not in lines[2]
    assert "often: Jak często bywasz w ośrodku?" in lines
    assert len({len(line) for line in lines[:6] if "|" in line}) <= 4  # aligned columns


async def test_open_answers_file(answered: Any, translator: Translator) -> None:
    survey, responses = answered
    text = open_answers_text(survey, responses, language="pl", translator=translator).decode(
        "utf-8"
    )
    assert text.startswith("Odpowiedzi otwarte – Diagnoza potrzeb kulturalnych\n")
    assert "5. Czego brakuje ci w gminie?\nLiczba odpowiedzi: 2" in text
    assert "- Więcej koncertów w parku,\n  najlepiej latem" in text
    assert "1. Jak często bywasz w ośrodku? – wpisane w „Inne”" in text
    assert "- Raz w roku, na dożynkach" in text and "- Szachy" in text
    assert FORMULA in text
    # Contact data and identities are not opinions: they are left out.
    assert "anna@example.pl" not in text and "Anna" not in text


def test_open_answers_file_when_nobody_wrote_anything(translator: Translator) -> None:
    survey = build_survey()
    text = open_answers_text(survey, [], language="en", translator=translator).decode()
    assert text.endswith("There are no open answers yet.\n")


def test_exports_of_no_responses(translator: Translator) -> None:
    survey = build_survey()
    assert read_csv(to_csv(survey, [], language="pl", translator=translator)) == []
    book = load_workbook(io.BytesIO(to_xlsx(survey, [], language="pl", translator=translator)))
    assert book["Odpowiedzi"].max_row == 2
    assert json.loads(to_json(survey, []))["responses"] == []


def test_matrix_columns_tell_hard_to_say_from_not_shown(translator: Translator) -> None:
    """A row rated "hard to say" reads so; a row never shown (not attended) stays empty."""
    question = sample_survey().question("atrakcyjnosc")
    assert question is not None
    response = StoredResponse(
        id=1,
        survey="probna",
        resident_id=None,
        resident_name=None,
        telegram_id=None,
        status="finished",
        language="pl",
        channel="telegram",
        started_at=None,
        finished_at=None,
        answers={"atrakcyjnosc": {"koncerty": None}},
    )
    concerts, workshops = question_columns(question, "pl", translator)
    assert concerts.value(response) == translator.text("pl", "export.dont_know")
    assert workshops.value(response) is None
