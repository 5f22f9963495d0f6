"""Survey files: short labels, exclusive options, "hard to say" and matrices rated after
attendance, as a coordinator writes them and `lokalnie survey check` reports them."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from handlers.core.content_files import note
from handlers.core.form_checks import BUTTON_WIDTH
from handlers.core.i18n import Translator
from handlers.surveys.files import label_warnings, load_survey_file
from tests.bot.test_config import run_cli
from tests.conftest import CONTENT
from tests.handlers.content_text import edit, line_of
from tests.handlers.surveys.survey_file import SURVEYS, VALID, WARSAW, check, only

ATTENDANCE = """\
  - id: byl
    type: multiple
    text: {pl: "Z czego korzystasz?", en: "What do you attend?"}
    options:
      - id: kino
        text: {pl: Kino, en: Cinema}
      - id: teatr
        text: {pl: Teatr, en: Theatre}
      - id: nigdzie
        text: {pl: Nigdzie, en: Nowhere}
        exclusive: true
  - id: ocena
    type: matrix
    items_from: byl
    dont_know: true
    text: {pl: Oceń, en: Rate}
    scale: {min: 1, max: 5}
    items:
      - id: kino
        text: {pl: Kino, en: Cinema}
      - id: teatr
        text: {pl: Teatr, en: Theatre}
"""
LONG = "Bardzo długa odpowiedź ledwo mieszcząca się na przycisku"


def with_attendance(text: str = ATTENDANCE) -> str:
    return VALID + text


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "proba.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_attendance_then_matrix_of_what_was_attended_is_valid(tmp_path: Path) -> None:
    assert check(tmp_path, with_attendance()) == []
    survey = load_survey_file(write(tmp_path, with_attendance()), WARSAW)
    matrix = survey.question("ocena")
    assert matrix is not None and matrix.items_from == "byl" and matrix.dont_know
    byl = survey.question("byl")
    assert byl is not None and [o.exclusive for o in byl.options] == [False, False, True]


def test_items_from_a_later_or_unknown_question_is_refused(tmp_path: Path) -> None:
    text = with_attendance(edit(ATTENDANCE, "items_from: byl", "items_from: gdzies"))
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "items_from:")
    assert problem.message == note("content.error.items_from_later", question="gdzies")


def test_items_from_needs_a_multiple_choice_with_the_items_ids(tmp_path: Path) -> None:
    single = with_attendance(edit(ATTENDANCE, "items_from: byl", "items_from: wiek"))
    assert only(check(tmp_path, single)).message == note(
        "content.error.items_from_type", question="wiek", type="single"
    )
    renamed = with_attendance(
        edit(ATTENDANCE, "items:\n      - id: kino", "items:\n      - id: film")
    )
    problem = only(check(tmp_path, renamed))
    assert problem.message.key == "content.error.items_not_options"
    assert problem.message.value("items") == "film"


def test_exclusive_outside_multiple_choice_and_dont_know_outside_ratings_are_refused(
    tmp_path: Path,
) -> None:
    single = edit(
        VALID,
        "        text: {pl: do 30 lat, en: under 30}",
        "        text: {pl: do 30 lat, en: under 30}\n        exclusive: true",
    )
    assert only(check(tmp_path, single)).message == note("content.error.exclusive_only_multiple")
    text = edit(VALID, "    type: yesno", "    type: yesno\n    dont_know: true")
    assert only(check(tmp_path, text)).message == note("content.error.scale_only")


def test_label_wider_than_a_phone_warns_at_its_line_and_short_label_fixes_it(
    tmp_path: Path,
) -> None:
    long = edit(VALID, "text: {pl: do 30 lat, en: under 30}", f"text: {{pl: {LONG}, en: under 30}}")
    assert check(tmp_path, long) == []  # a warning, not an error: the survey still loads
    [warning] = label_warnings(write(tmp_path, long))
    assert warning.line == line_of(long, LONG)
    assert warning.message == note(
        "content.warning.button_width", language="pl", length=len(LONG), width=BUTTON_WIDTH
    )
    fixed = edit(
        long, "en: under 30}", "en: under 30}\n        short: {pl: do 30 lat, en: under 30}"
    )
    assert check(tmp_path, fixed) == []
    assert label_warnings(write(tmp_path, fixed)) == []
    survey = load_survey_file(write(tmp_path, fixed), WARSAW)
    question = survey.question("wiek")
    assert question is not None and question.options[0].label("pl") == "do 30 lat"
    assert question.options[0].text.get("pl") == LONG


def test_survey_check_prints_the_warning_and_still_says_ok(tmp_path: Path) -> None:
    long = edit(VALID, "text: {pl: do 30 lat, en: under 30}", f"text: {{pl: {LONG}, en: under 30}}")
    path = write(tmp_path, long)
    result = run_cli(tmp_path, "survey", "check", str(path))
    assert result.returncode == 0, result.stderr
    [warning] = label_warnings(path)
    polish = partial(Translator(CONTENT / "locales").text, "pl")
    shown = polish("cli.survey_warning", problem=warning.format(str(path), polish))
    assert shown in result.stdout
    assert f"{path}: OK" in result.stdout


def test_shipped_surveys_have_labels_a_phone_shows_whole() -> None:
    for path in sorted(SURVEYS.glob("*.yaml")):
        assert label_warnings(path) == [], path


def test_shipped_diagnosis_asks_attendance_before_rating_and_offers_hard_to_say() -> None:
    survey = load_survey_file(SURVEYS / "diagnoza-2021.yaml", WARSAW)
    ids = [q.id for q in survey.questions]
    current = survey.question("formy-obecne")
    assert current is not None and current.items_from == "udzial"
    assert ids.index("udzial") < ids.index("formy-obecne")
    for question in survey.questions:
        if question.scale is not None:
            assert question.dont_know, question.id
    exclusive = {(q.id, o.id) for q in survey.questions for o in q.options if o.exclusive}
    assert exclusive == {("udzial", "zadne"), ("bariery", "nic")}
    assert survey.intro.get("pl").startswith("Dzień dobry!")
