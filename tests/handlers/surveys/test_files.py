"""Survey files: a valid file loads, and every mistake a coordinator can make is
reported with the line to fix.

The shipped surveys are tested in test_files_shipped.py, anonymous surveys' contact
part in test_files_contact_part.py, button labels in test_files_buttons.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from handlers.core.content_files import note
from handlers.surveys.files import (
    Problem,
    SurveyFileError,
    check_survey_file,
    load_survey_file,
    load_surveys,
)
from tests.handlers.content_text import edit, line_of
from tests.handlers.surveys.survey_file import VALID, WARSAW, check, only

# --- a valid file --------------------------------------------------------------------


def test_check_survey_file_valid_file_has_no_problems(tmp_path: Path) -> None:
    assert check(tmp_path, VALID) == []


def test_load_survey_file_naive_dates_become_warsaw_time(tmp_path: Path) -> None:
    path = tmp_path / "proba.yaml"
    path.write_text(VALID, encoding="utf-8")
    survey = load_survey_file(path, WARSAW)
    assert survey.opens is not None and survey.closes is not None
    assert survey.opens.tzinfo is not None
    assert survey.opens.astimezone(UTC) == datetime(2021, 2, 28, 23, 0, tzinfo=UTC)
    assert survey.closes.astimezone(UTC) == datetime(2021, 4, 30, 21, 59, tzinfo=UTC)


def test_load_survey_file_anonymous_with_contact_questions_is_allowed(tmp_path: Path) -> None:
    text = VALID + (
        "anonymous: true\n"
        "leaders: {interest: wiek, values: [mlodszy], consent: zgoda, contact: [imie]}\n"
    )
    assert check(tmp_path, text) == []


# --- each kind of mistake, at its line -----------------------------------------------


def test_check_survey_file_missing_option_list_reported_at_the_question(tmp_path: Path) -> None:
    text = VALID.replace(
        "    options:\n"
        "      - id: mlodszy\n"
        "        text: {pl: do 30 lat, en: under 30}\n"
        "      - id: starszy\n"
        "        text: {pl: 30 lat i więcej, en: 30 or more}\n",
        "",
    )
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "- id: wiek")
    assert problem.where == 'questions[1] (id "wiek")'
    assert problem.message == note("content.error.options_min", type="single")


def test_check_survey_file_unknown_question_type_names_the_allowed_types(tmp_path: Path) -> None:
    text = edit(VALID, "type: yesno", "type: taknie")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "type: taknie")
    assert problem.where == 'questions[2] (id "zgoda").type'
    assert problem.message.key == "content.error.unknown_type"
    assert "yesno" in problem.message.value("types")


def test_check_survey_file_show_if_to_a_later_question_is_refused(tmp_path: Path) -> None:
    text = edit(
        VALID,
        "  - id: zgoda\n    type: yesno\n",
        "  - id: zgoda\n    type: yesno\n    show_if: {question: imie, answered: true}\n",
    )
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "show_if: {question: imie")
    assert problem.where == 'questions[2] (id "zgoda").show_if'
    assert problem.message == note(
        "content.error.show_if_later", question="imie", at="questions[3]", line=20
    )


def test_check_survey_file_show_if_to_an_unknown_question_is_refused(tmp_path: Path) -> None:
    text = edit(VALID, "{question: zgoda, equals: true}", "{question: zgodna, equals: true}")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "show_if:")
    assert problem.message == note("content.error.unknown_question", question="zgodna")


def test_check_survey_file_show_if_value_not_an_option_lists_the_options(tmp_path: Path) -> None:
    text = edit(
        VALID,
        "show_if: {question: zgoda, equals: true}",
        "show_if:\n      question: wiek\n      in: [mlodszy, sredni]",
    )
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "in: [mlodszy, sredni]")
    assert problem.where == 'questions[3] (id "imie").show_if'
    assert problem.message == note(
        "content.error.not_an_option", value='"sredni"', question="wiek", options="mlodszy, starszy"
    )


def test_check_survey_file_show_if_on_yesno_needs_true_or_false(tmp_path: Path) -> None:
    text = edit(VALID, "{question: zgoda, equals: true}", "{question: zgoda, equals: tak}")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "equals: tak")
    assert problem.message == note("content.error.compare_yesno", question="zgoda", value='"tak"')


def test_check_survey_file_missing_english_text_reported_at_the_text(tmp_path: Path) -> None:
    text = edit(VALID, "text: {pl: Imię, en: First name}", "text: {pl: Imię}")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "text: {pl: Imię}")
    assert problem.where == 'questions[3] (id "imie").text'
    assert problem.message == note(
        "content.error.no_text_survey", language="en", languages="pl, en"
    )


def test_check_survey_file_polish_only_survey_needs_no_english(tmp_path: Path) -> None:
    text = edit(VALID, "text: {pl: Imię, en: First name}", "text: {pl: Imię}")
    assert check(tmp_path, text + "languages: [pl]\n") == []


def test_check_survey_file_duplicate_question_id_reported_at_the_second(tmp_path: Path) -> None:
    text = edit(VALID, "  - id: imie\n", "  - id: wiek\n")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "- id: wiek", nth=2)
    assert problem.message == note(
        "content.error.duplicate_question_id", id="wiek", first="questions[1]", line=8
    )


def test_check_survey_file_closes_before_opens_reported_at_closes(tmp_path: Path) -> None:
    text = edit(VALID, "closes: 2021-04-30 23:59", "closes: 2021-02-01 12:00")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "closes:")
    assert problem.where == "closes"
    assert problem.message == note(
        "content.error.closes_before_opens", closes="2021-02-01 12:00", opens="2021-03-01 00:00"
    )


def test_check_survey_file_bare_closing_date_asks_for_a_time(tmp_path: Path) -> None:
    text = edit(VALID, "closes: 2021-04-30 23:59", "closes: 2021-04-30")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "closes:")
    assert problem.message == note("content.error.date_only", example="2021-04-30 23:59")


def test_check_survey_file_invalid_yaml_reports_the_yaml_line(tmp_path: Path) -> None:
    text = edit(VALID, "text: {pl: Imię, en: First name}", "text: Imię: wpisz je tutaj")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "Imię: wpisz")
    assert problem.message.key == "content.error.yaml_quotes"
    assert problem.message.value("problem").startswith("mapping values are not allowed here")


def test_check_survey_file_name_different_from_slug_is_reported(tmp_path: Path) -> None:
    problem = only(check(tmp_path, VALID, name="ankieta"))
    assert problem.line == 1
    assert problem.where == "slug"
    assert problem.message == note(
        "content.error.slug_file_name", slug="proba", file="proba.yaml", stem="ankieta"
    )


def test_check_survey_file_unknown_field_suggests_the_right_one(tmp_path: Path) -> None:
    text = edit(VALID, "    show_if: {question", "    show_fi: {question")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "show_fi:")
    assert problem.where == 'questions[3] (id "imie")'
    assert problem.message == note(
        "content.error.unknown_field_like", field="show_fi", like="show_if"
    )


def test_check_survey_file_leaders_must_point_at_fitting_questions(tmp_path: Path) -> None:
    text = VALID + "leaders:\n  interest: wiek\n  values: [sredni]\n  consent: imie\n"
    problems = check(tmp_path, text)
    assert [p.line for p in problems] == [line_of(text, "[sredni]"), line_of(text, "consent:")]
    assert problems[0].message.key == "content.error.not_an_option"
    assert problems[0].message.value("value") == '"sredni"'
    assert problems[1].message == note("content.error.consent_type", question="imie", type="text")


def test_check_survey_file_top_level_list_is_reported(tmp_path: Path) -> None:
    problem = only(check(tmp_path, "- slug: proba\n"))
    assert problem.line == 1
    assert problem.message.key == "content.error.top_level"
    assert problem.message.value("got") == note("content.error.kind_list")


def test_check_survey_file_unreadable_file_is_a_problem(tmp_path: Path) -> None:
    problem = only(check_survey_file(tmp_path / "brak.yaml", WARSAW))
    assert problem.line is None
    assert problem.message.key == "content.error.unreadable"


def test_check_survey_file_duplicate_yaml_key_is_reported(tmp_path: Path) -> None:
    text = edit(VALID, "    type: yesno\n", "    type: yesno\n    type: text\n")
    first = line_of(text, "type: yesno")
    problem = Problem(
        line_of(text, "type: text"), note("content.error.duplicate_key", key="type", first=first)
    )
    assert problem in check(tmp_path, text)


# --- many problems at once -----------------------------------------------------------


def test_check_survey_file_several_problems_all_reported_in_line_order(tmp_path: Path) -> None:
    text = VALID
    text = edit(text, "slug: proba", "slug: inna")
    text = edit(text, "closes: 2021-04-30 23:59", "closes: 2021-01-01 00:00")
    text = edit(text, "type: single", "type: jeden")
    text = edit(text, "text: {pl: Imię, en: First name}", "text: {pl: Imię}")
    text = edit(text, "{question: zgoda, equals: true}", "{question: zgoda, equals: 3}")
    problems = check(tmp_path, text)
    assert [p.line for p in problems] == [
        line_of(text, "slug:"),
        line_of(text, "closes:"),
        line_of(text, "type: jeden"),
        line_of(text, "show_if:"),
        line_of(text, "text: {pl: Imię}"),
    ]


def test_load_survey_file_problems_raise_with_path_and_line(tmp_path: Path) -> None:
    path = tmp_path / "proba.yaml"
    path.write_text(edit(VALID, "type: yesno", "type: taknie"), encoding="utf-8")
    with pytest.raises(SurveyFileError) as caught:
        load_survey_file(path, WARSAW)
    assert caught.value.path == path
    assert len(caught.value.problems) == 1
    assert str(caught.value).startswith(f"{path}:{line_of(VALID, 'type: yesno')}: questions[2]")


# --- a directory of surveys ----------------------------------------------------------


def test_load_surveys_keeps_valid_files_and_reports_the_broken_one(tmp_path: Path) -> None:
    (tmp_path / "proba.yaml").write_text(VALID, encoding="utf-8")
    broken = tmp_path / "zepsuta.yaml"
    broken.write_text(edit(VALID, "slug: proba", "slug: zepsuta").replace("yesno", "tak"))
    catalogue = load_surveys(tmp_path, WARSAW)
    assert list(catalogue.surveys) == ["proba"]
    assert list(catalogue.problems) == [broken]
    assert catalogue.problems[broken][0].message.key == "content.error.unknown_type"


def test_load_surveys_missing_directory_is_an_empty_catalogue(tmp_path: Path) -> None:
    catalogue = load_surveys(tmp_path / "brak", WARSAW)
    assert catalogue.surveys == {} and catalogue.problems == {}


def test_load_surveys_yml_extension_is_reported_not_ignored(tmp_path: Path) -> None:
    (tmp_path / "proba.yml").write_text(VALID, encoding="utf-8")
    catalogue = load_surveys(tmp_path, WARSAW)
    assert catalogue.surveys == {}
    assert catalogue.problems[tmp_path / "proba.yml"][0].message == note(
        "content.error.yml_extension", name="proba.yaml"
    )
