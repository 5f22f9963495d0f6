"""A small valid survey file, and helpers to check it (editing it: `tests.handlers.content_text`).

Shared by the survey file tests (test_files*.py).
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from handlers.surveys.files import Problem, check_survey_file

WARSAW = ZoneInfo("Europe/Warsaw")
SURVEYS = Path(__file__).resolve().parents[3] / "content" / "surveys"

VALID = """\
slug: proba
title: {pl: Próba, en: Trial}
intro: {pl: Wstęp, en: Introduction}
outro: {pl: Dziękujemy, en: Thank you}
opens: 2021-03-01 00:00
closes: 2021-04-30 23:59
questions:
  - id: wiek
    type: single
    text: {pl: Wiek, en: Age}
    options:
      - id: mlodszy
        text: {pl: do 30 lat, en: under 30}
      - id: starszy
        text: {pl: 30 lat i więcej, en: 30 or more}
  - id: zgoda
    type: yesno
    text: {pl: Zgoda na kontakt, en: Consent to contact}
  - id: imie
    type: text
    show_if: {question: zgoda, equals: true}
    text: {pl: Imię, en: First name}
"""


def check(tmp_path: Path, text: str, name: str = "proba") -> list[Problem]:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return check_survey_file(path, WARSAW)


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]
